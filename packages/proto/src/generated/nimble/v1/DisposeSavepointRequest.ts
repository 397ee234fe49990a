// Original file: proto/nimble/v1/jobmanager.proto


export interface DisposeSavepointRequest {
  'path'?: (string);
}

export interface DisposeSavepointRequest__Output {
  'path': (string);
}

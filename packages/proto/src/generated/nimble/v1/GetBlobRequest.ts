// Original file: proto/nimble/v1/jobmanager.proto


export interface GetBlobRequest {
  'hash'?: (string);
}

export interface GetBlobRequest__Output {
  'hash': (string);
}

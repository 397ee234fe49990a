// Original file: proto/nimble/v1/jobmanager.proto


export interface SavepointResponse {
  'path'?: (string);
}

export interface SavepointResponse__Output {
  'path': (string);
}

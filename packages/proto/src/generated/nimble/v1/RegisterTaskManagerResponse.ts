// Original file: proto/nimble/v1/jobmanager.proto


export interface RegisterTaskManagerResponse {
  'jobManagerId'?: (string);
}

export interface RegisterTaskManagerResponse__Output {
  'jobManagerId': (string);
}

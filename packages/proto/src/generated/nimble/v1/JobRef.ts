// Original file: proto/nimble/v1/jobmanager.proto


export interface JobRef {
  'jobId'?: (string);
}

export interface JobRef__Output {
  'jobId': (string);
}

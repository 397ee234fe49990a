// Original file: proto/nimble/v1/jobmanager.proto


export interface SubmitJobResponse {
  'jobId'?: (string);
}

export interface SubmitJobResponse__Output {
  'jobId': (string);
}

// Original file: proto/nimble/v1/jobmanager.proto


export interface RescaleJobRequest {
  'jobId'?: (string);
  'parallelism'?: (number);
}

export interface RescaleJobRequest__Output {
  'jobId': (string);
  'parallelism': (number);
}

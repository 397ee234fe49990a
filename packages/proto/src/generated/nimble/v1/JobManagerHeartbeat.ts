// Original file: proto/nimble/v1/jobmanager.proto


export interface JobManagerHeartbeat {
  'jobManagerId'?: (string);
}

export interface JobManagerHeartbeat__Output {
  'jobManagerId': (string);
}

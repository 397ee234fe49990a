// Original file: proto/nimble/v1/jobmanager.proto


export interface ListJobsRequest {
  /**
   * Only jobs that have not ended.
   */
  'runningOnly'?: (boolean);
}

export interface ListJobsRequest__Output {
  /**
   * Only jobs that have not ended.
   */
  'runningOnly': (boolean);
}

// Original file: proto/nimble/v1/jobmanager.proto


export interface CheckpointRequest {
  'jobId'?: (string);
  /**
   * Flink's --full: a full checkpoint even where checkpoints are incremental.
   */
  'full'?: (boolean);
}

export interface CheckpointRequest__Output {
  'jobId': (string);
  /**
   * Flink's --full: a full checkpoint even where checkpoints are incremental.
   */
  'full': (boolean);
}

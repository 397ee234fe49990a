// Original file: proto/nimble/v1/jobmanager.proto


export interface CheckpointResponse {
  'checkpointId'?: (number | string);
  /**
   * The completed checkpoint's directory (it holds _metadata).
   */
  'path'?: (string);
}

export interface CheckpointResponse__Output {
  'checkpointId': (number);
  /**
   * The completed checkpoint's directory (it holds _metadata).
   */
  'path': (string);
}

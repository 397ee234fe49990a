// Original file: proto/nimble/v1/jobmanager.proto


export interface SavepointRequest {
  'jobId'?: (string);
  /**
   * Where to write; state.savepoints.dir when empty.
   */
  'targetDirectory'?: (string);
  'stop'?: (boolean);
  /**
   * With stop: emit MAX_WATERMARK first, firing all event-time timers (Flink's --drain).
   */
  'drain'?: (boolean);
}

export interface SavepointRequest__Output {
  'jobId': (string);
  /**
   * Where to write; state.savepoints.dir when empty.
   */
  'targetDirectory': (string);
  'stop': (boolean);
  /**
   * With stop: emit MAX_WATERMARK first, firing all event-time timers (Flink's --drain).
   */
  'drain': (boolean);
}

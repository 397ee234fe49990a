// Original file: proto/nimble/v1/jobmanager.proto


export interface CollectedValues {
  'jobId'?: (string);
  'attempt'?: (number);
  'collectId'?: (string);
  'subtask'?: (number);
  /**
   * V8-serialized array of values.
   */
  'values'?: (Buffer | Uint8Array | string);
  'registrationId'?: (string);
  'executionId'?: (string);
}

export interface CollectedValues__Output {
  'jobId': (string);
  'attempt': (number);
  'collectId': (string);
  'subtask': (number);
  /**
   * V8-serialized array of values.
   */
  'values': (Buffer);
  'registrationId': (string);
  'executionId': (string);
}

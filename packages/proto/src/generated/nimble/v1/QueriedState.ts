// Original file: proto/nimble/v1/jobmanager.proto


/**
 * One key's answer, in the order of the request's keys.
 */
export interface QueriedState {
  'found'?: (boolean);
  /**
   * V8-serialized value (empty when not found).
   */
  'value'?: (Buffer | Uint8Array | string);
  'keyGroup'?: (number);
  'subtask'?: (number);
}

/**
 * One key's answer, in the order of the request's keys.
 */
export interface QueriedState__Output {
  'found': (boolean);
  /**
   * V8-serialized value (empty when not found).
   */
  'value': (Buffer);
  'keyGroup': (number);
  'subtask': (number);
}

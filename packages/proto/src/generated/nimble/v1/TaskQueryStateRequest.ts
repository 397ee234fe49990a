// Original file: proto/nimble/v1/taskmanager.proto

import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from '../../nimble/v1/AttemptRef.js';

export interface TaskQueryStateRequest {
  'attempt'?: (_nimble_v1_AttemptRef | null);
  'vertexId'?: (number);
  'subtask'?: (number);
  /**
   * The queryable state name.
   */
  'name'?: (string);
  /**
   * V8-serialized array of keys (checked keys: strings, numbers, bigints, booleans, arrays).
   */
  'keys'?: (Buffer | Uint8Array | string);
}

export interface TaskQueryStateRequest__Output {
  'attempt': (_nimble_v1_AttemptRef__Output | null);
  'vertexId': (number);
  'subtask': (number);
  /**
   * The queryable state name.
   */
  'name': (string);
  /**
   * V8-serialized array of keys (checked keys: strings, numbers, bigints, booleans, arrays).
   */
  'keys': (Buffer);
}

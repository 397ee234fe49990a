// Original file: proto/nimble/v1/taskmanager.proto

import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from '../../nimble/v1/AttemptRef.js';
import type { Long } from '@grpc/proto-loader';

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
  /**
   * Chosen by the JobManager, unique on its stream; the response carries it back.
   */
  'requestId'?: (number | string | Long);
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
  /**
   * Chosen by the JobManager, unique on its stream; the response carries it back.
   */
  'requestId': (number);
}

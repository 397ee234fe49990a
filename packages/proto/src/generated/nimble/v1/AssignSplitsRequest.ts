// Original file: proto/nimble/v1/taskmanager.proto

import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from '../../nimble/v1/AttemptRef.js';

export interface AssignSplitsRequest {
  'attempt'?: (_nimble_v1_AttemptRef | null);
  'vertexId'?: (number);
  'subtask'?: (number);
  /**
   * V8-serialized array of splits.
   */
  'splits'?: (Buffer | Uint8Array | string);
  'noMoreSplits'?: (boolean);
}

export interface AssignSplitsRequest__Output {
  'attempt': (_nimble_v1_AttemptRef__Output | null);
  'vertexId': (number);
  'subtask': (number);
  /**
   * V8-serialized array of splits.
   */
  'splits': (Buffer);
  'noMoreSplits': (boolean);
}

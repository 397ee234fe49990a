// Original file: proto/nimble/v1/taskmanager.proto

import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from '../../nimble/v1/AttemptRef.js';
import type { Long } from '@grpc/proto-loader';

export interface TriggerCheckpointRequest {
  'attempt'?: (_nimble_v1_AttemptRef | null);
  'vertexId'?: (number);
  'subtasks'?: (number)[];
  'checkpointId'?: (number | string | Long);
  'timestamp'?: (number | string);
  'savepoint'?: (boolean);
  'targetDir'?: (string);
  'sharedDir'?: (string);
  /**
   * Stop with savepoint and drain: the sources emit the final watermark before the barrier.
   */
  'drain'?: (boolean);
}

export interface TriggerCheckpointRequest__Output {
  'attempt': (_nimble_v1_AttemptRef__Output | null);
  'vertexId': (number);
  'subtasks': (number)[];
  'checkpointId': (number);
  'timestamp': (number);
  'savepoint': (boolean);
  'targetDir': (string);
  'sharedDir': (string);
  /**
   * Stop with savepoint and drain: the sources emit the final watermark before the barrier.
   */
  'drain': (boolean);
}

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
  /**
   * Aligned even when the job's checkpoints are unaligned: the checkpoint a rescale restores
   * from, which must hold no in-flight data.
   */
  'aligned'?: (boolean);
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
  /**
   * Aligned even when the job's checkpoints are unaligned: the checkpoint a rescale restores
   * from, which must hold no in-flight data.
   */
  'aligned': (boolean);
}

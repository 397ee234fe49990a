// Original file: proto/nimble/v1/jobmanager.proto

import type { OperatorSubtaskSnapshot as _nimble_v1_OperatorSubtaskSnapshot, OperatorSubtaskSnapshot__Output as _nimble_v1_OperatorSubtaskSnapshot__Output } from '../../nimble/v1/OperatorSubtaskSnapshot.js';

/**
 * What one subtask wrote for a checkpoint: its state handles by operator uid, size and durations.
 */
export interface SubtaskCheckpointState {
  'operators'?: ({[key: string]: _nimble_v1_OperatorSubtaskSnapshot});
  /**
   * Bytes written by the subtask for the checkpoint (incremental: only the new files).
   */
  'stateSize'?: (number | string);
  'syncDurationMs'?: (number | string);
  'asyncDurationMs'?: (number | string);
  'alignmentDurationMs'?: (number | string);
  /**
   * The checkpoint was unaligned at this subtask (also after switching at the aligned timeout).
   */
  'unaligned'?: (boolean);
  /**
   * Bytes of in-flight buffers the subtask persisted (its channel state file).
   */
  'persistedBytes'?: (number | string);
}

/**
 * What one subtask wrote for a checkpoint: its state handles by operator uid, size and durations.
 */
export interface SubtaskCheckpointState__Output {
  'operators': ({[key: string]: _nimble_v1_OperatorSubtaskSnapshot__Output});
  /**
   * Bytes written by the subtask for the checkpoint (incremental: only the new files).
   */
  'stateSize': (number);
  'syncDurationMs': (number);
  'asyncDurationMs': (number);
  'alignmentDurationMs': (number);
  /**
   * The checkpoint was unaligned at this subtask (also after switching at the aligned timeout).
   */
  'unaligned': (boolean);
  /**
   * Bytes of in-flight buffers the subtask persisted (its channel state file).
   */
  'persistedBytes': (number);
}

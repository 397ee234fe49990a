// Original file: proto/nimble/v1/jobmanager.proto

import type { SubtaskCheckpointState as _nimble_v1_SubtaskCheckpointState, SubtaskCheckpointState__Output as _nimble_v1_SubtaskCheckpointState__Output } from '../../nimble/v1/SubtaskCheckpointState.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Every report of a subtask names the TaskManager's registration and the subtask's execution
 * attempt id (Flink's ExecutionAttemptID, issued in DeployTasks): the JobManager accepts it only
 * when that execution runs on that TaskManager (docs/security.md, "Fencing").
 */
export interface CheckpointAcknowledgement {
  'jobId'?: (string);
  'attempt'?: (number);
  'vertexId'?: (number);
  'subtask'?: (number);
  'checkpointId'?: (number | string | Long);
  'registrationId'?: (string);
  'executionId'?: (string);
  'state'?: (_nimble_v1_SubtaskCheckpointState | null);
}

/**
 * Every report of a subtask names the TaskManager's registration and the subtask's execution
 * attempt id (Flink's ExecutionAttemptID, issued in DeployTasks): the JobManager accepts it only
 * when that execution runs on that TaskManager (docs/security.md, "Fencing").
 */
export interface CheckpointAcknowledgement__Output {
  'jobId': (string);
  'attempt': (number);
  'vertexId': (number);
  'subtask': (number);
  'checkpointId': (number);
  'registrationId': (string);
  'executionId': (string);
  'state': (_nimble_v1_SubtaskCheckpointState__Output | null);
}

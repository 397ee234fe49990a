// Original file: proto/nimble/v1/jobmanager.proto

import type { ExecutionState as _nimble_v1_ExecutionState, ExecutionState__Output as _nimble_v1_ExecutionState__Output } from '../../nimble/v1/ExecutionState.js';
import type { SerializedError as _nimble_v1_SerializedError, SerializedError__Output as _nimble_v1_SerializedError__Output } from '../../nimble/v1/SerializedError.js';
import type { TaskMetrics as _nimble_v1_TaskMetrics, TaskMetrics__Output as _nimble_v1_TaskMetrics__Output } from '../../nimble/v1/TaskMetrics.js';

export interface TaskExecutionState {
  'jobId'?: (string);
  'attempt'?: (number);
  /**
   * -1 reports a failure of a whole slot worker, not of one subtask (`subtask` is then the job
   * slot, and `execution_id` the id of any subtask in that slot).
   */
  'vertexId'?: (number);
  'subtask'?: (number);
  'state'?: (_nimble_v1_ExecutionState);
  'error'?: (_nimble_v1_SerializedError | null);
  /**
   * The subtask's final counters when it finished.
   */
  'metrics'?: (_nimble_v1_TaskMetrics | null);
  'resourceId'?: (string);
  'registrationId'?: (string);
  'executionId'?: (string);
}

export interface TaskExecutionState__Output {
  'jobId': (string);
  'attempt': (number);
  /**
   * -1 reports a failure of a whole slot worker, not of one subtask (`subtask` is then the job
   * slot, and `execution_id` the id of any subtask in that slot).
   */
  'vertexId': (number);
  'subtask': (number);
  'state': (_nimble_v1_ExecutionState__Output);
  'error': (_nimble_v1_SerializedError__Output | null);
  /**
   * The subtask's final counters when it finished.
   */
  'metrics': (_nimble_v1_TaskMetrics__Output | null);
  'resourceId': (string);
  'registrationId': (string);
  'executionId': (string);
}

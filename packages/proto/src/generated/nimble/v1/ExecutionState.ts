// Original file: proto/nimble/v1/common.proto

/**
 * Execution states of a subtask (Flink's ExecutionState, as far as Nimble reports them).
 */
export const ExecutionState = {
  EXECUTION_STATE_UNSPECIFIED: 'EXECUTION_STATE_UNSPECIFIED',
  DEPLOYING: 'DEPLOYING',
  RUNNING: 'RUNNING',
  FINISHED: 'FINISHED',
  CANCELED: 'CANCELED',
  FAILED: 'FAILED',
} as const;

/**
 * Execution states of a subtask (Flink's ExecutionState, as far as Nimble reports them).
 */
export type ExecutionState =
  | 'EXECUTION_STATE_UNSPECIFIED'
  | 0
  | 'DEPLOYING'
  | 1
  | 'RUNNING'
  | 2
  | 'FINISHED'
  | 3
  | 'CANCELED'
  | 4
  | 'FAILED'
  | 5

/**
 * Execution states of a subtask (Flink's ExecutionState, as far as Nimble reports them).
 */
export type ExecutionState__Output = typeof ExecutionState[keyof typeof ExecutionState]

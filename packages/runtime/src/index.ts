// The public surface of @nimble/runtime: every export is named here.
export { LocalExecutor } from './executor/local-executor.js';
export type { LocalExecutorOptions } from './executor/local-executor.js';
export { JobExecutionError } from './executor/job-coordinator.js';
export {
  NimbleError,
  UserCodeError,
  IllegalStateError,
  JobDefinitionError,
  ensureError,
} from './errors.js';
export type { FailureDomain } from './errors.js';
export {
  ExecutionOptions,
  parseExecutionConfiguration,
  registerForeignConfigKeys,
} from './config.js';
export type { ConfigOption, ExecutionConfiguration } from './config.js';
export { buildJobGraph, describeJobGraph } from './graph/job-graph.js';
export type { JobGraph, JobVertex, StreamNode, StreamEdge } from './graph/job-graph.js';
export {
  DEFAULT_MAX_PARALLELISM,
  KeyGroupRange,
  assignToKeyGroup,
  encodeKey,
  keyHash,
  murmur3_32,
  operatorIndexForKeyGroup,
  InvalidKeyError,
} from './keys/index.js';
export { createKeyedStateBackend } from './state/index.js';
export type {
  KeyedStateBackend,
  KeyedStateBackendOptions,
  NamespacedState,
  StateBackendKind,
} from './state/index.js';
export {
  ManualProcessingTimeService,
  SystemProcessingTimeService,
} from './timers/processing-time-service.js';
export type { ProcessingTimeService, ScheduledTimer } from './timers/processing-time-service.js';
export { InternalTimerService } from './timers/internal-timer-service.js';
export type { InternalTimer, Triggerable, KeyContext } from './timers/internal-timer-service.js';
export { StreamOperator, newOperatorMetrics } from './operators/operator.js';
export type { Output, OperatorContext, OperatorMetrics } from './operators/operator.js';
export { encodeElements, decodeElements, ElementKind } from './exchange/buffer-codec.js';
export type { ElementHandler } from './exchange/buffer-codec.js';
export { StreamTask } from './task/stream-task.js';
export type { TaskState, TaskMetrics, TaskServices, TaskDeployment } from './task/stream-task.js';
export { TaskHost } from './task/task-host.js';
export type { TaskEvents, TaskHostOptions } from './task/task-host.js';

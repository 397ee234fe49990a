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
export { AsyncCallError } from './errors.js';
export { failureRecordOf, parseFailureRecord, RemoteFailure } from './errors.js';
export type { FailureDomain, FailureRecord } from './errors.js';
export {
  ExecutionOptions,
  parseExecutionConfiguration,
  registerForeignConfigKeys,
} from './config.js';
export type { ExecutionConfiguration } from './config.js';
// --- Configuration: option builders, the cluster catalog, the loader (docs/configuration.md) ---
export {
  boolOption,
  durationOption,
  enumOption,
  intOption,
  numberOption,
  portOption,
  sizeOption,
  stringOption,
} from './config-option.js';
export type { ConfigOption, NumberRange } from './config-option.js';
export { ClusterOptions, s3OptionsOf } from './cluster-options.js';
export {
  CheckpointMetadataError,
  decodeMetadata,
  decodeOpaque,
  encodeMetadata,
  encodeOpaque,
  METADATA_FILE,
  METADATA_VERSION,
} from './checkpoint/metadata.js';
export type {
  CheckpointMetadata,
  KeyedStateFileHandle,
  KeyedStateHandle,
  OperatorStateMetadata,
  OperatorSubtaskState,
} from './checkpoint/metadata.js';
export {
  checkpointDirectories,
  resolveInside,
  resolveRelative,
  savepointDirectory,
} from './checkpoint/paths.js';
export type { SubtaskCheckpointAck, TaskRestore } from './checkpoint/task-state.js';
// Reading savepoints and checkpoints (nimble savepoint inspect, the State Processor API).
export { entryBytes, openSavepoint, SavepointReadError } from './checkpoint/savepoint-reader.js';
export type {
  KeyGroupContent,
  KeyGroupInfo,
  OpenSavepointOptions,
  OperatorStateValue,
  OperatorView,
  SavepointView,
  StateEntry,
  StateSummary,
  TimerEntry,
} from './checkpoint/savepoint-reader.js';
export { SOURCE_SPLITS_STATE } from './task/subtask-checkpointer.js';
export { COMMITTABLES_STATE } from './operators/sink-operators.js';
export { StateFileCorruptedError } from './checkpoint/keyed-state-file.js';
export {
  ChannelStateCorruptedError,
  ChannelStateRescaleError,
  checkChannelStateParallelism,
  hasChannelState,
} from './checkpoint/channel-state.js';
export type { ChannelStateEntry, ChannelStateHandle } from './checkpoint/channel-state.js';
export type { DecodedCanonicalState } from './state/canonical-snapshot.js';
export type { StoredKind } from './state/state-table.js';
export { stateValueToJson } from './state/state-json.js';
export type { JsonValue } from './state/state-json.js';
export { TASK_NOT_RUNNING } from './task/subtask-checkpointer.js';
export type { CheckpointOptions } from './exchange/buffer-codec.js';
export * from './checkpoint/storage/index.js';
export type { ClusterConfiguration, RestartStrategyType } from './cluster-options.js';
export { loadConfiguration, parseClusterConfiguration } from './config-loader.js';
export type { LoadConfigurationOptions, LoadedConfiguration } from './config-loader.js';
export { ConfigurationError } from './errors.js';
export {
  checkBindSecurity,
  isLoopbackHost,
  loadSecurityMaterial,
  SecurityOptions,
} from './security.js';
export type { BindCheck, SecurityMaterial, TlsMaterial } from './security.js';
export {
  decodeLeaderRecord,
  encodeLeaderRecord,
  haFileSystemOf,
  haRootOf,
  leaderEpochs,
  LeaderRecordError,
  leaderRecordUri,
  readLeader,
} from './high-availability.js';
export type { LeaderRecord } from './high-availability.js';
// --- end of configuration ---
export { buildJobGraph, describeJobGraph } from './graph/job-graph.js';
export { JobPlanError, jsonPlanOf, parseJobPlan, slotsRequired } from './graph/job-plan.js';
export {
  applyParallelismOverrides,
  checkVertexParallelism,
  fitParallelism,
  formatParallelismOverrides,
  PARALLELISM_OVERRIDES_KEY,
  ParallelismOverrideError,
  parseParallelismOverrides,
  sameParallelism,
} from './graph/parallelism-overrides.js';
export type { ParallelismOverrides } from './graph/parallelism-overrides.js';
export type {
  JobPlan,
  JsonPlan,
  JsonPlanInput,
  JsonPlanNode,
  PlanInput,
  PlanOperator,
  PlanVertex,
} from './graph/job-plan.js';
export type { JobGraph, JobVertex, StreamNode, StreamEdge } from './graph/job-graph.js';
export {
  DEFAULT_MAX_PARALLELISM,
  KeyGroupRange,
  assignToKeyGroup,
  decodeKey,
  encodeKey,
  keyHash,
  murmur3_32,
  operatorIndexForKeyGroup,
  InvalidKeyError,
  checkKey,
  keyProblem,
} from './keys/index.js';
export { copyUserObject } from './util/copy-user-object.js';
export { assembleKeyedStateFile, readKeyGroupBlocks } from './checkpoint/keyed-state-file.js';
export {
  createKeyedStateBackend,
  QueryableStateUnavailableError,
  UnknownQueryableStateError,
} from './state/index.js';
export type {
  KeyedStateBackend,
  KeyedStateBackendOptions,
  NamespacedState,
  QueriedValue,
  QueryableStateRegistration,
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
// Operators of user functions, for the operator test harnesses of @nimble/test-utils.
export { AbstractStreamOperator } from './operators/operator.js';
export {
  FilterOperator,
  FlatMapOperator,
  MapOperator,
  ProcessOperator,
} from './operators/basic-operators.js';
export type { KeyedSnapshotKind } from './state/index.js';
export type { RestoredOperatorStates } from './state/operator-state-store.js';
export type { Output, OperatorContext, OperatorMetrics } from './operators/operator.js';
export { encodeElements, decodeElements, ElementKind } from './exchange/buffer-codec.js';
export type { ElementHandler } from './exchange/buffer-codec.js';
export { StreamTask } from './task/stream-task.js';
export type { TaskState, TaskMetrics, TaskServices, TaskDeployment } from './task/stream-task.js';
export type { OperatorQueryableState } from './task/task-context.js';
export { TaskHost } from './task/task-host.js';
// Hosting tasks and split enumerators on worker threads (the TaskManager and the JobManager).
export { SlotWorkerHandle } from './executor/slot-worker-handle.js';
export type { SlotWorkerEvents } from './executor/slot-worker-handle.js';
export type { SlotWorkerData, SerializedError } from './executor/worker-protocol.js';
export { serializeError, deserializeError } from './executor/worker-protocol.js';
export { SplitEnumeratorHost } from './executor/split-enumerator-host.js';
export type { SplitEnumeratorEvents } from './executor/split-enumerator-host.js';
export type { EnumeratorWorkerData } from './executor/enumerator-protocol.js';
export { loadPipeline } from './executor/load-pipeline.js';
export { planJobModule } from './executor/plan-job-module.js';
export type { ModulePlan } from './executor/plan-job-module.js';
export { graphDigestOf } from './executor/graph-digest.js';
export type {
  TaskMetricsSample,
  OperatorMetricsSample,
  GaugeSample,
} from './task/task-metrics-sample.js';
export type { LevelBackendMetrics } from './state/level-keyed-state-backend.js';
export type { ChannelMessage } from './exchange/channel.js';
export type { TaskEvents, TaskHostOptions } from './task/task-host.js';
// Daemon support: logging and metric names.
export {
  createLogger,
  formatRecord,
  logFormat,
  parseLogFormat,
  LOG_LINES_KEPT,
  RecentLogLines,
} from './logging.js';
export type { LogFormat } from './logging.js';
export type { Logger } from './logging.js';
export { MetricNames, MetricLabels } from './metrics/metric-names.js';

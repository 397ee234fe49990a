/**
 * The Nimble DataStream API: what job authors import.
 *
 * @packageDocumentation
 * @module @nimble/api
 */
// The public surface of @nimble/api: every export is named here.
export { Duration, Time, MIN_TIMESTAMP, MAX_TIMESTAMP, toMillis } from './time.js';
export type { DurationLike } from './time.js';

export { OutputTag } from './output-tag.js';

export {
  RichFunction,
  ProcessFunction,
  KeyedProcessFunction,
  ProcessWindowFunction,
  ProcessAllWindowFunction,
  TimeDomain,
  CoProcessFunction,
  KeyedCoProcessFunction,
  BroadcastProcessFunction,
  KeyedBroadcastProcessFunction,
  ProcessJoinFunction,
  RichMapFunction,
  RichFlatMapFunction,
  RichFilterFunction,
  RichReduceFunction,
} from './functions.js';
export type {
  Collector,
  MapFunction,
  FlatMapFunction,
  FilterFunction,
  KeySelector,
  Partitioner,
  ReduceFunction,
  AggregateFunction,
  RuntimeContext,
  TimerService,
  ProcessContext,
  OnTimerContext,
  KeyedProcessContext,
  KeyedOnTimerContext,
  KeyedStateStore,
  ProcessWindowContext,
  WindowFunction,
  CoMapFunction,
  CoFlatMapFunction,
  BaseBroadcastContext,
  BroadcastContext,
  BroadcastReadOnlyContext,
  KeyedStateFunction,
  KeyedBroadcastContext,
  KeyedBroadcastReadOnlyContext,
  KeyedBroadcastOnTimerContext,
  ProcessAllWindowContext,
  AllWindowFunction,
  DeltaFunction,
  ProcessJoinContext,
  ProcessJoinFunctionFn,
  JoinFunction,
  FlatJoinFunction,
  CoGroupFunction,
  MapFunctionObject,
  FlatMapFunctionObject,
  FilterFunctionObject,
  ReduceFunctionObject,
} from './functions.js';

export type {
  CheckpointedFunction,
  FunctionSnapshotContext,
  FunctionInitializationContext,
} from './checkpointed-function.js';

export {
  GlobalJobParameters,
  ParameterTool,
  encodeJobParameters,
  decodeJobParameters,
} from './job-parameters.js';

export {
  StateDescriptor,
  ValueStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  AggregatingStateDescriptor,
  StateTtlConfig,
  StateTtlConfigBuilder,
  UpdateType,
  StateVisibility,
  TtlTimeCharacteristic,
} from './state.js';
export type {
  Key,
  State,
  StateKind,
  ValueState,
  ListState,
  MapState,
  ReducingState,
  AggregatingState,
  BroadcastState,
  ReadOnlyBroadcastState,
  OperatorStateStore,
} from './state.js';

export { WatermarkStrategy, BoundedOutOfOrdernessWatermarks } from './watermark.js';
export type {
  WatermarkGenerator,
  WatermarkGeneratorSupplier,
  WatermarkOutput,
  TimestampAssigner,
} from './watermark.js';

export {
  TimeWindow,
  GlobalWindow,
  TriggerResult,
  Trigger,
  EventTimeTrigger,
  ProcessingTimeTrigger,
  WindowAssigner,
  MergingWindowAssigner,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  GlobalWindows,
} from './windowing.js';
export {
  CountTrigger,
  PurgingTrigger,
  ContinuousEventTimeTrigger,
  ContinuousProcessingTimeTrigger,
  DeltaTrigger,
} from './triggers.js';
export { TimestampedValue, CountEvictor, TimeEvictor, DeltaEvictor } from './evictors.js';
export type { Evictor, EvictorContext, EvictableValue, EvictableElements } from './evictors.js';
export type {
  Window,
  TriggerContext,
  OnMergeContext,
  WindowAssignerContext,
  SessionWindowTimeGapExtractor,
  AlignedWindows,
} from './windowing.js';

export {
  Boundedness,
  DiscardingSink,
  END_OF_INPUT_CHECKPOINT_ID,
  PrintSink,
  InputStatus,
  isTwoPhaseCommittingSink,
} from './connector.js';
export type {
  SourceSplit,
  ReaderOutput,
  SourceOutput,
  SourceReaderMetricGroup,
  SourceReaderContext,
  SourceReader,
  SplitEnumeratorContext,
  SplitEnumerator,
  Source,
  SinkWriterContext,
  SinkInitContext,
  SinkWriter,
  Sink,
  CommittingSinkWriter,
  Committer,
  TwoPhaseCommittingSink,
} from './connector.js';

export {
  StreamExecutionEnvironment,
  CheckpointConfig,
  ExecutionConfig,
  ExternalizedCheckpointRetention,
  installPipelineExecutor,
  installedPipelineExecutor,
} from './environment.js';
export type {
  ConfigValue,
  Pipeline,
  JobExecutionResult,
  JobListener,
  PipelineExecutor,
} from './environment.js';
export {
  DataStream,
  SingleOutputStreamOperator,
  DataStreamSource,
  DataStreamSink,
  KeyedStream,
  WindowedStream,
  AllWindowedStream,
  QueryableStateStream,
} from './datastream.js';
export type { FieldOf, Numeric, Comparable } from './datastream.js';
export { ConnectedStreams } from './connected-streams.js';
export { BroadcastStream } from './broadcast-stream.js';
export { BroadcastConnectedStream } from './broadcast-connected-stream.js';
export { IntervalJoin, IntervalJoined } from './interval-join.js';
export type { IntervalBound } from './interval-join.js';
export {
  JoinedStreams,
  JoinedStreamsWhere,
  JoinedStreamsEqualTo,
  JoinedStreamsWithWindow,
} from './joined-streams.js';
export {
  CoGroupedStreams,
  CoGroupedStreamsWhere,
  CoGroupedStreamsEqualTo,
  CoGroupedStreamsWithWindow,
} from './co-grouped-streams.js';
export type { TaggedUnion } from './co-grouped-streams.js';
export {
  Transformation,
  SourceTransformation,
  OneInputTransformation,
  TwoInputTransformation,
  PartitionTransformation,
  UnionTransformation,
  SideOutputTransformation,
  SinkTransformation,
} from './transformation.js';
export type {
  PartitionerKind,
  OperatorSpec,
  TwoInputOperatorSpec,
  WindowFunctionSpec,
  WindowFnSpec,
  RollingAggregation,
  BuiltinSink,
  AsyncOutputMode,
} from './transformation.js';
export { CollectionSource, SingleReaderEnumerator } from './collection-source.js';
export type { CollectionSplit } from './collection-source.js';
export { AsyncDataStream } from './async-data-stream.js';
export { RichAsyncFunction, TimeoutError } from './async-function.js';
export type { AsyncFunction, AsyncMapFunction, ResultFuture } from './async-function.js';
export {
  AsyncRetryStrategies,
  FixedDelayRetryStrategy,
  FixedDelayRetryStrategyBuilder,
  ExponentialBackoffDelayRetryStrategy,
  ExponentialBackoffDelayRetryStrategyBuilder,
  RetryPredicates,
} from './async-retry-strategies.js';
export type { AsyncRetryStrategy, AsyncRetryPredicate } from './async-retry-strategies.js';

import type {
  AggregateFunction,
  BroadcastProcessFunction,
  CoFlatMapFunction,
  CoMapFunction,
  FilterFunction,
  FlatMapFunction,
  CoProcessFunction,
  KeyedBroadcastProcessFunction,
  FilterFunctionObject,
  FlatMapFunctionObject,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  MapFunctionObject,
  ProcessFunction,
  ProcessWindowFunction,
  Partitioner,
  ReduceFunction,
  ReduceFunctionObject,
  WindowFunction,
  ProcessJoinFunction,
  ProcessJoinFunctionFn,
} from './functions.js';
import type { OutputTag } from './output-tag.js';
import type { Key, MapStateDescriptor } from './state.js';
import type { AsyncFunction, AsyncMapFunction } from './async-function.js';
import type { AsyncRetryStrategy } from './async-retry-strategies.js';
import type { Sink, Source } from './connector.js';
import type { Evictor } from './evictors.js';
import type { WatermarkStrategy } from './watermark.js';
import type { Trigger, Window, WindowAssigner } from './windowing.js';

/**
 * How records travel from one operator's subtasks to the next's.
 * `forward` keeps subtask i -> subtask i (and chains operators when parallelism matches).
 * `shuffle` picks a subtask uniformly at random; `custom` asks the user's {@link Partitioner}.
 */
export type PartitionerKind =
  'forward' | 'rebalance' | 'rescale' | 'broadcast' | 'hash' | 'global' | 'shuffle' | 'custom';

/** The function a window applies when it fires. */
export type WindowFunctionSpec =
  | {
      kind: 'reduce';
      reduce: ReduceFunction<any> | ReduceFunctionObject<any>;
      window?: WindowFnSpec;
    }
  | { kind: 'aggregate'; aggregate: AggregateFunction<any, any, any>; window?: WindowFnSpec }
  | { kind: 'process'; window: WindowFnSpec };

/** A window function applied to the (pre-aggregated) contents of a window. */
export type WindowFnSpec =
  | { kind: 'process'; fn: ProcessWindowFunction<any, any, any, any> }
  | { kind: 'apply'; fn: WindowFunction<any, any, any, any> };

/** A rolling aggregation of a keyed stream (`sum`, `min`, `max`, `minBy`, `maxBy`). */
export type RollingAggregation = {
  kind: 'sum' | 'min' | 'max' | 'minBy' | 'maxBy';
  field: string | number;
};

/** What an operator does: data plus the user's closures; the runtime builds the operator from it. */
export type OperatorSpec =
  | { kind: 'map'; fn: MapFunction<any, any> | MapFunctionObject<any, any> }
  | { kind: 'flatMap'; fn: FlatMapFunction<any, any> | FlatMapFunctionObject<any, any> }
  | { kind: 'filter'; fn: FilterFunction<any> | FilterFunctionObject<any> }
  | { kind: 'process'; fn: ProcessFunction<any, any> }
  | { kind: 'keyedProcess'; fn: KeyedProcessFunction<any, any, any> }
  | { kind: 'keyedReduce'; fn: ReduceFunction<any> | ReduceFunctionObject<any> }
  | { kind: 'keyedAggregation'; aggregation: RollingAggregation }
  | { kind: 'timestampsAndWatermarks'; strategy: WatermarkStrategy<any> }
  | {
      kind: 'window';
      assigner: WindowAssigner<any, Window>;
      trigger: Trigger<any, Window> | undefined;
      allowedLatenessMillis: number;
      lateDataTag: OutputTag<any> | undefined;
      fn: WindowFunctionSpec;
      /** With an evictor the window keeps every element with its timestamp (Flink's EvictingWindowOperator). */
      evictor?: Evictor<any, Window> | undefined;
    }
  | {
      kind: 'asyncWait';
      fn: AsyncFunction<any, any> | AsyncMapFunction<any, any>;
      /** 0: no timeout. */
      timeoutMillis: number;
      capacity: number;
      outputMode: AsyncOutputMode;
      retryStrategy: AsyncRetryStrategy<any>;
    };

/** Whether an async wait operator emits in input order or as results complete (Flink's `OutputMode`). */
export type AsyncOutputMode = 'ordered' | 'unordered';

/**
 * What an operator of two inputs does (connected streams, broadcast connections, joins): data
 * plus the user's closures; the runtime builds the operator from it.
 */
export type TwoInputOperatorSpec =
  | { kind: 'coMap'; fn: CoMapFunction<any, any, any> }
  | { kind: 'coFlatMap'; fn: CoFlatMapFunction<any, any, any> }
  | { kind: 'coProcess'; fn: CoProcessFunction<any, any, any> }
  | { kind: 'keyedCoProcess'; fn: KeyedCoProcessFunction<any, any, any, any> }
  | {
      kind: 'broadcastProcess';
      fn: BroadcastProcessFunction<any, any, any>;
      broadcastStateDescriptors: MapStateDescriptor<any, any>[];
    }
  | {
      kind: 'keyedBroadcastProcess';
      fn: KeyedBroadcastProcessFunction<any, any, any, any>;
      broadcastStateDescriptors: MapStateDescriptor<any, any>[];
    }
  | {
      kind: 'intervalJoin';
      /** Bounds in ms as the user gave them (Flink's `between`), `lowerBound <= upperBound`. */
      lowerBound: number;
      upperBound: number;
      lowerBoundInclusive: boolean;
      upperBoundInclusive: boolean;
      /** Where late elements of each input go (undefined: dropped). */
      leftLateDataTag: OutputTag<any> | undefined;
      rightLateDataTag: OutputTag<any> | undefined;
      fn: ProcessJoinFunction<any, any, any> | ProcessJoinFunctionFn<any, any, any>;
    };

/** The sinks the runtime provides itself. */
export type BuiltinSink =
  { kind: 'print'; prefix: string | undefined; stderr: boolean } | { kind: 'collect'; id: string };

/** A node of the job's dataflow as the user built it (Flink's `Transformation`). */
export abstract class Transformation<T> {
  /** @internal */
  declare readonly __type?: T;
  /** Unique within the job, assigned in building order, so a re-run of the job module gives the same ids. */
  readonly id: number;
  /** Display name. */
  name: string;
  /** Stable operator id for state (savepoints match state by uid). */
  uid: string | undefined;
  /** Parallelism; undefined means the environment's default. */
  parallelism: number | undefined;
  /** Max parallelism of this operator; undefined means the environment's. */
  maxParallelism: number | undefined;
  /** Whether this operator may chain with its predecessor and successor. */
  chainingAllowed = true;

  protected constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
  }
  /** The transformations this one reads. */
  abstract getInputs(): Transformation<unknown>[];
}

/** Reads a {@link Source}. */
export class SourceTransformation<T> extends Transformation<T> {
  constructor(
    id: number,
    name: string,
    readonly source: Source<T, any, any>,
    readonly watermarkStrategy: WatermarkStrategy<T>,
  ) {
    super(id, name);
  }
  getInputs(): Transformation<unknown>[] {
    return [];
  }
}

/** An operator with one input. */
export class OneInputTransformation<I, O> extends Transformation<O> {
  constructor(
    id: number,
    name: string,
    readonly input: Transformation<I>,
    readonly operator: OperatorSpec,
    /** Set for keyed operators: extracts the key under which state and timers are scoped. */
    readonly keySelector: KeySelector<I, Key> | undefined,
  ) {
    super(id, name);
  }
  getInputs(): Transformation<unknown>[] {
    return [this.input as Transformation<unknown>];
  }
}

/**
 * An operator with two inputs (Flink's `TwoInputTransformation`): records of `input1` go to its
 * first input, records of `input2` to its second. A keyed operator has a key selector per keyed
 * input; both inputs of a keyed connection are partitioned by key.
 */
export class TwoInputTransformation<I1, I2, O> extends Transformation<O> {
  constructor(
    id: number,
    name: string,
    readonly input1: Transformation<I1>,
    readonly input2: Transformation<I2>,
    readonly operator: TwoInputOperatorSpec,
    /** The key of the first input's records, for keyed state and timers (undefined: not keyed). */
    readonly keySelector1: KeySelector<I1, Key> | undefined,
    /** The key of the second input's records (undefined: not keyed, e.g. a broadcast input). */
    readonly keySelector2: KeySelector<I2, Key> | undefined,
  ) {
    super(id, name);
  }
  getInputs(): Transformation<unknown>[] {
    return [this.input1 as Transformation<unknown>, this.input2 as Transformation<unknown>];
  }
}

/** Changes how records are distributed to the next operator. */
export class PartitionTransformation<T> extends Transformation<T> {
  constructor(
    id: number,
    readonly input: Transformation<T>,
    readonly partitioner: PartitionerKind,
    readonly keySelector: KeySelector<T, Key> | undefined,
    /** For `custom`: the user's partitioner, applied to the key `keySelector` extracts. */
    readonly customPartitioner?: Partitioner<any>,
  ) {
    super(id, `Partition(${partitioner})`);
  }
  getInputs(): Transformation<unknown>[] {
    return [this.input as Transformation<unknown>];
  }
}

/** Merges streams of the same type. */
export class UnionTransformation<T> extends Transformation<T> {
  constructor(
    id: number,
    readonly inputs: Transformation<T>[],
  ) {
    super(id, 'Union');
  }
  getInputs(): Transformation<unknown>[] {
    return this.inputs as Transformation<unknown>[];
  }
}

/** Selects the side output `tag` of its input operator. */
export class SideOutputTransformation<T> extends Transformation<T> {
  constructor(
    id: number,
    readonly input: Transformation<unknown>,
    readonly tag: OutputTag<T>,
  ) {
    super(id, `SideOutput(${tag.id})`);
  }
  getInputs(): Transformation<unknown>[] {
    return [this.input];
  }
}

/** Writes to a sink. */
export class SinkTransformation<T> extends Transformation<never> {
  constructor(
    id: number,
    name: string,
    readonly input: Transformation<T>,
    readonly sink: Sink<T> | BuiltinSink,
  ) {
    super(id, name);
  }
  getInputs(): Transformation<unknown>[] {
    return [this.input as Transformation<unknown>];
  }
}

import {
  allWindowFunctionAdapter,
  NULL_KEY_SELECTOR,
  ProcessAllWindowFunctionAdapter,
} from './all-window-functions.js';
import type { Sink } from './connector.js';
import { PrintSink } from './connector.js';
import type { Evictor } from './evictors.js';
import { CountEvictor } from './evictors.js';
import type {
  AggregateFunction,
  AllWindowFunction,
  FilterFunction,
  FilterFunctionObject,
  FlatMapFunction,
  FlatMapFunctionObject,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  Partitioner,
  MapFunctionObject,
  ProcessFunction,
  ReduceFunction,
  ReduceFunctionObject,
  WindowFunction,
} from './functions.js';
import {
  KeyedProcessFunction as KeyedProcessFunctionBase,
  ProcessAllWindowFunction,
  ProcessWindowFunction,
} from './functions.js';
import type { OutputTag } from './output-tag.js';
import type { Key, MapStateDescriptor, ValueState } from './state.js';
import { ValueStateDescriptor } from './state.js';
import type { Duration } from './time.js';
import { nonNegativeMillis } from './time.js';
import type {
  BuiltinSink,
  OperatorSpec,
  PartitionerKind,
  RollingAggregation,
  Transformation,
  WindowFnSpec,
  WindowFunctionSpec,
} from './transformation.js';
import {
  OneInputTransformation,
  PartitionTransformation,
  SideOutputTransformation,
  SinkTransformation,
  UnionTransformation,
} from './transformation.js';
import type { WatermarkStrategy } from './watermark.js';
import { ConnectedStreams } from './connected-streams.js';
import { BroadcastConnectedStream } from './broadcast-connected-stream.js';
import { BroadcastStream } from './broadcast-stream.js';
import { CountTrigger, PurgingTrigger } from './triggers.js';
import type { GlobalWindow, Trigger, Window, WindowAssigner } from './windowing.js';
import { GlobalWindows } from './windowing.js';
import { CoGroupedStreams } from './co-grouped-streams.js';
import { IntervalJoin } from './interval-join.js';
import { JoinedStreams } from './joined-streams.js';

/** What a stream needs of its environment. @internal */
export interface StreamEnvironmentHandle {
  /** A new transformation id. */
  newId(): number;
  /** Registers a transformation that is not reached from a sink otherwise. */
  addOperator(t: Transformation<unknown>): void;
  /** Runs the job and returns what `collect` sinks gathered. */
  executeAndCollect(jobName: string | undefined, collectId: string): Promise<unknown[]>;
}

/** A stream of elements of type T (Flink's `DataStream`). */
export class DataStream<T> {
  /** @internal */
  constructor(
    /** @internal */ readonly env: StreamEnvironmentHandle,
    /** @internal */ readonly transformation: Transformation<T>,
  ) {}

  /**
   * One-to-one transformation: a function, or an object with `map` and optionally `open`/`close`
   * (a {@link RichMapFunction}, which may also be a `CheckpointedFunction`).
   */
  map<R>(fn: MapFunction<T, R> | MapFunctionObject<T, R>): SingleOutputStreamOperator<R> {
    checkUserFunction('map', fn);
    return this.transform('Map', { kind: 'map', fn });
  }
  /**
   * One-to-many: emit through the collector or return an iterable. A function, or an object with
   * `flatMap` and optionally `open`/`close` (a {@link RichFlatMapFunction}).
   */
  flatMap<R>(
    fn: FlatMapFunction<T, R> | FlatMapFunctionObject<T, R>,
  ): SingleOutputStreamOperator<R> {
    checkUserFunction('flatMap', fn);
    return this.transform('Flat Map', { kind: 'flatMap', fn });
  }
  /**
   * Keeps the elements for which `fn` is true. A function, or an object with `filter` and
   * optionally `open`/`close` (a {@link RichFilterFunction}).
   */
  filter(fn: FilterFunction<T> | FilterFunctionObject<T>): SingleOutputStreamOperator<T> {
    checkUserFunction('filter', fn);
    return this.transform('Filter', { kind: 'filter', fn });
  }
  /** Applies a {@link ProcessFunction} (side outputs and time; timers need `keyBy`). */
  process<R>(fn: ProcessFunction<T, R>): SingleOutputStreamOperator<R> {
    return this.transform('Process', { kind: 'process', fn });
  }
  /** Assigns timestamps and generates watermarks in the middle of a pipeline. */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): SingleOutputStreamOperator<T> {
    return this.transform('Timestamps/Watermarks', { kind: 'timestampsAndWatermarks', strategy });
  }
  /** Partitions by key: all elements with the same key go to the same subtask. */
  keyBy<K extends Key>(selector: KeySelector<T, K>): KeyedStream<T, K> {
    if (typeof selector !== 'function') {
      throw new TypeError('keyBy() needs a key selector function, e.g. keyBy(e => e.userId)');
    }
    const partition = new PartitionTransformation(
      this.env.newId(),
      this.transformation,
      'hash',
      selector,
    );
    return new KeyedStream<T, K>(this.env, partition, selector);
  }
  /**
   * Connects this stream with another, possibly of another type, for an operator of two inputs
   * (Flink's `connect`): `map`, `flatMap` or `process` sees the elements of both. Key both with
   * `keyBy(k1, k2)`, or connect two keyed streams, for keyed state and timers shared by both.
   */
  connect<R>(other: DataStream<R>): ConnectedStreams<T, R>;
  /**
   * Connects this non-keyed stream with a broadcast stream (Flink's `connect(BroadcastStream)`):
   * `process` takes a `BroadcastProcessFunction`.
   */
  connect<R>(other: BroadcastStream<R>): BroadcastConnectedStream<T, R>;
  connect<R>(
    other: DataStream<R> | BroadcastStream<R>,
  ): ConnectedStreams<T, R> | BroadcastConnectedStream<T, R> {
    if (other instanceof BroadcastStream)
      return new BroadcastConnectedStream<T, R>(this.env, this, other);
    return new ConnectedStreams<T, R>(this.env, this, other);
  }
  /**
   * Joins this stream with another within windows (Flink's `join`): pairs of elements with equal
   * keys in the same window, `join(other).where(k1).equalTo(k2).window(assigner).apply(fn)`.
   */
  join<R>(other: DataStream<R>): JoinedStreams<T, R> {
    return new JoinedStreams<T, R>(this, other);
  }
  /**
   * Groups this stream and another by key and window (Flink's `coGroup`): a function gets both
   * streams' elements of each key and window, `coGroup(other).where(k1).equalTo(k2).window(w).apply(fn)`.
   */
  coGroup<R>(other: DataStream<R>): CoGroupedStreams<T, R> {
    return new CoGroupedStreams<T, R>(this, other);
  }
  /** Merges this stream with others of the same type. */
  union(...others: DataStream<T>[]): DataStream<T> {
    const inputs = [this.transformation, ...others.map((o) => o.transformation)];
    return new DataStream(this.env, new UnionTransformation(this.env.newId(), inputs));
  }
  /** Distributes elements round-robin to all subtasks of the next operator. */
  rebalance(): DataStream<T> {
    return this.partition('rebalance');
  }
  /** Distributes round-robin to a subset of the next operator's subtasks (local to the sender). */
  rescale(): DataStream<T> {
    return this.partition('rescale');
  }
  /** Sends every element to every subtask of the next operator. */
  broadcast(): DataStream<T>;
  /**
   * Sends every element to every subtask of the next operator, which keeps the broadcast states
   * named by `descriptors` (Flink's `broadcast(MapStateDescriptor...)`): connect a keyed or
   * non-keyed stream with the result and process both with a (Keyed)BroadcastProcessFunction.
   */
  broadcast(
    descriptor: MapStateDescriptor<any, any>,
    ...descriptors: MapStateDescriptor<any, any>[]
  ): BroadcastStream<T>;
  broadcast(...descriptors: MapStateDescriptor<any, any>[]): DataStream<T> | BroadcastStream<T> {
    const partitioned = this.partition('broadcast');
    if (descriptors.length === 0) return partitioned;
    return new BroadcastStream<T>(this.env, partitioned.getTransformation(), descriptors);
  }
  /** Sends subtask i's elements to subtask i of the next operator (same parallelism required). */
  forward(): DataStream<T> {
    return this.partition('forward');
  }
  /** Sends all elements to the first subtask of the next operator. */
  global(): DataStream<T> {
    return this.partition('global');
  }
  /**
   * Sends each element to a subtask of the next operator chosen uniformly at random (Flink's
   * `shuffle()`, `ShufflePartitioner`).
   */
  shuffle(): DataStream<T> {
    return this.partition('shuffle');
  }
  /**
   * Sends each element to the subtask `partitioner(keySelector(element), numPartitions)` of the
   * next operator (Flink's `partitionCustom`). `numPartitions` is the next operator's parallelism;
   * a result outside `[0, numPartitions)` fails the task. Unlike `keyBy()`, the result is not a
   * keyed stream: the next operator has no keyed state.
   *
   * ```ts
   * // Tenant t's events go to subtask t % n.
   * stream.partitionCustom((tenant: number, n) => tenant % n, (e) => e.tenantId);
   * ```
   *
   * @param partitioner - picks the partition of a key.
   * @param keySelector - extracts the key the partitioner sees; any value, not only a {@link Key}.
   */
  partitionCustom<K>(partitioner: Partitioner<K>, keySelector: (value: T) => K): DataStream<T> {
    if (typeof partitioner !== 'function' || typeof keySelector !== 'function') {
      throw new TypeError(
        'partitionCustom() needs a partitioner function and a key selector function, ' +
          'e.g. partitionCustom((key, n) => key % n, (e) => e.id)',
      );
    }
    return new DataStream(
      this.env,
      new PartitionTransformation(
        this.env.newId(),
        this.transformation,
        'custom',
        keySelector as unknown as KeySelector<T, Key>,
        partitioner,
      ),
    );
  }
  /**
   * Groups all elements of the stream into windows (Flink's `windowAll`). The windows are
   * evaluated by one non-parallel subtask: its parallelism is 1 and cannot be changed.
   *
   * ```ts
   * stream.windowAll(TumblingEventTimeWindows.of(Time.minutes(1))).reduce((a, b) => a + b);
   * ```
   */
  windowAll<W extends Window>(assigner: WindowAssigner<T, W>): AllWindowedStream<T, W> {
    return new AllWindowedStream<T, W>(this, assigner as WindowAssigner<T, W>);
  }
  /**
   * Groups all elements into windows of `size` elements (Flink's `countWindowAll`): tumbling
   * without `slide` (GlobalWindows, PurgingTrigger(CountTrigger(size))); with `slide`, a window
   * of the last `size` elements every `slide` elements (GlobalWindows, CountEvictor(size),
   * CountTrigger(slide)). Evaluated by one non-parallel subtask.
   *
   * @throws RangeError when `size` or `slide` is not a positive integer.
   */
  countWindowAll(size: number, slide?: number): AllWindowedStream<T, GlobalWindow> {
    positiveCount('countWindowAll: size', size);
    const windowed = this.windowAll(GlobalWindows.create());
    if (slide === undefined) return windowed.trigger(PurgingTrigger.of(CountTrigger.of(size)));
    positiveCount('countWindowAll: slide', slide);
    return windowed.evictor(CountEvictor.of(size)).trigger(CountTrigger.of(slide));
  }
  /** Writes to a sink. */
  sinkTo(sink: Sink<T>, name?: string): DataStreamSink<T> {
    if (sink instanceof PrintSink) {
      const kind = { kind: 'print', prefix: sink.identifier, stderr: sink.stdErr } as const;
      return this.addSink(name ?? `Print to Std. ${sink.stdErr ? 'Err' : 'Out'}`, kind);
    }
    return this.addSink(name ?? 'Sink', sink);
  }
  /** Prints each element to stdout, prefixed `<subtask>> ` when parallel (Flink's `print()`). */
  print(prefix?: string): DataStreamSink<T> {
    return this.addSink('Print to Std. Out', { kind: 'print', prefix, stderr: false });
  }
  /** Prints each element to stderr. */
  printToErr(prefix?: string): DataStreamSink<T> {
    return this.addSink('Print to Std. Err', { kind: 'print', prefix, stderr: true });
  }
  /**
   * Runs the job and returns all elements of this stream (for bounded jobs and tests).
   * Elements arrive in the order each subtask produced them.
   */
  async executeAndCollect(jobName?: string): Promise<T[]> {
    const id = this.addCollectSink();
    return (await this.env.executeAndCollect(jobName, id)) as T[];
  }

  /**
   * Adds a sink that gathers this stream's elements into the job's result under the returned
   * id. @internal
   */
  addCollectSink(): string {
    // The id derives from the sink's transformation id, so a worker that rebuilds the job
    // reports under the same id.
    const sinkId = this.env.newId();
    const id = `collect-${sinkId}`;
    const t = new SinkTransformation<T>(sinkId, 'Collect', this.transformation, {
      kind: 'collect',
      id,
    });
    this.env.addOperator(t as Transformation<unknown>);
    return id;
  }

  /** The underlying transformation. @internal */
  getTransformation(): Transformation<T> {
    return this.transformation;
  }

  /** The key selector of a keyed stream, undefined otherwise. @internal */
  stateKeySelector(): KeySelector<T, Key> | undefined {
    return undefined;
  }

  /** A stream produced by operator `t` of this environment. @internal */
  operatorStream<R>(t: Transformation<R>): SingleOutputStreamOperator<R> {
    return new SingleOutputStreamOperator<R>(this.env, t);
  }

  protected transform<R>(name: string, operator: OperatorSpec): SingleOutputStreamOperator<R> {
    // As Flink's doTransform: an operator applied to a keyed stream (keyBy().map(...)) is keyed,
    // so its functions have keyed state of the element's key.
    const t = new OneInputTransformation<T, R>(
      this.env.newId(),
      name,
      this.transformation,
      operator,
      this.stateKeySelector(),
    );
    return new SingleOutputStreamOperator<R>(this.env, t);
  }
  private partition(kind: PartitionerKind): DataStream<T> {
    return new DataStream(
      this.env,
      new PartitionTransformation(this.env.newId(), this.transformation, kind, undefined),
    );
  }
  private addSink(name: string, sink: Sink<T> | BuiltinSink): DataStreamSink<T> {
    const t = new SinkTransformation<T>(this.env.newId(), name, this.transformation, sink);
    this.env.addOperator(t as Transformation<unknown>);
    return new DataStreamSink(t);
  }
}

/** Settings shared by operators: name, uid, parallelism. */
function configure<X extends { transformation: Transformation<unknown> }>(self: X) {
  return {
    name(name: string): X {
      self.transformation.name = name;
      return self;
    },
    uid(uid: string): X {
      if (typeof uid !== 'string' || uid.length === 0)
        throw new TypeError('uid() needs a non-empty string');
      self.transformation.uid = uid;
      return self;
    },
    setParallelism(parallelism: number): X {
      if (!Number.isInteger(parallelism) || parallelism < 1) {
        throw new RangeError(
          `${self.transformation.name}: parallelism must be a positive integer; got ${parallelism}`,
        );
      }
      self.transformation.parallelism = parallelism;
      return self;
    },
  };
}

/** A stream produced by an operator: can be named, given a uid and parallelism, and has side outputs. */
export class SingleOutputStreamOperator<T> extends DataStream<T> {
  /** Set for windowAll operators, which run as one subtask (Flink's `nonParallel`). */
  private nonParallel = false;

  /** Sets the operator's display name. */
  name(name: string): this {
    return configure(this).name(name);
  }
  /** Sets the operator's stable id: state in savepoints is matched to operators by uid. */
  uid(uid: string): this {
    return configure(this).uid(uid);
  }
  /**
   * Sets the operator's parallelism.
   *
   * @throws RangeError when `parallelism` is not a positive integer, or not 1 for an operator
   *   that cannot run in parallel (`windowAll`, `countWindowAll`).
   */
  setParallelism(parallelism: number): this {
    if (this.nonParallel && parallelism !== 1) {
      throw nonParallelError(this.transformation.name, 'parallelism', parallelism);
    }
    return configure(this).setParallelism(parallelism);
  }
  /** Sets the operator's max parallelism (number of key groups of its keyed state). */
  setMaxParallelism(maxParallelism: number): this {
    if (this.nonParallel && maxParallelism !== 1) {
      throw nonParallelError(this.transformation.name, 'max parallelism', maxParallelism);
    }
    if (!Number.isInteger(maxParallelism) || maxParallelism < 1) {
      throw new RangeError(`maxParallelism must be a positive integer; got ${maxParallelism}`);
    }
    this.transformation.maxParallelism = maxParallelism;
    return this;
  }
  /**
   * Makes this operator run as one subtask for good: parallelism and max parallelism 1, and
   * setting another parallelism is an error (Flink's `forceNonParallel`). @internal
   */
  forceNonParallel(): this {
    this.transformation.parallelism = 1;
    this.transformation.maxParallelism = 1;
    this.nonParallel = true;
    return this;
  }
  /** Keeps this operator out of operator chains. */
  disableChaining(): this {
    this.transformation.chainingAllowed = false;
    return this;
  }
  /** The elements this operator emitted to side output `tag`. */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    return new DataStream<X>(
      this.env,
      new SideOutputTransformation<X>(
        this.env.newId(),
        this.transformation as Transformation<unknown>,
        tag,
      ),
    );
  }
}

function nonParallelError(operator: string, what: string, value: number): RangeError {
  return new RangeError(
    `${operator}: the ${what} of a non-parallel operator must be 1; got ${value}. ` +
      'windowAll() and countWindowAll() evaluate all elements in one subtask; ' +
      'use keyBy() and window() for parallel windows',
  );
}

function positiveCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`${what} must be a positive integer; got ${n}`);
  }
}

/** A source stream. */
export class DataStreamSource<T> extends SingleOutputStreamOperator<T> {}

/** The end of a stream: a sink, which can be named and given a uid and parallelism. */
export class DataStreamSink<T> {
  /** @internal */
  constructor(/** @internal */ readonly transformation: SinkTransformation<T>) {}
  /** Sets the sink's display name. */
  name(name: string): this {
    return configure(this as unknown as { transformation: Transformation<unknown> }).name(
      name,
    ) as unknown as this;
  }
  /** Sets the sink's stable id. */
  uid(uid: string): this {
    configure(this as unknown as { transformation: Transformation<unknown> }).uid(uid);
    return this;
  }
  /** Sets the sink's parallelism. */
  setParallelism(parallelism: number): this {
    configure(this as unknown as { transformation: Transformation<unknown> }).setParallelism(
      parallelism,
    );
    return this;
  }
}

/**
 * The fields of an element whose values are of type `V`: property names of an object, positions
 * of a tuple (any index of an array whose elements are `V`).
 */
export type FieldOf<T, V> = T extends readonly unknown[]
  ? number extends T['length']
    ? T[number] extends V
      ? number
      : never
    : {
        [I in keyof T]: I extends `${infer N extends number}`
          ? T[I] extends V
            ? N
            : never
          : never;
      }[number]
  : { [F in keyof T & string]-?: T[F] extends V ? F : never }[keyof T & string];

/** What sum, min and max compute with (the runtime adds and compares them). */
export type Numeric = number | bigint;
/** What minBy and maxBy compare. */
export type Comparable = number | bigint | string;

/** A stream partitioned by key (Flink's `KeyedStream`): state and timers are per key. */
export class KeyedStream<T, K extends Key> extends DataStream<T> {
  /** @internal */
  constructor(
    env: StreamEnvironmentHandle,
    transformation: Transformation<T>,
    /** @internal */ readonly keySelector: KeySelector<T, K>,
  ) {
    super(env, transformation);
  }

  /** Connects this keyed stream with another; connect a keyed stream for keyed state and timers. */
  override connect<R>(other: DataStream<R>): ConnectedStreams<T, R, K>;
  /** Connects this keyed stream with a broadcast stream: `process` takes a `KeyedBroadcastProcessFunction`. */
  override connect<R>(other: BroadcastStream<R>): BroadcastConnectedStream<T, R, K>;
  override connect<R>(
    other: DataStream<R> | BroadcastStream<R>,
  ): ConnectedStreams<T, R, K> | BroadcastConnectedStream<T, R, K> {
    if (other instanceof BroadcastStream)
      return new BroadcastConnectedStream<T, R, K>(this.env, this, other);
    return new ConnectedStreams<T, R, K>(this.env, this, other);
  }

  /** @internal */
  override stateKeySelector(): KeySelector<T, Key> {
    return this.keySelector as KeySelector<T, Key>;
  }

  /**
   * Keeps the latest element of every key in a {@link ValueState} that is queryable under
   * `queryableStateName` (Flink's `KeyedStream.asQueryableState`): a terminal operator, like a
   * sink. Pass a descriptor to set the state's name or TTL; its queryable name is set to
   * `queryableStateName`.
   *
   * @throws TypeError when the name is empty.
   */
  asQueryableState(
    queryableStateName: string,
    descriptor?: ValueStateDescriptor<T>,
  ): QueryableStateStream<K, T> {
    const d = (descriptor ?? new ValueStateDescriptor<T>(queryableStateName)).setQueryable(
      queryableStateName,
    );
    const op = this.keyed<never>(`Queryable state: ${queryableStateName}`, {
      kind: 'keyedProcess',
      fn: new QueryableValueStateUpdater<K, T>(d),
    });
    this.env.addOperator(op.getTransformation() as Transformation<unknown>);
    return new QueryableStateStream<K, T>(op, queryableStateName);
  }

  /**
   * Joins this keyed stream with another keyed stream of the same key type over a time interval
   * (Flink's `intervalJoin`): `intervalJoin(other).between(lower, upper).process(fn)` pairs the
   * elements `l` of this stream and `r` of the other with
   * `l.timestamp + lower <= r.timestamp <= l.timestamp + upper`. Event time only.
   */
  intervalJoin<R>(other: KeyedStream<R, K>): IntervalJoin<T, R, K> {
    if (typeof other?.stateKeySelector !== 'function' || other.stateKeySelector() === undefined) {
      throw new TypeError(
        'intervalJoin() needs a keyed stream to join with: call keyBy() on the other stream first',
      );
    }
    return new IntervalJoin<T, R, K>(this, other);
  }

  /** Applies a {@link KeyedProcessFunction} with keyed state and timers. */
  override process<R>(
    fn: ProcessFunction<T, R> | KeyedProcessFunction<K, T, R>,
  ): SingleOutputStreamOperator<R> {
    return this.keyed('KeyedProcess', {
      kind: 'keyedProcess',
      fn: fn as KeyedProcessFunction<K, T, R>,
    });
  }
  /**
   * Rolling reduce: emits the running result for the key on every element. A function, or an
   * object with `reduce` and optionally `open`/`close` (a {@link RichReduceFunction}).
   */
  reduce(fn: ReduceFunction<T> | ReduceFunctionObject<T>): SingleOutputStreamOperator<T> {
    checkUserFunction('reduce', fn);
    return this.keyed('Keyed Reduce', { kind: 'keyedReduce', fn });
  }
  /** Rolling sum of `field`; other fields come from the key's first element. */
  sum(field: FieldOf<T, Numeric>): SingleOutputStreamOperator<T> {
    return this.aggregation({ kind: 'sum', field });
  }
  /**
   * Rolling minimum of `field` (numbers, bigints or strings, as Flink's comparable fields); other
   * fields come from the key's first element.
   */
  min(field: FieldOf<T, Comparable>): SingleOutputStreamOperator<T> {
    return this.aggregation({ kind: 'min', field });
  }
  /**
   * Rolling maximum of `field` (numbers, bigints or strings, as Flink's comparable fields); other
   * fields come from the key's first element.
   */
  max(field: FieldOf<T, Comparable>): SingleOutputStreamOperator<T> {
    return this.aggregation({ kind: 'max', field });
  }
  /** The element with the smallest `field` so far (the first one on ties). */
  minBy(field: FieldOf<T, Comparable>): SingleOutputStreamOperator<T> {
    return this.aggregation({ kind: 'minBy', field });
  }
  /** The element with the largest `field` so far (the first one on ties). */
  maxBy(field: FieldOf<T, Comparable>): SingleOutputStreamOperator<T> {
    return this.aggregation({ kind: 'maxBy', field });
  }
  /** Groups each key's elements into windows. */
  window<W extends Window>(
    assigner: WindowAssigner<T, W> | WindowAssigner<unknown, W>,
  ): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>(this, assigner as WindowAssigner<T, W>);
  }
  /**
   * Groups each key's elements into windows of `size` elements (Flink's `countWindow`):
   * tumbling without `slide` (GlobalWindows, PurgingTrigger(CountTrigger(size))); with `slide`,
   * a window of the key's last `size` elements every `slide` elements (GlobalWindows,
   * CountEvictor(size), CountTrigger(slide)). A window that never fills up never fires.
   *
   * ```ts
   * stream.keyBy((e) => e.user).countWindow(100).reduce((a, b) => ({ ...a, n: a.n + b.n }));
   * ```
   *
   * @throws RangeError when `size` or `slide` is not a positive integer.
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    positiveCount('countWindow: size', size);
    const windowed = this.window(GlobalWindows.create());
    if (slide === undefined) return windowed.trigger(PurgingTrigger.of(CountTrigger.of(size)));
    positiveCount('countWindow: slide', slide);
    return windowed.evictor(CountEvictor.of(size)).trigger(CountTrigger.of(slide));
  }

  /** @internal */
  keyed<R>(name: string, operator: OperatorSpec): SingleOutputStreamOperator<R> {
    const t = new OneInputTransformation<T, R>(
      this.env.newId(),
      name,
      this.transformation,
      operator,
      this.keySelector as KeySelector<T, Key>,
    );
    return new SingleOutputStreamOperator<R>(this.env, t);
  }
  private aggregation(aggregation: RollingAggregation): SingleOutputStreamOperator<T> {
    return this.keyed(`Keyed Aggregation(${aggregation.kind})`, {
      kind: 'keyedAggregation',
      aggregation,
    });
  }
}

/** A keyed stream grouped into windows (Flink's `WindowedStream`). */
export class WindowedStream<T, K extends Key, W extends Window> {
  private customTrigger: Trigger<T, W> | undefined;
  private customEvictor: Evictor<T, W> | undefined;
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined;

  /** @internal */
  constructor(
    private readonly input: KeyedStream<T, K>,
    private readonly assigner: WindowAssigner<T, W>,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W> | Trigger<unknown, Window>): this {
    if (this.assigner.isMerging() && !trigger.canMerge()) {
      throw new Error(
        `A merging window assigner cannot be used with a trigger that does not support merging (${trigger.constructor.name})`,
      );
    }
    this.customTrigger = trigger as Trigger<T, W>;
    return this;
  }
  /**
   * Keeps windows for `lateness` after the watermark passed their end: late elements update the
   * result (a late firing) instead of being dropped. Default 0.
   */
  allowedLateness(lateness: Duration): this {
    const ms = nonNegativeMillis('allowedLateness: lateness', lateness);
    if (ms > 0 && !this.assigner.isEventTime()) {
      // Flink ignores lateness for processing time; say so rather than silently ignore.
      throw new Error('allowedLateness applies to event-time windows only');
    }
    this.lateness = ms;
    return this;
  }
  /** Sends elements that arrive after the allowed lateness to side output `tag` instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag;
    return this;
  }
  /**
   * Removes elements from each window before and/or after its function runs (Flink's
   * `evictor`). The window then keeps all its elements with their timestamps: a `reduce` or
   * `aggregate` folds what the evictor left when the window fires, not incrementally.
   */
  evictor(evictor: Evictor<T, W> | Evictor<unknown, Window>): this {
    if (evictor === null || typeof evictor !== 'object') {
      throw new TypeError('evictor() needs an Evictor, e.g. CountEvictor.of(10)');
    }
    this.customEvictor = evictor as Evictor<T, W>;
    return this;
  }

  /**
   * Incrementally reduces each window; optionally passes the result through a window function.
   * The reduce function may be an object with `reduce` and `open`/`close` (a {@link RichReduceFunction}).
   */
  reduce<R = T>(
    fn: ReduceFunction<T> | ReduceFunctionObject<T>,
    windowFunction?: ProcessWindowFunction<T, R, K, W> | WindowFunction<T, R, K, W>,
  ): SingleOutputStreamOperator<R> {
    checkUserFunction('reduce', fn);
    return this.build('Reduce', { kind: 'reduce', reduce: fn, window: windowFn(windowFunction) });
  }
  /** Incrementally aggregates each window; optionally passes the result through a window function. */
  aggregate<ACC, V, R = V>(
    fn: AggregateFunction<T, ACC, V>,
    windowFunction?: ProcessWindowFunction<V, R, K, W> | WindowFunction<V, R, K, W>,
  ): SingleOutputStreamOperator<R> {
    return this.build('Aggregate', {
      kind: 'aggregate',
      aggregate: fn,
      window: windowFn(windowFunction),
    });
  }
  /** Evaluates each window over all its elements (buffered in state). */
  process<R>(fn: ProcessWindowFunction<T, R, K, W>): SingleOutputStreamOperator<R> {
    return this.build('Process', { kind: 'process', window: { kind: 'process', fn } });
  }
  /** Evaluates each window over all its elements with a legacy window function. */
  apply<R>(fn: WindowFunction<T, R, K, W>): SingleOutputStreamOperator<R> {
    return this.build('Apply', { kind: 'process', window: { kind: 'apply', fn } });
  }

  private build<R>(what: string, fn: WindowFunctionSpec): SingleOutputStreamOperator<R> {
    const trigger = this.customTrigger ?? this.assigner.getDefaultTrigger();
    const evictor = this.customEvictor === undefined ? '' : `${String(this.customEvictor)}, `;
    const name = `Window(${String(this.assigner)}, ${String(trigger)}, ${evictor}${what})`;
    return this.input.keyed<R>(name, {
      kind: 'window',
      assigner: this.assigner as WindowAssigner<any, Window>,
      trigger: trigger as Trigger<any, Window>,
      allowedLatenessMillis: this.lateness,
      lateDataTag: this.lateTag,
      fn,
      evictor: this.customEvictor as Evictor<any, Window> | undefined,
    });
  }
}

function windowFn(
  f: ProcessWindowFunction<any, any, any, any> | WindowFunction<any, any, any, any> | undefined,
): WindowFnSpec | undefined {
  if (f === undefined) return undefined;
  return f instanceof ProcessWindowFunction ? { kind: 'process', fn: f } : { kind: 'apply', fn: f };
}

/**
 * All elements of a stream grouped into windows (Flink's `AllWindowedStream`), from
 * `DataStream.windowAll` or `countWindowAll`. The windows are evaluated by one non-parallel
 * subtask (a window operator over a single key): the resulting operator has parallelism 1, and
 * setting another parallelism on it is an error.
 *
 * ```ts
 * stream
 *   .windowAll(TumblingEventTimeWindows.of(Time.minutes(1)))
 *   .allowedLateness(Time.seconds(10))
 *   .sideOutputLateData(lateTag)
 *   .aggregate(countEvents);
 * ```
 */
export class AllWindowedStream<T, W extends Window> {
  private readonly windowed: WindowedStream<T, number, W>;

  /** @internal */
  constructor(input: DataStream<T>, assigner: WindowAssigner<T, W>) {
    this.windowed = new WindowedStream<T, number, W>(input.keyBy(NULL_KEY_SELECTOR), assigner);
  }

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W> | Trigger<unknown, Window>): this {
    this.windowed.trigger(trigger);
    return this;
  }
  /** Removes elements from each window before and/or after its function runs; see {@link WindowedStream.evictor}. */
  evictor(evictor: Evictor<T, W> | Evictor<unknown, Window>): this {
    this.windowed.evictor(evictor);
    return this;
  }
  /**
   * Keeps windows for `lateness` after the watermark passed their end: late elements update the
   * result (a late firing) instead of being dropped. Default 0; event-time windows only.
   *
   * @throws RangeError when `lateness` is negative.
   */
  allowedLateness(lateness: Duration): this {
    this.windowed.allowedLateness(lateness);
    return this;
  }
  /** Sends elements that arrive after the allowed lateness to side output `tag` instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.windowed.sideOutputLateData(tag);
    return this;
  }

  /** Incrementally reduces each window; optionally passes the result through a window function. */
  reduce<R = T>(
    fn: ReduceFunction<T>,
    windowFunction?: ProcessAllWindowFunction<T, R, W> | AllWindowFunction<T, R, W>,
  ): SingleOutputStreamOperator<R> {
    return this.windowed.reduce<R>(fn, keyedWindowFunction(windowFunction)).forceNonParallel();
  }
  /** Incrementally aggregates each window; optionally passes the result through a window function. */
  aggregate<ACC, V, R = V>(
    fn: AggregateFunction<T, ACC, V>,
    windowFunction?: ProcessAllWindowFunction<V, R, W> | AllWindowFunction<V, R, W>,
  ): SingleOutputStreamOperator<R> {
    return this.windowed
      .aggregate<ACC, V, R>(fn, keyedWindowFunction(windowFunction))
      .forceNonParallel();
  }
  /** Evaluates each window over all its elements (buffered in state). */
  process<R>(fn: ProcessAllWindowFunction<T, R, W>): SingleOutputStreamOperator<R> {
    if (!(fn instanceof ProcessAllWindowFunction)) {
      throw new TypeError('process() needs a ProcessAllWindowFunction; use apply() for a function');
    }
    return this.windowed.process<R>(new ProcessAllWindowFunctionAdapter(fn)).forceNonParallel();
  }
  /** Evaluates each window over all its elements with an {@link AllWindowFunction}. */
  apply<R>(fn: AllWindowFunction<T, R, W>): SingleOutputStreamOperator<R> {
    return this.windowed.apply<R>(allWindowFunctionAdapter(fn)).forceNonParallel();
  }
}

function keyedWindowFunction<IN, OUT, W extends Window>(
  f: ProcessAllWindowFunction<IN, OUT, W> | AllWindowFunction<IN, OUT, W> | undefined,
): ProcessWindowFunction<IN, OUT, number, W> | WindowFunction<IN, OUT, number, W> | undefined {
  if (f === undefined) return undefined;
  return f instanceof ProcessAllWindowFunction
    ? new ProcessAllWindowFunctionAdapter(f)
    : allWindowFunctionAdapter(f);
}

/**
 * Refuses, when the job is built, a user function that is neither a function nor an object with
 * the method the operator calls: the runtime calls that method directly, per element.
 */
function checkUserFunction(method: 'map' | 'flatMap' | 'filter' | 'reduce', fn: unknown): void {
  if (typeof fn === 'function') return;
  if (
    fn !== null &&
    typeof fn === 'object' &&
    typeof (fn as Record<string, unknown>)[method] === 'function'
  )
    return;
  const rich = `Rich${method[0]!.toUpperCase()}${method.slice(1)}Function`;
  throw new TypeError(
    `${method}() needs a function or an object with a ${method} method (e.g. a ${rich}); got ${describe(fn)}`,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name} without it` : 'an object without it';
}

/** Stores every element as its key's value of a queryable ValueState (asQueryableState). */
class QueryableValueStateUpdater<K, T> extends KeyedProcessFunctionBase<K, T, never> {
  private state: ValueState<T> | undefined;
  constructor(private readonly descriptor: ValueStateDescriptor<T>) {
    super();
  }
  override open(): void {
    this.state = this.getRuntimeContext().getState(this.descriptor);
  }
  processElement(value: T): void {
    this.state!.update(value);
  }
}

/**
 * The terminal operator of {@link KeyedStream.asQueryableState} (Flink's `QueryableStateStream`):
 * names the queryable state; can be named and given a uid and parallelism.
 */
export class QueryableStateStream<K, V> {
  /** @internal type-level only (never set): the key and value types of the queryable state. */
  declare readonly __types?: readonly [K, V];
  /** @internal */
  constructor(
    private readonly operator: SingleOutputStreamOperator<never>,
    private readonly queryableStateName: string,
  ) {}
  /** The name the state is queryable under. */
  getQueryableStateName(): string {
    return this.queryableStateName;
  }
  /** Sets the operator's display name. */
  name(name: string): this {
    this.operator.name(name);
    return this;
  }
  /** Sets the operator's stable id: state in savepoints is matched to operators by uid. */
  uid(uid: string): this {
    this.operator.uid(uid);
    return this;
  }
  /** Sets the operator's parallelism. */
  setParallelism(parallelism: number): this {
    this.operator.setParallelism(parallelism);
    return this;
  }
}

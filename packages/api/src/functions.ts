import type { ExecutionConfig } from './environment.js';
import type { OutputTag } from './output-tag.js';
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  BroadcastState,
  Key,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReadOnlyBroadcastState,
  ReducingState,
  ReducingStateDescriptor,
  State,
  StateDescriptor,
  ValueState,
  ValueStateDescriptor,
} from './state.js';
import type { Window } from './windowing.js';

/** Receives the elements a function emits. */
export interface Collector<T> {
  /** Emits `value` downstream. */
  collect(value: T): void;
}

/** One-to-one transformation. */
export type MapFunction<T, R> = (value: T) => R;
/**
 * One-to-many transformation: emit through `out`, or return an iterable of the results
 * (the PyFlink style).
 */
export type FlatMapFunction<T, R> = (value: T, out: Collector<R>) => Iterable<R> | void;
/** Keeps the elements for which it returns true. */
export type FilterFunction<T> = (value: T) => boolean;
/** Extracts the key of an element: a string, number, bigint, boolean or an array of them. */
export type KeySelector<T, K extends Key> = (value: T) => K;
/** Combines two values into one of the same type; must be associative. */
export type ReduceFunction<T> = (a: T, b: T) => T;
/**
 * Chooses the partition of a key for `DataStream.partitionCustom` (Flink's `Partitioner.partition`):
 * returns an integer in `[0, numPartitions)`, the index of the next operator's subtask that gets
 * the element. Another result fails the task, naming the operator and the result.
 */
export type Partitioner<K> = (key: K, numPartitions: number) => number;
/**
 * The distance between two elements, for `DeltaTrigger` and `DeltaEvictor` (Flink's
 * `DeltaFunction.getDelta`): the older element first, the newer second.
 */
export type DeltaFunction<T> = (oldDataPoint: T, newDataPoint: T) => number;

/** Incremental aggregation with an accumulator (Flink's `AggregateFunction`). */
export interface AggregateFunction<IN, ACC, OUT> {
  /** A new, empty accumulator. */
  createAccumulator(): ACC;
  /** Adds `value` to `accumulator` and returns the (possibly same) accumulator. */
  add(value: IN, accumulator: ACC): ACC;
  /** The result of an accumulator. */
  getResult(accumulator: ACC): OUT;
  /** Merges two accumulators (session windows merge theirs). */
  merge(a: ACC, b: ACC): ACC;
}

/** What a function can learn about and use from the subtask that runs it. */
export interface RuntimeContext {
  /** The name of the task that runs the function: its chained operators' names, `Map -> Filter`. */
  getTaskName(): string;
  /** Index of this parallel subtask, from 0. */
  getIndexOfThisSubtask(): number;
  /** The operator's parallelism. */
  getNumberOfParallelSubtasks(): number;
  /** The job's max parallelism (number of key groups). */
  getMaxNumberOfParallelSubtasks(): number;
  /** 0 on the first run, incremented on each restart. */
  getAttemptNumber(): number;
  /**
   * The task's name with the subtask and attempt, as Flink writes it: `Map -> Filter (2/4)#0` is
   * subtask index 1 of 4 on attempt 0.
   */
  getTaskNameWithSubtasks(): string;
  /**
   * The job's parameters (Flink 1.19's `getGlobalJobParameters()`): what the job registered with
   * `env.getConfig().setGlobalJobParameters(...)` or `-D pipeline.global-job-parameters=k:v,...`;
   * empty when none.
   */
  getGlobalJobParameters(): Readonly<Record<string, string>>;
  /**
   * The job's execution config as the task sees it; `getExecutionConfig().getGlobalJobParameters()`
   * gives the parameters as a `ParameterTool` (deprecated in Flink 1.19 in favour of
   * {@link getGlobalJobParameters}; setting anything on it has no effect on the running job).
   */
  getExecutionConfig(): ExecutionConfig;
  /** Keyed value state (only on a keyed stream). */
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  /** Keyed list state (only on a keyed stream). */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** Keyed map state (only on a keyed stream). */
  getMapState<UK, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>;
  /** Keyed reducing state (only on a keyed stream). */
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  /** Keyed aggregating state (only on a keyed stream). */
  getAggregatingState<IN, ACC, OUT>(
    descriptor: AggregatingStateDescriptor<IN, ACC, OUT>,
  ): AggregatingState<IN, OUT>;
}

/** A function with a lifecycle: `open` before the first element, `close` at the end. */
export abstract class RichFunction {
  private runtimeContext: RuntimeContext | undefined;

  /** Called once before the first element; obtain state handles here. */
  open(_ctx: RuntimeContext): void {}
  /** Called once after the last element or when the task is cancelled. */
  close(): void {}

  /** The runtime context (available from `open` on). */
  getRuntimeContext(): RuntimeContext {
    if (!this.runtimeContext) {
      throw new Error(`${this.constructor.name}: the runtime context is available from open() on`);
    }
    return this.runtimeContext;
  }

  /** @internal called by the runtime before `open`. */
  setRuntimeContext(ctx: RuntimeContext): void {
    this.runtimeContext = ctx;
  }
}

/** Registers and deletes timers and tells the current time. */
export interface TimerService {
  /** The current processing time (ms since the epoch). */
  currentProcessingTime(): number;
  /** The current event-time watermark of this operator. */
  currentWatermark(): number;
  /** Fires `onTimer` when processing time reaches `time`. Same key and time register once. */
  registerProcessingTimeTimer(time: number): void;
  /** Fires `onTimer` when the watermark reaches `time`. Same key and time register once. */
  registerEventTimeTimer(time: number): void;
  /** Deletes a processing-time timer of the current key. */
  deleteProcessingTimeTimer(time: number): void;
  /** Deletes an event-time timer of the current key. */
  deleteEventTimeTimer(time: number): void;
}

/** The time domain of a firing timer. */
export enum TimeDomain {
  EVENT_TIME = 'EVENT_TIME',
  PROCESSING_TIME = 'PROCESSING_TIME',
}

/** Context of {@link ProcessFunction.processElement}. */
export interface ProcessContext {
  /** The element's timestamp, or `undefined` when it has none. */
  timestamp(): number | undefined;
  /** Timers and time. Timers can only be registered on a keyed stream. */
  timerService(): TimerService;
  /** Emits `value` to the side output `tag`. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Context of {@link ProcessFunction.onTimer}. */
export interface OnTimerContext extends ProcessContext {
  /** Which kind of timer fired. */
  timeDomain(): TimeDomain;
}

/** Context of {@link KeyedProcessFunction.processElement}. */
export interface KeyedProcessContext<K> extends ProcessContext {
  /** The key of the element being processed. */
  getCurrentKey(): K;
}

/** Context of {@link KeyedProcessFunction.onTimer}. */
export interface KeyedOnTimerContext<K> extends OnTimerContext {
  /** The key of the firing timer. */
  getCurrentKey(): K;
}

/** Processes each element with access to time and side outputs (Flink's `ProcessFunction`). */
export abstract class ProcessFunction<I, O> extends RichFunction {
  /**
   * Type-level only (never set): a private member makes a KeyedProcessFunction, whose methods
   * alone would match structurally (method parameters compare bivariantly), no ProcessFunction.
   */
  declare private readonly processFunctionBrand: undefined;
  /** Called for each element. */
  abstract processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
  /** Called when a timer fires (timers need a keyed stream). */
  onTimer(_timestamp: number, _ctx: OnTimerContext, _out: Collector<O>): void {}
}

/** Processes each element of a keyed stream with keyed state and timers. */
export abstract class KeyedProcessFunction<K, I, O> extends RichFunction {
  /**
   * Type-level only (never set): makes the key type part of the function's type, so a function
   * for other keys does not fit a stream. A parameter position: a function for `string | number`
   * keys fits a stream keyed by strings.
   */
  declare private readonly keyType: (key: K) => void;
  /** Called for each element, with the element's key current. */
  abstract processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  /** Called when a timer registered for a key fires, with that key current. */
  onTimer(_timestamp: number, _ctx: KeyedOnTimerContext<K>, _out: Collector<O>): void {}
}

/** Per-window and global keyed state for a {@link ProcessWindowFunction}. */
export interface KeyedStateStore {
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getMapState<UK, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>;
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(
    descriptor: AggregatingStateDescriptor<IN, ACC, OUT>,
  ): AggregatingState<IN, OUT>;
}

/** Context of a {@link ProcessWindowFunction}. */
export interface ProcessWindowContext<W extends Window> {
  /** The window being evaluated. */
  window(): W;
  /** The current processing time. */
  currentProcessingTime(): number;
  /** The current event-time watermark. */
  currentWatermark(): number;
  /** State scoped to this key and window; cleared with the window. */
  windowState(): KeyedStateStore;
  /** State scoped to this key across windows. */
  globalState(): KeyedStateStore;
  /** Emits to a side output. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Evaluates a whole window's contents (or its pre-aggregated result) with its context. */
export abstract class ProcessWindowFunction<IN, OUT, K, W extends Window> extends RichFunction {
  /** Called when the window fires. */
  abstract process(
    key: K,
    context: ProcessWindowContext<W>,
    elements: Iterable<IN>,
    out: Collector<OUT>,
  ): void;
  /** Called when the window is purged; clear per-window state here. */
  clear(_context: ProcessWindowContext<W>): void {}
}

/** Legacy window function (Flink's `WindowFunction.apply`). */
export type WindowFunction<IN, OUT, K, W extends Window> = (
  key: K,
  window: W,
  elements: Iterable<IN>,
  out: Collector<OUT>,
) => void;

/**
 * Maps the elements of two connected streams to one output type (Flink's `CoMapFunction`): `map1`
 * for the first stream's elements, `map2` for the second's. May also have `open`/`close` (a
 * {@link RichFunction} subclass or an object with those methods).
 */
export interface CoMapFunction<IN1, IN2, OUT> {
  /** Called once before the first element, with the runtime context. */
  open?(ctx: RuntimeContext): void;
  /** Called once after the last element or when the task is cancelled. */
  close?(): void;
  /** Maps an element of the first stream. */
  map1(value: IN1): OUT;
  /** Maps an element of the second stream. */
  map2(value: IN2): OUT;
}

/**
 * One-to-many transformation of two connected streams (Flink's `CoFlatMapFunction`): emit
 * through `out`, or return an iterable of the results.
 */
export interface CoFlatMapFunction<IN1, IN2, OUT> {
  /** Called once before the first element, with the runtime context. */
  open?(ctx: RuntimeContext): void;
  /** Called once after the last element or when the task is cancelled. */
  close?(): void;
  /** Called for each element of the first stream. */
  flatMap1(value: IN1, out: Collector<OUT>): Iterable<OUT> | void;
  /** Called for each element of the second stream. */
  flatMap2(value: IN2, out: Collector<OUT>): Iterable<OUT> | void;
}

/**
 * Processes the elements of two connected streams with access to time and side outputs (Flink's
 * `CoProcessFunction`). On keyed connected streams it may also use keyed state and timers.
 */
export abstract class CoProcessFunction<IN1, IN2, OUT> extends RichFunction {
  /** Type-level only (never set): a KeyedCoProcessFunction is no CoProcessFunction (see ProcessFunction). */
  declare private readonly coProcessFunctionBrand: undefined;
  /** Called for each element of the first stream. */
  abstract processElement1(value: IN1, ctx: ProcessContext, out: Collector<OUT>): void;
  /** Called for each element of the second stream. */
  abstract processElement2(value: IN2, ctx: ProcessContext, out: Collector<OUT>): void;
  /** Called when a timer fires (timers need keyed connected streams). */
  onTimer(_timestamp: number, _ctx: OnTimerContext, _out: Collector<OUT>): void {}
}

/**
 * Processes the elements of two connected streams keyed the same way, with keyed state and timers
 * shared by both inputs (Flink's `KeyedCoProcessFunction`): the state of key `k` is the same
 * whether an element of `k` came from the first or the second stream.
 */
export abstract class KeyedCoProcessFunction<K, IN1, IN2, OUT> extends RichFunction {
  /** Type-level only (never set): the key type is part of the function's type (see KeyedProcessFunction). */
  declare private readonly keyType: (key: K) => void;
  /** Called for each element of the first stream, with its key current. */
  abstract processElement1(value: IN1, ctx: KeyedProcessContext<K>, out: Collector<OUT>): void;
  /** Called for each element of the second stream, with its key current. */
  abstract processElement2(value: IN2, ctx: KeyedProcessContext<K>, out: Collector<OUT>): void;
  /** Called when a timer registered for a key fires, with that key current. */
  onTimer(_timestamp: number, _ctx: KeyedOnTimerContext<K>, _out: Collector<OUT>): void {}
}

/**
 * What both sides of a broadcast process function can ask (Flink's
 * `BaseBroadcastProcessFunction.BaseContext`): the element's timestamp, the time, side outputs.
 */
export interface BaseBroadcastContext {
  /** The timestamp of the element being processed (or of the firing timer); `undefined` when it has none. */
  timestamp(): number | undefined;
  /** Emits `value` to the side output `tag`, with the element's timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
  /** The current processing time (ms since the epoch). */
  currentProcessingTime(): number;
  /** The operator's current event-time watermark: the minimum of both inputs' watermarks. */
  currentWatermark(): number;
}

/**
 * Context of `processBroadcastElement` (Flink's `BaseBroadcastProcessFunction.Context`): read-write
 * access to the broadcast state. Only valid during the call.
 */
export interface BroadcastContext extends BaseBroadcastContext {
  /**
   * The broadcast state of `descriptor`, read-write. The descriptor must be one given to
   * `broadcast(...)` (matched by name); any other is an error.
   */
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

/**
 * Context of `processElement` (Flink's `BaseBroadcastProcessFunction.ReadOnlyContext`): read-only
 * access to the broadcast state. Only valid during the call.
 */
export interface BroadcastReadOnlyContext extends BaseBroadcastContext {
  /**
   * The broadcast state of `descriptor`, read only: only the broadcast side may change it, so
   * that every parallel instance holds the same entries. Changing it here throws.
   */
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/**
 * A function applied to the state of one key by `applyToKeyedState` (Flink's
 * `KeyedStateFunction`): `state` is scoped to `key` during the call.
 */
export type KeyedStateFunction<K, S extends State> = (key: K, state: S) => void;

/**
 * Context of `KeyedBroadcastProcessFunction.processBroadcastElement` (Flink's
 * `KeyedBroadcastProcessFunction.Context`): read-write broadcast state, and a function applied
 * to the keyed state of every key. A broadcast element has no key: keyed state and timers are
 * reached only through {@link KeyedBroadcastContext.applyToKeyedState}.
 */
export interface KeyedBroadcastContext<K> extends BroadcastContext {
  /**
   * Applies `fn` to the state of `descriptor` of every key this parallel instance holds an entry
   * of (Flink's `applyToKeyedState`, over the default namespace), with that key current. It is
   * applied before the instance processes any further element, timer or checkpoint; on the
   * `level` backend, whose keys are read from disk asynchronously, that may be after
   * `processBroadcastElement` returned (docs/datastream/broadcast-state.md).
   */
  applyToKeyedState<S extends State>(
    descriptor: StateDescriptor<S>,
    fn: KeyedStateFunction<K, S>,
  ): void;
}

/**
 * Context of `KeyedBroadcastProcessFunction.processElement` (Flink's
 * `KeyedBroadcastProcessFunction.ReadOnlyContext`): read-only broadcast state, the element's
 * key, and timers.
 */
export interface KeyedBroadcastReadOnlyContext<K> extends BroadcastReadOnlyContext {
  /** Registers timers for the current key and tells the time. */
  timerService(): TimerService;
  /** The key of the element being processed. */
  getCurrentKey(): K;
}

/** Context of `KeyedBroadcastProcessFunction.onTimer` (Flink's `OnTimerContext`). */
export interface KeyedBroadcastOnTimerContext<K> extends KeyedBroadcastReadOnlyContext<K> {
  /** Which kind of timer fired. */
  timeDomain(): TimeDomain;
}

/**
 * Processes a non-keyed stream connected with a broadcast stream (Flink's
 * `BroadcastProcessFunction`): `processBroadcastElement` sees every element of the broadcast
 * stream on every parallel instance and may change the broadcast state; `processElement` sees
 * this instance's share of the other stream and reads the broadcast state.
 *
 * `processBroadcastElement` must change the broadcast state the same way on every instance
 * (deterministically, from the element and the state alone), or the instances drift apart.
 */
export abstract class BroadcastProcessFunction<IN1, IN2, OUT> extends RichFunction {
  /** Called for each element of the non-broadcast stream; the broadcast state is read only. */
  abstract processElement(value: IN1, ctx: BroadcastReadOnlyContext, out: Collector<OUT>): void;
  /** Called on every parallel instance for each element of the broadcast stream. */
  abstract processBroadcastElement(value: IN2, ctx: BroadcastContext, out: Collector<OUT>): void;
}

/**
 * Processes a keyed stream connected with a broadcast stream (Flink's
 * `KeyedBroadcastProcessFunction`): `processElement` has keyed state, timers and read-only
 * broadcast state; `processBroadcastElement` sees every broadcast element on every parallel
 * instance, may change the broadcast state, and may apply a function to the keyed state of every
 * key (`applyToKeyedState`).
 *
 * `processBroadcastElement` must change the broadcast state the same way on every instance.
 */
export abstract class KeyedBroadcastProcessFunction<K, IN1, IN2, OUT> extends RichFunction {
  /** @internal Keeps the key type in the class's shape, so a function of another key type does not fit. */
  declare readonly __key?: (key: K) => K;
  /** Called for each element of the keyed stream, with its key current. */
  abstract processElement(
    value: IN1,
    ctx: KeyedBroadcastReadOnlyContext<K>,
    out: Collector<OUT>,
  ): void;
  /** Called on every parallel instance for each element of the broadcast stream. */
  abstract processBroadcastElement(
    value: IN2,
    ctx: KeyedBroadcastContext<K>,
    out: Collector<OUT>,
  ): void;
  /** Called when a timer registered in `processElement` fires, with its key current. */
  onTimer(_timestamp: number, _ctx: KeyedBroadcastOnTimerContext<K>, _out: Collector<OUT>): void {}
}
/** Context of a {@link ProcessAllWindowFunction} (Flink's `ProcessAllWindowFunction.Context`). */
export interface ProcessAllWindowContext<W extends Window> {
  /** The window being evaluated. */
  window(): W;
  /** State scoped to this window; cleared with the window. Not available for merging windows. */
  windowState(): KeyedStateStore;
  /** State across all windows of the operator. */
  globalState(): KeyedStateStore;
  /** Emits `value` to the side output `tag` (with the window's max timestamp). */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/**
 * Evaluates a whole window of a non-keyed stream (`windowAll`), with its context (Flink's
 * `ProcessAllWindowFunction`). Used with `process()`, or after a `reduce`/`aggregate`, where the
 * elements are the single pre-aggregated result.
 *
 * ```ts
 * class CountPerWindow extends ProcessAllWindowFunction<Event, string, TimeWindow> {
 *   process(ctx: ProcessAllWindowContext<TimeWindow>, events: Iterable<Event>, out: Collector<string>) {
 *     out.collect(`${ctx.window().start}: ${[...events].length} events`);
 *   }
 * }
 * ```
 */
export abstract class ProcessAllWindowFunction<IN, OUT, W extends Window> extends RichFunction {
  /** Called when the window fires, with its elements (or its pre-aggregated result). */
  abstract process(
    context: ProcessAllWindowContext<W>,
    elements: Iterable<IN>,
    out: Collector<OUT>,
  ): void;
  /** Called when the window is cleaned up; clear per-window state here. */
  clear(_context: ProcessAllWindowContext<W>): void {}
}

/**
 * Evaluates a whole window of a non-keyed stream (Flink's `AllWindowFunction.apply`): used with
 * `apply()`, or after a `reduce`/`aggregate`, where the elements are the single result.
 */
export type AllWindowFunction<IN, OUT, W extends Window> = (
  window: W,
  elements: Iterable<IN>,
  out: Collector<OUT>,
) => void;

/**
 * Context of {@link ProcessJoinFunction.processElement} (Flink's `ProcessJoinFunction.Context`):
 * the timestamps of the joined pair, and side outputs.
 */
export interface ProcessJoinContext {
  /** The timestamp of the left (first) element of the pair. */
  getLeftTimestamp(): number;
  /** The timestamp of the right (second) element of the pair. */
  getRightTimestamp(): number;
  /** The timestamp of the joined result: the larger of the two elements' timestamps. */
  getTimestamp(): number;
  /** Emits `value` to the side output `tag`, with the result's timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/**
 * Processes each pair of an interval join (Flink's `ProcessJoinFunction`): called once per left
 * and right element of the same key whose timestamps lie within the join's bounds. What it emits
 * carries the pair's timestamp, the larger of the two.
 */
export abstract class ProcessJoinFunction<IN1, IN2, OUT> extends RichFunction {
  /** Called for each joined pair. */
  abstract processElement(
    left: IN1,
    right: IN2,
    ctx: ProcessJoinContext,
    out: Collector<OUT>,
  ): void;
}

/** A {@link ProcessJoinFunction} as a plain function: `(left, right, ctx, out) => void`. */
export type ProcessJoinFunctionFn<IN1, IN2, OUT> = (
  left: IN1,
  right: IN2,
  ctx: ProcessJoinContext,
  out: Collector<OUT>,
) => void;

/**
 * Joins a pair of a window join into one result (Flink's `JoinFunction`): a function
 * `(first, second) => result`, or an object with `join` (and optionally `open`/`close`, e.g. a
 * {@link RichFunction} subclass). A result of `undefined` emits nothing.
 */
export type JoinFunction<IN1, IN2, OUT> =
  | ((first: IN1, second: IN2) => OUT)
  | {
      /** Called once before the first pair, with the runtime context. */
      open?(ctx: RuntimeContext): void;
      /** Called once at the end. */
      close?(): void;
      /** Joins one pair. */
      join(first: IN1, second: IN2): OUT;
    };

/**
 * Joins a pair of a window join into zero or more results emitted through `out` (Flink's
 * `FlatJoinFunction`): a function `(first, second, out) => void`, or an object with `join`.
 */
export type FlatJoinFunction<IN1, IN2, OUT> =
  | ((first: IN1, second: IN2, out: Collector<OUT>) => void)
  | {
      /** Called once before the first pair, with the runtime context. */
      open?(ctx: RuntimeContext): void;
      /** Called once at the end. */
      close?(): void;
      /** Joins one pair, emitting through `out`. */
      join(first: IN1, second: IN2, out: Collector<OUT>): void;
    };

/**
 * Gets all elements of both inputs of one key and window (Flink's `CoGroupFunction`), also when
 * only one input has elements there: a function `(first, second, out) => void`, or an object with
 * `coGroup` (and optionally `open`/`close`).
 */
export type CoGroupFunction<IN1, IN2, OUT> =
  | ((first: Iterable<IN1>, second: Iterable<IN2>, out: Collector<OUT>) => void)
  | {
      /** Called once before the first group, with the runtime context. */
      open?(ctx: RuntimeContext): void;
      /** Called once at the end. */
      close?(): void;
      /** Called once per key and window with the elements of each input. */
      coGroup(first: Iterable<IN1>, second: Iterable<IN2>, out: Collector<OUT>): void;
    };

/**
 * A map function as an object (Flink's `MapFunction` interface): `map` is called for each
 * element; `open` and `close`, when present, once per parallel instance, before the first element
 * and at the end (or on cancellation). Extend {@link RichMapFunction} for `getRuntimeContext()`.
 */
export interface MapFunctionObject<T, R> {
  /** Called once before the first element, with the runtime context. */
  open?(ctx: RuntimeContext): void;
  /** Called once after the last element or when the task is cancelled. */
  close?(): void;
  /** Maps one element. */
  map(value: T): R;
}

/** A flat-map function as an object (Flink's `FlatMapFunction` interface), with an optional lifecycle. */
export interface FlatMapFunctionObject<T, R> {
  /** Called once before the first element, with the runtime context. */
  open?(ctx: RuntimeContext): void;
  /** Called once after the last element or when the task is cancelled. */
  close?(): void;
  /** Emits through `out` or returns an iterable of the results. */
  flatMap(value: T, out: Collector<R>): Iterable<R> | void;
}

/** A filter function as an object (Flink's `FilterFunction` interface), with an optional lifecycle. */
export interface FilterFunctionObject<T> {
  /** Called once before the first element, with the runtime context. */
  open?(ctx: RuntimeContext): void;
  /** Called once after the last element or when the task is cancelled. */
  close?(): void;
  /** Whether to keep `value`. */
  filter(value: T): boolean;
}

/** A reduce function as an object (Flink's `ReduceFunction` interface), with an optional lifecycle. */
export interface ReduceFunctionObject<T> {
  /** Called once before the first element, with the runtime context. */
  open?(ctx: RuntimeContext): void;
  /** Called once after the last element or when the task is cancelled. */
  close?(): void;
  /** Combines two values into one of the same type; must be associative. */
  reduce(a: T, b: T): T;
}

/**
 * A map function with a lifecycle and access to the runtime context (Flink's `RichMapFunction`):
 * one instance per parallel subtask, opened before its first element and closed at the end.
 *
 * ```ts
 * class Enrich extends RichMapFunction<Event, Enriched> {
 *   private seen!: ValueState<number>;
 *   override open(ctx: RuntimeContext): void {
 *     this.seen = ctx.getState(new ValueStateDescriptor<number>('seen'));
 *   }
 *   map(e: Event): Enriched { ... }
 * }
 * ```
 */
export abstract class RichMapFunction<I, O>
  extends RichFunction
  implements MapFunctionObject<I, O>
{
  /** Maps one element. */
  abstract map(value: I): O;
}

/** A flat-map function with a lifecycle and the runtime context (Flink's `RichFlatMapFunction`). */
export abstract class RichFlatMapFunction<I, O>
  extends RichFunction
  implements FlatMapFunctionObject<I, O>
{
  /** Emits through `out` or returns an iterable of the results. */
  abstract flatMap(value: I, out: Collector<O>): Iterable<O> | void;
}

/** A filter function with a lifecycle and the runtime context (Flink's `RichFilterFunction`). */
export abstract class RichFilterFunction<T>
  extends RichFunction
  implements FilterFunctionObject<T>
{
  /** Whether to keep `value`. */
  abstract filter(value: T): boolean;
}

/**
 * A reduce function with a lifecycle and the runtime context (Flink's `RichReduceFunction`), for
 * `KeyedStream.reduce` and window reduce. Flink refuses rich functions as a window's reduce
 * function; Nimble opens them, with keyed state of the key across windows.
 */
export abstract class RichReduceFunction<T>
  extends RichFunction
  implements ReduceFunctionObject<T>
{
  /** Combines two values into one of the same type; must be associative. */
  abstract reduce(a: T, b: T): T;
}

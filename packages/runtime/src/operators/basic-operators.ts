import type {
  Collector,
  FilterFunction,
  FilterFunctionObject,
  FlatMapFunction,
  FlatMapFunctionObject,
  KeyedProcessFunction,
  MapFunction,
  MapFunctionObject,
  ProcessFunction,
  ReduceFunction,
  ReduceFunctionObject,
  RollingAggregation,
  ValueState,
} from '@nimble/api';
import { TimeDomain, ValueStateDescriptor } from '@nimble/api';
import { throwIfPromise, UserCodeError, userCodeFailure } from '../errors.js';
import type {
  InternalTimer,
  InternalTimerService,
  Triggerable,
} from '../timers/internal-timer-service.js';
import { closeFunction, openFunction, userMethod } from './function-lifecycle.js';
import { StreamOperator } from './operator.js';
import { ProcessFunctionContext, TimestampedCollector } from './process-context.js';

/**
 * `map`: one output per input, same timestamp. The function is a closure or a function object
 * (a RichMapFunction) with a lifecycle, which may also be a CheckpointedFunction.
 */
export class MapOperator<I, O> extends StreamOperator<I, O> {
  /** The user's `map`, bound once in open(). */
  private map!: MapFunction<I, O>;
  constructor(private readonly fn: MapFunction<I, O> | MapFunctionObject<I, O>) {
    super();
    this.setUserFunctions(fn);
  }
  override open(): void {
    openFunction(this.fn, this.ctx);
    this.map = userMethod(this.fn, 'map');
  }
  processElement(value: I, timestamp: number | undefined): void {
    let result: O;
    try {
      result = this.map(value);
      throwIfPromise(result, 'map()');
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    this.output.collect(result, timestamp);
  }
  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
}

/** `filter`, with a closure or a function object (a RichFilterFunction). */
export class FilterOperator<T> extends StreamOperator<T, T> {
  /** The user's `filter`, bound once in open(). */
  private filter!: FilterFunction<T>;
  constructor(private readonly fn: FilterFunction<T> | FilterFunctionObject<T>) {
    super();
    this.setUserFunctions(fn);
  }
  override open(): void {
    openFunction(this.fn, this.ctx);
    this.filter = userMethod(this.fn, 'filter');
  }
  processElement(value: T, timestamp: number | undefined): void {
    let keep: boolean;
    try {
      keep = this.filter(value);
      // A Promise is truthy: without the test, an async filter would keep everything.
      if (keep !== true && keep !== false) throwIfPromise(keep, 'filter()');
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    if (keep) this.output.collect(value, timestamp);
  }
  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
}

/**
 * `flatMap`: emits through the collector or returns an iterable; a closure or a function object
 * (a RichFlatMapFunction).
 */
export class FlatMapOperator<I, O> extends StreamOperator<I, O> {
  private collector!: TimestampedCollector<O>;
  /** The user's `flatMap`, bound once in open(). */
  private flatMap!: FlatMapFunction<I, O>;
  constructor(private readonly fn: FlatMapFunction<I, O> | FlatMapFunctionObject<I, O>) {
    super();
    this.setUserFunctions(fn);
  }
  override open(): void {
    this.collector = new TimestampedCollector((v, ts) => this.output.collect(v, ts));
    openFunction(this.fn, this.ctx);
    this.flatMap = userMethod(this.fn, 'flatMap');
  }
  processElement(value: I, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    let returned: Iterable<O> | void;
    try {
      returned = this.flatMap(value, this.collector);
      if (returned != null) {
        throwIfPromise(returned, 'flatMap()');
        for (const r of returned) this.output.collect(r, timestamp);
      }
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }
  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
}

/**
 * `process` on a stream or keyed stream (Flink's ProcessOperator and KeyedProcessOperator):
 * one context object is reused for every element.
 */
export class ProcessOperator<K, I, O> extends StreamOperator<I, O> implements Triggerable {
  private timers: InternalTimerService | undefined;
  private context!: ProcessFunctionContext<K>;

  constructor(
    private readonly fn: ProcessFunction<I, O> | KeyedProcessFunction<K, I, O>,
    private readonly keyed: boolean,
  ) {
    super();
    this.setUserFunctions(fn);
  }

  override open(): void {
    if (this.keyed) this.timers = this.getInternalTimerService(this);
    this.context = ProcessFunctionContext.of<K>(
      this.ctx,
      this.output,
      () => this.timers,
      () => this.currentWatermark,
    );
    openFunction(this.fn, this.ctx);
  }

  processElement(value: I, timestamp: number | undefined): void {
    const context = this.context.forElement(timestamp);
    try {
      const returned: unknown = (this.fn as KeyedProcessFunction<K, I, O>).processElement(
        value,
        context,
        context.collector as Collector<O>,
      );
      // An async processElement would emit nothing and fail nowhere.
      if (returned !== undefined) throwIfPromise(returned, 'processElement()');
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  onEventTime(timer: InternalTimer): void {
    this.context.fireTimer(this.fn as KeyedProcessFunction<K, I, O>, timer, TimeDomain.EVENT_TIME);
  }
  onProcessingTime(timer: InternalTimer): void {
    this.context.fireTimer(
      this.fn as KeyedProcessFunction<K, I, O>,
      timer,
      TimeDomain.PROCESSING_TIME,
    );
  }

  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
}

/**
 * Rolling `reduce` of a keyed stream: emits the running value on every element. The function is
 * a closure or a function object (a RichReduceFunction).
 */
export class KeyedReduceOperator<T> extends StreamOperator<T, T> {
  private state!: ValueState<T>;
  /** The user's `reduce`, bound once in open(). */
  private reduce!: ReduceFunction<T>;
  constructor(private readonly fn: ReduceFunction<T> | ReduceFunctionObject<T>) {
    super();
    this.setUserFunctions(fn);
  }
  override open(): void {
    this.state = this.keyedBackend('reduce()').getState(
      new ValueStateDescriptor<T>('_keyed_reduce'),
    );
    openFunction(this.fn, this.ctx);
    this.reduce = userMethod(this.fn, 'reduce');
  }
  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
  processElement(value: T, timestamp: number | undefined): void {
    const current = this.state.value();
    let next: T;
    if (current === undefined) {
      next = value;
    } else {
      try {
        next = this.reduce(current, value);
        throwIfPromise(next, 'reduce()');
      } catch (e) {
        throw userCodeFailure(this.ctx.name, e);
      }
    }
    this.state.update(next);
    this.output.collect(next, timestamp);
  }
}

/**
 * Rolling `sum`/`min`/`max`/`minBy`/`maxBy` (Flink's SumAggregator and ComparableAggregator):
 * sum/min/max keep the key's first element and replace the field; minBy/maxBy keep the whole
 * element that holds the extreme, the earlier one on ties.
 */
export class KeyedAggregationOperator<T> extends StreamOperator<T, T> {
  private state!: ValueState<T>;
  constructor(private readonly aggregation: RollingAggregation) {
    super();
  }
  override open(): void {
    this.state = this.keyedBackend(`${this.aggregation.kind}()`).getState(
      new ValueStateDescriptor<T>('_keyed_aggregation'),
    );
  }
  processElement(value: T, timestamp: number | undefined): void {
    const current = this.state.value();
    const b = this.fieldOf(value);
    const next = current === undefined ? copy(value) : this.combine(current, value, b);
    this.state.update(next);
    this.output.collect(next, timestamp);
  }
  private combine(current: T, value: T, b: number | string | bigint): T {
    const field = this.aggregation.field;
    const a = this.fieldOf(current);
    if (typeof a !== typeof b) {
      throw new UserCodeError(
        this.ctx.name,
        `${this.aggregation.kind}(${JSON.stringify(field)}): the field holds a ${typeof b} in this element and a ${typeof a} before; all elements need the same type`,
        undefined,
      );
    }
    switch (this.aggregation.kind) {
      case 'sum':
        return withField(current, field, (a as number) + (b as number));
      case 'min':
        return b < a ? withField(current, field, b) : current;
      case 'max':
        return b > a ? withField(current, field, b) : current;
      case 'minBy':
        return b < a ? copy(value) : current;
      case 'maxBy':
        return b > a ? copy(value) : current;
    }
  }

  /**
   * The aggregated field of `value`: a number or bigint, or for min/max/minBy/maxBy also a string
   * (Flink's SumAggregator needs a number, its ComparableAggregator any Comparable).
   */
  private fieldOf(value: unknown): number | string | bigint {
    const { kind, field } = this.aggregation;
    const v = (value as Record<string | number, unknown>)?.[field];
    const comparable = kind !== 'sum';
    if (typeof v === 'number' || typeof v === 'bigint' || (comparable && typeof v === 'string'))
      return v;
    throw new UserCodeError(
      this.ctx.name,
      `${kind}(${JSON.stringify(field)}): the field is ${v === undefined ? 'missing' : `a ${typeof v}`}; ` +
        `${kind} needs a number or bigint${comparable ? ' or string' : ''} field`,
      undefined,
    );
  }
}

function copy<T>(value: T): T {
  if (Array.isArray(value)) return [...value] as T;
  if (value !== null && typeof value === 'object') return { ...value };
  return value;
}

function withField<T>(value: T, field: string | number, v: unknown): T {
  const c = copy(value) as Record<string | number, unknown>;
  c[field] = v;
  return c as T;
}

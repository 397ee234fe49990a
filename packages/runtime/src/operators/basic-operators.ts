import type {
  Collector,
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  MapFunction,
  ProcessFunction,
  ReduceFunction,
  RollingAggregation,
  ValueState,
} from '@nimble/api';
import { TimeDomain, ValueStateDescriptor } from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import type {
  InternalTimer,
  InternalTimerService,
  Triggerable,
} from '../timers/internal-timer-service.js';
import { closeFunction, openFunction } from './function-lifecycle.js';
import { StreamOperator } from './operator.js';
import { ProcessFunctionContext, TimestampedCollector } from './process-context.js';

/** `map`: one output per input, same timestamp. */
export class MapOperator<I, O> extends StreamOperator<I, O> {
  constructor(private readonly fn: MapFunction<I, O>) {
    super();
  }
  processElement(value: I, timestamp: number | undefined): void {
    let result: O;
    try {
      result = this.fn(value);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    this.output.collect(result, timestamp);
  }
}

/** `filter`. */
export class FilterOperator<T> extends StreamOperator<T, T> {
  constructor(private readonly fn: FilterFunction<T>) {
    super();
  }
  processElement(value: T, timestamp: number | undefined): void {
    let keep: boolean;
    try {
      keep = this.fn(value);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    if (keep) this.output.collect(value, timestamp);
  }
}

/** `flatMap`: emits through the collector or returns an iterable. */
export class FlatMapOperator<I, O> extends StreamOperator<I, O> {
  private collector!: TimestampedCollector<O>;
  constructor(private readonly fn: FlatMapFunction<I, O>) {
    super();
  }
  override open(): void {
    this.collector = new TimestampedCollector((v, ts) => this.output.collect(v, ts));
  }
  processElement(value: I, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    let returned: Iterable<O> | void;
    try {
      returned = this.fn(value, this.collector);
      if (returned != null) {
        for (const r of returned) this.output.collect(r, timestamp);
      }
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
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
  }

  override open(): void {
    if (this.keyed) this.timers = this.getInternalTimerService(this);
    this.context = new ProcessFunctionContext<K>(
      this.ctx.name,
      this.output,
      this.ctx.keyedStateBackend,
      () => this.timers,
      () => this.ctx.processingTimeService.now(),
      () => this.currentWatermark,
    );
    openFunction(this.fn, this.ctx);
  }

  processElement(value: I, timestamp: number | undefined): void {
    const context = this.context.forElement(timestamp);
    try {
      (this.fn as KeyedProcessFunction<K, I, O>).processElement(
        value,
        context,
        context.collector as Collector<O>,
      );
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  onEventTime(timer: InternalTimer): void {
    this.fire(timer, TimeDomain.EVENT_TIME);
  }
  onProcessingTime(timer: InternalTimer): void {
    this.fire(timer, TimeDomain.PROCESSING_TIME);
  }

  private fire(timer: InternalTimer, domain: TimeDomain): void {
    const context = this.context.forTimer(timer, domain);
    try {
      (this.fn as KeyedProcessFunction<K, I, O>).onTimer(
        timer.timestamp,
        context,
        context.collector as Collector<O>,
      );
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: onTimer`, e);
    }
  }

  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
}

/** Rolling `reduce` of a keyed stream: emits the running value on every element. */
export class KeyedReduceOperator<T> extends StreamOperator<T, T> {
  private state!: ValueState<T>;
  constructor(private readonly fn: ReduceFunction<T>) {
    super();
  }
  override open(): void {
    this.state = this.keyedBackend('reduce()').getState(
      new ValueStateDescriptor<T>('_keyed_reduce'),
    );
  }
  processElement(value: T, timestamp: number | undefined): void {
    const current = this.state.value();
    let next: T;
    if (current === undefined) {
      next = value;
    } else {
      try {
        next = this.fn(current, value);
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
    const next = current === undefined ? copy(value) : this.combine(current, value);
    this.state.update(next);
    this.output.collect(next, timestamp);
  }
  private combine(current: T, value: T): T {
    const field = this.aggregation.field;
    const a = fieldOf(current, field, this.ctx.name);
    const b = fieldOf(value, field, this.ctx.name);
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
}

function fieldOf(value: unknown, field: string | number, where: string): number | string | bigint {
  const v = (value as Record<string | number, unknown>)?.[field];
  if (typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'string') {
    throw new TypeError(
      `${where}: field ${JSON.stringify(field)} is ${v === undefined ? 'missing' : typeof v}; aggregations need a number`,
    );
  }
  return v;
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

import type {
  Collector,
  FilterFunction,
  FlatMapFunction,
  KeyedOnTimerContext,
  KeyedProcessFunction,
  MapFunction,
  OutputTag,
  ProcessFunction,
  ReduceFunction,
  RollingAggregation,
  TimerService,
  ValueState,
} from '@nimble/api';
import { TimeDomain, ValueStateDescriptor } from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import type {
  InternalTimer,
  InternalTimerService,
  Triggerable,
} from '../timers/internal-timer-service.js';
import { createRuntimeContext, StreamOperator } from './operator.js';

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

/** A collector that stamps the timestamp of the record being processed. */
class TimestampedCollector<T> implements Collector<T> {
  timestamp: number | undefined;
  constructor(private readonly emit: (value: T, timestamp: number | undefined) => void) {}
  collect(value: T): void {
    this.emit(value, this.timestamp);
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

/** The timer service a process function sees: scoped to the default namespace. */
class ProcessTimerService implements TimerService {
  constructor(
    private readonly owner: string,
    private readonly timers: () => InternalTimerService | undefined,
    private readonly now: () => number,
    private readonly watermark: () => number,
  ) {}
  currentProcessingTime(): number {
    return this.now();
  }
  currentWatermark(): number {
    return this.watermark();
  }
  registerProcessingTimeTimer(time: number): void {
    this.require().registerProcessingTimeTimer('', time);
  }
  registerEventTimeTimer(time: number): void {
    this.require().registerEventTimeTimer('', time);
  }
  deleteProcessingTimeTimer(time: number): void {
    this.require().deleteProcessingTimeTimer('', time);
  }
  deleteEventTimeTimer(time: number): void {
    this.require().deleteEventTimeTimer('', time);
  }
  private require(): InternalTimerService {
    const t = this.timers();
    if (t === undefined) {
      throw new Error(
        `${this.owner}: setting timers is only supported on a keyed stream; call keyBy() first`,
      );
    }
    return t;
  }
}

/**
 * `process` on a stream or keyed stream (Flink's ProcessOperator and KeyedProcessOperator):
 * one context object is reused for every element.
 */
export class ProcessOperator<K, I, O> extends StreamOperator<I, O> implements Triggerable {
  private timers: InternalTimerService | undefined;
  private readonly collector = new TimestampedCollector<O>((v, ts) => this.output.collect(v, ts));
  private elementTimestamp: number | undefined;
  private timeDomain = TimeDomain.EVENT_TIME;
  private context!: KeyedOnTimerContext<K>;

  constructor(
    private readonly fn: ProcessFunction<I, O> | KeyedProcessFunction<K, I, O>,
    private readonly keyed: boolean,
  ) {
    super();
  }

  override open(): void {
    if (this.keyed) this.timers = this.getInternalTimerService(this);
    const timerService = new ProcessTimerService(
      this.ctx.name,
      () => this.timers,
      () => this.ctx.processingTimeService.now(),
      () => this.currentWatermark,
    );
    const backend = this.ctx.keyedStateBackend;
    const name = this.ctx.name;
    this.context = {
      timestamp: () => this.elementTimestamp,
      timerService: () => timerService,
      output: <X>(tag: OutputTag<X>, value: X) =>
        this.output.collectSide(tag.id, value, this.elementTimestamp),
      getCurrentKey: () => {
        if (backend === undefined) throw new Error(`${name}: getCurrentKey() needs a keyed stream`);
        return backend.getCurrentKey() as K;
      },
      timeDomain: () => this.timeDomain,
    };
    const fn = this.fn;
    fn.setRuntimeContext(createRuntimeContext(this.ctx, this.ctx.name));
    try {
      fn.open(fn.getRuntimeContext());
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: open()`, e);
    }
  }

  processElement(value: I, timestamp: number | undefined): void {
    this.elementTimestamp = timestamp;
    this.collector.timestamp = timestamp;
    try {
      (this.fn as KeyedProcessFunction<K, I, O>).processElement(
        value,
        this.context,
        this.collector,
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
    // Flink: records emitted from onTimer carry the timer's timestamp (event time) or none.
    const ts = domain === TimeDomain.EVENT_TIME ? timer.timestamp : undefined;
    this.elementTimestamp = ts;
    this.collector.timestamp = ts;
    this.timeDomain = domain;
    try {
      (this.fn as KeyedProcessFunction<K, I, O>).onTimer(
        timer.timestamp,
        this.context,
        this.collector,
      );
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: onTimer`, e);
    }
  }

  override close(): void {
    this.disposeTimers();
    try {
      this.fn.close();
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: close()`, e);
    }
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

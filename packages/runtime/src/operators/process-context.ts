import type { Collector, Key, KeyedOnTimerContext, OutputTag, TimerService } from '@nimble/api';
import { TimeDomain } from '@nimble/api';
import { PromiseReturnedError, throwIfPromise, userCodeFailure } from '../errors.js';
import type { KeyedStateBackend } from '../state/index.js';
import type { InternalTimer, InternalTimerService } from '../timers/internal-timer-service.js';
import type { OperatorContext, Output } from './operator.js';

/** A function with Flink's `onTimer` (process, co-process and their keyed variants). */
interface OnTimerFunction<K> {
  onTimer(timestamp: number, ctx: KeyedOnTimerContext<K>, out: Collector<any>): unknown;
}

/** A collector that stamps the timestamp of the record (or timer) being processed. */
export class TimestampedCollector<T> implements Collector<T> {
  timestamp: number | undefined;
  constructor(private readonly emit: (value: T, timestamp: number | undefined) => void) {}
  collect(value: T): void {
    this.emit(value, this.timestamp);
  }
}

/** The timer service a process function sees: scoped to the default namespace. */
export class ProcessTimerService implements TimerService {
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
 * The context of a process function's calls (Flink's `ProcessFunction.Context` and its keyed,
 * co- and on-timer variants in one): one instance per operator, re-pointed at each element or
 * timer, so nothing is allocated per record.
 */
export class ProcessFunctionContext<K> implements KeyedOnTimerContext<K> {
  /** The timestamp of the element or timer being processed. */
  elementTimestamp: number | undefined;
  domain = TimeDomain.EVENT_TIME;
  readonly collector: TimestampedCollector<unknown>;
  private readonly timers: ProcessTimerService;

  constructor(
    private readonly name: string,
    private readonly out: Output<unknown>,
    private readonly backend: KeyedStateBackend | undefined,
    timerService: () => InternalTimerService | undefined,
    now: () => number,
    watermark: () => number,
  ) {
    this.collector = new TimestampedCollector((v, ts) => out.collect(v, ts));
    this.timers = new ProcessTimerService(name, timerService, now, watermark);
  }

  /** The context of a process operator's function, over the operator's context and output. */
  static of<K>(
    ctx: OperatorContext,
    output: Output<unknown>,
    timers: () => InternalTimerService | undefined,
    watermark: () => number,
  ): ProcessFunctionContext<K> {
    return new ProcessFunctionContext<K>(
      ctx.name,
      output,
      ctx.keyedStateBackend,
      timers,
      () => ctx.processingTimeService.now(),
      watermark,
    );
  }

  /**
   * Calls `fn.onTimer` for a firing timer with the context pointed at it, as Flink's process
   * operators do; a returned Promise or an exception fails the task naming the operator.
   */
  fireTimer(fn: OnTimerFunction<K>, timer: InternalTimer, domain: TimeDomain): void {
    this.forTimer(timer, domain);
    try {
      const returned: unknown = fn.onTimer(timer.timestamp, this, this.collector);
      if (returned !== undefined) throwIfPromise(returned, 'onTimer()');
    } catch (e) {
      throw userCodeFailure(
        e instanceof PromiseReturnedError ? this.name : `${this.name}: onTimer`,
        e,
      );
    }
  }

  /** Points the context at an element with `timestamp`. */
  forElement(timestamp: number | undefined): this {
    this.elementTimestamp = timestamp;
    this.collector.timestamp = timestamp;
    return this;
  }

  /**
   * Points the context at a firing timer. As in Flink, `timestamp()` and side outputs carry the
   * timer's time in both domains; the main output carries it for event time only (processing-time
   * output has no timestamp).
   */
  forTimer(timer: InternalTimer, domain: TimeDomain): this {
    this.elementTimestamp = timer.timestamp;
    this.collector.timestamp = domain === TimeDomain.EVENT_TIME ? timer.timestamp : undefined;
    this.domain = domain;
    return this;
  }

  timestamp(): number | undefined {
    return this.elementTimestamp;
  }
  timerService(): TimerService {
    return this.timers;
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.out.collectSide(tag.id, value, this.elementTimestamp);
  }
  getCurrentKey(): K {
    if (this.backend === undefined)
      throw new Error(`${this.name}: getCurrentKey() needs a keyed stream`);
    return this.backend.getCurrentKey() as Key as K;
  }
  timeDomain(): TimeDomain {
    return this.domain;
  }
}

import type {
  CoFlatMapFunction,
  CoMapFunction,
  CoProcessFunction,
  Collector,
  KeyedCoProcessFunction,
} from '@nimble/api';
import { TimeDomain } from '@nimble/api';
import { throwIfPromise, userCodeFailure } from '../errors.js';
import type {
  InternalTimer,
  InternalTimerService,
  Triggerable,
} from '../timers/internal-timer-service.js';
import { closeFunction, openFunction } from './function-lifecycle.js';
import { TwoInputStreamOperator } from './operator.js';
import { ProcessFunctionContext, TimestampedCollector } from './process-context.js';

/** `connect(...).map(CoMapFunction)` (Flink's `CoStreamMap`): one output per input element. */
export class CoMapOperator<I1, I2, O> extends TwoInputStreamOperator<I1, I2, O> {
  constructor(private readonly fn: CoMapFunction<I1, I2, O>) {
    super();
    this.setUserFunctions(fn);
  }
  override open(): void {
    openFunction(this.fn, this.ctx);
  }
  processElement1(value: I1, timestamp: number | undefined): void {
    let result: O;
    try {
      result = this.fn.map1(value);
      throwIfPromise(result, 'map1()');
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    this.output.collect(result, timestamp);
  }
  processElement2(value: I2, timestamp: number | undefined): void {
    let result: O;
    try {
      result = this.fn.map2(value);
      throwIfPromise(result, 'map2()');
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

/** `connect(...).flatMap(CoFlatMapFunction)` (Flink's `CoStreamFlatMap`). */
export class CoFlatMapOperator<I1, I2, O> extends TwoInputStreamOperator<I1, I2, O> {
  private readonly collector = new TimestampedCollector<O>((v, ts) => this.output.collect(v, ts));
  constructor(private readonly fn: CoFlatMapFunction<I1, I2, O>) {
    super();
    this.setUserFunctions(fn);
  }
  override open(): void {
    openFunction(this.fn, this.ctx);
  }
  processElement1(value: I1, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    try {
      const returned = this.fn.flatMap1(value, this.collector);
      if (returned != null) {
        throwIfPromise(returned, 'flatMap1()');
        for (const r of returned) this.output.collect(r, timestamp);
      }
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }
  processElement2(value: I2, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    try {
      const returned = this.fn.flatMap2(value, this.collector);
      if (returned != null) {
        throwIfPromise(returned, 'flatMap2()');
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
 * `connect(...).process(...)` (Flink's `CoProcessOperator`, `LegacyKeyedCoProcessOperator` and
 * `KeyedCoProcessOperator`): on keyed connected streams, elements of both inputs share the keyed
 * state and timers of their key.
 */
export class CoProcessOperator<K, I1, I2, O>
  extends TwoInputStreamOperator<I1, I2, O>
  implements Triggerable
{
  private timers: InternalTimerService | undefined;
  private context!: ProcessFunctionContext<K>;
  private readonly fn: KeyedCoProcessFunction<K, I1, I2, O>;

  constructor(
    fn: CoProcessFunction<I1, I2, O> | KeyedCoProcessFunction<K, I1, I2, O>,
    private readonly keyed: boolean,
  ) {
    super();
    this.fn = fn as KeyedCoProcessFunction<K, I1, I2, O>;
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

  processElement1(value: I1, timestamp: number | undefined): void {
    const context = this.context.forElement(timestamp);
    try {
      const returned: unknown = this.fn.processElement1(
        value,
        context,
        context.collector as Collector<O>,
      );
      if (returned !== undefined) throwIfPromise(returned, 'processElement1()');
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  processElement2(value: I2, timestamp: number | undefined): void {
    const context = this.context.forElement(timestamp);
    try {
      const returned: unknown = this.fn.processElement2(
        value,
        context,
        context.collector as Collector<O>,
      );
      if (returned !== undefined) throwIfPromise(returned, 'processElement2()');
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  onEventTime(timer: InternalTimer): void {
    this.context.fireTimer(this.fn, timer, TimeDomain.EVENT_TIME);
  }
  onProcessingTime(timer: InternalTimer): void {
    this.context.fireTimer(this.fn, timer, TimeDomain.PROCESSING_TIME);
  }

  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
}

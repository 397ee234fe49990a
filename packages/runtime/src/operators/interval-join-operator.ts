import type {
  Collector,
  MapState,
  OutputTag,
  ProcessJoinContext,
  ProcessJoinFunction,
  ProcessJoinFunctionFn,
  TwoInputOperatorSpec,
} from '@nimble/api';
import { MapStateDescriptor, MIN_TIMESTAMP } from '@nimble/api';
import {
  IllegalStateError,
  JobDefinitionError,
  UserCodeError,
  userCodeFailure,
} from '../errors.js';
import type { NamespacedState } from '../state/index.js';
import type {
  InternalTimer,
  InternalTimerService,
  Triggerable,
} from '../timers/internal-timer-service.js';
import { closeFunction, openFunction } from './function-lifecycle.js';
import type { Output } from './operator.js';
import { TwoInputStreamOperator } from './operator.js';

/** The spec of an interval join, as `IntervalJoined.process` builds it. */
export type IntervalJoinSpec = Extract<TwoInputOperatorSpec, { kind: 'intervalJoin' }>;

/** A side's buffer: per timestamp, the elements of that timestamp in arrival order. */
type Buffer<T> = NamespacedState<MapState<number, T[]>>;

// Flink's state and timer namespace names, so a port's own descriptors collide (or not) as in Flink.
const LEFT_BUFFER = 'LEFT_BUFFER';
const RIGHT_BUFFER = 'RIGHT_BUFFER';
const CLEANUP_NAMESPACE_LEFT = 'CLEANUP_LEFT';
const CLEANUP_NAMESPACE_RIGHT = 'CLEANUP_RIGHT';

/**
 * The interval join (Flink's `IntervalJoinOperator`): emits exactly the pairs `(l, r)` of a key
 * with `l.ts + lowerBound <= r.ts <= l.ts + upperBound` (a bound made exclusive moves by 1 ms).
 *
 * Each side is buffered in keyed map state by timestamp. An element is added to its side's
 * buffer, joined with every element of the other side's buffer whose timestamp is within the
 * bounds relative to its own, and a cleanup timer is registered for it: once the watermark
 * passes the last time a partner could still arrive, its timestamp's entry is removed, so the
 * buffers hold only elements that can still join. An element whose timestamp is below the
 * watermark is late: it is neither buffered nor joined, but dropped (counted in
 * numLateRecordsDropped) or sent to the side's late-data side output.
 *
 * A pair's output, and what its function sends to side outputs, carries the larger of the two
 * timestamps; the watermark is forwarded unchanged, and no output is behind it, because the
 * element that completes a pair is never late.
 */
export class IntervalJoinOperator<T1, T2, OUT>
  extends TwoInputStreamOperator<T1, T2, OUT>
  implements Triggerable
{
  /** Inclusive bounds: exclusive ones are moved by 1 ms here, as Flink does. */
  private readonly lowerBound: number;
  private readonly upperBound: number;
  private readonly leftLateTagId: string | undefined;
  private readonly rightLateTagId: string | undefined;
  private readonly fn: ProcessJoinFunction<T1, T2, OUT> | ProcessJoinFunctionFn<T1, T2, OUT>;

  // Set in open().
  private leftBuffer!: Buffer<T1>;
  private rightBuffer!: Buffer<T2>;
  private timers!: InternalTimerService;
  /** The backend hands out stored objects (hashmap): a bucket changed in place is stored. */
  private inPlace = false;
  private context!: JoinContext;
  private collector!: JoinCollector<OUT>;

  constructor(spec: IntervalJoinSpec) {
    super();
    if (!(spec.lowerBound <= spec.upperBound)) {
      throw new JobDefinitionError(
        `Interval Join: lowerBound <= upperBound must be fulfilled; got ${spec.lowerBound} > ${spec.upperBound}`,
      );
    }
    this.lowerBound = spec.lowerBoundInclusive ? spec.lowerBound : spec.lowerBound + 1;
    this.upperBound = spec.upperBoundInclusive ? spec.upperBound : spec.upperBound - 1;
    this.leftLateTagId = spec.leftLateDataTag?.id;
    this.rightLateTagId = spec.rightLateDataTag?.id;
    this.fn = spec.fn;
    this.setUserFunctions(spec.fn);
  }

  override open(): void {
    const backend = this.keyedBackend('intervalJoin()');
    this.leftBuffer = backend.getState(new MapStateDescriptor<number, T1[]>(LEFT_BUFFER));
    this.rightBuffer = backend.getState(new MapStateDescriptor<number, T2[]>(RIGHT_BUFFER));
    this.leftBuffer.setCurrentNamespace('');
    this.rightBuffer.setCurrentNamespace('');
    this.timers = this.getInternalTimerService(this);
    this.inPlace = backend.kind === 'hashmap';
    this.context = new JoinContext(this.output);
    this.collector = new JoinCollector(this.output);
    openFunction(this.fn, this.ctx);
  }

  processElement1(value: T1, timestamp: number | undefined): void {
    const ts = this.checkTimestamp(timestamp, 'left');
    if (this.isLate(ts)) {
      this.late(this.leftLateTagId, value, ts);
      return;
    }
    this.addToBuffer(this.leftBuffer, value, ts);
    // Right elements with r.ts in [ts + lowerBound, ts + upperBound].
    const from = ts + this.lowerBound;
    const to = ts + this.upperBound;
    try {
      for (const [rightTs, rights] of this.rightBuffer.entries()) {
        if (rightTs < from || rightTs > to) continue;
        for (let i = 0; i < rights.length; i++) this.collect(value, rights[i]!, ts, rightTs);
      }
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    // The last right timestamp that joins with ts is ts + upperBound: once the watermark reaches
    // it, no right element that is not late can join any more (Flink's cleanup time). Registered
    // for every element, as Flink does (a timer is unique per key, namespace and time): a job
    // restored with other bounds then still cleans each bucket at its new cleanup time.
    const upper = this.upperBound;
    this.timers.registerEventTimeTimer(CLEANUP_NAMESPACE_LEFT, upper > 0 ? ts + upper : ts);
  }

  processElement2(value: T2, timestamp: number | undefined): void {
    const ts = this.checkTimestamp(timestamp, 'right');
    if (this.isLate(ts)) {
      this.late(this.rightLateTagId, value, ts);
      return;
    }
    this.addToBuffer(this.rightBuffer, value, ts);
    // Left elements with l.ts in [ts - upperBound, ts - lowerBound].
    const from = ts - this.upperBound;
    const to = ts - this.lowerBound;
    try {
      for (const [leftTs, lefts] of this.leftBuffer.entries()) {
        if (leftTs < from || leftTs > to) continue;
        for (let i = 0; i < lefts.length; i++) this.collect(lefts[i]!, value, leftTs, ts);
      }
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    const relativeUpper = -this.lowerBound;
    this.timers.registerEventTimeTimer(
      CLEANUP_NAMESPACE_RIGHT,
      relativeUpper > 0 ? ts + relativeUpper : ts,
    );
  }

  /** A cleanup timer: removes the buffered elements of the timestamp it was registered for. */
  onEventTime(timer: InternalTimer): void {
    const time = timer.timestamp;
    switch (timer.namespace) {
      case CLEANUP_NAMESPACE_LEFT:
        this.leftBuffer.remove(this.upperBound <= 0 ? time : time - this.upperBound);
        break;
      case CLEANUP_NAMESPACE_RIGHT:
        this.rightBuffer.remove(this.lowerBound <= 0 ? time + this.lowerBound : time);
        break;
      default:
        throw new IllegalStateError(
          `${this.ctx.name}: a timer of the unknown namespace ${JSON.stringify(timer.namespace)}`,
        );
    }
  }

  onProcessingTime(): void {}

  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }

  private collect(left: T1, right: T2, leftTs: number, rightTs: number): void {
    const resultTs = leftTs > rightTs ? leftTs : rightTs;
    const context = this.context;
    context.leftTimestamp = leftTs;
    context.rightTimestamp = rightTs;
    context.resultTimestamp = resultTs;
    this.collector.timestamp = resultTs;
    const fn = this.fn;
    if (typeof fn === 'function') fn(left, right, context, this.collector);
    else fn.processElement(left, right, context, this.collector);
  }

  /** Appends `value` to the elements buffered at `timestamp`. */
  private addToBuffer<T>(buffer: Buffer<T>, value: T, timestamp: number): void {
    const bucket = buffer.get(timestamp);
    if (bucket === undefined) {
      buffer.put(timestamp, [value]);
      return;
    }
    bucket.push(value);
    // The level backend hands out copies: the changed bucket is written back.
    if (!this.inPlace) buffer.put(timestamp, bucket);
  }

  /** Flink's isLate: below the current watermark (an element at the watermark is not late). */
  private isLate(timestamp: number): boolean {
    return timestamp < this.timers.currentWatermark();
  }

  private late(tagId: string | undefined, value: unknown, timestamp: number): void {
    if (tagId !== undefined) this.output.collectSide(tagId, value, timestamp);
    else this.ctx.metrics.numLateRecordsDropped++;
  }

  private checkTimestamp(timestamp: number | undefined, side: string): number {
    if (timestamp === undefined || timestamp === MIN_TIMESTAMP) {
      throw new UserCodeError(
        this.ctx.name,
        `an element of the ${side} input has no timestamp. Interval joins work in event time and ` +
          'need timestamps: pass a WatermarkStrategy with a timestamp assigner to fromSource(), or ' +
          'call assignTimestampsAndWatermarks() on both inputs',
        undefined,
      );
    }
    return timestamp;
  }
}

/** Flink's `IntervalJoinOperator.ContextImpl`: one instance, re-pointed at each pair. */
class JoinContext implements ProcessJoinContext {
  leftTimestamp = MIN_TIMESTAMP;
  rightTimestamp = MIN_TIMESTAMP;
  resultTimestamp = MIN_TIMESTAMP;

  constructor(private readonly out: Output<unknown>) {}

  getLeftTimestamp(): number {
    return this.leftTimestamp;
  }
  getRightTimestamp(): number {
    return this.rightTimestamp;
  }
  getTimestamp(): number {
    return this.resultTimestamp;
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.out.collectSide(tag.id, value, this.resultTimestamp);
  }
}

/** Emits a pair's results with the pair's timestamp. */
class JoinCollector<T> implements Collector<T> {
  timestamp = MIN_TIMESTAMP;
  constructor(private readonly out: Output<T>) {}
  collect(value: T): void {
    this.out.collect(value, this.timestamp);
  }
}

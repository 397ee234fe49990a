import type { KeyedStream, SingleOutputStreamOperator } from './datastream.js';
import type { ProcessJoinFunction, ProcessJoinFunctionFn } from './functions.js';
import type { OutputTag } from './output-tag.js';
import type { Key } from './state.js';
import type { Duration } from './time.js';
import { TwoInputTransformation } from './transformation.js';

/** A bound of an interval join: a {@link Duration}, or a number of milliseconds (may be negative). */
export type IntervalBound = Duration | number;

function boundMillis(bound: IntervalBound, which: string): number {
  // Duration cannot be negative (time.ts); a negative bound is given as a number of ms.
  const ms = typeof bound === 'number' ? bound : bound?.toMillis?.();
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) {
    throw new RangeError(
      `intervalJoin().between(): the ${which} bound must be a Duration or a whole number of milliseconds; got ${String(bound)}`,
    );
  }
  return ms;
}

/**
 * The first step of an interval join (Flink's `KeyedStream.IntervalJoin`): two keyed streams
 * whose elements of the same key are joined when their timestamps are close enough. Created by
 * {@link KeyedStream.intervalJoin}; {@link between} sets how close.
 */
export class IntervalJoin<T1, T2, K extends Key> {
  private eventTime = true;

  /** @internal */
  constructor(
    private readonly left: KeyedStream<T1, K>,
    private readonly right: KeyedStream<T2, K>,
  ) {}

  /** Joins by event time (the default and, as in Flink, the only time interval joins support). */
  inEventTime(): this {
    this.eventTime = true;
    return this;
  }

  /** Processing time: refused by {@link between}, as in Flink. */
  inProcessingTime(): this {
    this.eventTime = false;
    return this;
  }

  /**
   * Joins a left element `l` with a right element `r` of the same key when
   * `l.timestamp + lowerBound <= r.timestamp <= l.timestamp + upperBound`; both bounds are
   * inclusive unless made exclusive on the result. Bounds may be negative (as numbers of ms:
   * `between(-2000, 1000)`), and `lowerBound` must not be greater than `upperBound`.
   */
  between(lowerBound: IntervalBound, upperBound: IntervalBound): IntervalJoined<T1, T2, K> {
    if (!this.eventTime) {
      throw new Error('Time-bounded stream joins are only supported in event time');
    }
    const lower = boundMillis(lowerBound, 'lower');
    const upper = boundMillis(upperBound, 'upper');
    if (lower > upper) {
      throw new RangeError(
        `intervalJoin().between(): lowerBound <= upperBound must be fulfilled; got lowerBound ${lower} ms > upperBound ${upper} ms`,
      );
    }
    return new IntervalJoined<T1, T2, K>(this.left, this.right, lower, upper);
  }
}

/**
 * An interval join with its bounds (Flink's `KeyedStream.IntervalJoined`): optionally exclusive
 * bounds and side outputs for late elements, then {@link process} with the function that sees
 * each joined pair.
 */
export class IntervalJoined<T1, T2, K extends Key> {
  private lowerBoundInclusive = true;
  private upperBoundInclusive = true;
  private leftLateDataTag: OutputTag<T1> | undefined;
  private rightLateDataTag: OutputTag<T2> | undefined;

  /** @internal */
  constructor(
    private readonly left: KeyedStream<T1, K>,
    private readonly right: KeyedStream<T2, K>,
    private readonly lowerBound: number,
    private readonly upperBound: number,
  ) {}

  /** Excludes the lower bound: `l.timestamp + lowerBound < r.timestamp`. */
  lowerBoundExclusive(): this {
    this.lowerBoundInclusive = false;
    return this;
  }

  /** Excludes the upper bound: `r.timestamp < l.timestamp + upperBound`. */
  upperBoundExclusive(): this {
    this.upperBoundInclusive = false;
    return this;
  }

  /**
   * Sends left elements that arrive late (their timestamp is below the operator's watermark) to
   * side output `tag` instead of dropping them.
   */
  sideOutputLeftLateData(tag: OutputTag<T1>): this {
    this.leftLateDataTag = tag;
    return this;
  }

  /** Sends late right elements to side output `tag` instead of dropping them. */
  sideOutputRightLateData(tag: OutputTag<T2>): this {
    this.rightLateDataTag = tag;
    return this;
  }

  /**
   * Completes the join: `fn` is called for each joined pair; its output carries the larger of the
   * two timestamps. The operator is named `Interval Join`.
   */
  process<OUT>(
    fn: ProcessJoinFunction<T1, T2, OUT> | ProcessJoinFunctionFn<T1, T2, OUT>,
  ): SingleOutputStreamOperator<OUT> {
    if (typeof fn !== 'function' && typeof fn?.processElement !== 'function') {
      throw new TypeError(
        'IntervalJoined.process() needs a ProcessJoinFunction or a function (left, right, ctx, out) => void',
      );
    }
    const t = new TwoInputTransformation<T1, T2, OUT>(
      this.left.env.newId(),
      'Interval Join',
      this.left.getTransformation(),
      this.right.getTransformation(),
      {
        kind: 'intervalJoin',
        lowerBound: this.lowerBound,
        upperBound: this.upperBound,
        lowerBoundInclusive: this.lowerBoundInclusive,
        upperBoundInclusive: this.upperBoundInclusive,
        leftLateDataTag: this.leftLateDataTag,
        rightLateDataTag: this.rightLateDataTag,
        fn,
      },
      this.left.stateKeySelector(),
      this.right.stateKeySelector(),
    );
    return this.left.operatorStream(t);
  }
}

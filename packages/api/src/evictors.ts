import type { DeltaFunction } from './functions.js';
import type { Duration } from './time.js';
import { nonNegativeMillis } from './time.js';
import type { Window } from './windowing.js';

/**
 * An element of a window with its timestamp (Flink's `TimestampedValue`), as an
 * {@link Evictor} sees it.
 */
export class TimestampedValue<T> {
  /**
   * @param value - the element.
   * @param timestamp - its event timestamp in ms, or `undefined` when it has none (processing
   *   time pipelines without a timestamp assigner).
   */
  constructor(
    private readonly value: T,
    private readonly timestamp: number | undefined,
  ) {}

  /** The element. */
  getValue(): T {
    return this.value;
  }

  /** Whether the element has a timestamp. */
  hasTimestamp(): boolean {
    return this.timestamp !== undefined;
  }

  /**
   * The element's timestamp in ms.
   *
   * @throws Error when the element has none (check {@link hasTimestamp} first), as in Flink.
   */
  getTimestamp(): number {
    if (this.timestamp === undefined) {
      throw new Error(
        'The element has no timestamp: assign timestamps with a WatermarkStrategy ' +
          '(fromSource() or assignTimestampsAndWatermarks()) to use them in an evictor',
      );
    }
    return this.timestamp;
  }

  /** `TimestampedValue(value, timestamp)`. */
  toString(): string {
    return `TimestampedValue(${String(this.value)}, ${this.timestamp ?? 'no timestamp'})`;
  }
}

/**
 * An element of a window pane that an {@link Evictor} may remove: Nimble's form of Java's
 * `Iterator.remove()`. Calling {@link remove} takes the element out of the window; iteration
 * goes on with the next element, and later iterations of the same elements skip it.
 */
export interface EvictableValue<T> extends TimestampedValue<T> {
  /** Removes this element from the window. Removing an element twice does nothing. */
  remove(): void;
  /** Whether {@link remove} was called on this element. */
  isRemoved(): boolean;
}

/**
 * The elements of a window pane, oldest first, as handed to an {@link Evictor}. It can be
 * iterated more than once; each iteration sees the elements not removed so far.
 *
 * ```ts
 * for (const element of elements) {
 *   if (element.getValue().amount < 0) element.remove();
 * }
 * ```
 */
export type EvictableElements<T> = Iterable<EvictableValue<T>>;

/** What an {@link Evictor} may use besides the elements (Flink's `Evictor.EvictorContext`). */
export interface EvictorContext {
  /** The current processing time (ms since the epoch). */
  getCurrentProcessingTime(): number;
  /** The current event-time watermark of the window operator. */
  getCurrentWatermark(): number;
}

/**
 * Removes elements from a window pane before and after the window function runs (Flink's
 * `Evictor`). A pane is the contents of one key (all elements for `windowAll`) and one window.
 *
 * With an evictor, a window keeps every element with its timestamp (no incremental
 * aggregation): when the trigger fires, `evictBefore` runs, then the window function (a `reduce`
 * or `aggregate` folds the remaining elements at that moment), then `evictAfter`; the elements
 * left after it stay in the window for its next firing, unless the trigger purges it.
 *
 * ```ts
 * // Keep only the elements of the last 10 seconds (by their timestamps) in each evaluation.
 * const recent: Evictor<Reading, Window> = {
 *   evictBefore(elements, _size, _window, ctx) {
 *     const cutoff = ctx.getCurrentWatermark() - 10_000;
 *     for (const e of elements) if (e.getTimestamp() <= cutoff) e.remove();
 *   },
 *   evictAfter() {},
 * };
 * ```
 */
export interface Evictor<T, W extends Window> {
  /**
   * Called before the window function with the pane's elements.
   *
   * @param elements - the pane's elements; `remove()` one to evict it.
   * @param size - the number of elements.
   * @param window - the window being evaluated.
   */
  evictBefore(elements: EvictableElements<T>, size: number, window: W, ctx: EvictorContext): void;
  /**
   * Called after the window function with the elements left after {@link evictBefore}.
   *
   * @param elements - the pane's elements; `remove()` one to evict it.
   * @param size - the number of elements.
   * @param window - the window that was evaluated.
   */
  evictAfter(elements: EvictableElements<T>, size: number, window: W, ctx: EvictorContext): void;
}

function checkCount(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be an integer >= 0; got ${n}`);
  }
  return n;
}

/**
 * Keeps the last `maxCount` elements of a pane and evicts the older ones (Flink's
 * `CountEvictor`). With `countWindow(size, slide)` it makes sliding count windows.
 *
 * ```ts
 * .window(GlobalWindows.create()).evictor(CountEvictor.of(100)).trigger(CountTrigger.of(10))
 * ```
 */
export class CountEvictor implements Evictor<unknown, Window> {
  private constructor(
    private readonly maxCount: number,
    private readonly doEvictAfter: boolean,
  ) {}

  /**
   * An evictor that keeps `maxCount` elements.
   *
   * @param maxCount - the number of elements to keep; an integer >= 0.
   * @param doEvictAfter - evict after the window function instead of before (default false).
   * @throws RangeError when `maxCount` is not an integer >= 0.
   */
  static of(maxCount: number, doEvictAfter = false): CountEvictor {
    return new CountEvictor(checkCount('CountEvictor.of: maxCount', maxCount), doEvictAfter);
  }

  /** Evicts unless `doEvictAfter`. */
  evictBefore(elements: EvictableElements<unknown>, size: number): void {
    if (!this.doEvictAfter) this.evict(elements, size);
  }

  /** Evicts if `doEvictAfter`. */
  evictAfter(elements: EvictableElements<unknown>, size: number): void {
    if (this.doEvictAfter) this.evict(elements, size);
  }

  private evict(elements: EvictableElements<unknown>, size: number): void {
    let toEvict = size - this.maxCount;
    if (toEvict <= 0) return;
    // The oldest come first: remove from the front until maxCount remain.
    for (const element of elements) {
      if (toEvict-- <= 0) break;
      element.remove();
    }
  }

  /** `CountEvictor(n)`, as it appears in the operator's name. */
  toString(): string {
    return `CountEvictor(${this.maxCount})`;
  }
}

/**
 * Evicts the elements older than `windowSize` before the newest element of the pane (Flink's
 * `TimeEvictor`): an element stays when `timestamp > max timestamp - windowSize`. Does nothing
 * when the pane's first element has no timestamp.
 *
 * ```ts
 * .window(GlobalWindows.create()).evictor(TimeEvictor.of(Duration.ofMinutes(5))).trigger(CountTrigger.of(10))
 * ```
 */
export class TimeEvictor implements Evictor<unknown, Window> {
  private constructor(
    private readonly windowSize: number,
    private readonly doEvictAfter: boolean,
  ) {}

  /**
   * An evictor that keeps the elements of the last `windowSize`.
   *
   * @param windowSize - how far back from the newest element to keep; not negative.
   * @param doEvictAfter - evict after the window function instead of before (default false).
   * @throws RangeError when `windowSize` is negative.
   */
  static of(windowSize: Duration, doEvictAfter = false): TimeEvictor {
    return new TimeEvictor(
      nonNegativeMillis('TimeEvictor.of: windowSize', windowSize),
      doEvictAfter,
    );
  }

  /** Evicts unless `doEvictAfter`. */
  evictBefore(elements: EvictableElements<unknown>): void {
    if (!this.doEvictAfter) this.evict(elements);
  }

  /** Evicts if `doEvictAfter`. */
  evictAfter(elements: EvictableElements<unknown>): void {
    if (this.doEvictAfter) this.evict(elements);
  }

  /** The time kept, in ms. */
  getWindowSize(): number {
    return this.windowSize;
  }

  private evict(elements: EvictableElements<unknown>): void {
    // As Flink: only the first element is asked whether elements have timestamps.
    let first: EvictableValue<unknown> | undefined;
    for (const element of elements) {
      first = element;
      break;
    }
    if (first === undefined || !first.hasTimestamp()) return;
    let maxTimestamp = Number.NEGATIVE_INFINITY;
    for (const element of elements) maxTimestamp = Math.max(maxTimestamp, element.getTimestamp());
    const cutoff = maxTimestamp - this.windowSize;
    for (const element of elements) {
      if (element.getTimestamp() <= cutoff) element.remove();
    }
  }

  /** `TimeEvictor(ms)`, as it appears in the operator's name. */
  toString(): string {
    return `TimeEvictor(${this.windowSize})`;
  }
}

/**
 * Evicts the elements whose delta to the newest element of the pane is at least `threshold`
 * (Flink's `DeltaEvictor`): an element stays when `deltaFunction(element, newest) < threshold`.
 *
 * ```ts
 * // Keep the readings within 5 degrees of the latest one.
 * .evictor(DeltaEvictor.of(5, (a: Reading, b: Reading) => Math.abs(a.celsius - b.celsius)))
 * ```
 */
export class DeltaEvictor<T> implements Evictor<T, Window> {
  private constructor(
    private readonly threshold: number,
    private readonly deltaFunction: DeltaFunction<T>,
    private readonly doEvictAfter: boolean,
  ) {}

  /**
   * An evictor that keeps the elements close to the newest one.
   *
   * @param threshold - elements with a delta of at least this much are evicted.
   * @param deltaFunction - the distance of an element (first argument) to the newest element.
   * @param doEvictAfter - evict after the window function instead of before (default false).
   */
  static of<T>(
    threshold: number,
    deltaFunction: DeltaFunction<T>,
    doEvictAfter = false,
  ): DeltaEvictor<T> {
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) {
      throw new RangeError(`DeltaEvictor.of: threshold must be a number; got ${threshold}`);
    }
    if (typeof deltaFunction !== 'function') {
      throw new TypeError('DeltaEvictor.of: deltaFunction must be a function (old, new) => number');
    }
    return new DeltaEvictor(threshold, deltaFunction, doEvictAfter);
  }

  /** Evicts unless `doEvictAfter`. */
  evictBefore(elements: EvictableElements<T>): void {
    if (!this.doEvictAfter) this.evict(elements);
  }

  /** Evicts if `doEvictAfter`. */
  evictAfter(elements: EvictableElements<T>): void {
    if (this.doEvictAfter) this.evict(elements);
  }

  private evict(elements: EvictableElements<T>): void {
    let last: EvictableValue<T> | undefined;
    for (const element of elements) last = element;
    // An empty pane (everything evicted before) has no newest element to compare with.
    if (last === undefined) return;
    const newest = last.getValue();
    for (const element of elements) {
      if (this.deltaFunction(element.getValue(), newest) >= this.threshold) element.remove();
    }
  }

  /** `DeltaEvictor(<function>, threshold)`, as it appears in the operator's name. */
  toString(): string {
    return `DeltaEvictor(${this.deltaFunction.name || 'deltaFunction'}, ${this.threshold})`;
  }
}

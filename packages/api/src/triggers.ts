import type { DeltaFunction } from './functions.js';
import type { ReducingState } from './state.js';
import { ReducingStateDescriptor, ValueStateDescriptor } from './state.js';
import type { Duration } from './time.js';
import { MIN_TIMESTAMP, positiveMillis } from './time.js';
import type { OnMergeContext, TriggerContext, Window } from './windowing.js';
import { Trigger, TriggerResult } from './windowing.js';

/**
 * Fires a window once it holds `maxCount` elements, then starts counting again from zero
 * (Flink's `CountTrigger`).
 *
 * The trigger fires but does not purge: each firing evaluates everything the window has
 * collected so far. Wrap it in {@link PurgingTrigger} to evaluate each batch of `maxCount`
 * elements on its own. The count is kept in keyed state per key and window; when session
 * windows merge, their counts add up.
 *
 * The trigger registers no timers: with `GlobalWindows` a window that never reaches
 * `maxCount` elements is never evaluated.
 *
 * ```ts
 * stream
 *   .keyBy((e) => e.user)
 *   .window(GlobalWindows.create())
 *   .trigger(PurgingTrigger.of(CountTrigger.of(100)))
 *   .reduce((a, b) => ({ ...a, amount: a.amount + b.amount }));
 * ```
 */
export class CountTrigger<W extends Window = Window> extends Trigger<unknown, W> {
  private readonly countDescriptor = new ReducingStateDescriptor<number>('count', (a, b) => a + b);

  private constructor(private readonly maxCount: number) {
    super();
  }

  /**
   * A trigger that fires every `maxCount` elements of a window.
   *
   * @param maxCount - the number of elements after which the window fires; a positive integer.
   * @throws RangeError when `maxCount` is not a positive integer.
   */
  static of<W extends Window = Window>(maxCount: number): CountTrigger<W> {
    if (!Number.isSafeInteger(maxCount) || maxCount < 1) {
      throw new RangeError(`CountTrigger.of: maxCount must be a positive integer; got ${maxCount}`);
    }
    return new CountTrigger<W>(maxCount);
  }

  /** Counts the element; fires and resets the count when it reaches `maxCount`. */
  onElement(
    _element: unknown,
    _timestamp: number | undefined,
    _window: W,
    ctx: TriggerContext,
  ): TriggerResult {
    const count = ctx.getPartitionedState(this.countDescriptor);
    count.add(1);
    if ((count.get() ?? 0) >= this.maxCount) {
      count.clear();
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }

  /** Time does not matter to this trigger. */
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  /** Time does not matter to this trigger. */
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  /** Counts of merging windows add up. */
  override canMerge(): boolean {
    return true;
  }

  /**
   * Adds the counts of the merged windows into the merged window. As in Flink, the merged count
   * is only compared with `maxCount` when the next element arrives.
   */
  override onMerge(_window: W, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.countDescriptor);
  }

  /** Drops the window's count. */
  clear(_window: W, ctx: TriggerContext): void {
    ctx.getPartitionedState(this.countDescriptor).clear();
  }

  /** `CountTrigger(n)`, as it appears in the operator's name. */
  override toString(): string {
    return `CountTrigger(${this.maxCount})`;
  }
}

/**
 * Turns every firing of another trigger into a firing that also purges the window's contents
 * (Flink's `PurgingTrigger`): `FIRE` becomes `FIRE_AND_PURGE`, every other result is kept.
 *
 * After a purge the window starts empty, so each evaluation sees only the elements that arrived
 * since the previous one. The nested trigger's own state and timers are untouched: it keeps
 * deciding when to fire.
 *
 * ```ts
 * .window(GlobalWindows.create()).trigger(PurgingTrigger.of(CountTrigger.of(3)))
 * ```
 */
export class PurgingTrigger<T, W extends Window> extends Trigger<T, W> {
  private constructor(private readonly nestedTrigger: Trigger<T, W>) {
    super();
  }

  /**
   * Wraps `nestedTrigger` so that each of its firings also purges the window.
   *
   * @param nestedTrigger - the trigger that decides when the window fires.
   */
  static of<T, W extends Window>(nestedTrigger: Trigger<T, W>): PurgingTrigger<T, W> {
    return new PurgingTrigger(nestedTrigger);
  }

  /** The trigger this one wraps. */
  getNestedTrigger(): Trigger<T, W> {
    return this.nestedTrigger;
  }

  /** Asks the nested trigger; a firing becomes a firing with purge. */
  onElement(
    element: T,
    timestamp: number | undefined,
    window: W,
    ctx: TriggerContext,
  ): TriggerResult {
    return purging(this.nestedTrigger.onElement(element, timestamp, window, ctx));
  }

  /** Asks the nested trigger; a firing becomes a firing with purge. */
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onEventTime(time, window, ctx));
  }

  /** Asks the nested trigger; a firing becomes a firing with purge. */
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onProcessingTime(time, window, ctx));
  }

  /** Whether the nested trigger supports merging windows. */
  override canMerge(): boolean {
    return this.nestedTrigger.canMerge();
  }

  /** Lets the nested trigger merge its state and timers. */
  override onMerge(window: W, ctx: OnMergeContext): void {
    this.nestedTrigger.onMerge(window, ctx);
  }

  /** Clears the nested trigger's state and timers. */
  clear(window: W, ctx: TriggerContext): void {
    this.nestedTrigger.clear(window, ctx);
  }

  /** `PurgingTrigger(<nested>)`, as it appears in the operator's name. */
  override toString(): string {
    return `PurgingTrigger(${String(this.nestedTrigger)})`;
  }
}

function purging(result: TriggerResult): TriggerResult {
  return result === TriggerResult.FIRE ? TriggerResult.FIRE_AND_PURGE : result;
}

/** The earliest of two fire times: merged windows keep the earliest pending firing (Flink's Min). */
const earliest = (a: number, b: number): number => Math.min(a, b);

/**
 * Fires a window every `interval` of event time while it collects elements, and at its end
 * (Flink's `ContinuousEventTimeTrigger`): early results of a long window as the watermark
 * advances.
 *
 * The firing times are aligned to the epoch, not to the window's start: the first element of a
 * window with timestamp `t` schedules a firing at `t - (t % interval) + interval`, and each
 * firing schedules the next one `interval` later; a firing never goes past the window's last
 * timestamp (`maxTimestamp()`), where the window fires as with {@link EventTimeTrigger}. A window
 * with no elements schedules nothing. The trigger never purges: each firing sees everything so
 * far (wrap it in {@link PurgingTrigger} for increments).
 *
 * With merging windows, the merged window keeps the earliest pending firing.
 *
 * ```ts
 * // A day's running total per user, updated every hour of event time.
 * .window(TumblingEventTimeWindows.of(Time.days(1)))
 * .trigger(ContinuousEventTimeTrigger.of(Time.hours(1)))
 * ```
 */
export class ContinuousEventTimeTrigger<W extends Window = Window> extends Trigger<unknown, W> {
  private readonly fireTimeDescriptor = new ReducingStateDescriptor<number>('fire-time', earliest);

  private constructor(private readonly interval: number) {
    super();
  }

  /**
   * A trigger that fires every `interval` of event time.
   *
   * @throws RangeError when `interval` is not positive.
   */
  static of<W extends Window = Window>(interval: Duration): ContinuousEventTimeTrigger<W> {
    return new ContinuousEventTimeTrigger<W>(
      positiveMillis('ContinuousEventTimeTrigger.of: interval', interval),
    );
  }

  /** The interval in ms. */
  getInterval(): number {
    return this.interval;
  }

  /**
   * Fires at once for a window the watermark has passed (a late element within the allowed
   * lateness); otherwise schedules the window's end and, for its first element, the first
   * aligned firing.
   */
  onElement(
    _element: unknown,
    timestamp: number | undefined,
    window: W,
    ctx: TriggerContext,
  ): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(window.maxTimestamp());
    const fireTime = ctx.getPartitionedState(this.fireTimeDescriptor);
    if (fireTime.get() === undefined) {
      // An element without a timestamp counts as the smallest timestamp, as in the window operator.
      const t = timestamp ?? MIN_TIMESTAMP;
      this.scheduleNext(t - (t % this.interval), window, ctx, fireTime);
    }
    return TriggerResult.CONTINUE;
  }

  /** Fires at the window's end, and at each scheduled time (scheduling the next one). */
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return TriggerResult.FIRE;
    const fireTime = ctx.getPartitionedState(this.fireTimeDescriptor);
    if (fireTime.get() === time) {
      fireTime.clear();
      this.scheduleNext(time, window, ctx, fireTime);
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }

  /** Processing time does not matter to this trigger. */
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  /** Deletes the pending firing and its state (the window-end timer is left to fire, as in Flink). */
  clear(_window: W, ctx: TriggerContext): void {
    const fireTime = ctx.getPartitionedState(this.fireTimeDescriptor);
    const time = fireTime.get();
    if (time === undefined) return;
    ctx.deleteEventTimeTimer(time);
    fireTime.clear();
  }

  /** Merging windows keep the earliest pending firing. */
  override canMerge(): boolean {
    return true;
  }

  /** Merges the pending firings into the earliest one and schedules it for the merged window. */
  override onMerge(_window: W, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.fireTimeDescriptor);
    const time = ctx.getPartitionedState(this.fireTimeDescriptor).get();
    if (time !== undefined) ctx.registerEventTimeTimer(time);
  }

  /** `ContinuousEventTimeTrigger(ms)`, as it appears in the operator's name. */
  override toString(): string {
    return `ContinuousEventTimeTrigger(${this.interval})`;
  }

  private scheduleNext(
    time: number,
    window: W,
    ctx: TriggerContext,
    fireTime: ReducingState<number>,
  ): void {
    const next = Math.min(time + this.interval, window.maxTimestamp());
    fireTime.add(next);
    ctx.registerEventTimeTimer(next);
  }
}

/**
 * Fires a window every `interval` of processing time (Flink's `ContinuousProcessingTimeTrigger`),
 * the processing-time form of {@link ContinuousEventTimeTrigger}.
 *
 * The first element of a window at processing time `now` schedules a firing at
 * `now - (now % interval) + interval` (aligned to the epoch); each firing schedules the next one
 * `interval` later, and no firing goes past the window's last timestamp, where the window fires
 * a last time. A window with no elements schedules nothing; the trigger never purges.
 *
 * Unlike Flink, a firing at the window's last timestamp schedules nothing more: when processing
 * time is past an event-time window's end, Flink would schedule that same moment again and
 * again (FLINK-35069).
 *
 * ```ts
 * // Early results of event-time windows every 10 seconds of wall-clock time.
 * .window(TumblingEventTimeWindows.of(Time.minutes(5)))
 * .trigger(ContinuousProcessingTimeTrigger.of(Time.seconds(10)))
 * ```
 */
export class ContinuousProcessingTimeTrigger<W extends Window = Window> extends Trigger<
  unknown,
  W
> {
  private readonly fireTimeDescriptor = new ReducingStateDescriptor<number>('fire-time', earliest);

  private constructor(private readonly interval: number) {
    super();
  }

  /**
   * A trigger that fires every `interval` of processing time.
   *
   * @throws RangeError when `interval` is not positive.
   */
  static of<W extends Window = Window>(interval: Duration): ContinuousProcessingTimeTrigger<W> {
    return new ContinuousProcessingTimeTrigger<W>(
      positiveMillis('ContinuousProcessingTimeTrigger.of: interval', interval),
    );
  }

  /** The interval in ms. */
  getInterval(): number {
    return this.interval;
  }

  /** For a window's first element, schedules the first aligned firing. */
  onElement(
    _element: unknown,
    _timestamp: number | undefined,
    window: W,
    ctx: TriggerContext,
  ): TriggerResult {
    const fireTime = ctx.getPartitionedState(this.fireTimeDescriptor);
    if (fireTime.get() === undefined) {
      const now = ctx.getCurrentProcessingTime();
      this.scheduleNext(now - (now % this.interval), window, ctx, fireTime);
    }
    return TriggerResult.CONTINUE;
  }

  /** Event time does not matter to this trigger. */
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  /** Fires at each scheduled time and schedules the next one, up to the window's end. */
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    const fireTime = ctx.getPartitionedState(this.fireTimeDescriptor);
    if (fireTime.get() !== time) return TriggerResult.CONTINUE;
    fireTime.clear();
    if (time < window.maxTimestamp()) this.scheduleNext(time, window, ctx, fireTime);
    return TriggerResult.FIRE;
  }

  /** Deletes the pending firing and its state. */
  clear(_window: W, ctx: TriggerContext): void {
    const fireTime = ctx.getPartitionedState(this.fireTimeDescriptor);
    const time = fireTime.get();
    if (time === undefined) return;
    ctx.deleteProcessingTimeTimer(time);
    fireTime.clear();
  }

  /** Merging windows keep the earliest pending firing. */
  override canMerge(): boolean {
    return true;
  }

  /** Merges the pending firings into the earliest one and schedules it for the merged window. */
  override onMerge(_window: W, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.fireTimeDescriptor);
    const time = ctx.getPartitionedState(this.fireTimeDescriptor).get();
    if (time !== undefined) ctx.registerProcessingTimeTimer(time);
  }

  /** `ContinuousProcessingTimeTrigger(ms)`, as it appears in the operator's name. */
  override toString(): string {
    return `ContinuousProcessingTimeTrigger(${this.interval})`;
  }

  private scheduleNext(
    time: number,
    window: W,
    ctx: TriggerContext,
    fireTime: ReducingState<number>,
  ): void {
    const next = Math.min(time + this.interval, window.maxTimestamp());
    fireTime.add(next);
    ctx.registerProcessingTimeTimer(next);
  }
}

/**
 * Fires when an element is far enough from the element of the last firing (Flink's
 * `DeltaTrigger`): the first element of a window is remembered; each later element is compared
 * with the remembered one by `deltaFunction(remembered, element)`, and when the delta is greater
 * than `threshold` the window fires and the element is remembered instead. Never purges; does
 * not support merging windows.
 *
 * ```ts
 * // Evaluate a sensor's global window whenever the temperature moved more than 2 degrees.
 * .window(GlobalWindows.create())
 * .trigger(DeltaTrigger.of(2, (a: Reading, b: Reading) => Math.abs(a.celsius - b.celsius)))
 * ```
 */
export class DeltaTrigger<T, W extends Window = Window> extends Trigger<T, W> {
  private readonly lastElementDescriptor = new ValueStateDescriptor<T>('last-element');

  private constructor(
    private readonly threshold: number,
    private readonly deltaFunction: DeltaFunction<T>,
  ) {
    super();
  }

  /**
   * A trigger that fires when an element's delta to the last firing's element exceeds
   * `threshold`.
   *
   * @param threshold - the delta must be greater than this to fire.
   * @param deltaFunction - the distance of the remembered element (first) to a new one (second).
   */
  static of<T, W extends Window = Window>(
    threshold: number,
    deltaFunction: DeltaFunction<T>,
  ): DeltaTrigger<T, W> {
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) {
      throw new RangeError(`DeltaTrigger.of: threshold must be a number; got ${threshold}`);
    }
    if (typeof deltaFunction !== 'function') {
      throw new TypeError('DeltaTrigger.of: deltaFunction must be a function (old, new) => number');
    }
    return new DeltaTrigger<T, W>(threshold, deltaFunction);
  }

  /** Remembers the window's first element; fires on an element whose delta exceeds the threshold. */
  onElement(
    element: T,
    _timestamp: number | undefined,
    _window: W,
    ctx: TriggerContext,
  ): TriggerResult {
    const lastElement = ctx.getPartitionedState(this.lastElementDescriptor);
    const last = lastElement.value();
    if (last === undefined) {
      lastElement.update(element);
      return TriggerResult.CONTINUE;
    }
    if (this.deltaFunction(last, element) > this.threshold) {
      lastElement.update(element);
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }

  /** Time does not matter to this trigger. */
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  /** Time does not matter to this trigger. */
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  /** Forgets the remembered element. */
  clear(_window: W, ctx: TriggerContext): void {
    ctx.getPartitionedState(this.lastElementDescriptor).clear();
  }

  /** `DeltaTrigger(<function>, threshold)`, as it appears in the operator's name. */
  override toString(): string {
    return `DeltaTrigger(${this.deltaFunction.name || 'deltaFunction'}, ${this.threshold})`;
  }
}

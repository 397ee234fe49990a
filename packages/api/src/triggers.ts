import { ReducingStateDescriptor } from './state.js';
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

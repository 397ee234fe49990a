import type { Duration } from './time.js';
import { durationArgument, MAX_TIMESTAMP, positiveMillis } from './time.js';
import type { State, StateDescriptor } from './state.js';

/** A group of elements of a keyed stream that is evaluated together. */
export interface Window {
  /** The largest timestamp that still belongs to this window. */
  maxTimestamp(): number;
}

/** A window of event or processing time `[start, end)`. */
export class TimeWindow implements Window {
  constructor(
    /** First timestamp of the window (inclusive). */
    readonly start: number,
    /** End of the window (exclusive). */
    readonly end: number,
  ) {}

  /** `end - 1`: the timestamp of the window's results. */
  maxTimestamp(): number {
    return this.end - 1;
  }
  /** Whether the two windows overlap or touch (Flink's `intersects`). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }
  /** The smallest window containing both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }
  /** Same start and end. */
  equals(other: unknown): boolean {
    return other instanceof TimeWindow && other.start === this.start && other.end === this.end;
  }
  toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`;
  }

  /** Start of the window of `size` and `offset` that contains `timestamp` (Flink's formula). */
  static getWindowStartWithOffset(timestamp: number, offset: number, windowSize: number): number {
    const remainder = (timestamp - offset) % windowSize;
    // Java's % keeps the dividend's sign; add the size for negative remainders, as Flink does.
    return remainder < 0 ? timestamp - (remainder + windowSize) : timestamp - remainder;
  }

  /**
   * Merges overlapping windows (Flink's `TimeWindow.mergeWindows`): calls `callback` once per
   * group of two or more windows with the group and its cover.
   */
  static mergeWindows(
    windows: readonly TimeWindow[],
    callback: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void,
  ): void {
    const sorted = [...windows].sort((a, b) => a.start - b.start);
    let current: { cover: TimeWindow; members: TimeWindow[] } | undefined;
    const groups: { cover: TimeWindow; members: TimeWindow[] }[] = [];
    for (const w of sorted) {
      if (current === undefined) {
        current = { cover: w, members: [w] };
      } else if (current.cover.intersects(w)) {
        current.cover = current.cover.cover(w);
        current.members.push(w);
      } else {
        groups.push(current);
        current = { cover: w, members: [w] };
      }
    }
    if (current) groups.push(current);
    for (const g of groups) {
      if (g.members.length > 1) callback(g.members, g.cover);
    }
  }
}

/** The single window of all elements of a key (used with count triggers). */
export class GlobalWindow implements Window {
  static readonly INSTANCE = new GlobalWindow();
  private constructor() {}
  maxTimestamp(): number {
    return MAX_TIMESTAMP;
  }
  toString(): string {
    return 'GlobalWindow';
  }
}

/** What a trigger decides: whether to evaluate the window and whether to purge its contents. */
export enum TriggerResult {
  CONTINUE = 'CONTINUE',
  FIRE = 'FIRE',
  PURGE = 'PURGE',
  FIRE_AND_PURGE = 'FIRE_AND_PURGE',
}

/** What a trigger may use: time, timers and per-window state. */
export interface TriggerContext {
  getCurrentProcessingTime(): number;
  getCurrentWatermark(): number;
  registerProcessingTimeTimer(time: number): void;
  registerEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  /** State of this key and window. */
  getPartitionedState<S extends State>(descriptor: StateDescriptor<S>): S;
}

/** A trigger context while windows merge. */
export interface OnMergeContext extends TriggerContext {
  /** Merges the trigger state of the merged windows into the result window. */
  mergePartitionedState<S extends State>(descriptor: StateDescriptor<S>): void;
}

/** Decides when a window is evaluated (Flink's `Trigger`). */
export abstract class Trigger<T, W extends Window> {
  /** Called for every element added to a window. */
  abstract onElement(
    element: T,
    timestamp: number | undefined,
    window: W,
    ctx: TriggerContext,
  ): TriggerResult;
  /** Called when a processing-time timer of this trigger fires. */
  abstract onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Called when an event-time timer of this trigger fires. */
  abstract onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Whether this trigger supports merging windows. */
  canMerge(): boolean {
    return false;
  }
  /** Called when windows merged into `window`. */
  onMerge(_window: W, _ctx: OnMergeContext): void {
    throw new Error(`${this.constructor.name} does not support merging windows`);
  }
  /** Clears the trigger's timers and state of `window`. */
  abstract clear(window: W, ctx: TriggerContext): void;
}

/** Fires when the watermark passes the window's end; default of event-time assigners. */
export class EventTimeTrigger extends Trigger<unknown, Window> {
  static create(): EventTimeTrigger {
    return new EventTimeTrigger();
  }
  onElement(
    _e: unknown,
    _ts: number | undefined,
    window: Window,
    ctx: TriggerContext,
  ): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) {
      // A late element within allowed lateness fires the window at once (Flink's late firing).
      return TriggerResult.FIRE;
    }
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return TriggerResult.CONTINUE;
  }
  onEventTime(time: number, window: Window): TriggerResult {
    return time === window.maxTimestamp() ? TriggerResult.FIRE : TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  override canMerge(): boolean {
    return true;
  }
  override onMerge(window: Window, ctx: OnMergeContext): void {
    // Only register a timer if the watermark has not passed the merged window's end yet, as in Flink.
    if (window.maxTimestamp() > ctx.getCurrentWatermark())
      ctx.registerEventTimeTimer(window.maxTimestamp());
  }
  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }
  override toString(): string {
    return 'EventTimeTrigger()';
  }
}

/** Fires when processing time passes the window's end; default of processing-time assigners. */
export class ProcessingTimeTrigger extends Trigger<unknown, Window> {
  static create(): ProcessingTimeTrigger {
    return new ProcessingTimeTrigger();
  }
  onElement(
    _e: unknown,
    _ts: number | undefined,
    window: Window,
    ctx: TriggerContext,
  ): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp());
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.FIRE;
  }
  override canMerge(): boolean {
    return true;
  }
  override onMerge(window: Window, ctx: OnMergeContext): void {
    if (window.maxTimestamp() > ctx.getCurrentProcessingTime()) {
      ctx.registerProcessingTimeTimer(window.maxTimestamp());
    }
  }
  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp());
  }
  override toString(): string {
    return 'ProcessingTimeTrigger()';
  }
}

/** Context of a window assigner. */
export interface WindowAssignerContext {
  getCurrentProcessingTime(): number;
}

/** Assigns each element to zero or more windows (Flink's `WindowAssigner`). */
export abstract class WindowAssigner<T, W extends Window> {
  /** The windows `element` belongs to. */
  abstract assignWindows(
    element: T,
    timestamp: number | undefined,
    ctx: WindowAssignerContext,
  ): W[];
  /** The trigger used when `.trigger()` is not called. */
  abstract getDefaultTrigger(): Trigger<T, W>;
  /** Whether windows are of event time (elements need timestamps; lateness applies). */
  abstract isEventTime(): boolean;
  /** Whether windows of this assigner merge (session windows). */
  isMerging(): this is MergingWindowAssigner<T, W> {
    return false;
  }
  /**
   * @internal The layout of this assigner's windows when they are aligned event-time windows
   * (tumbling, sliding, cumulative) that the runtime may evaluate on its fast path; undefined
   * otherwise, and for subclasses, which may assign windows differently.
   */
  alignedWindows(): AlignedWindows | undefined {
    return undefined;
  }
}

/**
 * @internal Aligned event-time windows, as the runtime's aligned window operator evaluates them.
 * `sliding`: windows of `size` starting every `slide` (tumbling: slide = size) at
 * `offset + k * slide`. `cumulative`: windows starting at `offset + k * maxSize` and ending
 * `step`, `2 * step`, ..., `maxSize` later.
 */
export type AlignedWindows =
  | {
      readonly kind: 'sliding';
      readonly size: number;
      readonly slide: number;
      readonly offset: number;
    }
  | {
      readonly kind: 'cumulative';
      readonly maxSize: number;
      readonly step: number;
      readonly offset: number;
    };

/** An assigner whose windows merge (sessions). */
export abstract class MergingWindowAssigner<T, W extends Window> extends WindowAssigner<T, W> {
  /** Calls `callback` for each group of windows that merge into one. */
  abstract mergeWindows(
    windows: readonly W[],
    callback: (toBeMerged: W[], mergeResult: W) => void,
  ): void;
  override isMerging(): this is MergingWindowAssigner<T, W> {
    return true;
  }
}

function noTimestamp(assigner: string): Error {
  return new Error(
    `${assigner}: the element has no timestamp. Event-time windows need timestamps: ` +
      'pass a WatermarkStrategy with a timestamp assigner to fromSource(), or call assignTimestampsAndWatermarks().',
  );
}

function checkSizeAndOffset(name: string, size: number, offset: number, slide = size): void {
  // Sizes and slides are checked where the Durations come in (positiveMillis); this guards `new`.
  if (!(size > 0) || !(slide > 0))
    throw new RangeError(`${name}: window size and slide must be positive`);
  if (Math.abs(offset) >= slide) {
    throw new RangeError(
      `${name}: the offset must satisfy abs(offset) < slide (size for tumbling windows); ` +
        `got offset ${offset} ms, ${size === slide ? 'size' : 'slide'} ${slide} ms`,
    );
  }
}

/** Tumbling windows of event time: `[start, start + size)` with `start = offset + k * size`. */
export class TumblingEventTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super();
    checkSizeAndOffset('TumblingEventTimeWindows', size, offset);
  }
  /**
   * Windows of `size`, aligned to the epoch plus `offset`. The offset may be negative, as in Flink:
   * `TumblingEventTimeWindows.of(Time.days(1), Time.hours(-8))` makes daily windows that start at
   * 16:00 UTC, midnight in UTC+08:00.
   *
   * @param size - the length of each window; positive.
   * @param offset - shifts the windows' starts; `abs(offset) < size`. Default 0.
   * @throws RangeError when `size` is not positive or the offset is too large.
   */
  static of(size: Duration, offset?: Duration | number): TumblingEventTimeWindows {
    return new TumblingEventTimeWindows(
      positiveMillis('TumblingEventTimeWindows.of: size', size),
      offsetMillis('TumblingEventTimeWindows.of: offset', offset),
    );
  }
  private last: TimeWindow[] = [];
  assignWindows(_e: unknown, timestamp: number | undefined): TimeWindow[] {
    if (timestamp === undefined) throw noTimestamp('TumblingEventTimeWindows');
    const start = TimeWindow.getWindowStartWithOffset(timestamp, this.offset, this.size);
    // Consecutive elements mostly share a window: hand out the same (immutable) window again.
    const last = this.last[0];
    if (last !== undefined && last.start === start) return this.last;
    this.last = [new TimeWindow(start, start + this.size)];
    return this.last;
  }
  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return EventTimeTrigger.create();
  }
  isEventTime(): boolean {
    return true;
  }
  /** @internal */
  override alignedWindows(): AlignedWindows | undefined {
    if (this.constructor !== TumblingEventTimeWindows) return undefined;
    return { kind: 'sliding', size: this.size, slide: this.size, offset: this.offset };
  }
  override toString(): string {
    return `TumblingEventTimeWindows(${this.size})`;
  }
}

/** Tumbling windows of processing time. */
export class TumblingProcessingTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super();
    checkSizeAndOffset('TumblingProcessingTimeWindows', size, offset);
  }
  /**
   * Windows of `size` aligned to the epoch plus `offset` (may be negative; `abs(offset) < size`).
   *
   * @throws RangeError when `size` is not positive or the offset is too large.
   */
  static of(size: Duration, offset?: Duration | number): TumblingProcessingTimeWindows {
    return new TumblingProcessingTimeWindows(
      positiveMillis('TumblingProcessingTimeWindows.of: size', size),
      offsetMillis('TumblingProcessingTimeWindows.of: offset', offset),
    );
  }
  assignWindows(_e: unknown, _ts: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const now = ctx.getCurrentProcessingTime();
    const start = TimeWindow.getWindowStartWithOffset(now, this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }
  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return `TumblingProcessingTimeWindows(${this.size})`;
  }
}

function slidingWindows(
  timestamp: number,
  size: number,
  slide: number,
  offset: number,
): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const lastStart = TimeWindow.getWindowStartWithOffset(timestamp, offset, slide);
  for (let start = lastStart; start > timestamp - size; start -= slide) {
    windows.push(new TimeWindow(start, start + size));
  }
  return windows;
}

/** Sliding windows of event time: `size` long, one starting every `slide`. */
export class SlidingEventTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super();
    checkSizeAndOffset('SlidingEventTimeWindows', size, offset, slide);
  }
  /**
   * Windows of `size` every `slide`, aligned to the epoch plus `offset` (may be negative;
   * `abs(offset) < slide`).
   *
   * @throws RangeError when `size` or `slide` is not positive or the offset is too large.
   */
  static of(size: Duration, slide: Duration, offset?: Duration | number): SlidingEventTimeWindows {
    return new SlidingEventTimeWindows(
      positiveMillis('SlidingEventTimeWindows.of: size', size),
      positiveMillis('SlidingEventTimeWindows.of: slide', slide),
      offsetMillis('SlidingEventTimeWindows.of: offset', offset),
    );
  }
  assignWindows(_e: unknown, timestamp: number | undefined): TimeWindow[] {
    if (timestamp === undefined) throw noTimestamp('SlidingEventTimeWindows');
    return slidingWindows(timestamp, this.size, this.slide, this.offset);
  }
  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return EventTimeTrigger.create();
  }
  isEventTime(): boolean {
    return true;
  }
  /** @internal */
  override alignedWindows(): AlignedWindows | undefined {
    if (this.constructor !== SlidingEventTimeWindows) return undefined;
    return { kind: 'sliding', size: this.size, slide: this.slide, offset: this.offset };
  }
  override toString(): string {
    return `SlidingEventTimeWindows(${this.size}, ${this.slide})`;
  }
}

/** Sliding windows of processing time. */
export class SlidingProcessingTimeWindows extends WindowAssigner<unknown, TimeWindow> {
  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super();
    checkSizeAndOffset('SlidingProcessingTimeWindows', size, offset, slide);
  }
  /**
   * Windows of `size` every `slide`, aligned to the epoch plus `offset` (may be negative;
   * `abs(offset) < slide`).
   *
   * @throws RangeError when `size` or `slide` is not positive or the offset is too large.
   */
  static of(
    size: Duration,
    slide: Duration,
    offset?: Duration | number,
  ): SlidingProcessingTimeWindows {
    return new SlidingProcessingTimeWindows(
      positiveMillis('SlidingProcessingTimeWindows.of: size', size),
      positiveMillis('SlidingProcessingTimeWindows.of: slide', slide),
      offsetMillis('SlidingProcessingTimeWindows.of: offset', offset),
    );
  }
  assignWindows(_e: unknown, _ts: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    return slidingWindows(ctx.getCurrentProcessingTime(), this.size, this.slide, this.offset);
  }
  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return `SlidingProcessingTimeWindows(${this.size}, ${this.slide})`;
  }
}

/** Extracts a session gap from an element, for dynamic session windows. */
export type SessionWindowTimeGapExtractor<T> = (element: T) => number;

/** Session windows of event time: a session ends after `gap` without elements of its key. */
export class EventTimeSessionWindows<T = unknown> extends MergingWindowAssigner<T, TimeWindow> {
  private constructor(private readonly gapOf: SessionWindowTimeGapExtractor<T>) {
    super();
  }
  /** Sessions separated by `gap` of inactivity. */
  static withGap(gap: Duration): EventTimeSessionWindows {
    const ms = positiveMillis('EventTimeSessionWindows.withGap: gap', gap);
    return new EventTimeSessionWindows(() => ms);
  }
  /** Sessions whose gap is computed from each element. */
  static withDynamicGap<T>(
    extractor: SessionWindowTimeGapExtractor<T>,
  ): EventTimeSessionWindows<T> {
    return new EventTimeSessionWindows(extractor);
  }
  assignWindows(element: T, timestamp: number | undefined): TimeWindow[] {
    if (timestamp === undefined) throw noTimestamp('EventTimeSessionWindows');
    const gap = this.gapOf(element);
    if (!(gap > 0))
      throw new RangeError(`EventTimeSessionWindows: the session gap must be positive; got ${gap}`);
    return [new TimeWindow(timestamp, timestamp + gap)];
  }
  mergeWindows(
    windows: readonly TimeWindow[],
    callback: (m: TimeWindow[], r: TimeWindow) => void,
  ): void {
    TimeWindow.mergeWindows(windows, callback);
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return EventTimeTrigger.create();
  }
  isEventTime(): boolean {
    return true;
  }
  override toString(): string {
    return `EventTimeSessionWindows()`;
  }
}

/** Session windows of processing time. */
export class ProcessingTimeSessionWindows<T = unknown> extends MergingWindowAssigner<
  T,
  TimeWindow
> {
  private constructor(private readonly gapOf: SessionWindowTimeGapExtractor<T>) {
    super();
  }
  /** Sessions separated by `gap` of inactivity. */
  static withGap(gap: Duration): ProcessingTimeSessionWindows {
    const ms = positiveMillis('ProcessingTimeSessionWindows.withGap: gap', gap);
    return new ProcessingTimeSessionWindows(() => ms);
  }
  /** Sessions whose gap is computed from each element. */
  static withDynamicGap<T>(
    extractor: SessionWindowTimeGapExtractor<T>,
  ): ProcessingTimeSessionWindows<T> {
    return new ProcessingTimeSessionWindows(extractor);
  }
  assignWindows(element: T, _ts: number | undefined, ctx: WindowAssignerContext): TimeWindow[] {
    const now = ctx.getCurrentProcessingTime();
    const gap = this.gapOf(element);
    if (!(gap > 0))
      throw new RangeError(
        `ProcessingTimeSessionWindows: the session gap must be positive; got ${gap}`,
      );
    return [new TimeWindow(now, now + gap)];
  }
  mergeWindows(
    windows: readonly TimeWindow[],
    callback: (m: TimeWindow[], r: TimeWindow) => void,
  ): void {
    TimeWindow.mergeWindows(windows, callback);
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return `ProcessingTimeSessionWindows()`;
  }
}

/** Puts all elements of a key in one {@link GlobalWindow}; needs a custom trigger. */
export class GlobalWindows extends WindowAssigner<unknown, GlobalWindow> {
  static create(): GlobalWindows {
    return new GlobalWindows();
  }
  assignWindows(): GlobalWindow[] {
    return [GlobalWindow.INSTANCE];
  }
  getDefaultTrigger(): Trigger<unknown, GlobalWindow> {
    return new NeverTrigger();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return 'GlobalWindows()';
  }
}

class NeverTrigger extends Trigger<unknown, GlobalWindow> {
  onElement(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  clear(): void {}
  override toString(): string {
    return 'NeverTrigger()';
  }
}

function offsetMillis(what: string, offset: Duration | number | undefined): number {
  return offset === undefined ? 0 : durationArgument(what, offset);
}

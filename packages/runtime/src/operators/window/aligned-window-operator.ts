import type {
  AggregateFunction,
  AlignedWindows,
  Key,
  ReduceFunction,
  State,
  StateDescriptor,
  ValueState,
  WindowAssigner,
  Window,
} from '@nimble/api';
import {
  AggregatingStateDescriptor,
  EventTimeTrigger,
  ReducingStateDescriptor,
  MAX_TIMESTAMP,
  TimeWindow,
  ValueStateDescriptor,
} from '@nimble/api';
import { JobDefinitionError, userCodeFailure } from '../../errors.js';
import { keyId } from '../../keys/index.js';
import type { KeyedStateBackend, NamespacedState } from '../../state/index.js';
import { createRuntimeContext, StreamOperator } from '../operator.js';
import type { FunctionLifecycle } from '../function-lifecycle.js';
import type { InternalWindowFunction } from './internal-window-function.js';
import {
  internalWindowFunction,
  windowAggregateFunction,
  windowReduceFunction,
} from './internal-window-function.js';
import { GLOBAL_NAMESPACE, windowFromNamespace, windowNamespace } from './window-namespace.js';
import type { WindowClock, WindowOperatorSpec } from './window-support.js';
import {
  ALIGNED_STATE_NAME,
  closeWindowFunctions,
  CONTENTS_STATE_NAME,
  NamespacedStateStore,
  openWindowFunctions,
  WindowCollector,
  WindowProcessContext,
  windowRichFunctions,
  windowRuntimeContext,
  windowUserFunctions,
} from './window-support.js';

/**
 * The state of one key: the accumulators of its open windows, flat as
 * `[end0, accumulator0, end1, accumulator1, ...]` (windows of one operator differ by their end only).
 */
type KeyWindows = unknown[];

export { ALIGNED_STATE_NAME };

/**
 * The keys with a window that fires (or is cleaned up) at one time, in registration order. On a
 * backend that holds values by reference, `entries` holds each key's state entry as it was when
 * the window was registered (undefined: look it up), so firing does not look the key up again:
 * an entry stays the same array while it has windows, and a window once dropped is not added
 * again (its elements are late), so a due window is in the entry registered with it.
 */
interface DueKeys {
  readonly keys: Key[];
  readonly keyGroups: number[];
  readonly entries: (KeyWindows | undefined)[];
}

/**
 * Whether `spec` can run on the {@link AlignedWindowOperator}: tumbling, sliding or cumulative
 * event-time windows (the assigners' own classes, not subclasses), the default event-time trigger, reduce or aggregate (with or without a window
 * function), no evictor. Everything else (custom triggers, evictors, merging windows,
 * processing time, `process`/`apply` over all elements) takes the general {@link WindowOperator}.
 */
export function isAlignedWindowSpec(spec: WindowOperatorSpec): boolean {
  return (
    spec.assigner.alignedWindows() !== undefined &&
    (spec.trigger === undefined || spec.trigger.constructor === EventTimeTrigger) &&
    spec.evictor === undefined &&
    (spec.fn.kind === 'reduce' || spec.fn.kind === 'aggregate')
  );
}

/**
 * The window operator's fast path for aligned event-time windows (tumbling and sliding) that
 * pre-aggregate, as Flink's SQL window operators do for the same windows: per key ONE state entry
 * holds the accumulators of all its open windows (one lookup per element, instead of one per
 * window plus a timer per key and window), and windows fire by their end: per window end, the
 * list of keys that have that window, walked when the watermark passes it.
 *
 * Results are those of the general operator with the default {@link EventTimeTrigger}: a window
 * fires when the watermark reaches `end - 1`, with timestamp `end - 1`; with allowed lateness, a
 * late element within it fires the window again at once with the updated result, and the window
 * is dropped when the watermark passes `end - 1 + lateness`. Emission order is the general
 * operator's timer order: by time, then by when the key's window was first created.
 *
 * Checkpoints hold the per-key entries under {@link ALIGNED_STATE_NAME} and the due lists as the
 * general operator's timers (key, window namespace, time), so a checkpoint or savepoint of the
 * general operator restores here: its window contents are moved into the entries on restore.
 */
export class AlignedWindowOperator extends StreamOperator<unknown, unknown> {
  private readonly windows: AlignedWindows;
  private readonly allowedLateness: number;
  private readonly lateDataTagId: string | undefined;
  private readonly windowFunction: InternalWindowFunction;
  private readonly reduce: ReduceFunction<unknown> | undefined;
  private readonly aggregate: AggregateFunction<unknown, unknown, unknown> | undefined;
  private readonly richFunctions: FunctionLifecycle[];
  private readonly assigner: WindowAssigner<unknown, Window>;

  /** Keys by the time their window fires (`end - 1`). */
  private readonly fireAt = new Map<number, DueKeys>();
  /** Keys by the time their window is dropped (`end - 1 + lateness`); with lateness only. */
  private readonly cleanupAt = new Map<number, DueKeys>();
  /** The times of `fireAt` and `cleanupAt`, ascending, each once. */
  private dueTimes: number[] = [];
  /**
   * Windows (key id/end) restored after they fired, kept for allowed lateness. The watermark
   * starts again from its minimum after a restore, so an element may reach one before the
   * watermark passes its end again: it then fires at the end again, as with EventTimeTrigger.
   */
  private readonly firedBeforeRestore = new Set<string>();
  /** Restored timers (key, window) of a checkpoint, registered in open(). */
  private restoredWindowTimers: { keyGroup: number; flat: readonly unknown[] }[] = [];

  private lastWindow: TimeWindow | undefined;
  private backend!: KeyedStateBackend;
  private state!: NamespacedState<ValueState<KeyWindows>>;
  /** Whether the backend holds values by reference: an entry changed in place needs no update(). */
  private byReference = false;
  private processContext!: WindowProcessContext;
  private collector!: WindowCollector;
  private readonly clock: WindowClock = {
    currentProcessingTime: () => this.ctx.processingTimeService.now(),
    currentWatermark: () => this.currentWatermark,
  };

  constructor(spec: WindowOperatorSpec) {
    super();
    if (!isAlignedWindowSpec(spec)) {
      throw new JobDefinitionError(
        `internal: the aligned window operator cannot run ${String(spec.assigner)}`,
      );
    }
    if (!(spec.allowedLatenessMillis >= 0)) {
      throw new JobDefinitionError(
        `Window operator: allowed lateness must not be negative; got ${spec.allowedLatenessMillis}`,
      );
    }
    this.assigner = spec.assigner;
    this.windows = spec.assigner.alignedWindows()!;
    this.allowedLateness = spec.allowedLatenessMillis;
    this.lateDataTagId = spec.lateDataTag?.id;
    const fn = spec.fn as Extract<WindowOperatorSpec['fn'], { kind: 'reduce' | 'aggregate' }>;
    this.windowFunction = internalWindowFunction(fn);
    if (fn.kind === 'reduce') this.reduce = windowReduceFunction(fn.reduce);
    else this.aggregate = windowAggregateFunction(fn.aggregate);
    this.richFunctions = windowRichFunctions(fn);
    this.setUserFunctions(...windowUserFunctions(fn));
  }

  override open(): void {
    this.backend = this.keyedBackend('window()');
    this.byReference = this.backend.kind === 'hashmap';
    this.state = this.backend.getState(new ValueStateDescriptor<KeyWindows>(ALIGNED_STATE_NAME));
    this.state.setCurrentNamespace(GLOBAL_NAMESPACE);
    const globalState = new NamespacedStateStore(this.backend, () => GLOBAL_NAMESPACE);
    this.processContext = new WindowProcessContext(
      this.clock,
      new NamespacedStateStore(this.backend, () => windowNamespace(this.processContext.current)),
      globalState,
      this.output,
    );
    this.collector = new WindowCollector(this.output);
    if (this.restoredWindowTimers.length > 0) this.registerRestored();
    openWindowFunctions(
      this.richFunctions,
      windowRuntimeContext(createRuntimeContext(this.ctx, this.ctx.name), globalState),
      this.ctx.name,
    );
  }

  override async close(): Promise<void> {
    const failure = closeWindowFunctions(this.richFunctions, this.ctx.name);
    await super.close();
    if (failure !== undefined) throw failure;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    // The assigner names itself in the error for an element without a timestamp.
    if (timestamp === undefined) this.assignerFailure(value);
    const ts = timestamp as number;
    const watermark = this.currentWatermark;
    let skipped = true;
    // The windows in the order the assigner lists them.
    const w = this.windows;
    if (w.kind === 'sliding') {
      const lastStart = TimeWindow.getWindowStartWithOffset(ts, w.offset, w.slide);
      for (let start = lastStart; start > ts - w.size; start -= w.slide) {
        const end = start + w.size;
        if (this.cleanupTime(end) <= watermark) continue;
        skipped = false;
        this.add(value, end, end - 1 <= watermark);
      }
    } else {
      const start = TimeWindow.getWindowStartWithOffset(ts, w.offset, w.maxSize);
      const firstEnd = start + (Math.floor((ts - start) / w.step) + 1) * w.step;
      for (let end = firstEnd; end <= start + w.maxSize; end += w.step) {
        if (this.cleanupTime(end) <= watermark) continue;
        skipped = false;
        this.add(value, end, end - 1 <= watermark);
      }
    }
    // Flink: late data is an element that went into no window and is itself late.
    if (skipped && ts + this.allowedLateness <= watermark) {
      if (this.lateDataTagId !== undefined) this.output.collectSide(this.lateDataTagId, value, ts);
      else this.ctx.metrics.numLateRecordsDropped++;
    }
  }

  /** Adds `value` to the current key's window ending at `end`; `fireNow` for a late firing. */
  private add(value: unknown, end: number, fireNow: boolean): void {
    const state = this.state;
    let entry = state.value();
    let i = -1;
    if (entry === undefined) {
      entry = [end, this.first(value)];
      state.update(entry);
      this.registerNew(end, entry);
      i = 0;
    } else {
      i = indexOfWindow(entry, end);
      if (i < 0) {
        i = entry.length;
        entry.push(end, this.first(value));
        this.registerNew(end, entry);
      } else {
        entry[i + 1] = this.combine(entry[i + 1], value);
        if (this.firedBeforeRestore.size > 0 && !fireNow) this.refire(end);
      }
      if (!this.byReference) state.update(entry);
    }
    if (fireNow) this.emit(end, entry[i + 1]);
  }

  private first(value: unknown): unknown {
    try {
      // As Flink's heap ReducingState: the first element is the value as it is.
      if (this.reduce !== undefined) return value;
      const aggregate = this.aggregate!;
      return aggregate.add(value, aggregate.createAccumulator());
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  private combine(accumulator: unknown, value: unknown): unknown {
    try {
      return this.reduce !== undefined
        ? this.reduce(accumulator, value)
        : this.aggregate!.add(value, accumulator);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  /** A window restored after it fired takes an element before its end: it fires at its end again. */
  private refire(end: number): void {
    const id = `${String(keyId(this.backend.getCurrentKey()))}/${end}`;
    if (!this.firedBeforeRestore.delete(id)) return;
    const key = this.backend.getCurrentKey();
    this.due(this.fireAt, end - 1, key, this.backend.getCurrentKeyGroup(), undefined);
  }

  /** A window new to the current key: it fires at `end - 1` (unless late) and goes at its cleanup time. */
  private registerNew(end: number, entry: KeyWindows): void {
    const key = this.backend.getCurrentKey();
    const keyGroup = this.backend.getCurrentKeyGroup();
    const byReference = this.byReference ? entry : undefined;
    const fireTime = end - 1;
    // As EventTimeTrigger: no timer for a window the watermark already passed (it fired at once).
    if (fireTime > this.currentWatermark)
      this.due(this.fireAt, fireTime, key, keyGroup, byReference);
    if (this.allowedLateness > 0) {
      const cleanup = this.cleanupTime(end);
      // No timer at the end of time: it would never fire before the job ends.
      if (cleanup !== MAX_TIMESTAMP) this.due(this.cleanupAt, cleanup, key, keyGroup, byReference);
    }
  }

  private due(
    index: Map<number, DueKeys>,
    time: number,
    key: Key,
    keyGroup: number,
    entry: KeyWindows | undefined,
  ): void {
    let due = index.get(time);
    if (due === undefined) {
      due = { keys: [], keyGroups: [], entries: [] };
      index.set(time, due);
      this.addDueTime(time);
    }
    due.keys.push(key);
    due.keyGroups.push(keyGroup);
    due.entries.push(entry);
  }

  private addDueTime(time: number): void {
    const times = this.dueTimes;
    let i = times.length;
    while (i > 0 && times[i - 1]! > time) i--;
    if (times[i - 1] !== time) times.splice(i, 0, time);
  }

  /** `end - 1 + allowedLateness`, saturating at MAX_TIMESTAMP as Flink does at Long.MAX_VALUE. */
  private cleanupTime(end: number): number {
    const time = end - 1 + this.allowedLateness;
    return time >= MAX_TIMESTAMP ? MAX_TIMESTAMP : time;
  }

  /** The windows due to fire or to be dropped: the general operator's number of event-time timers. */
  override numEventTimeTimers(): number {
    let count = 0;
    for (const due of this.fireAt.values()) count += due.keys.length;
    for (const due of this.cleanupAt.values()) count += due.keys.length;
    return count;
  }

  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
    if (this.dueTimes.length > 0 && this.dueTimes[0]! <= watermark) this.fireUpTo(watermark);
    this.ctx.metrics.currentOutputWatermark = watermark;
    this.output.emitWatermark(watermark);
  }

  /** Fires and cleans up every window due at or before `watermark`, in time order. */
  private fireUpTo(watermark: number): void {
    const backend = this.backend;
    let saved: { key: Key; keyGroup: number } | undefined;
    try {
      saved = { key: backend.getCurrentKey(), keyGroup: backend.getCurrentKeyGroup() };
    } catch {
      saved = undefined;
    }
    try {
      while (this.dueTimes.length > 0 && this.dueTimes[0]! <= watermark) {
        const time = this.dueTimes.shift()!;
        const fire = this.fireAt.get(time);
        if (fire !== undefined) {
          this.fireAt.delete(time);
          // Without lateness a window is dropped when it fires.
          const drop = this.allowedLateness === 0;
          this.forEachDue(fire, time + 1, (entry, i) => {
            this.emit(time + 1, entry[i + 1]);
            return drop;
          });
        }
        const cleanup = this.cleanupAt.get(time);
        if (cleanup !== undefined) {
          this.cleanupAt.delete(time);
          this.forEachDue(cleanup, time + 1 - this.allowedLateness, () => true);
        }
      }
    } finally {
      if (saved !== undefined) backend.setCurrentKey(saved.key, saved.keyGroup);
    }
  }

  /**
   * Runs `fn` for each due key's window ending at `end`, with the key current; drops the window
   * when `fn` returns true.
   */
  private forEachDue(
    due: DueKeys,
    end: number,
    fn: (entry: KeyWindows, i: number) => boolean,
  ): void {
    const { keys, keyGroups, entries } = due;
    const state = this.state;
    for (let k = 0; k < keys.length; k++) {
      // Sets the key for the window function and for the copy-on-write of pending snapshots.
      this.backend.setCurrentKey(keys[k]!, keyGroups[k]!);
      const entry = entries[k] ?? state.value();
      if (entry === undefined) continue;
      const i = indexOfWindow(entry, end);
      if (i < 0 || !fn(entry, i)) continue;
      this.dropWindow(end);
      entry.splice(i, 2);
      if (entry.length === 0) state.clear();
      else if (!this.byReference) state.update(entry);
    }
  }

  /** Emits the current key's window ending at `end` with its accumulator. */
  private emit(end: number, accumulator: unknown): void {
    const window = this.windowOf(end);
    this.collector.timestamp = end - 1;
    this.processContext.current = window;
    try {
      const result =
        this.aggregate !== undefined ? this.aggregate.getResult(accumulator) : accumulator;
      this.windowFunction.process(
        this.backend.getCurrentKey(),
        window,
        this.processContext,
        result,
        this.collector,
      );
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  /** A window function's per-window state goes with the window, as in the general operator. */
  private dropWindow(end: number): void {
    this.processContext.current = this.windowOf(end);
    try {
      this.windowFunction.clear(this.processContext);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  /**
   * The window ending at `end`: windows of this operator differ by their end. The last one is
   * reused (a TimeWindow is immutable): a firing hands the same window to every key.
   */
  private windowOf(end: number): TimeWindow {
    const last = this.lastWindow;
    if (last !== undefined && last.end === end) return last;
    return (this.lastWindow = new TimeWindow(alignedWindowStart(this.windows, end), end));
  }

  private assignerFailure(value: unknown): never {
    try {
      this.assigner.assignWindows(value, undefined, {
        getCurrentProcessingTime: () => this.ctx.processingTimeService.now(),
      });
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    throw userCodeFailure(this.ctx.name, new Error('an element has no timestamp'));
  }

  // ---- checkpoints: the due lists as the general operator's timers ----

  /**
   * The due lists as the general operator's event-time timers, by key group:
   * `[0, time, key, window namespace, ...]` (see InternalTimerService.snapshotTimers).
   */
  override snapshotTimers(): Map<number, unknown[]> {
    const byGroup = new Map<number, unknown[]>();
    const add = (index: Map<number, DueKeys>, endOf: (time: number) => number): void => {
      for (const [time, { keys, keyGroups }] of index) {
        const end = endOf(time);
        const namespace = windowNamespace(this.windowOf(end));
        for (let k = 0; k < keys.length; k++) {
          let list = byGroup.get(keyGroups[k]!);
          if (list === undefined) byGroup.set(keyGroups[k]!, (list = []));
          list.push(0, time, keys[k], namespace);
        }
      }
    };
    add(this.fireAt, (time) => time + 1);
    add(this.cleanupAt, (time) => time + 1 - this.allowedLateness);
    return byGroup;
  }

  override restoreTimers(keyGroup: number, flat: readonly unknown[]): void {
    this.restoredWindowTimers.push({ keyGroup, flat });
  }

  /**
   * Registers restored timers in the due lists. Contents the general operator kept per window
   * (`window-contents` in the window's namespace) move into the key's entry.
   */
  private registerRestored(): void {
    let legacy: NamespacedState<State> | undefined;
    const registered = new Set<string>();
    const moved = new Set<string>();
    const cleanupOnly = new Set<string>();
    const withFiring = new Set<string>();
    for (const { keyGroup, flat } of this.restoredWindowTimers.splice(0)) {
      for (let i = 0; i + 3 < flat.length; i += 4) {
        // Processing-time timers are not the default event-time trigger's.
        if (flat[i] !== 0) continue;
        const time = flat[i + 1] as number;
        const key = flat[i + 2] as Key;
        const namespace = flat[i + 3] as string;
        const end = (windowFromNamespace(namespace) as TimeWindow).end;
        const id = `${String(keyId(key))}/${namespace}`;
        const index =
          time === end - 1
            ? this.fireAt
            : this.allowedLateness > 0 && time === this.cleanupTime(end)
              ? this.cleanupAt
              : undefined;
        if (index !== undefined && !registered.has(`${time}/${id}`)) {
          registered.add(`${time}/${id}`);
          this.due(index, time, key, keyGroup, undefined);
        }
        if (index === this.cleanupAt) cleanupOnly.add(`${String(keyId(key))}/${end}`);
        else if (index === this.fireAt) withFiring.add(`${String(keyId(key))}/${end}`);
        if (moved.has(id)) continue;
        moved.add(id);
        legacy ??= this.backend.getState(this.legacyContentsDescriptor());
        this.backend.setCurrentKey(key, keyGroup);
        legacy.setCurrentNamespace(namespace);
        const contents = legacy.getInternal();
        if (contents === undefined) continue;
        legacy.clear();
        const entry = this.state.value() ?? [];
        if (indexOfWindow(entry, end) < 0) entry.push(end, contents);
        this.state.update(entry);
      }
    }
    for (const window of cleanupOnly) {
      if (!withFiring.has(window)) this.firedBeforeRestore.add(window);
    }
  }

  /** The general operator's window contents, to move them into the entries on restore. */
  private legacyContentsDescriptor(): StateDescriptor<State> {
    return this.reduce !== undefined
      ? new ReducingStateDescriptor(CONTENTS_STATE_NAME, this.reduce)
      : new AggregatingStateDescriptor(CONTENTS_STATE_NAME, this.aggregate!);
  }
}

/** The index of the window ending at `end` in a key's entry, or -1. */
function indexOfWindow(entry: KeyWindows, end: number): number {
  for (let j = 0; j < entry.length; j += 2) if (entry[j] === end) return j;
  return -1;
}

/** The start of the aligned window ending at `end`. */
export function alignedWindowStart(windows: AlignedWindows, end: number): number {
  return windows.kind === 'sliding'
    ? end - windows.size
    : TimeWindow.getWindowStartWithOffset(end - 1, windows.offset, windows.maxSize);
}

import type {
  AggregatingState,
  Key,
  Evictor,
  EvictorContext,
  KeyedStateStore,
  ListState,
  MergingWindowAssigner,
  OnMergeContext,
  ReducingState,
  State,
  StateDescriptor,
  Trigger,
  ValueState,
  Window,
  WindowAssigner,
  WindowAssignerContext,
} from '@nimble/api';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  ReducingStateDescriptor,
  TimeWindow,
  TriggerResult,
  ValueStateDescriptor,
} from '@nimble/api';
import {
  IllegalStateError,
  JobDefinitionError,
  UserCodeError,
  userCodeFailure,
} from '../../errors.js';
import type { KeyedStateBackend, NamespacedState } from '../../state/index.js';
import type {
  InternalTimer,
  InternalTimerService,
  Triggerable,
} from '../../timers/internal-timer-service.js';
import { createRuntimeContext, StreamOperator } from '../operator.js';
import type { FunctionLifecycle } from '../function-lifecycle.js';
import type { InternalWindowFunction } from './internal-window-function.js';
import {
  evictingWindowFunction,
  internalWindowFunction,
  windowAggregateFunction,
  windowReduceFunction,
} from './internal-window-function.js';
import {
  AlignedWindowOperator,
  alignedWindowStart,
  isAlignedWindowSpec,
} from './aligned-window-operator.js';
import type { WindowOperatorSpec } from './window-support.js';
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
import type { PersistedMergingWindows } from './merging-window-set.js';
import { MergingWindowSet } from './merging-window-set.js';
import { GLOBAL_NAMESPACE, windowFromNamespace, windowNamespace } from './window-namespace.js';
import type { StoredElement } from './window-eviction.js';
import { evaluateWithEvictor } from './window-eviction.js';

export type { WindowOperatorSpec };

/** Where a window's contents are kept: folded (reduce, aggregate) or buffered (process, apply). */
type ContentsState = NamespacedState<
  ReducingState<unknown> | AggregatingState<unknown, unknown> | ListState<unknown>
>;

// Flink's state name, as CONTENTS_STATE_NAME.
export { CONTENTS_STATE_NAME };
const MERGING_SET_STATE_NAME = 'merging-window-set';

function isFire(result: TriggerResult): boolean {
  return result === TriggerResult.FIRE || result === TriggerResult.FIRE_AND_PURGE;
}

function isPurge(result: TriggerResult): boolean {
  return result === TriggerResult.PURGE || result === TriggerResult.FIRE_AND_PURGE;
}

/**
 * Builds the window operator of a `window` spec: the {@link AlignedWindowOperator} where it
 * applies (unless `aligned` is false), the general {@link WindowOperator} otherwise.
 */
export function createWindowOperator(
  spec: WindowOperatorSpec,
  options: { aligned: boolean } = { aligned: true },
): StreamOperator<unknown, unknown> {
  return options.aligned && isAlignedWindowSpec(spec)
    ? new AlignedWindowOperator(spec)
    : new WindowOperator(spec);
}

/**
 * Groups a keyed stream into windows and evaluates them when their trigger fires (Flink's
 * `WindowOperator`, and with an evictor its `EvictingWindowOperator`).
 *
 * Each window's contents live in keyed state under the window's namespace (window-namespace.ts):
 * folded for `reduce`/`aggregate`, buffered for `process`/`apply`. With an evictor every element
 * is buffered with its timestamp, and a firing runs evictBefore, the function over what is left
 * (a reduce or aggregate folds it then), evictAfter, and writes back the elements that remain:
 * the rest of the operator (assignment, merging, triggers, lateness, cleanup) is the same, so
 * it is a mode of this operator rather than a copy of it. Timers (the trigger's and the
 * cleanup timer at `maxTimestamp + allowedLateness`) are registered per key and window. For a
 * merging assigner, the key's in-flight windows are kept in a {@link MergingWindowSet}.
 * Results carry the timestamp `window.maxTimestamp()`.
 */
export class WindowOperator extends StreamOperator<unknown, unknown> implements Triggerable {
  private readonly assigner: WindowAssigner<unknown, Window>;
  private readonly mergingAssigner: MergingWindowAssigner<unknown, Window> | undefined;
  private readonly trigger: Trigger<unknown, Window>;
  private readonly eventTime: boolean;
  private readonly allowedLateness: number;
  private readonly lateDataTagId: string | undefined;
  private readonly windowFunction: InternalWindowFunction;
  private readonly contentsDescriptor: StateDescriptor<State>;
  private readonly listContents: boolean;
  private readonly evictor: Evictor<unknown, Window> | undefined;
  /** The user functions with a lifecycle (opened in open(), closed in close()). */
  private readonly richFunctions: FunctionLifecycle[];

  // Set in open(): handles are fetched once, then only their namespace changes per record.
  private backend!: KeyedStateBackend;
  private timers!: InternalTimerService;
  private contents!: ContentsState;
  private mergingSetState: NamespacedState<ValueState<PersistedMergingWindows>> | undefined;
  private triggerContext!: WindowTriggerContext;
  private processContext!: WindowProcessContext;
  private collector!: WindowCollector;
  private readonly assignerContext: WindowAssignerContext = {
    getCurrentProcessingTime: () => this.ctx.processingTimeService.now(),
  };

  constructor(spec: WindowOperatorSpec) {
    super();
    this.assigner = spec.assigner;
    this.mergingAssigner = spec.assigner.isMerging() ? spec.assigner : undefined;
    this.trigger = spec.trigger ?? spec.assigner.getDefaultTrigger();
    this.eventTime = spec.assigner.isEventTime();
    if (!(spec.allowedLatenessMillis >= 0)) {
      throw new JobDefinitionError(
        `Window operator: allowed lateness must not be negative; got ${spec.allowedLatenessMillis}`,
      );
    }
    // Flink ignores allowed lateness for processing-time windows (cleanupTime is the window's end).
    this.allowedLateness = this.eventTime ? spec.allowedLatenessMillis : 0;
    this.lateDataTagId = spec.lateDataTag?.id;
    if (this.mergingAssigner !== undefined && !this.trigger.canMerge()) {
      throw new JobDefinitionError(
        `Window operator: the merging window assigner ${String(spec.assigner)} needs a trigger that supports ` +
          `merging, but ${String(this.trigger)} does not (canMerge() is false)`,
      );
    }
    const fn = spec.fn;
    this.evictor = spec.evictor;
    this.windowFunction =
      this.evictor === undefined ? internalWindowFunction(fn) : evictingWindowFunction(fn);
    this.listContents = fn.kind === 'process' || this.evictor !== undefined;
    this.contentsDescriptor =
      this.evictor !== undefined
        ? new ListStateDescriptor<StoredElement>(CONTENTS_STATE_NAME)
        : fn.kind === 'reduce'
          ? new ReducingStateDescriptor(CONTENTS_STATE_NAME, windowReduceFunction(fn.reduce))
          : fn.kind === 'aggregate'
            ? new AggregatingStateDescriptor(
                CONTENTS_STATE_NAME,
                windowAggregateFunction(fn.aggregate),
              )
            : new ListStateDescriptor(CONTENTS_STATE_NAME);
    this.richFunctions = windowRichFunctions(fn);
    this.setUserFunctions(...windowUserFunctions(fn));
  }

  override open(): void {
    this.backend = this.keyedBackend('window()');
    this.timers = this.getInternalTimerService(this);
    this.contents = this.backend.getState(this.contentsDescriptor) as ContentsState;
    if (this.mergingAssigner !== undefined) {
      const descriptor = new ValueStateDescriptor<PersistedMergingWindows>(MERGING_SET_STATE_NAME);
      const state = this.backend.getState(descriptor);
      state.setCurrentNamespace(GLOBAL_NAMESPACE);
      this.mergingSetState = state;
    }
    this.moveAlignedContents();
    const globalState = new NamespacedStateStore(this.backend, () => GLOBAL_NAMESPACE);
    this.triggerContext = new WindowTriggerContext(this.backend, this.timers);
    const perWindowState =
      this.mergingAssigner === undefined
        ? new NamespacedStateStore(this.backend, () => windowNamespace(this.processContext.current))
        : MERGING_WINDOW_STATE_STORE;
    this.processContext = new WindowProcessContext(
      this.timers,
      perWindowState,
      globalState,
      this.output,
    );
    this.collector = new WindowCollector(this.output);

    const runtimeContext = windowRuntimeContext(
      createRuntimeContext(this.ctx, this.ctx.name),
      globalState,
    );
    openWindowFunctions(this.richFunctions, runtimeContext, this.ctx.name);
  }

  override restoreTimers(keyGroup: number, timers: readonly unknown[]): void {
    super.restoreTimers(keyGroup, timers);
    this.restoredTimerKeys.push({ keyGroup, timers });
  }

  /** Keys of the timers restored before open(), to find contents the aligned operator kept. */
  private restoredTimerKeys: { keyGroup: number; timers: readonly unknown[] }[] = [];

  /**
   * A checkpoint of the {@link AlignedWindowOperator} (the same job with another trigger, or
   * with the fast path switched off) keeps a key's windows in one entry: their accumulators
   * move into this operator's per-window contents. Its timers are the ones this operator has.
   */
  private moveAlignedContents(): void {
    const restored = this.restoredTimerKeys.splice(0);
    const windows = this.assigner.alignedWindows();
    if (restored.length === 0 || windows === undefined) return;
    const aligned = this.backend.getState(new ValueStateDescriptor<unknown[]>(ALIGNED_STATE_NAME));
    aligned.setCurrentNamespace(GLOBAL_NAMESPACE);
    for (const { keyGroup, timers } of restored) {
      for (let i = 0; i + 3 < timers.length; i += 4) {
        this.backend.setCurrentKey(timers[i + 2] as Key, keyGroup);
        const entry = aligned.value();
        if (entry === undefined) continue;
        if (this.listContents) {
          throw new JobDefinitionError(
            `${this.ctx.name}: the restored windows hold reduce/aggregate results, not elements; ` +
              'a window that keeps its elements (process, apply, or an evictor) cannot take them over. ' +
              'Restore with the reduce or aggregate function the checkpoint was taken with.',
          );
        }
        aligned.clear();
        for (let j = 0; j < entry.length; j += 2) {
          const end = entry[j] as number;
          this.contents.setCurrentNamespace(
            windowNamespace(new TimeWindow(alignedWindowStart(windows, end), end)),
          );
          this.contents.updateInternal(entry[j + 1]);
        }
      }
    }
  }

  override async close(): Promise<void> {
    const failure = closeWindowFunctions(this.richFunctions, this.ctx.name);
    await super.close();
    if (failure !== undefined) throw failure;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    let windows: Window[];
    try {
      windows = this.assigner.assignWindows(value, timestamp, this.assignerContext);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }

    const skipped =
      this.mergingAssigner === undefined
        ? this.addToWindows(value, timestamp, windows)
        : this.addToMergingWindows(this.mergingAssigner, value, timestamp, windows);

    // Flink: late data is an element that went into no window and is itself late
    // (timestamp + lateness <= watermark); one still taken by any of its windows (sliding) is not.
    if (skipped && this.isElementLate(timestamp)) {
      if (this.lateDataTagId !== undefined) {
        this.output.collectSide(this.lateDataTagId, value, timestamp);
      } else {
        this.ctx.metrics.numLateRecordsDropped++;
      }
    }
  }

  /** Acts on the trigger's answer for the element just added to `window` (contents are scoped to it). */
  private afterTrigger(result: TriggerResult, window: Window): void {
    if (isFire(result)) {
      const fired = this.currentContents();
      // As Flink: an empty window does not fire, and no cleanup timer is registered for it.
      if (fired === undefined) return;
      this.emitWindowContents(window, fired);
    }
    if (isPurge(result)) this.contents.clear();
    this.registerCleanupTimer(window);
  }

  /** Returns true when the element went into no window. */
  private addToWindows(
    value: unknown,
    timestamp: number | undefined,
    windows: readonly Window[],
  ): boolean {
    let skipped = true;
    const contents = this.contents;
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i]!;
      if (this.isWindowLate(window)) continue;
      skipped = false;

      const namespace = windowNamespace(window);
      contents.setCurrentNamespace(namespace);
      this.addToContents(value, timestamp);

      this.triggerContext.setWindow(namespace);
      this.afterTrigger(this.triggerOnElement(value, timestamp, window), window);
    }
    return skipped;
  }

  /** Returns true when the element went into no window. */
  private addToMergingWindows(
    assigner: MergingWindowAssigner<unknown, Window>,
    value: unknown,
    timestamp: number | undefined,
    windows: readonly Window[],
  ): boolean {
    let skipped = true;
    const contents = this.contents;
    const mergingWindows = this.loadMergingWindowSet(assigner);
    for (let i = 0; i < windows.length; i++) {
      // Adding the window may merge it with in-flight windows: the element then belongs to the result.
      const actualWindow = mergingWindows.addWindow(windows[i]!, this.mergeWindows);
      const actualNamespace = windowNamespace(actualWindow);
      if (this.isWindowLate(actualWindow)) {
        mergingWindows.retireWindow(actualNamespace);
        continue;
      }
      skipped = false;

      const stateWindow = mergingWindows.getStateWindow(actualNamespace);
      if (stateWindow === undefined) {
        throw new IllegalStateError(
          `${this.ctx.name}: window ${String(actualWindow)} is not in the in-flight window set`,
        );
      }
      contents.setCurrentNamespace(stateWindow);
      this.addToContents(value, timestamp);

      this.triggerContext.setWindow(actualNamespace);
      this.afterTrigger(this.triggerOnElement(value, timestamp, actualWindow), actualWindow);
    }
    this.persistMergingWindowSet(mergingWindows);
    return skipped;
  }

  /**
   * Flink's merge function of processElement: the trigger merges its state and timers into the
   * result, the merged windows' trigger state and cleanup timers go, and their contents are merged
   * into the result's state window. An arrow property, so no closure is created per element.
   */
  private readonly mergeWindows = (
    mergeResult: Window,
    mergedWindows: readonly Window[],
    stateWindowResult: string,
    mergedStateWindows: readonly string[],
  ): void => {
    if (this.eventTime) {
      if (mergeResult.maxTimestamp() + this.allowedLateness <= this.timers.currentWatermark()) {
        throw new UserCodeError(
          this.ctx.name,
          'The end timestamp of an event-time window cannot become earlier than the current watermark by merging. ' +
            `Current watermark: ${this.timers.currentWatermark()}, window: ${String(mergeResult)}`,
          undefined,
        );
      }
    } else if (mergeResult.maxTimestamp() <= this.timers.currentProcessingTime()) {
      throw new UserCodeError(
        this.ctx.name,
        'The end timestamp of a processing-time window cannot become earlier than the current processing time by merging. ' +
          `Current processing time: ${this.timers.currentProcessingTime()}, window: ${String(mergeResult)}`,
        undefined,
      );
    }

    const tc = this.triggerContext;
    tc.setWindow(windowNamespace(mergeResult));
    tc.mergedNamespaces = mergedWindows.map(windowNamespace);
    try {
      this.trigger.onMerge(mergeResult, tc);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    } finally {
      tc.mergedNamespaces = NO_NAMESPACES;
    }

    for (const merged of mergedWindows) {
      tc.setWindow(windowNamespace(merged));
      this.triggerClear(merged);
      this.deleteCleanupTimer(merged);
    }

    if (mergedStateWindows.length > 0) {
      try {
        this.contents.mergeNamespaces(stateWindowResult, mergedStateWindows);
      } catch (e) {
        throw userCodeFailure(this.ctx.name, e);
      }
    }
  };

  onEventTime(timer: InternalTimer): void {
    this.onTimer(timer, true);
  }

  onProcessingTime(timer: InternalTimer): void {
    this.onTimer(timer, false);
  }

  /** Flink's onEventTime/onProcessingTime: the timer's key is current, its namespace names the window. */
  private onTimer(timer: InternalTimer, eventTimeTimer: boolean): void {
    const namespace = timer.namespace;
    const window = windowFromNamespace(namespace);
    this.triggerContext.setWindow(namespace);

    let mergingWindows: MergingWindowSet<Window> | undefined;
    if (this.mergingAssigner !== undefined) {
      mergingWindows = this.loadMergingWindowSet(this.mergingAssigner);
      const stateWindow = mergingWindows.getStateWindow(namespace);
      // A timer of a window that is no longer in flight: a trigger did not delete its timers, and the
      // window's state is already gone, so there is nothing to do (as Flink).
      if (stateWindow === undefined) return;
      this.contents.setCurrentNamespace(stateWindow);
    } else {
      this.contents.setCurrentNamespace(namespace);
    }

    let result: TriggerResult;
    try {
      result = eventTimeTimer
        ? this.trigger.onEventTime(timer.timestamp, window, this.triggerContext)
        : this.trigger.onProcessingTime(timer.timestamp, window, this.triggerContext);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    if (isFire(result)) {
      const fired = this.currentContents();
      if (fired !== undefined) this.emitWindowContents(window, fired);
    }
    if (isPurge(result)) this.contents.clear();

    // The cleanup timer is of the assigner's time domain only.
    if (eventTimeTimer === this.eventTime && timer.timestamp === this.cleanupTime(window)) {
      this.clearAllState(window, namespace, mergingWindows);
    }
    if (mergingWindows !== undefined) this.persistMergingWindowSet(mergingWindows);
  }

  /** Drops everything of a window: contents, trigger state, per-window user state, merging set entry. */
  private clearAllState(
    window: Window,
    namespace: string,
    mergingWindows: MergingWindowSet<Window> | undefined,
  ): void {
    this.contents.clear();
    this.triggerClear(window);
    this.processContext.current = window;
    try {
      this.windowFunction.clear(this.processContext);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
    mergingWindows?.retireWindow(namespace);
  }

  private emitWindowContents(window: Window, contents: unknown): void {
    this.collector.timestamp = window.maxTimestamp();
    this.processContext.current = window;
    try {
      if (this.evictor === undefined) {
        this.windowFunction.process(
          this.backend.getCurrentKey(),
          window,
          this.processContext,
          contents,
          this.collector,
        );
        return;
      }
      const key = this.backend.getCurrentKey();
      const kept = evaluateWithEvictor(
        this.evictor,
        this.evictorContext,
        window,
        contents as Iterable<StoredElement>,
        (values) =>
          this.windowFunction.process(key, window, this.processContext, values, this.collector),
      );
      // The contents are scoped to the fired window's state namespace still.
      if (kept !== undefined) (this.contents as ListState<StoredElement>).update(kept);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  private readonly evictorContext: EvictorContext = {
    getCurrentProcessingTime: () => this.timers.currentProcessingTime(),
    getCurrentWatermark: () => this.timers.currentWatermark(),
  };

  private addToContents(value: unknown, timestamp: number | undefined): void {
    try {
      // Calls the user's reduce function or aggregate function; with an evictor, buffers.
      if (this.evictor === undefined) this.contents.add(value);
      else (this.contents as ListState<StoredElement>).add([value, timestamp]);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  /** The contents of the current namespace, or undefined for an empty window (Flink's `null`). */
  private currentContents(): unknown {
    let contents: unknown;
    try {
      contents = this.contents.get();
    } catch (e) {
      // AggregateFunction.getResult runs here.
      throw userCodeFailure(this.ctx.name, e);
    }
    if (this.listContents) {
      const iterable = contents as Iterable<unknown>;
      const empty = Array.isArray(iterable)
        ? iterable.length === 0
        : iterable[Symbol.iterator]().next().done === true;
      return empty ? undefined : iterable;
    }
    return contents;
  }

  private triggerOnElement(
    value: unknown,
    timestamp: number | undefined,
    window: Window,
  ): TriggerResult {
    try {
      return this.trigger.onElement(value, timestamp, window, this.triggerContext);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  private triggerClear(window: Window): void {
    try {
      this.trigger.clear(window, this.triggerContext);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  private loadMergingWindowSet(
    assigner: MergingWindowAssigner<unknown, Window>,
  ): MergingWindowSet<Window> {
    return new MergingWindowSet(assigner, this.mergingSetState!.value());
  }

  private persistMergingWindowSet(mergingWindows: MergingWindowSet<Window>): void {
    const persisted = mergingWindows.toPersist();
    if (persisted === undefined) return;
    // No in-flight windows: no entry at all, so idle keys leave no state behind.
    this.mergingSetState!.update(persisted.length === 0 ? undefined : persisted);
  }

  /**
   * `maxTimestamp + allowedLateness` for event time, the window's end for processing time.
   * Flink saturates at Long.MAX_VALUE when the sum overflows; MAX_TIMESTAMP plays that role here.
   */
  private cleanupTime(window: Window): number {
    const maxTimestamp = window.maxTimestamp();
    if (!this.eventTime) return maxTimestamp;
    const time = maxTimestamp + this.allowedLateness;
    return time >= MAX_TIMESTAMP ? MAX_TIMESTAMP : time;
  }

  private isWindowLate(window: Window): boolean {
    return this.eventTime && this.cleanupTime(window) <= this.timers.currentWatermark();
  }

  private isElementLate(timestamp: number | undefined): boolean {
    // A record without a timestamp counts as Long.MIN_VALUE, as in Flink.
    return (
      this.eventTime &&
      (timestamp ?? MIN_TIMESTAMP) + this.allowedLateness <= this.timers.currentWatermark()
    );
  }

  private registerCleanupTimer(window: Window): void {
    const time = this.cleanupTime(window);
    // No timer at the end of time: it would never fire before the job ends.
    if (time === MAX_TIMESTAMP) return;
    if (this.eventTime) this.triggerContext.registerCleanupEventTimeTimer(time);
    else this.triggerContext.registerCleanupProcessingTimeTimer(time);
  }

  private deleteCleanupTimer(window: Window): void {
    const time = this.cleanupTime(window);
    if (time === MAX_TIMESTAMP) return;
    if (this.eventTime) this.triggerContext.deleteEventTimeTimer(time);
    else this.triggerContext.deleteProcessingTimeTimer(time);
  }
}

const NO_NAMESPACES: readonly string[] = [];

/**
 * The trigger's view of the operator (Flink's `WindowOperator.Context`): one instance, re-pointed
 * at the current window before each trigger call. Timers and state are scoped to the window.
 */
class WindowTriggerContext implements OnMergeContext {
  private namespace = '';
  /** While the trigger merges: the namespaces of the windows merged into the current one. */
  mergedNamespaces: readonly string[] = NO_NAMESPACES;
  private readonly handles = new Map<StateDescriptor<State>, NamespacedState<State>>();
  // The last timers the trigger registered for the current window: the cleanup timer is usually
  // the same timer (EventTimeTrigger without lateness), so registering it again can be skipped.
  private lastEventTimer = Number.NaN;
  private lastProcessingTimer = Number.NaN;

  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly timers: InternalTimerService,
  ) {}

  /** Points the context at a window (by its namespace) before a trigger call. */
  setWindow(namespace: string): void {
    this.namespace = namespace;
    this.lastEventTimer = Number.NaN;
    this.lastProcessingTimer = Number.NaN;
  }

  getCurrentProcessingTime(): number {
    return this.timers.currentProcessingTime();
  }
  getCurrentWatermark(): number {
    return this.timers.currentWatermark();
  }
  registerProcessingTimeTimer(time: number): void {
    this.timers.registerProcessingTimeTimer(this.namespace, time);
    this.lastProcessingTimer = time;
  }
  registerEventTimeTimer(time: number): void {
    this.timers.registerEventTimeTimer(this.namespace, time);
    this.lastEventTimer = time;
  }
  deleteProcessingTimeTimer(time: number): void {
    this.timers.deleteProcessingTimeTimer(this.namespace, time);
    if (time === this.lastProcessingTimer) this.lastProcessingTimer = Number.NaN;
  }
  deleteEventTimeTimer(time: number): void {
    this.timers.deleteEventTimeTimer(this.namespace, time);
    if (time === this.lastEventTimer) this.lastEventTimer = Number.NaN;
  }

  /** Registers the window's cleanup timer unless the trigger just registered the same one. */
  registerCleanupEventTimeTimer(time: number): void {
    if (time !== this.lastEventTimer) this.registerEventTimeTimer(time);
  }
  registerCleanupProcessingTimeTimer(time: number): void {
    if (time !== this.lastProcessingTimer) this.registerProcessingTimeTimer(time);
  }

  getPartitionedState<S extends State>(descriptor: StateDescriptor<S>): S {
    const state = this.handle(descriptor);
    state.setCurrentNamespace(this.namespace);
    return state;
  }

  mergePartitionedState<S extends State>(descriptor: StateDescriptor<S>): void {
    if (this.mergedNamespaces.length === 0) return;
    if (
      descriptor.kind !== 'list' &&
      descriptor.kind !== 'reducing' &&
      descriptor.kind !== 'aggregating'
    ) {
      throw new JobDefinitionError(
        `Trigger state "${descriptor.name}" is ${descriptor.kind} state, which cannot be merged; ` +
          'mergePartitionedState needs a ListState, ReducingState or AggregatingState descriptor',
      );
    }
    this.handle(descriptor).mergeNamespaces(this.namespace, this.mergedNamespaces);
  }

  // Cached per descriptor object: a trigger such as CountTrigger asks for its state on every element.
  private handle<S extends State>(descriptor: StateDescriptor<S>): NamespacedState<S> {
    let state = this.handles.get(descriptor);
    if (state === undefined) {
      state = this.backend.getState(descriptor);
      this.handles.set(descriptor, state);
    }
    return state as NamespacedState<S>;
  }
}

function unsupportedPerWindowState(): never {
  throw new Error(
    'Per-window state is not supported when using merging windows (session windows): ' +
      'use globalState() or the runtime context for state of the key',
  );
}

/** Flink's `MergingWindowStateStore`: merging windows have no per-window state. */
const MERGING_WINDOW_STATE_STORE: KeyedStateStore = {
  getState: unsupportedPerWindowState,
  getListState: unsupportedPerWindowState,
  getMapState: unsupportedPerWindowState,
  getReducingState: unsupportedPerWindowState,
  getAggregatingState: unsupportedPerWindowState,
};

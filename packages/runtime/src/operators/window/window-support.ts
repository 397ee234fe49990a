import type {
  Collector,
  KeyedStateStore,
  OperatorSpec,
  OutputTag,
  ProcessWindowContext,
  RuntimeContext,
  State,
  StateDescriptor,
  Window,
} from '@nimble/api';
import { RichFunction } from '@nimble/api';
import { PromiseReturnedError, throwIfPromise, userCodeFailure } from '../../errors.js';
import type { KeyedStateBackend } from '../../state/index.js';
import type { Output } from '../operator.js';
import type { FunctionLifecycle } from '../function-lifecycle.js';
import { hasLifecycle } from '../function-lifecycle.js';

// What both window operators share (window-operator.ts, aligned-window-operator.ts): the
// contexts user functions see, and the lifecycle of those functions.

/** The spec of a window operator, as the DataStream API builds it. */
export type WindowOperatorSpec = Extract<OperatorSpec, { kind: 'window' }>;

// Flink's state name, so a port's own descriptors collide (or not) exactly as they would in Flink.
export const CONTENTS_STATE_NAME = 'window-contents';

/** The aligned window operator's state: per key, the accumulators of its open windows. */
export const ALIGNED_STATE_NAME = 'window-accumulators';

/** Keyed state of the current key in a namespace: per window, or the key's global namespace. */
export class NamespacedStateStore implements KeyedStateStore {
  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly namespace: () => string,
  ) {}
  getState: KeyedStateStore['getState'] = (d) => this.scoped(d);
  getListState: KeyedStateStore['getListState'] = (d) => this.scoped(d);
  getMapState: KeyedStateStore['getMapState'] = (d) => this.scoped(d);
  getReducingState: KeyedStateStore['getReducingState'] = (d) => this.scoped(d);
  getAggregatingState: KeyedStateStore['getAggregatingState'] = (d) => this.scoped(d);

  // As Flink, the handle is shared per descriptor: getting it again for another namespace re-points
  // earlier references to it too.
  private scoped<S extends State>(descriptor: StateDescriptor<S>): S {
    const state = this.backend.getState(descriptor);
    state.setCurrentNamespace(this.namespace());
    return state;
  }
}

/** The context of window functions (Flink's `WindowOperator.WindowContext`): one instance, re-pointed per firing. */
export class WindowProcessContext implements ProcessWindowContext<Window> {
  current!: Window;

  constructor(
    private readonly timers: WindowClock,
    private readonly perWindowState: KeyedStateStore,
    private readonly global: KeyedStateStore,
    private readonly out: Output<unknown>,
  ) {}

  window(): Window {
    return this.current;
  }
  currentProcessingTime(): number {
    return this.timers.currentProcessingTime();
  }
  currentWatermark(): number {
    return this.timers.currentWatermark();
  }
  windowState(): KeyedStateStore {
    return this.perWindowState;
  }
  globalState(): KeyedStateStore {
    return this.global;
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    // Flink stamps side output of a window function with the window's max timestamp.
    this.out.collectSide(tag.id, value, this.current.maxTimestamp());
  }
}

/** Emits a window's results with the window's max timestamp. */
export class WindowCollector implements Collector<unknown> {
  timestamp: number | undefined;
  constructor(private readonly out: Output<unknown>) {}
  collect(value: unknown): void {
    this.out.collect(value, this.timestamp);
  }
}

/** The runtime context of the window's user functions: their keyed state is the key's global state. */
export function windowRuntimeContext(
  base: RuntimeContext,
  global: KeyedStateStore,
): RuntimeContext {
  return {
    ...base,
    getState: (d) => global.getState(d),
    getListState: (d) => global.getListState(d),
    getMapState: (d) => global.getMapState(d),
    getReducingState: (d) => global.getReducingState(d),
    getAggregatingState: (d) => global.getAggregatingState(d),
  };
}

/** The operator's clocks, as window functions see them. */
export interface WindowClock {
  currentProcessingTime(): number;
  currentWatermark(): number;
}

/** The user functions of a window: its reduce or aggregate function, and its window function. */
export function windowUserFunctions(fn: WindowOperatorSpec['fn']): unknown[] {
  return [
    fn.kind === 'reduce' ? fn.reduce : fn.kind === 'aggregate' ? fn.aggregate : undefined,
    fn.window?.fn,
  ];
}

/** Those of a window's user functions that have a lifecycle, each once. */
export function windowRichFunctions(fn: WindowOperatorSpec['fn']): FunctionLifecycle[] {
  const candidates = windowUserFunctions(fn);
  return candidates.filter(
    (f, i): f is FunctionLifecycle => hasLifecycle(f) && candidates.indexOf(f) === i,
  );
}

/** Gives the window's rich functions their runtime context and opens them. */
export function openWindowFunctions(
  functions: readonly FunctionLifecycle[],
  runtimeContext: RuntimeContext,
  operatorName: string,
): void {
  for (const fn of functions) {
    if (fn instanceof RichFunction) fn.setRuntimeContext(runtimeContext);
    try {
      throwIfPromise(fn.open?.(runtimeContext), 'open()');
    } catch (e) {
      const where = e instanceof PromiseReturnedError ? operatorName : `${operatorName}: open()`;
      throw userCodeFailure(where, e);
    }
  }
}

/** Closes every function even if one fails; returns the first failure. */
export function closeWindowFunctions(
  functions: readonly FunctionLifecycle[],
  operatorName: string,
): unknown {
  let failure: unknown;
  for (const fn of functions) {
    try {
      fn.close?.();
    } catch (e) {
      failure ??= userCodeFailure(`${operatorName}: close()`, e);
    }
  }
  return failure;
}

import type {
  Collector,
  Key,
  ProcessWindowContext,
  ProcessWindowFunction,
  Window,
  WindowFnSpec,
  WindowFunction,
  WindowFunctionSpec,
} from '@nimble/api';

/**
 * What the window operator calls when a window fires (Flink's `InternalWindowFunction`): hides
 * whether the contents are one pre-aggregated value or all elements, and which kind of user
 * function (if any) evaluates them.
 */
export interface InternalWindowFunction {
  process(
    key: Key,
    window: Window,
    context: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void;
  /** The window is cleaned up: lets a ProcessWindowFunction drop its per-window state. */
  clear(context: ProcessWindowContext<Window>): void;
}

/** reduce/aggregate without a window function: the pre-aggregated value is the result. */
class PassThroughFunction implements InternalWindowFunction {
  process(
    _k: Key,
    _w: Window,
    _c: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void {
    out.collect(contents);
  }
  clear(): void {}
}

/** reduce/aggregate with a ProcessWindowFunction: it sees the single pre-aggregated value. */
class SingleValueProcessFunction implements InternalWindowFunction {
  constructor(private readonly fn: ProcessWindowFunction<unknown, unknown, Key, Window>) {}
  process(
    key: Key,
    _w: Window,
    context: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void {
    this.fn.process(key, context, [contents], out);
  }
  clear(context: ProcessWindowContext<Window>): void {
    this.fn.clear(context);
  }
}

/** reduce/aggregate with a legacy WindowFunction. */
class SingleValueApplyFunction implements InternalWindowFunction {
  constructor(private readonly fn: WindowFunction<unknown, unknown, Key, Window>) {}
  process(
    key: Key,
    window: Window,
    _c: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void {
    this.fn(key, window, [contents], out);
  }
  clear(): void {}
}

/** process: the ProcessWindowFunction sees every buffered element. */
class IterableProcessFunction implements InternalWindowFunction {
  constructor(private readonly fn: ProcessWindowFunction<unknown, unknown, Key, Window>) {}
  process(
    key: Key,
    _w: Window,
    context: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void {
    this.fn.process(key, context, contents as Iterable<unknown>, out);
  }
  clear(context: ProcessWindowContext<Window>): void {
    this.fn.clear(context);
  }
}

/** apply: the legacy WindowFunction sees every buffered element. */
class IterableApplyFunction implements InternalWindowFunction {
  constructor(private readonly fn: WindowFunction<unknown, unknown, Key, Window>) {}
  process(
    key: Key,
    window: Window,
    _c: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void {
    this.fn(key, window, contents as Iterable<unknown>, out);
  }
  clear(): void {}
}

/** The internal function of a window spec. */
export function internalWindowFunction(spec: WindowFunctionSpec): InternalWindowFunction {
  if (spec.kind === 'process') return iterable(spec.window);
  return spec.window === undefined ? new PassThroughFunction() : singleValue(spec.window);
}

function singleValue(fn: WindowFnSpec): InternalWindowFunction {
  return fn.kind === 'process'
    ? new SingleValueProcessFunction(fn.fn)
    : new SingleValueApplyFunction(fn.fn);
}

function iterable(fn: WindowFnSpec): InternalWindowFunction {
  return fn.kind === 'process'
    ? new IterableProcessFunction(fn.fn)
    : new IterableApplyFunction(fn.fn);
}

import type {
  AggregateFunction,
  Collector,
  Key,
  ProcessWindowContext,
  ProcessWindowFunction,
  ReduceFunction,
  ReduceFunctionObject,
  Window,
  WindowFnSpec,
  WindowFunction,
  WindowFunctionSpec,
} from '@nimble/api';
import { throwIfPromise } from '../../errors.js';
import { userMethod } from '../function-lifecycle.js';

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
    const returned: unknown = this.fn.process(key, context, [contents], out);
    if (returned !== undefined) throwIfPromise(returned, 'process()');
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
    const returned: unknown = this.fn(key, window, [contents], out);
    if (returned !== undefined) throwIfPromise(returned, 'apply()');
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
    const returned: unknown = this.fn.process(key, context, contents as Iterable<unknown>, out);
    if (returned !== undefined) throwIfPromise(returned, 'process()');
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
    const returned: unknown = this.fn(key, window, contents as Iterable<unknown>, out);
    if (returned !== undefined) throwIfPromise(returned, 'apply()');
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

/**
 * reduce with an evictor (Flink's ReduceApplyWindowFunction): the window keeps the elements, and
 * the reduce folds what the evictor left at each firing. A pane the evictor emptied has no
 * result, so nothing is emitted (Flink hands null to the window function then).
 */
class ReduceOverElements implements InternalWindowFunction {
  constructor(
    private readonly reduce: ReduceFunction<unknown>,
    private readonly then: InternalWindowFunction,
  ) {}
  process(
    key: Key,
    window: Window,
    context: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void {
    let empty = true;
    let result: unknown;
    for (const value of contents as Iterable<unknown>) {
      result = empty ? value : this.reduce(result, value);
      empty = false;
    }
    if (!empty) this.then.process(key, window, context, result, out);
  }
  clear(context: ProcessWindowContext<Window>): void {
    this.then.clear(context);
  }
}

/**
 * aggregate with an evictor (Flink's AggregateApplyWindowFunction): a fresh accumulator takes
 * the elements the evictor left at each firing; as in Flink, an emptied pane gives the result of
 * the empty accumulator.
 */
class AggregateOverElements implements InternalWindowFunction {
  constructor(
    private readonly aggregate: AggregateFunction<unknown, unknown, unknown>,
    private readonly then: InternalWindowFunction,
  ) {}
  process(
    key: Key,
    window: Window,
    context: ProcessWindowContext<Window>,
    contents: unknown,
    out: Collector<unknown>,
  ): void {
    let accumulator = this.aggregate.createAccumulator();
    for (const value of contents as Iterable<unknown>) {
      accumulator = this.aggregate.add(value, accumulator);
    }
    this.then.process(key, window, context, this.aggregate.getResult(accumulator), out);
  }
  clear(context: ProcessWindowContext<Window>): void {
    this.then.clear(context);
  }
}

/**
 * The internal function of a window spec with an evictor: the contents are always all elements
 * (what the evictor left), and reduce and aggregate run over them when the window fires.
 */
export function evictingWindowFunction(spec: WindowFunctionSpec): InternalWindowFunction {
  switch (spec.kind) {
    case 'process':
      return iterable(spec.window);
    case 'reduce':
      return new ReduceOverElements(
        windowReduceFunction(spec.reduce),
        afterAggregation(spec.window),
      );
    case 'aggregate':
      return new AggregateOverElements(
        windowAggregateFunction(spec.aggregate),
        afterAggregation(spec.window),
      );
  }
}

function afterAggregation(fn: WindowFnSpec | undefined): InternalWindowFunction {
  return fn === undefined ? new PassThroughFunction() : singleValue(fn);
}

/**
 * The reduce function of a window's contents as the state backend calls it: the user's function,
 * or a function object's `reduce` bound to it, refusing a returned Promise (an async reduce would
 * fold promises into the window).
 */
export function windowReduceFunction(
  fn: ReduceFunction<unknown> | ReduceFunctionObject<unknown>,
): ReduceFunction<unknown> {
  const reduce = userMethod(fn, 'reduce');
  return (a, b) => {
    const result = reduce(a, b);
    throwIfPromise(result, 'reduce()');
    return result;
  };
}

/** The aggregate function of a window's contents, refusing a returned Promise from any method. */
export function windowAggregateFunction(
  fn: AggregateFunction<unknown, unknown, unknown>,
): AggregateFunction<unknown, unknown, unknown> {
  const checked = <T>(result: T, method: string): T => {
    throwIfPromise(result, method);
    return result;
  };
  return {
    createAccumulator: () => checked(fn.createAccumulator(), 'createAccumulator()'),
    add: (value, accumulator) => checked(fn.add(value, accumulator), 'add()'),
    getResult: (accumulator) => checked(fn.getResult(accumulator), 'getResult()'),
    merge: (a, b) => checked(fn.merge(a, b), 'merge()'),
  };
}

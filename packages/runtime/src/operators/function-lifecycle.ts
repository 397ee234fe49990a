import type { RuntimeContext } from '@nimble/api';
import { RichFunction } from '@nimble/api';
import { PromiseReturnedError, throwIfPromise, userCodeFailure } from '../errors.js';
import type { OperatorContext } from './operator.js';
import { createRuntimeContext } from './operator.js';

/** A user function that may have a lifecycle: a {@link RichFunction}, or any object with `open`/`close`. */
export interface FunctionLifecycle {
  open?(ctx: RuntimeContext): void;
  close?(): void;
}

/** Whether `fn` has an `open` or `close` method (a rich function, or an object with them). */
export function hasLifecycle(fn: unknown): fn is FunctionLifecycle {
  if (fn === null || (typeof fn !== 'object' && typeof fn !== 'function')) return false;
  const f = fn as Record<string, unknown>;
  return typeof f['open'] === 'function' || typeof f['close'] === 'function';
}

/**
 * Gives a user function its runtime context and calls its `open`, as Flink's
 * `FunctionUtils.openFunction` does for rich functions. Plain closures have no lifecycle.
 * `runtimeContext` replaces the operator's default one (async functions get one without state).
 */
export function openFunction(
  fn: unknown,
  ctx: OperatorContext,
  runtimeContext: RuntimeContext = createRuntimeContext(ctx, ctx.name),
): void {
  if (fn === null || (typeof fn !== 'object' && typeof fn !== 'function')) return;
  if (fn instanceof RichFunction) fn.setRuntimeContext(runtimeContext);
  const open = (fn as FunctionLifecycle).open;
  if (typeof open !== 'function') return;
  try {
    // An async open() would let elements arrive before it finished: refused like async map().
    throwIfPromise(open.call(fn, runtimeContext), 'open()');
  } catch (e) {
    throw userCodeFailure(e instanceof PromiseReturnedError ? ctx.name : `${ctx.name}: open()`, e);
  }
}

/** Calls a user function's `close`, if it has one. */
export function closeFunction(fn: unknown, ctx: OperatorContext): void {
  if (fn === null || (typeof fn !== 'object' && typeof fn !== 'function')) return;
  const close = (fn as FunctionLifecycle).close;
  if (typeof close !== 'function') return;
  try {
    close.call(fn);
  } catch (e) {
    throw userCodeFailure(`${ctx.name}: close()`, e);
  }
}

/**
 * What an operator calls per element: the user's function itself, or the method of a function
 * object (a RichMapFunction, `{ map(v) {...} }`) bound to it. Bound once when the operator opens,
 * so the per-record call is a direct call, with no type test or wrapper per record.
 */
export function userMethod<F extends (...args: any[]) => any, M extends string>(
  fn: F | { readonly [K in M]: F },
  method: M,
): F {
  if (typeof fn === 'function') return fn;
  return (fn[method] as F).bind(fn) as F;
}

import type { RuntimeContext } from '@nimble/api';
import { RichFunction } from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import type { OperatorContext } from './operator.js';
import { createRuntimeContext } from './operator.js';

/** A user function that may have a lifecycle: a {@link RichFunction}, or any object with `open`/`close`. */
interface WithLifecycle {
  open?: (ctx: ReturnType<typeof createRuntimeContext>) => void;
  close?: () => void;
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
  const open = (fn as WithLifecycle).open;
  if (typeof open !== 'function') return;
  try {
    open.call(fn, runtimeContext);
  } catch (e) {
    throw userCodeFailure(`${ctx.name}: open()`, e);
  }
}

/** Calls a user function's `close`, if it has one. */
export function closeFunction(fn: unknown, ctx: OperatorContext): void {
  if (fn === null || (typeof fn !== 'object' && typeof fn !== 'function')) return;
  const close = (fn as WithLifecycle).close;
  if (typeof close !== 'function') return;
  try {
    close.call(fn);
  } catch (e) {
    throw userCodeFailure(`${ctx.name}: close()`, e);
  }
}

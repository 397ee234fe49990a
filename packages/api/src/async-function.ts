import type { RuntimeContext } from './functions.js';
import { RichFunction } from './functions.js';

/**
 * Receives the result of one asynchronous call for one input element (Flink's `ResultFuture`).
 * Only the first completion counts: later calls of `complete` or `completeExceptionally` for the
 * same element are ignored, so a result that races its timeout is harmless.
 */
export interface ResultFuture<OUT> {
  /** Completes the call with its results: zero, one or several output elements. */
  complete(results: Iterable<OUT>): void;
  /**
   * Completes the call with an error. Unless a retry strategy retries it, the job fails with an
   * error that names the operator and carries `error` as its cause.
   */
  completeExceptionally(error: unknown): void;
}

/**
 * A function that looks up or computes its results asynchronously, for
 * {@link AsyncDataStream} (Flink's `AsyncFunction`). `asyncInvoke` starts the call and returns at
 * once; the results arrive later, in either of two ways:
 *
 * - through `resultFuture.complete(results)` (Flink's style), with `asyncInvoke` returning nothing;
 * - by returning a promise of the results (`async asyncInvoke(input) { return [await lookup(input)]; }`).
 *   A promise that resolves to `undefined` leaves completion to the `resultFuture`; a rejected
 *   promise completes the call exceptionally.
 *
 * An object with `open`/`close` (or a {@link RichAsyncFunction}) gets its lifecycle calls.
 *
 * ```ts
 * const enrich: AsyncFunction<Purchase, Enriched> = {
 *   async asyncInvoke(p) {
 *     const profile = await profiles.get(p.user_id);
 *     return [{ ...p, tier: profile.tier }];
 *   },
 * };
 * ```
 */
export interface AsyncFunction<IN, OUT> {
  /** Called once before the first element, with the runtime context. */
  open?(ctx: RuntimeContext): void;
  /** Called once after the last element or when the task is cancelled. */
  close?(): void;
  /**
   * Starts the asynchronous call for `input`. Must not block: do the I/O with promises or
   * callbacks and complete `resultFuture` (or the returned promise) when it is done.
   */
  asyncInvoke(input: IN, resultFuture: ResultFuture<OUT>): void | Promise<Iterable<OUT> | void>;
  /**
   * Called when the call for `input` did not complete within the operator's timeout (which, with
   * a retry strategy, covers all attempts). Without this method the call fails with a
   * {@link TimeoutError}, which fails the job (Flink's default); complete `resultFuture` with a
   * fallback result instead to keep going.
   */
  timeout?(input: IN, resultFuture: ResultFuture<OUT>): void;
}

/**
 * An async function as a plain function: one result per input element, like an asynchronous
 * `map` (`async (e) => ({ ...e, profile: await lookup(e.user) })`). A result that is an array is
 * one output element; to emit zero or several elements per input use an {@link AsyncFunction}.
 */
export type AsyncMapFunction<IN, OUT> = (input: IN) => Promise<OUT>;

/**
 * An {@link AsyncFunction} with a lifecycle (Flink's `RichAsyncFunction`): `open` before the first
 * element, `close` at the end, and the runtime context. As in Flink, its runtime context gives no
 * access to keyed state: results arrive outside the processing of their element, when another
 * key may be current.
 */
export abstract class RichAsyncFunction<IN, OUT>
  extends RichFunction
  implements AsyncFunction<IN, OUT>
{
  /** Starts the asynchronous call for `input` (see {@link AsyncFunction.asyncInvoke}). */
  abstract asyncInvoke(
    input: IN,
    resultFuture: ResultFuture<OUT>,
  ): void | Promise<Iterable<OUT> | void>;

  /**
   * The call for `input` timed out. The default completes it with a {@link TimeoutError}, which
   * fails the job, as Flink's default does; override it to complete with a fallback.
   */
  timeout(_input: IN, resultFuture: ResultFuture<OUT>): void {
    resultFuture.completeExceptionally(new TimeoutError('Async function call has timed out.'));
  }
}

/** An asynchronous call did not complete within its timeout (Flink's `TimeoutException`). */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

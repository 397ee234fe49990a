import type { AsyncFunction, AsyncMapFunction } from './async-function.js';
import type { AsyncRetryStrategy } from './async-retry-strategies.js';
import { AsyncRetryStrategies } from './async-retry-strategies.js';
import type { DataStream, SingleOutputStreamOperator } from './datastream.js';
import type { DurationLike } from './time.js';
import { toMillis } from './time.js';
import type { AsyncOutputMode } from './transformation.js';
import { OneInputTransformation } from './transformation.js';

/** Flink's default capacity: at most 100 calls in flight per subtask. */
const DEFAULT_QUEUE_CAPACITY = 100;

/**
 * Applies an {@link AsyncFunction} to a stream (Flink's `AsyncDataStream`): each element starts an
 * asynchronous call (a lookup in a database, a request to a service), and up to `capacity` calls
 * per subtask are in flight at once while the subtask goes on with the next elements. Results
 * carry their input element's timestamp.
 *
 * - `orderedWait`: results leave in the order of their inputs.
 * - `unorderedWait`: results leave as soon as they complete, but never across a watermark: the
 *   records between two watermarks stay between them.
 *
 * `timeout` (a {@link Duration} or milliseconds; 0: none) bounds each element's call, retries
 * included. A call that fails or times out fails the job, unless the function's `timeout()`
 * completes it or a retry strategy retries it. In-flight elements are part of checkpoints and
 * are called again after a restore, so results are exactly once for state.
 *
 * ```ts
 * const enriched = AsyncDataStream.orderedWait(
 *   purchases,
 *   async (p) => ({ ...p, tier: (await profiles.get(p.user_id)).tier }),
 *   Duration.ofSeconds(1),
 *   100,
 * );
 * ```
 */
export class AsyncDataStream {
  private constructor() {}

  /**
   * Adds an async wait operator whose results leave in input order. `fn` is an
   * {@link AsyncFunction} or a plain async function of one result per element.
   */
  static orderedWait<IN, OUT>(
    stream: DataStream<IN>,
    fn: AsyncFunction<IN, OUT> | AsyncMapFunction<IN, OUT>,
    timeout: DurationLike,
    capacity: number = DEFAULT_QUEUE_CAPACITY,
  ): SingleOutputStreamOperator<OUT> {
    return addOperator(stream, fn, timeout, capacity, 'ordered', NO_RETRY, 'orderedWait');
  }

  /**
   * Adds an async wait operator whose results leave as they complete; watermarks keep their
   * place: no record overtakes a watermark, and a watermark overtakes no record.
   */
  static unorderedWait<IN, OUT>(
    stream: DataStream<IN>,
    fn: AsyncFunction<IN, OUT> | AsyncMapFunction<IN, OUT>,
    timeout: DurationLike,
    capacity: number = DEFAULT_QUEUE_CAPACITY,
  ): SingleOutputStreamOperator<OUT> {
    return addOperator(stream, fn, timeout, capacity, 'unordered', NO_RETRY, 'unorderedWait');
  }

  /**
   * {@link AsyncDataStream.orderedWait} with retries: a call whose results or error match the
   * strategy's predicates is made again after the strategy's backoff, within `timeout` (which
   * must be greater than zero and covers all attempts). Capacity defaults to 100.
   */
  static orderedWaitWithRetry<IN, OUT>(
    stream: DataStream<IN>,
    fn: AsyncFunction<IN, OUT> | AsyncMapFunction<IN, OUT>,
    timeout: DurationLike,
    capacityOrStrategy: number | AsyncRetryStrategy<OUT>,
    retryStrategy?: AsyncRetryStrategy<OUT>,
  ): SingleOutputStreamOperator<OUT> {
    const [capacity, strategy] = retryArgs(
      capacityOrStrategy,
      retryStrategy,
      'orderedWaitWithRetry',
    );
    return addOperator(stream, fn, timeout, capacity, 'ordered', strategy, 'orderedWaitWithRetry');
  }

  /**
   * {@link AsyncDataStream.unorderedWait} with retries (see
   * {@link AsyncDataStream.orderedWaitWithRetry}). Capacity defaults to 100.
   */
  static unorderedWaitWithRetry<IN, OUT>(
    stream: DataStream<IN>,
    fn: AsyncFunction<IN, OUT> | AsyncMapFunction<IN, OUT>,
    timeout: DurationLike,
    capacityOrStrategy: number | AsyncRetryStrategy<OUT>,
    retryStrategy?: AsyncRetryStrategy<OUT>,
  ): SingleOutputStreamOperator<OUT> {
    const [capacity, strategy] = retryArgs(
      capacityOrStrategy,
      retryStrategy,
      'unorderedWaitWithRetry',
    );
    return addOperator(
      stream,
      fn,
      timeout,
      capacity,
      'unordered',
      strategy,
      'unorderedWaitWithRetry',
    );
  }
}

const NO_RETRY: AsyncRetryStrategy<any> = AsyncRetryStrategies.NO_RETRY_STRATEGY;

/** Flink's two overloads: (timeout, strategy) with the default capacity, or (timeout, capacity, strategy). */
function retryArgs<OUT>(
  capacityOrStrategy: number | AsyncRetryStrategy<OUT>,
  retryStrategy: AsyncRetryStrategy<OUT> | undefined,
  method: string,
): [number, AsyncRetryStrategy<OUT>] {
  const [capacity, strategy] =
    typeof capacityOrStrategy === 'number'
      ? [capacityOrStrategy, retryStrategy]
      : [DEFAULT_QUEUE_CAPACITY, capacityOrStrategy];
  if (
    strategy === undefined ||
    typeof strategy.canRetry !== 'function' ||
    typeof strategy.getRetryPredicate !== 'function'
  ) {
    throw new TypeError(
      `AsyncDataStream.${method}() needs an AsyncRetryStrategy, e.g. new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder(3, 100).ifException(...).build()`,
    );
  }
  return [capacity, strategy];
}

function addOperator<IN, OUT>(
  stream: DataStream<IN>,
  fn: AsyncFunction<IN, OUT> | AsyncMapFunction<IN, OUT>,
  timeout: DurationLike,
  capacity: number,
  outputMode: AsyncOutputMode,
  retryStrategy: AsyncRetryStrategy<OUT>,
  method: string,
): SingleOutputStreamOperator<OUT> {
  if (typeof fn !== 'function' && typeof fn?.asyncInvoke !== 'function') {
    throw new TypeError(
      `AsyncDataStream.${method}() needs an AsyncFunction (an object with asyncInvoke) or an async function of the element`,
    );
  }
  if (!Number.isInteger(capacity) || capacity <= 0) {
    throw new RangeError(
      `AsyncDataStream.${method}(): the capacity (the number of concurrent async operations) should be a positive integer; got ${capacity}`,
    );
  }
  const timeoutMillis = toMillis(timeout);
  if (retryStrategy !== NO_RETRY && timeoutMillis <= 0) {
    // As Flink: without a timeout, a call that is retried forever would never end.
    throw new RangeError(
      `AsyncDataStream.${method}() needs a timeout greater than zero: it bounds all attempts of a call`,
    );
  }
  const t = new OneInputTransformation<IN, OUT>(
    stream.env.newId(),
    'async wait operator',
    stream.getTransformation(),
    { kind: 'asyncWait', fn, timeoutMillis, capacity, outputMode, retryStrategy },
    undefined,
  );
  return stream.operatorStream(t);
}

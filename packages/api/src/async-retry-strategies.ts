/**
 * When a completed asynchronous call is retried (Flink's `AsyncRetryPredicate`): a predicate on
 * the results, on the error, or both. A missing predicate never asks for a retry (Flink's empty
 * `Optional`).
 */
export interface AsyncRetryPredicate<OUT> {
  /** True: the call's results ask for another attempt (e.g. an empty lookup result). */
  readonly resultPredicate?: (results: readonly OUT[]) => boolean;
  /** True: the call's error asks for another attempt (e.g. a connection reset). */
  readonly exceptionPredicate?: (error: Error) => boolean;
}

/**
 * How an asynchronous call is retried (Flink's `AsyncRetryStrategy`). `currentAttempts` is the
 * number of attempts made so far (1 after the first call).
 */
export interface AsyncRetryStrategy<OUT> {
  /** Whether another attempt may follow `currentAttempts` attempts. */
  canRetry(currentAttempts: number): boolean;
  /** Milliseconds to wait before the attempt after `currentAttempts` attempts. */
  getBackoffTimeMillis(currentAttempts: number): number;
  /** Which results and errors are retried. */
  getRetryPredicate(): AsyncRetryPredicate<OUT>;
}

function checkPositiveInteger(what: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`${what} should be a positive integer; got ${n}`);
  }
}

function checkPositive(what: string, n: number): void {
  if (!Number.isFinite(n) || n <= 0)
    throw new RangeError(`${what} should be greater than zero; got ${n}`);
}

/**
 * Retries up to `maxAttempts` times after the first attempt, `backoffTimeMillis` apart (Flink's
 * `FixedDelayRetryStrategy`: `canRetry(n)` is `n <= maxAttempts`, so the function is called at
 * most `maxAttempts + 1` times).
 */
export class FixedDelayRetryStrategy<OUT> implements AsyncRetryStrategy<OUT> {
  /** @internal use {@link FixedDelayRetryStrategyBuilder} */
  constructor(
    private readonly maxAttempts: number,
    private readonly backoffTimeMillis: number,
    private readonly predicate: AsyncRetryPredicate<OUT>,
  ) {}
  /** True while fewer than `maxAttempts` retries were made. */
  canRetry(currentAttempts: number): boolean {
    return currentAttempts <= this.maxAttempts;
  }
  /** The fixed delay. */
  getBackoffTimeMillis(): number {
    return this.backoffTimeMillis;
  }
  /** The predicates given to the builder. */
  getRetryPredicate(): AsyncRetryPredicate<OUT> {
    return this.predicate;
  }
}

/** Builds a {@link FixedDelayRetryStrategy} (Flink's `FixedDelayRetryStrategyBuilder`). */
export class FixedDelayRetryStrategyBuilder<OUT> {
  private resultPredicate: ((results: readonly OUT[]) => boolean) | undefined;
  private exceptionPredicate: ((error: Error) => boolean) | undefined;

  /** Up to `maxAttempts` retries, `backoffTimeMillis` ms apart; both must be greater than zero. */
  constructor(
    private readonly maxAttempts: number,
    private readonly backoffTimeMillis: number,
  ) {
    checkPositiveInteger('maxAttempts', maxAttempts);
    checkPositive('backoffTimeMillis', backoffTimeMillis);
  }
  /** Retries when `predicate` holds for the results. */
  ifResult(predicate: (results: readonly OUT[]) => boolean): this {
    this.resultPredicate = predicate;
    return this;
  }
  /** Retries when `predicate` holds for the error. */
  ifException(predicate: (error: Error) => boolean): this {
    this.exceptionPredicate = predicate;
    return this;
  }
  /** The strategy. */
  build(): FixedDelayRetryStrategy<OUT> {
    return new FixedDelayRetryStrategy<OUT>(this.maxAttempts, this.backoffTimeMillis, {
      resultPredicate: this.resultPredicate,
      exceptionPredicate: this.exceptionPredicate,
    });
  }
}

/**
 * Retries up to `maxAttempts` times after the first attempt, waiting `initialDelay` ms before
 * the first retry and `multiplier` times longer before each next one, at most `maxRetryDelay` ms
 * (Flink's `ExponentialBackoffDelayRetryStrategy`). The delay derives from the element's own
 * attempt count; Flink's keeps one running delay per strategy instance, shared by all elements.
 */
export class ExponentialBackoffDelayRetryStrategy<OUT> implements AsyncRetryStrategy<OUT> {
  /** @internal use {@link ExponentialBackoffDelayRetryStrategyBuilder} */
  constructor(
    private readonly maxAttempts: number,
    private readonly initialDelay: number,
    private readonly maxRetryDelay: number,
    private readonly multiplier: number,
    private readonly predicate: AsyncRetryPredicate<OUT>,
  ) {}
  /** True while fewer than `maxAttempts` retries were made. */
  canRetry(currentAttempts: number): boolean {
    return currentAttempts <= this.maxAttempts;
  }
  /** `initialDelay * multiplier^(currentAttempts - 1)`, at most `maxRetryDelay`. */
  getBackoffTimeMillis(currentAttempts: number): number {
    const delay = this.initialDelay * this.multiplier ** Math.max(0, currentAttempts - 1);
    return Math.min(Math.floor(delay), this.maxRetryDelay);
  }
  /** The predicates given to the builder. */
  getRetryPredicate(): AsyncRetryPredicate<OUT> {
    return this.predicate;
  }
}

/** Builds an {@link ExponentialBackoffDelayRetryStrategy} (Flink's builder of the same name). */
export class ExponentialBackoffDelayRetryStrategyBuilder<OUT> {
  private resultPredicate: ((results: readonly OUT[]) => boolean) | undefined;
  private exceptionPredicate: ((error: Error) => boolean) | undefined;

  /**
   * Up to `maxAttempts` retries; the first after `initialDelay` ms, each next one `multiplier`
   * (>= 1) times later, at most `maxRetryDelay` ms.
   */
  constructor(
    private readonly maxAttempts: number,
    private readonly initialDelay: number,
    private readonly maxRetryDelay: number,
    private readonly multiplier: number,
  ) {
    checkPositiveInteger('maxAttempts', maxAttempts);
    checkPositive('initialDelay', initialDelay);
    if (!(maxRetryDelay >= initialDelay)) {
      throw new RangeError(
        `maxRetryDelay (${maxRetryDelay}) should be at least initialDelay (${initialDelay})`,
      );
    }
    if (!(multiplier >= 1) || !Number.isFinite(multiplier)) {
      throw new RangeError(`multiplier should be at least 1; got ${multiplier}`);
    }
  }
  /** Retries when `predicate` holds for the results. */
  ifResult(predicate: (results: readonly OUT[]) => boolean): this {
    this.resultPredicate = predicate;
    return this;
  }
  /** Retries when `predicate` holds for the error. */
  ifException(predicate: (error: Error) => boolean): this {
    this.exceptionPredicate = predicate;
    return this;
  }
  /** The strategy. */
  build(): ExponentialBackoffDelayRetryStrategy<OUT> {
    return new ExponentialBackoffDelayRetryStrategy<OUT>(
      this.maxAttempts,
      this.initialDelay,
      this.maxRetryDelay,
      this.multiplier,
      { resultPredicate: this.resultPredicate, exceptionPredicate: this.exceptionPredicate },
    );
  }
}

/** Never retries. */
const NO_RETRY_STRATEGY: AsyncRetryStrategy<any> = Object.freeze({
  canRetry: () => false,
  getBackoffTimeMillis: () => -1,
  getRetryPredicate: () => ({}),
});

/**
 * The built-in retry strategies, under Flink's names:
 *
 * ```ts
 * const retry = new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder<Enriched>(3, 100)
 *   .ifException((e) => e instanceof TimeoutError || e.name === 'FetchError')
 *   .build();
 * AsyncDataStream.unorderedWaitWithRetry(stream, lookup, Duration.ofSeconds(2), 100, retry);
 * ```
 */
export class AsyncRetryStrategies {
  /** Never retries (the strategy of `orderedWait` and `unorderedWait`). */
  static readonly NO_RETRY_STRATEGY = NO_RETRY_STRATEGY;
  /** See {@link FixedDelayRetryStrategyBuilder}. */
  static readonly FixedDelayRetryStrategyBuilder = FixedDelayRetryStrategyBuilder;
  /** See {@link ExponentialBackoffDelayRetryStrategyBuilder}. */
  static readonly ExponentialBackoffDelayRetryStrategyBuilder =
    ExponentialBackoffDelayRetryStrategyBuilder;
  private constructor() {}
}

/** Predicates for {@link AsyncRetryPredicate}s, under Flink's names (`RetryPredicates`). */
export const RetryPredicates = {
  /** Retries when the call completed with no results. */
  EMPTY_RESULT_PREDICATE: (results: readonly unknown[]): boolean => results.length === 0,
  /** Retries on every error. */
  HAS_EXCEPTION_PREDICATE: (_error: Error): boolean => true,
  /** Retries on errors of class `type` (and its subclasses). */
  createExceptionTypePredicate:
    (type: abstract new (...args: any[]) => Error) =>
    (error: Error): boolean =>
      error instanceof type,
} as const;

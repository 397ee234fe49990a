// Restart strategies with the semantics of Flink's RestartBackoffTimeStrategy implementations:
// the scheduler reports each failure, then asks whether the job may restart and after how long.
// Pure logic: time comes in with each failure and randomness is injectable, so tests are exact.
import type { ClusterConfiguration, RestartStrategyType } from '@nimble/runtime';
import { IllegalStateError } from '@nimble/runtime';

/**
 * Decides whether a failed job restarts and after what delay. Call {@link notifyFailure} for a
 * failure, then {@link canRestart} and {@link backoffTimeMs}; both answer as of the time of the
 * last failure reported.
 */
export interface RestartStrategy {
  /** Records a failure at `now` (epoch milliseconds). */
  notifyFailure(error: Error, now: number): void;
  /** Whether the job may restart after the failures reported so far. */
  canRestart(): boolean;
  /** Milliseconds to wait, from the last failure, before restarting. */
  backoffTimeMs(): number;
  /** The strategy and its parameters, for logs and the REST API. */
  readonly description: string;
}

/** Options of {@link createRestartStrategy}. */
export interface CreateRestartStrategyOptions {
  /** Whether the job takes checkpoints; decides the strategy when `restart-strategy.type` is unset. */
  readonly checkpointingEnabled: boolean;
  /** Uniform random numbers in [0, 1) for exponential-delay's jitter; `Math.random` by default. */
  readonly random?: () => number;
}

/**
 * The restart strategy `config` selects. When `restart-strategy.type` is unset: `none` without
 * checkpointing, `exponential-delay` with it (Flink 1.19+; a job without checkpoints would restart
 * from scratch and replay or lose data, so restarting it is opt-in).
 */
export function createRestartStrategy(
  config: ClusterConfiguration,
  options: CreateRestartStrategyOptions,
): RestartStrategy {
  const type: RestartStrategyType =
    config.restartStrategy ?? (options.checkpointingEnabled ? 'exponential-delay' : 'none');
  switch (type) {
    case 'none':
      return new NoRestartStrategy();
    case 'fixed-delay':
      return new FixedDelayRestartStrategy(config.fixedDelayAttempts, config.fixedDelayDelay);
    case 'failure-rate':
      return new FailureRateRestartStrategy(
        config.failureRateMaxFailuresPerInterval,
        config.failureRateInterval,
        config.failureRateDelay,
      );
    case 'exponential-delay':
      return new ExponentialDelayRestartStrategy(config, options.random ?? Math.random);
  }
}

class NoRestartStrategy implements RestartStrategy {
  readonly description = 'none';
  notifyFailure(): void {}
  canRestart(): boolean {
    return false;
  }
  backoffTimeMs(): number {
    return 0;
  }
}

/** At most `maxAttempts` restarts in the job's life, each after `delayMs`. */
class FixedDelayRestartStrategy implements RestartStrategy {
  readonly description: string;
  private failures = 0;

  constructor(
    private readonly maxAttempts: number,
    private readonly delayMs: number,
  ) {
    this.description = `fixed-delay (attempts: ${maxAttempts}, delay: ${delayMs} ms)`;
  }

  notifyFailure(): void {
    this.failures++;
  }

  canRestart(): boolean {
    return this.failures <= this.maxAttempts;
  }

  backoffTimeMs(): number {
    return this.delayMs;
  }
}

/**
 * Restarts after `delayMs` unless more than `maxFailuresPerInterval` failures fall within
 * `intervalMs` (the oldest of the last max + 1 failures is not more than an interval ago).
 */
class FailureRateRestartStrategy implements RestartStrategy {
  readonly description: string;
  /** The last `maxFailuresPerInterval + 1` failure times, oldest first. */
  private readonly failureTimes: number[] = [];

  constructor(
    private readonly maxFailuresPerInterval: number,
    private readonly intervalMs: number,
    private readonly delayMs: number,
  ) {
    this.description =
      `failure-rate (max failures per interval: ${maxFailuresPerInterval}, ` +
      `interval: ${intervalMs} ms, delay: ${delayMs} ms)`;
  }

  notifyFailure(_error: Error, now: number): void {
    if (this.failureTimes.length > this.maxFailuresPerInterval) this.failureTimes.shift();
    this.failureTimes.push(now);
  }

  canRestart(): boolean {
    if (this.failureTimes.length <= this.maxFailuresPerInterval) return true;
    return this.failureTimes.at(-1)! - this.failureTimes[0]! > this.intervalMs;
  }

  backoffTimeMs(): number {
    return this.delayMs;
  }
}

/**
 * Flink 1.19+'s exponential delay: the n-th restart since the last reset waits
 * initial * multiplier^(n-1), plus or minus jitter, between initial and max. Failures that arrive
 * while a restart is pending (before its restart time) belong to that restart: they count once.
 * A failure more than the reset threshold after the last restart time starts again from the
 * initial backoff and a fresh attempt count.
 */
class ExponentialDelayRestartStrategy implements RestartStrategy {
  readonly description: string;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly multiplier: number;
  private readonly resetThresholdMs: number;
  private readonly jitterFactor: number;
  private readonly attemptsBeforeReset: number;
  /** Restarts since the backoff was last reset. */
  private attempt = 0;
  /** When the pending (or last) restart happens; none yet before the first failure. */
  private nextRestartTime = Number.NEGATIVE_INFINITY;
  private lastFailureTime: number | undefined;

  constructor(
    config: ClusterConfiguration,
    private readonly random: () => number,
  ) {
    this.initialMs = config.exponentialDelayInitialBackoff;
    this.maxMs = config.exponentialDelayMaxBackoff;
    this.multiplier = config.exponentialDelayBackoffMultiplier;
    this.resetThresholdMs = config.exponentialDelayResetBackoffThreshold;
    this.jitterFactor = config.exponentialDelayJitterFactor;
    this.attemptsBeforeReset = config.exponentialDelayAttemptsBeforeResetBackoff;
    const attempts = Number.isFinite(this.attemptsBeforeReset)
      ? String(this.attemptsBeforeReset)
      : 'unbounded';
    this.description =
      `exponential-delay (initial backoff: ${this.initialMs} ms, max backoff: ${this.maxMs} ms, ` +
      `multiplier: ${this.multiplier}, reset threshold: ${this.resetThresholdMs} ms, ` +
      `jitter: ${this.jitterFactor}, attempts before reset: ${attempts})`;
  }

  notifyFailure(_error: Error, now: number): void {
    this.lastFailureTime = now;
    if (now <= this.nextRestartTime) return;
    if (now - this.nextRestartTime >= this.resetThresholdMs) this.attempt = 0;
    this.nextRestartTime = now + this.backoffOfAttempt(this.attempt);
    this.attempt++;
  }

  canRestart(): boolean {
    return this.attempt <= this.attemptsBeforeReset;
  }

  backoffTimeMs(): number {
    if (this.lastFailureTime === undefined) {
      throw new IllegalStateError('backoffTimeMs() called before any notifyFailure()');
    }
    return Math.max(0, this.nextRestartTime - this.lastFailureTime);
  }

  private backoffOfAttempt(attempt: number): number {
    // Capped like Java's long arithmetic in Flink, so a long run of failures cannot overflow.
    const base = Math.floor(
      Math.min(this.initialMs * this.multiplier ** attempt, Number.MAX_SAFE_INTEGER),
    );
    const offset = Math.floor(base * this.jitterFactor);
    const jitter = offset === 0 ? 0 : Math.floor(this.random() * (2 * offset + 1)) - offset;
    return Math.max(this.initialMs, Math.min(base + jitter, this.maxMs));
  }
}

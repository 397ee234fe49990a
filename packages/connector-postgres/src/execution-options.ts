/** How a JDBC sink batches and retries (Flink's `JdbcExecutionOptions`). */
export class JdbcExecutionOptions {
  /** Flink's defaults: 5000 rows per batch, no timed flush, 3 retries. */
  static readonly DEFAULT_SIZE = 5000;
  static readonly DEFAULT_INTERVAL_MILLIS = 0;
  static readonly DEFAULT_MAX_RETRY_TIMES = 3;

  /** @internal Use {@link JdbcExecutionOptions.builder}. */
  constructor(
    /** Rows buffered before a flush; a checkpoint flushes whatever is buffered. */
    readonly batchSize: number,
    /** A flush at least this often while rows are buffered (0: only by size and at checkpoints). */
    readonly batchIntervalMs: number,
    /** Retries of a batch that failed transiently (a lost connection, a serialization failure). */
    readonly maxRetries: number,
  ) {}

  static builder(): JdbcExecutionOptionsBuilder {
    return new JdbcExecutionOptionsBuilder();
  }

  static defaults(): JdbcExecutionOptions {
    return new JdbcExecutionOptionsBuilder().build();
  }
}

function nonNegativeInteger(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`JdbcExecutionOptions.${what}: a non-negative integer; got ${n}`);
  }
  return n;
}

/** Builds {@link JdbcExecutionOptions}. */
export class JdbcExecutionOptionsBuilder {
  private size = JdbcExecutionOptions.DEFAULT_SIZE;
  private intervalMs = JdbcExecutionOptions.DEFAULT_INTERVAL_MILLIS;
  private maxRetries = JdbcExecutionOptions.DEFAULT_MAX_RETRY_TIMES;

  withBatchSize(size: number): this {
    this.size = nonNegativeInteger(size, 'withBatchSize');
    return this;
  }
  withBatchIntervalMs(intervalMs: number): this {
    this.intervalMs = nonNegativeInteger(intervalMs, 'withBatchIntervalMs');
    return this;
  }
  withMaxRetries(maxRetries: number): this {
    this.maxRetries = nonNegativeInteger(maxRetries, 'withMaxRetries');
    return this;
  }
  build(): JdbcExecutionOptions {
    // A batch size of 0 (Flink: "disabled") flushes by interval and at checkpoints only.
    return new JdbcExecutionOptions(this.size, this.intervalMs, this.maxRetries);
  }
}

/**
 * What the exactly-once sink needs besides batching (Flink's `JdbcExactlyOnceOptions`): the
 * prefix of its prepared transactions' ids, unique to the job, and how often a commit is tried.
 */
export class JdbcExactlyOnceOptions {
  /** @internal Use {@link JdbcExactlyOnceOptions.builder}. */
  constructor(
    readonly transactionIdPrefix: string,
    /** Whether prepared transactions of the job are committed or rolled back at start (default true). */
    readonly recoveredAndRollback: boolean,
    /** Attempts of one `COMMIT PREPARED` that fails transiently (default 3). */
    readonly maxCommitAttempts: number,
  ) {}

  static builder(): JdbcExactlyOnceOptionsBuilder {
    return new JdbcExactlyOnceOptionsBuilder();
  }
}

/** Builds {@link JdbcExactlyOnceOptions}. */
export class JdbcExactlyOnceOptionsBuilder {
  private prefix: string | undefined;
  private recover = true;
  private attempts = 3;

  /**
   * The prefix of the prepared transactions' ids (`<prefix>-<subtask>-<checkpoint>`). It must be
   * unique per job and stay the same across restores: the sink commits or rolls back the prepared
   * transactions with this prefix that a failed attempt left.
   */
  withTransactionIdPrefix(prefix: string): this {
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(prefix)) {
      throw new TypeError(
        'JdbcExactlyOnceOptions.withTransactionIdPrefix: 1 to 100 characters of letters, digits, _ . : -',
      );
    }
    this.prefix = prefix;
    return this;
  }
  withRecoveredAndRollback(recover: boolean): this {
    this.recover = recover;
    return this;
  }
  withMaxCommitAttempts(attempts: number): this {
    if (!Number.isSafeInteger(attempts) || attempts < 1) {
      throw new TypeError('JdbcExactlyOnceOptions.withMaxCommitAttempts: a positive integer');
    }
    this.attempts = attempts;
    return this;
  }
  build(): JdbcExactlyOnceOptions {
    if (this.prefix === undefined) {
      throw new Error(
        'JdbcExactlyOnceOptions: a transaction id prefix unique to the job is required (withTransactionIdPrefix)',
      );
    }
    return new JdbcExactlyOnceOptions(this.prefix, this.recover, this.attempts);
  }
}

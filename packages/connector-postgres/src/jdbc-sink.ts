import type {
  Committer,
  CommittingSinkWriter,
  Sink,
  SinkInitContext,
  SinkWriter,
  TwoPhaseCommittingSink,
} from '@nimble/api';
import { END_OF_INPUT_CHECKPOINT_ID } from '@nimble/api';
import pg from 'pg';
import type { JdbcConnectionOptions } from './connection-options.js';
import {
  backoffMs,
  describeError,
  isAuthenticationFailure,
  isTransient,
  JdbcConnectorError,
  sleep,
  sqlState,
} from './errors.js';
import type { JdbcExactlyOnceOptions } from './execution-options.js';
import { JdbcExecutionOptions } from './execution-options.js';
import type { CompiledStatement, JdbcStatementBuilder, WriteOp } from './statements.js';
import { compileDml, compileSql, JdbcDmlOptions, reduceByKey } from './statements.js';

/** What the exactly-once sink hands its committer: one prepared transaction. */
export interface JdbcCommittable {
  /** The prepared transaction's id: `<prefix>-<subtask>-<checkpoint>`. */
  readonly transactionId: string;
}

/** @internal Everything a JDBC sink is made of. */
export interface JdbcSinkConfig<T> {
  readonly statement: CompiledStatement;
  readonly builder: JdbcStatementBuilder<T>;
  /** Elements that delete their key instead of upserting it (SQL upsert sinks: -D). */
  readonly isDelete?: ((element: T) => boolean) | undefined;
  readonly execution: JdbcExecutionOptions;
  readonly connection: JdbcConnectionOptions;
  readonly exactlyOnce?: JdbcExactlyOnceOptions | undefined;
}

function compile(statement: string | JdbcDmlOptions): CompiledStatement {
  if (statement instanceof JdbcDmlOptions) return compileDml(statement);
  if (typeof statement === 'string' && statement.trim() !== '') return compileSql(statement);
  throw new TypeError(
    'JdbcSink: the statement is an SQL string with $1..$n placeholders or JdbcDmlOptions',
  );
}

function checkBuilder(builder: unknown): void {
  if (typeof builder !== 'function') {
    throw new TypeError(
      'JdbcSink: the statement builder is a function of an element to the values of $1..$n',
    );
  }
}

/**
 * Writes to PostgreSQL (Flink's `JdbcSink`), batching rows into multi-row statements.
 *
 * `JdbcSink.sink` is at least once: buffered rows are written when the batch is full, when the
 * interval passes and at every checkpoint, whose barrier waits for them. A batch that fails
 * transiently (a lost connection, a serialization failure) is retried with backoff
 * (`withMaxRetries`); a data error (a constraint, a type) fails the job at once and names the
 * table and the record. With an upsert statement (`JdbcDmlOptions` with key fields, or an
 * `INSERT ... ON CONFLICT (key) DO UPDATE`) a replay after a restore writes the same values
 * again, so the table ends exactly as without the failure, provided the rows written for a key
 * are a deterministic function of the input (idempotent upserts).
 *
 * `JdbcSink.exactlyOnceSink` writes each checkpoint's rows in one transaction, prepared
 * (`PREPARE TRANSACTION`) at the checkpoint's barrier and committed (`COMMIT PREPARED`) when the
 * checkpoint completes: readers never see rows of a checkpoint that did not complete.
 *
 * ```ts
 * stream.sinkTo(
 *   JdbcSink.sink(
 *     'INSERT INTO features (user_id, spend) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET spend = EXCLUDED.spend',
 *     (f: Feature) => [f.userId, f.spend],
 *     JdbcExecutionOptions.builder().withBatchSize(5000).withBatchIntervalMs(200).withMaxRetries(3).build(),
 *     new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
 *       .withUrl('jdbc:postgresql://db:5432/features')
 *       .withUsername('nimble')
 *       .withPassword(process.env.PGPASSWORD!)
 *       .build(),
 *   ),
 * );
 * ```
 */
export class JdbcSink<T> implements Sink<T> {
  /** @internal Use {@link JdbcSink.sink}. */
  constructor(readonly config: JdbcSinkConfig<T>) {}

  /**
   * An at-least-once sink: `statement` is SQL with `$1..$n` placeholders or a
   * {@link JdbcDmlOptions} table to upsert; `builder` gives the values of one element.
   */
  static sink<T>(
    statement: string | JdbcDmlOptions,
    builder: JdbcStatementBuilder<T>,
    executionOrConnection: JdbcExecutionOptions | JdbcConnectionOptions,
    connection?: JdbcConnectionOptions,
  ): JdbcSink<T> {
    checkBuilder(builder);
    const execution =
      executionOrConnection instanceof JdbcExecutionOptions
        ? executionOrConnection
        : JdbcExecutionOptions.defaults();
    const conn =
      connection ??
      (executionOrConnection instanceof JdbcExecutionOptions ? undefined : executionOrConnection);
    if (conn === undefined) throw new TypeError('JdbcSink.sink: JdbcConnectionOptions required');
    return new JdbcSink({ statement: compile(statement), builder, execution, connection: conn });
  }

  /**
   * An exactly-once sink: each checkpoint's rows in a prepared transaction, committed when the
   * checkpoint completes. The server needs `max_prepared_transactions` > 0.
   */
  static exactlyOnceSink<T>(
    statement: string | JdbcDmlOptions,
    builder: JdbcStatementBuilder<T>,
    execution: JdbcExecutionOptions,
    exactlyOnce: JdbcExactlyOnceOptions,
    connection: JdbcConnectionOptions,
  ): JdbcExactlyOnceSink<T> {
    checkBuilder(builder);
    return new JdbcExactlyOnceSink({
      statement: compile(statement),
      builder,
      execution,
      connection,
      exactlyOnce,
    });
  }

  createWriter(context: SinkInitContext): SinkWriter<T> {
    return new JdbcWriter(this.config, context);
  }
}

/** The two-phase-commit form of {@link JdbcSink} (see {@link JdbcSink.exactlyOnceSink}). */
export class JdbcExactlyOnceSink<T> implements TwoPhaseCommittingSink<T, JdbcCommittable> {
  /** @internal Use {@link JdbcSink.exactlyOnceSink}. */
  constructor(readonly config: JdbcSinkConfig<T>) {
    if (!config.exactlyOnce) throw new Error('JdbcExactlyOnceSink: JdbcExactlyOnceOptions needed');
  }
  createWriter(context: SinkInitContext): CommittingSinkWriter<T, JdbcCommittable> {
    return new JdbcWriter(this.config, context);
  }
  createCommitter(): Committer<JdbcCommittable> {
    return new JdbcCommitter(this.config.connection, this.config.exactlyOnce!);
  }
}

/** At most this many rows wait in a writer without a batch size before the task waits. */
const MAX_BUFFERED_WITHOUT_BATCH_SIZE = 100_000;

/** A record as messages show it: JSON, bigints as digits, cut at 300 characters. */
export function showRecord(element: unknown): string {
  let s: string;
  try {
    s =
      JSON.stringify(element, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ??
      String(element);
  } catch {
    s = String(element);
  }
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** Connects a client, with an 'error' listener so a lost idle connection never crashes the process. */
async function connect(options: JdbcConnectionOptions, onError?: () => void): Promise<pg.Client> {
  const client = new pg.Client(options.clientConfig());
  client.on('error', () => onError?.());
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return client;
}

/** The error of a failed connection or statement, naming the server (and the user for auth). */
function serverError(
  what: string,
  options: JdbcConnectionOptions,
  e: unknown,
  hint: string,
): JdbcConnectorError {
  const auth = isAuthenticationFailure(e);
  const who = auth && options.username !== undefined ? ` as user '${options.username}'` : '';
  return new JdbcConnectorError(
    `${what} on PostgreSQL server ${options.server}${who} failed: ${describeError(e)}. ${
      auth ? 'Check the username and password of the JDBC connection options.' : hint
    }`,
    'external',
    { cause: e },
  );
}

/**
 * Runs statements in order; several in one transaction, so a failed batch leaves nothing. One
 * await per statement of a batch (a batch is one multi-row statement unless it is large), never
 * per record: pg deprecates queueing queries on a busy client.
 */
async function run(
  client: pg.Client,
  statements: readonly { text: string; values: unknown[] }[],
  inTransaction: boolean,
): Promise<void> {
  const wrap = !inTransaction && statements.length > 1;
  if (wrap) await client.query('BEGIN');
  try {
    for (const s of statements) await client.query(s.text, s.values);
    if (wrap) await client.query('COMMIT');
  } catch (e) {
    if (wrap) await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

function parseTransactionId(
  id: string,
  prefix: string,
): { subtask: number; checkpoint: number } | undefined {
  if (!id.startsWith(`${prefix}-`)) return undefined;
  const m = /^(\d+)-(\d+)$/.exec(id.slice(prefix.length + 1));
  return m ? { subtask: Number(m[1]), checkpoint: Number(m[2]) } : undefined;
}

/**
 * Ends a prepared transaction; one that is no longer there was ended before, which is fine. One
 * that another session is ending at the same moment (the restored committer and the writer's
 * recovery can meet on it) is "busy": wait until that session is done.
 */
async function finishPrepared(client: pg.Client, id: string, commit: boolean): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(`${commit ? 'COMMIT' : 'ROLLBACK'} PREPARED '${id}'`);
      return true;
    } catch (e) {
      if (sqlState(e) === '42704') return false; // undefined_object: committed or rolled back already
      const busy = sqlState(e) === '55000' && /busy/i.test((e as Error).message);
      if (!busy || attempt >= 100) throw e;
      await sleep(100);
    }
  }
}

/** Writes batches; with exactly-once options, into one transaction per checkpoint. */
class JdbcWriter<T> implements CommittingSinkWriter<T, JdbcCommittable> {
  private buffer: WriteOp[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;
  private client: Promise<pg.Client> | undefined;
  private readonly subtask: number;
  private readonly parallelism: number;
  private readonly restoredCheckpointId: number | undefined;
  private readonly maxBuffered: number;
  /** Exactly once: whether the connection has an open transaction with rows of this checkpoint. */
  private transactionOpen = false;
  private recovering: Promise<void> = Promise.resolve();
  private firstPrepare = true;
  private closed = false;

  constructor(
    private readonly config: JdbcSinkConfig<T>,
    context: SinkInitContext,
  ) {
    this.subtask = context.getSubtaskId();
    this.parallelism = context.getNumberOfParallelSubtasks();
    this.restoredCheckpointId = context.getRestoredCheckpointId();
    const size = config.execution.batchSize;
    this.maxBuffered = size > 0 ? size * 2 : MAX_BUFFERED_WITHOUT_BATCH_SIZE;
    if (config.exactlyOnce?.recoveredAndRollback) {
      this.recovering = this.recover();
      this.recovering.catch(() => {});
    }
  }

  private get exactlyOnce(): boolean {
    return this.config.exactlyOnce !== undefined;
  }

  write(element: T): void {
    if (this.failure) throw this.failure;
    let params: readonly unknown[];
    try {
      params = this.config.builder(element);
    } catch (e) {
      throw new JdbcConnectorError(
        `JdbcSink: the statement builder failed for record ${showRecord(element)} of table ${this.config.statement.table}: ${(e as Error).message}`,
        'user',
        { cause: e },
      );
    }
    const arity = this.config.statement.arity;
    if (!Array.isArray(params) || (arity > 0 && params.length !== arity)) {
      throw new JdbcConnectorError(
        `JdbcSink: the statement builder gave ${Array.isArray(params) ? `${params.length} values` : String(params)} for record ${showRecord(element)}; the statement for table ${this.config.statement.table} takes ${arity}`,
        'user',
      );
    }
    this.buffer.push({ delete: this.config.isDelete?.(element) ?? false, params, element });
    const size = this.config.execution.batchSize;
    if (size > 0 && this.buffer.length >= size) this.send();
    else if (this.timer === undefined && this.config.execution.batchIntervalMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.send();
      }, this.config.execution.batchIntervalMs);
    }
  }

  /** Writes what is buffered, unless a batch is on its way: its completion writes the rest. */
  private send(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.inFlight !== undefined || this.failure || this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.inFlight = this.execute(batch)
      .catch((e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      })
      .finally(() => {
        this.inFlight = undefined;
        if (this.drained && (this.failure || this.buffer.length < this.maxBuffered)) {
          this.drained.resolve();
          this.drained = undefined;
        }
        const size = this.config.execution.batchSize;
        if (size > 0 && this.buffer.length >= size) this.send();
        else if (
          this.buffer.length > 0 &&
          this.timer === undefined &&
          this.config.execution.batchIntervalMs > 0
        ) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.send();
          }, this.config.execution.batchIntervalMs);
        }
      });
  }

  availability(): Promise<void> | undefined {
    if (this.failure || this.buffer.length < this.maxBuffered) return undefined;
    this.send();
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  /** Writes everything buffered and waits for it (at every checkpoint and at the end). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      if (this.buffer.length === 0) return;
      this.send();
    }
  }

  private connection(): Promise<pg.Client> {
    if (!this.client) {
      const client = connect(this.config.connection, () => this.dropConnection(client));
      client.catch(() => {});
      this.client = client;
    }
    return this.client;
  }

  private dropConnection(which?: Promise<pg.Client>): void {
    const client = which ?? this.client;
    if (client === undefined || (which !== undefined && which !== this.client)) return;
    this.client = undefined;
    client.then((c) => c.end()).catch(() => {});
  }

  private async execute(batch: WriteOp[]): Promise<void> {
    const { statement } = this.config;
    const ops = statement.keyOf ? reduceByKey(batch, statement.keyOf) : batch;
    const statements = statement.statements(ops);
    if (this.exactlyOnce) return this.executeInTransaction(ops, statements);
    const maxRetries = this.config.execution.maxRetries;
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await this.connection();
        await run(client, statements, false);
        return;
      } catch (e) {
        this.dropConnection();
        if (this.closed) throw e;
        if (isTransient(e) && attempt < maxRetries) {
          process.stderr.write(
            `JdbcSink: writing ${ops.length} rows to table ${statement.table} on ${this.config.connection.server} failed (${describeError(e)}); retry ${attempt + 1} of ${maxRetries}\n`,
          );
          await sleep(backoffMs(attempt + 1));
          continue;
        }
        if (isTransient(e) || isAuthenticationFailure(e)) {
          throw serverError(
            `JdbcSink: writing ${ops.length} rows to table ${statement.table}`,
            this.config.connection,
            e,
            `Gave up after ${attempt + 1} attempts (sink max retries ${maxRetries}): check that the server is reachable; the job restarts as its restart strategy says and writes the rows again.`,
          );
        }
        throw await this.dataError(e, ops);
      }
    }
  }

  private async executeInTransaction(
    ops: WriteOp[],
    statements: { text: string; values: unknown[] }[],
  ): Promise<void> {
    await this.recovering;
    const client = await this.connection().catch((e: unknown) => {
      throw serverError(
        `JdbcSink: connecting to write table ${this.config.statement.table}`,
        this.config.connection,
        e,
        'Check that the server is reachable; the job restarts from its latest checkpoint.',
      );
    });
    try {
      if (!this.transactionOpen) {
        await client.query('BEGIN');
        this.transactionOpen = true;
      }
      await run(client, statements, true);
    } catch (e) {
      // The transaction is lost with the error: the job restarts from its latest checkpoint.
      this.transactionOpen = false;
      this.dropConnection();
      if (isTransient(e) || isAuthenticationFailure(e) || sqlState(e) === undefined) {
        throw serverError(
          `JdbcSink: writing ${ops.length} rows to table ${this.config.statement.table} in a transaction`,
          this.config.connection,
          e,
          'The open transaction is lost; the job restarts from its latest checkpoint.',
        );
      }
      throw await this.dataError(e, ops);
    }
  }

  /**
   * The error of a batch the server rejected for its data: the rows are written one by one in a
   * transaction that is rolled back, to find the record at fault.
   */
  private async dataError(e: unknown, ops: WriteOp[]): Promise<Error> {
    const { statement, connection } = this.config;
    let culprit: WriteOp | undefined;
    let cause = e;
    if (ops.length === 1) culprit = ops[0];
    else {
      let client: pg.Client | undefined;
      try {
        client = await connect(connection);
        await client.query('BEGIN');
        for (const op of ops.slice(0, 10_000)) {
          try {
            await run(client, statement.statements([op]), true);
          } catch (x) {
            culprit = op;
            cause = x;
            break;
          }
        }
      } catch {
        // The search is a courtesy: the original error is reported anyway.
      } finally {
        await client?.query('ROLLBACK').catch(() => {});
        await client?.end().catch(() => {});
      }
    }
    const which = culprit
      ? `record ${showRecord(culprit.element)}`
      : `one of ${ops.length} records (the first: ${showRecord(ops[0]?.element)})`;
    return new JdbcConnectorError(
      `JdbcSink: writing to table ${statement.table} on ${connection.server} failed for ${which}: ${describeError(cause)}. The record does not fit the table: fix the data or the table; retrying does not help.`,
      'user',
      { cause },
    );
  }

  private transactionId(checkpointId: number): string {
    return `${this.config.exactlyOnce!.transactionIdPrefix}-${this.subtask}-${checkpointId}`;
  }

  /**
   * Ends the prepared transactions an earlier attempt of the job left (Flink's
   * JdbcXaSinkFunction recovery): those of checkpoints up to the restored one completed and are
   * committed, the others rolled back. Subtask s takes those of former subtasks s, s + p, s + 2p...
   */
  private async recover(): Promise<void> {
    const prefix = this.config.exactlyOnce!.transactionIdPrefix;
    let client: pg.Client | undefined;
    try {
      client = await connect(this.config.connection);
      const { rows } = await client.query<{ gid: string }>(
        'SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1) ORDER BY gid',
        [`${prefix}-`],
      );
      const restored = this.restoredCheckpointId;
      for (const { gid } of rows) {
        const id = parseTransactionId(gid, prefix);
        if (!id || id.subtask % this.parallelism !== this.subtask) continue;
        const commit = restored !== undefined && id.checkpoint <= restored;
        if (await finishPrepared(client, gid, commit)) {
          process.stderr.write(
            `JdbcSink: ${commit ? 'committed' : 'rolled back'} prepared transaction ${gid} of an earlier attempt (restored checkpoint ${restored ?? 'none'})\n`,
          );
        }
      }
    } catch (e) {
      throw serverError(
        `JdbcSink: recovering the prepared transactions '${prefix}-*'`,
        this.config.connection,
        e,
        'The job restarts from its latest checkpoint and tries again.',
      );
    } finally {
      await client?.end().catch(() => {});
    }
  }

  /**
   * A task of an earlier attempt that learnt late of its cancellation may have prepared a
   * transaction after the recovery looked: at the first checkpoint, those of checkpoints between
   * the restored one and this one are rolled back (no checkpoint in between completed).
   */
  private async rollBackStragglers(checkpointId: number): Promise<void> {
    const prefix = this.config.exactlyOnce!.transactionIdPrefix;
    const client = await connect(this.config.connection);
    try {
      const { rows } = await client.query<{ gid: string }>(
        'SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)',
        [`${prefix}-`],
      );
      for (const { gid } of rows) {
        const id = parseTransactionId(gid, prefix);
        if (!id || id.subtask % this.parallelism !== this.subtask) continue;
        if (id.checkpoint > (this.restoredCheckpointId ?? 0) && id.checkpoint < checkpointId) {
          if (await finishPrepared(client, gid, false)) {
            process.stderr.write(
              `JdbcSink: rolled back prepared transaction ${gid} of an earlier attempt\n`,
            );
          }
        }
      }
    } finally {
      await client.end().catch(() => {});
    }
  }

  async prepareCommit(checkpointId: number): Promise<JdbcCommittable[]> {
    await this.flush();
    if (!this.exactlyOnce) return [];
    await this.recovering;
    if (this.firstPrepare && checkpointId !== END_OF_INPUT_CHECKPOINT_ID) {
      this.firstPrepare = false;
      if (this.config.exactlyOnce!.recoveredAndRollback) {
        await this.rollBackStragglers(checkpointId).catch((e: unknown) => {
          throw serverError(
            'JdbcSink: rolling back prepared transactions of an earlier attempt',
            this.config.connection,
            e,
            'The job restarts from its latest checkpoint.',
          );
        });
      }
    }
    if (!this.transactionOpen) return [];
    const id = this.transactionId(checkpointId);
    const client = await this.connection();
    try {
      await client.query(`PREPARE TRANSACTION '${id}'`);
    } catch (e) {
      this.dropConnection();
      const disabled = sqlState(e) === '55000';
      throw serverError(
        `JdbcSink: preparing transaction ${id}`,
        this.config.connection,
        e,
        disabled
          ? 'The exactly-once sink needs prepared transactions: set max_prepared_transactions > 0 on the server (and restart it).'
          : 'The job restarts from its latest checkpoint.',
      );
    } finally {
      this.transactionOpen = false;
    }
    return [{ transactionId: id }];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // An open, unprepared transaction is rolled back by the server when its connection closes.
    const inFlight = this.inFlight ?? Promise.resolve();
    const client = this.client;
    this.client = undefined;
    await Promise.race([inFlight, sleep(5000)]);
    await client?.then((c) => c.end()).catch(() => {});
    await this.recovering.catch(() => {});
  }
}

/** Commits prepared transactions when their checkpoint completes; again after a restore. */
class JdbcCommitter implements Committer<JdbcCommittable> {
  private client: Promise<pg.Client> | undefined;

  constructor(
    private readonly connection: JdbcConnectionOptions,
    private readonly options: JdbcExactlyOnceOptions,
  ) {}

  private get(): Promise<pg.Client> {
    if (!this.client) {
      const client = connect(this.connection, () => {
        if (this.client === client) this.client = undefined;
      });
      client.catch(() => {});
      this.client = client;
    }
    return this.client;
  }

  async commit(committables: JdbcCommittable[]): Promise<void> {
    for (const c of committables) {
      for (let attempt = 1; ; attempt++) {
        try {
          await finishPrepared(await this.get(), c.transactionId, true);
          break;
        } catch (e) {
          const lost = this.client;
          this.client = undefined;
          lost?.then((x) => x.end()).catch(() => {});
          if (isTransient(e) && attempt < this.options.maxCommitAttempts) {
            await sleep(backoffMs(attempt));
            continue;
          }
          throw serverError(
            `JdbcSink: committing prepared transaction ${c.transactionId}`,
            this.connection,
            e,
            'The job restarts from its latest checkpoint and commits it again.',
          );
        }
      }
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.end()).catch(() => {});
  }
}

import type {
  ReaderOutput,
  Source,
  SourceReader,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '@nimble/api';
import { Boundedness, InputStatus } from '@nimble/api';
import pg from 'pg';
import type { JdbcConnectionOptions } from './connection-options.js';
import { describeError, isAuthenticationFailure, JdbcConnectorError } from './errors.js';

/** One query of a {@link JdbcSource} (a partition of the table) and how far it was read. */
export interface JdbcSourceSplit extends SourceSplit {
  /** The values of `$1..$n` of this split's query. */
  readonly values: readonly unknown[];
  /** Rows already emitted: a restored reader skips them (the query must order its rows). */
  readonly offset: number;
}

interface JdbcSourceConfig<T> {
  readonly connection: JdbcConnectionOptions;
  readonly sql: string;
  readonly parameterValues: readonly (readonly unknown[])[];
  readonly fetchSize: number;
  readonly extract: (row: Record<string, unknown>) => T;
}

/**
 * A bounded source of the rows of a query (Flink's `JdbcSource`): one split per set of parameter
 * values (`setParameterValues`, e.g. the ranges of a partitioned scan), read through a cursor
 * `setFetchSize` rows at a time. Checkpoints keep each split's count of emitted rows; a restored
 * reader skips that many, which gives each row once when the query orders its rows (ORDER BY a key).
 */
export class JdbcSource<T> implements Source<T, JdbcSourceSplit, JdbcSourceSplit[]> {
  /** @internal Use {@link JdbcSource.builder}. */
  constructor(private readonly config: JdbcSourceConfig<T>) {}

  static builder<T = Record<string, unknown>>(): JdbcSourceBuilder<T> {
    return new JdbcSourceBuilder<T>();
  }

  getBoundedness(): Boundedness {
    return Boundedness.BOUNDED;
  }
  createReader(): SourceReader<T, JdbcSourceSplit> {
    return new JdbcSourceReader(this.config);
  }
  createEnumerator(
    context: SplitEnumeratorContext<JdbcSourceSplit>,
  ): SplitEnumerator<JdbcSourceSplit, JdbcSourceSplit[]> {
    const splits = this.config.parameterValues.map((values, i) => ({
      splitId: String(i),
      values,
      offset: 0,
    }));
    return new JdbcEnumerator(context, splits);
  }
  restoreEnumerator(
    context: SplitEnumeratorContext<JdbcSourceSplit>,
    state: JdbcSourceSplit[],
  ): SplitEnumerator<JdbcSourceSplit, JdbcSourceSplit[]> {
    return new JdbcEnumerator(context, state);
  }
}

/** Builds a {@link JdbcSource}. */
export class JdbcSourceBuilder<T> {
  private connection: JdbcConnectionOptions | undefined;
  private sql: string | undefined;
  private values: (readonly unknown[])[] = [[]];
  private fetchSize = 1000;
  private extract: ((row: Record<string, unknown>) => T) | undefined;

  setConnectionOptions(connection: JdbcConnectionOptions): this {
    this.connection = connection;
    return this;
  }
  /** The query, with `$1..$n` taken from each split's parameter values. */
  setSql(sql: string): this {
    this.sql = sql;
    return this;
  }
  /** One split per entry: the values of the query's parameters (Flink's parameter values provider). */
  setParameterValues(values: readonly (readonly unknown[])[]): this {
    this.values = values.length === 0 ? [[]] : [...values];
    return this;
  }
  /** Rows fetched per round trip (Flink's `scan.fetch-size`; 0: 1000). */
  setFetchSize(rows: number): this {
    this.fetchSize = rows > 0 ? Math.floor(rows) : 1000;
    return this;
  }
  /** Makes an element of a row (Flink's `ResultExtractor`); default: the row as it is. */
  setResultExtractor(extract: (row: Record<string, unknown>) => T): this {
    this.extract = extract;
    return this;
  }
  build(): JdbcSource<T> {
    if (!this.connection) throw new Error('JdbcSource: setConnectionOptions is required');
    if (!this.sql) throw new Error('JdbcSource: setSql is required');
    return new JdbcSource({
      connection: this.connection,
      sql: this.sql,
      parameterValues: this.values,
      fetchSize: this.fetchSize,
      extract: this.extract ?? ((row) => row as T),
    });
  }
}

/**
 * The splits of a partitioned scan of `column` from `lower` to `upper` in `num` ranges, as
 * Flink's `JdbcNumericBetweenParametersProvider` makes them: [start, end] pairs for
 * `column BETWEEN $1 AND $2`.
 */
export function numericBetweenParameters(
  lower: number,
  upper: number,
  num: number,
): [number, number][] {
  if (!(upper >= lower) || !(num >= 1)) {
    throw new TypeError(
      `a partitioned scan needs lower bound <= upper bound and at least one partition; got ${lower}..${upper} in ${num}`,
    );
  }
  const count = upper - lower + 1;
  const batch = Math.ceil(count / num);
  const bigger = num - (batch * num - count);
  const out: [number, number][] = [];
  let start = lower;
  for (let i = 0; i < num && start <= upper; i++) {
    const size = i < bigger ? batch : batch - 1;
    const end = start + size - 1;
    out.push([start, end]);
    start = end + 1;
  }
  return out;
}

class JdbcEnumerator implements SplitEnumerator<JdbcSourceSplit, JdbcSourceSplit[]> {
  constructor(
    private readonly context: SplitEnumeratorContext<JdbcSourceSplit>,
    private unassigned: JdbcSourceSplit[],
  ) {}
  start(): void {}
  addReader(subtask: number): void {
    const p = this.context.currentParallelism();
    const mine = this.unassigned.filter((s) => Number(s.splitId) % p === subtask);
    this.unassigned = this.unassigned.filter((s) => Number(s.splitId) % p !== subtask);
    if (mine.length > 0) this.context.assignSplits(subtask, mine);
    this.context.signalNoMoreSplits(subtask);
  }
  addSplitsBack(splits: JdbcSourceSplit[]): void {
    this.unassigned.push(...splits);
  }
  snapshotState(): JdbcSourceSplit[] {
    return [...this.unassigned];
  }
  close(): void {}
}

interface ReadingSplit {
  readonly splitId: string;
  readonly values: readonly unknown[];
  offset: number;
  /** Rows fetched, not emitted yet. */
  rows: Record<string, unknown>[];
  done: boolean;
}

class JdbcSourceReader<T> implements SourceReader<T, JdbcSourceSplit> {
  private readonly splits: ReadingSplit[] = [];
  private noMoreSplits = false;
  private client: Promise<pg.Client> | undefined;
  private fetching: Promise<void> | undefined;
  private cursorOf: string | undefined;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly config: JdbcSourceConfig<T>) {}

  start(): void {}

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.failure) throw this.failure;
    const split = this.splits[0];
    if (!split) return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    if (split.rows.length > 0) {
      const rows = split.rows;
      split.rows = [];
      for (const row of rows) {
        output.collect(this.config.extract(row));
        split.offset++;
      }
    }
    if (split.done) {
      this.splits.shift();
      this.cursorOf = undefined;
      if (this.splits.length > 0) return InputStatus.MORE_AVAILABLE;
      return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }
    this.fetch(split);
    return InputStatus.NOTHING_AVAILABLE;
  }

  /** Fetches the split's next rows in the background; pollNext emits them. */
  private fetch(split: ReadingSplit): void {
    if (this.fetching) return;
    this.fetching = this.fetchRows(split)
      .catch((e: unknown) => {
        const c = this.config.connection;
        const who =
          isAuthenticationFailure(e) && c.username !== undefined ? ` as user '${c.username}'` : '';
        this.failure = new JdbcConnectorError(
          `JdbcSource: reading split ${split.splitId} on PostgreSQL server ${c.server}${who} failed: ${describeError(e)}`,
          'external',
          { cause: e },
        );
      })
      .finally(() => {
        this.fetching = undefined;
        this.notify();
      });
  }

  private async fetchRows(split: ReadingSplit): Promise<void> {
    this.client ??= (async () => {
      const c = new pg.Client(this.config.connection.clientConfig());
      c.on('error', () => {});
      await c.connect();
      return c;
    })();
    const client = await this.client;
    if (this.cursorOf !== split.splitId) {
      if (this.cursorOf !== undefined) await client.query('COMMIT');
      await client.query('BEGIN READ ONLY');
      await client.query(
        `DECLARE nimble_scan NO SCROLL CURSOR FOR ${this.config.sql}`,
        split.values as unknown[],
      );
      if (split.offset > 0) await client.query(`MOVE FORWARD ${split.offset} IN nimble_scan`);
      this.cursorOf = split.splitId;
    }
    const result = await client.query<Record<string, unknown>>(
      `FETCH ${this.config.fetchSize} FROM nimble_scan`,
    );
    for (const row of result.rows) split.rows.push(row);
    if (result.rows.length < this.config.fetchSize) {
      split.done = true;
      await client.query('COMMIT');
      this.cursorOf = undefined;
    }
  }

  isAvailable(): Promise<void> {
    const split = this.splits[0];
    if (
      this.failure ||
      (!split && this.noMoreSplits) ||
      (split && (split.rows.length > 0 || split.done))
    ) {
      return Promise.resolve();
    }
    if (split) this.fetch(split);
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  addSplits(splits: JdbcSourceSplit[]): void {
    for (const s of splits) {
      this.splits.push({
        splitId: s.splitId,
        values: s.values,
        offset: s.offset,
        rows: [],
        done: false,
      });
    }
    this.notify();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.notify();
  }

  snapshotState(): JdbcSourceSplit[] {
    // Rows fetched and not emitted are fetched again after a restore: the offset counts emitted rows.
    return this.splits.map((s) => ({ splitId: s.splitId, values: s.values, offset: s.offset }));
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.end()).catch(() => {});
  }
}

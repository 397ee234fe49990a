import type { AsyncFunction, ResultFuture, RuntimeContext } from '@nimble/api';
import pg from 'pg';
import type { JdbcConnectionOptions } from './connection-options.js';
import {
  backoffMs,
  describeError,
  isAuthenticationFailure,
  JdbcConnectorError,
  sleep,
} from './errors.js';
import { quoteIdentifier } from './statements.js';

/** The lookup cache and retries (Flink's `JdbcLookupOptions`; SQL `lookup.cache.*`, `lookup.max-retries`). */
export class JdbcLookupOptions {
  /** @internal Use {@link JdbcLookupOptions.builder}. */
  constructor(
    /** Keys cached at most (`lookup.cache.max-rows`); 0: no cache (Flink's default). */
    readonly cacheMaxSize: number,
    /** How long a cached row lives, ms (`lookup.cache.ttl`); 0: no cache. */
    readonly cacheExpireMs: number,
    /** Retries of a failed query (`lookup.max-retries`, default 3). */
    readonly maxRetryTimes: number,
    /** Whether keys without rows are cached too (`lookup.cache.caching-missing-key`, default true). */
    readonly cacheMissingKey: boolean,
  ) {}

  static builder(): JdbcLookupOptionsBuilder {
    return new JdbcLookupOptionsBuilder();
  }
}

/** Builds {@link JdbcLookupOptions}. */
export class JdbcLookupOptionsBuilder {
  private maxSize = 0;
  private expireMs = 0;
  private retries = 3;
  private missing = true;
  setCacheMaxSize(rows: number): this {
    this.maxSize = Math.max(0, Math.floor(rows));
    return this;
  }
  setCacheExpireMs(ms: number): this {
    this.expireMs = Math.max(0, Math.floor(ms));
    return this;
  }
  setMaxRetryTimes(retries: number): this {
    this.retries = Math.max(0, Math.floor(retries));
    return this;
  }
  setCacheMissingKey(cache: boolean): this {
    this.missing = cache;
    return this;
  }
  build(): JdbcLookupOptions {
    return new JdbcLookupOptions(this.maxSize, this.expireMs, this.retries, this.missing);
  }
}

/** The rows of a lookup table, as `pg` returns them (column name to value). */
export type LookupRow = Record<string, unknown>;

interface LookupConfig<IN, OUT> {
  readonly connection: JdbcConnectionOptions;
  readonly tableName: string;
  readonly keyNames: readonly string[];
  readonly fieldNames: readonly string[] | undefined;
  readonly lookup: JdbcLookupOptions;
  readonly keyOf: (input: IN) => readonly unknown[];
  readonly join: (input: IN, rows: readonly LookupRow[]) => Iterable<OUT>;
  readonly poolSize: number;
  readonly maxKeysPerQuery: number;
}

/** A waiting call: its input and where its results go. */
interface Waiter<IN, OUT> {
  readonly input: IN;
  readonly future: ResultFuture<OUT>;
}

/** One key's rows in the cache, with when they expire. */
interface Cached {
  readonly rows: readonly LookupRow[];
  readonly expires: number;
}

/**
 * Enriches elements with rows of a PostgreSQL table, for {@link @nimble/api!AsyncDataStream} (Flink's
 * `JdbcLookupFunction`, as an {@link AsyncFunction}). The keys asked for in one turn of the event
 * loop are looked up together, `WHERE key = ANY($1)` (a composite key: `WHERE (k1, k2) IN (...)`),
 * over a pool of connections; a key already on its way is not asked for again. Rows are cached per
 * key (`setCacheMaxSize`, `setCacheExpireMs`: an LRU with a time to live). A failed query is
 * retried with backoff (`setMaxRetryTimes`), then fails the calls, naming the server.
 *
 * ```ts
 * const lookup = JdbcLookupFunction.builder<Purchase, Enriched>()
 *   .setOptions(connectionOptions)
 *   .setTableName('profiles')
 *   .setKeyNames('user_id')
 *   .setFieldNames('user_id', 'tier')
 *   .setKeySelector((p) => [p.userId])
 *   .setResultBuilder((p, rows) => [{ ...p, tier: (rows[0]?.tier as string) ?? 'none' }])
 *   .setLookupOptions(JdbcLookupOptions.builder().setCacheMaxSize(10_000).setCacheExpireMs(60_000).build())
 *   .build();
 * const enriched = AsyncDataStream.unorderedWait(purchases, lookup, 5000, 1000);
 * ```
 */
export class JdbcLookupFunction<IN, OUT> implements AsyncFunction<IN, OUT> {
  private pool: pg.Pool | undefined;
  private readonly cache = new Map<string, Cached>();
  /** Keys to ask for in the next query, with their callers. */
  private pending = new Map<string, { key: readonly unknown[]; waiters: Waiter<IN, OUT>[] }>();
  /** Keys on their way: later callers wait for the same answer. */
  private readonly inFlight = new Map<string, Waiter<IN, OUT>[]>();
  private scheduled = false;
  private readonly select: string;
  private closed = false;

  /** @internal Use {@link JdbcLookupFunction.builder}. */
  constructor(private readonly config: LookupConfig<IN, OUT>) {
    const fields =
      config.fieldNames === undefined ? '*' : config.fieldNames.map(quoteIdentifier).join(', ');
    this.select = `SELECT ${fields} FROM ${quoteIdentifier(config.tableName)}`;
  }

  static builder<IN, OUT>(): JdbcLookupFunctionBuilder<IN, OUT> {
    return new JdbcLookupFunctionBuilder<IN, OUT>();
  }

  open(_ctx?: RuntimeContext): void {
    this.closed = false;
    this.pool = new pg.Pool({
      ...this.config.connection.clientConfig(),
      max: this.config.poolSize,
    });
    // An idle connection the server drops must not crash the process: the pool replaces it.
    this.pool.on('error', () => {});
  }

  close(): void {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    pool?.end().catch(() => {});
  }

  asyncInvoke(input: IN, resultFuture: ResultFuture<OUT>): void {
    let key: readonly unknown[];
    try {
      key = this.config.keyOf(input);
    } catch (e) {
      resultFuture.completeExceptionally(e);
      return;
    }
    const id = key.length === 1 ? String(key[0]) : JSON.stringify(key.map(String));
    const cached = this.cached(id);
    if (cached) {
      this.complete({ input, future: resultFuture }, cached);
      return;
    }
    const waiting = this.inFlight.get(id);
    if (waiting) {
      waiting.push({ input, future: resultFuture });
      return;
    }
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, (p = { key, waiters: [] }));
    p.waiters.push({ input, future: resultFuture });
    if (!this.scheduled) {
      this.scheduled = true;
      // The operator invokes a batch of elements in one turn: their keys go in one query.
      setImmediate(() => this.query());
    }
  }

  private cached(id: string): readonly LookupRow[] | undefined {
    if (this.config.lookup.cacheMaxSize <= 0 || this.config.lookup.cacheExpireMs <= 0) return;
    const c = this.cache.get(id);
    if (!c) return undefined;
    if (c.expires <= Date.now()) {
      this.cache.delete(id);
      return undefined;
    }
    // LRU: a hit moves the key to the end.
    this.cache.delete(id);
    this.cache.set(id, c);
    return c.rows;
  }

  private store(id: string, rows: readonly LookupRow[]): void {
    const { cacheMaxSize, cacheExpireMs, cacheMissingKey } = this.config.lookup;
    if (cacheMaxSize <= 0 || cacheExpireMs <= 0) return;
    if (rows.length === 0 && !cacheMissingKey) return;
    this.cache.set(id, { rows, expires: Date.now() + cacheExpireMs });
    while (this.cache.size > cacheMaxSize) {
      this.cache.delete(this.cache.keys().next().value!);
    }
  }

  private complete(w: Waiter<IN, OUT>, rows: readonly LookupRow[]): void {
    try {
      w.future.complete(this.config.join(w.input, rows));
    } catch (e) {
      w.future.completeExceptionally(e);
    }
  }

  private query(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const all = [...this.pending];
    this.pending = new Map();
    for (let i = 0; i < all.length; i += this.config.maxKeysPerQuery) {
      const batch = all.slice(i, i + this.config.maxKeysPerQuery);
      for (const [id, p] of batch) this.inFlight.set(id, p.waiters);
      this.lookup(batch.map(([id, p]) => ({ id, key: p.key }))).then(
        (byId) => {
          for (const [id] of batch) {
            const rows = byId.get(id) ?? [];
            this.store(id, rows);
            const waiters = this.inFlight.get(id) ?? [];
            this.inFlight.delete(id);
            for (const w of waiters) this.complete(w, rows);
          }
        },
        (e: unknown) => {
          for (const [id] of batch) {
            const waiters = this.inFlight.get(id) ?? [];
            this.inFlight.delete(id);
            for (const w of waiters) w.future.completeExceptionally(e);
          }
        },
      );
    }
  }

  /** Rows of the keys, by key id; retried on failure. */
  private async lookup(
    keys: { id: string; key: readonly unknown[] }[],
  ): Promise<Map<string, LookupRow[]>> {
    const names = this.config.keyNames;
    let text: string;
    let values: unknown[];
    if (names.length === 1) {
      text = `${this.select} WHERE ${quoteIdentifier(names[0]!)} = ANY($1)`;
      values = [keys.map((k) => k.key[0])];
    } else {
      let n = 1;
      const tuples = keys.map(() => `(${names.map(() => `$${n++}`).join(',')})`);
      text = `${this.select} WHERE (${names.map(quoteIdentifier).join(', ')}) IN (${tuples.join(',')})`;
      values = keys.flatMap((k) => [...k.key]);
    }
    const retries = this.config.lookup.maxRetryTimes;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.pool || this.closed) throw new Error('the lookup function is closed');
        const result = await this.pool.query<LookupRow>(text, values);
        const byId = new Map<string, LookupRow[]>();
        for (const row of result.rows) {
          const id =
            names.length === 1
              ? String(row[names[0]!])
              : JSON.stringify(names.map((k) => String(row[k])));
          let list = byId.get(id);
          if (!list) byId.set(id, (list = []));
          list.push(row);
        }
        return byId;
      } catch (e) {
        if (attempt < retries && !this.closed && !isAuthenticationFailure(e)) {
          await sleep(backoffMs(attempt + 1));
          continue;
        }
        const { connection } = this.config;
        const who =
          isAuthenticationFailure(e) && connection.username !== undefined
            ? ` as user '${connection.username}'`
            : '';
        throw new JdbcConnectorError(
          `JdbcLookupFunction: looking up ${keys.length} keys in table ${this.config.tableName} on PostgreSQL server ${connection.server}${who} failed after ${attempt + 1} attempts: ${describeError(e)}`,
          'external',
          { cause: e },
        );
      }
    }
  }
}

/** Builds a {@link JdbcLookupFunction}. */
export class JdbcLookupFunctionBuilder<IN, OUT> {
  private connection: JdbcConnectionOptions | undefined;
  private table: string | undefined;
  private keys: string[] = [];
  private fields: string[] | undefined;
  private lookup = JdbcLookupOptions.builder().build();
  private keyOf: ((input: IN) => readonly unknown[]) | undefined;
  private join: ((input: IN, rows: readonly LookupRow[]) => Iterable<OUT>) | undefined;
  private poolSize = 4;
  private maxKeys = 1000;

  setOptions(connection: JdbcConnectionOptions): this {
    this.connection = connection;
    return this;
  }
  setTableName(table: string): this {
    this.table = table;
    return this;
  }
  /** The lookup key's columns. */
  setKeyNames(...keys: string[]): this {
    this.keys = keys.flat();
    return this;
  }
  /** The columns to read (default all). */
  setFieldNames(...fields: string[]): this {
    this.fields = fields.flat();
    return this;
  }
  setLookupOptions(options: JdbcLookupOptions): this {
    this.lookup = options;
    return this;
  }
  /** The key values of an element, in the order of the key names. */
  setKeySelector(keyOf: (input: IN) => readonly unknown[]): this {
    this.keyOf = keyOf;
    return this;
  }
  /** The output elements of an element and the rows found for its key (none: an empty list). */
  setResultBuilder(join: (input: IN, rows: readonly LookupRow[]) => Iterable<OUT>): this {
    this.join = join;
    return this;
  }
  /** Connections in the pool (default 4). */
  setMaxPoolSize(size: number): this {
    this.poolSize = Math.max(1, Math.floor(size));
    return this;
  }
  /** Keys per query at most (default 1000). */
  setMaxKeysPerQuery(keys: number): this {
    this.maxKeys = Math.max(1, Math.floor(keys));
    return this;
  }
  build(): JdbcLookupFunction<IN, OUT> {
    if (!this.connection) throw new Error('JdbcLookupFunction: setOptions is required');
    if (!this.table) throw new Error('JdbcLookupFunction: setTableName is required');
    if (this.keys.length === 0) throw new Error('JdbcLookupFunction: setKeyNames is required');
    if (!this.keyOf) throw new Error('JdbcLookupFunction: setKeySelector is required');
    if (!this.join) throw new Error('JdbcLookupFunction: setResultBuilder is required');
    if (this.fields && this.keys.some((k) => !this.fields!.includes(k))) {
      throw new Error('JdbcLookupFunction: the field names must include the key names');
    }
    return new JdbcLookupFunction({
      connection: this.connection,
      tableName: this.table,
      keyNames: this.keys,
      fieldNames: this.fields,
      lookup: this.lookup,
      keyOf: this.keyOf,
      join: this.join,
      poolSize: this.poolSize,
      maxKeysPerQuery: this.maxKeys,
    });
  }
}

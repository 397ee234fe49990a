import type { ResultFuture, RuntimeContext } from '@nimble/api';
import { RichAsyncFunction } from '@nimble/api';
import type { ChainableCommander } from 'ioredis';
import { RedisConnectorError } from './errors.js';
import type { DefaultLookupCache } from './lookup-cache.js';
import type { RedisConnectionConfig } from './redis-connection-config.js';
import { RedisConnection } from './redis-connection-config.js';

/** What a lookup reads: a hash's fields (`HGETALL`) or a string (`GET`). */
export type RedisLookupDataType = 'hash' | 'string';

/** The value a lookup finds for a data type. */
export type RedisLookupValue<D extends RedisLookupDataType> = D extends 'hash'
  ? Record<string, string>
  : string;

/** Everything a {@link RedisLookupFunction} is built from. */
export interface RedisLookupOptions<IN, OUT, D extends RedisLookupDataType> {
  readonly config: RedisConnectionConfig;
  readonly dataType: D;
  /** The Redis key of an input element. */
  readonly keySelector: (input: IN) => string;
  /**
   * The output for an input and the value found (null when the key does not exist, or the hash is
   * empty): undefined emits nothing (an inner join), a value emits it (a left join when the
   * function also answers null).
   */
  readonly resultFunction: (input: IN, value: RedisLookupValue<D> | null) => OUT | undefined;
  /** A cache of values per subtask (Flink's `lookup.cache` = PARTIAL); none by default. */
  readonly cache?: DefaultLookupCache<RedisLookupValue<D>>;
  /** Keys per pipeline at most (500 by default). */
  readonly maxBatchSize?: number;
}

/** Callers waiting for one key. */
type Waiter<IN, OUT> = [IN, ResultFuture<OUT>];

/**
 * Enriches elements with what Redis holds for their key, for {@link @nimble/api!AsyncDataStream}
 * `unorderedWait`/`orderedWait` (Flink's `AsyncLookupFunction` on a lookup table). Lookups are
 * never made one by one: the keys asked for in one turn go to Redis in one pipeline (`HGETALL` or
 * `GET`), a key asked for twice is read once, and with a cache a key found recently is answered at
 * once without Redis.
 *
 * A lookup that fails (Redis unreachable, wrong password) completes its elements exceptionally
 * with a {@link RedisConnectorError} naming the server, the command and the key: the job fails
 * (or the operator's retry strategy retries) and restores from its last checkpoint, where the
 * async operator keeps the elements in flight.
 *
 * ```ts
 * const enrich = RedisLookupFunction.builder<Purchase, Enriched>()
 *   .setConnectionConfig(config)
 *   .setDataType('hash')
 *   .setKeySelector((p) => `user:${p.user_id}`)
 *   .setResultFunction((p, profile) => ({ ...p, tier: profile?.tier ?? 'unknown' }))
 *   .setCache(DefaultLookupCache.newBuilder().maximumSize(10_000).expireAfterWrite(Duration.ofMinutes(1)).build())
 *   .build();
 * AsyncDataStream.unorderedWait(purchases, enrich, Duration.ofSeconds(5), 1000);
 * ```
 */
export class RedisLookupFunction<
  IN,
  OUT,
  D extends RedisLookupDataType = RedisLookupDataType,
> extends RichAsyncFunction<IN, OUT> {
  private connection: RedisConnection | undefined;
  private cache: DefaultLookupCache<RedisLookupValue<D>> | undefined;
  /** Callers by key, for keys asked for and not yet answered (sent or not). */
  private waiting = new Map<string, Waiter<IN, OUT>[]>();
  /** Keys not yet sent, in the order they were asked for. */
  private unsent: string[] = [];
  private scheduled = false;
  private readonly maxBatchSize: number;

  constructor(private readonly options: RedisLookupOptions<IN, OUT, D>) {
    super();
    if (options.dataType !== 'hash' && options.dataType !== 'string') {
      throw new Error(
        `RedisLookupFunction: unknown data type '${String(options.dataType)}'; use 'hash' or 'string'`,
      );
    }
    this.maxBatchSize = options.maxBatchSize ?? 500;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1) {
      throw new Error(`RedisLookupFunction: maxBatchSize ${this.maxBatchSize} must be positive`);
    }
  }

  static builder<IN, OUT>(): RedisLookupFunctionBuilder<IN, OUT> {
    return new RedisLookupFunctionBuilder<IN, OUT>();
  }

  override open(ctx: RuntimeContext): void {
    super.open(ctx);
    this.connection = new RedisConnection(this.options.config);
    this.cache = this.options.cache?.copy();
    this.waiting = new Map();
    this.unsent = [];
  }

  override close(): void {
    this.connection?.close();
    this.connection = undefined;
  }

  /** The cache of this subtask, if any (for its hit and miss counts). */
  getCache(): DefaultLookupCache<RedisLookupValue<D>> | undefined {
    return this.cache;
  }

  asyncInvoke(input: IN, resultFuture: ResultFuture<OUT>): void {
    const key = this.options.keySelector(input);
    if (this.cache) {
      const cached = this.cache.getIfPresent(key, Date.now());
      if (cached !== undefined) {
        this.complete(input, cached, resultFuture);
        return;
      }
    }
    // A key already asked for (in this turn or in a pipeline still in flight) is read once.
    const waiters = this.waiting.get(key);
    if (waiters) {
      waiters.push([input, resultFuture]);
      return;
    }
    this.waiting.set(key, [[input, resultFuture]]);
    this.unsent.push(key);
    if (this.unsent.length >= this.maxBatchSize) this.send();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.send();
      });
    }
  }

  private complete(
    input: IN,
    value: RedisLookupValue<D> | null,
    resultFuture: ResultFuture<OUT>,
  ): void {
    let out: OUT | undefined;
    try {
      out = this.options.resultFunction(input, value);
    } catch (e) {
      resultFuture.completeExceptionally(e);
      return;
    }
    resultFuture.complete(out === undefined ? [] : [out]);
  }

  /** Reads the keys asked for so far in one pipeline. */
  private send(): void {
    const connection = this.connection;
    if (this.unsent.length === 0 || connection === undefined) return;
    const keys = this.unsent;
    this.unsent = [];
    const pipeline: ChainableCommander = connection.client.pipeline();
    const hash = this.options.dataType === 'hash';
    for (const key of keys) {
      if (hash) pipeline.hgetall(key);
      else pipeline.get(key);
    }
    const command = hash ? 'HGETALL' : 'GET';
    pipeline.exec().then(
      (results) => {
        const now = Date.now();
        keys.forEach((key, i) => {
          const waiters = this.waiting.get(key) ?? [];
          this.waiting.delete(key);
          const [err, raw] = results?.[i] ?? [new Error('no reply'), null];
          if (err) {
            this.failAll(waiters, connection, `${command} ${key}`, err);
            return;
          }
          const value = (
            raw === null || (hash && Object.keys(raw as object).length === 0) ? null : raw
          ) as RedisLookupValue<D> | null;
          this.cache?.put(key, value, now);
          for (const [input, future] of waiters) this.complete(input, value, future);
        });
      },
      (e: unknown) => {
        for (const key of keys) {
          const waiters = this.waiting.get(key) ?? [];
          this.waiting.delete(key);
          this.failAll(waiters, connection, `${command} ${key}`, e);
        }
      },
    );
  }

  private failAll(
    waiters: Waiter<IN, OUT>[],
    connection: RedisConnection,
    command: string,
    cause: unknown,
  ): void {
    const error = new RedisConnectorError(connection.server, command, cause, connection.lastError);
    for (const [, future] of waiters) future.completeExceptionally(error);
  }
}

/**
 * Builds a {@link RedisLookupFunction}: `setDataType` first (it types the value the result
 * function gets), then the connection, key selector, result function and optional cache.
 */
export class RedisLookupFunctionBuilder<IN, OUT, D extends RedisLookupDataType = 'hash'> {
  private config: RedisConnectionConfig | undefined;
  private dataType: RedisLookupDataType = 'hash';
  private keySelector: ((input: IN) => string) | undefined;
  private resultFunction:
    ((input: IN, value: RedisLookupValue<D> | null) => OUT | undefined) | undefined;
  private cache: DefaultLookupCache<RedisLookupValue<D>> | undefined;
  private maxBatchSize: number | undefined;

  setConnectionConfig(config: RedisConnectionConfig): this {
    this.config = config;
    return this;
  }
  /** `hash` (HGETALL, the default) or `string` (GET). */
  setDataType<D2 extends RedisLookupDataType>(
    dataType: D2,
  ): RedisLookupFunctionBuilder<IN, OUT, D2> {
    this.dataType = dataType;
    return this as unknown as RedisLookupFunctionBuilder<IN, OUT, D2>;
  }
  setKeySelector(keySelector: (input: IN) => string): this {
    this.keySelector = keySelector;
    return this;
  }
  /**
   * The output for an input and the value found (null when the key is missing); undefined emits
   * nothing.
   */
  setResultFunction(
    resultFunction: (input: IN, value: RedisLookupValue<D> | null) => OUT | undefined,
  ): this {
    this.resultFunction = resultFunction;
    return this;
  }
  setCache(cache: DefaultLookupCache<RedisLookupValue<D>>): this {
    this.cache = cache;
    return this;
  }
  setMaxBatchSize(maxBatchSize: number): this {
    this.maxBatchSize = maxBatchSize;
    return this;
  }
  build(): RedisLookupFunction<IN, OUT, D> {
    if (!this.config) throw new Error('RedisLookupFunction: setConnectionConfig() is required');
    if (!this.keySelector) throw new Error('RedisLookupFunction: setKeySelector() is required');
    if (!this.resultFunction) {
      throw new Error('RedisLookupFunction: setResultFunction() is required');
    }
    return new RedisLookupFunction<IN, OUT, D>({
      config: this.config,
      dataType: this.dataType as D,
      keySelector: this.keySelector,
      resultFunction: this.resultFunction,
      ...(this.cache ? { cache: this.cache } : {}),
      ...(this.maxBatchSize !== undefined ? { maxBatchSize: this.maxBatchSize } : {}),
    });
  }
}

import type { Sink, SinkInitContext, SinkWriter, SinkWriterContext } from '@nimble/api';
import type { ChainableCommander } from 'ioredis';
import { RedisConnectorError } from './errors.js';
import type { RedisConnectionConfig } from './redis-connection-config.js';
import { RedisConnection } from './redis-connection-config.js';
import type {
  RedisCommandDescription,
  RedisHashValue,
  RedisMapper,
  RedisSortedSetValue,
} from './redis-mapper.js';
import { RedisCommand } from './redis-mapper.js';

/** How a {@link RedisSink} batches its writes. */
export interface RedisSinkOptions {
  /**
   * Commands per pipeline at most (Flink's `sink.buffer-flush.max-rows`, 1000 by default): a
   * pipeline is sent when it is this long, or at the end of the turn that wrote to it.
   */
  readonly maxBatchSize?: number;
  /**
   * Pipelines sent and not yet answered at most (8 by default); beyond, the writer backpressures
   * its input until Redis answers.
   */
  readonly maxInFlightBatches?: number;
}

/**
 * Writes elements to Redis as `SET`, `HSET` or `ZADD` with an optional time to live per key
 * (Bahir's `RedisSink`), for feature serving.
 *
 * Writes are pipelined: the commands of one turn (or of `maxBatchSize` elements) go in one round
 * trip, never one await per element. At each checkpoint the writer waits until Redis has answered
 * every command written before the barrier, so a completed checkpoint means those writes are in
 * Redis. After a failure the job replays from its last checkpoint and writes again what followed
 * it (at least once); when a key's value is a function of the input (a window's aggregate keyed by
 * the window, a row keyed by its primary key), the replay writes the same values and the content
 * of Redis is exactly that of a run without failures.
 *
 * A command Redis refuses, a wrong password or a server that cannot be reached fails the task with
 * a {@link RedisConnectorError} naming the server and the command; the job then follows its
 * restart strategy.
 *
 * ```ts
 * const config = RedisConnectionConfig.builder().setHost('127.0.0.1').setPort(6379).build();
 * stream.sinkTo(new RedisSink(config, new UserFeaturesMapper()));
 * ```
 */
export class RedisSink<T> implements Sink<T> {
  constructor(
    private readonly config: RedisConnectionConfig,
    private readonly mapper: RedisMapper<T>,
    private readonly options: RedisSinkOptions = {},
  ) {
    // The description is checked when the job is built, not first at run time.
    mapper.getCommandDescription();
    const { maxBatchSize = 1000, maxInFlightBatches = 8 } = options;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new Error(`RedisSink: maxBatchSize ${maxBatchSize} must be a positive integer`);
    }
    if (!Number.isInteger(maxInFlightBatches) || maxInFlightBatches < 1) {
      throw new Error(
        `RedisSink: maxInFlightBatches ${maxInFlightBatches} must be a positive integer`,
      );
    }
  }

  createWriter(_context: SinkInitContext): SinkWriter<T> {
    return new RedisSinkWriter(this.config, this.mapper, this.options);
  }
}

/** One pipeline being filled: its commands' names and keys, for error messages. */
interface Batch {
  readonly pipeline: ChainableCommander;
  readonly commands: string[];
  readonly keys: string[];
}

/** Writes one subtask's elements through one connection, in pipelines. */
export class RedisSinkWriter<T> implements SinkWriter<T> {
  private readonly connection: RedisConnection;
  private readonly description: RedisCommandDescription;
  private readonly maxBatchSize: number;
  private readonly maxInFlight: number;
  private batch: Batch | undefined;
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private waiter: { promise: Promise<void>; resolve: () => void } | undefined;
  private failure: RedisConnectorError | undefined;
  private closed = false;

  constructor(
    config: RedisConnectionConfig,
    private readonly mapper: RedisMapper<T>,
    options: RedisSinkOptions,
  ) {
    this.description = mapper.getCommandDescription();
    this.maxBatchSize = options.maxBatchSize ?? 1000;
    this.maxInFlight = options.maxInFlightBatches ?? 8;
    this.connection = new RedisConnection(config);
  }

  write(element: T, _context: SinkWriterContext): void {
    if (this.failure) throw this.failure;
    const key = this.mapper.getKeyFromData(element);
    const value = this.mapper.getValueFromData(element);
    const b = (this.batch ??= this.newBatch());
    if (value === null) {
      b.pipeline.del(key);
      b.commands.push('DEL');
      b.keys.push(key);
    } else {
      const ttl = this.mapper.getTtlFromData?.(element) ?? this.description.ttlMillis;
      const mode = this.description.ttl?.mode;
      switch (this.description.command) {
        case RedisCommand.SET:
          this.set(b, key, value, ttl, mode);
          break;
        case RedisCommand.HSET:
          this.hset(b, key, value);
          this.expire(b, key, ttl, mode);
          break;
        case RedisCommand.ZADD:
          this.zadd(b, key, value);
          this.expire(b, key, ttl, mode);
          break;
      }
    }
    if (b.commands.length >= this.maxBatchSize) this.send();
    else if (!this.scheduled) {
      // The rest of the turn's elements join this pipeline; it leaves when the turn ends.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.send();
      });
    }
  }

  private set(
    b: Batch,
    key: string,
    value: unknown,
    ttl: number | undefined,
    mode: string | undefined,
  ): void {
    if (typeof value !== 'string') throw this.badValue(key, value, 'a string');
    if (mode === 'KEEPTTL' && ttl === undefined) b.pipeline.set(key, value, 'KEEPTTL');
    else if (ttl === undefined) b.pipeline.set(key, value);
    else if (mode === 'EX') b.pipeline.set(key, value, 'EX', Math.ceil(ttl / 1000));
    else b.pipeline.set(key, value, 'PX', ttl);
    b.commands.push('SET');
    b.keys.push(key);
  }

  private hset(b: Batch, key: string, value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.badValue(key, value, 'a record of fields');
    }
    const fields: (string | number)[] = [];
    let removed: string[] | undefined;
    for (const [field, v] of Object.entries(value as RedisHashValue)) {
      if (v === null || v === undefined) (removed ??= []).push(field);
      else fields.push(field, v);
    }
    if (fields.length > 0) {
      b.pipeline.hset(key, ...fields);
      b.commands.push('HSET');
      b.keys.push(key);
    }
    if (removed) {
      b.pipeline.hdel(key, ...removed);
      b.commands.push('HDEL');
      b.keys.push(key);
    }
  }

  private zadd(b: Batch, key: string, value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.badValue(key, value, 'a record of member -> score');
    }
    const args: (string | number)[] = [];
    for (const [member, score] of Object.entries(value as RedisSortedSetValue)) {
      if (typeof score !== 'number' || Number.isNaN(score)) {
        throw this.badValue(key, value, 'numeric scores');
      }
      args.push(score, member);
    }
    if (args.length === 0) return;
    b.pipeline.zadd(key, ...args);
    b.commands.push('ZADD');
    b.keys.push(key);
  }

  private expire(b: Batch, key: string, ttl: number | undefined, mode: string | undefined): void {
    if (ttl === undefined) return;
    if (mode === 'EX') b.pipeline.expire(key, Math.ceil(ttl / 1000));
    else b.pipeline.pexpire(key, ttl);
    b.commands.push(mode === 'EX' ? 'EXPIRE' : 'PEXPIRE');
    b.keys.push(key);
  }

  private badValue(key: string, value: unknown, expected: string): Error {
    const shown = JSON.stringify(value) ?? String(value);
    return new Error(
      `RedisSink: the mapper's value for key '${key}' is ${shown.length > 200 ? `${shown.slice(0, 200)}...` : shown}, ` +
        `but ${this.description.command} writes ${expected} (or null to delete the key)`,
    );
  }

  private newBatch(): Batch {
    return { pipeline: this.connection.client.pipeline(), commands: [], keys: [] };
  }

  /** Sends the pipeline being filled, if any. */
  private send(): void {
    const b = this.batch;
    if (b === undefined || this.closed) return;
    this.batch = undefined;
    const done: Promise<void> = b.pipeline.exec().then(
      (results) => {
        if (results === null) return;
        const i = results.findIndex(([err]) => err);
        if (i >= 0) this.fail(b, i, results[i]![0]);
      },
      (e: unknown) => this.fail(b, 0, e),
    );
    const tracked = done.finally(() => {
      this.inFlight.delete(tracked);
      if (this.waiter && this.inFlight.size < this.maxInFlight) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve();
      }
    });
    this.inFlight.add(tracked);
  }

  private fail(b: Batch, index: number, cause: unknown): void {
    this.failure ??= new RedisConnectorError(
      this.connection.server,
      `${b.commands[index] ?? 'pipeline'} ${b.keys[index] ?? ''}`.trim(),
      cause,
      this.connection.lastError,
    );
  }

  availability(): Promise<void> | undefined {
    if (this.inFlight.size < this.maxInFlight) return undefined;
    if (!this.waiter) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiter = { promise, resolve };
    }
    return this.waiter.promise;
  }

  /** Sends what is buffered and waits until Redis answered every command written so far. */
  async flush(_endOfInput: boolean): Promise<void> {
    this.send();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    if (this.failure) throw this.failure;
  }

  close(): void {
    this.closed = true;
    this.connection.close();
  }
}

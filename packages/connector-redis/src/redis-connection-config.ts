import type { RedisOptions } from 'ioredis';
import { Redis } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';

/**
 * Where and how to connect to Redis (Bahir's `FlinkJedisPoolConfig`): host, port, password,
 * database, TLS and timeouts. Built with {@link RedisConnectionConfig.builder}; plain data, so a
 * job's sink or lookup carries it to every subtask.
 */
export interface RedisConnectionConfig {
  readonly host: string;
  readonly port: number;
  /** ACL user (Redis 6+); without it AUTH uses the password alone (the `default` user). */
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** The database index (`SELECT`), 0 by default. */
  readonly database: number;
  /** TLS options, or undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  /** Connect and per-command timeout in ms (Bahir's `timeout`, 2000 by default). */
  readonly timeoutMs: number;
  /**
   * How many times a lost connection is retried before the commands waiting on it fail (and
   * with them the task, which then follows the job's restart strategy).
   */
  readonly maxRetries: number;
}

/** Builds a {@link RedisConnectionConfig} (Bahir's `FlinkJedisPoolConfig.Builder`). */
export class RedisConnectionConfigBuilder {
  private host = 'localhost';
  private port = 6379;
  private username: string | undefined;
  private password: string | undefined;
  private database = 0;
  private tls: ConnectionOptions | undefined;
  private timeoutMs = 2000;
  private maxRetries = 3;

  setHost(host: string): this {
    this.host = host;
    return this;
  }
  setPort(port: number): this {
    this.port = port;
    return this;
  }
  setUsername(username: string): this {
    this.username = username;
    return this;
  }
  setPassword(password: string): this {
    this.password = password;
    return this;
  }
  setDatabase(database: number): this {
    this.database = database;
    return this;
  }
  /** TLS: `true` for the system's CAs, or Node's TLS options (ca, cert, key, servername...). */
  setTls(tls: boolean | ConnectionOptions): this {
    this.tls = tls === false ? undefined : tls === true ? {} : tls;
    return this;
  }
  /** Connect and per-command timeout in ms. */
  setTimeout(timeoutMs: number): this {
    this.timeoutMs = timeoutMs;
    return this;
  }
  /** Reconnection attempts before waiting commands fail (3 by default). */
  setMaxRetries(maxRetries: number): this {
    this.maxRetries = maxRetries;
    return this;
  }

  build(): RedisConnectionConfig {
    if (this.host === '') throw new Error('Redis connection config: the host must not be empty');
    if (!Number.isInteger(this.port) || this.port <= 0 || this.port > 65535) {
      throw new Error(`Redis connection config: port ${this.port} is not a port (1..65535)`);
    }
    if (!Number.isInteger(this.database) || this.database < 0) {
      throw new Error(
        `Redis connection config: database ${this.database} is not a database index (0, 1, ...)`,
      );
    }
    if (!(this.timeoutMs > 0)) {
      throw new Error(`Redis connection config: timeout ${this.timeoutMs} ms must be positive`);
    }
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) {
      throw new Error(`Redis connection config: maxRetries ${this.maxRetries} must be 0 or more`);
    }
    return {
      host: this.host,
      port: this.port,
      username: this.username,
      password: this.password,
      database: this.database,
      tls: this.tls,
      timeoutMs: this.timeoutMs,
      maxRetries: this.maxRetries,
    };
  }
}

export const RedisConnectionConfig = {
  builder(): RedisConnectionConfigBuilder {
    return new RedisConnectionConfigBuilder();
  },
};

/** `host:port`, as errors name the server. */
export function serverOf(config: RedisConnectionConfig): string {
  return `${config.host}:${config.port}`;
}

/**
 * A client of one subtask and what went wrong with its connection last. The client never queues
 * commands without bound while the server is away: after `maxRetries` reconnections it gives up,
 * and every waiting command fails (Redis down fails the task rather than hanging it).
 */
export class RedisConnection {
  readonly client: Redis;
  readonly server: string;
  /** The last connection-level error (`connect ECONNREFUSED ...`, `WRONGPASS ...`). */
  lastError: string | undefined;

  constructor(readonly config: RedisConnectionConfig) {
    this.server = serverOf(config);
    const options: RedisOptions = {
      host: config.host,
      port: config.port,
      db: config.database,
      connectTimeout: config.timeoutMs,
      commandTimeout: config.timeoutMs,
      maxRetriesPerRequest: config.maxRetries,
      retryStrategy: (times) =>
        times > config.maxRetries ? null : Math.min(100 * 2 ** (times - 1), 2000),
      lazyConnect: false,
      enableReadyCheck: true,
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(config.tls !== undefined ? { tls: config.tls } : {}),
    };
    this.client = new Redis(options);
    // Without a listener ioredis would print connection errors; they are kept to explain the
    // failure of the commands that were waiting.
    this.client.on('error', (e: Error) => {
      this.lastError = e.message;
    });
  }

  /** Closes the connection at once; commands not yet answered fail. */
  close(): void {
    this.client.disconnect();
  }
}

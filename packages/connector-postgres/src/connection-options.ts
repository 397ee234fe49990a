import type { ClientConfig } from 'pg';

/**
 * Builds {@link JdbcConnectionOptions} (Flink's `JdbcConnectionOptions.JdbcConnectionOptionsBuilder`).
 */
export class JdbcConnectionOptionsBuilder {
  private url: string | undefined;
  private username: string | undefined;
  private password: string | undefined;
  private timeoutSeconds = 60;

  /** `jdbc:postgresql://host:port/db` or `postgres://user:password@host:port/db`. */
  withUrl(url: string): this {
    if (typeof url !== 'string' || url.length === 0) {
      throw new TypeError('JdbcConnectionOptions.withUrl: a non-empty URL');
    }
    this.url = url;
    return this;
  }
  /** Accepted for Flink compatibility: `pg` is the only driver, PostgreSQL the only dialect. */
  withDriverName(_driver: string): this {
    return this;
  }
  withUsername(username: string): this {
    this.username = username;
    return this;
  }
  withPassword(password: string): this {
    this.password = password;
    return this;
  }
  /** How long a connection attempt may take, in seconds (default 60). */
  withConnectionCheckTimeoutSeconds(seconds: number): this {
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new TypeError(
        'JdbcConnectionOptions.withConnectionCheckTimeoutSeconds: a positive number',
      );
    }
    this.timeoutSeconds = seconds;
    return this;
  }
  build(): JdbcConnectionOptions {
    if (this.url === undefined) {
      throw new Error('JdbcConnectionOptions: a URL is required (withUrl)');
    }
    const parsed = parseUrl(this.url);
    return new JdbcConnectionOptions(
      this.url,
      parsed.host,
      parsed.port,
      parsed.database,
      this.username ?? parsed.username,
      this.password ?? parsed.password,
      this.timeoutSeconds * 1000,
    );
  }
}

/**
 * Where and as whom to connect (Flink's `JdbcConnectionOptions`). The URL is a JDBC URL
 * (`jdbc:postgresql://host:port/db`) or a libpq one (`postgres://user:password@host:port/db`).
 */
export class JdbcConnectionOptions {
  /** @internal Use {@link JdbcConnectionOptions.JdbcConnectionOptionsBuilder}. */
  constructor(
    readonly url: string,
    readonly host: string,
    readonly port: number,
    readonly database: string,
    readonly username: string | undefined,
    readonly password: string | undefined,
    /** How long a connection attempt may take (Flink's `connectionCheckTimeoutSeconds`), ms. */
    readonly connectionCheckTimeoutMs: number,
  ) {}

  /** `host:port/database`: how messages name the server. */
  get server(): string {
    return `${this.host}:${this.port}/${this.database}`;
  }

  /** @internal The configuration of a `pg` client or pool. */
  clientConfig(): ClientConfig {
    return {
      host: this.host,
      port: this.port,
      database: this.database,
      ...(this.username !== undefined ? { user: this.username } : {}),
      ...(this.password !== undefined ? { password: this.password } : {}),
      connectionTimeoutMillis: this.connectionCheckTimeoutMs,
    };
  }

  /** Flink's `new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()`. */
  static JdbcConnectionOptionsBuilder = JdbcConnectionOptionsBuilder;
}

/** The parts of a PostgreSQL URL. */
export function parseUrl(url: string): {
  host: string;
  port: number;
  database: string;
  username: string | undefined;
  password: string | undefined;
} {
  const m = /^(?:jdbc:)?(postgresql|postgres):\/\//i.exec(url);
  if (!m) {
    throw new TypeError(
      `JDBC URL '${url}' is not a PostgreSQL URL: use jdbc:postgresql://host:port/database or postgres://user:password@host:port/database`,
    );
  }
  let u: URL;
  try {
    u = new URL(`postgres://${url.slice(m[0].length)}`);
  } catch (e) {
    throw new TypeError(`JDBC URL '${url}' cannot be parsed: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '') {
    throw new TypeError(
      `JDBC URL '${url}' names no database: use jdbc:postgresql://host:port/database`,
    );
  }
  const port = u.port === '' ? 5432 : Number(u.port);
  const q = u.searchParams;
  return {
    host: u.hostname === '' ? 'localhost' : u.hostname.replace(/^\[|\]$/g, ''),
    port,
    database,
    username: u.username !== '' ? decodeURIComponent(u.username) : (q.get('user') ?? undefined),
    password: u.password !== '' ? decodeURIComponent(u.password) : (q.get('password') ?? undefined),
  };
}

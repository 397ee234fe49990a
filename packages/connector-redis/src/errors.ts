/**
 * The error of every Redis failure of this connector: it names the server (`host:port`) and the
 * command, so a failed task says which Redis it could not reach or what it refused.
 */
export class RedisConnectorError extends Error {
  override name = 'RedisConnectorError';
  /** A system outside Nimble failed: a restart may help once it is back. */
  readonly domain = 'external' as const;
  constructor(
    /** `host:port` of the server. */
    readonly server: string,
    /** The command, e.g. `HSET spend:u1` (values left out). */
    readonly command: string,
    cause: unknown,
    /** The connection's last error (e.g. `connect ECONNREFUSED`), when the reply does not say. */
    connectionError?: string,
  ) {
    const why = (cause instanceof Error ? cause.message : String(cause)).replace(/\.+$/, '');
    const last = connectionError?.replace(/\.+$/, '');
    const conn = last !== undefined && !why.includes(last) ? ` (connection: ${last})` : '';
    const hint = hintFor(why, connectionError);
    super(`Redis ${server}: ${command} failed: ${why}${conn}${hint ? `. ${hint}` : ''}`, { cause });
  }
}

function hintFor(why: string, connectionError: string | undefined): string {
  const all = `${why} ${connectionError ?? ''}`;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(all)) {
    return 'Check the password (and username) of the Redis connection config.';
  }
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|Connection is closed|max retries/i.test(all)) {
    return 'Check that the Redis server is running and reachable at this address.';
  }
  return '';
}

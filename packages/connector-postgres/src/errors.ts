/**
 * How the connector tells failures apart: a transient one (the server went away, a
 * serialization failure, a deadlock) is worth retrying; a data error (a constraint, a type, an
 * unknown column) fails the same way again and fails the job at once, naming the record.
 */

/** A failure of the PostgreSQL connector, with the server (`host:port/db`) in its message. */
export class JdbcConnectorError extends Error {
  override name = 'JdbcConnectorError';
  constructor(
    message: string,
    /** `external` when the server or the network failed, `user` when the data or SQL did. */
    readonly domain: 'external' | 'user',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
]);

const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** The SQLSTATE of a server error, if `e` is one. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether retrying may succeed: a lost or refused connection, a serialization failure. */
export function isTransient(e: unknown): boolean {
  const state = sqlState(e);
  if (state !== undefined) return state.startsWith('08') || TRANSIENT_SQLSTATES.has(state);
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_NODE_CODES.has(code)) return true;
  const message = e instanceof Error ? e.message : String(e);
  return /Connection terminated|timeout expired|connection timeout|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/** Whether the server rejected the credentials (28P01, 28000): retrying does not help. */
export function isAuthenticationFailure(e: unknown): boolean {
  const state = sqlState(e);
  return state === '28P01' || state === '28000';
}

/** A message with the SQLSTATE and the server's detail, when there are. */
export function describeError(e: unknown): string {
  const x = e as { message?: string; detail?: string; code?: string } | null;
  const message = e instanceof Error ? e.message : String(e);
  const state = sqlState(e);
  const detail = typeof x?.detail === 'string' && x.detail !== '' ? ` (${x.detail})` : '';
  if (message === '' && x?.code) return `${x.code}`;
  return `${message}${detail}${state ? ` [SQLSTATE ${state}]` : ''}`;
}

/** `ms` milliseconds, as a promise. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The delay before retry `attempt` (1-based): 200 ms doubling, at most 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(5000, 200 * 2 ** (attempt - 1));
}

/**
 * Which failed calls are retried, and how long to wait between tries. The rules live here only:
 * every client call of Nimble goes through {@link RpcClient}, which consults them.
 */
import { status } from '@grpc/grpc-js';

/** How a call is retried. */
export interface RetryPolicy {
  /** Tries in total, including the first. */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly multiplier: number;
}

/** Default: five tries over about three seconds, enough to ride out a daemon restarting. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 2000,
  multiplier: 2,
};

/** No retries: for calls that must not repeat (submission) or that are polled anyway. */
export const NO_RETRY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 };

/**
 * Whether a call that failed with `code` may be tried again.
 *
 * - UNAVAILABLE: the server was not reachable or went away before it processed the call; a
 *   retry is always safe.
 * - DEADLINE_EXCEEDED: the server may have processed the call; only idempotent calls retry.
 * - Everything else (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, INTERNAL, UNKNOWN, ...)
 *   is an answer: repeating the call would get the same answer.
 */
export function isRetryable(code: number, idempotent: boolean): boolean {
  if (code === status.UNAVAILABLE) return true;
  if (code === status.DEADLINE_EXCEEDED) return idempotent;
  return false;
}

/** Wait before try number `attempt` (1 = the first retry). */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(
    policy.maxBackoffMs,
    policy.initialBackoffMs * Math.pow(policy.multiplier, attempt - 1),
  );
}

import { status } from '@grpc/grpc-js';
import { expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY_POLICY, isRetryable } from '../src/index.js';

it('retries UNAVAILABLE always, DEADLINE_EXCEEDED only when idempotent, answers never', () => {
  expect(isRetryable(status.UNAVAILABLE, false)).toBe(true);
  expect(isRetryable(status.DEADLINE_EXCEEDED, true)).toBe(true);
  expect(isRetryable(status.DEADLINE_EXCEEDED, false)).toBe(false);
  for (const code of [
    status.INVALID_ARGUMENT,
    status.NOT_FOUND,
    status.FAILED_PRECONDITION,
    status.INTERNAL,
    status.UNKNOWN,
  ]) {
    expect(isRetryable(code, true)).toBe(false);
  }
});

it('backs off exponentially up to the cap', () => {
  expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(DEFAULT_RETRY_POLICY, a))).toEqual([
    100, 200, 400, 800, 1600, 2000,
  ]);
});

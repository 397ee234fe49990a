import { StateVisibility, UpdateType } from '@nimble/api';
import type { StateTtlConfig } from '@nimble/api';

/** A value with its last-access timestamp (Flink's `TtlValue`). */
export type TtlValue<T> = [userValue: T, lastAccessTimestamp: number];

/** A state's TTL config resolved for the hot path. */
export interface TtlSettings {
  readonly ttlMillis: number;
  /** OnReadAndWrite: a read refreshes the timestamp. */
  readonly updateOnRead: boolean;
  /** ReturnExpiredIfNotCleanedUp: the read that cleans up an expired value still returns it. */
  readonly returnExpired: boolean;
  readonly cleanupInBackground: boolean;
  readonly cleanupBatchSize: number;
  /** Processing time. */
  readonly now: () => number;
}

export function ttlSettings(config: StateTtlConfig, now: () => number): TtlSettings {
  return {
    ttlMillis: config.ttlMillis,
    updateOnRead: config.updateType === UpdateType.OnReadAndWrite,
    returnExpired: config.stateVisibility === StateVisibility.ReturnExpiredIfNotCleanedUp,
    cleanupInBackground: config.cleanupInBackground,
    cleanupBatchSize: Math.max(1, Math.floor(config.cleanupBatchSize)),
    now,
  };
}

/** Flink's `TtlUtils.expired`: expired once `lastAccess + ttl <= now`. */
export function isExpired(lastAccessTimestamp: number, ttlMillis: number, now: number): boolean {
  return lastAccessTimestamp + ttlMillis <= now;
}

import { JobDefinitionError } from '../errors.js';
import { UPPER_BOUND_MAX_PARALLELISM } from '../keys/index.js';
import type { KeyGroupRange } from '../keys/index.js';
import type { QueryableStateRegistration } from './queryable-state.js';

/** `state.backend.type`: `hashmap` (JS Maps on the heap) or `level` (embedded LevelDB on local disk). */
export type StateBackendKind = 'hashmap' | 'level';

export interface KeyedStateBackendOptions {
  kind: StateBackendKind;
  /** Names the operator in error messages, e.g. "Window(TumblingEventTimeWindows(300000)) (2/4)". */
  operatorName: string;
  maxParallelism: number;
  keyGroupRange: KeyGroupRange;
  /** For 'level': directory of this operator-subtask's LevelDB (created if missing). */
  localDir?: string;
  /** Clock for TTL (processing time), Date.now by default; tests pass a manual clock. */
  ttlTimeProvider?: () => number;
  /** For 'level': max dirty entries held before a background batch write starts (default 10_000). */
  writeBatchSize?: number;
  /**
   * For 'level': bytes of state the backend keeps in memory (`state.backend.level.cache-size`;
   * default 256 MiB): values plus an estimated overhead per entry, as RocksDB's block cache is
   * sized in bytes. 0 keeps only the writes not yet in LevelDB.
   */
  readCacheSize?: number;
  /**
   * For 'level': whether native snapshots may be deltas against the last completed one
   * (`state.backend.incremental`; default true here, the task passes the job's setting). When
   * false every native snapshot is full and no changes are tracked.
   */
  incremental?: boolean;
  /** Called when a state with a queryable name is registered (getState of its descriptor). */
  onQueryableState?: (registration: QueryableStateRegistration) => void;
}

/** The options with their defaults applied and checked. */
export interface KeyedStateBackendOptionsWithDefaults {
  readonly kind: StateBackendKind;
  readonly operatorName: string;
  readonly maxParallelism: number;
  readonly keyGroupRange: KeyGroupRange;
  /** '' for hashmap. */
  readonly localDir: string;
  readonly ttlTimeProvider: () => number;
  readonly writeBatchSize: number;
  readonly readCacheSize: number;
  readonly incremental: boolean;
  readonly onQueryableState: ((registration: QueryableStateRegistration) => void) | undefined;
}

export const DEFAULT_WRITE_BATCH_SIZE = 10_000;
/** The configuration key of the level backend's cache size. */
export const LEVEL_CACHE_SIZE_KEY = 'state.backend.level.cache-size';
export const DEFAULT_READ_CACHE_SIZE = 256 * 1024 * 1024;

export function compileKeyedStateBackendOptions(
  options: KeyedStateBackendOptions,
): KeyedStateBackendOptionsWithDefaults {
  const { kind, operatorName, maxParallelism, keyGroupRange } = options;
  const fail = (message: string): never => {
    throw new JobDefinitionError(`${operatorName}: keyed state backend: ${message}`);
  };
  if (kind !== 'hashmap' && kind !== 'level') {
    fail(`state.backend.type must be 'hashmap' or 'level'; got '${String(kind)}'`);
  }
  if (
    !Number.isInteger(maxParallelism) ||
    maxParallelism < 1 ||
    maxParallelism > UPPER_BOUND_MAX_PARALLELISM
  ) {
    fail(
      `maxParallelism must be an integer in [1, ${UPPER_BOUND_MAX_PARALLELISM}]; got ${maxParallelism}`,
    );
  }
  const { startKeyGroup, endKeyGroup } = keyGroupRange;
  if (
    !Number.isInteger(startKeyGroup) ||
    startKeyGroup < 0 ||
    endKeyGroup >= maxParallelism ||
    endKeyGroup < startKeyGroup
  ) {
    fail(
      `${keyGroupRange.toString()} is not a non-empty range of key groups of maxParallelism ${maxParallelism}`,
    );
  }
  const writeBatchSize = options.writeBatchSize ?? DEFAULT_WRITE_BATCH_SIZE;
  if (!Number.isInteger(writeBatchSize) || writeBatchSize < 1)
    fail(`writeBatchSize must be a positive integer; got ${writeBatchSize}`);
  const readCacheSize = options.readCacheSize ?? DEFAULT_READ_CACHE_SIZE;
  if (!Number.isSafeInteger(readCacheSize) || readCacheSize < 0)
    fail(
      `${LEVEL_CACHE_SIZE_KEY} (readCacheSize) must be a non-negative integer number of bytes; got ${readCacheSize}`,
    );
  const localDir = options.localDir ?? '';
  if (kind === 'level' && localDir === '')
    fail("the 'level' backend needs localDir, the directory of its LevelDB");
  return {
    kind,
    operatorName,
    maxParallelism,
    keyGroupRange,
    localDir,
    ttlTimeProvider: options.ttlTimeProvider ?? Date.now,
    writeBatchSize,
    readCacheSize,
    incremental: options.incremental ?? true,
    onQueryableState: options.onQueryableState,
  };
}

import type { Key, State, StateDescriptor } from '@nimble/api';
import type { KeyGroupRange } from '../keys/index.js';
import { HeapKeyedStateBackend } from './heap-keyed-state-backend.js';
import { LevelKeyedStateBackend } from './level-keyed-state-backend.js';
import { compileKeyedStateBackendOptions } from './keyed-state-backend-options.js';

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
  /** For 'level': max clean entries kept in the read cache (default 100_000). */
  readCacheSize?: number;
}

/** The state handle returned to operators: the user interface plus the namespace (window) scope. */
export type NamespacedState<S extends State> = S & {
  /** Scopes later calls to `namespace` ('' is the default namespace used by process functions). */
  setCurrentNamespace(namespace: string): void;
  /** Merges the state of `sources` into `target` for the current key and clears the sources
   *  (list: concatenation; reducing/aggregating: reduce/merge of accumulators; value/map: throws). */
  mergeNamespaces(target: string, sources: readonly string[]): void;
};

/**
 * Keyed state of one operator subtask (Flink's `KeyedStateBackend`). All state calls are
 * synchronous; `hashmap` stores values by reference (a value changed after `update` is changed in
 * the state too, as with Flink's heap backend), `level` stores serialized copies.
 */
export interface KeyedStateBackend {
  readonly kind: StateBackendKind;
  /** Opens resources (the LevelDB). Must be awaited before first use. */
  open(): Promise<void>;
  /** Sets the key that all state calls refer to; keyGroup is assignToKeyGroup(key, maxParallelism), computed by the caller. */
  setCurrentKey(key: Key, keyGroup: number): void;
  getCurrentKey(): Key;
  getCurrentKeyGroup(): number;
  /** The state for `descriptor` (same object for the same name). A name registered with another kind throws an error naming the state and the operator. */
  getState<S extends State>(descriptor: StateDescriptor<S>): NamespacedState<S>;
  /** undefined when the hot path may go on; otherwise a promise that resolves when it may (level: too many unflushed writes). The task checks this between batches of records, never per record. */
  availability(): Promise<void> | undefined;
  /** Periodic maintenance, called by the task off the hot path every ~100 ms: TTL background cleanup of up to cleanupBatchSize entries per TTL state, starting background flushes. Synchronous; may start async work. */
  maintain(): void;
  /** Persists all pending writes (level); resolves when durable in LevelDB. */
  flush(): Promise<void>;
  /** Flushes and releases resources. */
  close(): Promise<void>;
  /**
   * For tests: how many entries of `stateName` are physically stored (one per key and namespace;
   * expired or not), after a flush. Both backends implement it.
   */
  numStoredEntries?(stateName: string): Promise<number>;
}

/** A keyed state backend of `options.kind`; call `open()` before use. */
export function createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
  const compiled = compileKeyedStateBackendOptions(options);
  switch (compiled.kind) {
    case 'hashmap':
      return new HeapKeyedStateBackend(compiled);
    case 'level':
      return new LevelKeyedStateBackend(compiled);
  }
}

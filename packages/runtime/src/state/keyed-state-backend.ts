import type { Key, State, StateDescriptor } from '@nimble/api';
import type { StateBackendKind } from './keyed-state-backend-options.js';
import type { QueriedValue, QueryableStateRegistration } from './queryable-state.js';

/** The state handle returned to operators: the user interface plus the namespace (window) scope. */
export type NamespacedState<S extends State> = S & {
  /** Scopes later calls to `namespace` ('' is the default namespace used by process functions). */
  setCurrentNamespace(namespace: string): void;
  /** Merges the state of `sources` into `target` for the current key and clears the sources
   *  (list: concatenation; reducing/aggregating: reduce/merge of accumulators; value/map: throws). */
  mergeNamespaces(target: string, sources: readonly string[]): void;
  /**
   * The stored value of the current key and namespace as it is, e.g. an aggregating state's
   * accumulator (Flink's `InternalKvState.getInternal`); with TTL, wrapped with its timestamp.
   */
  getInternal(): unknown;
  /** Stores a value as {@link getInternal} returns it (Flink's `updateInternal`). */
  updateInternal(value: unknown): void;
};

/**
 * The format of a snapshot. `canonical`: backend-independent, for savepoints (one taken on
 * `hashmap` restores into `level` and back). `native`: the backend's own, for checkpoints:
 * `hashmap` writes canonical, `level` a full snapshot or, incrementally, a delta.
 */
export type SnapshotFormat = 'canonical' | 'native';

/**
 * The block format a snapshot produced, named so restore knows how to read it: `canonical`,
 * `level-full` (every entry of the key group) or `level-delta` (the entries changed since the
 * snapshot of `baseCheckpointId`, deletes as tombstones). docs/state.md, "Snapshots".
 */
export type KeyedSnapshotKind = 'canonical' | 'level-full' | 'level-delta';

/** The state of a backend as of one `snapshot()` call, to be materialized asynchronously. */
export interface KeyedStateSnapshot {
  readonly kind: KeyedSnapshotKind;
  /**
   * For `level-delta`: the checkpoint whose snapshot this one applies on top of (the last one the
   * backend was told completed). Restoring this checkpoint means restoring the chain of that
   * checkpoint, then this delta. Undefined for the other kinds.
   */
  readonly baseCheckpointId: number | undefined;
  /**
   * The state as of the `snapshot()` call, one block per key group of the backend's range
   * (index = keyGroup - range start; an empty Uint8Array when the key group holds nothing).
   * Runs while the backend is used; rejects after `release()`.
   */
  materialize(): Promise<Uint8Array[]>;
  /** Releases what the snapshot holds (a LevelDB snapshot); after `materialize` or instead of it. Idempotent. */
  release(): void;
}

/**
 * An `applyToAllKeys` whose keys are still being read (the `level` backend reads them from
 * LevelDB asynchronously). The caller holds back everything that could touch keyed state (input,
 * timers, the checkpoint's snapshot) until it has called `apply()`, so the function still sees
 * the state as it was when `applyToAllKeys` was called, as if it had run then.
 */
export interface PendingKeyedStateApplication {
  /** Resolves when the keys are read; rejects with a `StateBackendError` when they cannot be. */
  readonly ready: Promise<void>;
  /** Whether `ready` resolved. */
  readonly isReady: boolean;
  /** Runs the function for every key, synchronously; once, after `ready` resolved. */
  apply(): void;
}

/** The bytes of one key group of a snapshot, as restore reads them. */
export interface KeyGroupStateBlock {
  readonly keyGroup: number;
  readonly bytes: Uint8Array;
}

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
  /**
   * Bytes of this subtask's keyed state, for the `stateSize` metric; called when metrics are
   * sampled, never per record. `hashmap` estimates it, `level` measures it (docs/operations.md).
   */
  stateSizeBytes(): number;
  /** Flushes and releases resources. */
  close(): Promise<void>;
  /**
   * The synchronous part of a snapshot for checkpoint (or savepoint) `checkpointId`: captures the
   * state as of now, without waiting; records may change the state as soon as it returns.
   */
  snapshot(checkpointId: number, format: SnapshotFormat): KeyedStateSnapshot;
  /**
   * Loads blocks of a snapshot, after `open()` and before any `getState`. The caller passes only
   * key groups of this backend's range (others throw). For a `level-full` + `level-delta` chain
   * it calls restore once per snapshot of the chain, oldest first; blocks of several snapshots
   * with disjoint key groups (after rescaling) may be restored one after the other. A restored
   * state registered later with another kind, or with TTL switched on or off, is refused.
   */
  restore(kind: KeyedSnapshotKind, blocks: Iterable<KeyGroupStateBlock>): Promise<void>;
  /** Checkpoint `checkpointId` completed: a later native `level` snapshot may be a delta against it. */
  notifyCheckpointComplete(checkpointId: number): void;
  /**
   * Applies `fn` to the state of `descriptor` of every key that has an entry of it in `namespace`
   * ('' for process functions), each time with that key current (Flink's `applyToAllKeys`). The
   * keys are those of the state at the time of the call, the write-back cache included; `fn`
   * may change or clear the state of the key it is given. `hashmap` applies it at once and
   * returns undefined; `level` returns a {@link PendingKeyedStateApplication} whose `apply()`
   * the caller runs when the keys are read. Keys come key group by key group, in an order of the
   * backend's choosing.
   */
  applyToAllKeys<S extends State>(
    namespace: string,
    descriptor: StateDescriptor<S>,
    fn: (key: Key, state: S) => void,
  ): PendingKeyedStateApplication | undefined;
  /** The states registered as queryable so far (Flink's KvState registrations). */
  queryableStates(): QueryableStateRegistration[];
  /**
   * Reads `keys` of the state queryable as `queryableStateName` in `namespace` ('' default) for a
   * lookup from outside the job: copies, read only (the current key stays, no TTL refresh, an
   * expired entry is absent, a pending snapshot takes nothing). Synchronous.
   */
  queryState(queryableStateName: string, keys: readonly Key[], namespace?: string): QueriedValue[];
  /**
   * For tests: how many entries of `stateName` are physically stored (one per key and namespace;
   * expired or not), after a flush. Both backends implement it.
   */
  numStoredEntries?(stateName: string): Promise<number>;
}

import type { StateKind } from '@nimble/api';

/**
 * The storage of one registered state, scoped to the backend's current key and a namespace:
 * what the state handles (state-handles.ts, ttl-state-handles.ts) read and write. Each backend
 * has one implementation; the handles hold the state semantics, so both backends share them.
 */
export interface StateTable<V> {
  /**
   * True when `get` returns the stored object itself (hashmap), so an in-place change is already
   * stored; false when it returns a fresh copy (level), which must be `put` back.
   */
  readonly storesReferences: boolean;
  get(namespace: string): V | undefined;
  put(namespace: string, value: V): void;
  remove(namespace: string): void;
}

/**
 * The table of a list state. `append` adds elements without a read-modify-write of the whole
 * list where the backend can (level appends encoded elements to the stored bytes, as RocksDB's
 * merge operator does for Flink's list state).
 */
export interface ListStateTable<E> extends StateTable<E[]> {
  append(namespace: string, elements: readonly E[]): void;
}

/** Names a state in messages. */
export interface StateInfo {
  readonly name: string;
  readonly kind: StateKind;
  readonly operatorName: string;
}

/** Returned by a TTL state's `expireStored` when an entry has nothing expired. */
export const KEEP: unique symbol = Symbol('keep');

/**
 * A TTL state's view of its stored entries for background cleanup: `expireStored` removes what
 * is expired from one stored entry and returns `undefined` (delete the entry), `KEEP` (nothing
 * expired) or the entry without its expired parts (lists and maps, whose TTL is per element).
 * It may change `stored` in place.
 */
export interface TtlCleanupTarget<V> {
  expireStored(stored: V, now: number): V | undefined | typeof KEEP;
}

/**
 * How a state is stored: its kind, with `+ttl` when its values are TtlValues. Persisted by `level`
 * and written into snapshots, so a state restored (or reopened) as another kind, or with TTL
 * switched on or off, is refused instead of misread.
 */
export type StoredKind = StateKind | `${StateKind}+ttl`;

const STATE_KINDS: readonly string[] = ['value', 'list', 'map', 'reducing', 'aggregating'];

export function storedKindOf(kind: StateKind, withTtl: boolean): StoredKind {
  return withTtl ? `${kind}+ttl` : kind;
}

/** The stored kind `text` names, or undefined when it names none (a corrupted snapshot). */
export function parseStoredKind(text: unknown): StoredKind | undefined {
  if (typeof text !== 'string') return undefined;
  const kind = text.endsWith('+ttl') ? text.slice(0, -4) : text;
  return STATE_KINDS.includes(kind) ? (text as StoredKind) : undefined;
}

/** A stored kind as messages say it: `list`, `value (with TTL)`. */
export function describeStoredKind(kind: string): string {
  return kind.replace('+ttl', ' (with TTL)');
}

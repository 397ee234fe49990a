import { Buffer } from 'node:buffer';
import { deserialize, serialize } from 'node:v8';
import { KEY_TAG } from '../keys/index.js';
import { parseStoredKind } from './state-table.js';
import type { StoredKind } from './state-table.js';

// The canonical snapshot format (docs/state.md, "Snapshots"), written by both backends so that a
// savepoint taken on one restores into the other. A key group's block is the V8 serialization of
//
//   [{ name, kind, entries: [keyBytes, namespace, value, keyBytes, namespace, value, ...] }, ...]
//
// `kind` is the stored kind (`list`, `value+ttl`, ...), `keyBytes` the key's canonical bytes
// (encodeKey), `value` what the state stores for the key and namespace (the list array, the Map
// of map state, TtlValue pairs with TTL). States are in name order, entries in key-bytes order
// then namespace order, so the same state gives the same content whichever backend held it.
// A key group with no entries is an empty block.

const EMPTY_BLOCK = new Uint8Array(0);

/** One entry of a state: a key, a namespace and the stored value. */
export interface CanonicalEntry {
  readonly keyBytes: Uint8Array;
  readonly namespace: string;
  readonly value: unknown;
  /** The key bytes as a latin1 string: compares as the bytes do, without a comparator per byte. */
  readonly order: string;
}

/** The entries of one state in one key group, in any order. */
export interface CanonicalState {
  readonly name: string;
  readonly kind: StoredKind;
  readonly entries: CanonicalEntry[];
}

/** A state of a decoded block; `entries` is flat: keyBytes, namespace, value, keyBytes, ... */
export interface DecodedCanonicalState {
  readonly name: string;
  readonly kind: StoredKind;
  readonly entries: readonly unknown[];
}

const ARENA_CHUNK_SIZE = 64 * 1024;

/**
 * Writes the key bytes of many entries into shared chunks, one allocation per 64 KiB instead of
 * two per key, and makes their sort strings. Key bytes are plain Uint8Array views (V8
 * serialization tells a Buffer from a Uint8Array: both backends must write the same), which
 * the V8 serializer writes as their own bytes only.
 */
export class KeyBytesArena {
  private chunk = Buffer.allocUnsafeSlow(ARENA_CHUNK_SIZE);
  private used = 0;

  private reserve(size: number): void {
    if (this.used + size <= this.chunk.length) return;
    this.chunk = Buffer.allocUnsafeSlow(Math.max(ARENA_CHUNK_SIZE, size));
    this.used = 0;
  }

  private entry(start: number, namespace: string, value: unknown): CanonicalEntry {
    const chunk = this.chunk;
    const end = this.used;
    return {
      keyBytes: new Uint8Array(chunk.buffer, chunk.byteOffset + start, end - start),
      namespace,
      value,
      order: chunk.toString('latin1', start, end),
    };
  }

  /** The entry of a string key: what encodeKey writes, without its TextEncoder call. */
  stringKey(key: string, namespace: string, value: unknown): CanonicalEntry {
    this.reserve(1 + key.length * 3);
    const start = this.used;
    this.chunk[start] = KEY_TAG.string;
    this.used += 1 + this.chunk.write(key, start + 1, 'utf8');
    return this.entry(start, namespace, value);
  }

  /** The entry of a key given as its canonical bytes (copied). */
  encodedKey(keyBytes: Uint8Array, namespace: string, value: unknown): CanonicalEntry {
    this.reserve(keyBytes.length);
    const start = this.used;
    this.chunk.set(keyBytes, start);
    this.used += keyBytes.length;
    return this.entry(start, namespace, value);
  }
}

function compareEntries(a: CanonicalEntry, b: CanonicalEntry): number {
  if (a.order !== b.order) return a.order < b.order ? -1 : 1;
  if (a.namespace === b.namespace) return 0;
  return a.namespace < b.namespace ? -1 : 1;
}

/** The block of one key group. Sorts `states` and their entries in place. */
export function encodeCanonicalBlock(states: CanonicalState[]): Uint8Array {
  const block = canonicalBlockStates(states);
  return block.length === 0 ? EMPTY_BLOCK : serialize(block);
}

/**
 * What a block holds for `states`, before serialization: the states with entries in name order,
 * their entries flat and sorted. Sorts `states` and their entries in place.
 */
export function canonicalBlockStates(states: CanonicalState[]): DecodedCanonicalState[] {
  const block: DecodedCanonicalState[] = [];
  states.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, kind, entries } of states) {
    if (entries.length === 0) continue;
    entries.sort(compareEntries);
    const flat = new Array<unknown>(entries.length * 3);
    let i = 0;
    for (const entry of entries) {
      flat[i++] = entry.keyBytes;
      flat[i++] = entry.namespace;
      flat[i++] = entry.value;
    }
    block.push({ name, kind, entries: flat });
  }
  return block;
}

/** The states of a block, checked for shape; throws a TypeError saying what is wrong. */
export function decodeCanonicalBlock(bytes: Uint8Array): DecodedCanonicalState[] {
  if (bytes.length === 0) return [];
  const decoded: unknown = deserialize(bytes);
  if (!Array.isArray(decoded)) throw new TypeError('the block is not an array of states');
  const states: DecodedCanonicalState[] = [];
  for (const state of decoded as unknown[]) {
    const { name, kind, entries } = (state ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string') throw new TypeError('a state without a name');
    const storedKind = parseStoredKind(kind);
    if (storedKind === undefined)
      throw new TypeError(`state "${name}" has the unknown kind ${String(kind)}`);
    if (!Array.isArray(entries) || entries.length % 3 !== 0)
      throw new TypeError(`the entries of state "${name}" are not key, namespace, value triples`);
    for (let i = 0; i < entries.length; i += 3) {
      if (!(entries[i] instanceof Uint8Array) || typeof entries[i + 1] !== 'string')
        throw new TypeError(`entry ${i / 3} of state "${name}" has no key bytes or namespace`);
    }
    states.push({ name, kind: storedKind, entries });
  }
  return states;
}

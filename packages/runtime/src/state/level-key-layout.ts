import type { Key } from '@nimble/api';
import { encodeKey, KEY_TAG } from '../keys/index.js';
import { varintSize, writeVarint } from '../util/varint.js';

// The `level` backend's LevelDB keys (docs/state.md):
//
//   state entry  [keyGroup: u16 BE][stateId: u16 BE][varint len][canonical key bytes][namespace UTF-8]
//   state name   [0xFFFF][0x0000][name UTF-8]  ->  [stateId: u16 BE][kind UTF-8]
//
// Key groups come first, so a key-group range is one contiguous scan (snapshots, rescaling); within
// a key group a state is one contiguous range (TTL background cleanup, counting). Key groups are
// below 2^15 (UPPER_BOUND_MAX_PARALLELISM), so 0xFFFF is free for metadata.

/** The key group of the metadata entries. */
export const META_KEY_GROUP = 0xffff;
const META_STATE_NAME = 0x0000;
/** State ids are u16; the largest leaves room for the exclusive upper bound of its range. */
export const MAX_STATE_ID = 0xfffe;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

// Scratch for the canonical bytes of string keys, so a LevelDB key costs one allocation.
let scratch = new Uint8Array(256);
let scratchTail = scratch.subarray(1);

/** The LevelDB key of one state entry (the canonical key bytes are those of encodeKey). */
export function stateEntryKey(
  keyGroup: number,
  stateId: number,
  key: Key,
  namespace: Uint8Array,
): Uint8Array {
  let keyBytes: Uint8Array;
  let keyLength: number;
  if (typeof key === 'string') {
    // Worst case 3 UTF-8 bytes per UTF-16 unit, plus the tag.
    if (scratch.length < key.length * 3 + 1) {
      scratch = new Uint8Array(Math.max(key.length * 3 + 1, scratch.length * 2));
      scratchTail = scratch.subarray(1);
    }
    scratch[0] = KEY_TAG.string;
    keyLength = textEncoder.encodeInto(key, scratchTail).written + 1;
    keyBytes = scratch;
  } else {
    keyBytes = encodeKey(key);
    keyLength = keyBytes.length;
  }
  const keyOffset = 4 + varintSize(keyLength);
  const namespaceOffset = keyOffset + keyLength;
  const out = new Uint8Array(namespaceOffset + namespace.length);
  out[0] = keyGroup >>> 8;
  out[1] = keyGroup & 0xff;
  out[2] = stateId >>> 8;
  out[3] = stateId & 0xff;
  writeVarint(out, 4, keyLength);
  for (let i = 0; i < keyLength; i++) out[keyOffset + i] = keyBytes[i]!;
  if (namespace.length > 0) out.set(namespace, namespaceOffset);
  return out;
}

/** The LevelDB key of a state entry whose key is given as its canonical bytes (restore). */
export function stateEntryKeyOfEncoded(
  keyGroup: number,
  stateId: number,
  keyBytes: Uint8Array,
  namespace: Uint8Array,
): Uint8Array {
  const keyOffset = 4 + varintSize(keyBytes.length);
  const out = new Uint8Array(keyOffset + keyBytes.length + namespace.length);
  out[0] = keyGroup >>> 8;
  out[1] = keyGroup & 0xff;
  out[2] = stateId >>> 8;
  out[3] = stateId & 0xff;
  writeVarint(out, 4, keyBytes.length);
  out.set(keyBytes, keyOffset);
  out.set(namespace, keyOffset + keyBytes.length);
  return out;
}

/**
 * The part of a state entry key after the key group and state id, `[varint len][key][namespace]`:
 * what native snapshots carry, since state ids are local to one LevelDB.
 */
export const STATE_ENTRY_PREFIX_LENGTH = 4;

/** The LevelDB key of `suffix` (see STATE_ENTRY_PREFIX_LENGTH) in `keyGroup` and `stateId`. */
export function stateEntryKeyWithSuffix(
  keyGroup: number,
  stateId: number,
  suffix: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(STATE_ENTRY_PREFIX_LENGTH + suffix.length);
  out[0] = keyGroup >>> 8;
  out[1] = keyGroup & 0xff;
  out[2] = stateId >>> 8;
  out[3] = stateId & 0xff;
  out.set(suffix, STATE_ENTRY_PREFIX_LENGTH);
  return out;
}

/** The range of every state entry of `keyGroup`. */
export function keyGroupRangeOfEntries(keyGroup: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: stateRangeStart(keyGroup, 0), lt: stateRangeStart(keyGroup + 1, 0) };
}

/** The first key of `stateId` in `keyGroup`; `stateId + 1` gives the exclusive end. */
export function stateRangeStart(keyGroup: number, stateId: number): Uint8Array {
  return Uint8Array.of(keyGroup >>> 8, keyGroup & 0xff, stateId >>> 8, stateId & 0xff);
}

export function encodeNamespace(namespace: string): Uint8Array {
  return textEncoder.encode(namespace);
}

/** The parts of a state entry key. */
export interface ParsedStateKey {
  keyGroup: number;
  stateId: number;
  /** Canonical key bytes, without the length. */
  keyBytes: Uint8Array;
  namespace: string;
}

export function parseStateEntryKey(bytes: Uint8Array): ParsedStateKey {
  const keyGroup = (bytes[0]! << 8) | bytes[1]!;
  const stateId = (bytes[2]! << 8) | bytes[3]!;
  const { keyBytes, namespace } = parseKeySuffix(bytes, STATE_ENTRY_PREFIX_LENGTH);
  return { keyGroup, stateId, keyBytes, namespace };
}

/**
 * The canonical key bytes and namespace of `[varint len][key][namespace]` at `offset` of `bytes`:
 * a LevelDB key after its key group and state id, or a key suffix of a native snapshot block.
 */
export function parseKeySuffix(
  bytes: Uint8Array,
  offset = 0,
): { keyBytes: Uint8Array; namespace: string } {
  let length = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[offset++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  const keyBytes = bytes.subarray(offset, offset + length);
  const namespace =
    offset + length === bytes.length ? '' : textDecoder.decode(bytes.subarray(offset + length));
  return { keyBytes, namespace };
}

/**
 * A 32-bit hash of a LevelDB key (FNV-1a, then murmur3's finalizer so every bit depends on every
 * byte): what the per-key-group key filters store. Computed from the bytes, so open, restore and
 * a filter rebuild hash a scanned key exactly as the read path hashes the key it built.
 */
export function hashOfDbKey(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The metadata key that maps a state name to its id. */
export function stateNameKey(name: string): Uint8Array {
  const nameBytes = textEncoder.encode(name);
  const out = new Uint8Array(4 + nameBytes.length);
  out.set([
    META_KEY_GROUP >>> 8,
    META_KEY_GROUP & 0xff,
    META_STATE_NAME >>> 8,
    META_STATE_NAME & 0xff,
  ]);
  out.set(nameBytes, 4);
  return out;
}

/** The range of all state-name entries. */
export const STATE_NAME_RANGE = {
  gte: stateRangeStart(META_KEY_GROUP, META_STATE_NAME),
  lt: stateRangeStart(META_KEY_GROUP, META_STATE_NAME + 1),
} as const;

export function decodeStateNameEntry(
  key: Uint8Array,
  value: Uint8Array,
): { name: string; id: number; kind: string } {
  return {
    name: textDecoder.decode(key.subarray(4)),
    id: (value[0]! << 8) | value[1]!,
    kind: textDecoder.decode(value.subarray(2)),
  };
}

export function encodeStateNameValue(id: number, kind: string): Uint8Array {
  const kindBytes = textEncoder.encode(kind);
  const out = new Uint8Array(2 + kindBytes.length);
  out[0] = id >>> 8;
  out[1] = id & 0xff;
  out.set(kindBytes, 2);
  return out;
}

// The write-back and read caches are JS Maps keyed by strings: building a string from the key
// (no encoding, no allocation for the common primitive keys beyond one concatenation) is much
// cheaper than the LevelDB key, which is only built on a cache miss or a write. A key's string
// form must be unique per canonical key and derivable from the LevelDB key too, so the TTL
// background sweep can find the cached entry of a key it scanned.

/** The string form of a key: a type tag and the key (the canonical bytes for arrays). */
export function keyPartOf(key: Key): string {
  switch (typeof key) {
    case 'string':
      return 's' + key;
    case 'number':
      // String(-0) is '0', as encodeKey maps -0 to 0.
      return 'n' + key;
    case 'bigint':
      return 'b' + key;
    case 'boolean':
      return key ? 't' : 'f';
    default:
      return 'a' + latin1(encodeKey(key));
  }
}

/** keyPartOf of the key whose canonical bytes are `keyBytes`. */
export function keyPartOfEncoded(keyBytes: Uint8Array): string {
  const view = new DataView(keyBytes.buffer, keyBytes.byteOffset, keyBytes.byteLength);
  switch (keyBytes[0]) {
    case KEY_TAG.string:
      return 's' + textDecoder.decode(keyBytes.subarray(1));
    case KEY_TAG.integer:
      return 'n' + Number(view.getBigInt64(1));
    case KEY_TAG.float:
      return 'n' + view.getFloat64(1);
    case KEY_TAG.bigint:
      return 'b' + textDecoder.decode(keyBytes.subarray(1));
    case KEY_TAG.boolean:
      return keyBytes[1] === 1 ? 't' : 'f';
    default:
      return 'a' + latin1(keyBytes);
  }
}

/** The cache-key prefixes of one state. */
export interface CacheKeyPrefixes {
  /** Of entries in the default namespace (''): the state id and namespace length 0. */
  readonly ofDefaultNamespace: string;
  /** Of all entries: the state id as one UTF-16 unit. */
  readonly ofState: string;
}

export function cacheKeyPrefixes(stateId: number): CacheKeyPrefixes {
  const ofState = String.fromCharCode(stateId);
  return { ofState, ofDefaultNamespace: ofState + '\u0000' };
}

/**
 * The cache key of an entry: state id, namespace length, namespace, key part. The length makes
 * the split between namespace and key unambiguous whatever characters they contain.
 */
export function cacheKeyOf(prefixes: CacheKeyPrefixes, namespace: string, keyPart: string): string {
  if (namespace === '') return prefixes.ofDefaultNamespace + keyPart;
  const header =
    namespace.length < 0xffff
      ? String.fromCharCode(namespace.length)
      : `\uffff${namespace.length}:`;
  return prefixes.ofState + header + namespace + keyPart;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

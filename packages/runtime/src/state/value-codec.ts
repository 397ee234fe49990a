import { Buffer } from 'node:buffer';
import { DefaultSerializer, deserialize } from 'node:v8';
import type { StoredKind } from './state-table.js';
import type { TtlValue } from './ttl.js';
import { varintSize, writeVarint } from '../util/varint.js';

// The `level` backend's value bytes (docs/state.md has the measurements behind this choice).
//
// Correctness first: every value round-trips as with V8's structured serialization (node:v8),
// which keeps Map, Set, Date, bigint, undefined, NaN, -0, typed arrays and shared or cyclic
// references; JSON loses or rejects all of these. Class instances come back as plain objects,
// as with structuredClone. Then speed: node:v8 pays for a serializer object per call, so the
// common values whose JSON form is exact take a tagged fast path. The first byte says which:
//
//   0xFF  node:v8 payload (0xFF is V8's version tag, so the payload is stored as is)
//   0x01  number, float64 big-endian
//   0x02  string, UTF-8 (well-formed strings only: UTF-8 cannot carry a lone surrogate)
//   0x03  JSON, UTF-8, of a record: a plain object or an array (tuple) whose values are strings,
//         booleans, null, finite numbers other than -0, or such records (at most 4 deep, no
//         object reached twice, so no shared reference is lost; arrays without holes or extra
//         properties)
//   0x04  list state: the elements one after the other, each `varint(length) bytes` in its own
//         tagged form, so adding to a list appends bytes without decoding the list

const NUMBER_TAG = 0x01;
const STRING_TAG = 0x02;
const JSON_TAG = 0x03;
const LIST_TAG = 0x04;

/** Bytes of one stored value of a state. */
export interface ValueCodec<V> {
  encode(value: V): Uint8Array;
  decode(bytes: Uint8Array): V;
  /**
   * With TTL: whether `bytes` is expired at `now`, read without decoding the value (the TTL
   * layout keeps the timestamp in the first 8 bytes, like the timestamp Flink's RocksDB
   * compaction filter reads). Absent where the TTL is per element (lists, maps).
   */
  readonly isExpired?: (bytes: Uint8Array, now: number, ttlMillis: number) => boolean;
}

/** Values without TTL, and maps with or without TTL (their TtlValues are pairs inside). */
export const valueCodec: ValueCodec<unknown> = {
  encode: (value) => encodeValue(value, 0),
  decode: (bytes) => decodeValue(bytes, 0),
};

/** Value, reducing and aggregating state with TTL: `[lastAccess: float64 BE][value]`. */
export const ttlScalarCodec: ValueCodec<TtlValue<unknown>> = {
  encode([value, timestamp]) {
    const out = encodeValue(value, 8);
    out.writeDoubleBE(timestamp, 0);
    return out;
  },
  decode(bytes) {
    return [decodeValue(bytes, 8), asBuffer(bytes).readDoubleBE(0)];
  },
  isExpired: (bytes, now, ttlMillis) => asBuffer(bytes).readDoubleBE(0) + ttlMillis <= now,
};

/** A list's bytes; `append` adds encoded elements to stored bytes without decoding them. */
export interface ListCodec<E> extends ValueCodec<E[]> {
  append(stored: Uint8Array | null, elements: readonly E[]): Uint8Array;
}

/** List state with `element` per element (valueCodec, or ttlScalarCodec for per-element TTL). */
export function listCodec<E>(element: ValueCodec<E>): ListCodec<E> {
  const append = (stored: Uint8Array | null, elements: readonly E[]): Uint8Array => {
    const encoded = elements.map((e) => element.encode(e));
    let size = stored === null ? 1 : stored.length;
    for (const bytes of encoded) size += varintSize(bytes.length) + bytes.length;
    const out = Buffer.allocUnsafeSlow(size);
    let offset = 1;
    if (stored === null) out[0] = LIST_TAG;
    else {
      out.set(stored, 0);
      offset = stored.length;
    }
    for (const bytes of encoded) {
      offset = writeVarint(out, offset, bytes.length);
      out.set(bytes, offset);
      offset += bytes.length;
    }
    return out;
  };
  return {
    append,
    encode: (list) => append(null, list),
    decode(bytes) {
      const buffer = asBuffer(bytes);
      const list: E[] = [];
      let offset = 1;
      while (offset < buffer.length) {
        let length = 0;
        let shift = 0;
        for (;;) {
          const b = buffer[offset++]!;
          length += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) break;
          shift += 7;
        }
        list.push(element.decode(buffer.subarray(offset, offset + length)));
        offset += length;
      }
      return list;
    },
  };
}

/**
 * The codec of a state stored as `kind`: lists per element (with a TtlValue per element with
 * TTL), maps as one value (their TtlValues are inside), the other kinds as one value, behind
 * the timestamp with TTL.
 */
export function codecOfStoredKind(kind: StoredKind): ValueCodec<unknown> {
  const withTtl = kind.endsWith('+ttl');
  if (kind.startsWith('list')) return listCodec<unknown>(withTtl ? ttlScalarCodec : valueCodec);
  if (!withTtl || kind === 'map+ttl') return valueCodec;
  return ttlScalarCodec as ValueCodec<unknown>;
}

// Buffers are allocated unpooled (allocUnsafeSlow): stored bytes live long in the caches, and a
// slice of Node's shared 8 KiB pool would keep the whole pool slab alive.

/** The bytes of `value` after `headroom` bytes left for the caller. */
export function encodeValue(value: unknown, headroom: number): Buffer {
  switch (typeof value) {
    case 'number': {
      const out = Buffer.allocUnsafeSlow(headroom + 9);
      out[headroom] = NUMBER_TAG;
      out.writeDoubleBE(value, headroom + 1);
      return out;
    }
    case 'string':
      if ((value as string & { isWellFormed(): boolean }).isWellFormed())
        return tagged(STRING_TAG, value, headroom);
      break;
    case 'object':
      if (value !== null && isFlatRecord(value))
        return tagged(JSON_TAG, JSON.stringify(value), headroom);
      break;
  }
  const serializer = new DefaultSerializer();
  if (headroom > 0) serializer.writeRawBytes(Buffer.alloc(headroom));
  serializer.writeHeader();
  serializer.writeValue(value);
  return serializer.releaseBuffer();
}

export function decodeValue(bytes: Uint8Array, offset: number): unknown {
  const buffer = asBuffer(bytes);
  switch (buffer[offset]) {
    case NUMBER_TAG:
      return buffer.readDoubleBE(offset + 1);
    case STRING_TAG:
      return buffer.toString('utf8', offset + 1);
    case JSON_TAG:
      return JSON.parse(buffer.toString('utf8', offset + 1));
    default:
      return deserialize(offset === 0 ? buffer : buffer.subarray(offset));
  }
}

function tagged(tag: number, text: string, headroom: number): Buffer {
  const out = Buffer.allocUnsafeSlow(headroom + 1 + Buffer.byteLength(text));
  out[headroom] = tag;
  out.write(text, headroom + 1);
  return out;
}

/** How deep a value may nest and still take the JSON form (deeper values are rare in state). */
const MAX_JSON_DEPTH = 4;

/**
 * Whether JSON keeps `value` exactly (see the table above): plain objects and arrays (without
 * holes or extra properties) of strings, booleans, null and finite numbers other than -0, nested
 * at most MAX_JSON_DEPTH deep, with no object reached twice (JSON would copy a shared reference
 * where structured serialization keeps it shared).
 */
function isFlatRecord(value: object): boolean {
  return isJsonTree(value, 1, undefined) !== false;
}

/** `false` when not exact in JSON; else the set of nested objects seen (or undefined if none). */
function isJsonTree(
  value: object,
  depth: number,
  seen: Set<object> | undefined,
): boolean | Set<object> | undefined {
  const proto = Object.getPrototypeOf(value);
  const isArray = proto === Array.prototype;
  if (!isArray && proto !== Object.prototype) return false;
  let properties = 0;
  for (const key in value) {
    properties++;
    const field = (value as Record<string, unknown>)[key];
    if (isExactInJson(field)) continue;
    if (typeof field !== 'object' || field === null || depth >= MAX_JSON_DEPTH) return false;
    seen ??= new Set([value]);
    if (seen.has(field)) return false;
    seen.add(field);
    const nested = isJsonTree(field, depth + 1, seen);
    if (nested === false) return false;
  }
  // Holes are not enumerated and extra properties are: both make the count differ.
  if (isArray && properties !== (value as unknown[]).length) return false;
  return seen ?? true;
}

/** A string, boolean, null, or finite number other than -0. */
function isExactInJson(field: unknown): boolean {
  switch (typeof field) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(field) && (field !== 0 || 1 / field > 0);
    case 'object':
      return field === null;
    default:
      return false;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

import { Buffer } from 'node:buffer';
import type { Key } from '@nimble/api';
import { varintSize, writeVarint } from '../util/varint.js';

/**
 * The canonical byte form of a key. Equal keys have equal bytes on every process and version:
 * it feeds the key-group hash (docs/key-groups.md) and the `level` state backend's key layout.
 *
 *   string   0x01 UTF-8 bytes
 *   integer  0x02 int64 big-endian          (a number with no fraction, |n| <= 2^53 - 1; -0 is 0)
 *   float    0x03 float64 big-endian        (any other finite number)
 *   bigint   0x04 decimal ASCII digits, '-' for negatives
 *   boolean  0x05 0x00 | 0x01
 *   array    0x06 varint(count) then per element varint(length) bytes
 */
export const KEY_TAG = {
  string: 0x01,
  integer: 0x02,
  float: 0x03,
  bigint: 0x04,
  boolean: 0x05,
  array: 0x06,
} as const;

const textEncoder = new TextEncoder();

/** Thrown when a key selector returns something that is not a {@link Key}. */
export class InvalidKeyError extends TypeError {
  override readonly name = 'InvalidKeyError';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array with an element that is not a key';
  if (typeof value === 'object')
    return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'number') return `the number ${value}`;
  return typeof value;
}

/**
 * Checks that `value` can be a key: a string, finite number, bigint, boolean, or an array of them.
 * Returns a description of what is wrong, or undefined.
 */
export function keyProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'bigint':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : describe(value);
    case 'object':
      if (Array.isArray(value)) {
        for (const element of value) {
          if (keyProblem(element) !== undefined) return describe(value);
        }
        return undefined;
      }
      return describe(value);
    default:
      return describe(value);
  }
}

/** Writes the canonical bytes of `key`; the result is a fresh array. */
export function encodeKey(key: Key): Uint8Array {
  const parts: Uint8Array[] = [];
  encodeInto(key, parts);
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function encodeInto(key: Key, parts: Uint8Array[]): void {
  switch (typeof key) {
    case 'string': {
      const bytes = textEncoder.encode(key);
      const out = new Uint8Array(bytes.length + 1);
      out[0] = KEY_TAG.string;
      out.set(bytes, 1);
      parts.push(out);
      return;
    }
    case 'number': {
      if (!Number.isFinite(key)) throw new InvalidKeyError(`A key must be finite; got ${key}`);
      const out = new Uint8Array(9);
      const view = new DataView(out.buffer);
      if (Number.isSafeInteger(key)) {
        out[0] = KEY_TAG.integer;
        view.setBigInt64(1, BigInt(key === 0 ? 0 : key));
      } else {
        out[0] = KEY_TAG.float;
        view.setFloat64(1, key);
      }
      parts.push(out);
      return;
    }
    case 'bigint': {
      const digits = textEncoder.encode(key.toString(10));
      const out = new Uint8Array(digits.length + 1);
      out[0] = KEY_TAG.bigint;
      out.set(digits, 1);
      parts.push(out);
      return;
    }
    case 'boolean':
      parts.push(Uint8Array.of(KEY_TAG.boolean, key ? 1 : 0));
      return;
    default: {
      if (!Array.isArray(key)) throw new InvalidKeyError(`Not a key: ${describe(key)}`);
      const header = new Uint8Array(1 + varintSize(key.length));
      header[0] = KEY_TAG.array;
      writeVarint(header, 1, key.length);
      parts.push(header);
      for (const element of key as readonly Key[]) {
        const bytes = encodeKey(element);
        const len = new Uint8Array(varintSize(bytes.length));
        writeVarint(len, 0, bytes.length);
        parts.push(len, bytes);
      }
    }
  }
}

/** What {@link keyId} returns. */
export type KeyId = string | number | bigint | boolean;

/**
 * A JS-Map-able id that is equal for equal keys: primitives are their own id; an array key is
 * its canonical bytes as a latin1 string behind a NUL, so `['5n']` and `[5n]` stay apart. A
 * string key that itself starts with NUL takes that form too, so it cannot collide with an
 * array's id and every id maps back to one key ({@link encodedKeyOfId}). Used by the `hashmap`
 * backend and the timer service.
 */
export function keyId(key: Key): KeyId {
  if (typeof key !== 'object' && (typeof key !== 'string' || key.charCodeAt(0) !== 0)) return key;
  return '\u0000' + Buffer.from(encodeKey(key)).toString('latin1');
}

/** The canonical bytes of the key whose {@link keyId} is `id`. */
export function encodedKeyOfId(id: KeyId): Uint8Array {
  if (typeof id === 'string' && id.charCodeAt(0) === 0) {
    return new Uint8Array(Buffer.from(id.slice(1), 'latin1'));
  }
  return encodeKey(id);
}

/** The {@link keyId} of the key whose canonical bytes are `bytes` (checked as {@link decodeKey} does). */
export function keyIdOfEncoded(bytes: Uint8Array): KeyId {
  const key = decodeKey(bytes);
  if (typeof key === 'object' || (typeof key === 'string' && key.charCodeAt(0) === 0)) {
    return (
      '\u0000' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
    );
  }
  return key;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The key whose canonical bytes are `bytes`: the inverse of {@link encodeKey} (`-0` comes back
 * as `0`, as encodeKey writes it). Throws an {@link InvalidKeyError} for bytes encodeKey does not
 * write, so corrupted state is not read as some other key.
 */
export function decodeKey(bytes: Uint8Array): Key {
  return decodeRange(
    bytes,
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    0,
    bytes.length,
  );
}

function decodeRange(bytes: Uint8Array, view: DataView, start: number, end: number): Key {
  const bad = (what: string): never => {
    throw new InvalidKeyError(`Not the canonical bytes of a key: ${what} at byte ${start}`);
  };
  if (start >= end) bad('no tag');
  switch (bytes[start]) {
    case KEY_TAG.string:
      try {
        return textDecoder.decode(bytes.subarray(start + 1, end));
      } catch {
        return bad('a string that is not UTF-8');
      }
    case KEY_TAG.integer: {
      if (end - start !== 9) bad('an integer that is not 8 bytes');
      const value = view.getBigInt64(start + 1);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
        bad('an integer beyond 2^53 - 1');
      return Number(value);
    }
    case KEY_TAG.float: {
      if (end - start !== 9) bad('a float that is not 8 bytes');
      const value = view.getFloat64(start + 1);
      if (!Number.isFinite(value)) bad('a float that is not finite');
      return value;
    }
    case KEY_TAG.bigint: {
      let digits = '';
      for (let i = start + 1; i < end; i++) digits += String.fromCharCode(bytes[i]!);
      if (!/^(0|-?[1-9]\d*)$/.test(digits)) bad('a bigint that is not decimal digits');
      return BigInt(digits);
    }
    case KEY_TAG.boolean:
      if (end - start !== 2 || bytes[start + 1]! > 1) bad('a boolean that is not 0 or 1');
      return bytes[start + 1] === 1;
    case KEY_TAG.array: {
      let offset = start + 1;
      const readVarint = (): number => {
        let n = 0;
        for (let shift = 0; ; shift += 7) {
          if (offset >= end || shift > 49) bad('a truncated length');
          const b = bytes[offset++]!;
          n += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) return n;
        }
      };
      const count = readVarint();
      const elements: Key[] = [];
      for (let i = 0; i < count; i++) {
        const length = readVarint();
        if (offset + length > end) bad('an element longer than the array');
        elements.push(decodeRange(bytes, view, offset, offset + length));
        offset += length;
      }
      if (offset !== end) bad('bytes after the last element');
      return elements;
    }
    default:
      return bad(`the unknown tag ${bytes[start]}`);
  }
}

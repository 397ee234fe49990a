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

/**
 * A JS-Map-able id that is equal for equal keys: primitives are their own id; an array key is
 * its canonical bytes as a latin1 string behind a NUL, so `['5n']` and `[5n]` stay apart. Used by
 * the `hashmap` backend and the timer service.
 */
export function keyId(key: Key): string | number | bigint | boolean {
  if (typeof key !== 'object') return key;
  return '\u0000' + Buffer.from(encodeKey(key)).toString('latin1');
}

import type { Key } from '@nimble/api';
import { encodeKey, InvalidKeyError, KEY_TAG, keyProblem } from './key-encoding.js';
import { murmur3_32 } from './murmur3.js';

/** Flink's default number of key groups. */
export const DEFAULT_MAX_PARALLELISM = 128;
/** The largest max parallelism (key groups are stored as 16-bit numbers), as in Flink. */
export const UPPER_BOUND_MAX_PARALLELISM = 1 << 15;

// Scratch buffer for string keys: the common case hashes with no allocation.
let scratch = new Uint8Array(256);
const encoder = new TextEncoder();

/** The stable 32-bit hash of a key: murmur3_32 (seed 0) of its canonical bytes (key-encoding.ts). */
export function keyHash(key: Key): number {
  if (typeof key === 'string') {
    // Worst case 3 UTF-8 bytes per UTF-16 unit, plus the tag.
    const needed = key.length * 3 + 1;
    if (scratch.length < needed) scratch = new Uint8Array(Math.max(needed, scratch.length * 2));
    scratch[0] = KEY_TAG.string;
    // ASCII (user ids, most keys) is its own UTF-8: copy the code units, no encoder call.
    const length = key.length;
    let i = 0;
    for (; i < length; i++) {
      const unit = key.charCodeAt(i);
      if (unit >= 0x80) break;
      scratch[i + 1] = unit;
    }
    if (i === length) return murmur3_32(scratch, length + 1);
    const { written } = encoder.encodeInto(key, scratch.subarray(1));
    return murmur3_32(scratch, written + 1);
  }
  return murmur3_32(encodeKey(key));
}

/** `keyHash(key) mod maxParallelism`. */
export function assignToKeyGroup(key: Key, maxParallelism: number): number {
  return keyHash(key) % maxParallelism;
}

/** The subtask that owns a key group: `keyGroup * parallelism / maxParallelism` (floor). */
export function operatorIndexForKeyGroup(
  maxParallelism: number,
  parallelism: number,
  keyGroup: number,
): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** A contiguous, inclusive range of key groups. */
export class KeyGroupRange {
  constructor(
    readonly startKeyGroup: number,
    readonly endKeyGroup: number,
  ) {}
  /** Whether `keyGroup` is in the range. */
  contains(keyGroup: number): boolean {
    return keyGroup >= this.startKeyGroup && keyGroup <= this.endKeyGroup;
  }
  /** Number of key groups. */
  size(): number {
    return Math.max(0, this.endKeyGroup - this.startKeyGroup + 1);
  }
  toString(): string {
    return `KeyGroupRange{${this.startKeyGroup}..${this.endKeyGroup}}`;
  }
  /** The range of subtask `index` of `parallelism`: `[ceil(i*maxP/p), ceil((i+1)*maxP/p) - 1]`. */
  static forOperatorIndex(
    maxParallelism: number,
    parallelism: number,
    index: number,
  ): KeyGroupRange {
    checkParallelism(maxParallelism, parallelism);
    const start = Math.ceil((index * maxParallelism) / parallelism);
    const end = Math.ceil(((index + 1) * maxParallelism) / parallelism) - 1;
    return new KeyGroupRange(start, end);
  }
}

/** Checks parallelism against max parallelism with a message a user can act on. */
export function checkParallelism(maxParallelism: number, parallelism: number): void {
  if (
    !Number.isInteger(maxParallelism) ||
    maxParallelism < 1 ||
    maxParallelism > UPPER_BOUND_MAX_PARALLELISM
  ) {
    throw new RangeError(
      `maxParallelism must be an integer in [1, ${UPPER_BOUND_MAX_PARALLELISM}]; got ${maxParallelism}`,
    );
  }
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) {
    throw new RangeError(
      `parallelism ${parallelism} must be an integer in [1, maxParallelism=${maxParallelism}]; ` +
        'raise maxParallelism (setMaxParallelism) or lower the parallelism',
    );
  }
}

/**
 * Validates a key returned by a key selector. `where` names the operator for the message.
 * Returns the key unchanged.
 */
export function checkKey(key: unknown, where: string): Key {
  if (
    typeof key === 'string' || typeof key === 'number'
      ? Number.isFinite(key) || typeof key === 'string'
      : false
  ) {
    return key as Key;
  }
  const problem = keyProblem(key);
  if (problem === undefined) return key as Key;
  throw new InvalidKeyError(
    `${where}: the key selector returned ${problem}. Keys must be strings, finite numbers, bigints, ` +
      'booleans or arrays of them; return e.g. a field (`e => e.userId`) or an array of fields.',
  );
}

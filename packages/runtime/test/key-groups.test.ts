import { describe, expect, it } from 'vitest';
import {
  assignToKeyGroup,
  DEFAULT_MAX_PARALLELISM,
  encodeKey,
  KeyGroupRange,
  keyHash,
  murmur3_32,
  operatorIndexForKeyGroup,
} from '../src/index.js';
import { checkKey, keyId } from '../src/keys/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('murmur3_32', () => {
  it('matches the reference MurmurHash3 x86_32 vectors', () => {
    expect(murmur3_32(utf8(''))).toBe(0);
    expect(murmur3_32(utf8('hello'))).toBe(0x248bfa47);
    expect(murmur3_32(utf8('The quick brown fox jumps over the lazy dog'))).toBe(0x2e4ff723);
  });
});

describe('key hash: stable across versions and processes (docs/key-groups.md)', () => {
  // These vectors pin where state lives: changing any of them breaks restoring savepoints.
  const vectors: [unknown, number, number][] = [
    ['user-1', 2828421255, 7],
    ['user-42', 1025461072, 80],
    ['', 3831157163, 43],
    ['ü', 241438191, 111],
    [0, 3468965017, 25],
    [1, 1719030362, 90],
    [-1, 2124068350, 126],
    [1.5, 4175554829, 13],
    [2 ** 53 - 1, 4167717226, 106],
    [10n, 3734203579, 59],
    [-7n, 1635013866, 106],
    [true, 4115060544, 64],
    [false, 1253686505, 105],
    [['user-1', 3], 3129190285, 13],
    [[], 3991938273, 97],
  ];
  it.each(vectors)('%s hashes to %i, key group %i of 128', (key, hash, group) => {
    expect(keyHash(key as never)).toBe(hash);
    expect(assignToKeyGroup(key as never, DEFAULT_MAX_PARALLELISM)).toBe(group);
  });
  it('hashes a string as its UTF-8 bytes, also when non-ASCII follows an ASCII prefix', () => {
    for (const key of ['user-ü', 'user-日本', 'ascii-only', 'a\u007f', '\u0080z']) {
      expect(keyHash(key)).toBe(murmur3_32(encodeKey(key)));
    }
  });

  it('-0 and 0 are the same key; 1 and "1" and 1n are different keys', () => {
    expect(keyHash(-0)).toBe(keyHash(0));
    expect(new Set([keyHash(1), keyHash('1'), keyHash(1n)]).size).toBe(3);
    expect(Array.from(encodeKey('a'))).toEqual([0x01, 0x61]);
  });

  it('array keys have distinct ids when their elements differ in type', () => {
    expect(keyId(['5n'])).not.toBe(keyId([5n]));
    expect(keyId([1])).not.toBe(keyId(['1']));
    expect(keyId(['a', 1])).toBe(keyId(['a', 1]));
    expect(keyId('plain')).toBe('plain');
  });
});

describe('key-group ranges (Flink formulas)', () => {
  it('subtask i owns [ceil(i*maxP/p), ceil((i+1)*maxP/p) - 1] and the ranges tile all groups', () => {
    for (const p of [1, 2, 3, 5, 7, 128]) {
      let next = 0;
      for (let i = 0; i < p; i++) {
        const r = KeyGroupRange.forOperatorIndex(128, p, i);
        expect(r.startKeyGroup).toBe(next);
        next = r.endKeyGroup + 1;
        for (let kg = r.startKeyGroup; kg <= r.endKeyGroup; kg++) {
          expect(operatorIndexForKeyGroup(128, p, kg)).toBe(i);
        }
      }
      expect(next).toBe(128);
    }
    expect(KeyGroupRange.forOperatorIndex(128, 3, 1).toString()).toBe('KeyGroupRange{43..85}');
  });

  it('rejects keys that are not strings, numbers, bigints, booleans or arrays of them', () => {
    expect(() => checkKey({ a: 1 }, 'Op (1/1)')).toThrow(
      /Op \(1\/1\): the key selector returned an object \(Object\)/,
    );
    expect(() => checkKey(undefined, 'Op (1/1)')).toThrow(/returned undefined/);
    expect(() => checkKey(Number.NaN, 'Op (1/1)')).toThrow(/returned the number NaN/);
    expect(() => checkKey(['a', null], 'Op (1/1)')).toThrow(
      /an array with an element that is not a key/,
    );
    expect(checkKey(['a', 1, 2n, true], 'Op (1/1)')).toEqual(['a', 1, 2n, true]);
  });
});

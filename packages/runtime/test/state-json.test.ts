import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { stateValueToJson } from '../src/state/state-json.js';

describe('stateValueToJson', () => {
  it('keeps what JSON holds exactly', () => {
    const value = { a: 1, b: 'x', c: [true, null, { d: -2.5 }] };
    expect(stateValueToJson(value)).toEqual(value);
  });

  it('maps what JSON cannot hold by the documented mapping', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const shared = { n: 1 };
    // As state comes back from storage: through V8's structured serialization.
    const stored = deserialize(
      serialize({
        map: new Map<unknown, unknown>([
          ['a', 1],
          [1, 'one'],
          [5n, undefined],
        ]),
        set: new Set(['x', 2n]),
        big: 12345678901234567890n,
        missing: undefined,
        list: [undefined, NaN, Infinity, -Infinity, -0],
        date: new Date(Date.UTC(2026, 11, 4, 16, 0, 0)),
        badDate: new Date(NaN),
        bytes: Uint8Array.of(1, 2, 255),
        buffer: Buffer.from('hi'),
        arrayBuffer: Uint8Array.of(7).buffer,
        floats: Float64Array.of(0.5, -1),
        bigints: BigInt64Array.of(-3n),
        regexp: /ab+c/i,
        error: new RangeError('too far'),
        boxed: [Object(3), Object('s'), Object(false), Object(4n)],
        cyclic,
        twice: [shared, shared],
      }),
    ) as unknown;
    const json = stateValueToJson(stored);
    expect(json).toEqual({
      map: [
        ['a', 1],
        [1, 'one'],
        ['5', null],
      ],
      set: ['x', '2'],
      big: '12345678901234567890',
      missing: null,
      list: [null, 'NaN', 'Infinity', '-Infinity', 0],
      date: '2026-12-04T16:00:00.000Z',
      badDate: null,
      bytes: 'AQL/',
      buffer: 'aGk=',
      arrayBuffer: 'Bw==',
      floats: [0.5, -1],
      bigints: ['-3'],
      regexp: '/ab+c/i',
      error: { name: 'RangeError', message: 'too far' },
      boxed: [3, 's', false, '4'],
      cyclic: { name: 'loop', self: '[Circular]' },
      twice: [{ n: 1 }, { n: 1 }],
    });
    expect(Object.is((json as { list: unknown[] }).list[4], 0)).toBe(true);
    // The result is plain JSON: it survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('maps top-level keys as values: bigints and arrays of them', () => {
    expect(stateValueToJson(7n)).toBe('7');
    expect(stateValueToJson(['tenant', 3n, true])).toEqual(['tenant', '3', true]);
    expect(stateValueToJson(undefined)).toBeNull();
  });
});

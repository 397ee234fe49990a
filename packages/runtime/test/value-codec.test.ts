import { describe, expect, it } from 'vitest';
import { valueCodec } from '../src/state/value-codec.js';

const roundTrip = (v: unknown) => valueCodec.decode(valueCodec.encode(v));
const tag = (v: unknown) => valueCodec.encode(v)[0];

describe('the level backend value codec', () => {
  it('stores nested records of exact JSON values as JSON and reads them back equal', () => {
    for (const v of [
      [[2.5, 1], 7, null],
      { rows: [{ user: 'a', amount: 1.5 }], last: 3 },
      [null, 12, [1, 2, 3], [[0, 0]]],
    ]) {
      expect(tag(v)).toBe(0x03);
      expect(roundTrip(v)).toEqual(v);
    }
  });

  it('keeps what JSON would change in the structured form', () => {
    const shared = { a: 1 };
    const sharing = [shared, shared];
    expect(tag(sharing)).toBe(0xff);
    const back = roundTrip(sharing) as object[];
    expect(back[0]).toBe(back[1]);
    for (const v of [
      [[-0]],
      [[NaN]],
      [new Map([[1, 2]])],
      [[undefined]],
      [[new Date(0)]],
      [[[[[1]]]]],
      // eslint-disable-next-line no-sparse-arrays
      [[1, , 3]],
    ]) {
      expect(tag(v)).toBe(0xff);
      expect(roundTrip(v)).toEqual(v);
    }
    expect(Object.is((roundTrip([[-0]]) as number[][])[0]![0], -0)).toBe(true);
  });
});

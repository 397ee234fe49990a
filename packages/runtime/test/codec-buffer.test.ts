import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { CheckpointOptions } from '../src/exchange/buffer-codec.js';
import { decodeElements, ElementKind, encodeElements } from '../src/exchange/buffer-codec.js';

type Element =
  | ['record', unknown, number | undefined, number]
  | ['watermark', number]
  | ['status', boolean]
  | ['eop']
  | ['barrier', number, CheckpointOptions]
  | ['cancel', number];

function decode(buffer: Uint8Array): Element[] {
  const out: Element[] = [];
  const records = decodeElements(buffer, {
    record: (v, ts, kg) => out.push(['record', v, ts, kg]),
    watermark: (wm) => out.push(['watermark', wm]),
    watermarkStatus: (idle) => out.push(['status', idle]),
    endOfPartition: () => out.push(['eop']),
    barrier: (id, o) => out.push(['barrier', id, o]),
    cancelBarrier: (id) => out.push(['cancel', id]),
  });
  expect(records).toBe(out.filter((e) => e[0] === 'record').length);
  return out;
}

/** Values of records sent in one buffer, as they arrive. */
function roundTrip(values: unknown[]): { format: number; values: unknown[] } {
  const flat: unknown[] = [];
  for (const v of values) flat.push(ElementKind.RECORD, undefined, v);
  const buffer = encodeElements(flat);
  return { format: buffer[0]!, values: decode(buffer).map((e) => e[1]) };
}

const TAGGED = 0x01;
const V8 = 0xff;

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('network buffer codec', () => {
  it('carries the seed records and every element kind in the tagged format', () => {
    const options: CheckpointOptions = {
      timestamp: 1_767_225_600_123,
      savepoint: false,
      targetDir: 'file:///tmp/chk-7',
      sharedDir: 'file:///tmp/shared',
    };
    const purchase = {
      user_id: 'user-42',
      amount_usd: 12.34,
      category_id: 7,
      event_time_ms: 1_767_225_600_000,
    };
    const tuple = ['user-42', 12.34, 7, 1_767_225_600_000];
    const buffer = encodeElements([
      ElementKind.KEYED_RECORD_BASE + 127,
      1_767_225_600_000,
      purchase,
      ElementKind.KEYED_RECORD_BASE + 3,
      undefined,
      tuple,
      ElementKind.RECORD,
      5,
      { ...purchase, user_id: 'user-43' },
      ElementKind.WATERMARK,
      1_767_225_595_000,
      0,
      ElementKind.WATERMARK_STATUS,
      true,
      0,
      ElementKind.CANCEL_BARRIER,
      6,
      0,
      ElementKind.END_OF_PARTITION,
      0,
      0,
      ElementKind.BARRIER,
      7,
      options,
    ]);
    expect(buffer[0]).toBe(TAGGED);
    expect(buffer.byteOffset).toBe(0);
    expect(buffer.byteLength).toBe(buffer.buffer.byteLength);
    expect(decode(buffer)).toEqual([
      ['record', purchase, 1_767_225_600_000, 127],
      ['record', tuple, undefined, 3],
      ['record', { ...purchase, user_id: 'user-43' }, 5, -1],
      ['watermark', 1_767_225_595_000],
      ['status', true],
      ['cancel', 6],
      ['eop'],
      ['barrier', 7, options],
    ]);
  });

  it('keeps every structured-cloneable value of the tagged format exactly', () => {
    const values = [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      63,
      64,
      -1,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      0.1,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_VALUE,
      '',
      'a',
      'user-123456789',
      'x'.repeat(127),
      'y'.repeat(128),
      'z'.repeat(70_000),
      'café', // one byte per char
      'Grüße, 東京 🚀',
      '\ud800 lone surrogate \udfff',
      'é'.repeat(200),
      `€${'a'.repeat(300)}`,
      true,
      false,
      null,
      undefined,
      123n,
      -(2n ** 100n),
      new Date(1_767_225_600_000),
      new Date(NaN),
      new Map<unknown, unknown>([
        ['a', 1],
        [2, { b: [3n] }],
      ]),
      new Set([1, 'two', null]),
      [],
      [undefined, null, [[[]]]],
      {},
      { '': 1, 'key with "quotes"\n': 2, '1': 3, b: { c: { d: [1, 2, 3] } } },
      Object.assign(Object.create(null) as object, { a: 1 }),
      Array.from({ length: 300 }, (_, i) => i),
    ];
    const { format, values: back } = roundTrip(values);
    expect(format).toBe(TAGGED);
    expect(back).toHaveLength(values.length);
    for (let i = 0; i < values.length; i++) {
      expect(back[i]).toStrictEqual(structuredClone(values[i]));
      if (typeof values[i] === 'number') expect(Object.is(back[i], values[i])).toBe(true);
    }
  });

  it('gives each object its keys in order, also with many shapes in one buffer', () => {
    const values: object[] = [];
    for (let i = 0; i < 300; i++) values.push({ [`k${i % 20}`]: i, shared: i, [`z${i % 7}`]: -i });
    values.push({ b: 1, a: 2 }, { a: 1, b: 2 }, { b: 3, a: 4 });
    const { format, values: back } = roundTrip(values);
    expect(format).toBe(TAGGED);
    expect(back).toEqual(values);
    expect(back.map((v) => Object.keys(v as object))).toEqual(values.map((v) => Object.keys(v)));
  });

  it('sends what the tagged format does not carry through V8, with the same result', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    // eslint-disable-next-line no-sparse-arrays
    const holey = [1, , 3];
    for (const value of [
      new Uint8Array([1, 2, 3]),
      new Float64Array([0.5]),
      new ArrayBuffer(4),
      /re+/gi,
      new Point(1, 2),
      holey,
      cyclic,
      JSON.parse('{"__proto__": {"x": 1}}') as unknown,
    ]) {
      const { format, values } = roundTrip([{ user: 'u', value }]);
      expect(format).toBe(V8);
      const back = (values[0] as { value: unknown }).value;
      if (value === cyclic) {
        const c = back as Record<string, unknown>;
        expect(c['self']).toBe(c);
      } else {
        expect(back).toStrictEqual(structuredClone(value));
      }
    }
    // A function cannot be sent at all: V8's DataCloneError names it.
    expect(() => encodeElements([ElementKind.RECORD, undefined, () => 1])).toThrow(
      /could not be cloned/,
    );
  });

  it('reads buffers written by V8 alone (a producer that fell back)', () => {
    const buffer = serialize([
      ElementKind.KEYED_RECORD_BASE + 2,
      9,
      ['u', 1],
      ElementKind.WATERMARK,
      8,
      0,
    ]);
    expect(decode(buffer)).toEqual([
      ['record', ['u', 1], 9, 2],
      ['watermark', 8],
    ]);
  });

  it('returns to the tagged format after a fallback', () => {
    for (let i = 0; i < 100; i++) roundTrip([new Uint8Array(1)]);
    expect(roundTrip([new Uint8Array(1)]).format).toBe(V8);
    let format = V8;
    for (let i = 0; i < 100 && format === V8; i++) format = roundTrip([['plain', i]]).format;
    expect(format).toBe(TAGGED);
  });

  it('rejects a corrupt buffer with a clear error', () => {
    expect(() => decode(new Uint8Array([0x42, 0]))).toThrow(/Corrupt network buffer/);
    expect(() => decode(new Uint8Array([TAGGED, 0, 0, 0x3f]))).toThrow(/Corrupt network buffer/);
  });
});

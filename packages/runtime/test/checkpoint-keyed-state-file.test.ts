import { Buffer } from 'node:buffer';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { assembleKeyedStateFile } from '../src/checkpoint/keyed-state-file.js';

// A keyed state file is, per key group, serialize([stateBytes, timers]) (keyed-state-file.ts);
// assembleKeyedStateFile writes that envelope itself around the state bytes. These files must
// read back wherever they were written, so the bytes are compared with V8's own.

/** The file as serialize() writes it, block by block. */
function reference(
  first: number,
  blocks: readonly Uint8Array[],
  timers: ReadonlyMap<number, unknown[]> | undefined,
): Buffer {
  const parts: Buffer[] = [];
  blocks.forEach((state, i) => {
    const t = timers?.get(first + i);
    if (state.length > 0 || (t !== undefined && t.length > 0))
      parts.push(serialize([state, t ?? null]));
  });
  return Buffer.concat(parts);
}

class TaggedBytes extends Uint8Array {}

describe('keyed state files', () => {
  it('are byte for byte what serialize([state, timers]) writes, for every length and view type', () => {
    const first = 10;
    const blocks: Uint8Array[] = [];
    const timers = new Map<number, unknown[]>();
    const lengths = [0, 1, 127, 128, 300, 16_383, 16_384, 2_100_000];
    for (const [i, length] of lengths.entries()) {
      blocks.push(
        serialize(Array.from({ length: 3 }, () => 'x'.repeat(length))).subarray(0, length),
      );
      blocks.push(new Uint8Array(length).fill(i));
      blocks.push(new TaggedBytes(length).fill(i + 1));
    }
    blocks.forEach((_, i) => {
      if (i % 2 === 0)
        timers.set(first + i, [
          0,
          1_700_000_000_000 + i,
          `user-${i}`,
          '0:300000',
          1,
          5,
          ['k', 2n],
          '',
        ]);
    });
    const { bytes, offsets } = assembleKeyedStateFile(first, blocks, timers);
    expect(Buffer.from(bytes).equals(reference(first, blocks, timers))).toBe(true);
    expect(offsets).toHaveLength(blocks.length + 1);
    // Each block reads back as the state bytes and the timers of its key group.
    blocks.forEach((state, i) => {
      const [a, b] = [offsets[i]!, offsets[i + 1]!];
      const t = timers.get(first + i);
      if (state.length === 0 && t === undefined) return expect(b).toBe(a);
      const [readState, readTimers] = deserialize(bytes.subarray(a, b)) as [Uint8Array, unknown];
      expect(Buffer.from(readState).equals(Buffer.from(state))).toBe(true);
      expect(readTimers).toEqual(t ?? null);
    });
  });

  it('without timers, hold only the key groups with state', () => {
    const blocks = [new Uint8Array(0), Buffer.from('abc'), new Uint8Array(0)];
    const { bytes, offsets } = assembleKeyedStateFile(0, blocks, undefined);
    expect(Buffer.from(bytes).equals(reference(0, blocks, undefined))).toBe(true);
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBe(0);
    expect(offsets[3]).toBe(bytes.length);
  });
});

/**
 * A keyed state file: one block per key group of the writer's range, back to back, so a subtask
 * that restores a smaller range reads only its bytes (one ranged GET). A block is the V8
 * serialization of `[stateBytes, timers]`: the backend's bytes for the key group and the
 * operator's timers in it (null when none); a key group with neither is an empty block.
 */
import { deserialize, serialize } from 'node:v8';
import type { StateFileSystem } from './storage/index.js';
import type { KeyedStateFileHandle } from './metadata.js';

/** The content of one key group of a keyed state file. */
export interface KeyGroupBlock {
  readonly keyGroup: number;
  readonly state: Uint8Array;
  readonly timers: readonly unknown[] | null;
}

/** A keyed state file corrupted or cut short: names the file and the key group. */
export class StateFileCorruptedError extends Error {
  override name = 'StateFileCorruptedError';
  /** Restoring the same checkpoint fails the same way (see FailureRecord.restorable). */
  readonly restorable = false;
}

/** Builds the file from the backend's blocks (index = key group - first) and the timers by key group. */
export function assembleKeyedStateFile(
  firstKeyGroup: number,
  stateBlocks: readonly Uint8Array[],
  timers: ReadonlyMap<number, unknown[]> | undefined,
): { bytes: Uint8Array; offsets: number[] } {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [0];
  let size = 0;
  for (let i = 0; i < stateBlocks.length; i++) {
    const state = stateBlocks[i]!;
    const t = timers?.get(firstKeyGroup + i);
    if (state.length > 0 || (t !== undefined && t.length > 0)) {
      size += writeBlock(parts, state, t !== undefined && t.length > 0 ? t : null);
    }
    offsets.push(size);
  }
  return { bytes: Buffer.concat(parts, size), offsets };
}

// What serialize([state, timers]) writes, without copying the state bytes through the V8
// serializer (node's DefaultSerializer copies a typed array from JS, and the file is then
// concatenated: two copies of every state byte, a third of a hashmap checkpoint's CPU in a
// profile of bench/checkpoint-bench.ts):
//
//   ff 0f             header: version 15
//   41 02             dense array of 2
//   5c <t> <len>      host object: node's typed array of view type t (1 Uint8Array, 10 Buffer),
//   <state bytes>       byteLength as varint, then the bytes
//   <timers>          the timers' own serialization without its header, or 30 (null)
//   24 00 02          end of dense array: 0 properties, length 2
//
// The bytes are checked against serialize() once per process (SPLICE_MATCHES_V8); on a V8 that
// writes anything else the block is serialized whole, as before.
const HEADER_LENGTH = 2;
const ARRAY_END = Uint8Array.of(0x24, 0x00, 0x02);
const NULL_VALUE = Uint8Array.of(0x30);

function viewTypeOf(state: Uint8Array): number | undefined {
  if (state.constructor === Buffer) return 10;
  if (state.constructor === Uint8Array) return 1;
  return undefined;
}

/** Appends the block of `state` and `timers` to `parts`; returns its length. */
function writeBlock(parts: Uint8Array[], state: Uint8Array, timers: unknown[] | null): number {
  const viewType = viewTypeOf(state);
  if (!SPLICE_MATCHES_V8 || viewType === undefined) {
    const block = serialize([state, timers]);
    parts.push(block);
    return block.length;
  }
  return spliceBlock(parts, state, viewType, timers);
}

function spliceBlock(
  parts: Uint8Array[],
  state: Uint8Array,
  viewType: number,
  timers: unknown[] | null,
): number {
  const prefix = Buffer.allocUnsafe(16);
  let at = 0;
  prefix[at++] = 0xff;
  prefix[at++] = 0x0f;
  prefix[at++] = 0x41;
  prefix[at++] = 0x02;
  prefix[at++] = 0x5c;
  prefix[at++] = viewType;
  for (let n = state.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      prefix[at++] = n;
      break;
    }
    prefix[at++] = (n % 128) | 0x80;
  }
  const value = timers === null ? NULL_VALUE : serialize(timers).subarray(HEADER_LENGTH);
  parts.push(prefix.subarray(0, at), state, value, ARRAY_END);
  return at + state.length + value.length + ARRAY_END.length;
}

const SPLICE_MATCHES_V8 = ((): boolean => {
  const samples: [Uint8Array, unknown[] | null][] = [
    [Uint8Array.of(1, 2, 3), null],
    [Buffer.alloc(300, 7), [0, 5, 'k', 'ns', 1, 2 ** 40, ['a', 1], '']],
  ];
  for (const [state, timers] of samples) {
    const parts: Uint8Array[] = [];
    spliceBlock(parts, state, viewTypeOf(state)!, timers);
    if (!Buffer.concat(parts).equals(serialize([state, timers]))) return false;
  }
  return true;
})();

/** Reads key groups `from..to` (inclusive, within the file's range starting at `fileFirst`). */
export async function readKeyGroupBlocks(
  fs: Pick<StateFileSystem, 'read'>,
  uri: string,
  handle: KeyedStateFileHandle,
  fileFirst: number,
  from: number,
  to: number,
): Promise<KeyGroupBlock[]> {
  const start = handle.offsets[from - fileFirst]!;
  const end = handle.offsets[to - fileFirst + 1]!;
  if (end === start) return [];
  const bytes = await fs.read(uri, { start, end });
  if (bytes.length !== end - start) {
    throw new StateFileCorruptedError(
      `State file ${uri} is truncated: expected ${end - start} bytes at offset ${start}, read ${bytes.length}`,
    );
  }
  const blocks: KeyGroupBlock[] = [];
  for (let kg = from; kg <= to; kg++) {
    const a = handle.offsets[kg - fileFirst]! - start;
    const b = handle.offsets[kg - fileFirst + 1]! - start;
    if (a === b) continue;
    let decoded: [Uint8Array, unknown[] | null];
    try {
      decoded = deserialize(bytes.subarray(a, b)) as [Uint8Array, unknown[] | null];
      if (!Array.isArray(decoded) || !(decoded[0] instanceof Uint8Array))
        throw new Error('bad block');
    } catch (e) {
      throw new StateFileCorruptedError(
        `State file ${uri} is corrupted: key group ${kg} cannot be read (${(e as Error).message})`,
      );
    }
    blocks.push({ keyGroup: kg, state: decoded[0], timers: decoded[1] });
  }
  return blocks;
}

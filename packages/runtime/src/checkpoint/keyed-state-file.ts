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
      const block = serialize([state, t ?? null]);
      parts.push(block);
      size += block.length;
    }
    offsets.push(size);
  }
  return { bytes: Buffer.concat(parts, size), offsets };
}

/** Reads key groups `from..to` (inclusive, within the file's range starting at `fileFirst`). */
export async function readKeyGroupBlocks(
  fs: StateFileSystem,
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

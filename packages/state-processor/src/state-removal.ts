/**
 * Drops keyed states of an operator of an existing savepoint: each key group's canonical block is
 * decoded, the states named are left out, and the file is assembled again with the key group's
 * timers as they were.
 */
import { serialize } from 'node:v8';
import type { OperatorStateMetadata, OperatorSubtaskState, StateFileSystem } from '@nimble/runtime';
import {
  assembleKeyedStateFile,
  decodeCanonicalBlock,
  joinUri,
  readKeyGroupBlocks,
  resolveRelative,
} from '@nimble/runtime';
import { StateProcessorError } from './errors.js';

export async function removeStatesFromOperator(
  source: StateFileSystem,
  oldDir: string,
  fs: StateFileSystem,
  dir: string,
  op: OperatorStateMetadata,
  dropped: ReadonlySet<string>,
): Promise<OperatorSubtaskState[]> {
  const seen = new Set<string>();
  const result: OperatorSubtaskState[] = [];
  for (const st of op.subtasks) {
    const keyed = st.keyed;
    if (keyed === undefined) {
      result.push(st);
      continue;
    }
    const file = keyed.files[0];
    if (keyed.files.length !== 1 || file === undefined || file.kind !== 'canonical') {
      throw new StateProcessorError(
        `removeState: the keyed state of uid ${JSON.stringify(op.uid)} is in the level backend's ` +
          'native checkpoint format; take a savepoint of the job (always canonical) and change that',
      );
    }
    const [first, last] = keyed.keyGroupRange;
    const blocks = await readKeyGroupBlocks(
      source,
      resolveRelative(oldDir, file.path),
      file,
      first,
      first,
      last,
    );
    const stateBlocks: Uint8Array[] = Array.from(
      { length: last - first + 1 },
      () => new Uint8Array(0),
    );
    const timers = new Map<number, unknown[]>();
    for (const b of blocks) {
      const states = decodeCanonicalBlock(b.state);
      for (const s of states) seen.add(s.name);
      const kept = states.filter((s) => !dropped.has(s.name));
      stateBlocks[b.keyGroup - first] = kept.length === 0 ? new Uint8Array(0) : serialize(kept);
      if (b.timers && b.timers.length > 0) timers.set(b.keyGroup, [...b.timers]);
    }
    const { bytes, offsets } = assembleKeyedStateFile(first, stateBlocks, timers);
    if (bytes.length === 0) {
      result.push({ ...st, keyed: undefined });
      continue;
    }
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    await fs.write(joinUri(dir, name), bytes);
    result.push({
      ...st,
      keyed: {
        keyGroupRange: keyed.keyGroupRange,
        files: [{ path: name, kind: 'canonical', size: bytes.length, offsets }],
      },
    });
  }
  for (const name of dropped) {
    if (!seen.has(name)) {
      const known = [...seen].map((n) => JSON.stringify(n)).join(', ');
      throw new StateProcessorError(
        `removeState: operator uid ${JSON.stringify(op.uid)} has no keyed state named ` +
          `${JSON.stringify(name)}; its keyed states are ${known || '(none)'}`,
      );
    }
  }
  return result;
}

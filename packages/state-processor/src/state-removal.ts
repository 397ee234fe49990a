/**
 * Drops keyed states of an operator of an existing savepoint: each key group is read through the
 * savepoint view (the canonical view of any file kind, a level checkpoint's chains included), the
 * states named are left out, and each old subtask's key groups are written again as one
 * canonical file, with their timers as they were.
 */
import { serialize } from 'node:v8';
import type {
  OperatorStateMetadata,
  OperatorSubtaskState,
  OperatorView,
  StateFileSystem,
} from '@nimble/runtime';
import { assembleKeyedStateFile, joinUri } from '@nimble/runtime';
import { StateProcessorError } from './errors.js';

export async function removeStatesFromOperator(
  view: OperatorView,
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
    const [first, last] = keyed.keyGroupRange;
    const stateBlocks: Uint8Array[] = [];
    const timers = new Map<number, unknown[]>();
    for (let kg = first; kg <= last; kg++) {
      const content = await view.readKeyGroup(kg);
      for (const s of content.states) seen.add(s.name);
      const kept = content.states.filter((s) => !dropped.has(s.name));
      stateBlocks.push(kept.length === 0 ? new Uint8Array(0) : serialize(kept));
      if (content.timers && content.timers.length > 0) timers.set(kg, [...content.timers]);
    }
    const { bytes, offsets } = assembleKeyedStateFile(first, stateBlocks, timers);
    const { keyed: _dropped, ...rest } = st;
    if (bytes.length === 0) {
      result.push(rest);
      continue;
    }
    const last0 = keyed.files[keyed.files.length - 1]!.path;
    const name = last0.slice(last0.lastIndexOf('/') + 1);
    await fs.write(joinUri(dir, name), bytes);
    result.push({
      ...rest,
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

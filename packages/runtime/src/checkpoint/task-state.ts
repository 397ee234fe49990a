/**
 * What a subtask needs for checkpoints (where to write, whom to acknowledge) and how it finds its
 * share of a checkpoint's state on restore: keyed state by key-group range, operator list state
 * as it was per subtask or, after rescaling, redistributed.
 */
import type { KeyedStateBackend, KeyedSnapshotKind } from '../state/keyed-state-backend.js';
import type { OperatorStateEntry, OperatorStateMode } from '../state/operator-state-store.js';
import type { KeyGroupRange } from '../keys/index.js';
import type { StateFileSystem } from './storage/index.js';
import type { KeyGroupBlock } from './keyed-state-file.js';
import { readKeyGroupBlocks } from './keyed-state-file.js';
import type {
  CheckpointMetadata,
  KeyedStateHandle,
  OperatorStateMetadata,
  OperatorSubtaskState,
} from './metadata.js';
import { decodeOpaque } from './metadata.js';
import { resolveRelative } from './paths.js';

/** What a subtask acknowledges for one checkpoint. */
export interface SubtaskCheckpointAck {
  /** By operator uid. */
  readonly operators: Record<string, Omit<OperatorSubtaskState, 'subtask'>>;
  /** Bytes written by this subtask for the checkpoint (incremental: only the new files). */
  readonly stateSize: number;
  readonly syncDurationMs: number;
  readonly asyncDurationMs: number;
  readonly alignmentDurationMs: number;
  /** The checkpoint was unaligned at this subtask (also when it switched after the timeout). */
  readonly unaligned?: boolean;
  /** Bytes of in-flight buffers persisted (the channel state file); 0 for aligned ones. */
  readonly persistedBytes?: number;
}

/** How a task takes part in checkpoints. */
export interface TaskCheckpointServices {
  /** The file system of a checkpoint or savepoint URI. */
  fileSystem(uri: string): StateFileSystem;
  /** `state.backend.incremental`: level checkpoints upload only what changed. */
  readonly incremental: boolean;
  acknowledge(
    vertexId: number,
    subtask: number,
    checkpointId: number,
    ack: SubtaskCheckpointAck,
  ): void;
  decline(vertexId: number, subtask: number, checkpointId: number, reason: Error): void;
}

/** The checkpoint or savepoint a task restores from. */
export interface TaskRestore {
  /** URI of the directory that holds `_metadata`; state file paths are relative to it. */
  readonly metadataDir: string;
  readonly metadata: CheckpointMetadata;
}

/** The restored state of one operator in one subtask. */
export interface RestoredOperatorState {
  readonly operator: OperatorStateMetadata;
  /** Operator states for this subtask (redistributed when the parallelism changed). */
  readonly states: Map<string, OperatorStateEntry>;
}

/**
 * Finds operator `uid` in the restore, with this subtask's share of its operator states, by
 * Flink's rules (RoundRobinOperatorStateRepartitioner): at the same parallelism a subtask gets its
 * own split states back; otherwise split states are cut into contiguous, nearly equal parts of
 * the old subtasks' elements in order. Every subtask gets all elements of a union state, and the
 * broadcast state of old subtask `subtask % oldParallelism`.
 */
export function restoredOperatorState(
  restore: TaskRestore,
  uid: string,
  subtask: number,
  parallelism: number,
): RestoredOperatorState | undefined {
  const operator = restore.metadata.operators.find((o) => o.uid === uid);
  if (!operator) return undefined;
  const states = new Map<string, OperatorStateEntry>();
  const modes = new Map<string, OperatorStateMode>();
  for (const st of operator.subtasks) {
    for (const n of Object.keys(st.operatorState ?? {})) {
      modes.set(n, st.operatorStateModes?.[n] ?? modes.get(n) ?? 'split');
    }
  }
  const sorted = [...operator.subtasks].sort((a, b) => a.subtask - b.subtask);
  for (const [name, mode] of modes) {
    const perOld = sorted.map((st) => {
      const encoded = st.operatorState?.[name];
      return encoded === undefined ? [] : (decodeOpaque(encoded) as unknown[]);
    });
    let values: unknown[];
    if (mode === 'union') {
      values = perOld.flat();
    } else if (mode === 'broadcast') {
      values = perOld[subtask % perOld.length] ?? [];
    } else if (operator.parallelism === parallelism) {
      const own = sorted.findIndex((st) => st.subtask === subtask);
      values = own < 0 ? [] : perOld[own]!;
    } else {
      values = evenSplit(perOld.flat(), parallelism, subtask);
    }
    states.set(name, { mode, values });
  }
  return { operator, states };
}

/** Part `index` of `elements` cut into `parts` contiguous parts, the first ones one longer. */
function evenSplit(elements: unknown[], parts: number, index: number): unknown[] {
  const base = Math.floor(elements.length / parts);
  const remainder = elements.length % parts;
  const start = index * base + Math.min(index, remainder);
  return elements.slice(start, start + base + (index < remainder ? 1 : 0));
}

/**
 * Loads the keyed state of `range` into `backend` from every old subtask whose key groups
 * overlap, and hands each key group's timers (from the newest file of its chain) to `onTimers`.
 */
export async function restoreKeyedState(
  restore: TaskRestore,
  fs: StateFileSystem,
  operator: OperatorStateMetadata,
  range: KeyGroupRange,
  backend: KeyedStateBackend,
  onTimers: (keyGroup: number, timers: readonly unknown[]) => void,
): Promise<void> {
  for (const st of operator.subtasks) {
    const handle: KeyedStateHandle | undefined = st.keyed;
    if (!handle) continue;
    const [first, last] = handle.keyGroupRange;
    const from = Math.max(first, range.startKeyGroup);
    const to = Math.min(last, range.endKeyGroup);
    if (from > to) continue;
    const files = handle.files;
    for (let f = 0; f < files.length; f++) {
      const file = files[f]!;
      const uri = resolveRelative(restore.metadataDir, file.path);
      const blocks: KeyGroupBlock[] = await readKeyGroupBlocks(fs, uri, file, first, from, to);
      await backend.restore(
        file.kind as KeyedSnapshotKind,
        blocks.map((b) => ({ keyGroup: b.keyGroup, bytes: b.state })),
      );
      if (f === files.length - 1) {
        for (const b of blocks) if (b.timers && b.timers.length > 0) onTimers(b.keyGroup, b.timers);
      }
    }
  }
}

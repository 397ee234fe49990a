/**
 * The `_metadata` of a checkpoint or savepoint: which operator (by uid) had which state, where
 * each subtask's files are and which key groups they hold. JSON, written last and atomically; a
 * checkpoint without a readable `_metadata` does not exist. docs/checkpoints.md describes the
 * layout.
 */
import { deserialize, serialize } from 'node:v8';
import type { KeyedSnapshotKind } from '../state/index.js';
import type { OperatorStateMode } from '../state/operator-state-store.js';
import type { ChannelStateHandle } from './channel-state.js';

export const METADATA_FILE = '_metadata';
export const METADATA_VERSION = 1;

/** One file of keyed state: blocks of consecutive key groups, `offsets[i]` is where key group `keyGroupRange[0] + i` starts. */
export interface KeyedStateFileHandle {
  /** Relative to the directory of `_metadata` (`../shared/...` for shared incremental files). */
  readonly path: string;
  readonly kind: KeyedSnapshotKind;
  readonly size: number;
  /** One more entry than key groups: the end of the last block. */
  readonly offsets: readonly number[];
}

/** The keyed state of one operator subtask: a file, or for incremental level state a chain (full, then deltas). */
export interface KeyedStateHandle {
  readonly keyGroupRange: readonly [number, number];
  readonly files: readonly KeyedStateFileHandle[];
}

/** The state of one operator in one subtask. */
export interface OperatorSubtaskState {
  readonly subtask: number;
  readonly keyed?: KeyedStateHandle;
  /**
   * Operator states by name (source splits, sink committables, function and broadcast state),
   * base64 of V8-serialized arrays (broadcast state: the map's entries).
   */
  readonly operatorState?: Readonly<Record<string, string>>;
  /** How each operator state is redistributed on rescaling; a name missing here is `split`. */
  readonly operatorStateModes?: Readonly<Record<string, OperatorStateMode>>;
  /**
   * The subtask's in-flight buffers of an unaligned checkpoint (`checkpoint/channel-state.ts`),
   * on the head operator of its chain; absent when none were in flight.
   */
  readonly channelState?: ChannelStateHandle;
}

/** The state of one operator (matched by uid on restore). */
export interface OperatorStateMetadata {
  readonly uid: string;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Split enumerator state of a source (base64 of V8-serialized), if any. */
  readonly coordinatorState?: string;
  readonly subtasks: readonly OperatorSubtaskState[];
}

export interface CheckpointMetadata {
  readonly version: number;
  readonly jobId: string;
  readonly checkpointId: number;
  readonly type: 'CHECKPOINT' | 'SAVEPOINT';
  readonly timestamp: number;
  readonly operators: readonly OperatorStateMetadata[];
}

/** `_metadata` cannot be used: the message names the file and what is wrong. */
export class CheckpointMetadataError extends Error {
  override name = 'CheckpointMetadataError';
  /** Restoring the same checkpoint fails the same way (see FailureRecord.restorable). */
  readonly restorable = false;
}

export function encodeMetadata(metadata: CheckpointMetadata): Uint8Array {
  return Buffer.from(JSON.stringify(metadata, null, 1));
}

/** Parses and checks `_metadata` read from `uri`. */
export function decodeMetadata(bytes: Uint8Array, uri: string): CheckpointMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new CheckpointMetadataError(
      `${uri} is corrupted: not JSON (${(e as Error).message}); the checkpoint cannot be restored`,
    );
  }
  const m = raw as Partial<CheckpointMetadata>;
  const bad = (what: string): never => {
    throw new CheckpointMetadataError(
      `${uri} is corrupted: ${what}; the checkpoint cannot be restored`,
    );
  };
  if (typeof m !== 'object' || m === null) bad('not an object');
  if (m.version !== METADATA_VERSION) bad(`unknown version ${String(m.version)}`);
  if (typeof m.jobId !== 'string') bad('no jobId');
  if (!Number.isInteger(m.checkpointId)) bad('no checkpointId');
  if (!Array.isArray(m.operators)) bad('no operators');
  for (const op of m.operators!) {
    if (typeof op.uid !== 'string' || !Array.isArray(op.subtasks)) bad('an operator without uid');
    if (!Number.isInteger(op.maxParallelism) || !Number.isInteger(op.parallelism))
      bad(`operator ${op.uid} without parallelism`);
    for (const st of op.subtasks) {
      for (const [name, mode] of Object.entries(st.operatorStateModes ?? {})) {
        if (mode !== 'split' && mode !== 'union' && mode !== 'broadcast')
          bad(`operator ${op.uid} subtask ${st.subtask}: state "${name}" has an unknown mode`);
      }
      const cs = st.channelState;
      if (
        cs !== undefined &&
        (typeof cs.path !== 'string' ||
          !Number.isFinite(cs.size) ||
          !Array.isArray(cs.input) ||
          !Array.isArray(cs.output))
      )
        bad(`operator ${op.uid} subtask ${st.subtask}: a channel state handle is incomplete`);
      const files = st.keyed?.files;
      if (files === undefined) continue;
      const [start, end] = st.keyed!.keyGroupRange;
      for (const f of files) {
        if (typeof f.path !== 'string' || f.offsets?.length !== end - start + 2)
          bad(`operator ${op.uid} subtask ${st.subtask}: a state file handle is incomplete`);
      }
    }
  }
  return m as CheckpointMetadata;
}

/** Base64 of V8-serialized `value`: opaque state carried inside `_metadata`. */
export function encodeOpaque(value: unknown): string {
  return serialize(value).toString('base64');
}
export function decodeOpaque(text: string): unknown {
  return deserialize(Buffer.from(text, 'base64'));
}

/**
 * The channel state of an unaligned checkpoint (Flink's `InputChannelStateHandle` and
 * `ResultSubpartitionStateHandle`, written by its `ChannelStateWriter`): the in-flight network
 * buffers one subtask persisted with its snapshot. Input state: per input channel, the buffers its
 * barrier overtook or that arrived after the snapshot and before the channel's barrier. Output
 * state: per output edge and channel, the buffers that waited for credit when the barrier went
 * ahead of them. On restore the subtask sends its output state first and replays its input state
 * into the operators before any new input.
 *
 * File: the magic `NCS1`, then the buffers back to back (input channels in order, then the
 * output channels); the handle in `_metadata` lists each channel's buffer sizes.
 */
import type { StateFileSystem } from './storage/index.js';
import type { CheckpointMetadata } from './metadata.js';

/** The version of the channel state file and handle. */
export const CHANNEL_STATE_FORMAT = 1;
const MAGIC = Buffer.from('NCS1', 'latin1');

/** The buffers of one channel in a channel state file. */
export interface ChannelStateEntry {
  /** Output state: the id of the output edge; absent for input state. */
  readonly edge?: string;
  /** Input state: the index among the task's input channels; output: the consumer subtask. */
  readonly channel: number;
  /** Byte length of each buffer, in order. */
  readonly sizes: readonly number[];
}

/** Where one subtask's channel state is, in `_metadata` (on the subtask's head operator). */
export interface ChannelStateHandle {
  readonly format: number;
  /** Relative to the directory of `_metadata`. */
  readonly path: string;
  readonly size: number;
  readonly input: readonly ChannelStateEntry[];
  readonly output: readonly ChannelStateEntry[];
}

/** The channel state of one subtask, as buffers. */
export interface ChannelState {
  /** By input channel index. */
  readonly input: readonly (readonly Uint8Array[])[];
  /** By output edge id, then consumer subtask. */
  readonly output: ReadonlyMap<string, readonly (readonly Uint8Array[])[]>;
}

/** Builds the file; undefined when no channel holds a buffer. */
export function assembleChannelStateFile(
  state: ChannelState,
): { bytes: Uint8Array; input: ChannelStateEntry[]; output: ChannelStateEntry[] } | undefined {
  const parts: Uint8Array[] = [MAGIC];
  const input: ChannelStateEntry[] = [];
  const output: ChannelStateEntry[] = [];
  const add = (buffers: readonly Uint8Array[]): number[] => {
    for (const b of buffers) parts.push(b);
    return buffers.map((b) => b.byteLength);
  };
  state.input.forEach((buffers, channel) => {
    if (buffers.length > 0) input.push({ channel, sizes: add(buffers) });
  });
  for (const [edge, channels] of state.output) {
    channels.forEach((buffers, channel) => {
      if (buffers.length > 0) output.push({ edge, channel, sizes: add(buffers) });
    });
  }
  if (parts.length === 1) return undefined;
  return { bytes: Buffer.concat(parts), input, output };
}

/** A channel state file that does not match its handle: names the file. */
export class ChannelStateCorruptedError extends Error {
  override name = 'ChannelStateCorruptedError';
  /** Restoring the same checkpoint fails the same way (see FailureRecord.restorable). */
  readonly restorable = false;
}

/** Reads one subtask's channel state from `uri` (the file of `handle`). */
export async function readChannelState(
  fs: StateFileSystem,
  uri: string,
  handle: ChannelStateHandle,
): Promise<ChannelState> {
  if (handle.format !== CHANNEL_STATE_FORMAT) {
    throw new ChannelStateCorruptedError(
      `${uri}: channel state format ${String(handle.format)} is not known to this version (${CHANNEL_STATE_FORMAT})`,
    );
  }
  const bytes = await fs.read(uri);
  if (bytes.byteLength !== handle.size || !Buffer.from(bytes.subarray(0, 4)).equals(MAGIC)) {
    throw new ChannelStateCorruptedError(
      `${uri} is corrupted: expected a channel state file of ${handle.size} bytes starting with NCS1, ` +
        `read ${bytes.byteLength}; the checkpoint cannot be restored`,
    );
  }
  let at = MAGIC.length;
  const take = (sizes: readonly number[]): Uint8Array[] =>
    sizes.map((n) => {
      // A copy that owns its ArrayBuffer (Buffer#slice would be a view of the file's): a
      // restored buffer may be transferred to another thread, which detaches its ArrayBuffer.
      const b = new Uint8Array(bytes.subarray(at, at + n));
      at += n;
      return b;
    });
  const input: Uint8Array[][] = [];
  for (const e of handle.input) {
    while (input.length <= e.channel) input.push([]);
    input[e.channel] = take(e.sizes);
  }
  const output = new Map<string, Uint8Array[][]>();
  for (const e of handle.output) {
    const edge = e.edge ?? '';
    let channels = output.get(edge);
    if (!channels) output.set(edge, (channels = []));
    while (channels.length <= e.channel) channels.push([]);
    channels[e.channel] = take(e.sizes);
  }
  if (at !== bytes.byteLength) {
    throw new ChannelStateCorruptedError(
      `${uri} is corrupted: its buffers end at ${at} of ${bytes.byteLength} bytes; the checkpoint cannot be restored`,
    );
  }
  return { input, output };
}

/**
 * Whether a checkpoint holds in-flight data (it was unaligned and some buffers were in flight):
 * such a checkpoint restores only at the parallelism it was taken at.
 */
export function hasChannelState(metadata: CheckpointMetadata): boolean {
  return metadata.operators.some((op) => op.subtasks.some((s) => s.channelState !== undefined));
}

/**
 * A checkpoint with channel state cannot be restored at a changed parallelism. Not marked
 * unrestorable: that would drop the checkpoint and fall back to an older one, whose sinks may
 * have committed less; the restore at the right parallelism still works.
 */
export class ChannelStateRescaleError extends Error {
  override name = 'ChannelStateRescaleError';
}

/**
 * Refuses to restore a checkpoint with channel state (`hasChannelState`) when an operator's
 * parallelism changed: its in-flight buffers belong to the channels of the old parallelism.
 * `parallelismOf` gives an operator's parallelism in the new job (undefined: not in it).
 */
export function checkChannelStateParallelism(
  metadata: CheckpointMetadata,
  parallelismOf: (uid: string) => number | undefined,
  where: string,
): void {
  if (!hasChannelState(metadata)) return;
  for (const op of metadata.operators) {
    const now = parallelismOf(op.uid);
    if (now === undefined || now === op.parallelism) continue;
    throw new ChannelStateRescaleError(
      `Cannot restore ${where} (checkpoint ${metadata.checkpointId}) at a changed parallelism: it is an ` +
        `unaligned checkpoint that holds in-flight data, and operator ${op.uid} (${op.name}) would run at ` +
        `${now} instead of ${op.parallelism}. In-flight data is not redistributed: restore it at the same ` +
        'parallelism, take a savepoint there (savepoints are always aligned) and rescale from the savepoint.',
    );
  }
}

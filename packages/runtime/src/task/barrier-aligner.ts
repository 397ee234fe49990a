import type { CheckpointOptions } from '../exchange/buffer-codec.js';

/** The channels the aligner holds back, releases and captures (the task's input gate). */
export interface BlockableChannels {
  block(channel: number): void;
  unblockAll(): void;
  /** The first `count` (all by default) buffers queued on `channel`, not processed yet. */
  queuedOn(channel: number, count?: number): Uint8Array[];
  queuedCount(channel: number): number;
  /** Keeps the buffers that arrive on `channel` in `into`, until stopped. */
  startCapture(channel: number, into: Uint8Array[]): void;
  stopCapture(channel: number): void;
  /** The unaligned barrier of `checkpointId` that arrived on `channel` and waits to be handled. */
  pendingPriority(channel: number, checkpointId: number): { overtaken: number } | undefined;
}

/**
 * The input channel state of an unaligned checkpoint, per input channel: the buffers that its
 * barrier overtook or that arrived after the snapshot and before the channel's barrier.
 */
export type InputChannelState = Uint8Array[][];

/** What the aligner asks of the subtask's checkpointer. */
export interface AlignedCheckpointHandler {
  /** The highest checkpoint this subtask snapshotted or gave up; older barriers are stale. */
  lastCheckpointId(): number;
  /** Marks `checkpointId` as this subtask's latest (snapshotted or given up). */
  setLastCheckpointId(checkpointId: number): void;
  /**
   * Snapshot and forward the barrier: barriers of `checkpointId` arrived on every channel
   * (aligned), or the first one did (unaligned: `inputState` resolves once every channel's
   * barrier arrived or the checkpoint was given up).
   */
  triggerCheckpoint(
    checkpointId: number,
    options: CheckpointOptions,
    alignmentMs: number,
    inputState?: Promise<InputChannelState>,
  ): void;
  /** The alignment of `checkpointId` was given up (a newer barrier overtook it). */
  abortCheckpoint(checkpointId: number, reason: Error): void;
  /** Upstream aborted `checkpointId`: tell the consumers. */
  cancelCheckpoint(checkpointId: number): void;
}

interface Alignment {
  readonly id: number;
  readonly options: CheckpointOptions;
  readonly received: Set<number>;
  readonly startedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface UnalignedCapture {
  readonly id: number;
  readonly state: InputChannelState;
  /** Channels whose barrier has not arrived yet: their arrivals are captured. */
  readonly pending: Set<number>;
  readonly resolve: (state: InputChannelState) => void;
}

/**
 * Handles the checkpoint barriers of all channels of all of a task's inputs (Flink's
 * `SingleCheckpointBarrierHandler`, aligned, unaligned and alternating).
 *
 * Aligned: a channel whose barrier arrived is blocked until the barrier arrived on every channel
 * that has not ended; then the checkpoint is taken and every channel released. A newer barrier
 * gives up the alignment in progress; a cancel barrier or an abort from the coordinator ends it.
 *
 * Unaligned: the first barrier (a priority event that overtook the buffers queued before it)
 * snapshots at once and forwards the barrier; no channel is blocked. The buffers it overtook, and
 * on every other channel those queued or arriving until that channel's barrier, are the input
 * channel state. With `alignedCheckpointTimeoutMs` an aligned checkpoint whose alignment has not
 * ended that long after its trigger switches to unaligned (Flink's alternating handler), as does
 * one whose barrier arrives as a priority event (a producer's barrier overtook its backlog).
 */
export class BarrierAligner {
  private aligning: Alignment | undefined;
  private unaligned: UnalignedCapture | undefined;
  private readonly ended: boolean[];
  /** Milliseconds the last completed alignment took. */
  private lastAlignmentMs = 0;
  /** Milliseconds from the trigger of the last checkpoint to its first barrier here. */
  private lastStartDelayMs = 0;

  constructor(
    numberOfChannels: number,
    private readonly channels: BlockableChannels,
    private readonly handler: AlignedCheckpointHandler,
    /** Names the task in the reason of a given-up alignment. */
    private readonly taskName: string,
    /** Runs the timeout switch on the task's turn (its mailbox). */
    private readonly runOnTurn: (action: () => void) => void = (action) => action(),
  ) {
    this.ended = new Array<boolean>(numberOfChannels).fill(false);
  }

  /** An in-band barrier was decoded on `channel` (every buffer before it was processed). */
  onBarrier(channel: number, checkpointId: number, options: CheckpointOptions): void {
    const u = this.unaligned;
    if (u && u.id === checkpointId) {
      // The barrier came in-band after this task switched to unaligned: the buffers that arrived
      // behind it were captured, but they come after the checkpoint.
      if (u.pending.has(channel)) {
        const state = u.state[channel]!;
        state.length = Math.max(0, state.length - this.channels.queuedCount(channel));
        this.channelDone(u, channel);
      }
      return;
    }
    if (checkpointId <= this.handler.lastCheckpointId()) return; // aborted, or overtaken
    this.giveUpOlder(checkpointId);
    if (!this.aligning) this.startAlignment(checkpointId, options);
    this.aligning!.received.add(channel);
    this.channels.block(channel);
    this.checkAlignment();
  }

  /** The unaligned barrier of `checkpointId` arrived on `channel`, ahead of `overtaken` buffers. */
  onPriorityBarrier(
    channel: number,
    checkpointId: number,
    options: CheckpointOptions,
    overtaken: number,
  ): void {
    const u = this.unaligned;
    if (u && u.id === checkpointId) {
      this.channelDone(u, channel);
      return;
    }
    if (checkpointId <= this.handler.lastCheckpointId()) return;
    this.giveUpOlder(checkpointId);
    if (!this.aligning) this.lastStartDelayMs = Math.max(0, Date.now() - options.timestamp);
    this.switchToUnaligned(checkpointId, options, { channel, overtaken });
  }

  onCancelBarrier(checkpointId: number): void {
    this.endCapture(checkpointId);
    if (checkpointId <= this.handler.lastCheckpointId()) return;
    if (this.aligning && this.aligning.id <= checkpointId) this.release();
    this.handler.setLastCheckpointId(checkpointId);
    this.handler.cancelCheckpoint(checkpointId);
  }

  /** The channel ended: alignment no longer waits for it. */
  onEndOfPartition(channel: number): void {
    this.ended[channel] = true;
    if (this.unaligned) this.channelDone(this.unaligned, channel);
    if (this.aligning) this.checkAlignment();
  }

  /** The coordinator aborted `checkpointId`: stop aligning or capturing for it. */
  onCheckpointAborted(checkpointId: number): void {
    this.endCapture(checkpointId);
    if (this.aligning && this.aligning.id <= checkpointId) this.release();
    this.handler.setLastCheckpointId(Math.max(this.handler.lastCheckpointId(), checkpointId));
  }

  /** Stops the timeout of an alignment in progress (the task ends). */
  close(): void {
    if (this.aligning?.timer !== undefined) clearTimeout(this.aligning.timer);
  }

  private startAlignment(checkpointId: number, options: CheckpointOptions): void {
    const a: Alignment = {
      id: checkpointId,
      options,
      received: new Set(),
      startedAt: performance.now(),
      timer: undefined,
    };
    this.aligning = a;
    this.lastStartDelayMs = Math.max(0, Date.now() - options.timestamp);
    const timeoutMs = options.alignedCheckpointTimeoutMs ?? 0;
    if (timeoutMs > 0 && !options.savepoint) {
      // Measured from the checkpoint's trigger, as Flink's aligned-checkpoint-timeout.
      a.timer = setTimeout(
        () =>
          this.runOnTurn(() => {
            if (this.aligning === a) this.switchToUnaligned(a.id, a.options, undefined);
          }),
        Math.max(0, options.timestamp + timeoutMs - Date.now()),
      );
    }
  }

  /** A barrier of a newer checkpoint gives up the alignment or capture of an older one. */
  private giveUpOlder(checkpointId: number): void {
    if (this.unaligned && this.unaligned.id < checkpointId) this.endCapture(checkpointId - 1);
    if (this.aligning && checkpointId > this.aligning.id) {
      const old = this.aligning;
      this.release();
      this.handler.abortCheckpoint(
        old.id,
        new Error(
          `${this.taskName}: barrier of checkpoint ${checkpointId} arrived before alignment of ${old.id} ended`,
        ),
      );
    }
  }

  /**
   * Takes `checkpointId` unaligned now: every channel whose barrier has not arrived yet gives its
   * queued buffers to the channel state and keeps capturing until its barrier arrives; the channel
   * of a priority barrier gives the buffers the barrier overtook.
   */
  private switchToUnaligned(
    checkpointId: number,
    options: CheckpointOptions,
    priority: { channel: number; overtaken: number } | undefined,
  ): void {
    const a = this.aligning;
    const alignmentMs = a ? performance.now() - a.startedAt : 0;
    const state: InputChannelState = this.ended.map(() => []);
    const pending = new Set<number>();
    let resolve!: (state: InputChannelState) => void;
    const done = new Promise<InputChannelState>((r) => (resolve = r));
    for (let c = 0; c < this.ended.length; c++) {
      if (this.ended[c] || a?.received.has(c)) continue;
      const overtaken =
        priority?.channel === c
          ? priority.overtaken
          : this.channels.pendingPriority(c, checkpointId)?.overtaken;
      if (overtaken !== undefined) {
        state[c] = this.channels.queuedOn(c, overtaken);
        continue;
      }
      state[c] = this.channels.queuedOn(c);
      this.channels.startCapture(c, state[c]!);
      pending.add(c);
    }
    this.unaligned = { id: checkpointId, state, pending, resolve };
    if (a) this.release();
    this.lastAlignmentMs = alignmentMs;
    this.handler.setLastCheckpointId(checkpointId);
    this.handler.triggerCheckpoint(
      checkpointId,
      { ...options, unaligned: true },
      alignmentMs,
      done,
    );
    if (pending.size === 0) this.finishCapture();
  }

  private channelDone(u: UnalignedCapture, channel: number): void {
    if (!u.pending.delete(channel)) return;
    this.channels.stopCapture(channel);
    if (u.pending.size === 0) this.finishCapture();
  }

  private finishCapture(): void {
    const u = this.unaligned!;
    this.unaligned = undefined;
    u.resolve(u.state);
  }

  /** Stops capturing for `checkpointId` or older (aborted): the state is not used. */
  private endCapture(checkpointId: number): void {
    const u = this.unaligned;
    if (!u || u.id > checkpointId) return;
    for (const c of u.pending) this.channels.stopCapture(c);
    u.pending.clear();
    this.finishCapture();
  }

  private checkAlignment(): void {
    const a = this.aligning!;
    for (let c = 0; c < this.ended.length; c++) {
      if (!a.received.has(c) && !this.ended[c]) return;
    }
    this.release();
    this.lastAlignmentMs = performance.now() - a.startedAt;
    this.handler.setLastCheckpointId(a.id);
    this.handler.triggerCheckpoint(a.id, a.options, this.lastAlignmentMs);
  }

  /**
   * Flink's `checkpointAlignmentTime`: nanoseconds the last alignment took, or the one in
   * progress has taken so far.
   */
  alignmentTimeNanos(): number {
    const ms = this.aligning ? performance.now() - this.aligning.startedAt : this.lastAlignmentMs;
    return Math.round(ms * 1e6);
  }

  /**
   * Flink's `checkpointStartDelayNanos`: nanoseconds from the trigger of the latest checkpoint
   * (its timestamp, the JobManager's clock) to the arrival of its first barrier here.
   */
  startDelayNanos(): number {
    return this.lastStartDelayMs * 1e6;
  }

  private release(): void {
    if (this.aligning?.timer !== undefined) clearTimeout(this.aligning.timer);
    this.aligning = undefined;
    this.channels.unblockAll();
  }
}

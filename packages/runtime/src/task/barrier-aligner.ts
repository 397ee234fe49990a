import type { CheckpointOptions } from '../exchange/buffer-codec.js';

/** The channels the aligner holds back and releases (the task's input gate). */
export interface BlockableChannels {
  block(channel: number): void;
  unblockAll(): void;
}

/** What the aligner asks of the subtask's checkpointer. */
export interface AlignedCheckpointHandler {
  /** The highest checkpoint this subtask snapshotted or gave up; older barriers are stale. */
  lastCheckpointId(): number;
  /** Marks `checkpointId` as this subtask's latest (snapshotted or given up). */
  setLastCheckpointId(checkpointId: number): void;
  /** Barriers of `checkpointId` arrived on every channel: snapshot and forward the barrier. */
  triggerCheckpoint(checkpointId: number, options: CheckpointOptions, alignmentMs: number): void;
  /** The alignment of `checkpointId` was given up (a newer barrier overtook it). */
  abortCheckpoint(checkpointId: number, reason: Error): void;
  /** Upstream aborted `checkpointId`: tell the consumers. */
  cancelCheckpoint(checkpointId: number): void;
}

/**
 * Aligns checkpoint barriers over all channels of all of a task's inputs (Flink's
 * `SingleCheckpointBarrierHandler` with aligned barriers): a channel whose barrier arrived is
 * blocked until the barrier arrived on every channel that has not ended; then the checkpoint is
 * taken and every channel released. A newer barrier gives up the alignment in progress; a cancel
 * barrier or an abort from the coordinator ends it.
 */
export class BarrierAligner {
  private aligning:
    | { id: number; options: CheckpointOptions; received: Set<number>; startedAt: number }
    | undefined;
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
  ) {
    this.ended = new Array<boolean>(numberOfChannels).fill(false);
  }

  onBarrier(channel: number, checkpointId: number, options: CheckpointOptions): void {
    if (checkpointId <= this.handler.lastCheckpointId()) return; // aborted, or overtaken
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
    if (!this.aligning) {
      this.aligning = {
        id: checkpointId,
        options,
        received: new Set(),
        startedAt: performance.now(),
      };
      this.lastStartDelayMs = Math.max(0, Date.now() - options.timestamp);
    }
    this.aligning.received.add(channel);
    this.channels.block(channel);
    this.checkAlignment();
  }

  onCancelBarrier(checkpointId: number): void {
    if (checkpointId <= this.handler.lastCheckpointId()) return;
    if (this.aligning && this.aligning.id <= checkpointId) this.release();
    this.handler.setLastCheckpointId(checkpointId);
    this.handler.cancelCheckpoint(checkpointId);
  }

  /** The channel ended: alignment no longer waits for it. */
  onEndOfPartition(channel: number): void {
    this.ended[channel] = true;
    if (this.aligning) this.checkAlignment();
  }

  /** The coordinator aborted `checkpointId`: stop aligning for it. */
  onCheckpointAborted(checkpointId: number): void {
    if (this.aligning && this.aligning.id <= checkpointId) this.release();
    this.handler.setLastCheckpointId(Math.max(this.handler.lastCheckpointId(), checkpointId));
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
    this.aligning = undefined;
    this.channels.unblockAll();
  }
}

import type { CheckpointOptions } from './buffer-codec.js';
import { decodeElements, isPriorityEvent } from './buffer-codec.js';
import type { ChannelReceiver } from './channel.js';

/** A priority event (an unaligned barrier) that arrived and waits to be handled. */
export interface PriorityEvent {
  readonly channel: number;
  readonly checkpointId: number;
  readonly options: CheckpointOptions;
  /** Buffers of its channel queued ahead of it that are not processed yet: it overtook them. */
  overtaken: number;
}

/**
 * The input channels of a task (Flink's InputGate): queues arriving buffers per channel, hands
 * them out round-robin over the channels that have data, and returns a credit to the producer for
 * each buffer the task has processed.
 */
export class InputGate {
  private readonly queues: Uint8Array[][];
  private readonly withData: number[] = [];
  /** Channels held back during checkpoint alignment: their buffers wait until unblocked. */
  private readonly blocked: boolean[];
  private queued = 0;
  /** Queued buffers of unblocked channels. */
  private available = 0;
  private readonly priority: PriorityEvent[] = [];
  /** Per channel: the buffers that arrive are also kept here (an unaligned checkpoint's input state). */
  private readonly captures: (Uint8Array[] | undefined)[];
  /** Per channel: restored buffers at the head of its queue; they were never granted credit. */
  private readonly replays: number[];
  /** Whether the buffer last polled was a restored one. */
  lastPolledRestored = false;

  constructor(
    private readonly receivers: ChannelReceiver[],
    /** Buffers each producer may send ahead (Flink's exclusive + floating buffers). */
    private readonly initialCredit: number,
    /** Called when a buffer arrives while none was queued. */
    private readonly onAvailable: () => void,
  ) {
    this.queues = receivers.map(() => []);
    this.blocked = receivers.map(() => false);
    this.captures = receivers.map(() => undefined);
    this.replays = receivers.map(() => 0);
    receivers.forEach((r, i) => {
      r.onBuffer = (buffer) => this.arrive(i, buffer);
    });
  }

  get numberOfChannels(): number {
    return this.receivers.length;
  }

  /** Grants the initial credits: producers may start sending. */
  start(): void {
    for (const r of this.receivers) r.grantCredit(this.initialCredit);
  }

  /** Buffers waiting to be processed (of channels that are not blocked). */
  get queuedBuffers(): number {
    return this.available;
  }

  /** The next buffer of an unblocked channel and its channel, or undefined. */
  poll(): { channel: number; buffer: Uint8Array } | undefined {
    const channel = this.withData.shift();
    if (channel === undefined) return undefined;
    const q = this.queues[channel]!;
    const buffer = q.shift()!;
    if (q.length > 0) this.withData.push(channel);
    this.queued--;
    this.available--;
    if (this.replays[channel]! > 0) {
      this.replays[channel]!--;
      this.lastPolledRestored = true;
    } else this.lastPolledRestored = false;
    const priority = this.priority;
    for (let i = 0; i < priority.length; i++) {
      const e = priority[i]!;
      if (e.channel === channel && e.overtaken > 0) e.overtaken--;
    }
    return { channel, buffer };
  }

  /** The next priority event that arrived, or undefined. */
  pollPriority(): PriorityEvent | undefined {
    return this.priority.shift();
  }

  /** Whether priority events wait to be handled. */
  get hasPriorityEvents(): boolean {
    return this.priority.length > 0;
  }

  /** The pending priority event of `channel` for `checkpointId`, if one arrived. */
  pendingPriority(channel: number, checkpointId: number): PriorityEvent | undefined {
    return this.priority.find((e) => e.channel === channel && e.checkpointId === checkpointId);
  }

  /** Buffers queued on `channel`. */
  queuedCount(channel: number): number {
    return this.queues[channel]!.length;
  }

  /** The first `count` (all by default) buffers queued on `channel`. */
  queuedOn(channel: number, count?: number): Uint8Array[] {
    const q = this.queues[channel]!;
    return q.slice(0, count ?? q.length);
  }

  /** Keeps every buffer that arrives on `channel` from now on in `into`, until {@link stopCapture}. */
  startCapture(channel: number, into: Uint8Array[]): void {
    this.captures[channel] = into;
  }
  stopCapture(channel: number): void {
    this.captures[channel] = undefined;
  }

  /**
   * Restore: `buffers` (the channel's input state in the checkpoint) go ahead of anything that
   * arrives on `channel`. They were granted no credit, so processing them grants none.
   */
  restoreQueued(channel: number, buffers: readonly Uint8Array[]): void {
    if (buffers.length === 0) return;
    const q = this.queues[channel]!;
    const wasEmpty = q.length === 0;
    q.unshift(...buffers);
    this.replays[channel]! += buffers.length;
    this.queued += buffers.length;
    if (this.blocked[channel]) return;
    if (wasEmpty) this.withData.push(channel);
    this.available += buffers.length;
  }

  /**
   * Holds back `channel` (its checkpoint barrier arrived and others' have not): its buffers stay
   * queued and unacknowledged, so its producer runs out of credit instead of overtaking the barrier.
   */
  block(channel: number): void {
    if (this.blocked[channel]) return;
    this.blocked[channel] = true;
    const i = this.withData.indexOf(channel);
    if (i >= 0) this.withData.splice(i, 1);
    this.available -= this.queues[channel]!.length;
  }

  /** Releases every blocked channel (alignment done or aborted). */
  unblockAll(): void {
    let released = 0;
    for (let c = 0; c < this.blocked.length; c++) {
      if (!this.blocked[c]) continue;
      this.blocked[c] = false;
      const n = this.queues[c]!.length;
      if (n > 0) this.withData.push(c);
      released += n;
    }
    this.available += released;
    if (released > 0) this.onAvailable();
  }

  /** The task is done with a buffer of `channel`: the producer may send another. */
  recycle(channel: number): void {
    if (this.lastPolledRestored) return;
    this.receivers[channel]!.grantCredit(1);
  }

  private arrive(channel: number, buffer: Uint8Array): void {
    const q = this.queues[channel]!;
    if (isPriorityEvent(buffer)) {
      // A channel's capture ends at its unaligned barrier: what follows it is after the checkpoint.
      this.captures[channel] = undefined;
      this.priority.push({ channel, ...decodePriorityBarrier(buffer), overtaken: q.length });
      this.onAvailable();
      return;
    }
    const capture = this.captures[channel];
    if (capture !== undefined) capture.push(buffer);
    q.push(buffer);
    this.queued++;
    if (this.blocked[channel]) return;
    if (q.length === 1) this.withData.push(channel);
    this.available++;
    if (this.available === 1) this.onAvailable();
  }
}

function decodePriorityBarrier(buffer: Uint8Array): {
  checkpointId: number;
  options: CheckpointOptions;
} {
  let event: { checkpointId: number; options: CheckpointOptions } | undefined;
  const ignore = (): void => {
    throw new Error('Corrupt network buffer: a priority event that is not a barrier');
  };
  decodeElements(buffer, {
    barrier: (checkpointId, options) => (event = { checkpointId, options }),
    record: ignore,
    watermark: ignore,
    watermarkStatus: ignore,
    endOfPartition: ignore,
    cancelBarrier: ignore,
  });
  if (!event) throw new Error('Corrupt network buffer: an empty priority event');
  return event;
}

import type { ChannelReceiver } from './channel.js';

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

  constructor(
    private readonly receivers: ChannelReceiver[],
    /** Buffers each producer may send ahead (Flink's exclusive + floating buffers). */
    private readonly initialCredit: number,
    /** Called when a buffer arrives while none was queued. */
    private readonly onAvailable: () => void,
  ) {
    this.queues = receivers.map(() => []);
    this.blocked = receivers.map(() => false);
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
    return { channel, buffer };
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
    this.receivers[channel]!.grantCredit(1);
  }

  private arrive(channel: number, buffer: Uint8Array): void {
    const q = this.queues[channel]!;
    q.push(buffer);
    this.queued++;
    if (this.blocked[channel]) return;
    if (q.length === 1) this.withData.push(channel);
    this.available++;
    if (this.available === 1) this.onAvailable();
  }
}

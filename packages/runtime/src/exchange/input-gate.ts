import type { ChannelReceiver } from './channel.js';

/**
 * The input channels of a task (Flink's InputGate): queues arriving buffers per channel, hands
 * them out round-robin over the channels that have data, and returns a credit to the producer for
 * each buffer the task has processed.
 */
export class InputGate {
  private readonly queues: Uint8Array[][];
  private readonly withData: number[] = [];
  private queued = 0;

  constructor(
    private readonly receivers: ChannelReceiver[],
    /** Buffers each producer may send ahead (Flink's exclusive + floating buffers). */
    private readonly initialCredit: number,
    /** Called when a buffer arrives while none was queued. */
    private readonly onAvailable: () => void,
  ) {
    this.queues = receivers.map(() => []);
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

  /** Buffers waiting to be processed. */
  get queuedBuffers(): number {
    return this.queued;
  }

  /** The next buffer and its channel, or undefined. */
  poll(): { channel: number; buffer: Uint8Array } | undefined {
    const channel = this.withData.shift();
    if (channel === undefined) return undefined;
    const q = this.queues[channel]!;
    const buffer = q.shift()!;
    if (q.length > 0) this.withData.push(channel);
    this.queued--;
    return { channel, buffer };
  }

  /** The task is done with a buffer of `channel`: the producer may send another. */
  recycle(channel: number): void {
    this.receivers[channel]!.grantCredit(1);
  }

  private arrive(channel: number, buffer: Uint8Array): void {
    const q = this.queues[channel]!;
    q.push(buffer);
    if (q.length === 1) this.withData.push(channel);
    this.queued++;
    if (this.queued === 1) this.onAvailable();
  }
}

import type { Key, KeySelector, PartitionerKind } from '@nimble/api';
import { UserCodeError, userCodeFailure } from '../errors.js';
import { assignToKeyGroup, checkKey, operatorIndexForKeyGroup } from '../keys/index.js';
import type { CheckpointOptions } from './buffer-codec.js';
import { ElementKind, encodeElements, encodePriorityBarrier } from './buffer-codec.js';
import type { ChannelSender } from './channel.js';
import { PartitionIndexError } from './custom-partitioner.js';

/** Settings of a record writer. */
export interface RecordWriterOptions {
  /** A channel's pending elements are serialized and sent at about this many bytes (32 KiB). */
  readonly bufferBytes: number;
  /** Pending elements are flushed at the latest this many ms after the first was added; 0 = after each batch. */
  readonly bufferTimeoutMs: number;
}

class OutChannel {
  /**
   * Pending elements as `[kind, a, b, ...]` in the first `count` slots. The array is kept from
   * buffer to buffer: a fresh one per buffer grew by copying and was most of the writer's garbage.
   */
  readonly pending: unknown[] = [];
  count = 0;
  credit = 0;
  readonly backlog: Uint8Array[] = [];
  /** Estimated serialized bytes per element, refined after each buffer. */
  bytesPerElement = 48;
  limit: number;

  constructor(
    readonly sender: ChannelSender,
    private readonly bufferBytes: number,
  ) {
    this.limit = Math.max(3, Math.floor(bufferBytes / this.bytesPerElement) * 3);
  }

  encode(): Uint8Array {
    const elements = this.pending;
    const count = this.count;
    this.count = 0;
    const buffer = encodeElements(elements, count);
    // The records sent go with the buffer: the array does not keep them alive.
    elements.fill(undefined, 0, count);
    const n = count / 3;
    const measured = buffer.length / n;
    // Larger elements than estimated shrink the next buffer at once: a buffer holds what the
    // consumer's credit is counted in, so one of several times the buffer size would let
    // several times the data be in flight (and ahead of a barrier) than the credit promises.
    this.bytesPerElement =
      measured > 2 * this.bytesPerElement ? measured : this.bytesPerElement * 0.5 + measured * 0.5;
    this.limit = Math.max(3, Math.floor(this.bufferBytes / this.bytesPerElement) * 3);
    return buffer;
  }
}

/**
 * A writer's output channel state for one checkpoint: per channel, the buffers its barrier
 * overtook (they were written before the barrier and not yet sent). Copies: a sent buffer may be
 * transferred to another thread.
 */
export type OutputChannelState = Uint8Array[][];

/** An aligned barrier with a timeout that still waits in some channel's backlog. */
interface BarrierInBacklog {
  readonly checkpointId: number;
  readonly options: CheckpointOptions;
  /** Per channel: the barrier's buffer while it waits in the backlog, then undefined. */
  readonly buffers: (Uint8Array | undefined)[];
  readonly state: OutputChannelState;
  waiting: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly resolve: (state: OutputChannelState) => void;
}

/**
 * Writes the records of one operator output to the subtasks of the next vertex (Flink's
 * RecordWriter + ResultPartition): chooses the channel by partitioner, batches elements per
 * channel into buffers, and sends against credit. While a channel has a backlog the writer is
 * unavailable and the task stops taking input: that is backpressure.
 */
export class RecordWriter {
  /** Bytes of the buffers this writer produced (Flink's numBytesOut), counted per buffer. */
  numBytesOut = 0;
  private readonly channels: OutChannel[];
  private nextChannel: number;
  private readonly rescaleStart: number;
  private readonly rescaleCount: number;
  private waiters: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private barrierInBacklog: BarrierInBacklog | undefined;

  constructor(
    private readonly partitioner: PartitionerKind,
    private readonly keySelector: KeySelector<unknown, Key> | undefined,
    private readonly maxParallelism: number,
    senders: ChannelSender[],
    producerIndex: number,
    producerParallelism: number,
    private readonly options: RecordWriterOptions,
    /**
     * Names the edge in errors of the user's key selector or partitioner, e.g.
     * `keyBy() before Window(...) in Map (1/2)`.
     */
    private readonly edgeName: string,
    /** Names the producing task in serialization errors. */
    private readonly producerName: string,
    /** Receives errors of flushes that run outside record processing (the buffer timeout). */
    private readonly onAsyncError: (e: Error) => void,
  ) {
    this.channels = senders.map((s) => new OutChannel(s, options.bufferBytes));
    for (const ch of this.channels) {
      ch.sender.connect((credits) => this.addCredit(ch, credits));
    }
    const n = this.channels.length;
    // Start round-robin at a different channel per producer, as Flink does, to spread load.
    this.nextChannel = producerIndex % Math.max(1, n);
    if (producerParallelism >= n) {
      this.rescaleStart = Math.floor((producerIndex * n) / producerParallelism);
      this.rescaleCount = 1;
    } else {
      this.rescaleStart = Math.floor((producerIndex * n) / producerParallelism);
      this.rescaleCount = Math.max(
        1,
        Math.floor(((producerIndex + 1) * n) / producerParallelism) - this.rescaleStart,
      );
    }
  }

  /** Writes one record. */
  emit(value: unknown, timestamp: number | undefined): void {
    switch (this.partitioner) {
      case 'forward':
      case 'global':
        this.append(this.channels[0]!, ElementKind.RECORD, timestamp, value);
        return;
      case 'hash': {
        let key: Key;
        try {
          key = this.keySelector!(value);
        } catch (e) {
          throw userCodeFailure(this.edgeName, e);
        }
        if (typeof key !== 'string') key = checkKey(key, this.edgeName);
        const kg = assignToKeyGroup(key, this.maxParallelism);
        const index = operatorIndexForKeyGroup(this.maxParallelism, this.channels.length, kg);
        this.append(this.channels[index]!, ElementKind.KEYED_RECORD_BASE + kg, timestamp, value);
        return;
      }
      case 'rebalance': {
        const i = this.nextChannel;
        this.nextChannel = i + 1 === this.channels.length ? 0 : i + 1;
        this.append(this.channels[i]!, ElementKind.RECORD, timestamp, value);
        return;
      }
      case 'rescale': {
        const i = this.rescaleStart + (this.nextChannel++ % this.rescaleCount);
        this.append(this.channels[i]!, ElementKind.RECORD, timestamp, value);
        return;
      }
      case 'broadcast':
        for (const ch of this.channels) this.append(ch, ElementKind.RECORD, timestamp, value);
        return;
      case 'shuffle': {
        // Flink's ShufflePartitioner: uniformly random, independent of earlier records.
        const i = Math.floor(Math.random() * this.channels.length);
        this.append(this.channels[i]!, ElementKind.RECORD, timestamp, value);
        return;
      }
      case 'custom': {
        // The edge's selector applies the user's partitioner and checks its result's range.
        let i: number;
        try {
          i = this.keySelector!(value) as number;
        } catch (e) {
          throw e instanceof PartitionIndexError
            ? new UserCodeError(this.edgeName, e.message, e)
            : userCodeFailure(this.edgeName, e);
        }
        this.append(this.channels[i]!, ElementKind.RECORD, timestamp, value);
        return;
      }
    }
  }

  /** Sends a watermark to every channel, in order with the records. */
  emitWatermark(watermark: number): void {
    for (const ch of this.channels) this.append(ch, ElementKind.WATERMARK, watermark, 0);
  }
  /** Sends an idleness change to every channel. */
  emitWatermarkStatus(idle: boolean): void {
    for (const ch of this.channels) this.append(ch, ElementKind.WATERMARK_STATUS, idle, 0);
  }
  /**
   * Sends a checkpoint barrier on every channel.
   *
   * Aligned: behind the records written before it. The barrier ends its buffer, so a consumer can
   * block the channel right after it. Sent even without credit (it waits in the backlog, in
   * order). Resolves at once with no channel state.
   *
   * Unaligned (a priority event, as Flink's): the pending records are flushed, the buffers that
   * wait for credit become the output channel state, and the barrier goes ahead of them at once,
   * without credit. Aligned with a timeout: as aligned, but the barrier gets a buffer of its own
   * and, when it still waits in a backlog at the timeout, overtakes what is ahead of it there (that
   * becomes the channel state); resolves when every channel's barrier left its backlog.
   */
  broadcastBarrier(
    checkpointId: number,
    options: CheckpointOptions,
  ): Promise<OutputChannelState> | undefined {
    if (options.unaligned) {
      const state: OutputChannelState = [];
      for (const ch of this.channels) {
        if (ch.count > 0) this.send(ch);
        state.push(ch.backlog.map(copyBuffer));
        ch.sender.send(encodePriorityBarrier(checkpointId, options));
      }
      return Promise.resolve(state);
    }
    const timeoutMs = options.alignedCheckpointTimeoutMs ?? 0;
    if (timeoutMs <= 0 || options.savepoint) {
      for (const ch of this.channels) this.append(ch, ElementKind.BARRIER, checkpointId, options);
      this.flushAll();
      return undefined;
    }
    this.flushAll();
    this.releaseBarrier();
    let resolve!: (state: OutputChannelState) => void;
    const done = new Promise<OutputChannelState>((r) => (resolve = r));
    const b: BarrierInBacklog = {
      checkpointId,
      options,
      buffers: [],
      state: this.channels.map(() => []),
      waiting: 0,
      timer: undefined,
      resolve,
    };
    for (const ch of this.channels) {
      const buffer = encodeElements([ElementKind.BARRIER, checkpointId, options], 3);
      this.numBytesOut += buffer.byteLength;
      if (ch.credit > 0 && ch.backlog.length === 0) {
        ch.credit--;
        ch.sender.send(buffer);
        b.buffers.push(undefined);
      } else {
        ch.backlog.push(buffer);
        b.buffers.push(buffer);
        b.waiting++;
      }
    }
    if (b.waiting === 0) return Promise.resolve(b.state);
    this.barrierInBacklog = b;
    b.timer = setTimeout(
      () => this.overtakeBacklog(b),
      Math.max(0, options.timestamp + timeoutMs - Date.now()),
    );
    return done;
  }

  /**
   * The aligned checkpoint timed out: its barrier overtakes the buffers ahead of it in every
   * backlog, as a priority event, and those buffers become the output channel state.
   */
  private overtakeBacklog(b: BarrierInBacklog): void {
    b.timer = undefined;
    if (this.barrierInBacklog !== b) return;
    const options: CheckpointOptions = { ...b.options, unaligned: true };
    for (let i = 0; i < this.channels.length; i++) {
      const buffer = b.buffers[i];
      if (buffer === undefined) continue;
      const ch = this.channels[i]!;
      const at = ch.backlog.indexOf(buffer);
      b.state[i] = ch.backlog.slice(0, at).map(copyBuffer);
      ch.backlog.splice(at, 1);
      ch.sender.send(encodePriorityBarrier(b.checkpointId, options));
    }
    this.releaseBarrier();
  }

  /** Checkpoint `checkpointId` was aborted: a barrier of it no longer waits for its state. */
  abortBarrier(checkpointId: number): void {
    if (this.barrierInBacklog && this.barrierInBacklog.checkpointId <= checkpointId)
      this.releaseBarrier();
  }

  private releaseBarrier(): void {
    const b = this.barrierInBacklog;
    if (!b) return;
    this.barrierInBacklog = undefined;
    if (b.timer !== undefined) clearTimeout(b.timer);
    b.resolve(b.state);
  }

  /**
   * Restore: the output channel state of the checkpoint goes out first, before anything the
   * task writes now, against credit as any buffer.
   */
  restoreOutputState(state: readonly (readonly Uint8Array[])[]): void {
    state.forEach((buffers, i) => {
      const ch = this.channels[i];
      if (!ch || buffers.length === 0) return;
      ch.backlog.unshift(...buffers);
      this.addCredit(ch, 0);
    });
  }

  /** Tells every consumer that checkpoint `checkpointId` was aborted. */
  broadcastCancelBarrier(checkpointId: number): void {
    for (const ch of this.channels) this.append(ch, ElementKind.CANCEL_BARRIER, checkpointId, 0);
    this.flushAll();
  }
  /** Ends every channel and flushes. */
  endOfPartition(): void {
    for (const ch of this.channels) this.append(ch, ElementKind.END_OF_PARTITION, 0, 0);
    this.flushAll();
  }

  /** Sends every channel's pending elements. */
  flushAll(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (const ch of this.channels) {
      if (ch.count > 0) this.send(ch);
    }
  }

  /** Whether every channel can take more (no backlog waiting for credit). */
  isAvailable(): boolean {
    for (const ch of this.channels) if (ch.backlog.length > 0) return false;
    return true;
  }
  /** Resolves when the writer is available again. */
  whenAvailable(): Promise<void> {
    if (this.isAvailable()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  /** Buffers that wait for credit, over all channels. */
  backlogSize(): number {
    let n = 0;
    for (const ch of this.channels) n += ch.backlog.length;
    return n;
  }

  /** Stops the flush timer (task end or cancel). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.releaseBarrier();
  }

  private append(ch: OutChannel, kind: number, a: unknown, b: unknown): void {
    const p = ch.pending;
    const n = ch.count;
    p[n] = kind;
    p[n + 1] = a;
    p[n + 2] = b;
    ch.count = n + 3;
    if (n + 3 >= ch.limit) {
      this.send(ch);
    } else if (n === 0 && this.timer === undefined && this.options.bufferTimeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        try {
          this.flushAll();
        } catch (e) {
          this.onAsyncError(e as Error);
        }
      }, this.options.bufferTimeoutMs);
    }
  }

  private send(ch: OutChannel): void {
    let buffer: Uint8Array;
    try {
      buffer = ch.encode();
    } catch (e) {
      throw new UserCodeError(
        this.producerName,
        `a record cannot be sent to the next operator: ${(e as Error).message}. Records must be ` +
          'structured-cloneable data (no functions, symbols or class instances that rely on their prototype).',
        e,
      );
    }
    this.numBytesOut += buffer.byteLength;
    if (ch.credit > 0 && ch.backlog.length === 0) {
      ch.credit--;
      ch.sender.send(buffer);
    } else {
      ch.backlog.push(buffer);
    }
  }

  private barrierSent(b: BarrierInBacklog, buffer: Uint8Array): void {
    const i = b.buffers.indexOf(buffer);
    if (i < 0) return;
    b.buffers[i] = undefined;
    if (--b.waiting === 0) this.releaseBarrier();
  }

  private addCredit(ch: OutChannel, credits: number): void {
    ch.credit += credits;
    const b = this.barrierInBacklog;
    while (ch.credit > 0 && ch.backlog.length > 0) {
      ch.credit--;
      const buffer = ch.backlog.shift()!;
      ch.sender.send(buffer);
      // An aligned barrier with a timeout left its backlog in order: nothing to persist here.
      if (b !== undefined) this.barrierSent(b, buffer);
    }
    if (this.waiters.length > 0 && this.isAvailable()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }
}

/**
 * A copy of a buffer of channel state that owns its memory: the original goes out later and may
 * be transferred to another thread (Buffer#slice would only be a view of it).
 */
function copyBuffer(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer);
}

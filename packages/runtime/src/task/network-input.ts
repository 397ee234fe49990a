import { InputStatus } from '@nimble/api';
import type { ElementHandler } from '../exchange/buffer-codec.js';
import { BufferCursor } from '../exchange/buffer-codec.js';
import { InputGate } from '../exchange/input-gate.js';
import { StatusWatermarkValve } from '../exchange/status-watermark-valve.js';
import type { OperatorInput, OperatorMetrics } from '../operators/operator.js';
import type { AlignedCheckpointHandler, BlockableChannels } from './barrier-aligner.js';
import { BarrierAligner } from './barrier-aligner.js';
import type { InputChannel, TaskContext, TaskInput } from './task-context.js';

/** Input buffers processed per turn before yielding to other tasks on the thread. */
const BUFFERS_PER_TURN = 8;
/**
 * A turn ends, inside a buffer if need be, once it has run this long: the mail of the task and of
 * the tasks beside it on the thread (a checkpoint's asynchronous phase, its acknowledgement) waits
 * no longer than that behind a slow operator. Flink's mailbox takes mail between any two records.
 */
const TURN_BUDGET_MS = 2;
/** Elements decoded between two looks at the clock, at most (and at first). */
const MAX_ELEMENTS_PER_CHECK = 256;
const FIRST_ELEMENTS_PER_CHECK = 16;

/** One logical input: the operator input it feeds and the valve over its channels. */
interface LogicalInput {
  readonly target: OperatorInput<unknown>;
  readonly valve: StatusWatermarkValve;
}

/**
 * The network input of a task (Flink's `StreamTaskNetworkInput`s behind one
 * `CheckpointedInputGate`): the channels of one or two logical inputs in one gate. Each logical
 * input combines the watermarks of its own channels and feeds one input of the head operator;
 * checkpoint barriers are aligned over all channels of all inputs.
 */
export class NetworkInput implements TaskInput {
  /** Bytes of the network buffers this input took in (Flink's numBytesIn), counted per buffer. */
  numBytesIn = 0;
  private readonly gate: InputGate;
  private readonly aligner: BarrierAligner;
  private readonly inputs: LogicalInput[];
  /** Per channel: its logical input and its index among that input's channels. */
  private readonly inputOf: LogicalInput[];
  private readonly localIndex: number[];
  private endedChannels = 0;
  // The channel of the buffer being decoded (set once per buffer, read per element).
  private channel = 0;
  private input!: LogicalInput;
  /** The buffer a turn ended in, to go on with at the next turn; its credit is not returned yet. */
  private cursor: BufferCursor | undefined;
  private cursorRestored = false;
  /**
   * Elements decoded between two looks at the clock: fewer for a slow operator, so a turn ends
   * close to its budget, more for a fast one, so the clock costs nothing per record.
   */
  private elementsPerCheck = FIRST_ELEMENTS_PER_CHECK;
  /**
   * With unaligned checkpoints a turn takes one buffer: an unaligned barrier reaches the task
   * between turns only (messages from other threads and TaskManagers arrive on the event loop),
   * and it should not wait for several buffers of a slow operator.
   */
  private readonly buffersPerTurn: number;

  constructor(
    private readonly ctx: TaskContext,
    channels: readonly InputChannel[],
    /** The head operator's inputs, by logical input index. */
    targets: readonly OperatorInput<unknown>[],
    private readonly headMetrics: OperatorMetrics,
    checkpoints: AlignedCheckpointHandler,
  ) {
    const counts = targets.map(() => 0);
    this.localIndex = channels.map((c) => {
      if (c.inputIndex >= targets.length)
        throw new Error(`internal: ${ctx.name}: a channel of input ${c.inputIndex + 1}`);
      return counts[c.inputIndex]!++;
    });
    this.inputs = targets.map((target, i) => ({
      target,
      valve: new StatusWatermarkValve(
        counts[i]!,
        (wm) => target.processWatermark(wm),
        (idle) => target.processWatermarkStatus(idle),
      ),
    }));
    this.inputOf = channels.map((c) => this.inputs[c.inputIndex]!);
    this.gate = new InputGate(
      channels.map((c) => c.receiver),
      ctx.services.config.buffersPerChannel,
      () => ctx.requestTurn(),
    );
    this.buffersPerTurn = ctx.services.config.unalignedCheckpoints ? 1 : BUFFERS_PER_TURN;
    this.aligner = new BarrierAligner(
      channels.length,
      this.alignedChannels(),
      checkpoints,
      ctx.name,
      (action) => ctx.mailbox.execute(action),
    );
  }

  /**
   * Restore: each channel's input state from the checkpoint goes ahead of what arrives on the
   * channel, so the operators see it first, in its order.
   */
  restoreInputState(state: readonly (readonly Uint8Array[])[]): void {
    state.forEach((buffers, channel) => {
      if (channel >= this.gate.numberOfChannels)
        throw new Error(
          `${this.ctx.name}: the checkpoint holds input state of channel ${channel + 1}, the task has ${this.gate.numberOfChannels}`,
        );
      this.gate.restoreQueued(channel, buffers);
    });
  }

  /** Whether unaligned barriers wait to be handled (they are, even under backpressure). */
  hasPriorityEvents(): boolean {
    return this.gate.hasPriorityEvents;
  }

  /** Handles the unaligned barriers that arrived, ahead of the buffers queued before them. */
  processPriorityEvents(): void {
    for (let e = this.gate.pollPriority(); e !== undefined; e = this.gate.pollPriority())
      this.aligner.onPriorityBarrier(e.channel, e.checkpointId, e.options, e.overtaken);
  }

  start(): void {
    this.gate.start();
  }

  processTurn(mayContinue: () => boolean): InputStatus {
    const gate = this.gate;
    if (gate.hasPriorityEvents) this.processPriorityEvents();
    let last = performance.now();
    const deadline = last + TURN_BUDGET_MS;
    for (let i = 0; i < this.buffersPerTurn && last < deadline && mayContinue(); i++) {
      let cursor = this.cursor;
      if (cursor === undefined) {
        const next = gate.poll();
        if (next === undefined) break;
        this.channel = next.channel;
        this.input = this.inputOf[next.channel]!;
        this.numBytesIn += next.buffer.byteLength;
        cursor = this.cursor = new BufferCursor(next.buffer);
        this.cursorRestored = gate.lastPolledRestored;
      }
      // A restored buffer's end of partition is not the channel's (its producer runs again), nor
      // are its barriers (of the checkpoint restored from, or older).
      const handler = this.cursorRestored ? this.restoredHandler : this.handler;
      for (;;) {
        const done = cursor.decode(handler, this.elementsPerCheck);
        const now = performance.now();
        this.adaptElementsPerCheck(now - last);
        last = now;
        if (done) break;
        if (now >= deadline) return InputStatus.MORE_AVAILABLE;
      }
      this.cursor = undefined;
      // No buffer was polled since this one: the gate still knows whether it was restored.
      gate.recycle(this.channel);
      if (this.endedChannels === gate.numberOfChannels) return InputStatus.END_OF_INPUT;
      // An unaligned barrier may have arrived meanwhile (a producer on this thread got credit).
      if (gate.hasPriorityEvents) this.processPriorityEvents();
    }
    return this.cursor !== undefined || gate.queuedBuffers > 0
      ? InputStatus.MORE_AVAILABLE
      : InputStatus.NOTHING_AVAILABLE;
  }

  /** Aims at a look at the clock about four times per turn budget. */
  private adaptElementsPerCheck(elapsedMs: number): void {
    const n = this.elementsPerCheck;
    if (elapsedMs > TURN_BUDGET_MS / 4)
      this.elementsPerCheck = Math.max(1, Math.floor((n * TURN_BUDGET_MS) / 4 / elapsedMs));
    else if (elapsedMs < TURN_BUDGET_MS / 16 && n < MAX_ELEMENTS_PER_CHECK)
      this.elementsPerCheck = Math.min(MAX_ELEMENTS_PER_CHECK, n * 2);
  }

  /**
   * The gate as the aligner sees it: the rest of a buffer a turn ended in is in flight on its
   * channel, ahead of the queued buffers, so an unaligned checkpoint persists it with them (and
   * a restore replays it first); the part processed before the snapshot is not persisted.
   */
  private alignedChannels(): BlockableChannels {
    const gate = this.gate;
    return {
      block: (channel) => gate.block(channel),
      unblockAll: () => gate.unblockAll(),
      queuedOn: (channel, count) => {
        const queued = gate.queuedOn(channel, count);
        const rest = this.cursor !== undefined && this.channel === channel && this.cursor.rest();
        if (rest) queued.unshift(rest);
        return queued;
      },
      queuedCount: (channel) => gate.queuedCount(channel),
      startCapture: (channel, into) => gate.startCapture(channel, into),
      stopCapture: (channel) => gate.stopCapture(channel),
      pendingPriority: (channel, checkpointId) => gate.pendingPriority(channel, checkpointId),
    };
  }

  endInput(): void {}

  /** Checkpoint figures of the aligner, for metrics. */
  alignmentTimeNanos(): number {
    return this.aligner.alignmentTimeNanos();
  }
  startDelayNanos(): number {
    return this.aligner.startDelayNanos();
  }

  /** The coordinator aborted `checkpointId`: an alignment for it ends. */
  onCheckpointAborted(checkpointId: number): void {
    this.aligner.onCheckpointAborted(checkpointId);
  }

  close(): void {
    this.aligner.close();
  }

  private readonly handler: ElementHandler = {
    record: (value, timestamp, keyGroup) => {
      this.headMetrics.numRecordsIn++;
      const target = this.input.target;
      target.setKeyContextElement(value, keyGroup);
      target.processElement(value, timestamp);
    },
    watermark: (watermark) =>
      this.input.valve.inputWatermark(this.localIndex[this.channel]!, watermark),
    watermarkStatus: (idle) => this.input.valve.inputStatus(this.localIndex[this.channel]!, idle),
    endOfPartition: () => {
      this.input.valve.endOfInput(this.localIndex[this.channel]!);
      this.endedChannels++;
      this.aligner.onEndOfPartition(this.channel);
    },
    barrier: (checkpointId, options) => this.aligner.onBarrier(this.channel, checkpointId, options),
    cancelBarrier: (checkpointId) => this.aligner.onCancelBarrier(checkpointId),
  };

  private readonly restoredHandler: ElementHandler = {
    ...this.handler,
    endOfPartition: () => {},
    barrier: () => {},
    cancelBarrier: () => {},
  };
}

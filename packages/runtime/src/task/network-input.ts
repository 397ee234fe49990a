import { InputStatus } from '@nimble/api';
import type { ElementHandler } from '../exchange/buffer-codec.js';
import { decodeElements } from '../exchange/buffer-codec.js';
import { InputGate } from '../exchange/input-gate.js';
import { StatusWatermarkValve } from '../exchange/status-watermark-valve.js';
import type { OperatorInput, OperatorMetrics } from '../operators/operator.js';
import type { AlignedCheckpointHandler } from './barrier-aligner.js';
import { BarrierAligner } from './barrier-aligner.js';
import type { InputChannel, TaskContext, TaskInput } from './task-context.js';

/** Input buffers processed per turn before yielding to other tasks on the thread. */
const BUFFERS_PER_TURN = 8;

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
    this.aligner = new BarrierAligner(channels.length, this.gate, checkpoints, ctx.name, (action) =>
      ctx.mailbox.execute(action),
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
    for (let i = 0; i < this.buffersPerTurn && mayContinue(); i++) {
      const next = gate.poll();
      if (next === undefined) break;
      this.channel = next.channel;
      this.input = this.inputOf[next.channel]!;
      this.numBytesIn += next.buffer.byteLength;
      // A restored buffer's end of partition is not the channel's (its producer runs again), nor
      // are its barriers (of the checkpoint restored from, or older).
      decodeElements(next.buffer, gate.lastPolledRestored ? this.restoredHandler : this.handler);
      gate.recycle(next.channel);
      if (this.endedChannels === gate.numberOfChannels) return InputStatus.END_OF_INPUT;
      // An unaligned barrier may have arrived meanwhile (a producer on this thread got credit).
      if (gate.hasPriorityEvents) this.processPriorityEvents();
    }
    return gate.queuedBuffers > 0 ? InputStatus.MORE_AVAILABLE : InputStatus.NOTHING_AVAILABLE;
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

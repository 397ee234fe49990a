import type { ReaderOutput, SourceReader, SourceSplit, SourceTransformation } from '@nimble/api';
import { InputStatus, MAX_TIMESTAMP } from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import type { OperatorMetrics, Output } from '../operators/operator.js';
import { SplitWatermarks, WatermarkEmitter } from '../operators/watermark-emitter.js';
import type { TaskContext, TaskInput } from './task-context.js';

/** Source polls per turn before yielding to other tasks on the thread. */
const POLLS_PER_TURN = 16;

/**
 * The input of a source task (Flink's `StreamTaskSourceInput` with the `SourceOperator`): a
 * connector's reader, polled on the task's turns, whose records get timestamps and watermarks
 * from the source's WatermarkStrategy (per split when the reader asks for split outputs) and go
 * to the head's chained successors.
 */
export class SourceInput implements TaskInput {
  private reader!: SourceReader<unknown, SourceSplit>;
  private emitter!: WatermarkEmitter<unknown>;
  private splitWatermarks!: SplitWatermarks<unknown>;
  private readerOutput!: ReaderOutput<unknown>;
  /** Split events that arrived before the reader started; restored splits go first. */
  private readonly pendingSplitEvents: (() => void)[] = [];
  private started = false;
  /** Set while the reader has nothing and the input waits on its `isAvailable()`. */
  private waiting = false;
  private periodic: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly ctx: TaskContext,
    private readonly transformation: SourceTransformation<unknown>,
    /** The source node's chain output: its chained successors and network writers. */
    private readonly output: Output<unknown>,
    private readonly metrics: OperatorMetrics,
  ) {}

  /** Creates the reader (before the chain opens, so a restore can hand it splits). */
  open(): void {
    const { transformation: t, ctx, output, metrics } = this;
    const pts = ctx.services.processingTimeService;
    const now = () => pts.now();
    const metered: Output<unknown> = {
      collect: (v, ts) => {
        if (ts !== undefined) metrics.lastEmittedEventTime = ts;
        output.collect(v, ts);
      },
      collectSide: (tag, v, ts) => output.collectSide(tag, v, ts),
      emitWatermark: (wm) => {
        metrics.currentOutputWatermark = wm;
        output.emitWatermark(wm);
      },
      emitWatermarkStatus: (idle) => output.emitWatermarkStatus(idle),
    };
    this.emitter = new WatermarkEmitter(t.watermarkStrategy, metered, ctx.name, now);
    const gauges = metrics.gauges;
    const gaugeKey = (name: string, labels: Readonly<Record<string, string>>) =>
      `${name}${JSON.stringify(labels)}`;
    try {
      this.reader = t.source.createReader({
        getIndexOfSubtask: () => ctx.subtaskIndex,
        getParallelism: () => ctx.vertex.parallelism,
        currentProcessingTime: now,
        metricGroup: () => ({
          gauge: (name, value, labels = {}) =>
            gauges.set(gaugeKey(name, labels), { name, labels: { ...labels }, value }),
          removeGauge: (name, labels = {}) => gauges.delete(gaugeKey(name, labels)),
        }),
      });
    } catch (e) {
      throw userCodeFailure(`${ctx.name}: createReader`, e);
    }
    const emitter = this.emitter;
    const splits = new SplitWatermarks(t.watermarkStrategy, emitter, metered, ctx.name, now);
    this.splitWatermarks = splits;
    this.readerOutput = {
      collect: (record, timestamp) => emitter.emitRecord(record, timestamp),
      collectSide: (tag, value, timestamp) => metered.collectSide(tag.id, value, timestamp),
      createOutputForSplit: (splitId) => splits.outputFor(splitId),
      releaseOutputForSplit: (splitId) => splits.release(splitId),
      markIdle: () => emitter.markIdle(),
    };
  }

  /** Splits restored from a checkpoint: handed to the reader first, before any from the enumerator. */
  restoreSplits(splits: SourceSplit[]): void {
    if (splits.length > 0) this.pendingSplitEvents.unshift(() => this.reader.addSplits(splits));
  }

  start(): void {
    const { ctx } = this;
    try {
      this.reader.start();
    } catch (e) {
      throw userCodeFailure(`${ctx.name}: reader start`, e);
    }
    this.started = true;
    for (const event of this.pendingSplitEvents.splice(0)) event();
    const interval = ctx.services.config.autoWatermarkInterval;
    if (this.emitter.generatesWatermarks && interval > 0) {
      // Through the mailbox: a watermark fires timers downstream in the chain, which must not
      // happen between a checkpoint's snapshot and its barrier.
      this.periodic = setInterval(
        () => ctx.mailbox.execute(() => this.emitPeriodicWatermark()),
        interval,
      );
    }
    ctx.services.registerReader(ctx.vertex.id, ctx.subtaskIndex);
  }

  /** Splits for this subtask, from the enumerator. */
  addSplits(splits: SourceSplit[]): void {
    this.onSplitEvent(() => this.reader.addSplits(splits));
  }

  /** The enumerator has no more splits for this subtask. */
  noMoreSplits(): void {
    this.onSplitEvent(() => this.reader.notifyNoMoreSplits());
  }

  processTurn(mayContinue: () => boolean): InputStatus {
    // The reader said it has nothing: a turn for mail does not poll it again before it is available.
    if (this.waiting) return InputStatus.NOTHING_AVAILABLE;
    const reader = this.reader;
    for (let i = 0; i < POLLS_PER_TURN; i++) {
      let status: InputStatus;
      try {
        status = reader.pollNext(this.readerOutput);
      } catch (e) {
        throw userCodeFailure(this.ctx.name, e);
      }
      if (status === InputStatus.END_OF_INPUT) return status;
      if (status === InputStatus.NOTHING_AVAILABLE) {
        this.waitForReader();
        return status;
      }
      if (!mayContinue()) break;
    }
    return InputStatus.MORE_AVAILABLE;
  }

  /** A bounded source ends with the final watermark, which fires all event-time timers. */
  endInput(): void {
    this.emitter.emitWatermark(MAX_TIMESTAMP);
  }

  /** Stop with savepoint --drain: fires every event-time timer and window before the barrier. */
  drain(): void {
    this.emitter.emitWatermark(MAX_TIMESTAMP);
  }

  /** The reader's split positions for checkpoint `checkpointId`. */
  snapshotSplits(checkpointId: number): unknown[] {
    try {
      return this.reader.snapshotState(checkpointId);
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: snapshotState`, e);
    }
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.reader.notifyCheckpointComplete?.(checkpointId);
  }

  async close(): Promise<void> {
    if (this.periodic !== undefined) clearInterval(this.periodic);
    this.periodic = undefined;
    await this.reader?.close();
  }

  private emitPeriodicWatermark(): void {
    if (!this.ctx.isProcessing()) return;
    if (this.splitWatermarks.active) this.splitWatermarks.onPeriodicEmit();
    else this.emitter.onPeriodicEmit();
  }

  private onSplitEvent(event: () => void): void {
    if (!this.started || !this.ctx.isProcessing()) {
      this.pendingSplitEvents.push(event);
      return;
    }
    try {
      event();
    } catch (e) {
      this.ctx.fail(userCodeFailure(this.ctx.name, e));
      return;
    }
    if (this.waiting) {
      this.waiting = false;
      this.ctx.requestTurn();
    }
  }

  private waitForReader(): void {
    this.waiting = true;
    this.reader.isAvailable().then(
      () => {
        if (this.waiting) {
          this.waiting = false;
          this.ctx.requestTurn();
        }
      },
      (e: unknown) => this.ctx.fail(userCodeFailure(this.ctx.name, e)),
    );
  }
}

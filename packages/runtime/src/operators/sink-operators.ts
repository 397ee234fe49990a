import type { Sink, SinkWriter, SinkWriterContext } from '@nimble/api';
import { isTwoPhaseCommittingSink } from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import { StreamOperator } from './operator.js';

/** Receives what `executeAndCollect` sinks gathered, in batches, per subtask. */
export type CollectTarget = (collectId: string, subtask: number, values: unknown[]) => void;

/** Writes to a connector's {@link Sink}. */
export class SinkWriterOperator<T> extends StreamOperator<T, never> {
  private writer!: SinkWriter<T>;
  private elementTimestamp: number | undefined;
  private readonly writerContext: SinkWriterContext = {
    timestamp: () => this.elementTimestamp,
    currentWatermark: () => this.currentWatermark,
  };

  constructor(private readonly sink: Sink<T>) {
    super();
  }
  override open(): void {
    try {
      this.writer = this.sink.createWriter({
        getSubtaskId: () => this.ctx.subtaskIndex,
        getNumberOfParallelSubtasks: () => this.ctx.parallelism,
        getAttemptNumber: () => this.ctx.attemptNumber,
        getRestoredCheckpointId: () => undefined,
      });
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: createWriter`, e);
    }
  }
  processElement(value: T, timestamp: number | undefined): void {
    this.elementTimestamp = timestamp;
    this.ctx.metrics.numRecordsOut++;
    try {
      this.writer.write(value, this.writerContext);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }
  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
  }
  override async finish(): Promise<void> {
    try {
      await this.writer.flush(true);
      if (isTwoPhaseCommittingSink(this.sink)) {
        // A bounded job commits what is left at the end of its input (Flink's endInput commit).
        const committables = await (
          this.writer as ReturnType<typeof this.sink.createWriter>
        ).prepareCommit();
        const committer = this.sink.createCommitter();
        await committer.commit(committables);
        await committer.close();
      }
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: flush at end of input`, e);
    }
  }
  override async close(): Promise<void> {
    this.disposeTimers();
    await this.writer?.close();
  }
}

/** Flink's `print()`: one line per element, `<subtask+1>> ` prefixed when the sink is parallel. */
export class PrintSinkOperator<T> extends StreamOperator<T, never> {
  private lines: string[] = [];
  private prefix = '';

  constructor(
    private readonly identifier: string | undefined,
    private readonly write: (text: string) => void,
  ) {
    super();
  }
  override open(): void {
    const sub = this.ctx.parallelism > 1 ? String(this.ctx.subtaskIndex + 1) : '';
    if (this.identifier && sub) this.prefix = `${this.identifier}:${sub}> `;
    else if (this.identifier) this.prefix = `${this.identifier}> `;
    else if (sub) this.prefix = `${sub}> `;
  }
  processElement(value: T): void {
    this.ctx.metrics.numRecordsOut++;
    this.lines.push(this.prefix + formatValue(value));
    if (this.lines.length >= 256) this.flush();
  }
  /** Writes buffered lines; called at the buffer timeout too, so output appears promptly. */
  flush(): void {
    if (this.lines.length === 0) return;
    this.write(this.lines.join('\n') + '\n');
    this.lines = [];
  }
  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
  }
  override finish(): void {
    this.flush();
  }
}

/** Gathers elements for `executeAndCollect`. */
export class CollectSinkOperator<T> extends StreamOperator<T, never> {
  private values: unknown[] = [];
  constructor(
    private readonly collectId: string,
    private readonly target: CollectTarget,
  ) {
    super();
  }
  processElement(value: T): void {
    this.ctx.metrics.numRecordsOut++;
    this.values.push(value);
    if (this.values.length >= 4096) this.flush();
  }
  flush(): void {
    if (this.values.length === 0) return;
    this.target(this.collectId, this.ctx.subtaskIndex, this.values);
    this.values = [];
  }
  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
  }
  override finish(): void {
    this.flush();
  }
}

/** How `print()` shows a value: strings as they are, everything else as JSON (bigints as digits). */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ??
      String(value)
    );
  } catch {
    return String(value);
  }
}

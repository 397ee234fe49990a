import type {
  CommittingSinkWriter,
  Committer,
  ListState,
  Sink,
  SinkWriter,
  SinkWriterContext,
} from '@nimble/api';
import {
  END_OF_INPUT_CHECKPOINT_ID,
  isTwoPhaseCommittingSink,
  ListStateDescriptor,
} from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import type { RestoredOperatorStates } from '../state/operator-state-store.js';
import type { StateSnapshotContext } from './operator.js';
import { StreamOperator } from './operator.js';

/** Receives what `executeAndCollect` sinks gathered, in batches, per subtask. */
export type CollectTarget = (collectId: string, subtask: number, values: unknown[]) => void;

/** Operator state name of a two-phase-commit sink's committables not yet committed. */
export const COMMITTABLES_STATE = 'committables';

/**
 * Writes to a connector's {@link Sink}. A plain sink flushes at every checkpoint (at least once);
 * a two-phase-commit sink pre-commits at the barrier, keeps the committables in the checkpoint,
 * and commits them when the checkpoint completes, and again after a restore (exactly once).
 */
export class SinkWriterOperator<T> extends StreamOperator<T, never> {
  private writer!: SinkWriter<T>;
  private committer: Committer<unknown> | undefined;
  /** Committables by the checkpoint that pre-committed them, oldest first. */
  private pending: { checkpointId: number; committables: unknown[] }[] = [];
  private restoredCommittables: unknown[] = [];
  /** The committables not yet committed, in the checkpoint (two-phase-commit sinks only). */
  private committablesState: ListState<unknown> | undefined;
  private elementTimestamp: number | undefined;
  private readonly writerContext: SinkWriterContext = {
    timestamp: () => this.elementTimestamp,
    currentWatermark: () => this.currentWatermark,
  };

  constructor(private readonly sink: Sink<T>) {
    super();
  }
  override initializeState(restored: RestoredOperatorStates): void {
    super.initializeState(restored);
    if (!isTwoPhaseCommittingSink(this.sink)) return;
    this.committablesState = this.getOperatorStateStore().getListState(
      new ListStateDescriptor<unknown>(COMMITTABLES_STATE),
    );
    this.restoredCommittables = [...this.committablesState.get()];
    this.committablesState.clear();
  }

  override async open(): Promise<void> {
    try {
      this.writer = this.sink.createWriter({
        getSubtaskId: () => this.ctx.subtaskIndex,
        getNumberOfParallelSubtasks: () => this.ctx.parallelism,
        getAttemptNumber: () => this.ctx.attemptNumber,
        getRestoredCheckpointId: () => this.ctx.restoredCheckpointId,
      });
      if (isTwoPhaseCommittingSink(this.sink)) this.committer = this.sink.createCommitter();
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: createWriter`, e);
    }
    if (this.restoredCommittables.length > 0) {
      // Pre-committed for a checkpoint that completed: commit (again; committers are idempotent).
      try {
        await this.committer?.commit(this.restoredCommittables);
      } catch (e) {
        throw userCodeFailure(`${this.ctx.name}: commit of restored committables`, e);
      }
      this.restoredCommittables = [];
    }
  }

  override async snapshotState({ checkpointId }: StateSnapshotContext): Promise<void> {
    try {
      if (!this.committer) {
        await this.writer.flush(false);
        return;
      }
      const committables = await (this.writer as CommittingSinkWriter<T, unknown>).prepareCommit(
        checkpointId,
      );
      if (committables.length > 0) this.pending.push({ checkpointId, committables });
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: pre-commit for checkpoint ${checkpointId}`, e);
    }
    this.committablesState?.update(this.pending.flatMap((p) => p.committables));
  }

  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (!this.committer) return;
    const due = this.pending.filter((p) => p.checkpointId <= checkpointId);
    if (due.length === 0) return;
    this.pending = this.pending.filter((p) => p.checkpointId > checkpointId);
    try {
      await this.committer.commit(due.flatMap((p) => p.committables));
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: commit for checkpoint ${checkpointId}`, e);
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
  override availability(): Promise<void> | undefined {
    return this.writer.availability?.();
  }
  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
  }
  override async finish(): Promise<void> {
    try {
      await this.writer.flush(true);
      if (this.committer) {
        // A bounded job commits what is left at the end of its input (Flink's endInput commit).
        const committables = await (this.writer as CommittingSinkWriter<T, unknown>).prepareCommit(
          END_OF_INPUT_CHECKPOINT_ID,
        );
        await this.committer.commit([
          ...this.pending.flatMap((p) => p.committables),
          ...committables,
        ]);
        this.pending = [];
      }
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: flush at end of input`, e);
    }
  }
  override async close(): Promise<void> {
    this.disposeTimers();
    await this.writer?.close();
    await this.committer?.close();
  }
}

/**
 * Flink's `print()`: one line per element, `<subtask+1>> ` prefixed when the sink is parallel.
 * Flink prints each element at once; lines are batched here to save writes (a `postMessage`
 * per write on a worker thread), but never held longer than the buffer timeout, so an unbounded
 * job shows its output while it runs.
 */
export class PrintSinkOperator<T> extends StreamOperator<T, never> {
  private lines: string[] = [];
  private prefix = '';
  /** Armed when the buffer goes from empty to non-empty, as in the record writer: not per line. */
  private flushTimer: { cancel(): void } | undefined;

  constructor(
    private readonly identifier: string | undefined,
    private readonly write: (text: string) => void,
    /** `execution.buffer-timeout`: lines wait at most this many ms; 0 = until the batch ends. */
    private readonly bufferTimeoutMs: number,
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
    else if (this.lines.length === 1) this.armFlushTimer();
  }
  /** Writes the buffered lines. */
  flush(): void {
    this.cancelFlushTimer();
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
  /** Also after a cancel or failure: Flink would already have printed these elements. */
  override close(): void {
    try {
      this.flush();
    } finally {
      this.disposeTimers();
    }
  }

  private armFlushTimer(): void {
    if (this.flushTimer !== undefined) return;
    const onTimeout = () => {
      this.flushTimer = undefined;
      try {
        this.flush();
      } catch (e) {
        this.ctx.failTask(e);
      }
    };
    // A task processes a batch of input in one event-loop turn: an immediate runs after it.
    if (this.bufferTimeoutMs > 0) {
      const handle = setTimeout(onTimeout, this.bufferTimeoutMs);
      this.flushTimer = { cancel: () => clearTimeout(handle) };
    } else {
      const handle = setImmediate(onTimeout);
      this.flushTimer = { cancel: () => clearImmediate(handle) };
    }
  }
  private cancelFlushTimer(): void {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
  }
}

/**
 * Gathers elements for `executeAndCollect`. The elements stay in the subtask, and in its
 * checkpoints, until the input ends and are then handed over in batches: after a restore the
 * subtask holds exactly the elements before the checkpoint's barrier and the replay adds the rest,
 * so the result is the failure-free one (Flink's collect sink is checkpointed too). Meant for the
 * bounded, modest results of tests and examples: every checkpoint holds the result so far.
 */
export class CollectSinkOperator<T> extends StreamOperator<T, never> {
  /** The elements so far: the operator state itself (a snapshot copies the list). */
  private collected!: ListState<unknown>;
  constructor(
    private readonly collectId: string,
    private readonly target: CollectTarget,
  ) {
    super();
  }
  override initializeState(restored: RestoredOperatorStates): void {
    super.initializeState(restored);
    this.collected = this.getOperatorStateStore().getListState(
      new ListStateDescriptor<unknown>(COLLECTED_STATE),
    );
  }
  processElement(value: T): void {
    this.ctx.metrics.numRecordsOut++;
    this.collected.add(value);
  }
  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
  }
  override finish(): void {
    // The list stays in the state: a checkpoint after the end of input still holds it.
    const values = [...this.collected.get()];
    for (let i = 0; i < values.length; i += COLLECT_BATCH)
      this.target(this.collectId, this.ctx.subtaskIndex, values.slice(i, i + COLLECT_BATCH));
  }
}

/** The operator state of a collect sink: its elements so far. */
const COLLECTED_STATE = 'collected';
/** Elements per message to the JobManager. */
const COLLECT_BATCH = 4096;

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

import type { OutputTag } from './output-tag.js';

/**
 * The interfaces connectors implement (Flink's FLIP-27 `Source` and FLIP-143 `Sink`).
 * Splits and committables are plain JSON-serializable objects, so they can be checkpointed.
 */

/** Whether a source ends. */
export enum Boundedness {
  BOUNDED = 'BOUNDED',
  CONTINUOUS_UNBOUNDED = 'CONTINUOUS_UNBOUNDED',
}

/** A unit of work of a source (a Kafka partition, a file, a slice of a sequence). */
export interface SourceSplit {
  /** Unique among the splits of a source. */
  readonly splitId: string;
}

/** What a reader returns from {@link SourceReader.pollNext}. */
export enum InputStatus {
  /** More records can be polled at once. */
  MORE_AVAILABLE = 'MORE_AVAILABLE',
  /** Nothing now; wait on {@link SourceReader.isAvailable}. */
  NOTHING_AVAILABLE = 'NOTHING_AVAILABLE',
  /** The reader has no splits left and will get none. */
  END_OF_INPUT = 'END_OF_INPUT',
}

/** Where a reader emits the records of one split (Flink's `SourceOutput`). */
export interface SourceOutput<T> {
  /** Emits a record with an optional source timestamp (e.g. the Kafka record's). */
  collect(record: T, timestamp?: number): void;
}

/**
 * Where a reader emits records (Flink's `ReaderOutput`). Records emitted through
 * {@link createOutputForSplit} feed a watermark generator of their own split; the source's
 * watermark is then the minimum over the splits that are not idle (per-partition watermarks).
 */
export interface ReaderOutput<T> extends SourceOutput<T> {
  /** Emits to a side output of the source, e.g. records a deserializer could not read. */
  collectSide<X>(tag: OutputTag<X>, value: X, timestamp?: number): void;
  /** The output of split `splitId`, with its own watermark generator and idleness. */
  createOutputForSplit(splitId: string): SourceOutput<T>;
  /** The split is finished or gone: its watermark no longer holds back the source's. */
  releaseOutputForSplit(splitId: string): void;
  /** The reader has nothing to read (e.g. no splits): its watermark must not hold back others. */
  markIdle(): void;
}

/** Metrics a connector registers; the daemons export them with the operator's labels. */
export interface SourceReaderMetricGroup {
  /**
   * A gauge sampled at every metrics report. `name` is appended to the operator scope
   * (`nimble_taskmanager_job_task_operator_<name>`); `labels` tell series apart (e.g. topic, partition).
   */
  gauge(name: string, value: () => number, labels?: Readonly<Record<string, string>>): void;
  /** Removes a gauge registered with the same name and labels. */
  removeGauge(name: string, labels?: Readonly<Record<string, string>>): void;
}

/** What a reader may use of its subtask. */
export interface SourceReaderContext {
  getIndexOfSubtask(): number;
  getParallelism(): number;
  /** The current processing time in ms. */
  currentProcessingTime(): number;
  /** Where the reader registers its metrics. */
  metricGroup(): SourceReaderMetricGroup;
}

/**
 * Reads the records of its assigned splits. All methods but `isAvailable` are synchronous and
 * must not block: a reader fetches asynchronously and hands out what it has.
 */
export interface SourceReader<T, Split extends SourceSplit> {
  /** Called once before the first poll. */
  start(): void;
  /** Emits up to a batch of records and tells whether more are available. */
  pollNext(output: ReaderOutput<T>): InputStatus;
  /** Resolves when `pollNext` has something to return. */
  isAvailable(): Promise<void>;
  /** Takes splits to read (at start, from the enumerator or a checkpoint). */
  addSplits(splits: Split[]): void;
  /** No more splits will be assigned. */
  notifyNoMoreSplits(): void;
  /** The state of the unfinished splits, for a checkpoint. */
  snapshotState(checkpointId: number): Split[];
  /** A checkpoint completed. */
  notifyCheckpointComplete?(checkpointId: number): void;
  /** Releases resources. */
  close(): Promise<void> | void;
}

/** What an enumerator may use: the readers and where to send splits. */
export interface SplitEnumeratorContext<Split extends SourceSplit> {
  /** Parallelism of the source. */
  currentParallelism(): number;
  /** Assigns splits to a reader subtask. */
  assignSplits(subtask: number, splits: Split[]): void;
  /** Tells a reader subtask no more splits will come. */
  signalNoMoreSplits(subtask: number): void;
}

/** Discovers splits and assigns them to readers. */
export interface SplitEnumerator<Split extends SourceSplit, EnumState> {
  /** Called once; assign the initial splits here. */
  start(): void | Promise<void>;
  /** A reader registered (also after a restart). */
  addReader(subtask: number): void;
  /** Splits of a failed reader come back, to be assigned again. */
  addSplitsBack(splits: Split[], subtask: number): void;
  /** The enumerator's state, for a checkpoint. */
  snapshotState(checkpointId: number): EnumState;
  /** Releases resources. */
  close(): void | Promise<void>;
}

/** A connector's source (Flink's `Source`). */
export interface Source<T, Split extends SourceSplit = SourceSplit, EnumState = unknown> {
  /** Whether the source ends. */
  getBoundedness(): Boundedness;
  /** A reader for one subtask. */
  createReader(context: SourceReaderContext): SourceReader<T, Split>;
  /** A new enumerator. */
  createEnumerator(context: SplitEnumeratorContext<Split>): SplitEnumerator<Split, EnumState>;
  /** An enumerator restored from a checkpoint. */
  restoreEnumerator(
    context: SplitEnumeratorContext<Split>,
    state: EnumState,
  ): SplitEnumerator<Split, EnumState>;
}

/** What a sink writer may use of its subtask. */
export interface SinkWriterContext {
  /** The element's timestamp, if any. */
  timestamp(): number | undefined;
  /** The current watermark. */
  currentWatermark(): number;
}

/** What a sink may use when it creates a writer. */
export interface SinkInitContext {
  getSubtaskId(): number;
  getNumberOfParallelSubtasks(): number;
  getAttemptNumber(): number;
  /** The checkpoint the writer restores from, if any. */
  getRestoredCheckpointId(): number | undefined;
}

/** Writes elements (Flink's `SinkWriter`). `write` is synchronous: buffer, then flush in batches. */
export interface SinkWriter<T> {
  /** Writes one element. */
  write(element: T, context: SinkWriterContext): void;
  /** Flushes buffered elements (at checkpoints and at the end of input). */
  flush(endOfInput: boolean): Promise<void> | void;
  /**
   * Backpressure: undefined while the writer takes more elements; otherwise a promise that
   * resolves when it does again (e.g. once a slow broker acknowledged what is buffered). The task
   * stops feeding the writer meanwhile.
   */
  availability?(): Promise<void> | undefined;
  /** Releases resources. */
  close(): Promise<void> | void;
}

/** A connector's sink (Flink's `Sink`). */
export interface Sink<T> {
  createWriter(context: SinkInitContext): SinkWriter<T>;
}

/**
 * The checkpoint id `prepareCommit` gets for the final pre-commit at the end of a bounded input
 * (Flink uses Long.MAX_VALUE): no checkpoint follows it.
 */
export const END_OF_INPUT_CHECKPOINT_ID = Number.MAX_SAFE_INTEGER;

/** A writer of a two-phase-commit sink: hands over committables at each checkpoint. */
export interface CommittingSinkWriter<T, CommT> extends SinkWriter<T> {
  /**
   * Pre-commit at the barrier of checkpoint `checkpointId`: flushes and returns what the
   * committer commits once that checkpoint completes.
   */
  prepareCommit(checkpointId: number): Promise<CommT[]> | CommT[];
}

/** Commits committables when their checkpoint completes; must be idempotent (re-committed after restore). */
export interface Committer<CommT> {
  commit(committables: CommT[]): Promise<void>;
  close(): Promise<void> | void;
}

/** An exactly-once sink (Flink's `TwoPhaseCommittingSink`). */
export interface TwoPhaseCommittingSink<T, CommT> extends Sink<T> {
  createWriter(context: SinkInitContext): CommittingSinkWriter<T, CommT>;
  createCommitter(): Committer<CommT>;
}

/** Whether `sink` commits in two phases. */
export function isTwoPhaseCommittingSink<T>(
  sink: Sink<T>,
): sink is TwoPhaseCommittingSink<T, unknown> {
  return (
    typeof (sink as Partial<TwoPhaseCommittingSink<T, unknown>>).createCommitter === 'function'
  );
}

/**
 * A sink that drops every element (Flink's `DiscardingSink`), for benchmarks and for jobs whose
 * only effect is their side outputs or state. The SQL `blackhole` connector writes to it.
 */
export class DiscardingSink<T = unknown> implements Sink<T> {
  createWriter(): SinkWriter<T> {
    return { write() {}, flush() {}, close() {} };
  }
}

/**
 * Prints each element on stdout, or stderr with `stdErr` (Flink's sink-v2 `PrintSink`), one line
 * per element prefixed `<identifier>:<subtask>> ` as `print()` does.
 * `stream.sinkTo(new PrintSink('out'))` is the same operator as `stream.print('out')`: the
 * executor's stdout batches lines and shows them on the TaskManager's `.out` log.
 */
export class PrintSink<T = unknown> implements Sink<T> {
  constructor(
    readonly identifier?: string,
    readonly stdErr = false,
  ) {}
  /** `sinkTo` runs a PrintSink as `print()`; it has no writer of its own. */
  createWriter(): SinkWriter<T> {
    throw new TypeError(
      'PrintSink runs as print(): attach it with stream.sinkTo(new PrintSink(...)), not through its writer',
    );
  }
}

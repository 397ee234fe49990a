import type {
  DataStream,
  ReaderOutput,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
  StreamExecutionEnvironment,
} from '@nimble/api';
import { Boundedness, InputStatus, WatermarkStrategy } from '@nimble/api';
import type { TimedElement } from './mini-cluster.js';
import { withTimedElements } from './mini-cluster.js';

/** What the test and the source's reader share (one object: the local executor does not copy it). */
interface Feed<T> {
  queue: TimedElement<T>[];
  ended: boolean;
  /** Resolves the reader's pending isAvailable(). */
  wake: (() => void) | undefined;
  /** Waiters for the queue to be taken. */
  taken: (() => void)[];
}

/**
 * A source the test feeds while the job runs, for a {@link MiniCluster} job: elements with their
 * timestamps, watermarks, then the end of input. Between feeds the job waits for input and the
 * test has its turn, e.g. to move the cluster's manual clock. Read it with {@link fromManualSource}.
 * One subtask reads it; use one source per job run.
 */
export class ManualSource<T> {
  private readonly feed: Feed<T> = { queue: [], ended: false, wake: undefined, taken: [] };

  /** Emits `value` with event timestamp `timestamp`. */
  emit(value: T, timestamp: number): this {
    return this.push({ value, timestamp });
  }

  /** Emits a watermark right after the elements emitted before it. */
  emitWatermark(watermark: number): this {
    return this.push({ watermark });
  }

  /** Ends the input: the job finishes once it processed everything (and fired event-time timers). */
  endInput(): void {
    if (this.feed.ended) return;
    this.feed.ended = true;
    this.wakeReader();
  }

  /**
   * Resolves when the source's reader has taken everything emitted so far (it went downstream;
   * operators after an exchange may still be processing it).
   */
  whenTaken(): Promise<void> {
    if (this.feed.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.feed.taken.push(resolve));
  }

  /** @internal The job API's source reading this feed. */
  asSource(): Source<TimedElement<T>, SourceSplit, null> {
    return new FeedSource(this.feed);
  }

  private push(e: TimedElement<T>): this {
    if (this.feed.ended) throw new Error('ManualSource: the input was ended (endInput)');
    this.feed.queue.push(e);
    this.wakeReader();
    return this;
  }

  private wakeReader(): void {
    const wake = this.feed.wake;
    this.feed.wake = undefined;
    wake?.();
  }
}

/**
 * The stream of a {@link ManualSource} in `env`, with its elements' timestamps and exactly the
 * watermarks the test emits (as {@link fromTimedElements}).
 */
export function fromManualSource<T>(
  env: StreamExecutionEnvironment,
  source: ManualSource<T>,
): DataStream<T> {
  const raw = env
    .fromSource(source.asSource(), WatermarkStrategy.noWatermarks(), 'Manual source')
    .setParallelism(1);
  return withTimedElements(raw);
}

class FeedSource<T> implements Source<TimedElement<T>, SourceSplit, null> {
  constructor(private readonly feed: Feed<T>) {}
  getBoundedness(): Boundedness {
    return Boundedness.CONTINUOUS_UNBOUNDED;
  }
  createReader(_context: SourceReaderContext): SourceReader<TimedElement<T>, SourceSplit> {
    return new FeedReader(this.feed);
  }
  createEnumerator(
    context: SplitEnumeratorContext<SourceSplit>,
  ): SplitEnumerator<SourceSplit, null> {
    return {
      start: () => {},
      addReader: (subtask) => {
        if (subtask === 0) context.assignSplits(0, [{ splitId: 'manual' }]);
        context.signalNoMoreSplits(subtask);
      },
      addSplitsBack: () => {},
      snapshotState: () => null,
      close: () => {},
    };
  }
  restoreEnumerator(
    context: SplitEnumeratorContext<SourceSplit>,
  ): SplitEnumerator<SourceSplit, null> {
    return this.createEnumerator(context);
  }
}

class FeedReader<T> implements SourceReader<TimedElement<T>, SourceSplit> {
  private split: SourceSplit | undefined;
  constructor(private readonly feed: Feed<T>) {}
  start(): void {}
  pollNext(output: ReaderOutput<TimedElement<T>>): InputStatus {
    if (this.split === undefined) return InputStatus.NOTHING_AVAILABLE;
    const feed = this.feed;
    if (feed.queue.length > 0) {
      for (const e of feed.queue.splice(0)) output.collect(e);
      for (const taken of feed.taken.splice(0)) taken();
    }
    return feed.ended ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
  }
  isAvailable(): Promise<void> {
    if (this.split !== undefined && (this.feed.queue.length > 0 || this.feed.ended))
      return Promise.resolve();
    return new Promise((resolve) => (this.feed.wake = resolve));
  }
  addSplits(splits: SourceSplit[]): void {
    this.split = splits[0];
    this.feed.wake?.();
  }
  notifyNoMoreSplits(): void {}
  snapshotState(): SourceSplit[] {
    return this.split ? [this.split] : [];
  }
  close(): void {}
}

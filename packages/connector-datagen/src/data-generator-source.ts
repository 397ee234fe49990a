import type {
  ReaderOutput,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '@nimble/api';
import { Boundedness, InputStatus } from '@nimble/api';

/** Makes the record of sequence number `index` (Flink's `GeneratorFunction<Long, T>`). */
export type GeneratorFunction<T> = (index: number) => T;

/** A range of sequence numbers: `[next, end)`. */
export interface NumberSequenceSplit extends SourceSplit {
  readonly next: number;
  readonly end: number;
}

/** Options of a {@link DataGeneratorSource}. */
export interface DataGeneratorOptions {
  /** Records per second over all subtasks; unlimited when omitted (Flink's RateLimiterStrategy.perSecond). */
  readonly recordsPerSecond?: number;
  /** Records emitted per poll: the batch a subtask produces in one go (default 1024). */
  readonly batchSize?: number;
}

/**
 * Generates `count` records from a function of their sequence number, split evenly across the
 * source subtasks (Flink's `DataGeneratorSource`). `count = Infinity` generates forever. Positions
 * are checkpointable split state, so a restored job continues the sequence without gaps.
 *
 * ```ts
 * const source = new DataGeneratorSource((i) => ({ userId: `user-${i % 1000}`, amount: i % 100 }), 1_000_000);
 * ```
 */
export class DataGeneratorSource<T> implements Source<
  T,
  NumberSequenceSplit,
  NumberSequenceSplit[]
> {
  private readonly count: number;

  constructor(
    private readonly generator: GeneratorFunction<T>,
    count: number,
    private readonly options: DataGeneratorOptions = {},
  ) {
    if (typeof generator !== 'function')
      throw new TypeError('DataGeneratorSource needs a generator function');
    if (!(count >= 0))
      throw new RangeError(`DataGeneratorSource: count must be >= 0; got ${count}`);
    if (options.recordsPerSecond !== undefined && !(options.recordsPerSecond > 0)) {
      throw new RangeError(
        `DataGeneratorSource: recordsPerSecond must be positive; got ${options.recordsPerSecond}`,
      );
    }
    this.count = count === Infinity ? Number.MAX_SAFE_INTEGER : Math.floor(count);
  }

  getBoundedness(): Boundedness {
    return this.count === Number.MAX_SAFE_INTEGER
      ? Boundedness.CONTINUOUS_UNBOUNDED
      : Boundedness.BOUNDED;
  }

  createReader(context: SourceReaderContext): SourceReader<T, NumberSequenceSplit> {
    const rate = this.options.recordsPerSecond;
    const perSubtask = rate === undefined ? undefined : rate / context.getParallelism();
    return new DataGeneratorReader(
      this.generator,
      this.options.batchSize ?? 1024,
      perSubtask,
      context,
    );
  }

  createEnumerator(
    context: SplitEnumeratorContext<NumberSequenceSplit>,
  ): SplitEnumerator<NumberSequenceSplit, NumberSequenceSplit[]> {
    const p = context.currentParallelism();
    const splits: NumberSequenceSplit[] = [];
    for (let i = 0; i < p; i++) {
      const from = Math.floor((this.count * i) / p);
      const to = Math.floor((this.count * (i + 1)) / p);
      splits.push({ splitId: String(i), next: from, end: to });
    }
    return new SequenceEnumerator(context, splits);
  }

  restoreEnumerator(
    context: SplitEnumeratorContext<NumberSequenceSplit>,
    state: NumberSequenceSplit[],
  ): SplitEnumerator<NumberSequenceSplit, NumberSequenceSplit[]> {
    return new SequenceEnumerator(context, state);
  }
}

class SequenceEnumerator implements SplitEnumerator<NumberSequenceSplit, NumberSequenceSplit[]> {
  constructor(
    private readonly context: SplitEnumeratorContext<NumberSequenceSplit>,
    private unassigned: NumberSequenceSplit[],
  ) {}
  start(): void {}
  addReader(subtask: number): void {
    // Split i goes to subtask i mod p: every subtask gets its share, also after a rescale.
    const p = this.context.currentParallelism();
    const owned = (s: NumberSequenceSplit) => Number(s.splitId) % p === subtask;
    const mine = this.unassigned.filter(owned);
    this.unassigned = this.unassigned.filter((s) => !owned(s));
    if (mine.length > 0) this.context.assignSplits(subtask, mine);
    this.context.signalNoMoreSplits(subtask);
  }
  addSplitsBack(splits: NumberSequenceSplit[]): void {
    this.unassigned.push(...splits);
  }
  snapshotState(): NumberSequenceSplit[] {
    return [...this.unassigned];
  }
  close(): void {}
}

class DataGeneratorReader<T> implements SourceReader<T, NumberSequenceSplit> {
  private readonly splits: { splitId: string; next: number; end: number }[] = [];
  private noMoreSplits = false;
  private emitted = 0;
  private startTime = 0;
  private waiting: Promise<void> | undefined;

  constructor(
    private readonly generator: GeneratorFunction<T>,
    private readonly batchSize: number,
    private readonly recordsPerSecond: number | undefined,
    private readonly context: SourceReaderContext,
  ) {}

  start(): void {
    this.startTime = this.context.currentProcessingTime();
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    const split = this.splits[0];
    if (split === undefined)
      return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    let n = Math.min(this.batchSize, split.end - split.next);
    if (this.recordsPerSecond !== undefined) {
      const elapsed = this.context.currentProcessingTime() - this.startTime;
      const allowed = Math.floor((elapsed / 1000) * this.recordsPerSecond) + 1 - this.emitted;
      if (allowed <= 0) {
        const wait = Math.max(
          1,
          Math.ceil(
            ((this.emitted - (elapsed / 1000) * this.recordsPerSecond) / this.recordsPerSecond) *
              1000,
          ),
        );
        this.waiting = new Promise((resolve) => setTimeout(resolve, wait));
        return InputStatus.NOTHING_AVAILABLE;
      }
      n = Math.min(n, allowed);
    }
    const generator = this.generator;
    const end = split.next + n;
    for (let i = split.next; i < end; i++) output.collect(generator(i));
    split.next = end;
    this.emitted += n;
    if (split.next >= split.end) this.splits.shift();
    if (this.splits.length > 0) return InputStatus.MORE_AVAILABLE;
    return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
  }

  isAvailable(): Promise<void> {
    const w = this.waiting;
    this.waiting = undefined;
    // Without a rate limit wait, new splits wake the reader (the task polls again on assignment).
    return w ?? new Promise(() => {});
  }

  addSplits(splits: NumberSequenceSplit[]): void {
    for (const s of splits) this.splits.push({ splitId: s.splitId, next: s.next, end: s.end });
  }
  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
  }
  snapshotState(): NumberSequenceSplit[] {
    return this.splits.map((s) => ({ ...s }));
  }
  close(): void {}
}

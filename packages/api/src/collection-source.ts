import type {
  ReaderOutput,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from './connector.js';
import { Boundedness, InputStatus } from './connector.js';

/** The one split of a collection: how many elements were emitted. */
export interface CollectionSplit extends SourceSplit {
  readonly position: number;
}

const BATCH = 512;

/**
 * A bounded source of the given elements, in order, read by one subtask
 * (`env.fromElements` / `env.fromCollection`).
 */
export class CollectionSource<T> implements Source<T, CollectionSplit, null> {
  constructor(private readonly elements: readonly T[]) {}

  getBoundedness(): Boundedness {
    return Boundedness.BOUNDED;
  }
  createReader(_context: SourceReaderContext): SourceReader<T, CollectionSplit> {
    return new CollectionReader(this.elements);
  }
  createEnumerator(
    context: SplitEnumeratorContext<CollectionSplit>,
  ): SplitEnumerator<CollectionSplit, null> {
    return new SingleReaderEnumerator(context, [{ splitId: '0', position: 0 }]);
  }
  restoreEnumerator(
    context: SplitEnumeratorContext<CollectionSplit>,
  ): SplitEnumerator<CollectionSplit, null> {
    // The split itself is in the reader's checkpointed state.
    return new SingleReaderEnumerator(context, []);
  }
}

/**
 * Hands its splits to subtask 0, and to every reader that registers the end of splits: the
 * enumerator of a source read by one subtask (a collection, the entries of a savepoint's state).
 * Splits a failed reader gave back go to subtask 0 again; the state is the readers'.
 */
export class SingleReaderEnumerator<S extends SourceSplit> implements SplitEnumerator<S, null> {
  constructor(
    private readonly context: SplitEnumeratorContext<S>,
    private pending: S[],
  ) {}
  start(): void {}
  addReader(subtask: number): void {
    if (subtask === 0 && this.pending.length > 0) {
      this.context.assignSplits(0, this.pending);
      this.pending = [];
    }
    this.context.signalNoMoreSplits(subtask);
  }
  addSplitsBack(splits: S[]): void {
    this.pending.push(...splits);
  }
  snapshotState(): null {
    return null;
  }
  close(): void {}
}

class CollectionReader<T> implements SourceReader<T, CollectionSplit> {
  private split: CollectionSplit | undefined;
  private position = 0;
  private noMoreSplits = false;

  constructor(private readonly elements: readonly T[]) {}

  start(): void {}
  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.split === undefined) {
      return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }
    const end = Math.min(this.elements.length, this.position + BATCH);
    for (let i = this.position; i < end; i++) output.collect(this.elements[i] as T);
    this.position = end;
    if (end < this.elements.length) return InputStatus.MORE_AVAILABLE;
    this.split = undefined;
    return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
  }
  isAvailable(): Promise<void> {
    return new Promise(() => {});
  }
  addSplits(splits: CollectionSplit[]): void {
    for (const s of splits) {
      this.split = s;
      this.position = s.position;
    }
  }
  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
  }
  snapshotState(): CollectionSplit[] {
    return this.split ? [{ splitId: this.split.splitId, position: this.position }] : [];
  }
  close(): void {}
}

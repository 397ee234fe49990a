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

/**
 * Opens once `countDown()` was called `count` times. A plain object of closures, so a function
 * that holds it in a field shares it with its copies (the single-thread local executor gives each
 * parallel instance a deep copy of the function, closures excepted).
 */
export interface Latch {
  countDown(): void;
  readonly opened: Promise<void>;
}

/** A {@link Latch} of `count`; open at once when `count` is 0. */
export function latch(count: number): Latch {
  let left = count;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  if (left <= 0) open();
  return {
    countDown: () => {
      if (--left === 0) open();
    },
    opened,
  };
}

interface GatedSplit extends SourceSplit {
  readonly position: number;
}

/**
 * A bounded source of `elements` (in order, one subtask) that emits nothing until `gate`
 * resolves: tests of a single-thread local job order one stream after another by waiting for
 * what the job did (a {@link Latch} its functions count down), never for time.
 */
export class GatedSource<T> implements Source<T, GatedSplit, null> {
  constructor(
    private readonly elements: readonly T[],
    private readonly gate: Promise<void>,
  ) {}

  getBoundedness(): Boundedness {
    return Boundedness.BOUNDED;
  }
  createReader(_context: SourceReaderContext): SourceReader<T, GatedSplit> {
    return new GatedReader(this.elements, this.gate);
  }
  createEnumerator(context: SplitEnumeratorContext<GatedSplit>): SplitEnumerator<GatedSplit, null> {
    let pending: GatedSplit[] = [{ splitId: '0', position: 0 }];
    return {
      start: () => {},
      addReader: (subtask) => {
        if (subtask === 0 && pending.length > 0) context.assignSplits(0, pending);
        if (subtask === 0) pending = [];
        context.signalNoMoreSplits(subtask);
      },
      addSplitsBack: (splits) => void pending.push(...splits),
      snapshotState: () => null,
      close: () => {},
    };
  }
  restoreEnumerator(
    context: SplitEnumeratorContext<GatedSplit>,
  ): SplitEnumerator<GatedSplit, null> {
    return this.createEnumerator(context);
  }
}

class GatedReader<T> implements SourceReader<T, GatedSplit> {
  private split: GatedSplit | undefined;
  private noMoreSplits = false;
  private open = false;

  constructor(
    private readonly elements: readonly T[],
    private readonly gate: Promise<void>,
  ) {
    void gate.then(() => (this.open = true));
  }

  start(): void {}
  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.split !== undefined) {
      if (!this.open) return InputStatus.NOTHING_AVAILABLE;
      for (let i = this.split.position; i < this.elements.length; i++)
        output.collect(this.elements[i] as T);
      this.split = undefined;
    }
    return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
  }
  isAvailable(): Promise<void> {
    return this.split !== undefined ? this.gate : new Promise(() => {});
  }
  addSplits(splits: GatedSplit[]): void {
    for (const s of splits) this.split = s;
  }
  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
  }
  snapshotState(): GatedSplit[] {
    return this.split ? [this.split] : [];
  }
  close(): void {}
}

/**
 * A bounded source of the entries of one keyed state of a savepoint's operator, as the savepoint
 * view decodes them (TTL timestamps taken off): `{ key, namespace, value }`. One reader reads
 * every key group, in key-group order.
 */
import type {
  Key,
  ReaderOutput,
  Source,
  SourceReader,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '@nimble/api';
import { Boundedness, InputStatus, SingleReaderEnumerator } from '@nimble/api';
import type { S3Options } from '@nimble/runtime';
import { openSavepoint } from '@nimble/runtime';

/** One entry of a keyed state: the key, the namespace ('' for process functions) and the value. */
export interface KeyedStateEntry<K extends Key = Key, V = unknown> {
  readonly key: K;
  readonly namespace: string;
  readonly value: V;
}

export interface StateEntriesSpec {
  readonly savepointDir: string;
  readonly s3: S3Options;
  readonly uid: string;
  readonly stateName: string;
}

const ENTRIES_PER_POLL = 512;

export class StateEntriesSource implements Source<KeyedStateEntry, SourceSplit, null> {
  constructor(private readonly spec: StateEntriesSpec) {}
  getBoundedness(): Boundedness {
    return Boundedness.BOUNDED;
  }
  createReader(): SourceReader<KeyedStateEntry, SourceSplit> {
    return new StateEntriesReader(this.spec);
  }
  createEnumerator(
    context: SplitEnumeratorContext<SourceSplit>,
  ): SplitEnumerator<SourceSplit, null> {
    return new SingleReaderEnumerator(context, [{ splitId: 'entries' }]);
  }
  restoreEnumerator(
    context: SplitEnumeratorContext<SourceSplit>,
  ): SplitEnumerator<SourceSplit, null> {
    return new SingleReaderEnumerator(context, []);
  }
}

class StateEntriesReader implements SourceReader<KeyedStateEntry, SourceSplit> {
  private hasSplit = false;
  private loading: Promise<void> | undefined;
  private failure: unknown;
  private entries: KeyedStateEntry[] | undefined;
  private next = 0;

  constructor(private readonly spec: StateEntriesSpec) {}

  start(): void {}
  addSplits(splits: SourceSplit[]): void {
    if (splits.length > 0) this.hasSplit = true;
  }
  notifyNoMoreSplits(): void {
    this.loading ??= (this.hasSplit ? this.load() : Promise.resolve()).then(
      () => void (this.entries ??= []),
      (e: unknown) => void (this.failure = e),
    );
  }
  isAvailable(): Promise<void> {
    return this.loading ?? new Promise(() => {});
  }
  pollNext(output: ReaderOutput<KeyedStateEntry>): InputStatus {
    if (this.failure !== undefined) throw this.failure;
    if (this.entries === undefined) return InputStatus.NOTHING_AVAILABLE;
    const end = Math.min(this.entries.length, this.next + ENTRIES_PER_POLL);
    for (let i = this.next; i < end; i++) output.collect(this.entries[i]!);
    this.next = end;
    return end < this.entries.length ? InputStatus.MORE_AVAILABLE : InputStatus.END_OF_INPUT;
  }

  private async load(): Promise<void> {
    const view = await openSavepoint(this.spec.savepointDir, { s3: this.spec.s3 });
    try {
      const entries: KeyedStateEntry[] = [];
      for await (const e of view.operator(this.spec.uid).entries(this.spec.stateName)) {
        entries.push({ key: e.key, namespace: e.namespace, value: e.value });
      }
      this.entries = entries;
    } finally {
      view.close();
    }
  }

  snapshotState(): SourceSplit[] {
    return [];
  }
  close(): void {}
}

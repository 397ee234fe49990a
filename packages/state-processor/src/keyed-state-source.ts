/**
 * A bounded source over the keyed state of one operator of a savepoint. A split is one old
 * subtask's keyed state handle. A reader restores the splits it is given into a `hashmap` keyed
 * state backend of its own with the runtime's restore (a level checkpoint's native chains through
 * the savepoint view, which gives them in the canonical view), opens the reader function, which
 * registers its states, and then calls `readKey` for every key that has an entry of a registered
 * state in the default namespace, a batch of keys per poll.
 */
import { serialize } from 'node:v8';
import type {
  Key,
  ReaderOutput,
  RuntimeContext,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
  State,
  StateDescriptor,
} from '@nimble/api';
import { Boundedness, ExecutionConfig, InputStatus } from '@nimble/api';
import type {
  KeyedStateBackend,
  OperatorStateMetadata,
  OperatorSubtaskState,
  S3Options,
} from '@nimble/runtime';
import {
  assignToKeyGroup,
  createKeyedStateBackend,
  encodeKey,
  fileSystemFor,
  KeyGroupRange,
  openSavepoint,
  readKeyGroupBlocks,
  resolveRelative,
} from '@nimble/runtime';
import { StateProcessorError } from './errors.js';
import type { KeyedStateReaderFunction } from './functions.js';

/** One old subtask's keyed state. */
export interface KeyedStateSplit extends SourceSplit {
  readonly subtask: OperatorSubtaskState;
}

/** What the readers need to find and restore the state. */
export interface KeyedStateSourceSpec {
  readonly savepointDir: string;
  readonly s3: S3Options;
  readonly operator: OperatorStateMetadata;
}

const KEYS_PER_POLL = 256;

export class KeyedStateSource<K extends Key, OUT> implements Source<
  OUT,
  KeyedStateSplit,
  KeyedStateSplit[]
> {
  private fnTaken = false;

  constructor(
    private readonly spec: KeyedStateSourceSpec,
    private readonly fn: KeyedStateReaderFunction<K, OUT>,
    private readonly copy: <F>(fn: F) => F,
  ) {}

  getBoundedness(): Boundedness {
    return Boundedness.BOUNDED;
  }

  createReader(context: SourceReaderContext): SourceReader<OUT, KeyedStateSplit> {
    // Readers that share a thread each need their own function object (its state handles).
    const fn = this.fnTaken ? this.copy(this.fn) : this.fn;
    this.fnTaken = true;
    return new KeyedStateReader(this.spec, fn, context);
  }

  createEnumerator(
    context: SplitEnumeratorContext<KeyedStateSplit>,
  ): SplitEnumerator<KeyedStateSplit, KeyedStateSplit[]> {
    const splits = this.spec.operator.subtasks
      .filter((st) => st.keyed !== undefined)
      .map((st) => ({ splitId: String(st.subtask), subtask: st }));
    return new KeyedStateEnumerator(context, splits);
  }

  restoreEnumerator(
    context: SplitEnumeratorContext<KeyedStateSplit>,
    state: KeyedStateSplit[],
  ): SplitEnumerator<KeyedStateSplit, KeyedStateSplit[]> {
    return new KeyedStateEnumerator(context, state);
  }
}

/** Hands the splits out round-robin, all at once: each reader restores what it gets, then reads. */
class KeyedStateEnumerator implements SplitEnumerator<KeyedStateSplit, KeyedStateSplit[]> {
  constructor(
    private readonly context: SplitEnumeratorContext<KeyedStateSplit>,
    private readonly pending: KeyedStateSplit[],
  ) {}
  start(): void {}
  addReader(subtask: number): void {
    const n = this.context.currentParallelism();
    const mine = this.pending.filter((_, i) => i % n === subtask);
    if (mine.length > 0) this.context.assignSplits(subtask, mine);
    this.context.signalNoMoreSplits(subtask);
  }
  addSplitsBack(splits: KeyedStateSplit[]): void {
    this.pending.push(...splits);
  }
  snapshotState(): KeyedStateSplit[] {
    return [...this.pending];
  }
  close(): void {}
}

class KeyedStateReader<K extends Key, OUT> implements SourceReader<OUT, KeyedStateSplit> {
  private readonly splits: KeyedStateSplit[] = [];
  private noMoreSplits = false;
  private loading: Promise<void> | undefined;
  private failure: unknown;
  private keys: Key[] | undefined;
  private next = 0;
  private backend: KeyedStateBackend | undefined;
  private readonly descriptors: StateDescriptor<State>[] = [];
  private readonly name: string;
  private readonly readerContext = { getOperatorUid: (): string => this.spec.operator.uid };

  constructor(
    private readonly spec: KeyedStateSourceSpec,
    private readonly fn: KeyedStateReaderFunction<K, OUT>,
    private readonly context: SourceReaderContext,
  ) {
    this.name =
      `Read keyed state of uid ${JSON.stringify(spec.operator.uid)} ` +
      `(${context.getIndexOfSubtask() + 1}/${context.getParallelism()})`;
  }

  start(): void {}

  addSplits(splits: KeyedStateSplit[]): void {
    this.splits.push(...splits);
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.loading ??= this.load().catch((e: unknown) => {
      this.failure = e;
    });
  }

  isAvailable(): Promise<void> {
    return this.loading ?? new Promise(() => {});
  }

  pollNext(output: ReaderOutput<OUT>): InputStatus {
    if (this.failure !== undefined) throw this.failure;
    if (!this.noMoreSplits || this.keys === undefined) return InputStatus.NOTHING_AVAILABLE;
    const backend = this.backend!;
    const maxP = this.spec.operator.maxParallelism;
    const end = Math.min(this.keys.length, this.next + KEYS_PER_POLL);
    const out = { collect: (v: OUT) => output.collect(v) };
    for (let i = this.next; i < end; i++) {
      const key = this.keys[i]!;
      backend.setCurrentKey(key, assignToKeyGroup(key, maxP));
      this.fn.readKey(key as K, this.readerContext, out);
    }
    this.next = end;
    return end < this.keys.length ? InputStatus.MORE_AVAILABLE : InputStatus.END_OF_INPUT;
  }

  private async load(): Promise<void> {
    const op = this.spec.operator;
    const backend = createKeyedStateBackend({
      kind: 'hashmap',
      operatorName: this.name,
      maxParallelism: op.maxParallelism,
      keyGroupRange: new KeyGroupRange(0, op.maxParallelism - 1),
    });
    this.backend = backend;
    await backend.open();
    const canonical = this.splits.filter((s) =>
      s.subtask.keyed!.files.every((f) => f.kind === 'canonical'),
    );
    const fs = fileSystemFor(this.spec.savepointDir, this.spec.s3);
    try {
      for (const split of canonical) {
        const handle = split.subtask.keyed!;
        const [first, last] = handle.keyGroupRange;
        for (const file of handle.files) {
          const uri = resolveRelative(this.spec.savepointDir, file.path);
          const blocks = await readKeyGroupBlocks(fs, uri, file, first, first, last);
          await backend.restore(
            'canonical',
            blocks.map((b) => ({ keyGroup: b.keyGroup, bytes: b.state })),
          );
        }
      }
    } finally {
      fs.close();
    }
    // A level checkpoint's native chains: the savepoint view applies them and gives each key
    // group in the canonical view, which restores into the heap backend like a savepoint's.
    const native = this.splits.filter((s) => !canonical.includes(s));
    if (native.length > 0) {
      const view = await openSavepoint(this.spec.savepointDir, { s3: this.spec.s3 });
      try {
        const operator = view.operator(op.uid);
        for (const split of native) {
          const [first, last] = split.subtask.keyed!.keyGroupRange;
          const blocks = [];
          for (let kg = first; kg <= last; kg++) {
            const { states } = await operator.readKeyGroup(kg);
            if (states.length > 0) blocks.push({ keyGroup: kg, bytes: serialize(states) });
          }
          await backend.restore('canonical', blocks);
        }
      } finally {
        view.close();
      }
    }
    const ctx = this.runtimeContext(backend);
    this.fn.setRuntimeContext(ctx);
    this.fn.open(ctx);
    if (this.descriptors.length === 0) {
      throw new StateProcessorError(
        `${this.name}: the KeyedStateReaderFunction registered no state in open(); register the ` +
          'states to read with getRuntimeContext().getState(...) (or getListState, getMapState, ...)',
      );
    }
    // Every key with an entry of a registered state, once, in the backend's order.
    const keys = new Map<string, Key>();
    for (const d of this.descriptors) {
      const pending = backend.applyToAllKeys('', d, (key) => {
        const id = Buffer.from(encodeKey(key)).toString('latin1');
        if (!keys.has(id)) keys.set(id, key);
      });
      if (pending !== undefined) {
        await pending.ready;
        pending.apply();
      }
    }
    this.keys = [...keys.values()];
  }

  private runtimeContext(backend: KeyedStateBackend): RuntimeContext {
    const keyed = <S extends State>(d: StateDescriptor<S>): S => {
      const state = backend.getState(d);
      state.setCurrentNamespace('');
      this.descriptors.push(d as StateDescriptor<State>);
      return state;
    };
    return {
      getTaskName: () => this.name,
      getTaskNameWithSubtasks: () => `${this.name}#0`,
      getGlobalJobParameters: () => ({}),
      getExecutionConfig: () => new ExecutionConfig({}),
      getIndexOfThisSubtask: () => this.context.getIndexOfSubtask(),
      getNumberOfParallelSubtasks: () => this.context.getParallelism(),
      getMaxNumberOfParallelSubtasks: () => this.spec.operator.maxParallelism,
      getAttemptNumber: () => 0,
      getState: keyed,
      getListState: keyed,
      getMapState: keyed,
      getReducingState: keyed,
      getAggregatingState: keyed,
    } as RuntimeContext;
  }

  snapshotState(): KeyedStateSplit[] {
    return [];
  }

  async close(): Promise<void> {
    try {
      this.fn.close();
    } finally {
      await this.backend?.close();
    }
  }
}

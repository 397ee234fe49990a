import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  FlatMapFunction,
  FlatMapFunctionObject,
  Key,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  MapFunctionObject,
  OutputTag,
  ProcessFunction,
  State,
  StateDescriptor,
} from '@nimble/api';
import type {
  AbstractStreamOperator,
  KeyedSnapshotKind,
  KeyedStateBackend,
  OperatorContext,
  Output,
  RestoredOperatorStates,
  StateBackendKind,
} from '@nimble/runtime';
import {
  assignToKeyGroup,
  createKeyedStateBackend,
  DEFAULT_MAX_PARALLELISM,
  FlatMapOperator,
  KeyGroupRange,
  ManualProcessingTimeService,
  MapOperator,
  newOperatorMetrics,
  ProcessOperator,
  StreamOperator,
} from '@nimble/runtime';

/** A record an operator emitted (Flink's `StreamRecord`): its value and event timestamp. */
export interface StreamRecord<T> {
  readonly value: T;
  /** The record's event timestamp; undefined when it has none (e.g. a processing-time timer's output). */
  readonly timestamp: number | undefined;
}

/** A watermark an operator emitted (Flink's `Watermark`). */
export interface Watermark {
  readonly watermark: number;
}

/** What an operator emitted on its main output, in order: records and watermarks. */
export type OutputElement<T> = StreamRecord<T> | Watermark;

/**
 * The state of a harness's operator as a checkpoint would take it (Flink's
 * `OperatorSubtaskState`): keyed state, timers and operator state. Restore it into a new harness
 * with {@link OneInputStreamOperatorTestHarness.initializeState}.
 */
export interface OperatorSnapshot {
  /** Keyed state: one block per key group of the harness's range, in the backend's format. */
  readonly keyed:
    { readonly kind: KeyedSnapshotKind; readonly blocks: readonly Uint8Array[] } | undefined;
  /** Timers by key group. */
  readonly timers: ReadonlyMap<number, unknown[]>;
  /** Operator state (of a `CheckpointedFunction`, broadcast state...). */
  readonly operatorState: RestoredOperatorStates;
  /** The checkpoint the snapshot was taken for. */
  readonly checkpointId: number;
}

/** How a harness runs its operator. */
export interface HarnessOptions {
  /** The keyed state backend of a keyed harness: `hashmap` (default) or `level` (in a temporary directory). */
  readonly backend?: StateBackendKind;
  /** Start of the manual processing-time clock, which also drives state TTL. Default 0. */
  readonly processingTime?: number;
  /** Number of key groups. Default 128, Flink's default. */
  readonly maxParallelism?: number;
  /** The subtask this harness runs as, and the parallelism (default 0 of 1): only key groups of that subtask are held. */
  readonly subtaskIndex?: number;
  readonly parallelism?: number;
  /** The operator's name in errors and in the runtime context (`<name> (i/p)`). Default 'Test operator'. */
  readonly name?: string;
}

/**
 * Runs one operator of a one-input function as a single subtask, for unit tests (Flink's
 * `OneInputStreamOperatorTestHarness`): the test pushes elements, watermarks and processing time,
 * and reads what the operator emitted. The operator is the runtime's own (the same class a job
 * runs), on a real keyed state backend and timer service, with a manual processing-time clock.
 * Everything runs synchronously in the calling test: a timer fires inside `processWatermark` or
 * `setProcessingTime`, and an exception of the function is thrown from the call that ran it.
 *
 * Lifecycle: construct, optionally {@link initializeState}, {@link open}, push input, {@link close}.
 * The factories of {@link ProcessFunctionTestHarnesses} return opened harnesses.
 */
export class OneInputStreamOperatorTestHarness<IN, OUT> {
  private readonly output: OutputElement<OUT>[] = [];
  private readonly sideOutputs = new Map<string, StreamRecord<unknown>[]>();
  private readonly clock: ManualProcessingTimeService;
  private readonly maxParallelism: number;
  private readonly keyGroupRange: KeyGroupRange;
  private readonly context: OperatorContext;
  private backend: KeyedStateBackend | undefined;
  private stateDir: string | undefined;
  private restored: OperatorSnapshot | undefined;
  private state: 'new' | 'open' | 'closed' = 'new';

  /**
   * @param operator the runtime operator under test (see {@link ProcessFunctionTestHarnesses} to
   *   build one from a function)
   * @param keySelector for a keyed operator: the key of each element (Flink's keyBy); it makes
   *   the harness keyed, with a keyed state backend and timers
   */
  constructor(
    readonly operator: AbstractStreamOperator<OUT>,
    private readonly keySelector?: KeySelector<IN, Key>,
    private readonly options: HarnessOptions = {},
  ) {
    if (!(operator instanceof StreamOperator)) {
      throw new TypeError(
        'OneInputStreamOperatorTestHarness: the operator must be a one-input StreamOperator',
      );
    }
    const subtaskIndex = options.subtaskIndex ?? 0;
    const parallelism = options.parallelism ?? 1;
    if (!(Number.isInteger(subtaskIndex) && subtaskIndex >= 0 && subtaskIndex < parallelism)) {
      throw new RangeError(
        `OneInputStreamOperatorTestHarness: subtaskIndex must be in [0, parallelism); got ${subtaskIndex} of ${parallelism}`,
      );
    }
    this.maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    this.keyGroupRange = KeyGroupRange.forOperatorIndex(
      this.maxParallelism,
      parallelism,
      subtaskIndex,
    );
    this.clock = new ManualProcessingTimeService(options.processingTime ?? 0);
    const name = options.name ?? 'Test operator';
    this.context = {
      name: `${name} (${subtaskIndex + 1}/${parallelism})`,
      operatorId: name,
      subtaskIndex,
      parallelism,
      maxParallelism: this.maxParallelism,
      attemptNumber: 0,
      restoredCheckpointId: undefined,
      keyedStateBackend: undefined,
      processingTimeService: this.clock,
      requestFlush: () => {},
      // A timer fired by setProcessingTime fails the test that moved the clock.
      failTask: (e) => {
        throw e;
      },
      // Mail runs at once: the harness has no turns, the test drives it step by step.
      mailbox: { execute: (action) => action() },
      metrics: newOperatorMetrics(),
    };
  }

  /**
   * Restores a snapshot of another harness (Flink's `initializeState(OperatorSubtaskState)`):
   * keyed state, timers and operator state. Call before {@link open}.
   */
  initializeState(snapshot: OperatorSnapshot): this {
    if (this.state !== 'new')
      throw new Error('initializeState: call it before open(), on a harness not opened yet');
    this.restored = snapshot;
    return this;
  }

  /** Sets up the state backend and opens the operator (and the user function's `open`). */
  async open(): Promise<this> {
    if (this.state !== 'new') throw new Error('open: the harness was opened already');
    this.state = 'open';
    const restored = this.restored;
    // A restored function's `isRestored()` is true, as after a restart from that checkpoint.
    (this.context as { restoredCheckpointId?: number }).restoredCheckpointId =
      restored?.checkpointId;
    if (this.keySelector !== undefined) {
      const kind = this.options.backend ?? 'hashmap';
      if (kind === 'level') this.stateDir = await mkdtemp(join(tmpdir(), 'nimble-test-harness-'));
      this.backend = createKeyedStateBackend({
        kind,
        operatorName: this.context.name,
        maxParallelism: this.maxParallelism,
        keyGroupRange: this.keyGroupRange,
        localDir: this.stateDir,
        ttlTimeProvider: () => this.clock.now(),
      });
      (this.context as { keyedStateBackend?: KeyedStateBackend }).keyedStateBackend = this.backend;
      await this.backend.open();
      if (restored?.keyed !== undefined) {
        const start = this.keyGroupRange.startKeyGroup;
        await this.backend.restore(
          restored.keyed.kind,
          restored.keyed.blocks.map((bytes, i) => ({ keyGroup: start + i, bytes })),
        );
      }
    } else if (restored?.keyed !== undefined) {
      throw new Error(
        'initializeState: the snapshot holds keyed state, and this harness is not keyed',
      );
    }
    const op = this.operator as StreamOperator<IN, OUT>;
    op.keySelector = this.keySelector as KeySelector<unknown, Key> | undefined;
    op.setup(this.context, this.collector);
    for (const [keyGroup, timers] of restored?.timers ?? []) op.restoreTimers(keyGroup, timers);
    op.initializeState(restored?.operatorState ?? new Map());
    await op.open();
    return this;
  }

  /** An element with its event timestamp (none when omitted), as the task's chain gives it to the operator. */
  processElement(value: IN, timestamp?: number): void {
    const op = this.opened();
    op.setKeyContextElement(value);
    op.processElement(value, timestamp);
  }

  /** A watermark: fires event-time timers up to it, then the operator forwards it. */
  processWatermark(watermark: number): void {
    this.opened().processWatermark(watermark);
  }

  /** Moves the processing-time clock forward to `time`, firing due processing-time timers; also the clock of state TTL. */
  setProcessingTime(time: number): void {
    this.opened();
    this.clock.advanceTo(time);
  }

  /** The current processing time of the harness's clock. */
  getProcessingTime(): number {
    return this.clock.now();
  }

  /** Everything emitted on the main output so far, records and watermarks, in order (Flink's `getOutput`). */
  getOutput(): OutputElement<OUT>[] {
    return [...this.output];
  }

  /** The records emitted on the main output so far, with their timestamps. */
  getRecordOutput(): StreamRecord<OUT>[] {
    return this.output.filter((e): e is StreamRecord<OUT> => !('watermark' in e));
  }

  /** The values of the records emitted on the main output so far (Flink's `extractOutputValues`). */
  extractOutputValues(): OUT[] {
    return this.getRecordOutput().map((r) => r.value);
  }

  /** The records emitted to the side output `tag` so far (Flink's `getSideOutput`). */
  getSideOutput<T>(tag: OutputTag<T>): StreamRecord<T>[] {
    return [...((this.sideOutputs.get(tag.id) ?? []) as StreamRecord<T>[])];
  }

  /** Forgets the output collected so far (main and side outputs). */
  clearOutput(): void {
    this.output.length = 0;
    this.sideOutputs.clear();
  }

  /** Event-time timers registered and not yet fired. */
  numEventTimeTimers(): number {
    return this.operator.numEventTimeTimers();
  }

  /** Processing-time timers registered and not yet fired. */
  numProcessingTimeTimers(): number {
    return this.operator.numProcessingTimeTimers();
  }

  /**
   * The keyed state `descriptor` of `key`, as the function sees it for that key (TTL applies:
   * an expired value reads as absent). Read it at once: the next element or timer sets another
   * key current. A state the function never registered is registered by this call.
   */
  getState<S extends State>(descriptor: StateDescriptor<S>, key: Key): S {
    const backend = this.backend;
    if (backend === undefined) {
      throw new Error(
        `getState(${JSON.stringify(descriptor.name)}): the harness is not keyed (or not open); pass a key selector`,
      );
    }
    const keyGroup = assignToKeyGroup(key, this.maxParallelism);
    if (!this.keyGroupRange.contains(keyGroup)) {
      throw new RangeError(
        `getState: key ${JSON.stringify(key)} belongs to key group ${keyGroup}, which subtask ${this.context.subtaskIndex} does not hold`,
      );
    }
    backend.setCurrentKey(key, keyGroup);
    const state = backend.getState(descriptor);
    state.setCurrentNamespace('');
    return state;
  }

  /**
   * The operator's state as checkpoint `checkpointId` would take it: keyed state (in the
   * backend-independent canonical format), timers and operator state. Restore it with
   * {@link initializeState} into a new harness (Flink's `snapshot(checkpointId, timestamp)`).
   */
  async snapshot(checkpointId = 1, timestamp = 0): Promise<OperatorSnapshot> {
    const op = this.opened();
    const operatorState = structuredClone(
      await op.snapshotOperatorState({ checkpointId, timestamp }),
    ) as RestoredOperatorStates;
    const timers = structuredClone(op.snapshotTimers() ?? new Map<number, unknown[]>());
    let keyed: OperatorSnapshot['keyed'];
    if (this.backend !== undefined) {
      const snap = this.backend.snapshot(checkpointId, 'canonical');
      try {
        keyed = { kind: snap.kind, blocks: await snap.materialize() };
      } finally {
        snap.release();
      }
    }
    return { keyed, timers, operatorState, checkpointId };
  }

  /** End of input (Flink's `endInput`/`finish`): the operator emits what it holds back. */
  async finish(): Promise<void> {
    await this.opened().finish();
  }

  /** Closes the operator (the function's `close`) and the state backend; safe to call twice. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    try {
      if (wasOpen) await this.operator.close();
    } finally {
      try {
        await this.backend?.close();
      } finally {
        if (this.stateDir !== undefined) await rm(this.stateDir, { recursive: true, force: true });
      }
    }
  }

  private opened(): StreamOperator<IN, OUT> {
    if (this.state !== 'open') {
      throw new Error(
        this.state === 'new'
          ? 'The harness is not open: call open() first'
          : 'The harness is closed',
      );
    }
    return this.operator as StreamOperator<IN, OUT>;
  }

  private readonly collector: Output<OUT> = {
    collect: (value, timestamp) => void this.output.push({ value, timestamp }),
    collectSide: (tagId, value, timestamp) => {
      let list = this.sideOutputs.get(tagId);
      if (list === undefined) this.sideOutputs.set(tagId, (list = []));
      list.push({ value, timestamp });
    },
    emitWatermark: (watermark) => void this.output.push({ watermark }),
    emitWatermarkStatus: () => {},
  };
}

/**
 * A harness of a keyed operator (Flink's `KeyedOneInputStreamOperatorTestHarness`): each element's
 * key comes from `keySelector`, state and timers are per key.
 */
export class KeyedOneInputStreamOperatorTestHarness<
  K extends Key,
  IN,
  OUT,
> extends OneInputStreamOperatorTestHarness<IN, OUT> {
  constructor(
    operator: AbstractStreamOperator<OUT>,
    keySelector: KeySelector<IN, K>,
    options: HarnessOptions = {},
  ) {
    super(operator, keySelector, options);
  }

  /** The keyed state `descriptor` of `key` (see {@link OneInputStreamOperatorTestHarness.getState}). */
  override getState<S extends State>(descriptor: StateDescriptor<S>, key: K): S {
    return super.getState(descriptor, key);
  }
}

/**
 * Opened harnesses for one function (Flink's `ProcessFunctionTestHarnesses`), on the operator a
 * job runs it with.
 *
 * ```ts
 * const h = await ProcessFunctionTestHarnesses.forKeyedProcessFunction(new Tracker(), (e) => e.user);
 * h.processElement({ user: 'a' }, 10);
 * h.setProcessingTime(60_000);
 * expect(h.extractOutputValues()).toEqual([...]);
 * await h.close();
 * ```
 */
export const ProcessFunctionTestHarnesses = {
  /** A `KeyedProcessFunction` on a keyed stream; `options.restore` starts it from a snapshot. */
  async forKeyedProcessFunction<K extends Key, IN, OUT>(
    fn: KeyedProcessFunction<K, IN, OUT>,
    keySelector: KeySelector<IN, K>,
    options: HarnessOptions & { readonly restore?: OperatorSnapshot } = {},
  ): Promise<KeyedOneInputStreamOperatorTestHarness<K, IN, OUT>> {
    const h = new KeyedOneInputStreamOperatorTestHarness<K, IN, OUT>(
      new ProcessOperator(fn, true) as AbstractStreamOperator<OUT>,
      keySelector,
      options,
    );
    if (options.restore !== undefined) h.initializeState(options.restore);
    return h.open();
  },

  /** A `ProcessFunction` on a non-keyed stream (no keyed state, no timers). */
  async forProcessFunction<IN, OUT>(
    fn: ProcessFunction<IN, OUT>,
    options: HarnessOptions & { readonly restore?: OperatorSnapshot } = {},
  ): Promise<OneInputStreamOperatorTestHarness<IN, OUT>> {
    const h = new OneInputStreamOperatorTestHarness<IN, OUT>(
      new ProcessOperator(fn, false) as AbstractStreamOperator<OUT>,
      undefined,
      options,
    );
    if (options.restore !== undefined) h.initializeState(options.restore);
    return h.open();
  },

  /** A `map` function (closure or RichMapFunction object). */
  async forMapFunction<IN, OUT>(
    fn: MapFunction<IN, OUT> | MapFunctionObject<IN, OUT>,
    options: HarnessOptions & { readonly restore?: OperatorSnapshot } = {},
  ): Promise<OneInputStreamOperatorTestHarness<IN, OUT>> {
    const h = new OneInputStreamOperatorTestHarness<IN, OUT>(
      new MapOperator(fn) as AbstractStreamOperator<OUT>,
      undefined,
      options,
    );
    if (options.restore !== undefined) h.initializeState(options.restore);
    return h.open();
  },

  /** A `flatMap` function (closure or RichFlatMapFunction object). */
  async forFlatMapFunction<IN, OUT>(
    fn: FlatMapFunction<IN, OUT> | FlatMapFunctionObject<IN, OUT>,
    options: HarnessOptions & { readonly restore?: OperatorSnapshot } = {},
  ): Promise<OneInputStreamOperatorTestHarness<IN, OUT>> {
    const h = new OneInputStreamOperatorTestHarness<IN, OUT>(
      new FlatMapOperator(fn) as AbstractStreamOperator<OUT>,
      undefined,
      options,
    );
    if (options.restore !== undefined) h.initializeState(options.restore);
    return h.open();
  },
};

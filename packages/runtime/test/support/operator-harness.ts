import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Key, KeySelector } from '@nimble/api';
import { KeyGroupRange } from '../../src/keys/index.js';
import type {
  AbstractStreamOperator,
  OperatorContext,
  OperatorMetrics,
  Output,
} from '../../src/operators/operator.js';
import {
  newOperatorMetrics,
  StreamOperator,
  TwoInputStreamOperator,
} from '../../src/operators/operator.js';
import { createKeyedStateBackend } from '../../src/state/index.js';
import type {
  KeyedSnapshotKind,
  KeyedStateBackend,
  KeyedStateBackendOptions,
  StateBackendKind,
} from '../../src/state/index.js';
import type { RestoredOperatorStates } from '../../src/state/operator-state-store.js';
import type { ExecutionConfiguration } from '../../src/config.js';
import { ManualProcessingTimeService } from '../../src/timers/processing-time-service.js';

/** A record an operator emitted. */
export interface EmittedRecord<T = unknown> {
  value: T;
  timestamp: number | undefined;
}

/** Everything an operator emitted, in order. */
export type HarnessEvent =
  | { kind: 'record'; value: unknown; timestamp: number | undefined }
  | { kind: 'side'; tagId: string; value: unknown; timestamp: number | undefined }
  | { kind: 'watermark'; watermark: number }
  | { kind: 'watermarkStatus'; idle: boolean };

export interface OperatorHarnessOptions<IN> {
  /** The keyed state backend; omit for a non-keyed operator. */
  backend?: StateBackendKind;
  /** The key selector of a keyed operator (required with `backend`; for two inputs, the first's). */
  keySelector?: KeySelector<IN, Key>;
  /** The key selector of a keyed two-input operator's second input. */
  keySelector2?: KeySelector<any, Key>;
  /** Operator name without the subtask; the context's name is `<name> (1/1)`. Default: 'Operator'. */
  name?: string;
  /** Start of the manual processing-time clock (also the TTL clock). Default 0. */
  processingTime?: number;
  /** Default 128, Flink's default. */
  maxParallelism?: number;
  /** For `level`: the write-back batch size and read cache size (the backend's defaults otherwise). */
  levelOptions?: Pick<KeyedStateBackendOptions, 'writeBatchSize' | 'readCacheSize'>;
  /**
   * Keyed state to restore before the operator opens: the blocks of a snapshot of another
   * harness's backend (one per key group, as `materialize()` returns them), and their kind.
   */
  restoreKeyed?: { kind: KeyedSnapshotKind; blocks: readonly Uint8Array[] };
  /** Timers to restore before the operator opens, by key group (from `operator.snapshotTimers()`). */
  restoreTimers?: Map<number, unknown[]>;
  /** Operator state to restore (from {@link OperatorHarness.snapshotOperatorState}); default none. */
  restoredState?: RestoredOperatorStates;
  /** The checkpoint `restoredState` comes from (the context's restoredCheckpointId). */
  restoredCheckpointId?: number;
  /** The subtask this harness runs as (default 0 of 1): names the context `<name> (i+1/p)`. */
  subtaskIndex?: number;
  parallelism?: number;
  /** The job's execution configuration (job parameters, ...). */
  config?: ExecutionConfiguration;
  /**
   * Receives failures the operator reports outside of a call (a timer, an async result); by
   * default they are thrown where they happen.
   */
  onFailure?: (error: unknown) => void;
}

/**
 * Runs one operator as a single subtask (1/1) of a task, for unit tests: a real keyed state
 * backend (level in a fresh temporary directory, removed at close), a manual processing-time
 * clock that also drives state TTL, and an output that records everything emitted.
 *
 * ```ts
 * const h = await OperatorHarness.open(createWindowOperator(spec), { backend: 'hashmap', keySelector: (v) => v.k });
 * h.processElement({ k: 'a' }, 10);
 * h.processWatermark(100);
 * expect(h.records).toEqual([...]);
 * await h.close();
 * ```
 */
export class OperatorHarness<IN, OUT> {
  /** Records emitted on the main output, in order. */
  readonly records: EmittedRecord<OUT>[] = [];
  /** Watermarks emitted, in order. */
  readonly watermarks: number[] = [];
  /** All emissions (records, side outputs, watermarks) in order. */
  readonly events: HarnessEvent[] = [];
  private readonly side = new Map<string, EmittedRecord[]>();
  private closed = false;

  private constructor(
    readonly operator: AbstractStreamOperator<OUT>,
    readonly context: OperatorContext,
    readonly clock: ManualProcessingTimeService,
    readonly backend: KeyedStateBackend | undefined,
    private readonly stateDir: string | undefined,
    private readonly flushes: { count: number },
  ) {}

  /** Times the operator asked the task to flush (after processing-time timers fired). */
  get flushRequests(): number {
    return this.flushes.count;
  }

  /** Sets up and opens `operator` (awaiting its backend and its `open`). */
  static async open<IN, OUT>(
    operator: AbstractStreamOperator<OUT>,
    options: OperatorHarnessOptions<IN> = {},
  ): Promise<OperatorHarness<IN, OUT>> {
    const subtaskIndex = options.subtaskIndex ?? 0;
    const parallelism = options.parallelism ?? 1;
    const name = `${options.name ?? 'Operator'} (${subtaskIndex + 1}/${parallelism})`;
    const maxParallelism = options.maxParallelism ?? 128;
    const clock = new ManualProcessingTimeService(options.processingTime ?? 0);
    let backend: KeyedStateBackend | undefined;
    let stateDir: string | undefined;
    if (options.backend !== undefined) {
      if (options.keySelector === undefined && options.keySelector2 === undefined)
        throw new Error('OperatorHarness: a keyed state backend needs a keySelector');
      if (options.backend === 'level') stateDir = await mkdtemp(join(tmpdir(), 'nimble-harness-'));
      backend = createKeyedStateBackend({
        kind: options.backend,
        operatorName: name,
        maxParallelism,
        keyGroupRange: KeyGroupRange.forOperatorIndex(maxParallelism, parallelism, subtaskIndex),
        localDir: stateDir,
        ttlTimeProvider: () => clock.now(),
        ...options.levelOptions,
      });
      try {
        await backend.open();
        const restore = options.restoreKeyed;
        if (restore !== undefined) {
          await backend.restore(
            restore.kind,
            restore.blocks.map((bytes, keyGroup) => ({ keyGroup, bytes })),
          );
        }
      } catch (e) {
        if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
        throw e;
      }
    }
    const flushes = { count: 0 };
    const context: OperatorContext = {
      name,
      operatorId: options.name ?? 'operator',
      subtaskIndex,
      parallelism,
      maxParallelism,
      attemptNumber: 0,
      restoredCheckpointId: options.restoredCheckpointId,
      keyedStateBackend: backend,
      processingTimeService: clock,
      requestFlush: () => void flushes.count++,
      // Errors of clock-fired callbacks surface in the test that moved the clock.
      failTask:
        options.onFailure ??
        ((e) => {
          throw e;
        }),
      // Mail runs at once: the harness has no turns, and tests drive it step by step.
      mailbox: { execute: (action) => action() },
      metrics: newOperatorMetrics(),
      config: options.config,
    };
    const harness = new OperatorHarness(operator, context, clock, backend, stateDir, flushes);
    if (operator instanceof StreamOperator) {
      operator.keySelector = options.keySelector as KeySelector<unknown, Key> | undefined;
    } else if (operator instanceof TwoInputStreamOperator) {
      operator.keySelector1 = options.keySelector as KeySelector<unknown, Key> | undefined;
      operator.keySelector2 = options.keySelector2;
    }
    operator.setup(context, harness.output);
    try {
      for (const [keyGroup, timers] of options.restoreTimers ?? [])
        operator.restoreTimers(keyGroup, timers);
      operator.initializeState(options.restoredState ?? new Map());
      await operator.open();
    } catch (e) {
      await harness.close().catch(() => {});
      throw e;
    }
    return harness;
  }

  /** The operator's metrics. */
  get metrics(): OperatorMetrics {
    return this.context.metrics;
  }

  /** Records emitted to the side output `tagId`, in order. */
  sideOutput<T = unknown>(tagId: string): EmittedRecord<T>[] {
    return (this.side.get(tagId) ?? []) as EmittedRecord<T>[];
  }

  /** Returns the main-output records emitted so far and forgets them. */
  takeRecords(): EmittedRecord<OUT>[] {
    return this.records.splice(0, this.records.length);
  }

  /** Sets the element's key as current (keyed operators), then processes it, as the task's chain does. */
  processElement(value: IN, timestamp?: number): void {
    const op = this.oneInput();
    op.setKeyContextElement(value);
    op.processElement(value, timestamp);
  }

  processWatermark(watermark: number): void {
    this.operator.processWatermark(watermark);
  }

  /** Two-input operators: an element of the first input, with its key set as the task does. */
  processElement1(value: unknown, timestamp?: number): void {
    const op = this.twoInput();
    op.setKeyContextElement1(value);
    op.processElement1(value, timestamp);
  }
  /** Two-input operators: an element of the second input. */
  processElement2(value: unknown, timestamp?: number): void {
    const op = this.twoInput();
    op.setKeyContextElement2(value);
    op.processElement2(value, timestamp);
  }
  processWatermark1(watermark: number): void {
    this.twoInput().processWatermark1(watermark);
  }
  processWatermark2(watermark: number): void {
    this.twoInput().processWatermark2(watermark);
  }
  processWatermarkStatus1(idle: boolean): void {
    this.twoInput().processWatermarkStatus1(idle);
  }
  processWatermarkStatus2(idle: boolean): void {
    this.twoInput().processWatermarkStatus2(idle);
  }

  private oneInput(): StreamOperator<IN, OUT> {
    if (!(this.operator instanceof StreamOperator))
      throw new Error('OperatorHarness: processElement needs a one-input operator');
    return this.operator as StreamOperator<IN, OUT>;
  }
  private twoInput(): TwoInputStreamOperator<unknown, unknown, OUT> {
    if (!(this.operator instanceof TwoInputStreamOperator))
      throw new Error('OperatorHarness: processElement1/2 need a two-input operator');
    return this.operator as TwoInputStreamOperator<unknown, unknown, OUT>;
  }

  /**
   * Waits until the operator takes input again (`availability()` is undefined): what it held back
   * (e.g. a pending applyToKeyedState on `level`) is done.
   */
  async whenAvailable(): Promise<void> {
    for (let a = this.operator.availability(); a !== undefined; a = this.operator.availability())
      await a;
  }

  /**
   * The operator's operator state as checkpoint `checkpointId` would store it: serialized and
   * read back, ready to pass as `restoredState` to a new harness.
   */
  async snapshotOperatorState(checkpointId = 1, timestamp = 0): Promise<RestoredOperatorStates> {
    const states = await this.operator.snapshotOperatorState({ checkpointId, timestamp });
    return structuredClone(states);
  }

  /** Moves the manual clock to `time`, firing due processing-time timers. */
  setProcessingTime(time: number): void {
    this.clock.advanceTo(time);
  }

  /** End of input. */
  async finish(): Promise<void> {
    await this.operator.finish();
  }

  /** Closes the operator and the backend and removes the level directory; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.operator.close();
    } finally {
      try {
        await this.backend?.close();
      } finally {
        if (this.stateDir !== undefined) await rm(this.stateDir, { recursive: true, force: true });
      }
    }
  }

  private readonly output: Output<OUT> = {
    collect: (value, timestamp) => {
      this.records.push({ value, timestamp });
      this.events.push({ kind: 'record', value, timestamp });
    },
    collectSide: (tagId, value, timestamp) => {
      let list = this.side.get(tagId);
      if (list === undefined) this.side.set(tagId, (list = []));
      list.push({ value, timestamp });
      this.events.push({ kind: 'side', tagId, value, timestamp });
    },
    emitWatermark: (watermark) => {
      this.watermarks.push(watermark);
      this.events.push({ kind: 'watermark', watermark });
    },
    emitWatermarkStatus: (idle) => {
      this.events.push({ kind: 'watermarkStatus', idle });
    },
  };
}

import type {
  CheckpointedFunction,
  FunctionInitializationContext,
  FunctionSnapshotContext,
  Key,
  KeyedStateStore,
  KeySelector,
  OutputTag,
  RuntimeContext,
} from '@nimble/api';
import { encodeJobParameters, ExecutionConfig, MIN_TIMESTAMP, RichFunction } from '@nimble/api';
import type { ExecutionConfiguration } from '../config.js';
import {
  JobDefinitionError,
  PromiseReturnedError,
  throwIfPromise,
  userCodeFailure,
} from '../errors.js';
import { assignToKeyGroup, checkKey } from '../keys/index.js';
import type { KeyedStateBackend } from '../state/index.js';
import type {
  OperatorStateSnapshot,
  RestoredOperatorStates,
} from '../state/operator-state-store.js';
import { DefaultOperatorStateStore } from '../state/operator-state-store.js';
import type { Triggerable } from '../timers/internal-timer-service.js';
import { InternalTimerService } from '../timers/internal-timer-service.js';
import type { ProcessingTimeService } from '../timers/processing-time-service.js';

/**
 * Where an operator emits. Records travel as (value, timestamp) pairs, never wrapped, so a chain
 * of operators allocates nothing per record. `timestamp` is undefined for records without one.
 */
export interface Output<T> {
  collect(value: T, timestamp: number | undefined): void;
  /** Emits to the side output with tag id `tagId`; dropped when no one consumes it. */
  collectSide(tagId: string, value: unknown, timestamp: number | undefined): void;
  emitWatermark(watermark: number): void;
  /** Idle (true) or active again (false): idle inputs do not hold back the watermark downstream. */
  emitWatermarkStatus(idle: boolean): void;
}

/** Counters an operator updates; the daemons export them as metrics. */
export interface OperatorMetrics {
  numRecordsIn: number;
  numRecordsOut: number;
  numLateRecordsDropped: number;
  currentInputWatermark: number;
  currentOutputWatermark: number;
  /** Sources: event time of the last record emitted (FLIP-33's emit lag is now minus this). */
  lastEmittedEventTime: number;
  /** Gauges a connector registered, by `name` + labels (sampled at each metrics report). */
  readonly gauges: Map<string, ConnectorGauge>;
}

/** A gauge a connector registered (e.g. a Kafka partition's current offset). */
export interface ConnectorGauge {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: () => number;
}

/** Everything an operator gets from the task that runs it. */
export interface OperatorContext {
  /** Operator name with the subtask, e.g. `Map (2/4)`: used in every error message. */
  readonly name: string;
  /** Stable operator id (the uid). */
  readonly operatorId: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly attemptNumber: number;
  /** The checkpoint or savepoint the task restored from, if any. */
  readonly restoredCheckpointId: number | undefined;
  /** Set for keyed operators (the input is a keyed stream). */
  readonly keyedStateBackend: KeyedStateBackend | undefined;
  readonly processingTimeService: ProcessingTimeService;
  /** Called after the operator emitted outside of record processing (a processing-time timer fired). */
  readonly requestFlush: () => void;
  /** Fails the task with an error raised outside record processing (in a timer callback). */
  readonly failTask: (error: unknown) => void;
  /** Runs actions on the task's turn, between batches of input (Flink's mailbox executor). */
  readonly mailbox: Mailbox;
  readonly metrics: OperatorMetrics;
  /**
   * The name of the task (its chained operators' names, `Map -> Filter`), for
   * `RuntimeContext.getTaskName()`; `name` is used when absent (unit tests).
   */
  readonly taskName?: string;
  /** The job's execution configuration (job parameters, ...); the defaults when absent. */
  readonly config?: ExecutionConfiguration;
}

/**
 * Hands work that starts outside the task's turn (a completed promise of an async function) back
 * to the task: the action runs between batches of input, never in the middle of one and never
 * between a checkpoint's snapshot and its barrier, so it may emit records and change state like
 * record processing does.
 */
export interface Mailbox {
  execute(action: () => void): void;
}

/** Creates fresh metric counters. */
export function newOperatorMetrics(): OperatorMetrics {
  return {
    numRecordsIn: 0,
    numRecordsOut: 0,
    numLateRecordsDropped: 0,
    currentInputWatermark: MIN_TIMESTAMP,
    currentOutputWatermark: MIN_TIMESTAMP,
    lastEmittedEventTime: MIN_TIMESTAMP,
    gauges: new Map(),
  };
}

/** What {@link AbstractStreamOperator.snapshotState} gets: the checkpoint being taken. */
export interface StateSnapshotContext {
  readonly checkpointId: number;
  /** When the checkpoint was triggered (epoch ms). */
  readonly timestamp: number;
}

/**
 * What every operator has, whatever its inputs (Flink's `AbstractStreamOperator`): the context,
 * the output, timers, operator state, and the lifecycle
 * setup -> initializeState -> open -> (input) -> finish (end of input) -> close.
 */
export abstract class AbstractStreamOperator<OUT> {
  /**
   * Backpressure from the operator itself (a sink whose buffers are full, an async operator at
   * capacity): undefined while it takes input, otherwise a promise that resolves when it does again.
   */
  availability(): Promise<void> | undefined {
    return undefined;
  }
  protected output!: Output<OUT>;
  protected ctx!: OperatorContext;
  /** The combined watermark of this operator's input(s). */
  protected currentWatermark = MIN_TIMESTAMP;
  private timerService: InternalTimerService | undefined;
  /** Timers restored before open() created the timer service. */
  private restoredTimers: { keyGroup: number; timers: readonly unknown[] }[] = [];
  private operatorStateStore: DefaultOperatorStateStore | undefined;
  private restoredState = false;
  /** The user's function objects this operator calls (see {@link setUserFunctions}). */
  private userFunctions: readonly unknown[] = [];
  /** Those of them that implement CheckpointedFunction, known from initializeState() on. */
  private checkpointedFunctions: readonly CheckpointedFunction[] = [];

  setup(ctx: OperatorContext, output: Output<OUT>): void {
    this.ctx = ctx;
    this.output = output;
  }

  /**
   * Gives the operator its restored operator state (empty on a fresh start); called once after
   * setup and before open(). Operators that hold operator state of their own read it here or in
   * open() through {@link getOperatorStateStore}.
   */
  initializeState(restored: RestoredOperatorStates): void {
    this.restoredState = restored.size > 0;
    this.operatorStateStore = new DefaultOperatorStateStore(this.ctx.name, restored);
    if (this.userFunctions.length > 0) this.initializeFunctionState(this.operatorStateStore);
  }

  /**
   * Declares the user's function objects this operator calls, as Flink's
   * `AbstractUdfStreamOperator` holds its user function: in initializeState() a rich function
   * gets its runtime context and a `CheckpointedFunction` its `initializeState`, before open();
   * every checkpoint calls its `snapshotState` after the operator's own {@link snapshotState}.
   * Called from the constructor; plain closures are ignored.
   */
  protected setUserFunctions(...functions: unknown[]): void {
    this.userFunctions = functions.filter(
      (f, i) =>
        (typeof f === 'object' || typeof f === 'function') &&
        f !== null &&
        functions.indexOf(f) === i,
    );
  }

  /** Called once before the first element. */
  open(): void | Promise<void> {}

  /** A new combined input watermark: fire event-time timers, then forward it. */
  processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
    this.timerService?.advanceWatermark(watermark);
    this.ctx.metrics.currentOutputWatermark = watermark;
    this.output.emitWatermark(watermark);
  }

  /** The (combined) input became idle or active. */
  processWatermarkStatus(idle: boolean): void {
    this.output.emitWatermarkStatus(idle);
  }

  /** End of input: emit what is pending (Flink's `finish`). */
  finish(): void | Promise<void> {}

  /** Releases resources; also called after a failure. Overrides call {@link disposeTimers}. */
  close(): void | Promise<void> {
    this.disposeTimers();
  }

  // ---- checkpoints ----

  /**
   * Called in the synchronous phase of checkpoint `ctx.checkpointId`, before the operator state
   * is captured: operators (and through them user functions) write what they hold into their
   * operator state here. Input waits while a returned promise runs (a sink's pre-commit).
   */
  snapshotState(_ctx: StateSnapshotContext): void | Promise<void> {}

  /**
   * Operator state for a checkpoint: {@link snapshotState}, the user functions' `snapshotState`
   * (Flink's StreamingFunctionUtils.snapshotFunctionState), then a copy of every state.
   */
  async snapshotOperatorState(ctx: StateSnapshotContext): Promise<OperatorStateSnapshot> {
    await this.snapshotState(ctx);
    if (this.checkpointedFunctions.length > 0) this.snapshotFunctionState(ctx);
    return this.operatorStateStore?.snapshot() ?? new Map();
  }
  /** Checkpoint `checkpointId` completed everywhere (two-phase-commit sinks commit here). */
  notifyCheckpointComplete(_checkpointId: number): void | Promise<void> {}
  /** The operator's timers by key group, for a checkpoint. */
  snapshotTimers(): Map<number, unknown[]> | undefined {
    return this.timerService?.snapshotTimers();
  }
  /** Event-time timers registered and not yet fired (Flink's `numEventTimeTimers`, for tests). */
  numEventTimeTimers(): number {
    return this.timerService?.numEventTimeTimers() ?? 0;
  }
  /** Processing-time timers registered and not yet fired (Flink's `numProcessingTimeTimers`). */
  numProcessingTimeTimers(): number {
    return this.timerService?.numProcessingTimeTimers() ?? 0;
  }
  /** Restores the timers of one key group; called before open(). */
  restoreTimers(keyGroup: number, timers: readonly unknown[]): void {
    if (this.timerService) this.timerService.restoreTimers(keyGroup, timers);
    else this.restoredTimers.push({ keyGroup, timers });
  }

  /** The operator's operator state (available from initializeState on). */
  protected getOperatorStateStore(): DefaultOperatorStateStore {
    if (this.operatorStateStore === undefined) {
      throw new Error(`internal: ${this.ctx.name}: operator state before initializeState()`);
    }
    return this.operatorStateStore;
  }

  /**
   * Gives the user functions their runtime context and calls `initializeState` of those that are
   * CheckpointedFunctions (Flink's StreamingFunctionUtils.restoreFunctionState).
   */
  private initializeFunctionState(store: DefaultOperatorStateStore): void {
    const name = this.ctx.name;
    let runtimeContext: RuntimeContext | undefined;
    const context: FunctionInitializationContext = {
      isRestored: () => this.ctx.restoredCheckpointId !== undefined,
      getRestoredCheckpointId: () => this.ctx.restoredCheckpointId,
      getOperatorStateStore: () => store,
      getKeyedStateStore: () => {
        this.keyedBackend('Keyed state (getKeyedStateStore())');
        const rc = (runtimeContext ??= createRuntimeContext(this.ctx, name));
        const keyed: KeyedStateStore = {
          getState: rc.getState,
          getListState: rc.getListState,
          getMapState: rc.getMapState,
          getReducingState: rc.getReducingState,
          getAggregatingState: rc.getAggregatingState,
        };
        return keyed;
      },
    };
    const checkpointed: CheckpointedFunction[] = [];
    for (const fn of this.userFunctions) {
      // As Flink, where setup() gives it: getRuntimeContext() works in initializeState().
      if (fn instanceof RichFunction)
        fn.setRuntimeContext((runtimeContext ??= createRuntimeContext(this.ctx, name)));
      const f = fn as Partial<CheckpointedFunction>;
      const hasSnapshot = typeof f.snapshotState === 'function';
      const hasInitialize = typeof f.initializeState === 'function';
      if (!hasSnapshot && !hasInitialize) continue;
      if (hasSnapshot !== hasInitialize) {
        throw new JobDefinitionError(
          `${name}: the user function ${describeFunction(fn)} has ${hasSnapshot ? 'snapshotState' : 'initializeState'} ` +
            `but not ${hasSnapshot ? 'initializeState' : 'snapshotState'}; a CheckpointedFunction needs both`,
        );
      }
      try {
        throwIfPromise(f.initializeState!(context), 'initializeState()');
      } catch (e) {
        throw userCodeFailure(
          e instanceof PromiseReturnedError ? name : `${name}: initializeState()`,
          e,
        );
      }
      checkpointed.push(fn as CheckpointedFunction);
    }
    this.checkpointedFunctions = checkpointed;
  }

  /** Calls `snapshotState` of the CheckpointedFunctions, in the checkpoint's synchronous phase. */
  private snapshotFunctionState(ctx: StateSnapshotContext): void {
    const context: FunctionSnapshotContext = {
      getCheckpointId: () => ctx.checkpointId,
      getCheckpointTimestamp: () => ctx.timestamp,
    };
    const name = this.ctx.name;
    for (const fn of this.checkpointedFunctions) {
      try {
        throwIfPromise(fn.snapshotState(context), 'snapshotState()');
      } catch (e) {
        throw userCodeFailure(
          e instanceof PromiseReturnedError
            ? name
            : `${name}: snapshotState() for checkpoint ${ctx.checkpointId}`,
          e,
        );
      }
    }
  }

  /** Whether initializeState() got state of this operator from a checkpoint or savepoint. */
  protected isRestored(): boolean {
    return this.restoredState;
  }

  /** Stops the timer service's clock callbacks. */
  protected disposeTimers(): void {
    this.timerService?.close();
  }

  /** Sets `key` as current in the state backend, checking it; names `what` (the key selector) in errors. */
  protected setCurrentKeyOf(
    selector: KeySelector<unknown, Key>,
    value: unknown,
    keyGroup: number,
  ): void {
    const backend = this.ctx.keyedStateBackend;
    if (backend === undefined) return;
    let key: Key;
    try {
      key = selector(value);
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: key selector`, e);
    }
    if (typeof key !== 'string') key = checkKey(key, `${this.ctx.name}`);
    backend.setCurrentKey(
      key,
      keyGroup >= 0 ? keyGroup : assignToKeyGroup(key, this.ctx.maxParallelism),
    );
  }

  /** The keyed state backend; throws a clear error on a non-keyed stream. */
  protected keyedBackend(what: string): KeyedStateBackend {
    const backend = this.ctx.keyedStateBackend;
    if (backend === undefined) {
      throw new Error(
        `${this.ctx.name}: ${what} is only available on a keyed stream; call keyBy() first`,
      );
    }
    return backend;
  }

  /** The operator's timer service (created on first use; needs a keyed stream). */
  protected getInternalTimerService(triggerable: Triggerable): InternalTimerService {
    if (this.timerService === undefined) {
      const backend = this.keyedBackend('Timers');
      this.timerService = new InternalTimerService(
        backend,
        triggerable,
        this.ctx.processingTimeService,
        this.ctx.requestFlush,
        this.ctx.failTask,
      );
      for (const r of this.restoredTimers.splice(0))
        this.timerService.restoreTimers(r.keyGroup, r.timers);
    }
    return this.timerService;
  }
}

/**
 * An operator of one input (Flink's `OneInputStreamOperator`). It is its own input: the task or
 * the chain calls setKeyContextElement, then processElement, for each record.
 */
export abstract class StreamOperator<IN, OUT>
  extends AbstractStreamOperator<OUT>
  implements OperatorInput<IN>
{
  /** Set by keyed operators; the chain sets the key context from it before each element. */
  keySelector: KeySelector<IN, Key> | undefined;

  /** Processes one element; the key context is set for keyed operators. */
  abstract processElement(value: IN, timestamp: number | undefined): void;

  /**
   * Sets the key of `value` as current in the state backend (keyed operators). `keyGroup` is the
   * key group the producer computed when it partitioned the record by key (-1 when unknown).
   */
  setKeyContextElement(value: IN, keyGroup = -1): void {
    const selector = this.keySelector;
    if (selector !== undefined)
      this.setCurrentKeyOf(selector as KeySelector<unknown, Key>, value, keyGroup);
  }
}

/** One logical input of an operator, as the task's network input feeds it. */
export interface OperatorInput<IN> {
  setKeyContextElement(value: IN, keyGroup: number): void;
  processElement(value: IN, timestamp: number | undefined): void;
  processWatermark(watermark: number): void;
  processWatermarkStatus(idle: boolean): void;
}

/**
 * An operator of two inputs (Flink's `TwoInputStreamOperator`): connected streams, broadcast
 * connections, joins. Its watermark is the minimum of both inputs' watermarks, an idle input
 * excluded (Flink's `CombinedWatermarkStatus`); it is idle when both inputs are. It always heads
 * its chain.
 */
export abstract class TwoInputStreamOperator<IN1, IN2, OUT> extends AbstractStreamOperator<OUT> {
  /** Key selectors of a keyed operator's inputs (undefined: that input is not keyed). */
  keySelector1: KeySelector<IN1, Key> | undefined;
  keySelector2: KeySelector<IN2, Key> | undefined;
  private readonly inputWatermarks = [MIN_TIMESTAMP, MIN_TIMESTAMP];
  private readonly inputIdle = [false, false];
  private combinedIdle = false;

  abstract processElement1(value: IN1, timestamp: number | undefined): void;
  abstract processElement2(value: IN2, timestamp: number | undefined): void;

  setKeyContextElement1(value: IN1, keyGroup = -1): void {
    const selector = this.keySelector1;
    if (selector !== undefined)
      this.setCurrentKeyOf(selector as KeySelector<unknown, Key>, value, keyGroup);
  }
  setKeyContextElement2(value: IN2, keyGroup = -1): void {
    const selector = this.keySelector2;
    if (selector !== undefined)
      this.setCurrentKeyOf(selector as KeySelector<unknown, Key>, value, keyGroup);
  }

  processWatermark1(watermark: number): void {
    this.inputWatermark(0, watermark);
  }
  processWatermark2(watermark: number): void {
    this.inputWatermark(1, watermark);
  }
  processWatermarkStatus1(idle: boolean): void {
    this.inputStatus(0, idle);
  }
  processWatermarkStatus2(idle: boolean): void {
    this.inputStatus(1, idle);
  }

  /** The operator's inputs as the task feeds them: input 0 is the first (`this`) stream. */
  readonly inputs: readonly [OperatorInput<IN1>, OperatorInput<IN2>] = [
    {
      setKeyContextElement: (v, kg) => this.setKeyContextElement1(v, kg),
      processElement: (v, ts) => this.processElement1(v, ts),
      processWatermark: (wm) => this.processWatermark1(wm),
      processWatermarkStatus: (idle) => this.processWatermarkStatus1(idle),
    },
    {
      setKeyContextElement: (v, kg) => this.setKeyContextElement2(v, kg),
      processElement: (v, ts) => this.processElement2(v, ts),
      processWatermark: (wm) => this.processWatermark2(wm),
      processWatermarkStatus: (idle) => this.processWatermarkStatus2(idle),
    },
  ];

  private inputWatermark(input: number, watermark: number): void {
    // A watermark makes an idle input active again, as Flink's PartialWatermark.setWatermark.
    this.inputIdle[input] = false;
    if (watermark > this.inputWatermarks[input]!) this.inputWatermarks[input] = watermark;
    this.updateCombined();
  }

  private inputStatus(input: number, idle: boolean): void {
    this.inputIdle[input] = idle;
    this.updateCombined();
  }

  private updateCombined(): void {
    const wasIdle = this.combinedIdle;
    const idle0 = this.inputIdle[0]!;
    const idle1 = this.inputIdle[1]!;
    this.combinedIdle = idle0 && idle1;
    if (!this.combinedIdle) {
      const min = idle0
        ? this.inputWatermarks[1]!
        : idle1
          ? this.inputWatermarks[0]!
          : Math.min(this.inputWatermarks[0]!, this.inputWatermarks[1]!);
      if (min > this.currentWatermark) this.processWatermark(min);
    }
    if (wasIdle !== this.combinedIdle) this.processWatermarkStatus(this.combinedIdle);
  }
}

/** Emits to a side output tag. */
export function sideOutputId(tag: OutputTag<unknown>): string {
  return tag.id;
}

/** A user function in an error message: its class, or what it is. */
function describeFunction(fn: unknown): string {
  const name = (fn as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' && name !== 'Function' ? name : typeof fn;
}

/** Function state lives in the default namespace, whatever a handle of the same name was last scoped to. */
function defaultNamespace<S extends { setCurrentNamespace(ns: string): void }>(state: S): S {
  state.setCurrentNamespace('');
  return state;
}

const NO_JOB_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The {@link RuntimeContext} given to user functions of an operator. `taskName` names the task
 * when the context does not (`ctx.taskName`).
 */
export function createRuntimeContext(ctx: OperatorContext, taskName: string): RuntimeContext {
  const task = ctx.taskName ?? taskName;
  const withSubtasks =
    ctx.taskName === undefined
      ? `${ctx.name}#${ctx.attemptNumber}`
      : `${ctx.taskName} (${ctx.subtaskIndex + 1}/${ctx.parallelism})#${ctx.attemptNumber}`;
  const jobParameters = ctx.config?.globalJobParameters ?? NO_JOB_PARAMETERS;
  let executionConfig: ExecutionConfig | undefined;
  const keyed = (kind: string) => {
    const backend = ctx.keyedStateBackend;
    if (backend === undefined) {
      throw new Error(
        `${ctx.name}: ${kind} is keyed state and needs a keyed stream: call keyBy() before this operator`,
      );
    }
    return backend;
  };
  return {
    getTaskName: () => task,
    getTaskNameWithSubtasks: () => withSubtasks,
    getGlobalJobParameters: () => jobParameters,
    // A copy of what the task was given: setting anything on it changes nothing, as in Flink.
    getExecutionConfig: () =>
      (executionConfig ??= new ExecutionConfig({
        'pipeline.auto-watermark-interval': ctx.config?.autoWatermarkInterval ?? 200,
        'pipeline.global-job-parameters': encodeJobParameters(jobParameters),
      })),
    getIndexOfThisSubtask: () => ctx.subtaskIndex,
    getNumberOfParallelSubtasks: () => ctx.parallelism,
    getMaxNumberOfParallelSubtasks: () => ctx.maxParallelism,
    getAttemptNumber: () => ctx.attemptNumber,
    getState: (d) => defaultNamespace(keyed('ValueState').getState(d)),
    getListState: (d) => defaultNamespace(keyed('ListState').getState(d)),
    getMapState: (d) => defaultNamespace(keyed('MapState').getState(d)),
    getReducingState: (d) => defaultNamespace(keyed('ReducingState').getState(d)),
    getAggregatingState: (d) => defaultNamespace(keyed('AggregatingState').getState(d)),
  };
}

import type { Key, KeySelector, OutputTag, RuntimeContext } from '@nimble/api';
import { MIN_TIMESTAMP } from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import { assignToKeyGroup, checkKey } from '../keys/index.js';
import type { KeyedStateBackend } from '../state/index.js';
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
  readonly metrics: OperatorMetrics;
}

/** Creates fresh metric counters. */
export function newOperatorMetrics(): OperatorMetrics {
  return {
    numRecordsIn: 0,
    numRecordsOut: 0,
    numLateRecordsDropped: 0,
    currentInputWatermark: MIN_TIMESTAMP,
    currentOutputWatermark: MIN_TIMESTAMP,
    gauges: new Map(),
  };
}

/**
 * An operator of one input (Flink's `OneInputStreamOperator` + `AbstractStreamOperator`).
 * Lifecycle: setup -> open -> processElement/processWatermark... -> finish (end of input) -> close.
 */
export abstract class StreamOperator<IN, OUT> {
  /**
   * Backpressure from the operator itself (a sink whose buffers are full): undefined while it
   * takes input, otherwise a promise that resolves when it does again.
   */
  availability(): Promise<void> | undefined {
    return undefined;
  }
  protected output!: Output<OUT>;
  protected ctx!: OperatorContext;
  /** The combined watermark of this operator's input. */
  protected currentWatermark = MIN_TIMESTAMP;
  /** Set by keyed operators; the chain sets the key context from it before each element. */
  keySelector: KeySelector<IN, Key> | undefined;
  private timerService: InternalTimerService | undefined;
  /** Timers restored before open() created the timer service. */
  private restoredTimers: { keyGroup: number; timers: readonly unknown[] }[] = [];

  setup(ctx: OperatorContext, output: Output<OUT>): void {
    this.ctx = ctx;
    this.output = output;
  }

  /** Called once before the first element. */
  open(): void | Promise<void> {}

  /** Processes one element; the key context is set for keyed operators. */
  abstract processElement(value: IN, timestamp: number | undefined): void;

  /** A new combined input watermark: fire event-time timers, then forward it. */
  processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
    this.timerService?.advanceWatermark(watermark);
    this.ctx.metrics.currentOutputWatermark = watermark;
    this.output.emitWatermark(watermark);
  }

  /** The input became idle or active. */
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
   * Operator (non-keyed) list states for checkpoint `checkpointId`, by name: e.g. a sink's
   * committables. Part of the synchronous phase: input waits while a returned promise runs.
   */
  snapshotOperatorState(
    _checkpointId: number,
  ): Record<string, unknown[]> | undefined | Promise<Record<string, unknown[]> | undefined> {
    return undefined;
  }
  /** Restored operator list states (redistributed on rescale); called before open(). */
  initializeOperatorState(_state: ReadonlyMap<string, unknown[]>): void {}
  /** Checkpoint `checkpointId` completed everywhere (two-phase-commit sinks commit here). */
  notifyCheckpointComplete(_checkpointId: number): void | Promise<void> {}
  /** The operator's timers by key group, for a checkpoint. */
  snapshotTimers(): Map<number, unknown[]> | undefined {
    return this.timerService?.snapshotTimers();
  }
  /** Restores the timers of one key group; called before open(). */
  restoreTimers(keyGroup: number, timers: readonly unknown[]): void {
    if (this.timerService) this.timerService.restoreTimers(keyGroup, timers);
    else this.restoredTimers.push({ keyGroup, timers });
  }

  /** Stops the timer service's clock callbacks. */
  protected disposeTimers(): void {
    this.timerService?.close();
  }

  /**
   * Sets the key of `value` as current in the state backend (keyed operators). `keyGroup` is the
   * key group the producer computed when it partitioned the record by key (-1 when unknown).
   */
  setKeyContextElement(value: IN, keyGroup = -1): void {
    const selector = this.keySelector;
    const backend = this.ctx.keyedStateBackend;
    if (selector === undefined || backend === undefined) return;
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

/** Emits to a side output tag. */
export function sideOutputId(tag: OutputTag<unknown>): string {
  return tag.id;
}

/** Function state lives in the default namespace, whatever a handle of the same name was last scoped to. */
function defaultNamespace<S extends { setCurrentNamespace(ns: string): void }>(state: S): S {
  state.setCurrentNamespace('');
  return state;
}

/** The {@link RuntimeContext} given to user functions of an operator. */
export function createRuntimeContext(ctx: OperatorContext, taskName: string): RuntimeContext {
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
    getTaskName: () => taskName,
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

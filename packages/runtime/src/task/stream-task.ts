import type { Key, SourceSplit } from '@nimble/api';
import { InputStatus, SourceTransformation } from '@nimble/api';
import { ensureError, IllegalStateError } from '../errors.js';
import type { ExecutionConfiguration } from '../config.js';
import type { CheckpointOptions } from '../exchange/buffer-codec.js';
import type { Mailbox, OperatorMetrics } from '../operators/operator.js';
import type { KeyedStateBackend } from '../state/keyed-state-backend.js';
import {
  QueryableStateUnavailableError,
  UnknownQueryableStateError,
} from '../state/queryable-state.js';
import type { QueriedValue } from '../state/queryable-state.js';
import { HoldableProcessingTimeService } from '../timers/holdable-processing-time-service.js';
import { NetworkInput } from './network-input.js';
import { OperatorChain } from './operator-chain.js';
import { SourceInput } from './source-input.js';
import { SubtaskCheckpointer } from './subtask-checkpointer.js';
import type { TaskContext, TaskDeployment, TaskInput, TaskServices } from './task-context.js';

export { TASK_NOT_RUNNING } from './subtask-checkpointer.js';
export type { TaskDeployment, TaskServices } from './task-context.js';

/** A task's lifecycle; transitions are only those listed. */
export type TaskState = 'CREATED' | 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED';
const TRANSITIONS: Record<TaskState, readonly TaskState[]> = {
  CREATED: ['RUNNING', 'CANCELED', 'FAILED'],
  RUNNING: ['FINISHED', 'CANCELED', 'FAILED'],
  FINISHED: [],
  CANCELED: [],
  FAILED: [],
};

/** Per-task figures for metrics. */
export interface TaskMetrics {
  readonly operators: ReadonlyMap<number, OperatorMetrics>;
  /** Keyed state backends by node id, read when metrics are sampled. */
  readonly backends: ReadonlyMap<number, KeyedStateBackend>;
  /** Total time the task waited for output credit (backpressure), ms. */
  readonly backPressuredTimeMs: number;
  /** Total time the task waited for input (its input had nothing), ms. */
  readonly idleTimeMs: number;
  /** Bytes of the network buffers the task took in and produced. */
  readonly numBytesIn: number;
  readonly numBytesOut: number;
  /** Nanoseconds of the last barrier alignment (or the one in progress); 0 for sources. */
  readonly checkpointAlignmentTimeNanos: number;
  /** Nanoseconds from the latest checkpoint's trigger to its start at this task. */
  readonly checkpointStartDelayNanos: number;
}

/**
 * How a source's barriers travel, from the job's configuration: unaligned
 * (`execution.checkpointing.unaligned.enabled`), or aligned and switching to unaligned after
 * `execution.checkpointing.aligned-checkpoint-timeout` (0: unaligned at once). Savepoints are
 * always aligned, as in Flink, and so is a checkpoint triggered aligned (a rescale's).
 */
export function barrierAlignment(
  options: CheckpointOptions,
  config: ExecutionConfiguration,
): CheckpointOptions {
  if (!config.unalignedCheckpoints || options.savepoint || options.aligned) return options;
  const timeout = config.alignedCheckpointTimeout;
  return timeout > 0
    ? { ...options, alignedCheckpointTimeoutMs: timeout }
    : { ...options, unaligned: true };
}

/** Keys a lookup of queryable state reads per turn of the task. */
const LOOKUP_SLICE_KEYS = 256;

/** Interval of state backend maintenance (TTL cleanup, background flushes). */
const MAINTENANCE_MS = 100;

/**
 * One parallel subtask of a vertex (Flink's `StreamTask`): a state machine that owns its input
 * (a source, or the network channels of one or two inputs), its operator chain and its
 * checkpointer, and schedules its turns on the event loop of the thread that hosts its slot.
 * Each turn runs the mail that arrived (async results), then processes a few buffers or polls,
 * unless something holds the input back: the synchronous phase of a checkpoint, an output
 * without credit, a state backend writing back, or an operator at capacity.
 */
export class StreamTask {
  readonly name: string;
  readonly vertexId: number;
  readonly subtaskIndex: number;
  private state: TaskState = 'CREATED';
  private readonly chain: OperatorChain;
  private readonly input: TaskInput;
  private readonly source: SourceInput | undefined;
  private readonly network: NetworkInput | undefined;
  private readonly checkpointer: SubtaskCheckpointer;
  private readonly timeService: HoldableProcessingTimeService;
  private readonly mail: (() => void)[] = [];
  private scheduled = false;
  private inputEnded = false;
  private inputClosed = false;
  private maintenance: ReturnType<typeof setInterval> | undefined;
  /** Time spent waiting for input, ms, and the start of the wait in progress. */
  private idleMs = 0;
  private idleSince: number | undefined;
  /** Sources: ms from the latest checkpoint's trigger to its start here. */
  private sourceStartDelayMs = 0;
  /** Lookups of queryable state waiting in the mail: answered as retryable if the task stops. */
  private readonly pendingLookups = new Set<(e: Error) => void>();
  private done!: { resolve: () => void; reject: (e: Error) => void };
  private readonly finished: Promise<void>;
  private readonly graph: TaskDeployment['graph'];
  private readonly sourceConfig: ExecutionConfiguration;

  constructor(deployment: TaskDeployment, services: TaskServices) {
    this.graph = deployment.graph;
    this.sourceConfig = services.config;
    const { vertex, subtaskIndex } = deployment;
    this.name = `${vertex.name} (${subtaskIndex + 1}/${vertex.parallelism})`;
    this.vertexId = vertex.id;
    this.subtaskIndex = subtaskIndex;
    this.timeService = new HoldableProcessingTimeService(services.processingTimeService);
    this.finished = new Promise((resolve, reject) => {
      this.done = { resolve, reject };
    });
    // Failures are reported through run(); keep an unobserved rejection from crashing the process.
    this.finished.catch(() => {});
    const mailbox: Mailbox = {
      execute: (action) => {
        this.mail.push(action);
        this.requestTurn();
      },
    };
    const ctx: TaskContext = {
      name: this.name,
      vertex,
      subtaskIndex,
      attemptNumber: deployment.attemptNumber,
      restoredCheckpointId: deployment.restore?.metadata.checkpointId,
      services,
      mailbox,
      fail: (e) => this.fail(e),
      requestTurn: () => this.requestTurn(),
      isProcessing: () => this.state === 'RUNNING' && !this.inputEnded,
    };
    this.chain = new OperatorChain(ctx, deployment.outputs);
    const head = this.chain.headNode;
    if (head.transformation instanceof SourceTransformation) {
      this.source = new SourceInput(
        ctx,
        head.transformation,
        this.chain.headOutput,
        this.chain.headMetrics,
      );
    }
    this.checkpointer = new SubtaskCheckpointer(
      ctx,
      this.chain,
      this.timeService,
      deployment.restore,
      this.source,
    );
    if (this.source) {
      this.input = this.source;
    } else {
      this.network = new NetworkInput(
        ctx,
        deployment.inputs,
        this.chain.headInputs(),
        this.chain.headMetrics,
        this.checkpointer,
      );
      this.input = this.network;
    }
  }

  getState(): TaskState {
    return this.state;
  }

  metrics(): TaskMetrics {
    const idleSince = this.idleSince;
    const network = this.network;
    let numBytesOut = 0;
    for (const w of this.chain.writers.values()) numBytesOut += w.numBytesOut;
    return {
      operators: this.chain.metrics,
      backends: this.chain.backends,
      backPressuredTimeMs: this.chain.backPressuredTimeMs(),
      idleTimeMs: this.idleMs + (idleSince === undefined ? 0 : performance.now() - idleSince),
      numBytesIn: network?.numBytesIn ?? 0,
      numBytesOut,
      checkpointAlignmentTimeNanos: network?.alignmentTimeNanos() ?? 0,
      checkpointStartDelayNanos: network?.startDelayNanos() ?? this.sourceStartDelayMs * 1e6,
    };
  }

  /** Opens the chain and processes until the input ends (resolves) or the task fails (rejects). */
  async run(): Promise<void> {
    try {
      if (this.source) {
        this.source.open();
        this.source.restoreSplits(this.checkpointer.restoredSplits(this.chain.headNode));
      }
      await this.chain.open(this.checkpointer.restoreOperator, this.timeService);
      const network = this.network;
      await this.checkpointer.restoreChannelState(
        this.graph,
        network && ((state) => network.restoreInputState(state)),
      );
      this.transition('RUNNING');
      this.maintenance = setInterval(() => this.maintain(), MAINTENANCE_MS);
      this.input.start();
      this.requestTurn();
    } catch (e) {
      this.fail(e);
    }
    await this.finished;
  }

  /**
   * Stops the task; `run()` rejects with a cancellation error. Resolves once the task is released:
   * its operators closed (a transactional sink aborts its open transaction there).
   */
  cancel(): Promise<void> {
    if (this.state === 'FINISHED' || this.state === 'FAILED' || this.state === 'CANCELED')
      return Promise.resolve();
    this.transition('CANCELED');
    return this.release()
      .finally(() => this.done.reject(new Error(`${this.name} was cancelled`)))
      .then(
        () => {},
        () => {},
      );
  }

  /** Splits for this source subtask, from the enumerator. */
  assignSplits(splits: SourceSplit[]): void {
    this.sourceInput('assignSplits').addSplits(splits);
  }
  /** The enumerator has no more splits for this subtask. */
  noMoreSplits(): void {
    this.sourceInput('noMoreSplits').noMoreSplits();
  }

  // ---- queryable state ----------------------------------------------------------------------

  /**
   * Answers a lookup of the state queryable as `queryableStateName` for `keys`: runs as mail, so
   * between records (never inside one) and without holding the input back; rejects with a
   * {@link QueryableStateUnavailableError} while the task does not run.
   */
  queryState(queryableStateName: string, keys: readonly Key[]): Promise<QueriedValue[]> {
    if (this.state !== 'RUNNING') return Promise.reject(this.notQueryable(this.state));
    return new Promise((resolve, reject) => {
      // A task that stops before the mail runs answers the lookup as not running (release()).
      this.pendingLookups.add(reject);
      const results: QueriedValue[] = [];
      // A large batch goes in slices, one per turn, so records flow between them.
      const lookUpSlice = (): void => {
        try {
          const slice = keys.slice(results.length, results.length + LOOKUP_SLICE_KEYS);
          for (const r of this.lookUp(queryableStateName, slice)) results.push(r);
        } catch (e) {
          this.pendingLookups.delete(reject);
          reject(ensureError(e));
          return;
        }
        if (results.length < keys.length) {
          this.mail.push(lookUpSlice);
          this.requestTurn();
          return;
        }
        this.pendingLookups.delete(reject);
        resolve(results);
      };
      this.mail.push(lookUpSlice);
      this.requestTurn();
    });
  }

  private lookUp(queryableStateName: string, keys: readonly Key[]): QueriedValue[] {
    for (const backend of this.chain.backends.values()) {
      if (backend.queryableStates().some((r) => r.queryableStateName === queryableStateName))
        return backend.queryState(queryableStateName, keys);
    }
    throw new UnknownQueryableStateError(
      `${this.name}: no state is queryable as "${queryableStateName}" (yet: a state registers when the operator first gets it)`,
    );
  }

  private notQueryable(state: string): QueryableStateUnavailableError {
    return new QueryableStateUnavailableError(
      `${this.name} is ${state}, not RUNNING: its state cannot be looked up now; retry`,
    );
  }

  // ---- checkpoints -----------------------------------------------------------------------

  /** Source tasks: the coordinator triggers checkpoint `checkpointId` (snapshot, then barrier). */
  triggerCheckpoint(checkpointId: number, options: CheckpointOptions): void {
    const source = this.source;
    if (!source) {
      throw new IllegalStateError(
        `${this.name}: only source tasks are triggered; others align barriers`,
      );
    }
    if (this.state !== 'RUNNING' || this.inputEnded) {
      this.checkpointer.declineNotRunning(
        checkpointId,
        this.inputEnded ? 'input ended' : this.state,
      );
      return;
    }
    if (!this.checkpointer.claim(checkpointId)) return;
    this.sourceStartDelayMs = Math.max(0, Date.now() - options.timestamp);
    // Stop with savepoint --drain: fire every event-time timer and window before the barrier.
    if (options.drain) this.guard(() => source.drain());
    this.checkpointer.triggerCheckpoint(
      checkpointId,
      barrierAlignment(options, this.sourceConfig),
      0,
    );
  }

  /** Checkpoint `checkpointId` completed: commit what waited for it. */
  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (this.state !== 'RUNNING') return Promise.resolve();
    return this.checkpointer
      .notifyCheckpointComplete(checkpointId)
      .catch((e: unknown) => this.fail(e));
  }

  /** Checkpoint `checkpointId` was aborted: stop aligning for it. */
  notifyCheckpointAborted(checkpointId: number): void {
    this.network?.onCheckpointAborted(checkpointId);
    this.checkpointer.notifyCheckpointAborted(checkpointId);
  }

  // ---- turns -------------------------------------------------------------------------------

  private requestTurn(): void {
    if (this.scheduled || this.state !== 'RUNNING') return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.guard(() => this.turn());
    });
  }

  /**
   * One turn: mail first (it may emit, so it waits for a checkpoint's synchronous phase like
   * input does), then a batch of input unless the task is held back.
   */
  private turn(): void {
    if (this.state !== 'RUNNING') return;
    if (this.idleSince !== undefined) {
      this.idleMs += performance.now() - this.idleSince;
      this.idleSince = undefined;
    }
    const syncPhase = this.checkpointer.syncPhase;
    if (syncPhase) {
      void syncPhase.then(() => this.requestTurn());
      return;
    }
    this.runMail();
    if (this.inputEnded || this.state !== 'RUNNING') return;
    // Unaligned barriers are taken even when the output has no credit (Flink's priority mail).
    if (this.network?.hasPriorityEvents()) {
      this.network.processPriorityEvents();
      const sync = this.checkpointer.syncPhase;
      if (sync) {
        void sync.then(() => this.requestTurn());
        return;
      }
    }
    const blocked = this.blocked();
    if (blocked) {
      blocked.then(
        () => this.requestTurn(),
        (e: unknown) => this.fail(e),
      );
      return;
    }
    const status = this.input.processTurn(this.mayContinue);
    // The input ran dry: nothing more would join the output buffers before the buffer timeout,
    // so they go now. Under load (more input waiting) buffers fill and go full, as in Flink.
    if (status === InputStatus.NOTHING_AVAILABLE) {
      this.chain.flushOutputs();
      // Waiting for input is idle time (Flink's idleTimeMsPerSecond) until the next turn.
      this.idleSince = performance.now();
    } else this.chain.flushIfNoTimeout();
    if (status === InputStatus.END_OF_INPUT) this.endOfInput();
    else if (status === InputStatus.MORE_AVAILABLE) this.requestTurn();
  }

  /**
   * The availability gate: why the task may not take input now, as a promise that resolves
   * when it may; undefined when it may at once.
   */
  private blocked(): Promise<void> | undefined {
    if (this.checkpointer.syncPhase) return this.checkpointer.syncPhase;
    if (!this.chain.outputsAvailable()) return this.chain.whenOutputsAvailable();
    return this.chain.stateAvailability() ?? this.chain.operatorsAvailability();
  }

  /** Asked after every buffer or poll within a turn: the cheap part of the gate. */
  private readonly mayContinue = (): boolean =>
    this.checkpointer.syncPhase === undefined &&
    this.chain.outputsAvailable() &&
    this.chain.operatorsAvailability() === undefined;

  private runMail(): void {
    if (this.mail.length === 0) return;
    const due = this.mail.splice(0);
    for (let i = 0; i < due.length; i++) {
      due[i]!();
      // A mail may start a checkpoint's synchronous phase (an async operator completing its
      // last element before finish): the rest waits for the next turn.
      if (this.checkpointer.syncPhase || this.state !== 'RUNNING') {
        this.mail.unshift(...due.slice(i + 1));
        this.requestTurn();
        return;
      }
    }
    this.chain.flushIfNoTimeout();
  }

  private maintain(): void {
    if (this.state !== 'RUNNING') return;
    this.guard(() => this.chain.maintain());
  }

  private endOfInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    void (async () => {
      this.input.endInput();
      await this.chain.finish();
      // A checkpoint taken before the end may still be writing: its files come from the
      // backends' snapshots, so the backends close only after it acknowledged or declined.
      await this.checkpointer.uploadsDone();
      const closeFailure = await this.release();
      // As Flink: an exception closing an operator after a normal end fails the task.
      if (closeFailure !== undefined) throw closeFailure;
      if (this.state === 'RUNNING') {
        this.transition('FINISHED');
        this.done.resolve();
      }
    })().catch((e: unknown) => this.fail(e));
  }

  private sourceInput(what: string): SourceInput {
    if (!this.source)
      throw new IllegalStateError(`${this.name}: ${what} on a task without a source`);
    return this.source;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (this.state === 'FAILED' || this.state === 'CANCELED' || this.state === 'FINISHED') return;
    this.state = 'FAILED';
    const error = ensureError(e);
    void this.release().finally(() => this.done.reject(error));
  }

  /** Releases everything the task holds; returns the first error of closing it. */
  private async release(): Promise<unknown> {
    for (const reject of this.pendingLookups)
      reject(this.notQueryable(this.state === 'RUNNING' ? 'FINISHING' : this.state));
    this.pendingLookups.clear();
    if (this.maintenance !== undefined) clearInterval(this.maintenance);
    this.maintenance = undefined;
    let failure = await this.chain.close();
    if (this.inputClosed) return failure;
    this.inputClosed = true;
    try {
      await this.input.close();
    } catch (e) {
      failure ??= e;
    }
    return failure;
  }

  private transition(to: TaskState): void {
    if (!TRANSITIONS[this.state].includes(to)) {
      throw new IllegalStateError(
        `${this.name}: illegal task state transition ${this.state} -> ${to}`,
      );
    }
    this.state = to;
  }
}

import type { ReaderOutput, SourceReader, SourceSplit } from '@nimble/api';
import { InputStatus, MAX_TIMESTAMP, SourceTransformation } from '@nimble/api';
import { join } from 'node:path';
import type { ExecutionConfiguration } from '../config.js';
import { ensureError, IllegalStateError, userCodeFailure } from '../errors.js';
import type { CheckpointOptions, ElementHandler } from '../exchange/buffer-codec.js';
import { assembleKeyedStateFile } from '../checkpoint/keyed-state-file.js';
import { encodeOpaque } from '../checkpoint/metadata.js';
import type { KeyedStateFileHandle, OperatorSubtaskState } from '../checkpoint/metadata.js';
import type { TaskCheckpointServices, TaskRestore } from '../checkpoint/task-state.js';
import { restoredOperatorState, restoreKeyedState } from '../checkpoint/task-state.js';
import type { KeyedStateSnapshot } from '../state/keyed-state-backend.js';
import { HoldableProcessingTimeService } from '../timers/holdable-processing-time-service.js';
import { decodeElements } from '../exchange/buffer-codec.js';
import type { ChannelReceiver, ChannelSender } from '../exchange/channel.js';
import { InputGate } from '../exchange/input-gate.js';
import { RecordWriter } from '../exchange/record-writer.js';
import { StatusWatermarkValve } from '../exchange/status-watermark-valve.js';
import type { JobGraph, JobVertex } from '../graph/job-graph.js';
import { KeyGroupRange } from '../keys/index.js';
import type { OperatorContext, OperatorMetrics, Output } from '../operators/operator.js';
import { newOperatorMetrics, StreamOperator } from '../operators/operator.js';
import type { OperatorServices } from '../operators/operator-factory.js';
import { createOperator } from '../operators/operator-factory.js';
import { SplitWatermarks, WatermarkEmitter } from '../operators/watermark-emitter.js';
import type { KeyedStateBackend } from '../state/index.js';
import { createKeyedStateBackend } from '../state/index.js';
import type { ProcessingTimeService } from '../timers/processing-time-service.js';
import { buildChainOutputs } from './operator-chain.js';

/** What a task gets from the process that hosts it. */
export interface TaskServices extends OperatorServices {
  readonly config: ExecutionConfiguration;
  readonly processingTimeService: ProcessingTimeService;
  /** Root directory for this job's local state (LevelDB). */
  readonly localStateDir: string;
  /** A source subtask started and wants splits from the enumerator. */
  readonly registerReader: (vertexId: number, subtask: number) => void;
  /** Set when the job takes checkpoints or savepoints. */
  readonly checkpoints?: TaskCheckpointServices;
}

/** Where a task reads from and writes to. */
export interface TaskDeployment {
  readonly graph: JobGraph;
  readonly vertex: JobVertex;
  readonly subtaskIndex: number;
  readonly attemptNumber: number;
  /** Input channels, one per producer subtask of each input edge. */
  readonly inputs: ChannelReceiver[];
  /** Per output edge id: one sender per consumer subtask. */
  readonly outputs: ReadonlyMap<string, ChannelSender[]>;
  /** The checkpoint or savepoint to restore state from. */
  readonly restore?: TaskRestore;
}

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
  /** Total time the task waited for output credit (backpressure), ms. */
  readonly backPressuredTimeMs: number;
}

/** Input buffers processed per turn before yielding to other tasks on the thread. */
const BUFFERS_PER_TURN = 8;
/** Source polls per turn before yielding. */
const POLLS_PER_TURN = 16;
/** Interval of state backend maintenance (TTL cleanup, background flushes). */
const MAINTENANCE_MS = 100;

/**
 * One parallel subtask of a vertex: its operator chain, input gate and record writers
 * (Flink's StreamTask). It runs on the event loop of the thread that hosts its slot: input is
 * processed a few buffers per turn, and never while an output lacks credit.
 */
export class StreamTask {
  readonly name: string;
  private state: TaskState = 'CREATED';
  private readonly operators = new Map<number, StreamOperator<unknown, unknown>>();
  /** Operators that can hold the input back (sinks): the only ones asked between batches. */
  private readonly throttling: StreamOperator<unknown, unknown>[] = [];
  private readonly operatorMetrics = new Map<number, OperatorMetrics>();
  private readonly backends: KeyedStateBackend[] = [];
  private readonly writers = new Map<string, RecordWriter>();
  private gate: InputGate | undefined;
  private valve: StatusWatermarkValve | undefined;
  private head: StreamOperator<unknown, unknown> | undefined;
  private headMetrics: OperatorMetrics | undefined;
  private endedChannels = 0;
  private scheduled = false;
  private inputEnded = false;
  private currentChannel = 0;
  private backPressuredMs = 0;
  /** When the current wait for output credit began (undefined: not waiting). */
  private backPressuredSince: number | undefined;
  private timers: ReturnType<typeof setInterval>[] = [];
  private done!: { resolve: () => void; reject: (e: Error) => void };
  private readonly finished: Promise<void>;
  // Source tasks
  private reader: SourceReader<unknown, SourceSplit> | undefined;
  private emitter: WatermarkEmitter<unknown> | undefined;
  private splitWatermarks: SplitWatermarks<unknown> | undefined;
  private readerOutput: ReaderOutput<unknown> | undefined;
  private pendingSplitEvents: (() => void)[] = [];
  private sourceWaiting = false;
  // Checkpoints
  private readonly timeService: HoldableProcessingTimeService;
  private readonly backendOf = new Map<number, KeyedStateBackend>();
  private endedChannel: boolean[] = [];
  /** The barrier alignment in progress. */
  private aligning:
    | { id: number; options: CheckpointOptions; received: Set<number>; startedAt: number }
    | undefined;
  /** Highest checkpoint id this task snapshotted or gave up. */
  private lastCheckpointId = 0;
  /** While the synchronous phase of a checkpoint awaits (a sink's pre-commit), input waits. */
  private syncPhase: Promise<void> | undefined;
  /** Shared incremental files of the checkpoints in flight and of the last completed one, per operator uid. */
  private readonly chains = new Map<number, Map<string, KeyedStateFileHandle[]>>();
  private completedChains = new Map<string, KeyedStateFileHandle[]>();

  constructor(
    private readonly deployment: TaskDeployment,
    private readonly services: TaskServices,
  ) {
    const { vertex, subtaskIndex } = deployment;
    this.name = `${vertex.name} (${subtaskIndex + 1}/${vertex.parallelism})`;
    this.timeService = new HoldableProcessingTimeService(services.processingTimeService);
    this.finished = new Promise((resolve, reject) => {
      this.done = { resolve, reject };
    });
    // Failures are reported through run(); keep an unobserved rejection from crashing the process.
    this.finished.catch(() => {});
  }

  getState(): TaskState {
    return this.state;
  }

  get vertexId(): number {
    return this.deployment.vertex.id;
  }
  get subtaskIndex(): number {
    return this.deployment.subtaskIndex;
  }

  metrics(): TaskMetrics {
    // A wait still in progress counts up to now: a task blocked for longer than a sampling
    // interval must not look idle.
    const ongoing =
      this.backPressuredSince === undefined ? 0 : performance.now() - this.backPressuredSince;
    return { operators: this.operatorMetrics, backPressuredTimeMs: this.backPressuredMs + ongoing };
  }

  /** Opens the chain and processes until the input ends (resolves) or the task fails (rejects). */
  async run(): Promise<void> {
    try {
      await this.open();
      this.transition('RUNNING');
      this.timers.push(setInterval(() => this.maintain(), MAINTENANCE_MS));
      if (this.reader) {
        this.startSource();
      } else {
        this.gate!.start();
        this.scheduleInput();
      }
    } catch (e) {
      this.fail(e);
    }
    await this.finished;
  }

  /** Stops the task; `run()` rejects with a cancellation error. */
  cancel(): void {
    if (this.state === 'FINISHED' || this.state === 'FAILED' || this.state === 'CANCELED') return;
    this.transition('CANCELED');
    void this.release().finally(() => this.done.reject(new Error(`${this.name} was cancelled`)));
  }

  /** Splits for this source subtask, from the enumerator. */
  assignSplits(splits: SourceSplit[]): void {
    this.onSplitEvent(() => this.reader!.addSplits(splits));
  }
  /** The enumerator has no more splits for this subtask. */
  noMoreSplits(): void {
    this.onSplitEvent(() => this.reader!.notifyNoMoreSplits());
  }

  private onSplitEvent(event: () => void): void {
    if (!this.reader || this.state !== 'RUNNING') {
      this.pendingSplitEvents.push(event);
      return;
    }
    try {
      event();
    } catch (e) {
      this.fail(userCodeFailure(this.name, e));
      return;
    }
    if (this.sourceWaiting) {
      this.sourceWaiting = false;
      this.schedulePoll();
    }
  }

  // ---- checkpoints -----------------------------------------------------------------------

  /** Source tasks: the coordinator triggers checkpoint `checkpointId` (snapshot, then barrier). */
  triggerCheckpoint(checkpointId: number, options: CheckpointOptions): void {
    if (!this.reader) {
      throw new IllegalStateError(
        `${this.name}: only source tasks are triggered; others align barriers`,
      );
    }
    if (this.state !== 'RUNNING' || this.inputEnded) {
      const reason = new Error(
        `${this.name} is not running (${this.inputEnded ? 'input ended' : this.state})`,
      );
      reason.name = TASK_NOT_RUNNING;
      this.services.checkpoints?.decline(this.vertexId, this.subtaskIndex, checkpointId, reason);
      return;
    }
    if (checkpointId <= this.lastCheckpointId) return;
    this.lastCheckpointId = checkpointId;
    if (options.drain) {
      // Stop with savepoint --drain: fire every event-time timer and window before the barrier.
      this.guard(() => this.emitter!.emitWatermark(MAX_TIMESTAMP));
    }
    this.performCheckpoint(checkpointId, options, 0);
  }

  /** Checkpoint `checkpointId` completed: commit what waited for it. */
  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (this.state !== 'RUNNING') return Promise.resolve();
    const chains = this.chains.get(checkpointId);
    if (chains) {
      for (const [uid, chain] of chains) this.completedChains.set(uid, chain);
      for (const b of this.backends) b.notifyCheckpointComplete(checkpointId);
    }
    for (const id of [...this.chains.keys()]) if (id <= checkpointId) this.chains.delete(id);
    return (async () => {
      for (const node of this.deployment.vertex.nodes) {
        await this.operators.get(node.id)?.notifyCheckpointComplete(checkpointId);
      }
      this.reader?.notifyCheckpointComplete?.(checkpointId);
    })().catch((e: unknown) => this.fail(e));
  }

  /** Checkpoint `checkpointId` was aborted: stop aligning for it. */
  notifyCheckpointAborted(checkpointId: number): void {
    this.chains.delete(checkpointId);
    if (this.aligning && this.aligning.id <= checkpointId) {
      this.aligning = undefined;
      this.gate!.unblockAll();
    }
    this.lastCheckpointId = Math.max(this.lastCheckpointId, checkpointId);
  }

  private onBarrier(channel: number, checkpointId: number, options: CheckpointOptions): void {
    if (checkpointId <= this.lastCheckpointId) return; // aborted, or an overtaken one
    if (this.aligning && checkpointId > this.aligning.id) {
      // A newer barrier overtook the alignment of an older checkpoint: give the older one up.
      const old = this.aligning;
      this.aligning = undefined;
      this.gate!.unblockAll();
      for (const w of this.writers.values()) w.broadcastCancelBarrier(old.id);
      this.services.checkpoints?.decline(
        this.vertexId,
        this.subtaskIndex,
        old.id,
        new Error(
          `${this.name}: barrier of checkpoint ${checkpointId} arrived before alignment of ${old.id} ended`,
        ),
      );
    }
    this.aligning ??= {
      id: checkpointId,
      options,
      received: new Set(),
      startedAt: performance.now(),
    };
    this.aligning.received.add(channel);
    this.gate!.block(channel);
    this.checkAlignment();
  }

  private checkAlignment(): void {
    const a = this.aligning!;
    for (let c = 0; c < this.endedChannel.length; c++) {
      if (!a.received.has(c) && !this.endedChannel[c]) return;
    }
    this.aligning = undefined;
    this.gate!.unblockAll();
    this.lastCheckpointId = a.id;
    this.performCheckpoint(a.id, a.options, performance.now() - a.startedAt);
  }

  private onCancelBarrier(checkpointId: number): void {
    if (checkpointId <= this.lastCheckpointId) return;
    if (this.aligning && this.aligning.id <= checkpointId) {
      this.aligning = undefined;
      this.gate!.unblockAll();
    }
    this.lastCheckpointId = checkpointId;
    for (const w of this.writers.values()) w.broadcastCancelBarrier(checkpointId);
  }

  /**
   * Snapshots the chain and forwards the barrier. The synchronous phase (operator list states,
   * keyed snapshots, timers, source positions, then the barrier) runs while input and
   * processing-time timers wait; the files are written afterwards while records flow.
   */
  private performCheckpoint(
    checkpointId: number,
    options: CheckpointOptions,
    alignmentMs: number,
  ): void {
    const cp = this.services.checkpoints;
    if (!cp) {
      for (const w of this.writers.values()) w.broadcastBarrier(checkpointId, options);
      return;
    }
    const started = performance.now();
    const nodes = this.deployment.vertex.nodes;
    this.timeService.hold();
    let endSyncPhase!: () => void;
    this.syncPhase = new Promise((resolve) => (endSyncPhase = resolve));
    const sync = async (): Promise<PendingSnapshot> => {
      const lists = new Map<string, Record<string, unknown[]>>();
      for (const node of nodes) {
        const op = this.operators.get(node.id);
        const state = op && (await op.snapshotOperatorState(checkpointId));
        if (state) lists.set(node.uid, state);
      }
      if (this.reader) {
        let splits: unknown[];
        try {
          splits = this.reader.snapshotState(checkpointId);
        } catch (e) {
          throw userCodeFailure(`${this.name}: snapshotState`, e);
        }
        lists.set(nodes[0]!.uid, { [SOURCE_SPLITS_STATE]: splits });
      }
      const keyed: PendingSnapshot['keyed'] = [];
      for (const node of nodes) {
        const backend = this.backendOf.get(node.id);
        if (!backend) continue;
        keyed.push({
          uid: node.uid,
          node,
          snapshot: backend.snapshot(checkpointId, options.savepoint ? 'canonical' : 'native'),
          timers: this.operators.get(node.id)!.snapshotTimers(),
        });
      }
      for (const w of this.writers.values()) w.broadcastBarrier(checkpointId, options);
      return { lists, keyed };
    };
    const endSync = (): void => {
      this.syncPhase = undefined;
      endSyncPhase();
      this.timeService.release();
    };
    sync().then(
      (pending) => {
        const syncMs = performance.now() - started;
        endSync();
        this.writeSnapshot(cp, checkpointId, options, pending).then(
          ({ operators, size }) =>
            cp.acknowledge(this.vertexId, this.subtaskIndex, checkpointId, {
              operators,
              stateSize: size,
              syncDurationMs: syncMs,
              asyncDurationMs: performance.now() - started - syncMs,
              alignmentDurationMs: alignmentMs,
            }),
          (e: unknown) => {
            for (const k of pending.keyed) k.snapshot.release();
            this.chains.delete(checkpointId);
            cp.decline(this.vertexId, this.subtaskIndex, checkpointId, ensureError(e));
          },
        );
      },
      (e: unknown) => {
        endSync();
        this.fail(e);
      },
    );
  }

  /** The asynchronous phase: materializes the snapshots and writes the state files. */
  private async writeSnapshot(
    cp: TaskCheckpointServices,
    checkpointId: number,
    options: CheckpointOptions,
    pending: PendingSnapshot,
  ): Promise<{ operators: Record<string, Omit<OperatorSubtaskState, 'subtask'>>; size: number }> {
    const operators: Record<
      string,
      {
        -readonly [K in keyof Omit<OperatorSubtaskState, 'subtask'>]: Omit<
          OperatorSubtaskState,
          'subtask'
        >[K];
      }
    > = {};
    const fs = cp.fileSystem(options.targetDir);
    const subtask = this.subtaskIndex;
    let size = 0;
    for (const { uid, node, snapshot, timers } of pending.keyed) {
      const blocks = await snapshot.materialize();
      snapshot.release();
      const range = KeyGroupRange.forOperatorIndex(node.maxParallelism, node.parallelism, subtask);
      const { bytes, offsets } = assembleKeyedStateFile(range.startKeyGroup, blocks, timers);
      const shared = snapshot.kind !== 'canonical';
      const name = `${fileSafe(uid)}-${subtask}-${checkpointId}-${randomSuffix()}`;
      await fs.write(`${shared ? options.sharedDir : options.targetDir}/${name}`, bytes);
      size += bytes.length;
      const file: KeyedStateFileHandle = {
        path: shared ? `../shared/${name}` : name,
        kind: snapshot.kind,
        size: bytes.length,
        offsets,
      };
      let files = [file];
      if (snapshot.kind === 'level-delta') {
        const base = this.completedChains.get(uid);
        if (!base)
          throw new IllegalStateError(
            `${this.name}: an incremental snapshot without a completed base`,
          );
        files = [...base, file];
      }
      if (shared) {
        let chains = this.chains.get(checkpointId);
        if (!chains) this.chains.set(checkpointId, (chains = new Map()));
        chains.set(uid, files);
      }
      operators[uid] = {
        keyed: { keyGroupRange: [range.startKeyGroup, range.endKeyGroup], files },
      };
    }
    for (const [uid, lists] of pending.lists) {
      const encoded: Record<string, string> = {};
      for (const [name, list] of Object.entries(lists)) encoded[name] = encodeOpaque(list);
      operators[uid] = { ...operators[uid], operatorState: encoded };
    }
    return { operators, size };
  }

  /** Restores an operator of the chain (before its open()). */
  private async restoreOperator(
    node: JobVertex['nodes'][number],
    op: StreamOperator<unknown, unknown>,
    backend: KeyedStateBackend | undefined,
  ): Promise<void> {
    const restore = this.deployment.restore;
    if (!restore) return;
    const restored = restoredOperatorState(restore, node.uid, this.subtaskIndex, node.parallelism);
    if (!restored) return;
    op.initializeOperatorState(restored.lists);
    if (!backend) return;
    const range = KeyGroupRange.forOperatorIndex(
      node.maxParallelism,
      node.parallelism,
      this.subtaskIndex,
    );
    const fs = this.services.checkpoints!.fileSystem(restore.metadataDir);
    await restoreKeyedState(restore, fs, restored.operator, range, backend, (kg, timers) =>
      op.restoreTimers(kg, timers),
    );
  }

  /** Restored split positions go to the reader first, before any split from the enumerator. */
  private restoreSource(node: JobVertex['nodes'][number]): void {
    const restore = this.deployment.restore;
    if (!restore) return;
    const restored = restoredOperatorState(restore, node.uid, this.subtaskIndex, node.parallelism);
    const splits = restored?.lists.get(SOURCE_SPLITS_STATE) as SourceSplit[] | undefined;
    if (splits && splits.length > 0)
      this.pendingSplitEvents.unshift(() => this.reader!.addSplits(splits));
  }

  private transition(to: TaskState): void {
    if (!TRANSITIONS[this.state].includes(to)) {
      throw new IllegalStateError(
        `${this.name}: illegal task state transition ${this.state} -> ${to}`,
      );
    }
    this.state = to;
  }

  private async open(): Promise<void> {
    const { vertex, subtaskIndex, graph } = this.deployment;
    const cfg = this.services.config;
    const writerOptions = { bufferBytes: cfg.segmentSize, bufferTimeoutMs: cfg.bufferTimeout };
    for (const edge of vertex.outputs) {
      const senders = this.deployment.outputs.get(edge.id);
      if (!senders) throw new Error(`internal: no channels for edge ${edge.id}`);
      const targetName = `${edge.target.name} (${subtaskIndex + 1}/${vertex.parallelism})`;
      this.writers.set(
        edge.id,
        new RecordWriter(
          edge.partitioner,
          edge.keySelector,
          edge.target.maxParallelism,
          senders,
          subtaskIndex,
          edge.source.parallelism,
          writerOptions,
          `keyBy() before ${targetName}`,
          this.name,
          (e) => this.fail(e),
        ),
      );
    }

    const headNode = vertex.nodes[0]!;
    for (const node of vertex.nodes) this.operatorMetrics.set(node.id, newOperatorMetrics());
    for (const node of vertex.nodes) {
      if (node.transformation instanceof SourceTransformation) continue;
      const op = createOperator(node, this.services);
      this.operators.set(node.id, op);
      if (op.availability !== StreamOperator.prototype.availability) this.throttling.push(op);
    }
    const outputs = buildChainOutputs(vertex, this.operators, this.writers, (id) =>
      this.operatorMetrics.get(id)!,
    );

    // Open from the tail to the head, so every operator's successors are ready when it emits.
    for (const node of [...vertex.nodes].reverse()) {
      const op = this.operators.get(node.id);
      if (!op) continue;
      const name = `${node.name} (${subtaskIndex + 1}/${node.parallelism})`;
      let backend: KeyedStateBackend | undefined;
      if (node.stateKeySelector) {
        backend = createKeyedStateBackend({
          kind: this.services.config.stateBackend,
          operatorName: name,
          maxParallelism: node.maxParallelism,
          keyGroupRange: KeyGroupRange.forOperatorIndex(
            node.maxParallelism,
            node.parallelism,
            subtaskIndex,
          ),
          localDir: join(this.services.localStateDir, `${node.uid}-${subtaskIndex}`),
          incremental: this.services.checkpoints?.incremental ?? false,
          ttlTimeProvider: () => this.services.processingTimeService.now(),
        });
        await backend.open();
        this.backends.push(backend);
        this.backendOf.set(node.id, backend);
      }
      const ctx: OperatorContext = {
        name,
        operatorId: node.uid,
        subtaskIndex,
        parallelism: node.parallelism,
        maxParallelism: node.maxParallelism,
        attemptNumber: this.deployment.attemptNumber,
        restoredCheckpointId: this.deployment.restore?.metadata.checkpointId,
        keyedStateBackend: backend,
        processingTimeService: this.timeService,
        requestFlush: () => this.afterTimerOutput(),
        failTask: (e) => this.fail(e),
        metrics: this.operatorMetrics.get(node.id)!,
      };
      op.setup(ctx, outputs.get(node.id)!);
      await this.restoreOperator(node, op, backend);
      try {
        await op.open();
      } catch (e) {
        throw userCodeFailure(`${name}: open()`, e);
      }
    }

    const headOutput = outputs.get(headNode.id)!;
    if (headNode.transformation instanceof SourceTransformation) {
      this.openSource(headNode.transformation, headOutput);
      this.restoreSource(headNode);
    } else {
      this.endedChannel = this.deployment.inputs.map(() => false);
      this.head = this.operators.get(headNode.id);
      this.headMetrics = this.operatorMetrics.get(headNode.id);
      const head = this.head!;
      this.valve = new StatusWatermarkValve(
        this.deployment.inputs.length,
        (wm) => head.processWatermark(wm),
        (idle) => head.processWatermarkStatus(idle),
      );
      this.gate = new InputGate(this.deployment.inputs, cfg.buffersPerChannel, () =>
        this.scheduleInput(),
      );
    }
    void graph;
  }

  private openSource(t: SourceTransformation<unknown>, output: Output<unknown>): void {
    const { subtaskIndex, vertex } = this.deployment;
    const metrics = this.operatorMetrics.get(vertex.nodes[0]!.id)!;
    const countingOutput: Output<unknown> = {
      collect: (v, ts) => {
        metrics.numRecordsOut++;
        output.collect(v, ts);
      },
      collectSide: (tag, v, ts) => output.collectSide(tag, v, ts),
      emitWatermark: (wm) => {
        metrics.currentOutputWatermark = wm;
        output.emitWatermark(wm);
      },
      emitWatermarkStatus: (idle) => output.emitWatermarkStatus(idle),
    };
    const pts = this.services.processingTimeService;
    this.emitter = new WatermarkEmitter(t.watermarkStrategy, countingOutput, this.name, () =>
      pts.now(),
    );
    const gauges = metrics.gauges;
    const gaugeKey = (name: string, labels: Readonly<Record<string, string>>) =>
      `${name}${JSON.stringify(labels)}`;
    try {
      this.reader = t.source.createReader({
        getIndexOfSubtask: () => subtaskIndex,
        getParallelism: () => vertex.parallelism,
        currentProcessingTime: () => pts.now(),
        metricGroup: () => ({
          gauge: (name, value, labels = {}) =>
            gauges.set(gaugeKey(name, labels), { name, labels: { ...labels }, value }),
          removeGauge: (name, labels = {}) => gauges.delete(gaugeKey(name, labels)),
        }),
      });
    } catch (e) {
      throw userCodeFailure(`${this.name}: createReader`, e);
    }
    const emitter = this.emitter;
    const splits = new SplitWatermarks(
      t.watermarkStrategy,
      emitter,
      countingOutput,
      this.name,
      () => pts.now(),
    );
    this.splitWatermarks = splits;
    this.readerOutput = {
      collect: (record, timestamp) => emitter.emitRecord(record, timestamp),
      collectSide: (tag, value, timestamp) => countingOutput.collectSide(tag.id, value, timestamp),
      createOutputForSplit: (splitId) => splits.outputFor(splitId),
      releaseOutputForSplit: (splitId) => splits.release(splitId),
      markIdle: () => emitter.markIdle(),
    };
  }

  private startSource(): void {
    try {
      this.reader!.start();
    } catch (e) {
      throw userCodeFailure(`${this.name}: reader start`, e);
    }
    for (const event of this.pendingSplitEvents.splice(0)) event();
    const interval = this.services.config.autoWatermarkInterval;
    if (this.emitter!.generatesWatermarks && interval > 0) {
      this.timers.push(
        setInterval(() => {
          if (this.state !== 'RUNNING' || this.inputEnded) return;
          this.guard(() =>
            this.splitWatermarks!.active
              ? this.splitWatermarks!.onPeriodicEmit()
              : this.emitter!.onPeriodicEmit(),
          );
        }, interval),
      );
    }
    this.services.registerReader(this.deployment.vertex.id, this.deployment.subtaskIndex);
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.guard(() => this.pollSource());
    });
  }

  private pollSource(): void {
    if (this.state !== 'RUNNING' || this.inputEnded) return;
    if (this.syncPhase) {
      void this.syncPhase.then(() => this.schedulePoll());
      return;
    }
    if (!this.outputsAvailable()) {
      this.waitForOutputs(() => this.schedulePoll());
      return;
    }
    const availability = this.backendAvailability();
    if (availability) {
      availability.then(
        () => this.schedulePoll(),
        (e: unknown) => this.fail(e),
      );
      return;
    }
    const reader = this.reader!;
    for (let i = 0; i < POLLS_PER_TURN; i++) {
      let status: InputStatus;
      try {
        status = reader.pollNext(this.readerOutput!);
      } catch (e) {
        throw userCodeFailure(this.name, e);
      }
      if (status === InputStatus.END_OF_INPUT) {
        this.endOfInput();
        return;
      }
      if (status === InputStatus.NOTHING_AVAILABLE) {
        this.sourceWaiting = true;
        reader.isAvailable().then(
          () => {
            if (this.sourceWaiting) {
              this.sourceWaiting = false;
              this.schedulePoll();
            }
          },
          (e: unknown) => this.fail(userCodeFailure(this.name, e)),
        );
        this.flushIfNoTimeout();
        return;
      }
      if (this.syncPhase || !this.outputsAvailable() || this.operatorsAvailability()) break;
    }
    this.flushIfNoTimeout();
    this.schedulePoll();
  }

  private scheduleInput(): void {
    if (this.scheduled || this.state !== 'RUNNING') return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.guard(() => this.processInput());
    });
  }

  private readonly handler: ElementHandler = {
    record: (value, timestamp, keyGroup) => {
      this.headMetrics!.numRecordsIn++;
      const head = this.head!;
      head.setKeyContextElement(value, keyGroup);
      head.processElement(value, timestamp);
    },
    watermark: (watermark) => this.valve!.inputWatermark(this.currentChannel, watermark),
    watermarkStatus: (idle) => this.valve!.inputStatus(this.currentChannel, idle),
    endOfPartition: () => {
      this.valve!.endOfInput(this.currentChannel);
      this.endedChannels++;
      this.endedChannel[this.currentChannel] = true;
      if (this.aligning) this.checkAlignment();
    },
    barrier: (checkpointId, options) => this.onBarrier(this.currentChannel, checkpointId, options),
    cancelBarrier: (checkpointId) => this.onCancelBarrier(checkpointId),
  };

  private processInput(): void {
    if (this.state !== 'RUNNING' || this.inputEnded) return;
    if (this.syncPhase) {
      void this.syncPhase.then(() => this.scheduleInput());
      return;
    }
    if (!this.outputsAvailable()) {
      this.waitForOutputs(() => this.scheduleInput());
      return;
    }
    const availability = this.backendAvailability();
    if (availability) {
      availability.then(
        () => this.scheduleInput(),
        (e: unknown) => this.fail(e),
      );
      return;
    }
    const gate = this.gate!;
    for (let i = 0; i < BUFFERS_PER_TURN; i++) {
      const next = gate.poll();
      if (next === undefined) break;
      this.currentChannel = next.channel;
      decodeElements(next.buffer, this.handler);
      gate.recycle(next.channel);
      if (this.endedChannels === gate.numberOfChannels) {
        this.endOfInput();
        return;
      }
      if (this.syncPhase || !this.outputsAvailable() || this.operatorsAvailability()) break;
    }
    this.flushIfNoTimeout();
    if (gate.queuedBuffers > 0) this.scheduleInput();
  }

  /** A state backend writing back, or an operator (a sink) whose buffers are full. */
  private backendAvailability(): Promise<void> | undefined {
    for (const b of this.backends) {
      const a = b.availability();
      if (a) return a;
    }
    return this.operatorsAvailability();
  }

  /** An operator (a sink) whose buffers are full: its promise resolves when it takes input again. */
  private operatorsAvailability(): Promise<void> | undefined {
    for (const op of this.throttling) {
      const a = op.availability();
      if (a) return a;
    }
    return undefined;
  }

  private outputsAvailable(): boolean {
    for (const w of this.writers.values()) if (!w.isAvailable()) return false;
    return true;
  }

  private waitForOutputs(then: () => void): void {
    const start = performance.now();
    this.backPressuredSince = start;
    const pending = [...this.writers.values()].filter((w) => !w.isAvailable());
    void Promise.all(pending.map((w) => w.whenAvailable())).then(() => {
      this.backPressuredMs += performance.now() - start;
      this.backPressuredSince = undefined;
      then();
    });
  }

  private flushIfNoTimeout(): void {
    if (this.services.config.bufferTimeout === 0)
      for (const w of this.writers.values()) w.flushAll();
  }

  /** Output produced by a processing-time timer, outside record processing. */
  private afterTimerOutput(): void {
    this.flushIfNoTimeout();
  }

  private maintain(): void {
    if (this.state !== 'RUNNING') return;
    this.guard(() => {
      for (const b of this.backends) b.maintain();
    });
  }

  private endOfInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    void (async () => {
      if (this.emitter) {
        // A bounded source ends with the final watermark, which fires all event-time timers.
        this.emitter.emitWatermark(MAX_TIMESTAMP);
      }
      for (const node of this.deployment.vertex.nodes) {
        const op = this.operators.get(node.id);
        if (!op) continue;
        try {
          await op.finish();
        } catch (e) {
          throw userCodeFailure(
            `${node.name} (${this.deployment.subtaskIndex + 1}/${node.parallelism}): finish`,
            e,
          );
        }
      }
      for (const w of this.writers.values()) w.endOfPartition();
      await this.release();
      if (this.state === 'RUNNING') {
        this.transition('FINISHED');
        this.done.resolve();
      }
    })().catch((e: unknown) => this.fail(e));
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

  private async release(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const w of this.writers.values()) w.dispose();
    for (const op of this.operators.values()) {
      try {
        await op.close();
      } catch {
        // Closing after a failure must not hide the failure.
      }
    }
    try {
      await this.reader?.close();
    } catch {
      // As above.
    }
    for (const b of this.backends.splice(0)) {
      try {
        await b.close();
      } catch {
        // As above.
      }
    }
  }
}

/** Names the decline of a task that ended: the checkpoint is aborted, not counted as failed. */
export const TASK_NOT_RUNNING = 'CheckpointDeclineTaskNotRunningError';

/** Operator state name of a source's split positions. */
const SOURCE_SPLITS_STATE = 'splits';

/** What the synchronous phase of a checkpoint captured. */
interface PendingSnapshot {
  readonly lists: Map<string, Record<string, unknown[]>>;
  readonly keyed: {
    readonly uid: string;
    readonly node: JobVertex['nodes'][number];
    readonly snapshot: KeyedStateSnapshot;
    readonly timers: Map<number, unknown[]> | undefined;
  }[];
}

function fileSafe(uid: string): string {
  return uid.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 2 ** 32)
    .toString(16)
    .padStart(8, '0');
}

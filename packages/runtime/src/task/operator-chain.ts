import { SourceTransformation } from '@nimble/api';
import { join } from 'node:path';
import { userCodeFailure } from '../errors.js';
import type { CheckpointOptions } from '../exchange/buffer-codec.js';
import type { ChannelSender } from '../exchange/channel.js';
import type { OutputChannelState } from '../exchange/record-writer.js';
import { RecordWriter } from '../exchange/record-writer.js';
import type { StreamNode } from '../graph/job-graph.js';
import { KeyGroupRange } from '../keys/index.js';
import type {
  OperatorContext,
  OperatorInput,
  OperatorMetrics,
  Output,
} from '../operators/operator.js';
import {
  AbstractStreamOperator,
  newOperatorMetrics,
  StreamOperator,
  TwoInputStreamOperator,
} from '../operators/operator.js';
import { createOperator } from '../operators/operator-factory.js';
import type { KeyedStateBackend } from '../state/index.js';
import { createKeyedStateBackend } from '../state/index.js';
import type { ProcessingTimeService } from '../timers/processing-time-service.js';
import type { TaskContext } from './task-context.js';

/** Where an output sends: a chained operator or a network writer. */
interface Target {
  record(value: unknown, timestamp: number | undefined): void;
  watermark(watermark: number): void;
  status(idle: boolean): void;
}

class ChainedTarget implements Target {
  constructor(
    private readonly op: StreamOperator<unknown, unknown>,
    private readonly metrics: { numRecordsIn: number },
  ) {}
  record(value: unknown, timestamp: number | undefined): void {
    this.metrics.numRecordsIn++;
    this.op.setKeyContextElement(value);
    this.op.processElement(value, timestamp);
  }
  watermark(watermark: number): void {
    this.op.processWatermark(watermark);
  }
  status(idle: boolean): void {
    this.op.processWatermarkStatus(idle);
  }
}

class NetworkTarget implements Target {
  constructor(private readonly writer: RecordWriter) {}
  record(value: unknown, timestamp: number | undefined): void {
    this.writer.emit(value, timestamp);
  }
  watermark(watermark: number): void {
    this.writer.emitWatermark(watermark);
  }
  status(idle: boolean): void {
    this.writer.emitWatermarkStatus(idle);
  }
}

/** An operator's output: its chained successors and network writers, main and side outputs. */
class ChainOutput implements Output<unknown> {
  private readonly single: Target | undefined;
  constructor(
    private readonly main: Target[],
    private readonly side: Map<string, Target[]>,
    private readonly metrics: { numRecordsOut: number; currentOutputWatermark: number },
  ) {
    this.single = main.length === 1 ? main[0] : undefined;
  }
  collect(value: unknown, timestamp: number | undefined): void {
    this.metrics.numRecordsOut++;
    if (this.single !== undefined) {
      this.single.record(value, timestamp);
      return;
    }
    for (const t of this.main) t.record(value, timestamp);
  }
  collectSide(tagId: string, value: unknown, timestamp: number | undefined): void {
    const targets = this.side.get(tagId);
    if (targets === undefined) return;
    for (const t of targets) t.record(value, timestamp);
  }
  emitWatermark(watermark: number): void {
    this.metrics.currentOutputWatermark = watermark;
    for (const t of this.main) t.watermark(watermark);
    for (const targets of this.side.values()) for (const t of targets) t.watermark(watermark);
  }
  emitWatermarkStatus(idle: boolean): void {
    for (const t of this.main) t.status(idle);
    for (const targets of this.side.values()) for (const t of targets) t.status(idle);
  }
}

/** Restores one operator of the chain (keyed state, timers, operator state) before it opens. */
export type OperatorRestorer = (
  node: StreamNode,
  op: AbstractStreamOperator<unknown>,
  backend: KeyedStateBackend | undefined,
) => Promise<void>;

/**
 * The operators of one task and how they connect (Flink's `OperatorChain`): it builds the
 * operators, their keyed state backends and contexts, the record writers to other vertices and
 * each operator's output. Records pass to chained operators as direct calls with the same object
 * (no copy, no serialization) and to other vertices through record writers.
 */
export class OperatorChain {
  readonly nodes: readonly StreamNode[];
  /** The operators by node id; a source head has none (its reader is the task's input). */
  readonly operators = new Map<number, AbstractStreamOperator<unknown>>();
  readonly metrics = new Map<number, OperatorMetrics>();
  /** Keyed state backends by node id (keyed operators only). */
  readonly backends = new Map<number, KeyedStateBackend>();
  readonly writers = new Map<string, RecordWriter>();
  /** Operators that can hold the input back (sinks, async I/O): the only ones asked between batches. */
  private readonly throttling: AbstractStreamOperator<unknown>[] = [];
  private readonly outputs: Map<number, Output<unknown>>;
  private backPressuredMs = 0;
  private closed = false;
  /** When the current wait for output credit began (undefined: not waiting). */
  private backPressuredSince: number | undefined;
  /** The wait for output credit in progress: one wait however often the task asks. */
  private outputsWait: Promise<void> | undefined;

  constructor(
    private readonly ctx: TaskContext,
    senders: ReadonlyMap<string, ChannelSender[]>,
  ) {
    const { vertex, subtaskIndex, services } = ctx;
    this.nodes = vertex.nodes;
    const cfg = services.config;
    const writerOptions = { bufferBytes: cfg.segmentSize, bufferTimeoutMs: cfg.bufferTimeout };
    for (const edge of vertex.outputs) {
      const channels = senders.get(edge.id);
      if (!channels) throw new Error(`internal: no channels for edge ${edge.id}`);
      const selector = edge.partitioner === 'custom' ? 'partitionCustom()' : 'keyBy()';
      this.writers.set(
        edge.id,
        new RecordWriter(
          edge.partitioner,
          edge.keySelector,
          edge.target.maxParallelism,
          channels,
          subtaskIndex,
          edge.source.parallelism,
          writerOptions,
          `${selector} before ${edge.target.name} in ${ctx.name}`,
          ctx.name,
          (e) => ctx.fail(e),
        ),
      );
    }
    for (const node of this.nodes) {
      this.metrics.set(node.id, newOperatorMetrics());
      if (node.transformation instanceof SourceTransformation) continue;
      const op = createOperator(node, services, subtaskIndex);
      this.operators.set(node.id, op);
      if (op.availability !== AbstractStreamOperator.prototype.availability)
        this.throttling.push(op);
    }
    this.outputs = this.buildOutputs();
  }

  /** The first node of the chain. */
  get headNode(): StreamNode {
    return this.nodes[0]!;
  }

  /** The output of the head node (for a source head: where the reader's records go). */
  get headOutput(): Output<unknown> {
    return this.outputs.get(this.headNode.id)!;
  }

  get headMetrics(): OperatorMetrics {
    return this.metrics.get(this.headNode.id)!;
  }

  /** The head operator's logical inputs, in order: one, or two for a two-input operator. */
  headInputs(): OperatorInput<unknown>[] {
    const head = this.operators.get(this.headNode.id);
    if (head instanceof TwoInputStreamOperator) return [...head.inputs];
    if (head instanceof StreamOperator) return [head];
    throw new Error(`internal: ${this.ctx.name}: the head of the chain takes no network input`);
  }

  /**
   * Creates the keyed state backends, sets every operator up, restores it and opens it, from the
   * tail to the head, so every operator's successors are ready when it emits.
   */
  async open(
    restore: OperatorRestorer,
    processingTimeService: ProcessingTimeService,
  ): Promise<void> {
    const { ctx } = this;
    const { subtaskIndex, services } = ctx;
    for (const node of [...this.nodes].reverse()) {
      const op = this.operators.get(node.id);
      if (!op) continue;
      const name = `${node.name} (${subtaskIndex + 1}/${node.parallelism})`;
      let backend: KeyedStateBackend | undefined;
      if (node.keyed) {
        backend = createKeyedStateBackend({
          kind: services.config.stateBackend,
          operatorName: name,
          maxParallelism: node.maxParallelism,
          keyGroupRange: KeyGroupRange.forOperatorIndex(
            node.maxParallelism,
            node.parallelism,
            subtaskIndex,
          ),
          localDir: join(services.localStateDir, `${node.uid}-${subtaskIndex}`),
          incremental: services.checkpoints?.incremental ?? false,
          readCacheSize: services.config.levelCacheSize,
          ttlTimeProvider: () => services.processingTimeService.now(),
          onQueryableState: (registration) =>
            services.registerQueryableState?.(ctx.vertex.id, subtaskIndex, {
              ...registration,
              operatorUid: node.uid,
              operatorName: node.name,
              parallelism: node.parallelism,
              maxParallelism: node.maxParallelism,
            }),
        });
        await backend.open();
        this.backends.set(node.id, backend);
      }
      const opCtx: OperatorContext = {
        name,
        operatorId: node.uid,
        subtaskIndex,
        parallelism: node.parallelism,
        maxParallelism: node.maxParallelism,
        attemptNumber: ctx.attemptNumber,
        restoredCheckpointId: ctx.restoredCheckpointId,
        keyedStateBackend: backend,
        processingTimeService,
        requestFlush: () => this.flushIfNoTimeout(),
        failTask: (e) => ctx.fail(e),
        mailbox: ctx.mailbox,
        metrics: this.metrics.get(node.id)!,
        taskName: ctx.vertex.name,
        config: services.config,
      };
      op.setup(opCtx, this.outputs.get(node.id)!);
      await restore(node, op, backend);
      try {
        await op.open();
      } catch (e) {
        throw userCodeFailure(`${name}: open()`, e);
      }
    }
  }

  /** End of input: every operator emits what it holds, from the head to the tail (Flink's finish). */
  async finish(): Promise<void> {
    for (const node of this.nodes) {
      const op = this.operators.get(node.id);
      if (!op) continue;
      try {
        await op.finish();
      } catch (e) {
        throw userCodeFailure(
          `${node.name} (${this.ctx.subtaskIndex + 1}/${node.parallelism}): finish`,
          e,
        );
      }
    }
    for (const w of this.writers.values()) w.endOfPartition();
  }

  /**
   * Closes every operator and backend and stops the writers. Every one is closed even when one
   * fails; the first error is returned (a task that finished fails with it, as in Flink), and
   * after a failure or cancellation the caller ignores it, so it cannot hide the first failure.
   */
  async close(): Promise<unknown> {
    if (this.closed) return undefined;
    this.closed = true;
    let failure: unknown;
    for (const w of this.writers.values()) w.dispose();
    for (const op of this.operators.values()) {
      try {
        await op.close();
      } catch (e) {
        failure ??= e;
      }
    }
    for (const b of [...this.backends.values()]) {
      try {
        await b.close();
      } catch (e) {
        failure ??= e;
      }
    }
    this.backends.clear();
    return failure;
  }

  // ---- availability ----

  /** Whether every writer can take more (no backlog waiting for credit). */
  outputsAvailable(): boolean {
    for (const w of this.writers.values()) if (!w.isAvailable()) return false;
    return true;
  }

  /** Resolves when every writer has credit again; the wait counts as backpressure. */
  whenOutputsAvailable(): Promise<void> {
    if (this.outputsWait) return this.outputsWait;
    const start = performance.now();
    this.backPressuredSince = start;
    const pending = [...this.writers.values()].filter((w) => !w.isAvailable());
    this.outputsWait = Promise.all(pending.map((w) => w.whenAvailable())).then(() => {
      this.backPressuredMs += performance.now() - start;
      this.backPressuredSince = undefined;
      this.outputsWait = undefined;
    });
    return this.outputsWait;
  }

  /** Total time spent waiting for output credit, a wait in progress counted up to now. */
  backPressuredTimeMs(): number {
    const ongoing =
      this.backPressuredSince === undefined ? 0 : performance.now() - this.backPressuredSince;
    return this.backPressuredMs + ongoing;
  }

  /** A state backend writing back: resolves when the task may go on. */
  stateAvailability(): Promise<void> | undefined {
    for (const b of this.backends.values()) {
      const a = b.availability();
      if (a) return a;
    }
    return undefined;
  }

  /** An operator (a sink, an async operator) that takes no input now: resolves when it does. */
  operatorsAvailability(): Promise<void> | undefined {
    for (const op of this.throttling) {
      const a = op.availability();
      if (a) return a;
    }
    return undefined;
  }

  // ---- output ----

  /** Sends every partly filled output buffer now. */
  flushOutputs(): void {
    for (const w of this.writers.values()) w.flushAll();
  }

  /** With `execution.buffer-timeout: 0`, sends what the writers hold after every batch. */
  flushIfNoTimeout(): void {
    if (this.ctx.services.config.bufferTimeout === 0)
      for (const w of this.writers.values()) w.flushAll();
  }

  /**
   * Sends the barrier on every output; for an unaligned checkpoint (or an aligned one with a
   * timeout) resolves with each output edge's channel state.
   */
  broadcastBarrier(
    checkpointId: number,
    options: CheckpointOptions,
  ): Map<string, Promise<OutputChannelState>> {
    const states = new Map<string, Promise<OutputChannelState>>();
    for (const [edge, w] of this.writers) {
      const state = w.broadcastBarrier(checkpointId, options);
      if (state) states.set(edge, state);
    }
    return states;
  }
  /** Checkpoint `checkpointId` was aborted: no barrier waits for its output state any more. */
  abortBarrier(checkpointId: number): void {
    for (const w of this.writers.values()) w.abortBarrier(checkpointId);
  }
  /** Restore: each output edge sends its channel state first. */
  restoreOutputState(state: ReadonlyMap<string, readonly (readonly Uint8Array[])[]>): void {
    for (const [edge, channels] of state) {
      const w = this.writers.get(edge);
      if (!w)
        throw new Error(
          `${this.ctx.name}: the checkpoint holds in-flight data of output edge ${edge}, which the job does not have`,
        );
      w.restoreOutputState(channels);
    }
  }

  broadcastCancelBarrier(checkpointId: number): void {
    for (const w of this.writers.values()) w.broadcastCancelBarrier(checkpointId);
  }

  /** Periodic state backend maintenance (TTL cleanup, background flushes). */
  maintain(): void {
    for (const b of this.backends.values()) b.maintain();
  }

  private buildOutputs(): Map<number, Output<unknown>> {
    const outputs = new Map<number, Output<unknown>>();
    const inChain = new Set(this.nodes.map((n) => n.id));
    for (const node of this.nodes) {
      const main: Target[] = [];
      const side = new Map<string, Target[]>();
      for (const edge of node.outEdges) {
        let target: Target;
        if (inChain.has(edge.target.id)) {
          const op = this.operators.get(edge.target.id);
          if (!(op instanceof StreamOperator))
            throw new Error(`internal: ${edge.target.name} cannot be chained`);
          target = new ChainedTarget(op, this.metrics.get(edge.target.id)!);
        } else {
          target = new NetworkTarget(this.writers.get(edge.id)!);
        }
        if (edge.sideOutputTag === undefined) {
          main.push(target);
        } else {
          const list = side.get(edge.sideOutputTag) ?? [];
          list.push(target);
          side.set(edge.sideOutputTag, list);
        }
      }
      outputs.set(node.id, new ChainOutput(main, side, this.metrics.get(node.id)!));
    }
    return outputs;
  }
}

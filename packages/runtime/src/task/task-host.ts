import type { Key, SourceSplit } from '@nimble/api';
import { QueryableStateUnavailableError } from '../state/queryable-state.js';
import type { QueriedValue } from '../state/queryable-state.js';
import type { ExecutionConfiguration } from '../config.js';
import type { CheckpointOptions } from '../exchange/buffer-codec.js';
import type { StateFileSystem } from '../checkpoint/storage/index.js';
import type {
  SubtaskCheckpointAck,
  TaskCheckpointServices,
  TaskRestore,
} from '../checkpoint/task-state.js';
import type { ChannelReceiver, ChannelSender } from '../exchange/channel.js';
import type { InputChannel, OperatorQueryableState } from './task-context.js';
import { localChannel, PortMultiplexer } from '../exchange/channel.js';
import type { MessageEndpoint } from '../exchange/channel.js';
import type { JobGraph, JobVertex } from '../graph/job-graph.js';
import type { ProcessingTimeService } from '../timers/processing-time-service.js';
import { StreamTask } from './stream-task.js';
import type { TaskMetricsSample } from './task-metrics-sample.js';
import { sampleTaskMetrics } from './task-metrics-sample.js';

/** What the tasks of a slot report to the job's coordinator. */
export interface TaskEvents {
  readerRegistered(vertexId: number, subtask: number): void;
  /** `metrics`: the subtask's final counters. */
  taskFinished(vertexId: number, subtask: number, metrics: TaskMetricsSample): void;
  taskFailed(vertexId: number, subtask: number, error: Error): void;
  collect(collectId: string, subtask: number, values: unknown[]): void;
  /** A subtask wrote its state for a checkpoint (absent where no coordinator triggers checkpoints). */
  acknowledgeCheckpoint?(
    vertexId: number,
    subtask: number,
    checkpointId: number,
    ack: SubtaskCheckpointAck,
  ): void;
  declineCheckpoint?(vertexId: number, subtask: number, checkpointId: number, reason: Error): void;
  stdout(text: string): void;
  stderr(text: string): void;
  /** A subtask's keyed state backend registered a queryable state (Flink's KvState registration). */
  queryableStateRegistered?(
    vertexId: number,
    subtask: number,
    registration: OperatorQueryableState,
  ): void;
}

/** Identifies one channel: an edge, a producer subtask and a consumer subtask. */
export function channelId(edgeId: string, producer: number, consumer: number): string {
  return `${edgeId}|${producer}|${consumer}`;
}

/** Producer subtasks that send to consumer `subtask` over `edge` (forward: only the same index). */
export function producersOf(edge: JobVertex['inputs'][number], subtask: number): number[] {
  if (edge.partitioner === 'forward') return [subtask];
  return Array.from({ length: edge.source.parallelism }, (_, i) => i);
}

/** Consumer subtasks that producer `subtask` sends to over `edge`. */
export function consumersOf(edge: JobVertex['outputs'][number], subtask: number): number[] {
  if (edge.partitioner === 'forward') return [subtask];
  return Array.from({ length: edge.target.parallelism }, (_, i) => i);
}

/** Settings of a task host. */
export interface TaskHostOptions {
  readonly graph: JobGraph;
  readonly config: ExecutionConfiguration;
  readonly attemptNumber: number;
  /** This host's slot; subtask i of every vertex runs in slot i (slot sharing). */
  readonly slot: number;
  /** Whether all slots are in this host (one thread runs everything). */
  readonly allSlots: boolean;
  /** Ports to the other slots' threads, by slot index. */
  readonly ports: ReadonlyMap<number, MessageEndpoint>;
  readonly processingTimeService: ProcessingTimeService;
  readonly localStateDir: string;
  readonly events: TaskEvents;
  /** The file system of checkpoint and savepoint URIs (s3:// with the TaskManager's s3.* options). */
  readonly fileSystem?: (uri: string) => StateFileSystem;
  /** The checkpoint or savepoint to restore from. */
  readonly restore?: TaskRestore;
}

/**
 * Runs the subtasks of one slot (or all slots, in one thread) and wires their channels: subtasks
 * on this thread are connected directly, others through the port to their slot's thread.
 */
export class TaskHost {
  private readonly tasks = new Map<string, StreamTask>();
  private readonly vertexOf = new Map<StreamTask, JobVertex>();
  private readonly local = new Map<string, { sender: ChannelSender; receiver: ChannelReceiver }>();
  private readonly muxes = new Map<number, PortMultiplexer>();

  constructor(private readonly options: TaskHostOptions) {
    for (const [slot, port] of options.ports) this.muxes.set(slot, new PortMultiplexer(port));
  }

  /** Creates this host's tasks and registers all their channels; nothing runs yet. */
  deploy(): void {
    const { graph, config, attemptNumber, events } = this.options;
    const checkpoints: TaskCheckpointServices = {
      fileSystem: (uri) => {
        if (!this.options.fileSystem) throw new Error(`No checkpoint storage for ${uri} here`);
        return this.options.fileSystem(uri);
      },
      incremental: config.incrementalCheckpoints,
      acknowledge: (v, st, id, ack) => events.acknowledgeCheckpoint?.(v, st, id, ack),
      decline: (v, st, id, reason) => events.declineCheckpoint?.(v, st, id, reason),
    };
    const services = {
      checkpoints,
      config,
      processingTimeService: this.options.processingTimeService,
      localStateDir: this.options.localStateDir,
      registerReader: (v: number, s: number) => events.readerRegistered(v, s),
      collectTarget: (id: string, subtask: number, values: unknown[]) =>
        events.collect(id, subtask, values),
      registerQueryableState: (v: number, st: number, r: OperatorQueryableState) =>
        events.queryableStateRegistered?.(v, st, r),
      writeStdout: (text: string) => events.stdout(text),
      writeStderr: (text: string) => events.stderr(text),
      autoWatermarkIntervalMs: config.autoWatermarkInterval,
      copyUserFunctions: this.options.allSlots,
      bufferTimeoutMs: config.bufferTimeout,
      alignedWindows: config.alignedWindows,
    };
    for (const vertex of graph.vertices) {
      for (let i = 0; i < vertex.parallelism; i++) {
        if (!this.hosts(i)) continue;
        const inputs: InputChannel[] = [];
        for (const edge of vertex.inputs) {
          for (const p of producersOf(edge, i))
            inputs.push({
              receiver: this.receiver(channelId(edge.id, p, i), p),
              inputIndex: edge.inputIndex,
            });
        }
        const outputs = new Map<string, ChannelSender[]>();
        for (const edge of vertex.outputs) {
          outputs.set(
            edge.id,
            consumersOf(edge, i).map((c) => this.sender(channelId(edge.id, i, c), c)),
          );
        }
        const task = new StreamTask(
          {
            graph,
            vertex,
            subtaskIndex: i,
            attemptNumber,
            inputs,
            outputs,
            restore: this.options.restore,
          },
          services,
        );
        this.tasks.set(`${vertex.id}/${i}`, task);
        this.vertexOf.set(task, vertex);
      }
    }
  }

  /** Starts every task; each reports its end through the events. */
  start(): void {
    const { events } = this.options;
    for (const task of this.tasks.values()) {
      task.run().then(
        () =>
          events.taskFinished(
            task.vertexId,
            task.subtaskIndex,
            sampleTaskMetrics(task, this.vertexOf.get(task)!),
          ),
        (e: unknown) =>
          events.taskFailed(
            task.vertexId,
            task.subtaskIndex,
            e instanceof Error ? e : new Error(String(e)),
          ),
      );
    }
  }

  assignSplits(vertexId: number, subtask: number, splits: SourceSplit[]): void {
    this.task(vertexId, subtask).assignSplits(splits);
  }
  noMoreSplits(vertexId: number, subtask: number): void {
    this.task(vertexId, subtask).noMoreSplits();
  }

  /** Triggers a checkpoint at a source subtask of this host. */
  triggerCheckpoint(
    vertexId: number,
    subtask: number,
    checkpointId: number,
    options: CheckpointOptions,
  ): void {
    this.task(vertexId, subtask).triggerCheckpoint(checkpointId, options);
  }
  /** Resolves when every task processed the notification (sinks committed). */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await Promise.all(
      [...this.tasks.values()].map((t) => t.notifyCheckpointComplete(checkpointId)),
    );
  }
  notifyCheckpointAborted(checkpointId: number): void {
    for (const t of this.tasks.values()) t.notifyCheckpointAborted(checkpointId);
  }

  /**
   * Looks `keys` up in the state queryable as `queryableStateName` of subtask `subtask` of
   * vertex `vertexId`; a subtask that is not here rejects as retryable (stale routing).
   */
  queryState(
    vertexId: number,
    subtask: number,
    queryableStateName: string,
    keys: readonly Key[],
  ): Promise<QueriedValue[]> {
    const t = this.tasks.get(`${vertexId}/${subtask}`);
    if (!t) {
      return Promise.reject(
        new QueryableStateUnavailableError(
          `Subtask ${subtask} of vertex ${vertexId} does not run in slot ${this.options.slot}; retry`,
        ),
      );
    }
    return t.queryState(queryableStateName, keys);
  }

  /** Cancels every task that still runs. */
  /** Cancels every task; resolves once all are released (their operators closed). */
  async cancel(): Promise<void> {
    await Promise.allSettled([...this.tasks.values()].map((t) => t.cancel()));
  }

  /** Current counters of every task of this host. */
  sampleMetrics(): TaskMetricsSample[] {
    return [...this.tasks.values()].map((t) => sampleTaskMetrics(t, this.vertexOf.get(t)!));
  }

  /** The tasks of this host. */
  allTasks(): StreamTask[] {
    return [...this.tasks.values()];
  }

  private task(vertexId: number, subtask: number): StreamTask {
    const t = this.tasks.get(`${vertexId}/${subtask}`);
    if (!t)
      throw new Error(`internal: task ${vertexId}/${subtask} is not in slot ${this.options.slot}`);
    return t;
  }

  private hosts(subtask: number): boolean {
    return this.options.allSlots || subtask === this.options.slot;
  }

  private localPair(id: string): { sender: ChannelSender; receiver: ChannelReceiver } {
    let pair = this.local.get(id);
    if (!pair) {
      pair = localChannel();
      this.local.set(id, pair);
    }
    return pair;
  }

  private receiver(id: string, producerSubtask: number): ChannelReceiver {
    if (this.hosts(producerSubtask)) return this.localPair(id).receiver;
    return this.mux(producerSubtask).receiver(id);
  }

  private sender(id: string, consumerSubtask: number): ChannelSender {
    if (this.hosts(consumerSubtask)) return this.localPair(id).sender;
    return this.mux(consumerSubtask).sender(id);
  }

  private mux(slot: number): PortMultiplexer {
    const m = this.muxes.get(slot);
    if (!m) throw new Error(`internal: slot ${this.options.slot} has no port to slot ${slot}`);
    return m;
  }
}

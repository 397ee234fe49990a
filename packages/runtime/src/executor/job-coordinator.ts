import type { Source, SourceSplit, SplitEnumerator } from '@nimble/api';
import { SourceTransformation } from '@nimble/api';
import { NimbleError, userCodeFailure } from '../errors.js';
import type { JobGraph } from '../graph/job-graph.js';
import type { TaskEvents } from '../task/task-host.js';

/** How the coordinator reaches the slot that runs a subtask. */
export interface SlotGateway {
  assignSplits(vertexId: number, subtask: number, splits: SourceSplit[]): void;
  noMoreSplits(vertexId: number, subtask: number): void;
  cancelAll(): void;
}

/** A job failed: the message names the failing task, `cause` is the task's error. */
export class JobExecutionError extends NimbleError {
  override name = 'JobExecutionError';
  constructor(jobName: string, cause: Error) {
    super(
      `Job ${JSON.stringify(jobName)} failed: ${cause.message}`,
      cause instanceof NimbleError ? cause.domain : 'user',
      { cause },
    );
    if (cause.stack) this.stack = `${this.name}: ${this.message}\nCaused by: ${cause.stack}`;
  }
}

/**
 * The job-level side of an execution (Flink's JobMaster, in miniature): runs the source split
 * enumerators, tracks task completion, gathers collected results, and fails the job when a task
 * fails.
 */
export class JobCoordinator implements TaskEvents {
  private readonly enumerators = new Map<number, SplitEnumerator<SourceSplit, unknown>>();
  private readonly collected = new Map<string, Map<number, unknown[]>>();
  private remaining: number;
  private failed = false;
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  readonly result: Promise<void>;
  gateway: SlotGateway | undefined;

  constructor(
    private readonly graph: JobGraph,
    private readonly out: { stdout(text: string): void; stderr(text: string): void },
  ) {
    this.remaining = graph.vertices.reduce((n, v) => n + v.parallelism, 0);
    this.result = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  /** Creates (or restores from `restored`, by vertex id) and starts the split enumerators of all sources. */
  async startEnumerators(restored?: ReadonlyMap<number, unknown>): Promise<void> {
    for (const vertex of this.graph.vertices) {
      const t = vertex.nodes[0]!.transformation;
      if (!(t instanceof SourceTransformation)) continue;
      const source = t.source as Source<unknown, SourceSplit, unknown>;
      const name = `${vertex.nodes[0]!.name} (enumerator)`;
      try {
        const context = {
          currentParallelism: () => vertex.parallelism,
          assignSplits: (subtask: number, splits: SourceSplit[]) =>
            this.gateway!.assignSplits(vertex.id, subtask, splits),
          signalNoMoreSplits: (subtask: number) => this.gateway!.noMoreSplits(vertex.id, subtask),
        };
        const enumerator = restored?.has(vertex.id)
          ? source.restoreEnumerator(context, restored.get(vertex.id))
          : source.createEnumerator(context);
        this.enumerators.set(vertex.id, enumerator);
        await enumerator.start();
      } catch (e) {
        throw userCodeFailure(name, e);
      }
    }
  }

  /** The enumerators' states for checkpoint `checkpointId`, by source vertex id. */
  snapshotEnumerators(checkpointId: number): Map<number, unknown> {
    const states = new Map<number, unknown>();
    for (const [vertexId, enumerator] of this.enumerators) {
      try {
        states.set(vertexId, enumerator.snapshotState(checkpointId));
      } catch (e) {
        throw userCodeFailure(`source enumerator of vertex ${vertexId}: snapshotState`, e);
      }
    }
    return states;
  }

  /** Results of `executeAndCollect`, concatenated in subtask order. */
  collectedResults(): Map<string, unknown[]> {
    const out = new Map<string, unknown[]>();
    for (const [id, bySubtask] of this.collected) {
      const all: unknown[] = [];
      for (const subtask of [...bySubtask.keys()].sort((a, b) => a - b))
        for (const v of bySubtask.get(subtask)!) all.push(v);
      out.set(id, all);
    }
    return out;
  }

  async closeEnumerators(): Promise<void> {
    for (const e of this.enumerators.values()) {
      try {
        await e.close();
      } catch {
        // The job's outcome is already decided.
      }
    }
  }

  readerRegistered(vertexId: number, subtask: number): void {
    const enumerator = this.enumerators.get(vertexId);
    try {
      enumerator?.addReader(subtask);
    } catch (e) {
      this.fail(userCodeFailure(`source enumerator of vertex ${vertexId}`, e));
    }
  }
  taskFinished(): void {
    if (--this.remaining === 0 && !this.failed) this.settle.resolve();
  }
  taskFailed(_vertexId: number, _subtask: number, error: Error): void {
    this.fail(error);
  }
  collect(collectId: string, subtask: number, values: unknown[]): void {
    let bySubtask = this.collected.get(collectId);
    if (!bySubtask) {
      bySubtask = new Map();
      this.collected.set(collectId, bySubtask);
    }
    const list = bySubtask.get(subtask);
    if (list) {
      for (const v of values) list.push(v);
    } else {
      bySubtask.set(subtask, values);
    }
  }
  stdout(text: string): void {
    this.out.stdout(text);
  }
  stderr(text: string): void {
    this.out.stderr(text);
  }

  /** Fails the job: cancels every task and rejects `result`. */
  fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.gateway?.cancelAll();
    this.settle.reject(new JobExecutionError(this.graph.jobName, error));
  }
}

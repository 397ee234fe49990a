import type { Key, SourceSplit } from '@nimble/api';
import { QueryableStateUnavailableError } from '../state/queryable-state.js';
import type { QueriedValue } from '../state/queryable-state.js';
import type { MessagePort } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type { TaskEvents } from '../task/task-host.js';
import type { CheckpointOptions } from '../exchange/buffer-codec.js';
import type { TaskMetricsSample } from '../task/task-metrics-sample.js';
import type { FromWorker, SlotWorkerData, ToWorker } from './worker-protocol.js';
import { deserializeError } from './worker-protocol.js';

/** What a slot worker reports to the thread that started it. */
export interface SlotWorkerEvents extends TaskEvents {
  /** Periodic counters of the slot's tasks (when `metricsIntervalMs` > 0). */
  metrics?(tasks: TaskMetricsSample[]): void;
  /** The worker died or exited on its own: every task of the slot is gone. */
  workerLost(error: Error): void;
}

/**
 * The starting thread's handle on one slot's worker thread (used by the local executor and the
 * TaskManager alike): deploys the slot's tasks in the worker, relays commands to it and its
 * reports back.
 */
export class SlotWorkerHandle {
  /** Settles when the worker built its tasks (or failed to). */
  readonly deployed: Promise<void>;
  private readonly worker: Worker;
  private ended = false;
  private readonly notified = new Map<number, (() => void)[]>();
  /** Waiting for the worker to report its cancelled tasks released. */
  private readonly cancelled: (() => void)[] = [];
  private readonly lookups = new Map<
    number,
    { resolve: (r: QueriedValue[]) => void; reject: (e: Error) => void }
  >();
  private nextLookup = 1;

  constructor(
    readonly data: SlotWorkerData,
    options: { argv: readonly string[]; events: SlotWorkerEvents },
  ) {
    const events = options.events;
    this.worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { ...data, role: 'slot' },
      // The job module reads its arguments in every worker as where it was submitted.
      argv: [...options.argv],
      transferList: Object.values(data.ports) as MessagePort[],
      execArgv: workerExecArgv(),
      stdout: false,
      stderr: false,
    });
    this.deployed = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'deployed':
            resolve();
            break;
          case 'deployFailed':
            reject(deserializeError(m.error));
            break;
          case 'readerRegistered':
            events.readerRegistered(m.vertexId, m.subtask);
            break;
          case 'taskFinished':
            events.taskFinished(m.vertexId, m.subtask, m.metrics);
            break;
          case 'taskFailed':
            events.taskFailed(m.vertexId, m.subtask, deserializeError(m.error));
            break;
          case 'collect':
            events.collect(m.collectId, m.subtask, m.values);
            break;
          case 'metrics':
            events.metrics?.(m.tasks);
            break;
          case 'cancelled':
            for (const w of this.cancelled.splice(0)) w();
            break;
          case 'checkpointNotified':
            for (const w of this.notified.get(m.checkpointId) ?? []) w();
            this.notified.delete(m.checkpointId);
            break;
          case 'checkpointAck':
            events.acknowledgeCheckpoint?.(m.vertexId, m.subtask, m.checkpointId, m.ack);
            break;
          case 'checkpointDecline':
            events.declineCheckpoint?.(
              m.vertexId,
              m.subtask,
              m.checkpointId,
              deserializeError(m.error),
            );
            break;
          case 'queryableStateRegistered':
            events.queryableStateRegistered?.(m.vertexId, m.subtask, m.registration);
            break;
          case 'queryStateResult':
            this.lookups.get(m.requestId)?.resolve(m.results);
            this.lookups.delete(m.requestId);
            break;
          case 'queryStateFailed':
            this.lookups.get(m.requestId)?.reject(deserializeError(m.error));
            this.lookups.delete(m.requestId);
            break;
          case 'stdout':
            events.stdout(m.text);
            break;
          case 'stderr':
            events.stderr(m.text);
            break;
        }
      });
      this.worker.on('error', (e) => {
        reject(e);
        if (!this.ended) events.workerLost(e);
      });
      this.worker.on('exit', (code) => {
        const error = new Error(
          `Slot ${data.slot}'s worker thread exited with code ${code} while the job was running`,
        );
        reject(error);
        if (!this.ended) events.workerLost(error);
        this.ended = true;
        for (const w of this.cancelled.splice(0)) w();
        for (const waiting of this.notified.values()) for (const w of waiting) w();
        this.notified.clear();
        this.rejectLookups();
      });
    });
    // A deploy failure is reported through `deployed`; keep it from being an unhandled rejection.
    this.deployed.catch(() => {});
  }

  start(): void {
    this.post({ type: 'start' });
  }
  triggerCheckpoint(
    vertexId: number,
    subtask: number,
    checkpointId: number,
    options: CheckpointOptions,
  ): void {
    this.post({ type: 'triggerCheckpoint', vertexId, subtask, checkpointId, options });
  }
  /** Resolves when the slot's tasks processed the notification (or the worker ended). */
  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.notified.get(checkpointId) ?? [];
      waiting.push(resolve);
      this.notified.set(checkpointId, waiting);
      this.post({ type: 'checkpointComplete', checkpointId });
    });
  }
  notifyCheckpointAborted(checkpointId: number): void {
    this.post({ type: 'checkpointAborted', checkpointId });
  }
  assignSplits(vertexId: number, subtask: number, splits: SourceSplit[]): void {
    this.post({ type: 'splits', vertexId, subtask, splits });
  }
  noMoreSplits(vertexId: number, subtask: number): void {
    this.post({ type: 'noMoreSplits', vertexId, subtask });
  }
  /**
   * Looks `keys` up in the state queryable as `name` of subtask `subtask` of vertex `vertexId`
   * in this worker; rejects as retryable once the worker ended.
   */
  queryState(
    vertexId: number,
    subtask: number,
    name: string,
    keys: Key[],
  ): Promise<QueriedValue[]> {
    if (this.ended) return Promise.reject(this.workerGone());
    const requestId = this.nextLookup++;
    return new Promise((resolve, reject) => {
      this.lookups.set(requestId, { resolve, reject });
      this.post({ type: 'queryState', requestId, vertexId, subtask, name, keys });
    });
  }

  private workerGone(): QueryableStateUnavailableError {
    return new QueryableStateUnavailableError(
      `Slot ${this.data.slot}'s worker has ended (the job is restarting or was cancelled); retry`,
    );
  }

  private rejectLookups(): void {
    for (const { reject } of this.lookups.values()) reject(this.workerGone());
    this.lookups.clear();
  }

  /** Asks the tasks to stop; the worker keeps running until terminated. */
  cancel(): void {
    this.post({ type: 'cancel' });
  }

  /**
   * Asks the tasks to stop and resolves once they are released (their operators closed), after
   * `timeoutMs` at most, or at once when the worker is gone: the worker may then be terminated
   * without cutting a sink's close short.
   */
  cancelAndWait(timeoutMs: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.cancelled.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.cancel();
    });
  }

  /** Stops the worker thread; it is not reported as lost. */
  async terminate(): Promise<void> {
    this.ended = true;
    this.rejectLookups();
    await this.worker.terminate();
  }

  private post(m: ToWorker): void {
    if (!this.ended) this.worker.postMessage(m);
  }
}

/** Node options for Nimble's workers: the parent's, less its module loaders (the worker entry registers its own). */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (
      (a === '--import' || a === '--require' || a === '--loader') &&
      argv[i + 1]?.includes('tsx')
    ) {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

import type { SourceSplit } from '@nimble/api';
import { Worker } from 'node:worker_threads';
import type { EnumeratorWorkerData, FromEnumerator, ToEnumerator } from './enumerator-protocol.js';
import { workerExecArgv } from './slot-worker-handle.js';
import { deserializeError } from './worker-protocol.js';

/** What the split enumerators of a job ask of the JobManager. */
export interface SplitEnumeratorEvents {
  assignSplits(vertexId: number, subtask: number, splits: SourceSplit[]): void;
  noMoreSplits(vertexId: number, subtask: number): void;
  /** The enumerators (user code) failed, or their worker died. */
  failed(error: Error): void;
}

/**
 * Runs the split enumerators of one job attempt on a worker thread of the JobManager, so the
 * user's enumerator code can neither block nor crash the daemon.
 */
export class SplitEnumeratorHost {
  private readonly worker: Worker;
  private closed = false;
  private readonly snapshots = new Map<
    number,
    { resolve: (s: Map<number, unknown>) => void; reject: (e: Error) => void }
  >();
  /** Settles when the enumerators started (or failed to). */
  readonly started: Promise<void>;

  constructor(data: EnumeratorWorkerData, argv: readonly string[], events: SplitEnumeratorEvents) {
    this.worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { ...data, role: 'enumerator' },
      argv: [...argv],
      execArgv: workerExecArgv(),
      stdout: false,
      stderr: false,
    });
    this.started = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: FromEnumerator) => {
        switch (m.type) {
          case 'ready':
            resolve();
            break;
          case 'failed': {
            const error = deserializeError(m.error);
            reject(error);
            if (!this.closed) events.failed(error);
            break;
          }
          case 'splits':
            events.assignSplits(m.vertexId, m.subtask, m.splits);
            break;
          case 'noMoreSplits':
            events.noMoreSplits(m.vertexId, m.subtask);
            break;
          case 'snapshot': {
            const waiter = this.snapshots.get(m.checkpointId);
            this.snapshots.delete(m.checkpointId);
            if (m.error) waiter?.reject(deserializeError(m.error));
            else
              waiter?.resolve(
                new Map(Object.entries(m.states ?? {}).map(([k, v]) => [Number(k), v])),
              );
            break;
          }
        }
      });
      const lost = (error: Error): void => {
        reject(error);
        if (!this.closed) events.failed(error);
        this.closed = true;
      };
      this.worker.on('error', lost);
      this.worker.on('exit', (code) =>
        lost(new Error(`The split-enumerator worker exited with code ${code}`)),
      );
    });
    this.started.catch(() => {});
  }

  readerRegistered(vertexId: number, subtask: number): void {
    if (!this.closed)
      this.worker.postMessage({
        type: 'readerRegistered',
        vertexId,
        subtask,
      } satisfies ToEnumerator);
  }

  /** The enumerators' states for checkpoint `checkpointId`, by source vertex id. */
  snapshot(checkpointId: number): Promise<Map<number, unknown>> {
    if (this.closed) return Promise.reject(new Error('The split enumerators are closed'));
    return new Promise((resolve, reject) => {
      this.snapshots.set(checkpointId, { resolve, reject });
      this.worker.postMessage({ type: 'snapshot', checkpointId } satisfies ToEnumerator);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.snapshots.values()) w.reject(new Error('The split enumerators closed'));
    this.snapshots.clear();
    await this.worker.terminate();
  }
}

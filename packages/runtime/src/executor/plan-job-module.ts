import { Worker } from 'node:worker_threads';
import { workerExecArgv } from './slot-worker-handle.js';
import type { SerializedError } from './worker-protocol.js';
import { deserializeError } from './worker-protocol.js';

/** What a plan worker is given. */
export interface PlanWorkerData {
  readonly jobModule: string;
  /** Overrides of the configuration the module sets (a run request's parallelism). */
  readonly configuration: Record<string, string>;
}

/** What a plan worker answers. */
export type FromPlanWorker =
  | {
      readonly type: 'plan';
      readonly jobName: string;
      readonly planJson: string;
      readonly graphDigest: string;
      readonly configuration: Record<string, string>;
    }
  | { readonly type: 'failed'; readonly error: SerializedError };

/** A job module's plan, as the client submits it with the bundle. */
export interface ModulePlan {
  readonly jobName: string;
  readonly planJson: string;
  readonly graphDigest: string;
  /** The module's configuration with the overrides: the job's configuration. */
  readonly configuration: Record<string, string>;
}

/**
 * Loads a job module in a worker thread with `programArgs` as its arguments, as `nimble run`
 * does in the client, and returns the plan it builds. The worker ends once it answered, or
 * after `timeoutMs`: a module that never calls `execute()` does not hold a thread.
 */
export function planJobModule(
  jobModule: string,
  programArgs: readonly string[],
  configuration: Record<string, string>,
  timeoutMs: number,
): Promise<ModulePlan> {
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { jobModule, configuration, role: 'plan' },
    argv: [...programArgs],
    execArgv: workerExecArgv(),
    stdout: false,
    stderr: false,
  });
  return new Promise<ModulePlan>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`The job module did not call execute() within ${timeoutMs} ms`));
      void worker.terminate();
    }, timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.on('message', (m: FromPlanWorker) => {
      settle();
      if (m.type === 'plan') {
        resolve({
          jobName: m.jobName,
          planJson: m.planJson,
          graphDigest: m.graphDigest,
          configuration: m.configuration,
        });
      } else reject(deserializeError(m.error));
    });
    worker.on('error', (e) => {
      settle();
      reject(e);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The job module's plan worker exited (code ${code}) without a plan`));
    });
  });
}

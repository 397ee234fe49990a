import { IllegalStateError } from '@nimble/runtime';

/** A job's states (Flink's JobStatus, as far as Nimble has them). */
export type JobStatus =
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'RESTARTING'
  | 'CANCELLING'
  | 'CANCELED'
  | 'FINISHED'
  | 'FAILED'
  | 'SUSPENDED';

/**
 * Every legal transition, in one place. CREATED waits for slots and deploys; a failure restarts
 * the job (RESTARTING, which may fail again while it waits for slots and so restart again) or
 * fails it (FAILING while the tasks are canceled); cancel goes through CANCELLING. SUSPENDED:
 * the JobManager shut down; the job stays in the job store with its checkpoints.
 */
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  CREATED: ['RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING', 'SUSPENDED'],
  RUNNING: ['FINISHED', 'RESTARTING', 'FAILING', 'CANCELLING', 'SUSPENDED'],
  RESTARTING: ['RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING', 'SUSPENDED'],
  FAILING: ['FAILED'],
  CANCELLING: ['CANCELED'],
  CANCELED: [],
  FINISHED: [],
  FAILED: [],
  SUSPENDED: [],
};

/** Whether this JobManager is done with the job (Flink's JobStatus.isTerminalState). */
export function isTerminal(status: JobStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/**
 * Whether the job is done for good (Flink's isGloballyTerminalState): terminal and not
 * SUSPENDED, which another JobManager on the same job store takes up again.
 */
export function isGloballyTerminal(status: JobStatus): boolean {
  return isTerminal(status) && status !== 'SUSPENDED';
}

/** Checks a transition; an illegal one is a defect in the JobManager. */
export function checkTransition(jobId: string, from: JobStatus, to: JobStatus): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new IllegalStateError(`Job ${jobId}: illegal transition ${from} -> ${to}`);
  }
}

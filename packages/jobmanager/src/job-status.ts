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
  | 'FAILED';

/**
 * Every legal transition, in one place. CREATED waits for slots and deploys; a failure restarts
 * the job (RESTARTING, which may fail again while it waits for slots and so restart again) or
 * fails it (FAILING while the tasks are canceled); cancel goes through CANCELLING.
 */
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  CREATED: ['RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING'],
  RUNNING: ['FINISHED', 'RESTARTING', 'FAILING', 'CANCELLING'],
  RESTARTING: ['RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING'],
  FAILING: ['FAILED'],
  CANCELLING: ['CANCELED'],
  CANCELED: [],
  FINISHED: [],
  FAILED: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Checks a transition; an illegal one is a defect in the JobManager. */
export function checkTransition(jobId: string, from: JobStatus, to: JobStatus): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new IllegalStateError(`Job ${jobId}: illegal transition ${from} -> ${to}`);
  }
}

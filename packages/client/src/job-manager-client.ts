import type {
  ClusterOverview__Output,
  DispatcherClient,
  JobDetails__Output,
  JobEvent__Output,
  SubmitJobRequest,
} from '@nimble/proto';
import { NO_RETRY, RpcClient, nimbleServices } from '@nimble/proto';

/** The states in which a job has ended. */
export const TERMINAL_STATES = new Set(['FINISHED', 'FAILED', 'CANCELED']);

/** A typed client of the JobManager's Dispatcher service (job submission and control). */
export class JobManagerClient {
  private readonly rpc: RpcClient<DispatcherClient>;

  /** @param address host:port of the JobManager's gRPC endpoint (jobmanager.rpc.port). */
  constructor(readonly address: string) {
    this.rpc = new RpcClient(nimbleServices().Dispatcher, address);
  }

  async submitJob(request: SubmitJobRequest): Promise<string> {
    // Not retried: a submission that timed out may have been accepted.
    const res = await this.rpc.call(this.rpc.raw.SubmitJob, request, {
      retry: NO_RETRY,
      deadlineMs: 120_000,
    });
    return res.jobId;
  }

  async listJobs(runningOnly = false): Promise<JobDetails__Output[]> {
    const res = await this.rpc.call(this.rpc.raw.ListJobs, { runningOnly }, { idempotent: true });
    return res.jobs;
  }

  getJob(jobId: string): Promise<JobDetails__Output> {
    return this.rpc.call(this.rpc.raw.GetJob, { jobId }, { idempotent: true });
  }

  async cancelJob(jobId: string): Promise<void> {
    await this.rpc.call(this.rpc.raw.CancelJob, { jobId }, { deadlineMs: 60_000 });
  }

  clusterOverview(): Promise<ClusterOverview__Output> {
    return this.rpc.call(this.rpc.raw.GetClusterOverview, {}, { idempotent: true });
  }

  /** The job's details now and after each status change; the last event carries the result. */
  async *watchJob(jobId: string): AsyncGenerator<JobEvent__Output> {
    const stream = this.rpc.raw.WatchJob({ jobId });
    try {
      for await (const event of stream as AsyncIterable<JobEvent__Output>) yield event;
    } finally {
      stream.cancel();
    }
  }

  close(): void {
    this.rpc.close();
  }
}

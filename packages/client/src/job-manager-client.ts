import type {
  ClusterOverview__Output,
  DispatcherClient,
  JobDetails__Output,
  JobEvent__Output,
  RpcSecurity,
  SubmitJobRequest,
} from '@nimble/proto';
import type { CallSettings, Metadata } from '@nimble/proto';
import {
  LEADER_ADDRESS_METADATA,
  NO_RETRY,
  RpcClient,
  RpcError,
  nimbleServices,
  status,
} from '@nimble/proto';
import type { Key } from '@nimble/api';
import { deserialize, serialize } from 'node:v8';

/** The states in which a job has ended. */
export const TERMINAL_STATES = new Set(['FINISHED', 'FAILED', 'CANCELED']);

/** How {@link JobManagerClient.triggerSavepoint} ends the job, if it does. */
export interface SavepointOptions {
  /** Stop the job once the savepoint completed: it ends FINISHED (Flink's `stop`). */
  readonly stop?: boolean;
  /** With `stop`: emit MAX_WATERMARK first, so all event-time timers fire (Flink's `--drain`). */
  readonly drain?: boolean;
}

/** How {@link JobManagerClient.getState} reads: `live` (the value now, the default) or `committed`. */
export interface StateQueryOptions {
  readonly mode?: 'live' | 'committed';
}

/**
 * A lookup of queryable state could not be answered now but may be soon: the job or the subtask
 * owning the key is not running (deploying, restarting after a failure, rescaling). Retry.
 */
export class StateUnavailableError extends Error {
  override name = 'StateUnavailableError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

// A savepoint returns only once every subtask wrote its state: large state takes long.
const SAVEPOINT_DEADLINE_MS = 10 * 60_000;

/** A typed client of the JobManager's Dispatcher service (job submission and control). */
export class JobManagerClient {
  private rpc: RpcClient<DispatcherClient>;

  /**
   * @param address host:port of the JobManager's gRPC endpoint (jobmanager.rpc.port).
   * @param security the cluster's mutual TLS and the client token, when it has them
   *   (docs/security.md).
   */
  constructor(
    address: string,
    private readonly security: RpcSecurity = {},
  ) {
    this.rpc = new RpcClient(nimbleServices().Dispatcher, address, { security });
  }

  /** host:port of the JobManager called: the leader, once a standby named it. */
  get address(): string {
    return this.rpc.address;
  }

  /**
   * Calls a Dispatcher method. A standby JobManager (high availability) refuses with the
   * leader's address: the client then calls the leader, and keeps it for later calls.
   */
  private async call<Req, Res>(
    method: (raw: DispatcherClient) => (req: Req, cb: (e: unknown, r?: Res) => void) => unknown,
    request: Req,
    settings: CallSettings = {},
  ): Promise<Res> {
    for (let hops = 0; ; hops++) {
      try {
        return (await this.rpc.call(
          method(this.rpc.raw) as Parameters<RpcClient<DispatcherClient>['call']>[0],
          request,
          settings,
        )) as Res;
      } catch (e) {
        const leader = leaderOf(e);
        if (leader === undefined || leader === this.rpc.address || hops >= 3) throw e;
        this.rpc.close();
        this.rpc = new RpcClient(nimbleServices().Dispatcher, leader, {
          security: this.security,
        });
      }
    }
  }

  async submitJob(request: SubmitJobRequest): Promise<string> {
    // Not retried: a submission that timed out may have been accepted.
    try {
      const res = await this.call((r) => r.SubmitJob, request, {
        retry: NO_RETRY,
        deadlineMs: 120_000,
      });
      return res.jobId;
    } catch (e) {
      if (e instanceof RpcError && e.code === status.RESOURCE_EXHAUSTED) {
        const size = request.bundle?.length ?? 0;
        throw new Error(
          `The JobManager at ${this.address} refused the job submission as too large (bundle of ` +
            `${size} bytes; ${e.details}). Keep large data out of the job module, or raise ` +
            'rest.server.max-content-length on the JobManager.',
          { cause: e },
        );
      }
      throw e;
    }
  }

  /**
   * Takes a savepoint of a running job and resolves with its path once it is complete.
   *
   * @param targetDirectory where to write it (file:///path, /path or s3://bucket/key); the job's
   *   state.savepoints.dir when omitted.
   */
  async triggerSavepoint(
    jobId: string,
    targetDirectory = '',
    options: SavepointOptions = {},
  ): Promise<string> {
    // Not retried: a repeated call takes a second savepoint, or finds a stopped job.
    const res = await this.call(
      (r) => r.TriggerSavepoint,
      { jobId, targetDirectory, stop: options.stop ?? false, drain: options.drain ?? false },
      { retry: NO_RETRY, deadlineMs: SAVEPOINT_DEADLINE_MS },
    );
    return res.path;
  }

  /**
   * Takes a checkpoint of a running job now (after one in progress) and resolves with its id
   * and directory once it is complete. `full`: refused when the job checkpoints incrementally.
   */
  async triggerCheckpoint(
    jobId: string,
    full = false,
  ): Promise<{ checkpointId: number; path: string }> {
    // Not retried: a repeated call takes a second checkpoint.
    const res = await this.call(
      (r) => r.TriggerCheckpoint,
      { jobId, full },
      { retry: NO_RETRY, deadlineMs: SAVEPOINT_DEADLINE_MS },
    );
    return { checkpointId: res.checkpointId, path: res.path };
  }

  /**
   * The value of `key` in the state a job made queryable as `name` (Flink's
   * `QueryableStateClient.getKvState`), or undefined when the key has none. Values come as
   * exact JS values (Maps, bigints, Dates). Brief unavailability (a restart) is retried for a few
   * seconds; then {@link StateUnavailableError}. An unknown job or state name rejects with
   * NOT_FOUND, a bad key with INVALID_ARGUMENT.
   */
  async getState<V>(
    jobId: string,
    name: string,
    key: Key,
    options: StateQueryOptions = {},
  ): Promise<V | undefined> {
    const [value] = await this.getStates<V>(jobId, name, [key], options);
    return value;
  }

  /** The values of `keys` (at most 10,000) of queryable state `name`, in the order of the keys. */
  async getStates<V>(
    jobId: string,
    name: string,
    keys: readonly Key[],
    options: StateQueryOptions = {},
  ): Promise<(V | undefined)[]> {
    let res;
    try {
      res = await this.call(
        (r) => r.QueryState,
        { jobId, name, keys: serialize(keys), mode: options.mode ?? 'live' },
        { idempotent: true },
      );
    } catch (e) {
      if (e instanceof RpcError && e.code === status.UNAVAILABLE)
        throw new StateUnavailableError(e.details, { cause: e });
      throw e;
    }
    return res.results.map((r) => (r.found ? (deserialize(r.value) as V) : undefined));
  }

  /** Deletes a savepoint, given as its directory or its `_metadata` file. */
  async disposeSavepoint(path: string): Promise<void> {
    await this.call((r) => r.DisposeSavepoint, { path }, { deadlineMs: 60_000 });
  }

  async listJobs(runningOnly = false): Promise<JobDetails__Output[]> {
    const res = await this.call((r) => r.ListJobs, { runningOnly }, { idempotent: true });
    return res.jobs;
  }

  getJob(jobId: string): Promise<JobDetails__Output> {
    return this.call((r) => r.GetJob, { jobId }, { idempotent: true });
  }

  async cancelJob(jobId: string): Promise<void> {
    await this.call((r) => r.CancelJob, { jobId }, { deadlineMs: 60_000 });
  }

  clusterOverview(): Promise<ClusterOverview__Output> {
    return this.call((r) => r.GetClusterOverview, {}, { idempotent: true });
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

/** The leader's address a standby JobManager named in its refusal, if `e` is one. */
function leaderOf(e: unknown): string | undefined {
  if (!(e instanceof RpcError) || e.code !== status.UNAVAILABLE) return undefined;
  const value = (e.cause as { metadata?: Metadata } | undefined)?.metadata?.get(
    LEADER_ADDRESS_METADATA,
  )[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

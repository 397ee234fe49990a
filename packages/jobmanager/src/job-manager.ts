import type {
  BlobServerHandlers,
  DispatcherHandlers,
  JobEvent,
  JobManagerHeartbeat,
  JobMasterGatewayHandlers,
  QueryStateRequest__Output,
  QueryStateResponse,
  ResourceManagerHandlers,
  Server,
  ServerDuplexStream,
  TaskManagerHeartbeat__Output,
} from '@nimble/proto';
import {
  adaptHandlers,
  bindServer,
  createServer,
  failedPrecondition,
  fencingTokenInterceptor,
  gateServerInterceptor,
  invalidArgument,
  nimbleServices,
  notFound,
  RpcStatusError,
  status,
} from '@nimble/proto';
import type { ConfigValue } from '@nimble/api';
import type { ClusterConfiguration, JobPlan, Logger, ModulePlan } from '@nimble/runtime';
import type { SecurityMaterial } from '@nimble/runtime';
import type { StateFileSystem } from '@nimble/runtime';
import {
  checkBindSecurity,
  checkStorageTarget,
  createLogger,
  decodeMetadata,
  ensureError,
  fileSystemFor,
  graphDigestOf,
  joinUri,
  loadSecurityMaterial,
  METADATA_FILE,
  resolveInside,
  parseClusterConfiguration,
  parseJobPlan,
  parseExecutionConfiguration,
  planJobModule,
  LOG_LINES_KEPT,
  RecentLogLines,
  s3OptionsOf,
  withStorageTimeout,
} from '@nimble/runtime';
import type { CheckpointSettings } from './checkpoint-coordinator.js';
import type { Execution, ReportOrigin, RestoreSource } from './job-master.js';
import type { CompletedCheckpoint } from './checkpoint-coordinator.js';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';

/** A submitted job as the job store keeps it. */
interface JobRequest {
  readonly jobName: string;
  readonly planJson: string;
  readonly graphDigest: string;
  readonly configuration: Record<string, string>;
  readonly programArgs: string[];
  readonly savepointPath: string;
  readonly allowNonRestoredState: boolean;
}
interface StoredJob extends JobRequest {
  readonly jobId: string;
  readonly bundleHash: string;
}
import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { BlobStore } from './blob-store.js';
import { JarStore } from './jar-store.js';
import { JobManagerMetrics } from './job-manager-metrics.js';
import { JobMaster, parseWireFailure, ReportRefusedError } from './job-master.js';
import { parseCheckpointAck } from './checkpoint-ack.js';
import { isGloballyTerminal, isTerminal } from './job-status.js';
import { startRestServer } from './rest-api.js';
import { checkLookupKey, parseStateQueryMode, queryState } from './queryable-state.js';
import { GRPC_STATUS_OF, StateQueryError } from './state-query.js';
import { createRestartStrategy } from './restart-strategy.js';
import type { RegisteredTaskManager } from './task-manager-registry.js';
import { TaskManagerRegistry } from './task-manager-registry.js';
import { JobManagerHighAvailability } from './high-availability.js';

/** How long an uploaded bundle may take to build its plan before a run request fails. */
const BUNDLE_PLAN_TIMEOUT_MS = 60_000;

/** Where a JobManager listens, once started. */
export interface JobManagerEndpoints {
  readonly rpcPort: number;
  readonly restPort: number;
}

/**
 * The JobManager daemon: the dispatcher (job submission and control), the resource manager
 * (TaskManager registration, heartbeats, slots), a job master per job, the blob server for job
 * bundles, and the REST API with /metrics.
 */
export class JobManager {
  readonly id = randomBytes(8).toString('hex');
  readonly jobs = new Map<string, JobMaster>();
  readonly registry: TaskManagerRegistry;
  readonly log: Logger;
  /** The latest log lines, served at /jobmanager/log: the daemon logs to stderr only. */
  readonly recentLog = new RecentLogLines(LOG_LINES_KEPT);
  private readonly blobs: BlobStore;
  /** Job bundles uploaded over REST (/jars), under the blob store. */
  readonly jars: JarStore;
  /** One JSON file per job that has not ended, next to the bundles. */
  private readonly jobStoreDir: string;
  /** `state.storage.timeout` of the daemon's configuration: calls not made for one job. */
  private readonly storageTimeout: number;
  private readonly metrics: JobManagerMetrics;
  private server: Server | undefined;
  private rest: HttpServer | undefined;
  private readonly startedAt = Date.now();
  /** TLS material and client token (docs/security.md). */
  private readonly security: SecurityMaterial;
  /** With high-availability.type storage: the election and the shared job store, once started. */
  private ha: JobManagerHighAvailability | undefined;
  /** The epoch this JobManager leads, sent to TaskManagers as the fencing token; 0 otherwise. */
  private fencingToken = 0;
  private readonly leadershipLostListeners: ((reason: string) => void)[] = [];

  /**
   * @param entries the daemon's configuration entries (Flink keys); a job's own entries override
   *   them for that job (e.g. its restart strategy).
   */
  constructor(
    private readonly config: ClusterConfiguration,
    private readonly entries: Record<string, ConfigValue>,
    tmpDirs = '',
  ) {
    this.log = createLogger('jobmanager', {}, { recent: this.recentLog });
    this.security = loadSecurityMaterial(config);
    this.registry = new TaskManagerRegistry(
      this.log,
      config.heartbeatTimeout,
      { tls: this.security.internal },
      config.highAvailabilityType === 'storage'
        ? [fencingTokenInterceptor(() => this.fencingToken)]
        : [],
    );
    this.registry.onLost((tm, reason) => {
      for (const job of this.jobs.values()) job.onTaskManagerLost(tm.resourceId, reason);
    });
    this.blobs = new BlobStore(
      config.blobStorageDirectory || join(tmpDirs || tmpdir(), `nimble-jobmanager-blobs`),
    );
    this.jobStoreDir = join(this.blobs.dir, 'jobs');
    this.jars = new JarStore(join(this.blobs.dir, 'jars'));
    this.storageTimeout = parseExecutionConfiguration(entries).stateStorageTimeout;
    this.metrics = new JobManagerMetrics(this);
  }

  /** The daemon's configuration entries as given (Flink keys), secrets included. */
  get configurationEntries(): Readonly<Record<string, ConfigValue>> {
    return this.entries;
  }

  /** When the daemon started (epoch ms). */
  get startTime(): number {
    return this.startedAt;
  }

  async start(): Promise<JobManagerEndpoints> {
    const c = this.config;
    const security = this.security;
    checkBindSecurity(security, [
      {
        server: 'JobManager gRPC',
        key: 'jobmanager.bind-host',
        host: c.jobManagerBindHost,
        secured: security.internal !== undefined && security.token !== undefined,
        needs: 'mutual TLS (security.ssl.internal.*) and a token (security.rest.token-file)',
      },
      {
        server: 'REST',
        key: 'rest.bind-address',
        host: c.restBindAddress,
        secured: security.rest !== undefined && security.token !== undefined,
        needs: 'TLS (security.ssl.rest.*) and a token (security.rest.token-file)',
      },
    ]);
    const services = nimbleServices();
    // Clients submit code and read results: with a token configured, their calls must carry it.
    // SubmitJob carries the job bundle: the JobManager takes requests up to Flink's REST upload
    // limit, every other daemon Flink's RPC frame size.
    const server = createServer({
      token: security.token,
      services: [services.Dispatcher.service],
      maxReceiveMessageBytes: Math.max(c.rpcFrameSize, c.restServerMaxContentLength),
      // A standby answers every call with the leader's address instead of serving it.
      interceptors:
        c.highAvailabilityType === 'storage'
          ? [
              gateServerInterceptor(
                [
                  services.Dispatcher.service,
                  services.ResourceManager.service,
                  services.JobMasterGateway.service,
                  services.BlobServer.service,
                ],
                () =>
                  this.ha
                    ? this.ha.standbyRefusal()
                    : { code: status.UNAVAILABLE, details: 'This JobManager is starting' },
              ),
            ]
          : [],
    });
    this.server = server;
    const report = (method: string, e: unknown): void =>
      this.log.error({ method, err: ensureError(e) }, 'request failed unexpectedly');
    server.addService(
      services.ResourceManager.service,
      adaptHandlers<ResourceManagerHandlers>(
        services.ResourceManager.service,
        {
          RegisterTaskManager: async (req) => {
            if (!req.resourceId)
              throw invalidArgument('RegisterTaskManager: resourceId is required');
            if (!/^[^\s:]+:\d+$/.test(req.address) && !/^\[.*\]:\d+$/.test(req.address)) {
              throw invalidArgument(
                `RegisterTaskManager: address ${JSON.stringify(req.address)} is not host:port`,
              );
            }
            if (req.numberOfSlots < 1)
              throw invalidArgument('RegisterTaskManager: numberOfSlots must be >= 1');
            const registrationId = this.registry.register({
              resourceId: req.resourceId,
              address: req.address,
              metricsAddress: req.metricsAddress,
              slots: req.numberOfSlots,
              hardware: req.hardware,
            });
            return { jobManagerId: this.id, registrationId };
          },
          Heartbeat: (call) => this.acceptHeartbeats(call),
        },
        report,
      ),
    );
    server.addService(
      services.JobMasterGateway.service,
      adaptHandlers<JobMasterGatewayHandlers>(
        services.JobMasterGateway.service,
        {
          UpdateTaskExecutionState: async (req, call) =>
            this.fenced('UpdateTaskExecutionState', req, call.getPeer(), (job, ex) =>
              job.onTaskState(ex, req, req.error ? parseWireFailure(req.error) : undefined),
            ),
          RegisterSourceReader: async (req, call) =>
            this.fenced('RegisterSourceReader', req, call.getPeer(), (job, ex) =>
              job.onReaderRegistered(ex),
            ),
          AcknowledgeCheckpoint: async (req, call) =>
            this.fenced('AcknowledgeCheckpoint', req, call.getPeer(), (job, ex) => {
              let ack;
              try {
                ack = parseCheckpointAck(req.state);
              } catch (e) {
                throw new ReportRefusedError(
                  `the acknowledged state of checkpoint ${req.checkpointId} is malformed: ${ensureError(e).message}`,
                );
              }
              try {
                job.onCheckpointAck(ex, req.checkpointId, ack);
              } catch (e) {
                throw new ReportRefusedError(ensureError(e).message);
              }
            }),
          DeclineCheckpoint: async (req, call) =>
            this.fenced('DeclineCheckpoint', req, call.getPeer(), (job, ex) =>
              job.onCheckpointDecline(
                ex,
                req.checkpointId,
                req.error
                  ? parseWireFailure(req.error)
                  : {
                      name: 'Error',
                      message: 'declined without a reason',
                      stack: '',
                      domain: 'internal',
                      restorable: true,
                    },
              ),
            ),
          RegisterQueryableState: async (req, call) =>
            this.fenced('RegisterQueryableState', req, call.getPeer(), (job, ex) =>
              job.onQueryableStateRegistered(ex, {
                name: req.queryableStateName,
                vertexId: req.vertexId,
                operatorUid: req.operatorUid,
                operatorName: req.operatorName,
                stateName: req.stateName,
                kind: req.kind,
                ttl: req.ttl,
                ttlMillis: Number(req.ttlMillis),
                parallelism: req.parallelism,
                maxParallelism: req.maxParallelism,
              }),
            ),
          ReportCollected: async (req, call) => {
            let values: unknown;
            try {
              values = deserialize(req.values);
            } catch (e) {
              throw invalidArgument(
                `ReportCollected: values are not serialized: ${ensureError(e).message}`,
              );
            }
            if (!Array.isArray(values))
              throw invalidArgument('ReportCollected: values are not an array');
            return this.fenced(
              'ReportCollected',
              { ...req, vertexId: -1 },
              call.getPeer(),
              (job, ex) => job.onCollected(ex, req.collectId, values),
            );
          },
        },
        report,
      ),
    );
    server.addService(
      services.BlobServer.service,
      adaptHandlers<BlobServerHandlers>(
        services.BlobServer.service,
        {
          GetBlob: async (req) => {
            const content = this.blobs.get(req.hash);
            if (!content) throw notFound(`No blob ${JSON.stringify(req.hash)}`);
            return { content };
          },
        },
        report,
      ),
    );
    server.addService(
      services.Dispatcher.service,
      adaptHandlers<DispatcherHandlers>(
        services.Dispatcher.service,
        {
          SubmitJob: async (req) => ({ jobId: await this.submit(req) }),
          TriggerSavepoint: async (req) => {
            const job = this.job(req.jobId);
            if (job.status !== 'RUNNING')
              throw failedPrecondition(
                `Job ${req.jobId} is ${job.status}; a savepoint needs a RUNNING job`,
              );
            const target = await this.checkSavepointTarget(job, req.targetDirectory);
            try {
              return {
                path: await job.savepoint(target, req.stop, req.drain),
              };
            } catch (e) {
              throw failedPrecondition(
                `Savepoint of job ${req.jobId} failed: ${ensureError(e).message}`,
              );
            }
          },
          TriggerCheckpoint: async (req) => {
            const job = this.job(req.jobId);
            const type = req.full ? 'FULL' : 'CONFIGURED';
            const refusal = job.checkpointRefusal(type);
            if (refusal) throw failedPrecondition(refusal);
            try {
              const c = await job.checkpointNow(type);
              return { checkpointId: c.id, path: c.metadataDir };
            } catch (e) {
              throw failedPrecondition(
                `Checkpoint of job ${req.jobId} failed: ${ensureError(e).message}`,
              );
            }
          },
          DisposeSavepoint: async (req) => {
            await this.disposeSavepoint(req.path);
            return {};
          },
          ListJobs: async (req) => ({
            jobs: [...this.jobs.values()]
              .filter((j) => !req.runningOnly || !isTerminal(j.status))
              .map((j) => j.details()),
          }),
          GetJob: async (req) => this.job(req.jobId).details(),
          CancelJob: async (req) => {
            const job = this.job(req.jobId);
            if (isTerminal(job.status))
              throw failedPrecondition(`Job ${req.jobId} is already ${job.status}`);
            await job.cancel();
            return {};
          },
          WatchJob: (call) => {
            let job: JobMaster;
            try {
              job = this.job(call.request.jobId);
            } catch (e) {
              call.emit('error', { code: 5, details: (e as Error).message });
              return;
            }
            const send = (e: JobEvent): void => {
              call.write(e);
              if (isTerminal(e.job?.state as never)) {
                unsubscribe();
                call.end();
              }
            };
            const unsubscribe = job.subscribe(send);
            call.on('cancelled', unsubscribe);
            send({
              job: job.details(),
              result: job.status === 'FINISHED' ? (job.result ?? null) : null,
            });
          },
          GetClusterOverview: async () => this.overview(),
          QueryState: (req) => this.queryStateRpc(req),
        },
        report,
      ),
    );
    const rpcPort = await bindServer(server, c.jobManagerBindHost, c.jobManagerRpcPort, {
      tls: security.internal,
    });
    const rest = await startRestServer(this, this.metrics, c.restBindAddress, c.restPort, {
      tls: security.rest,
      token: security.token,
      maxContentLength: c.restServerMaxContentLength,
    });
    this.rest = rest.server;
    if (c.highAvailabilityType === 'storage') this.startElection(rpcPort, rest.port);
    else await this.recoverJobs();
    this.log.info({ rpcPort, restPort: rest.port, jobmanager_id: this.id }, 'JobManager started');
    return { rpcPort, restPort: rest.port };
  }

  async stop(): Promise<void> {
    // As Flink's JobManager with a job store (high availability): its jobs are suspended, not
    // cancelled, so the next JobManager on the same store recovers them.
    const leading = this.ha?.isLeader ?? true;
    if (leading)
      await Promise.all([...this.jobs.values()].map((job) => job.suspend().catch(() => {})));
    // A leader that shut down releases its lease: a standby takes over at once.
    await this.ha?.elector.stop(leading);
    this.registry.close();
    await new Promise<void>((resolve) =>
      this.server ? this.server.tryShutdown(() => resolve()) : resolve(),
    );
    this.server?.forceShutdown();
    await new Promise<void>((resolve) =>
      this.rest ? this.rest.close(() => resolve()) : resolve(),
    );
  }

  get uptimeMs(): number {
    return Date.now() - this.startedAt;
  }

  /**
   * Fencing of the calls TaskManagers make about running subtasks: the call must carry the
   * registration id of a registered TaskManager and the execution id of a subtask of `jobId` that
   * runs there (see JobMaster.admit); `act` runs for the current attempt only, late reports of
   * an earlier attempt are answered and ignored. A refused call is logged with who sent it and
   * what it claimed, and answered PERMISSION_DENIED; it changes nothing.
   */
  private fenced(
    method: string,
    req: ReportOrigin & { readonly jobId: string; readonly registrationId: string },
    peer: string,
    act: (job: JobMaster, ex: Execution) => void,
  ): Record<string, never> {
    try {
      const tm = this.registry.byRegistrationId(req.registrationId);
      if (!tm)
        throw new ReportRefusedError('its registration id is not that of a registered TaskManager');
      const job = this.jobs.get(req.jobId);
      if (!job) throw new ReportRefusedError(`no job ${JSON.stringify(req.jobId)}`);
      const ex = job.admit(tm, req);
      if (ex) act(job, ex);
      return {};
    } catch (e) {
      if (!(e instanceof ReportRefusedError)) throw e;
      this.log.warn(
        {
          method,
          peer,
          job_id: req.jobId,
          attempt: req.attempt,
          vertex_id: req.vertexId,
          subtask: req.subtask,
          tm_id: this.registry.byRegistrationId(req.registrationId)?.resourceId ?? null,
          reason: e.message,
        },
        'refused a report',
      );
      throw new RpcStatusError(status.PERMISSION_DENIED, `${method} refused: ${e.message}`);
    }
  }

  /** Dispatcher.QueryState: keys and values cross as V8 bytes, so clients get exact JS values. */
  private async queryStateRpc(req: QueryStateRequest__Output): Promise<QueryStateResponse> {
    const job = this.job(req.jobId);
    let keys: unknown;
    try {
      keys = deserialize(req.keys);
    } catch (e) {
      throw invalidArgument(`QueryState: keys are not serialized: ${ensureError(e).message}`);
    }
    if (!Array.isArray(keys)) throw invalidArgument('QueryState: keys are not an array');
    try {
      const checked = keys.map((k, i) => checkLookupKey(k, `QueryState: key ${i}`));
      const results = await queryState(job, req.name, checked, parseStateQueryMode(req.mode));
      return {
        results: results.map((r) => ({
          found: r.found,
          value: r.found ? serialize(r.value) : Buffer.alloc(0),
          keyGroup: r.keyGroup,
          subtask: r.subtask,
        })),
      };
    } catch (e) {
      if (e instanceof StateQueryError)
        throw new RpcStatusError(GRPC_STATUS_OF[e.reason], e.message);
      throw e;
    }
  }

  /** The job with id `jobId`, or a NOT_FOUND error naming it. */
  job(jobId: string): JobMaster {
    const job = this.jobs.get(jobId);
    if (!job) throw notFound(`Job ${JSON.stringify(jobId)} not found`);
    return job;
  }

  overview() {
    const count = (s: string) => [...this.jobs.values()].filter((j) => j.status === s).length;
    return {
      taskManagers: this.registry.all().map((tm) => ({
        resourceId: tm.resourceId,
        address: tm.address,
        metricsAddress: tm.metricsAddress,
        slotsTotal: tm.slots,
        slotsFree: this.registry.slotsFreeOf(tm),
        lastHeartbeat: tm.lastHeartbeat,
        hardware: tm.hardware,
      })),
      slotsTotal: this.registry.slotsTotal(),
      slotsAvailable: this.registry.slotsFree(),
      jobsRunning: [...this.jobs.values()].filter((j) => !isTerminal(j.status)).length,
      jobsFinished: count('FINISHED'),
      jobsCancelled: count('CANCELED'),
      jobsFailed: count('FAILED'),
    };
  }

  /**
   * The file system of a checkpoint or savepoint URI, with this daemon's s3.* settings and a
   * deadline on each call (`state.storage.timeout`, the job's own when given).
   */
  fileSystem(uri: string, timeoutMs = this.storageTimeout): StateFileSystem {
    const fs = withStorageTimeout(fileSystemFor(uri, s3OptionsOf(this.config)), timeoutMs);
    return this.ha ? this.ha.fence(fs) : fs;
  }

  /**
   * Why this JobManager does not serve requests now (a standby, or a leader that lost its lease),
   * naming the leader; undefined when it serves.
   */
  standbyReason(): string | undefined {
    return this.ha?.standbyReason();
  }

  /** The current leader's REST URL, when this JobManager is a standby that knows it. */
  get leaderRestUrl(): string | undefined {
    const l = this.ha?.isLeader ? undefined : this.ha?.leader;
    return l && !l.released ? l.restUrl : undefined;
  }

  /**
   * Called once when this JobManager lost its leadership, after it stopped acting: the daemon
   * exits to be restarted as a standby, as Flink's JobManager.
   */
  onLeadershipLost(listener: (reason: string) => void): void {
    this.leadershipLostListeners.push(listener);
  }

  /** Runs for the lead; recovers every job of the shared job store once granted it. */
  private startElection(rpcPort: number, restPort: number): void {
    const c = this.config;
    const ha = new JobManagerHighAvailability(
      c,
      this.id,
      {
        rpcAddress: `${c.jobManagerRpcAddress}:${rpcPort}`,
        restUrl: `${this.security.rest ? 'https' : 'http'}://${c.restAddress}:${restPort}`,
      },
      this.storageTimeout,
      this.log,
    );
    this.ha = ha;
    ha.elector.onLeading((epoch) => {
      this.fencingToken = epoch;
      // A store that fails now (an outage) must not lose the jobs: try again while leading.
      const recover = (): void => {
        this.recoverSharedJobs(ha).catch((e: unknown) => {
          this.log.error(
            { err: ensureError(e) },
            'could not read the job store: trying again in a retry period',
          );
          if (ha.isLeader) setTimeout(recover, c.leaseRetryPeriod).unref();
        });
      };
      recover();
    });
    ha.elector.onLost((reason) => {
      // Stop acting before anything else: no checkpoint completes, no TaskManager call carries
      // a token any TaskManager still accepts once a new leader reached it.
      this.fencingToken = 0;
      for (const job of this.jobs.values()) job.checkpoints.stop(`leadership lost: ${reason}`);
      for (const l of this.leadershipLostListeners) l(reason);
    });
    ha.elector.start();
  }

  /** Recovers the jobs of the shared job store, fetching their bundles into the blob store. */
  private async recoverSharedJobs(ha: JobManagerHighAvailability): Promise<void> {
    for (const entry of await ha.storedJobs()) {
      try {
        const stored = JSON.parse(entry.json) as StoredJob;
        if (this.jobs.has(stored.jobId)) continue;
        if (!this.blobs.get(stored.bundleHash)) {
          const bundle = await ha.bundle(stored.bundleHash);
          if (BlobStore.hashOf(bundle) !== stored.bundleHash)
            throw new Error(`its bundle does not have the sha256 ${stored.bundleHash} it names`);
          this.blobs.put(bundle);
        }
        (await this.createJob(stored, true)).start();
      } catch (e) {
        this.log.error(
          { err: ensureError(e), file: entry.uri },
          'could not recover a job from the job store',
        );
      }
    }
  }

  /**
   * The savepoint target of a request on `job`, checked before the savepoint is triggered: a
   * directory that cannot take it (an unknown scheme, /proc, not writable) is refused with
   * INVALID_ARGUMENT and the job runs on untouched. Returns the canonical URI, '' for the job's
   * state.savepoints.dir.
   */
  async checkSavepointTarget(job: JobMaster, targetDirectory: string): Promise<string> {
    const target = targetDirectory || job.checkpoints.settings.savepointsDir;
    if (!target) return '';
    try {
      const { stateStorageTimeout } = parseExecutionConfiguration({
        ...this.entries,
        ...job.submission.configuration,
      });
      const checked = await checkStorageTarget(
        target,
        this.fileSystem(target, stateStorageTimeout),
      );
      return targetDirectory ? checked : '';
    } catch (e) {
      throw invalidArgument(`Savepoint of job ${job.jobId} refused: ${ensureError(e).message}`);
    }
  }

  /** The directory of a savepoint given as its directory or its `_metadata`, checked to exist. */
  /** Deletes the savepoint at `path` (its directory or `_metadata`); refuses anything else. */
  async disposeSavepoint(path: string): Promise<void> {
    const dir = await this.savepointDirectoryOf(path);
    await this.fileSystem(dir).deleteRecursive(dir);
  }

  private async savepointDirectoryOf(path: string): Promise<string> {
    let uri: string;
    try {
      uri = joinUri(path);
    } catch (e) {
      throw invalidArgument(ensureError(e).message);
    }
    const dir = uri.endsWith(`/${METADATA_FILE}`) ? uri.slice(0, -METADATA_FILE.length - 1) : uri;
    if (!(await this.fileSystem(dir).exists(`${dir}/${METADATA_FILE}`))) {
      throw notFound(`No savepoint at ${path}: ${dir}/${METADATA_FILE} does not exist`);
    }
    return dir;
  }

  /** Reads and checks the savepoint a job starts from (`run -s`). */
  private async loadRestore(
    path: string,
    plan: JobPlan,
    allowNonRestoredState: boolean,
  ): Promise<RestoreSource> {
    const dir = await this.savepointDirectoryOf(path);
    const uri = `${dir}/${METADATA_FILE}`;
    let metadata;
    let bytes: Uint8Array;
    try {
      bytes = await this.fileSystem(uri).read(uri);
      metadata = decodeMetadata(bytes, uri);
    } catch (e) {
      throw failedPrecondition(`Cannot restore from ${path}: ${ensureError(e).message}`);
    }
    const operators = new Map(
      plan.vertices.flatMap((v) => (v.operators ?? []).map((o) => [o.uid, { v, o }] as const)),
    );
    for (const op of metadata.operators) {
      const hasState =
        op.coordinatorState !== undefined ||
        op.subtasks.some((s) => s.keyed || Object.keys(s.operatorState ?? {}).length > 0);
      const target = operators.get(op.uid);
      if (!target) {
        if (hasState && !allowNonRestoredState) {
          throw failedPrecondition(
            `Failed to rollback to checkpoint/savepoint ${path}. Cannot map checkpoint/savepoint state for operator ` +
              `${op.uid} (${op.name}) to the new program, because the operator is not available in the new program. ` +
              'If you want to allow to skip this, you can set the --allow-non-restored-state option on the CLI.',
          );
        }
        continue;
      }
      if (hasState && target.v.maxParallelism !== op.maxParallelism) {
        throw failedPrecondition(
          `Cannot restore ${path}: the maximum parallelism of operator ${op.uid} (${op.name}) changed from ` +
            `${op.maxParallelism} to ${target.v.maxParallelism}. Key groups cannot be redistributed to another ` +
            "maximum parallelism: keep pipeline.max-parallelism (or the operator's setMaxParallelism) as it was.",
        );
      }
    }
    return {
      id: metadata.checkpointId,
      metadataDir: dir,
      metadata,
      metadataBytes: bytes,
      savepoint: metadata.type === 'SAVEPOINT',
    };
  }

  /**
   * The plan an uploaded job bundle builds with these arguments and parallelism, built in a
   * worker thread, as `nimble run` builds it in the client.
   */
  async planBundle(
    file: string,
    programArgs: readonly string[],
    parallelism: number | undefined,
  ): Promise<ModulePlan> {
    const overrides: Record<string, string> = {};
    if (parallelism !== undefined) overrides['parallelism.default'] = String(parallelism);
    try {
      return await planJobModule(file, programArgs, overrides, BUNDLE_PLAN_TIMEOUT_MS);
    } catch (e) {
      throw invalidArgument(`The job bundle did not build a job: ${ensureError(e).message}`);
    }
  }

  /**
   * Runs an uploaded job bundle (Flink's /jars/:id/run): builds its plan in a worker thread, as
   * `nimble run` does in the client, then submits it with the same checks as a client's
   * submission. Resolves with the job id.
   */
  async runBundle(
    file: string,
    request: {
      readonly programArgs: string[];
      readonly parallelism: number | undefined;
      readonly savepointPath: string;
      readonly allowNonRestoredState: boolean;
    },
  ): Promise<string> {
    const bundle = readFileSync(file);
    const plan = await this.planBundle(file, request.programArgs, request.parallelism);
    return this.submit({
      ...plan,
      programArgs: request.programArgs,
      savepointPath: request.savepointPath,
      allowNonRestoredState: request.allowNonRestoredState,
      bundle,
    });
  }

  private async submit(req: JobRequest & { bundle: Buffer }): Promise<string> {
    if (req.bundle.length === 0) throw invalidArgument('SubmitJob: bundle is empty');
    // Nothing is stored before the submission is known to be good: the plan, configuration,
    // savepoint and checkpoint directory are checked first, so a refused submission leaves no
    // bundle on disk and no reference to its bytes.
    const bundleHash = BlobStore.hashOf(req.bundle);
    const jobId = randomBytes(16).toString('hex');
    const stored: StoredJob = {
      jobId,
      jobName: req.jobName,
      planJson: req.planJson,
      graphDigest: req.graphDigest,
      configuration: req.configuration,
      programArgs: req.programArgs,
      savepointPath: req.savepointPath,
      allowNonRestoredState: req.allowNonRestoredState,
      bundleHash,
    };
    const job = await this.createJob(stored, false);
    try {
      this.blobs.put(req.bundle);
      if (this.ha) await this.ha.storeJob(jobId, JSON.stringify(stored), bundleHash, req.bundle);
      else this.storeJob(stored);
    } catch (e) {
      this.jobs.delete(jobId);
      throw e;
    }
    job.start();
    return jobId;
  }

  /**
   * Writes a job to the job store, from which a restarted JobManager recovers the jobs that did
   * not end. The entry holds the job's configuration, which may hold secrets: it is readable by
   * the daemon's user only (0600) and written whole or not at all (a temp file renamed).
   */
  private storeJob(stored: StoredJob): void {
    mkdirSync(this.jobStoreDir, { recursive: true, mode: 0o700 });
    const file = join(this.jobStoreDir, `${stored.jobId}.json`);
    const temp = join(this.jobStoreDir, `.${stored.jobId}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      writeFileSync(temp, JSON.stringify(stored), { mode: 0o600, flag: 'wx' });
      renameSync(temp, file);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
  }

  /**
   * Builds a job master. A recovered job (`recover`) resumes from the retained checkpoints found
   * in its checkpoint directory, else from its savepoint, if any.
   */
  private async createJob(stored: StoredJob, recover: boolean): Promise<JobMaster> {
    let plan;
    try {
      plan = parseJobPlan(stored.planJson);
    } catch (e) {
      throw invalidArgument(`SubmitJob: ${(e as Error).message}`);
    }
    if (graphDigestOf(JSON.parse(stored.planJson) as object) !== stored.graphDigest) {
      throw invalidArgument('SubmitJob: graph_digest does not match plan_json');
    }
    let restartStrategy;
    let checkpointSettings: CheckpointSettings;
    let storageTimeout: number;
    try {
      parseExecutionConfiguration(stored.configuration);
      const exec = parseExecutionConfiguration({ ...this.entries, ...stored.configuration });
      const jobConfig = parseClusterConfiguration({ ...this.entries, ...stored.configuration });
      storageTimeout = exec.stateStorageTimeout;
      restartStrategy = createRestartStrategy(jobConfig, {
        checkpointingEnabled: exec.checkpointingInterval > 0,
      });
      checkpointSettings = {
        interval: exec.checkpointingInterval,
        timeout: exec.checkpointingTimeout,
        minPause: exec.checkpointingMinPause,
        tolerableFailures: exec.tolerableCheckpointFailures,
        retained: exec.checkpointsRetained,
        retention: exec.externalizedCheckpointRetention,
        checkpointsDir: joinUri(exec.checkpointsDirectory || join(tmpdir(), 'nimble-checkpoints')),
        savepointsDir: exec.savepointsDirectory ? joinUri(exec.savepointsDirectory) : '',
      };
    } catch (e) {
      throw invalidArgument(`SubmitJob: bad job configuration: ${(e as Error).message}`);
    }
    if (!recover && checkpointSettings.interval > 0) {
      const dir = checkpointSettings.checkpointsDir;
      try {
        await checkStorageTarget(dir, this.fileSystem(dir, storageTimeout), { probeRemote: false });
      } catch (e) {
        throw invalidArgument(`SubmitJob: state.checkpoints.dir: ${ensureError(e).message}`);
      }
    }
    const recovered = recover
      ? await this.readableCheckpoints(checkpointSettings.checkpointsDir, stored.jobId)
      : [];
    const initialRestore =
      stored.savepointPath && recovered.length === 0
        ? await this.loadRestore(stored.savepointPath, plan, stored.allowNonRestoredState)
        : undefined;
    const job = new JobMaster(
      {
        jobId: stored.jobId,
        plan,
        bundleHash: stored.bundleHash,
        graphDigest: stored.graphDigest,
        configuration: stored.configuration,
        programArgs: stored.programArgs,
        restartStrategy,
        checkpointSettings,
        initialRestore,
      },
      {
        registry: this.registry,
        bundlePath: this.blobs.path(stored.bundleHash),
        slotRequestTimeoutMs: this.config.slotRequestTimeout,
        log: this.log,
        fileSystem: (uri) => this.fileSystem(uri, storageTimeout),
      },
    );
    for (const c of recovered) job.checkpoints.addRestored(c, true);
    this.jobs.set(stored.jobId, job);
    job.subscribe((e) => {
      if (isGloballyTerminal(e.job?.state as never)) {
        rmSync(join(this.jobStoreDir, `${stored.jobId}.json`), { force: true });
        void this.ha?.removeJob(stored.jobId);
      }
    });
    this.log.info(
      {
        job_id: stored.jobId,
        job_name: plan.jobName,
        slots: job.slotsRequired,
        recovered: recover,
      },
      recover ? 'job recovered' : 'job submitted',
    );
    return job;
  }

  /** Recovers the jobs of the job store that had not ended, each from its latest checkpoint. */
  private async recoverJobs(): Promise<void> {
    if (this.ha) return this.recoverSharedJobs(this.ha);
    if (!existsSync(this.jobStoreDir)) return;
    for (const file of readdirSync(this.jobStoreDir).filter((f) => f.endsWith('.json'))) {
      const path = join(this.jobStoreDir, file);
      try {
        const stored = JSON.parse(readFileSync(path, 'utf8')) as StoredJob;
        (await this.createJob(stored, true)).start();
      } catch (e) {
        this.log.error(
          { err: ensureError(e), file: path },
          'could not recover a job from the job store',
        );
      }
    }
  }

  /**
   * The retained checkpoints of a job whose _metadata reads, oldest first; unreadable ones are
   * skipped with a warning naming them.
   */
  private async readableCheckpoints(
    checkpointsDir: string,
    jobId: string,
  ): Promise<CompletedCheckpoint[]> {
    const found: CompletedCheckpoint[] = [];
    const jobDir = `${checkpointsDir}/${jobId}`;
    const fs = this.fileSystem(jobDir);
    const ids = (await fs.list(jobDir))
      .filter((n) => /^chk-\d+$/.test(n))
      .map((n) => Number(n.slice(4)))
      .sort((a, b) => b - a);
    for (const id of ids) {
      const dir = `${jobDir}/chk-${id}`;
      const uri = `${dir}/${METADATA_FILE}`;
      try {
        const bytes = await fs.read(uri);
        const metadata = decodeMetadata(bytes, uri);
        const sharedFiles = new Set<string>();
        for (const op of metadata.operators)
          for (const st of op.subtasks)
            for (const f of st.keyed?.files ?? [])
              if (f.path.startsWith('../'))
                sharedFiles.add(resolveInside(dir, f.path, [`${jobDir}/shared`]));
        found.unshift({
          id,
          savepoint: false,
          metadataDir: dir,
          metadata,
          metadataBytes: bytes,
          triggerTimestamp: metadata.timestamp,
          completedTimestamp: metadata.timestamp,
          stateSize: 0,
          sharedFiles: [...sharedFiles],
        });
      } catch (e) {
        this.log.warn(
          { err: ensureError(e), checkpoint: dir },
          'checkpoint cannot be read: trying the one before',
        );
      }
    }
    return found;
  }

  private acceptHeartbeats(
    call: ServerDuplexStream<TaskManagerHeartbeat__Output, JobManagerHeartbeat>,
  ): void {
    let resourceId = '';
    let registrationId = '';
    const closed = (how: 'ended' | 'cancelled' | 'failed', detail = ''): void => {
      const current = this.registry.get(resourceId);
      // Only the stream of the current registration drops the TaskManager.
      if (resourceId && current?.registrationId === registrationId)
        this.registry.lost(resourceId, this.heartbeatLossReason(current, how, detail));
      resourceId = '';
    };
    call.on('data', (beat: TaskManagerHeartbeat__Output) => {
      if (!resourceId) {
        // A stream is bound to the registration its first beat names: a stream that names none
        // is ended without touching any TaskManager (its closing must not mark one lost).
        const tm = this.registry.byRegistrationId(beat.registrationId);
        if (!tm || tm.resourceId !== beat.resourceId) {
          this.log.warn(
            { peer: call.getPeer(), tm_id: beat.resourceId },
            'refused a heartbeat stream without the registration id of a registered TaskManager',
          );
          call.end();
          return;
        }
        this.registry.heartbeat(beat.registrationId);
        resourceId = tm.resourceId;
        registrationId = tm.registrationId;
      } else if (!this.registry.heartbeat(registrationId)) {
        // Declared lost meanwhile (it was silent too long): end the stream so it registers again.
        resourceId = '';
        call.end();
        return;
      }
      for (const m of beat.metrics)
        this.jobs.get(m.jobId)?.onMetrics(m.attempt, m.tasks, resourceId);
      call.write({ jobManagerId: this.id });
    });
    call.on('cancelled', () => closed('cancelled'));
    call.on('error', (e: Error) => closed('failed', e.message));
    call.on('end', () => closed('ended'));
  }

  /**
   * Why a TaskManager whose heartbeat stream closed is lost. A stream that closes long after the
   * last heartbeat was dropped by the gRPC keepalive: the process stopped answering (stopped,
   * overloaded, cut off), which is not the same as a TaskManager that closed its stream.
   */
  private heartbeatLossReason(
    tm: RegisteredTaskManager,
    how: 'ended' | 'cancelled' | 'failed',
    detail: string,
  ): string {
    const silence = Date.now() - tm.lastHeartbeat;
    if (silence > 2 * this.config.heartbeatInterval) {
      return (
        `no heartbeat for ${silence} ms, then its connection was dropped (keepalive unanswered): ` +
        'the TaskManager process is stopped, overloaded or unreachable'
      );
    }
    if (how === 'failed') return `its heartbeat connection failed: ${detail}`;
    if (how === 'cancelled') return 'its heartbeat connection closed';
    return 'it closed its heartbeat stream (it shut down or lost this JobManager)';
  }
}

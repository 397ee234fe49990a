import type {
  NotifyCheckpointRequest__Output,
  TriggerCheckpointRequest__Output,
  AssignSplitsRequest__Output,
  AttemptRef__Output,
  DeployTasksRequest__Output,
  DeployTasksResponse,
  Empty,
  ExchangeHandlers,
  GetLogResponse,
  JobManagerHeartbeat__Output,
  JobMasterGatewayClient,
  ResourceManagerClient,
  BlobServerClient,
  TaskExecutionState,
  TaskExecutorHandlers,
  TaskManagerHeartbeat,
  ClientDuplexStream,
  ServerDuplexStream,
  Server,
  TaskMetrics,
  SerializedError,
  SubtaskCheckpointState,
  TaskQueryStateRequest__Output,
  TaskQueryStateResponse,
} from '@nimble/proto';
import {
  adaptHandlers,
  bindServer,
  createServer,
  failedPrecondition,
  gateServerInterceptor,
  invalidArgument,
  nimbleServices,
  NO_RETRY,
  notFound,
  RpcClient,
  RpcStatusError,
  status,
} from '@nimble/proto';
import type { RpcSecurity } from '@nimble/proto';
import type {
  ClusterConfiguration,
  Logger,
  SlotWorkerData,
  SubtaskCheckpointAck,
  TaskMetricsSample,
} from '@nimble/runtime';
import type { TaskRestore } from '@nimble/runtime';
import type { Key } from '@nimble/api';
import {
  checkBindSecurity,
  createLogger,
  keyProblem,
  decodeMetadata,
  ensureError,
  failureRecordOf,
  loadSecurityMaterial,
  LOG_LINES_KEPT,
  NimbleError,
  RecentLogLines,
  s3OptionsOf,
  SlotWorkerHandle,
} from '@nimble/runtime';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { cpus, freemem, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { BlobCache } from './blob-cache.js';
import { ExchangeRouter } from './exchange-router.js';
import { RegistrationStatus } from './registration-status.js';
import { TaskManagerMetrics } from './task-manager-metrics.js';
import { LeaderFollower } from './leader-follower.js';

/** One attempt of a job, as far as it runs on this TaskManager. */
interface LocalAttempt {
  readonly jobId: string;
  readonly jobName: string;
  readonly attempt: number;
  readonly workers: Map<number, SlotWorkerHandle>;
  readonly peers: Set<string>;
  readonly stateDir: string;
  readonly metrics: Map<string, TaskMetrics>;
  /** Execution attempt ids by `vertex/subtask` (from DeployTasks): every report names one. */
  readonly executions: Map<string, string>;
  /** Reports to the JobManager go out one after another, in the order they happened. */
  reports: Promise<void>;
  ended: boolean;
}

/** Where a TaskManager listens, once started. */
export interface TaskManagerEndpoints {
  readonly resourceId: string;
  readonly rpcPort: number;
  readonly metricsPort: number;
  readonly address: string;
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The TaskManager daemon: offers `taskmanager.numberOfTaskSlots` slots to the JobManager, runs
 * each deployed job slot on its own worker thread, and relays data between its slots and other
 * TaskManagers. The main thread only does control-plane RPC and network I/O.
 */
/**
 * How long a released attempt's tasks may take to close their operators before their threads are
 * stopped anyway (Flink's task.cancellation.interval plays this part).
 */
const CANCEL_GRACE_MS = 5_000;

export class TaskManager {
  private log: Logger;
  /** The latest lines of this TaskManager's log, for the JobManager (GetLog). */
  private readonly recentLog = new RecentLogLines(LOG_LINES_KEPT);
  private readonly attempts = new Map<string, LocalAttempt>();
  private server: Server | undefined;
  private http: HttpServer | undefined;
  private router!: ExchangeRouter;
  private blobs!: BlobCache;
  private metrics!: TaskManagerMetrics;
  private resourceManager!: RpcClient<ResourceManagerClient>;
  private jobMaster!: RpcClient<JobMasterGatewayClient>;
  private blobServer!: RpcClient<BlobServerClient>;
  private heartbeat:
    ClientDuplexStream<TaskManagerHeartbeat, JobManagerHeartbeat__Output> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Releases in progress or done, so that every caller can wait for the slots to be free. */
  private readonly releasing = new WeakMap<LocalAttempt, Promise<void>>();
  private stopped = false;
  private endpoints!: TaskManagerEndpoints;
  private workDir!: string;
  /** What GET /health reports: whether this TaskManager is registered at a JobManager. */
  private registration!: RegistrationStatus;
  private resourceId = '';
  /** This TaskManager's current registration at the JobManager (RegisterTaskManagerResponse). */
  private registrationId = '';
  /** With high availability: finds the leading JobManager and fences off the others. */
  private follower: LeaderFollower | undefined;
  private rpcSecurity: RpcSecurity = {};

  constructor(
    private readonly config: ClusterConfiguration,
    private readonly tmpDirs = '',
  ) {
    this.log = createLogger('taskmanager', {}, { recent: this.recentLog });
  }

  /** Binds the servers and starts registering with the JobManager. */
  async start(): Promise<TaskManagerEndpoints> {
    const c = this.config;
    const material = loadSecurityMaterial(c);
    checkBindSecurity(material, [
      {
        server: 'TaskManager gRPC',
        key: 'taskmanager.bind-host',
        host: c.taskManagerBindHost,
        secured: material.internal !== undefined,
        needs: 'mutual TLS (security.ssl.internal.*)',
      },
    ]);
    // Every connection of a TaskManager is internal: mutual TLS, no client token.
    const security: RpcSecurity = { tls: material.internal };
    this.rpcSecurity = security;
    const services = nimbleServices();
    const follower =
      c.highAvailabilityType === 'storage' ? new LeaderFollower(c, this.log) : undefined;
    this.follower = follower;
    this.server = createServer({
      maxReceiveMessageBytes: c.rpcFrameSize,
      interceptors: follower
        ? [
            gateServerInterceptor([services.TaskExecutor.service], (md, path) =>
              follower.refusal(md, path),
            ),
          ]
        : [],
    });
    const rpcPort = await bindServer(
      this.server,
      c.taskManagerBindHost,
      c.taskManagerRpcPort,
      security,
    );
    const host =
      c.taskManagerHost ||
      (WILDCARD.has(c.taskManagerBindHost) ? hostname() : c.taskManagerBindHost);
    this.resourceId =
      c.taskManagerResourceId || `${host}:${rpcPort}-${randomBytes(3).toString('hex')}`;
    this.workDir = join(
      this.tmpDirs || tmpdir(),
      `nimble-taskmanager-${this.resourceId.replace(/[^\w.-]+/g, '_')}`,
    );
    mkdirSync(this.workDir, { recursive: true });
    const log = this.log.child({ tm_id: this.resourceId });
    this.log = log;
    this.metrics = new TaskManagerMetrics(this.resourceId);
    this.metrics.setSlots(c.numberOfTaskSlots, c.numberOfTaskSlots);
    this.registration = new RegistrationStatus(this.resourceId, () => this.resourceManager.address);
    this.router = new ExchangeRouter(
      this.resourceId,
      log,
      (peer, reason) => this.peerLost(peer, reason),
      security,
    );

    const jm = `${c.jobManagerRpcAddress}:${c.jobManagerRpcPort}`;
    this.connectJobManager(jm, security);
    this.blobs = new BlobCache(
      join(c.blobStorageDirectory || this.workDir, 'blobs'),
      async (hash) => {
        const res = await this.blobServer.call(
          this.blobServer.raw.GetBlob,
          { hash },
          { idempotent: true },
        );
        return res.content;
      },
    );

    const report = (method: string, e: unknown): void =>
      this.log.error({ method, err: ensureError(e) }, 'request failed unexpectedly');
    this.server.addService(
      services.TaskExecutor.service,
      adaptHandlers<TaskExecutorHandlers>(
        services.TaskExecutor.service,
        {
          DeployTasks: (req) => this.deployTasks(req),
          StartTasks: (req) => this.startTasks(req),
          CancelTasks: (req) => this.cancelTasks(req),
          AssignSplits: (req) => this.assignSplits(req),
          TriggerCheckpoint: (req) => this.triggerCheckpoint(req),
          NotifyCheckpoint: (req) => this.notifyCheckpoint(req),
          // Served on the gRPC port only (mutual TLS when configured), as the other calls of the
          // JobManager: the log can hold job data, and the metrics port has no credentials.
          GetLog: () => Promise.resolve(this.logLines()),
          QueryStates: (call) => this.queryStates(call),
        },
        report,
      ),
    );
    this.server.addService(
      services.Exchange.service,
      adaptHandlers<ExchangeHandlers>(
        services.Exchange.service,
        { Connect: (call) => this.router.accept(call) },
        report,
      ),
    );

    const metricsPort = await this.startMetricsServer(c.taskManagerBindHost, c.prometheusPort);
    this.endpoints = {
      resourceId: this.resourceId,
      rpcPort,
      metricsPort,
      address: `${host}:${rpcPort}`,
    };
    this.log.info(
      { ...this.endpoints, slots: c.numberOfTaskSlots, jobmanager: jm },
      'TaskManager started',
    );
    void this.registerLoop();
    return this.endpoints;
  }

  /** Opens the clients of the JobManager at `address` (host:port), closing earlier ones. */
  private connectJobManager(address: string, security: RpcSecurity): void {
    const services = nimbleServices();
    this.resourceManager?.close();
    this.jobMaster?.close();
    this.blobServer?.close();
    this.resourceManager = new RpcClient(services.ResourceManager, address, { security });
    this.jobMaster = new RpcClient(services.JobMasterGateway, address, { security });
    this.blobServer = new RpcClient(services.BlobServer, address, { deadlineMs: 60_000, security });
  }

  /** Cancels everything and closes the servers. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.registration?.stopped('the TaskManager is shutting down');
    clearInterval(this.heartbeatTimer);
    this.heartbeat?.end();
    await Promise.all([...this.attempts.values()].map((a) => this.release(a)));
    this.router?.close();
    this.resourceManager?.close();
    this.jobMaster?.close();
    this.blobServer?.close();
    await new Promise<void>((resolve) =>
      this.server ? this.server.tryShutdown(() => resolve()) : resolve(),
    );
    await new Promise<void>((resolve) =>
      this.http ? this.http.close(() => resolve()) : resolve(),
    );
    rmSync(this.workDir, { recursive: true, force: true });
  }

  // ---- registration and heartbeats ---------------------------------------------------------

  private async registerLoop(): Promise<void> {
    const c = this.config;
    const deadline = Date.now() + c.taskManagerRegistrationTimeout;
    let pause = 100;
    while (!this.stopped) {
      try {
        if (this.follower) {
          // With high availability the leader is whoever the store names now.
          const leader = await this.follower.leader();
          if (leader !== this.resourceManager.address)
            this.connectJobManager(leader, this.rpcSecurity);
        }
        const registered = await this.resourceManager.call(
          this.resourceManager.raw.RegisterTaskManager,
          {
            resourceId: this.resourceId,
            address: this.endpoints.address,
            numberOfSlots: c.numberOfTaskSlots,
            metricsAddress: `${this.endpoints.address.replace(/:\d+$/, '')}:${this.endpoints.metricsPort}`,
            hardware: {
              cpuCores: cpus().length,
              physicalMemory: totalmem(),
              freeMemory: freemem(),
            },
          },
          { retry: NO_RETRY, deadlineMs: 5000 },
        );
        this.registrationId = registered.registrationId;
        this.registration.registered();
        this.log.info('registered at the JobManager');
        this.openHeartbeat();
        return;
      } catch (e) {
        if (Date.now() > deadline) {
          this.log.fatal(
            { err: ensureError(e) },
            `could not register at the JobManager ${c.jobManagerRpcAddress}:${c.jobManagerRpcPort} within taskmanager.registration.timeout (${c.taskManagerRegistrationTimeout} ms)`,
          );
          process.exitCode = 1;
          await this.stop();
          return;
        }
        await new Promise((r) => setTimeout(r, pause));
        // With high availability each try looks up the leader again: the lease's retry period
        // bounds the pause, so the TaskManager reaches a new leader soon after it leads.
        pause = Math.min(pause * 2, this.follower ? c.leaseRetryPeriod : 5000);
      }
    }
  }

  private openHeartbeat(): void {
    const stream = this.resourceManager.raw.Heartbeat();
    this.heartbeat = stream;
    const interval = Math.min(
      this.config.heartbeatInterval,
      this.config.metricsFetcherUpdateInterval,
    );
    let lost = false;
    const onLost = (reason: string): void => {
      if (lost) return;
      lost = true;
      clearInterval(this.heartbeatTimer);
      if (this.stopped) return;
      this.registration.lost(`lost the JobManager: ${reason}`);
      // Like Flink: without a JobManager the tasks cannot continue; free the slots and register
      // anew. The slots must be free before the registration: the JobManager deploys into them
      // as soon as it has it.
      this.log.warn({ reason }, 'lost the JobManager: canceling all tasks and registering again');
      void Promise.all([...this.attempts.values()].map((a) => this.release(a))).then(() =>
        this.registerLoop(),
      );
    };
    // The JobManager answers every beat. Without an answer for heartbeat.timeout it is gone or
    // cut off, as Flink's TaskExecutor decides: the tasks stop now rather than when the
    // connection comes back, when the JobManager has long run them elsewhere (a replaced attempt
    // that runs on would write output, such as a Kafka transaction, that nothing ends).
    let lastAnswer = Date.now();
    stream.on('data', () => {
      lastAnswer = Date.now();
    });
    const beat = (): void => {
      const silence = Date.now() - lastAnswer;
      if (silence > this.config.heartbeatTimeout) {
        onLost(
          `no answer to its heartbeats for ${silence} ms (heartbeat.timeout ${this.config.heartbeatTimeout} ms)`,
        );
        stream.cancel();
        return;
      }
      stream.write({
        resourceId: this.resourceId,
        registrationId: this.registrationId,
        metrics: [...this.attempts.values()].map((a) => ({
          jobId: a.jobId,
          attempt: a.attempt,
          tasks: [...a.metrics.values()],
        })),
      });
    };
    beat();
    this.heartbeatTimer = setInterval(beat, interval);
    stream.on('error', (e: Error) => onLost(e.message));
    stream.on('end', () => onLost('the heartbeat stream ended'));
  }

  // ---- task execution ----------------------------------------------------------------------

  private freeSlots(): number {
    let used = 0;
    for (const a of this.attempts.values()) used += a.workers.size;
    return this.config.numberOfTaskSlots - used;
  }

  private async deployTasks(req: DeployTasksRequest__Output): Promise<DeployTasksResponse> {
    const ref = req.attempt;
    if (!ref?.jobId) throw invalidArgument('DeployTasks: attempt.jobId is required');
    if (req.jobSlots.length === 0) throw invalidArgument('DeployTasks: jobSlots is empty');
    const key = `${ref.jobId}#${ref.attempt}`;
    if (this.attempts.has(key))
      throw failedPrecondition(`DeployTasks: attempt ${key} is already deployed here`);
    if (req.jobSlots.length > this.freeSlots()) {
      throw failedPrecondition(
        `DeployTasks: ${req.jobSlots.length} slots requested, ${this.freeSlots()} of ${this.config.numberOfTaskSlots} free`,
      );
    }
    const location = new Map(req.locations.map((l) => [l.jobSlot, l]));
    const allSlots = [...location.keys()];
    for (const s of req.jobSlots) {
      if (location.get(s)?.resourceId !== this.resourceId) {
        throw invalidArgument(`DeployTasks: job slot ${s} is not located on this TaskManager`);
      }
    }
    const log = this.log.child({ job_id: ref.jobId, attempt: ref.attempt });
    const attempt: LocalAttempt = {
      jobId: ref.jobId,
      jobName: req.jobName,
      attempt: ref.attempt,
      workers: new Map(),
      peers: new Set(),
      stateDir: join(this.workDir, `${ref.jobId}-${ref.attempt}`),
      metrics: new Map(),
      executions: new Map(req.executions.map((e) => [`${e.vertexId}/${e.subtask}`, e.executionId])),
      reports: Promise.resolve(),
      ended: false,
    };
    this.attempts.set(key, attempt);
    this.metrics.setSlots(this.config.numberOfTaskSlots, this.freeSlots() - req.jobSlots.length);
    try {
      const bundle = await this.blobs.path(req.bundleHash);
      mkdirSync(attempt.stateDir, { recursive: true });
      const ports = new Map<number, Record<number, MessagePort>>(req.jobSlots.map((s) => [s, {}]));
      const local = new Set(req.jobSlots);
      for (const a of req.jobSlots) {
        for (const b of allSlots) {
          if (b === a) continue;
          if (local.has(b)) {
            // Slots on this TaskManager talk directly, thread to thread.
            if (b < a) continue;
            const { port1, port2 } = new MessageChannel();
            ports.get(a)![b] = port1;
            ports.get(b)![a] = port2;
          } else {
            const peer = location.get(b)!;
            const { port1, port2 } = new MessageChannel();
            ports.get(a)![b] = port1;
            this.router.route(ref.jobId, ref.attempt, a, b, peer.resourceId, port2);
            this.router.expectPeer(peer.resourceId, peer.exchangeSecret);
            attempt.peers.add(peer.resourceId);
          }
        }
      }
      const configuration: Record<string, string> = { ...req.configuration };
      let restore: TaskRestore | undefined;
      if (req.restoreMetadataDir) {
        restore = {
          metadataDir: req.restoreMetadataDir,
          metadata: decodeMetadata(req.restoreMetadata, `${req.restoreMetadataDir}/_metadata`),
        };
      }
      for (const slot of req.jobSlots) {
        const data: SlotWorkerData = {
          jobModule: bundle,
          jobName: req.jobName,
          configuration,
          graphDigest: req.graphDigest,
          slot,
          attemptNumber: ref.attempt,
          localStateDir: attempt.stateDir,
          ports: ports.get(slot)!,
          metricsIntervalMs: Math.min(1000, this.config.metricsFetcherUpdateInterval),
          s3: s3OptionsOf(this.config),
          restore,
        };
        attempt.workers.set(
          slot,
          new SlotWorkerHandle(data, {
            argv: req.programArgs,
            events: this.workerEvents(attempt, slot),
          }),
        );
      }
      await Promise.all([...attempt.workers.values()].map((w) => w.deployed));
      for (const peer of attempt.peers) {
        const address = req.locations.find((l) => l.resourceId === peer)!.address;
        this.router.connect(peer, address);
      }
      log.info({ slots: req.jobSlots }, 'deployed');
      return {};
    } catch (e) {
      await this.release(attempt);
      const error = ensureError(e);
      log.warn({ err: error }, 'deployment failed');
      // The failure record as the worker raised it: the JobMaster decides from its fields.
      return { failure: failureRecordOf(error) };
    }
  }

  private workerEvents(
    a: LocalAttempt,
    slot: number,
  ): ConstructorParameters<typeof SlotWorkerHandle>[1]['events'] {
    const state = (st: ReportedState): void => this.reportState(a, st);
    return {
      readerRegistered: (vertexId, subtask) =>
        this.report(a, () =>
          this.jobMaster.call(this.jobMaster.raw.RegisterSourceReader, {
            ...this.origin(a, vertexId, subtask),
            vertexId,
            subtask,
          }),
        ),
      taskFinished: (vertexId, subtask, sample) => {
        const metrics = this.recordMetrics(a, sample);
        state({ vertexId, subtask, state: 'FINISHED', metrics });
      },
      taskFailed: (vertexId, subtask, error) =>
        state({ vertexId, subtask, state: 'FAILED', error: failureRecordOf(error) }),
      workerLost: (error) =>
        state({
          vertexId: -1,
          subtask: slot,
          state: 'FAILED',
          error: { ...failureRecordOf(error), domain: 'internal' },
        }),
      collect: (collectId, subtask, values) =>
        this.report(a, () =>
          this.jobMaster.call(this.jobMaster.raw.ReportCollected, {
            ...this.origin(a, -1, subtask),
            collectId,
            subtask,
            values: serialize(values),
          }),
        ),
      metrics: (tasks) => {
        for (const t of tasks) this.recordMetrics(a, t);
      },
      acknowledgeCheckpoint: (vertexId, subtask, checkpointId, ack) =>
        this.report(a, () =>
          this.jobMaster.call(this.jobMaster.raw.AcknowledgeCheckpoint, {
            ...this.origin(a, vertexId, subtask),
            vertexId,
            subtask,
            checkpointId,
            state: checkpointStateOf(ack),
          }),
        ),
      declineCheckpoint: (vertexId, subtask, checkpointId, error) =>
        this.report(a, () =>
          this.jobMaster.call(this.jobMaster.raw.DeclineCheckpoint, {
            ...this.origin(a, vertexId, subtask),
            vertexId,
            subtask,
            checkpointId,
            error: failureRecordOf(error),
          }),
        ),
      queryableStateRegistered: (vertexId, subtask, r) =>
        this.report(a, () =>
          this.jobMaster.call(this.jobMaster.raw.RegisterQueryableState, {
            ...this.origin(a, vertexId, subtask),
            vertexId,
            subtask,
            queryableStateName: r.queryableStateName,
            stateName: r.stateName,
            kind: r.kind,
            ttl: r.ttl,
            ttlMillis: r.ttlMillis,
            operatorUid: r.operatorUid,
            operatorName: r.operatorName,
            parallelism: r.parallelism,
            maxParallelism: r.maxParallelism,
          }),
        ),
      stdout: (text) => void process.stdout.write(text),
      stderr: (text) => void process.stderr.write(text),
    };
  }

  private reportState(a: LocalAttempt, st: ReportedState): void {
    // Released: its tasks fail as cancelled, which the JobManager asked for.
    if (a.ended) return;
    this.report(a, () =>
      this.jobMaster.call(this.jobMaster.raw.UpdateTaskExecutionState, {
        ...st,
        ...this.origin(a, st.vertexId ?? -1, st.subtask ?? 0),
        resourceId: this.resourceId,
      }),
    );
  }

  /**
   * What every report about a subtask carries: the job attempt, this TaskManager's registration
   * (read when the report is sent: a DeployTasks may overtake the answer to the registration it
   * follows) and the subtask's execution id. For a report about a whole slot worker (`vertexId`
   * -1, `subtask` the job slot), the execution id of any subtask in that slot.
   */
  private origin(
    a: LocalAttempt,
    vertexId: number,
    subtask: number,
  ): { jobId: string; attempt: number; registrationId: string; executionId: string } {
    let executionId = vertexId === -1 ? undefined : a.executions.get(`${vertexId}/${subtask}`);
    if (vertexId === -1) {
      for (const [key, id] of a.executions) {
        if (key.endsWith(`/${subtask}`)) {
          executionId = id;
          break;
        }
      }
    }
    return {
      jobId: a.jobId,
      attempt: a.attempt,
      registrationId: this.registrationId,
      executionId: executionId ?? '',
    };
  }

  private recordMetrics(a: LocalAttempt, sample: TaskMetricsSample): TaskMetrics {
    const m = this.metrics.record(a.jobId, a.jobName, a.attempt, sample);
    a.metrics.set(`${sample.vertexId}/${sample.subtask}`, m);
    return m;
  }

  private report(a: LocalAttempt, send: () => Promise<unknown>): void {
    a.reports = a.reports.then(send).then(
      () => {},
      (e: unknown) => {
        if (!a.ended)
          this.log.warn(
            { job_id: a.jobId, attempt: a.attempt, err: ensureError(e) },
            'report to the JobManager failed',
          );
      },
    );
  }

  private attemptOf(ref: AttemptRef__Output | null | undefined): LocalAttempt | undefined {
    return ref ? this.attempts.get(`${ref.jobId}#${ref.attempt}`) : undefined;
  }

  private async startTasks(ref: AttemptRef__Output): Promise<Empty> {
    const a = this.attemptOf(ref);
    if (!a)
      throw failedPrecondition(
        `StartTasks: attempt ${ref.jobId}#${ref.attempt} is not deployed here`,
      );
    for (const w of a.workers.values()) w.start();
    return {};
  }

  private logLines(): GetLogResponse {
    return {
      text: this.recentLog.text(),
      size: this.recentLog.size,
      mtime: this.recentLog.lastWrite,
    };
  }

  private async cancelTasks(ref: AttemptRef__Output): Promise<Empty> {
    const a = this.attemptOf(ref);
    if (a) await this.release(a);
    return {};
  }

  private async assignSplits(req: AssignSplitsRequest__Output): Promise<Empty> {
    const a = this.attemptOf(req.attempt);
    if (!a) throw failedPrecondition('AssignSplits: the attempt is not deployed here');
    const worker = a.workers.get(req.subtask);
    if (!worker) throw invalidArgument(`AssignSplits: subtask ${req.subtask} does not run here`);
    if (req.splits.length > 0) {
      let splits: unknown;
      try {
        splits = deserialize(req.splits);
      } catch (e) {
        throw invalidArgument(
          `AssignSplits: splits are not a serialized array: ${ensureError(e).message}`,
        );
      }
      if (!Array.isArray(splits)) throw invalidArgument('AssignSplits: splits are not an array');
      worker.assignSplits(req.vertexId, req.subtask, splits);
    }
    if (req.noMoreSplits) worker.noMoreSplits(req.vertexId, req.subtask);
    return {};
  }

  /**
   * The JobManager's stream of lookups: each request is answered on its own, as soon as its
   * subtask has, with its request id; a failed lookup is a response with its code, so the stream
   * stays open for the others.
   */
  private queryStates(
    call: ServerDuplexStream<TaskQueryStateRequest__Output, TaskQueryStateResponse>,
  ): void {
    call.on('error', () => undefined); // the JobManager went away: it opens a new stream
    call.on('end', () => call.end());
    call.on('data', (req: TaskQueryStateRequest__Output) => {
      const requestId = req.requestId;
      this.queryState(req).then(
        (results) => {
          if (!call.writable) return;
          call.write({ requestId, code: status.OK, results });
        },
        (e: unknown) => {
          if (!call.writable) return;
          const code = e instanceof RpcStatusError ? e.code : status.UNKNOWN;
          const error = ensureError(e);
          call.write({
            requestId,
            code,
            message:
              e instanceof RpcStatusError ? error.message : `${error.name}: ${error.message}`,
          });
        },
      );
    });
  }

  /**
   * A lookup of queryable state from the JobManager: the subtask's worker answers it between
   * records. Retryable answers (UNAVAILABLE) while the attempt or subtask is not running here.
   */
  private async queryState(req: TaskQueryStateRequest__Output): Promise<Uint8Array> {
    const a = this.attemptOf(req.attempt);
    const worker = a?.ended === false ? a.workers.get(req.subtask) : undefined;
    if (!worker) {
      throw new RpcStatusError(
        status.UNAVAILABLE,
        `QueryState: subtask ${req.subtask} of attempt ${req.attempt?.jobId}#${req.attempt?.attempt} ` +
          'is not running on this TaskManager (the job is restarting or rescaling); retry',
      );
    }
    let keys: unknown;
    try {
      keys = deserialize(req.keys);
    } catch (e) {
      throw invalidArgument(`QueryState: keys are not serialized: ${ensureError(e).message}`);
    }
    if (!Array.isArray(keys)) throw invalidArgument('QueryState: keys are not an array');
    for (const [i, k] of keys.entries()) {
      const problem = keyProblem(k);
      if (problem !== undefined) throw invalidArgument(`QueryState: key ${i} is ${problem}`);
    }
    const checked = keys as Key[];
    let results: unknown;
    try {
      results = await worker.queryState(req.vertexId, req.subtask, req.name, checked);
    } catch (e) {
      const error = ensureError(e);
      if (error.name === 'QueryableStateUnavailableError')
        throw new RpcStatusError(status.UNAVAILABLE, error.message);
      if (error.name === 'UnknownQueryableStateError') throw notFound(error.message);
      throw new RpcStatusError(status.UNKNOWN, `${error.name}: ${error.message}`);
    }
    try {
      return serialize(results);
    } catch (e) {
      throw new RpcStatusError(
        status.UNKNOWN,
        `QueryState: a value of state "${req.name}" cannot be serialized: ${ensureError(e).message}`,
      );
    }
  }

  private async triggerCheckpoint(req: TriggerCheckpointRequest__Output): Promise<Empty> {
    const a = this.attemptOf(req.attempt);
    if (!a) throw failedPrecondition('TriggerCheckpoint: the attempt is not deployed here');
    if (!req.targetDir) throw invalidArgument('TriggerCheckpoint: targetDir is required');
    for (const subtask of req.subtasks) {
      const worker = a.workers.get(subtask);
      if (!worker) throw invalidArgument(`TriggerCheckpoint: subtask ${subtask} does not run here`);
      worker.triggerCheckpoint(req.vertexId, subtask, req.checkpointId, {
        timestamp: req.timestamp,
        savepoint: req.savepoint,
        targetDir: req.targetDir,
        sharedDir: req.sharedDir,
        drain: req.drain,
        aligned: req.aligned,
      });
    }
    return {};
  }

  private async notifyCheckpoint(req: NotifyCheckpointRequest__Output): Promise<Empty> {
    const a = this.attemptOf(req.attempt);
    if (!a) return {};
    if (req.aborted) {
      for (const w of a.workers.values()) w.notifyCheckpointAborted(req.checkpointId);
    } else {
      await Promise.all(
        [...a.workers.values()].map((w) => w.notifyCheckpointComplete(req.checkpointId)),
      );
    }
    return {};
  }

  /** Stops an attempt's workers and frees its slots; resolves once they are free. */
  private release(a: LocalAttempt): Promise<void> {
    let released = this.releasing.get(a);
    if (!released) {
      released = this.releaseNow(a);
      this.releasing.set(a, released);
    }
    return released;
  }

  private async releaseNow(a: LocalAttempt): Promise<void> {
    if (a.ended) return;
    a.ended = true;
    this.router.unroute(a.jobId, a.attempt);
    // The tasks close their operators first (a transactional sink aborts its open transaction, so
    // read_committed consumers do not wait for its timeout), then the threads are stopped.
    await Promise.all([...a.workers.values()].map((w) => w.cancelAndWait(CANCEL_GRACE_MS)));
    await Promise.all([...a.workers.values()].map((w) => w.terminate()));
    this.attempts.delete(`${a.jobId}#${a.attempt}`);
    this.metrics.forget(a.jobId, a.attempt);
    this.metrics.setSlots(this.config.numberOfTaskSlots, this.freeSlots());
    rmSync(a.stateDir, { recursive: true, force: true });
    this.log.info({ job_id: a.jobId, attempt: a.attempt }, 'released');
  }

  private peerLost(peerId: string, reason: string): void {
    for (const a of this.attempts.values()) {
      if (!a.peers.has(peerId) || a.ended) continue;
      const error = new NimbleError(
        `Lost the data connection to TaskManager ${peerId}: ${reason}`,
        'external',
      );
      const slot = a.workers.keys().next().value ?? 0;
      this.reportState(a, {
        vertexId: -1,
        subtask: slot,
        state: 'FAILED',
        error: failureRecordOf(error),
      });
    }
  }

  // ---- metrics endpoint ----------------------------------------------------------------------

  private startMetricsServer(host: string, port: number): Promise<number> {
    const server = createHttpServer((req, res) => {
      const path = req.url?.split('?')[0];
      if (req.method === 'GET' && path === '/health') {
        const { httpStatus, report } = this.registration.health();
        res.writeHead(httpStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify(report));
      } else if (req.method === 'GET' && path === '/metrics') {
        this.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
            res.end(text);
          },
          (e: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(e));
          },
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not found: this TaskManager serves GET /metrics and GET /health\n');
      }
    });
    this.http = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e) =>
        reject(
          new Error(`Cannot listen on ${host}:${port} for /metrics: ${e.message}`, { cause: e }),
        ),
      );
      server.listen(port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }
}

type ReportedState = Omit<
  TaskExecutionState,
  'jobId' | 'attempt' | 'resourceId' | 'registrationId' | 'executionId'
> & { error?: SerializedError };

/** A subtask's checkpoint acknowledgement as its protobuf message. */
function checkpointStateOf(ack: SubtaskCheckpointAck): SubtaskCheckpointState {
  const operators: NonNullable<SubtaskCheckpointState['operators']> = {};
  for (const [uid, op] of Object.entries(ack.operators)) {
    operators[uid] = {
      keyed: op.keyed
        ? {
            keyGroupRange: [...op.keyed.keyGroupRange],
            files: op.keyed.files.map((f) => ({ ...f, offsets: [...f.offsets] })),
          }
        : null,
      operatorState: { ...op.operatorState },
      operatorStateModes: { ...op.operatorStateModes },
      channelState: op.channelState
        ? {
            ...op.channelState,
            input: op.channelState.input.map((e) => ({ ...e, sizes: [...e.sizes] })),
            output: op.channelState.output.map((e) => ({ ...e, sizes: [...e.sizes] })),
          }
        : null,
    };
  }
  return {
    operators,
    stateSize: ack.stateSize,
    syncDurationMs: ack.syncDurationMs,
    asyncDurationMs: ack.asyncDurationMs,
    alignmentDurationMs: ack.alignmentDurationMs,
    unaligned: ack.unaligned ?? false,
    persistedBytes: ack.persistedBytes ?? 0,
  };
}

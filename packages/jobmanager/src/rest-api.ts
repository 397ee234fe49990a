import type { PlanVertex } from '@nimble/runtime';
import { ensureError, jsonPlanOf, parseExecutionConfiguration } from '@nimble/runtime';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { CheckpointStats } from './checkpoint-coordinator.js';
import type { JobManagerMetrics } from './job-manager-metrics.js';
import type { JobManager } from './job-manager.js';
import type { CheckpointType, JobMaster } from './job-master.js';
import { isTerminal } from './job-status.js';
import { restAuthorized } from './rest-auth.js';
import {
  dashboardConfiguration,
  isSensitiveKey,
  jobManagerConfiguration,
  jobManagerLogs,
  jobManagerMetrics,
  LOG_NAME,
  NIMBLE_VERSION,
  taskManagerDetails,
  taskManagerLogs,
  taskManagerLogText,
  taskManagerMetrics,
} from './rest-cluster.js';
import { RestError } from './rest-error.js';
import { deleteJar, listJars, planJar, readBody, runJar, uploadJar } from './rest-jars.js';
import {
  aggregatedSubtaskMetrics,
  ioMetrics,
  vertexBackPressure,
  vertexDetails,
  vertexMetrics,
  vertexMetricValues,
  vertexOf,
  vertexWatermarks,
} from './rest-vertices.js';
import { stateMethods, stateRoute } from './rest-state.js';
import { dashboardFile } from './web-dashboard.js';

function taskCounts(job: JobMaster): Record<string, number> {
  const counts: Record<string, number> = {
    created: 0,
    scheduled: 0,
    deploying: 0,
    running: 0,
    finished: 0,
    canceling: 0,
    canceled: 0,
    failed: 0,
    reconciling: 0,
    initializing: 0,
  };
  for (const v of job.submission.plan.vertices) {
    for (let s = 0; s < v.parallelism; s++) {
      const finished = job.finishedTasks.has(`${v.id}/${s}`);
      const status = (finished ? 'FINISHED' : job.runningTaskStatus()).toLowerCase();
      counts[status in counts ? status : 'created']!++;
    }
  }
  return counts;
}

function jobOverview(job: JobMaster) {
  const end = job.endTime;
  return {
    jid: job.jobId,
    name: job.name,
    state: job.status,
    'start-time': job.startTime,
    'end-time': end,
    duration: (end > 0 ? end : Date.now()) - job.startTime,
    'last-modification': Math.max(...Object.values(job.timestamps)),
    tasks: taskCounts(job),
  };
}

/** Flink's count of a vertex's subtasks by execution state. */
function vertexTaskCounts(job: JobMaster, vertex: PlanVertex): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const state of EXECUTION_STATES) counts[state] = 0;
  for (let s = 0; s < vertex.parallelism; s++) {
    const state = job.finishedTasks.has(`${vertex.id}/${s}`) ? 'FINISHED' : job.runningTaskStatus();
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return counts;
}

const EXECUTION_STATES = [
  'CREATED',
  'SCHEDULED',
  'DEPLOYING',
  'RUNNING',
  'FINISHED',
  'CANCELING',
  'CANCELED',
  'FAILED',
  'RECONCILING',
  'INITIALIZING',
] as const;

function jobDetails(job: JobMaster) {
  const d = job.details();
  return {
    jid: job.jobId,
    name: job.name,
    // Stop (with a savepoint) works on a running job.
    isStoppable: job.status === 'RUNNING',
    state: job.status,
    'start-time': job.startTime,
    'end-time': job.endTime,
    duration: (job.endTime > 0 ? job.endTime : Date.now()) - job.startTime,
    maxParallelism: Math.max(...job.submission.plan.vertices.map((v) => v.maxParallelism)),
    now: Date.now(),
    timestamps: job.timestamps,
    'status-message': d.statusMessage,
    'num-restarts': d.numRestarts,
    vertices: d.vertices!.map((v) => {
      const vertex = job.submission.plan.vertices.find((p) => p.id === v.id)!;
      return {
        id: String(v.id),
        name: v.name,
        parallelism: v.parallelism,
        maxParallelism: v.maxParallelism,
        status: v.status,
        'start-time': job.startTime,
        'end-time': job.endTime,
        duration: (job.endTime > 0 ? job.endTime : Date.now()) - job.startTime,
        tasks: vertexTaskCounts(job, vertex),
        metrics: ioMetrics(vertexMetrics(job, vertex)),
      };
    }),
    'status-counts': taskCounts(job),
    plan: jsonPlanOf(job.submission.plan, job.jobId),
  };
}

/** The routes under /jobs/:id/vertices/:vid (Flink's per-vertex views). */
function vertexRoute(job: JobMaster, rest: string[], query: URLSearchParams): unknown {
  const vertex = vertexOf(job, rest[0]!);
  const path = rest.slice(1).join('/');
  switch (path) {
    case '':
      return vertexDetails(job, vertex);
    case 'backpressure':
      return vertexBackPressure(job, vertex);
    case 'watermarks':
      return vertexWatermarks(job, vertex);
    case 'metrics':
      return vertexMetricValues(job, vertex, query);
    case 'subtasks/metrics':
      return aggregatedSubtaskMetrics(job, vertex, query);
    default:
      return undefined;
  }
}

const VERTEX_PATHS = new Set(['', 'backpressure', 'watermarks', 'metrics', 'subtasks/metrics']);

// ---- checkpoints (Flink's CheckpointingStatistics and CheckpointConfigInfo) ------------------

/**
 * One checkpoint as Flink's REST API shows it: `@class` tells completed, failed and in-progress
 * apart (Jackson's type property), and only a completed checkpoint has a path to restore from.
 */
function checkpointEntry(s: CheckpointStats) {
  const common = {
    id: s.id,
    status: s.status,
    is_savepoint: s.is_savepoint,
    checkpoint_type: s.is_savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
    trigger_timestamp: s.trigger_timestamp,
    latest_ack_timestamp: s.latest_ack_timestamp,
    state_size: s.state_size,
    end_to_end_duration: s.end_to_end_duration,
    num_subtasks: s.num_subtasks,
    num_acknowledged_subtasks: s.num_acknowledged_subtasks,
  };
  switch (s.status) {
    case 'COMPLETED':
      return { '@class': 'completed', ...common, external_path: s.external_path };
    case 'FAILED':
      return {
        '@class': 'failed',
        ...common,
        failure_timestamp: s.trigger_timestamp + s.end_to_end_duration,
        failure_message: s.failure_message ?? null,
      };
    default:
      return { '@class': 'in_progress', ...common };
  }
}

function minMaxAvg(values: number[]): { min: number; max: number; avg: number } {
  if (values.length === 0) return { min: 0, max: 0, avg: 0 };
  const sum = values.reduce((a, b) => a + b, 0);
  return { min: Math.min(...values), max: Math.max(...values), avg: sum / values.length };
}

function checkpointStatistics(job: JobMaster) {
  const c = job.checkpoints;
  const completedInHistory = c.history.filter((s) => s.status === 'COMPLETED');
  // The checkpoint a restart would restore from; its history line may have been pushed out.
  const latest = c.latestCompleted();
  const latestEntry = latest && c.history.find((s) => s.id === latest.id);
  let latestCompleted: ReturnType<typeof checkpointEntry> | null = null;
  if (latestEntry) latestCompleted = checkpointEntry(latestEntry);
  else if (latest) {
    latestCompleted = {
      '@class': 'completed',
      id: latest.id,
      status: 'COMPLETED',
      is_savepoint: latest.savepoint,
      checkpoint_type: latest.savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
      trigger_timestamp: latest.triggerTimestamp,
      latest_ack_timestamp: latest.completedTimestamp,
      state_size: latest.stateSize,
      end_to_end_duration: latest.completedTimestamp - latest.triggerTimestamp,
      num_subtasks: 0,
      num_acknowledged_subtasks: 0,
      external_path: latest.metadataDir,
    };
  }
  return {
    counts: {
      restored: c.counts.restored,
      total: c.counts.completed + c.counts.failed + c.inProgress,
      in_progress: c.inProgress,
      completed: c.counts.completed,
      failed: c.counts.failed,
    },
    // Over the checkpoints the history still holds (the latest ten), not all since the start.
    summary: {
      state_size: minMaxAvg(completedInHistory.map((s) => s.state_size)),
      end_to_end_duration: minMaxAvg(completedInHistory.map((s) => s.end_to_end_duration)),
    },
    latest: {
      completed: latestCompleted,
      savepoint: c.latestSavepoint ? checkpointEntry(c.latestSavepoint) : null,
      failed: c.latestFailed ? checkpointEntry(c.latestFailed) : null,
      restored: c.restored
        ? {
            id: c.restored.id,
            restore_timestamp: c.restored.restoreTimestamp,
            is_savepoint: c.restored.isSavepoint,
            external_path: c.restored.path,
          }
        : null,
    },
    history: c.history.map(checkpointEntry),
  };
}

/** Flink's class names for what Nimble's `state.backend.type` values stand for. */
const STATE_BACKENDS = { hashmap: 'HashMapStateBackend', level: 'LevelStateBackend' } as const;

function checkpointConfig(job: JobMaster) {
  const s = job.checkpoints.settings;
  if (s.interval <= 0) {
    // Flink answers 404 too: there is no checkpoint configuration to show.
    throw new RestError(404, `Checkpointing is not enabled for this job (${job.jobId}).`);
  }
  // The job's own configuration (the cluster's state.backend.type is not visible from here).
  const backend = parseExecutionConfiguration(job.submission.configuration).stateBackend;
  return {
    mode: 'exactly_once',
    interval: s.interval,
    timeout: s.timeout,
    min_pause: s.minPause,
    max_concurrent: 1,
    externalization: {
      enabled: s.retention !== 'no_externalized_checkpoints',
      delete_on_cancellation: s.retention === 'delete_on_cancellation',
    },
    state_backend: STATE_BACKENDS[backend],
    checkpoint_storage: 'FileSystemCheckpointStorage',
    unaligned_checkpoints: false,
    tolerable_failed_checkpoints: s.tolerableFailures,
  };
}

/** The statistics of checkpoint `id` the history still holds; 404 as Flink's when gone. */
function checkpointStats(job: JobMaster, id: string): CheckpointStats {
  const stats = job.checkpoints.history.find((c) => String(c.id) === id);
  if (!stats) {
    throw new RestError(404, `Could not find checkpointing statistics for checkpoint ${id}.`);
  }
  return stats;
}

/** A vertex's share of a checkpoint (Flink's TaskCheckpointStatistics). */
function taskCheckpointStatistics(s: CheckpointStats, vertex: PlanVertex) {
  const acks = [...s.acks.values()].filter((a) => a.vertexId === vertex.id);
  const latest = Math.max(-1, ...acks.map((a) => a.ackTimestamp));
  const stateSize = acks.reduce((n, a) => n + a.stateSize, 0);
  return {
    id: s.id,
    status: s.status,
    latest_ack_timestamp: latest,
    checkpointed_size: stateSize,
    state_size: stateSize,
    end_to_end_duration: latest < 0 ? -1 : latest - s.trigger_timestamp,
    alignment_buffered: 0,
    processed_data: 0,
    persisted_data: 0,
    num_subtasks: vertex.parallelism,
    num_acknowledged_subtasks: acks.length,
  };
}

/** Flink's CheckpointStatistics of one checkpoint, with each vertex's part in `tasks`. */
function checkpointDetails(job: JobMaster, id: string) {
  const s = checkpointStats(job, id);
  const tasks: Record<string, ReturnType<typeof taskCheckpointStatistics>> = {};
  for (const v of job.submission.plan.vertices)
    tasks[String(v.id)] = taskCheckpointStatistics(s, v);
  return { ...checkpointEntry(s), tasks };
}

/** Flink's TaskCheckpointStatisticsWithSubtaskDetails: one vertex's subtasks in a checkpoint. */
function checkpointSubtaskDetails(job: JobMaster, id: string, vertexId: string) {
  const s = checkpointStats(job, id);
  const vertex = vertexOf(job, vertexId);
  const task = taskCheckpointStatistics(s, vertex);
  const acks = Array.from({ length: vertex.parallelism }, (_, i) =>
    s.acks.get(`${vertex.id}/${i}`),
  );
  const done = acks.flatMap((a) => (a ? [a] : []));
  const summaryOf = (values: number[]) => minMaxAvg(values);
  return {
    ...task,
    summary: {
      state_size: summaryOf(done.map((a) => a.stateSize)),
      end_to_end_duration: summaryOf(done.map((a) => a.ackTimestamp - s.trigger_timestamp)),
      checkpoint_duration: {
        sync: summaryOf(done.map((a) => a.syncDurationMs)),
        async: summaryOf(done.map((a) => a.asyncDurationMs)),
      },
      alignment: {
        buffered: summaryOf([]),
        duration: summaryOf(done.map((a) => a.alignmentDurationMs)),
      },
    },
    subtasks: acks.map((a, index) =>
      a
        ? {
            index,
            status: 'completed',
            ack_timestamp: a.ackTimestamp,
            end_to_end_duration: a.ackTimestamp - s.trigger_timestamp,
            state_size: a.stateSize,
            checkpointed_size: a.stateSize,
            checkpoint: { sync: a.syncDurationMs, async: a.asyncDurationMs },
            alignment: { buffered: 0, processed: 0, persisted: 0, duration: a.alignmentDurationMs },
            start_delay: 0,
            unaligned_checkpoint: false,
            aborted: false,
          }
        : { index, status: 'pending_or_failed' },
    ),
  };
}

/** Flink's JobConfigInfo: the job's own configuration as its user-config, secrets hidden. */
function jobConfig(job: JobMaster) {
  const c = job.submission.configuration;
  const userConfig: Record<string, string> = {};
  for (const key of Object.keys(c).sort())
    userConfig[key] = isSensitiveKey(key) ? '******' : c[key]!;
  const parallelism = Number(c['parallelism.default']);
  return {
    jid: job.jobId,
    name: job.name,
    'execution-config': {
      'execution-mode': 'PIPELINED',
      'restart-strategy': job.submission.restartStrategy.description,
      'job-parallelism': Number.isInteger(parallelism)
        ? parallelism
        : Math.max(...job.submission.plan.vertices.map((v) => v.parallelism)),
      'object-reuse-mode': false,
      'user-config': userConfig,
    },
  };
}

/** POST /jobs/:id/checkpoints (Flink 1.19's CheckpointTriggerRequestBody): 202 with a trigger id. */
async function triggerCheckpoint(
  job: JobMaster,
  operations: AsyncOperations,
  req: IncomingMessage,
  options: RestOptions,
): Promise<[number, unknown]> {
  const body = await readJsonBody(req, options.maxContentLength);
  const triggerId = optionalField(body, 'triggerId', 'string') || undefined;
  const type = optionalField(body, 'checkpointType', 'string') ?? 'CONFIGURED';
  if (!['CONFIGURED', 'FULL', 'INCREMENTAL'].includes(type)) {
    throw new RestError(
      400,
      `Field "checkpointType" must be CONFIGURED, FULL or INCREMENTAL, not ${JSON.stringify(type)}`,
    );
  }
  const refusal = job.checkpointRefusal(type as CheckpointType);
  if (refusal) throw new RestError(409, refusal);
  const run = async () => ({ checkpointId: (await job.checkpointNow(type as CheckpointType)).id });
  return [202, { 'request-id': operations.start(`${job.jobId}/checkpoints`, triggerId, run) }];
}

/** POST /savepoint-disposal: deletes a savepoint in the background. */
async function triggerDisposal(
  jm: JobManager,
  operations: AsyncOperations,
  req: IncomingMessage,
  options: RestOptions,
): Promise<[number, unknown]> {
  const body = await readJsonBody(req, options.maxContentLength);
  const path = optionalField(body, 'savepoint-path', 'string');
  if (!path) throw new RestError(400, 'Field "savepoint-path" is required');
  const run = async () => {
    await jm.disposeSavepoint(path);
    return {};
  };
  return [202, { 'request-id': operations.start('savepoint-disposal', undefined, run) }];
}

// ---- savepoints (Flink's asynchronous operations: trigger, then poll the trigger id) --------

/** How long a finished savepoint operation can still be polled (Flink's rest.async.store-duration). */
const OPERATION_RETENTION_MS = 5 * 60_000;

type OperationResult = { readonly value: Record<string, unknown> } | { readonly error: Error };

/**
 * Asynchronous operations triggered over REST (savepoints, checkpoints, savepoint disposal), by
 * scope (a job, or the cluster) and trigger id, until their result has been kept long enough.
 */
class AsyncOperations {
  private readonly operations = new Map<string, { result: OperationResult | undefined }>();

  /**
   * Starts `run` under `triggerId` (a new random one unless the client chose it). A trigger id
   * the scope already has is not started again: the client's retry gets the same operation.
   */
  start(
    scope: string,
    triggerId: string | undefined,
    run: () => Promise<Record<string, unknown>>,
  ): string {
    const id = triggerId ?? randomBytes(16).toString('hex');
    const key = `${scope}/${id}`;
    if (this.operations.has(key)) return id;
    const operation: { result: OperationResult | undefined } = { result: undefined };
    this.operations.set(key, operation);
    const settle = (result: OperationResult): void => {
      operation.result = result;
      setTimeout(() => this.operations.delete(key), OPERATION_RETENTION_MS).unref();
    };
    run().then(
      (value) => settle({ value }),
      (e: unknown) => settle({ error: ensureError(e) }),
    );
    return id;
  }

  /** Flink's AsynchronousOperationResult: a failure is COMPLETED too, with its cause. */
  status(scope: string, triggerId: string, notFound: string) {
    const operation = this.operations.get(`${scope}/${triggerId}`);
    if (!operation) throw new RestError(404, notFound);
    const r = operation.result;
    if (!r) return { status: { id: 'IN_PROGRESS' }, operation: null };
    if ('value' in r) return { status: { id: 'COMPLETED' }, operation: r.value };
    return {
      status: { id: 'COMPLETED' },
      operation: {
        'failure-cause': {
          class: r.error.name,
          'stack-trace': r.error.stack ?? `${r.error.name}: ${r.error.message}`,
        },
      },
    };
  }
}

/** The request's JSON object body (`{}` when empty); 400 when it is not one. */
async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const text = (await readBody(req, limit)).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new RestError(400, `Request body is not valid JSON: ${ensureError(e).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RestError(400, 'Request body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalField<T extends 'string' | 'boolean'>(
  body: Record<string, unknown>,
  field: string,
  type: T,
): (T extends 'string' ? string : boolean) | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type)
    throw new RestError(400, `Field "${field}" must be a ${type}, not ${JSON.stringify(value)}`);
  return value as T extends 'string' ? string : boolean;
}

/**
 * Checks a savepoint request against the job before accepting it, so what can be known now is
 * an HTTP error rather than a failed operation: a job that does not run, no target, or a target
 * that cannot take a savepoint (an unknown scheme, /proc, not writable). Returns the target as a
 * canonical URI ('' for the job's state.savepoints.dir).
 */
async function savepointTarget(
  jm: JobManager,
  job: JobMaster,
  target: string | undefined,
  field: string,
): Promise<string> {
  if (job.status !== 'RUNNING')
    throw new RestError(409, `Job ${job.jobId} is ${job.status}; a savepoint needs a RUNNING job`);
  if (!target && !job.checkpoints.settings.savepointsDir) {
    throw new RestError(
      400,
      `Config key [state.savepoints.dir] is not set. Property [${field}] must be provided.`,
    );
  }
  try {
    return await jm.checkSavepointTarget(job, target ?? '');
  } catch (e) {
    throw new RestError(400, `Property [${field}]: ${ensureError(e).message}`);
  }
}

async function savepointRoutes(
  jm: JobManager,
  job: JobMaster,
  operations: AsyncOperations,
  req: IncomingMessage,
  action: 'savepoints' | 'stop',
  options: RestOptions,
): Promise<[number, unknown]> {
  const body = await readJsonBody(req, options.maxContentLength);
  const triggerId = optionalField(body, 'triggerId', 'string') || undefined;
  let take: () => Promise<string>;
  if (action === 'savepoints') {
    const target = await savepointTarget(
      jm,
      job,
      optionalField(body, 'target-directory', 'string'),
      'target-directory',
    );
    const cancel = optionalField(body, 'cancel-job', 'boolean') ?? false;
    // Flink's cancel-with-savepoint: the job ends CANCELED, not FINISHED as with stop.
    take = cancel
      ? async () => {
          const location = await job.savepoint(target, false, false);
          await job.cancel();
          return location;
        }
      : () => job.savepoint(target, false, false);
  } else {
    const target = await savepointTarget(
      jm,
      job,
      optionalField(body, 'targetDirectory', 'string'),
      'targetDirectory',
    );
    const drain = optionalField(body, 'drain', 'boolean') ?? false;
    take = () => job.savepoint(target, true, drain);
  }
  const run = async () => ({ location: await take() });
  return [202, { 'request-id': operations.start(`${job.jobId}/savepoints`, triggerId, run) }];
}

/** A path segment, percent-decoded; a malformed escape is the client's error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RestError(
      400,
      `Malformed percent-encoding in the path segment ${JSON.stringify(segment)}`,
    );
  }
}

async function route(
  jm: JobManager,
  metrics: JobManagerMetrics,
  operations: AsyncOperations,
  req: IncomingMessage,
  options: RestOptions,
): Promise<[number, unknown, string?]> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // Segments as the client meant them: a TaskManager id holds ':', which clients may encode.
  const parts = url.pathname.split('/').filter(Boolean).map(decodeSegment);
  const method = req.method ?? 'GET';
  const get = method === 'GET';
  const file = get ? dashboardFile(url.pathname) : undefined;
  if (file) return [200, file[0], file[1]];
  if (get && url.pathname === '/metrics') {
    return [200, await metrics.registry.metrics(), metrics.registry.contentType];
  }
  if (get && url.pathname === '/overview') {
    const o = jm.overview();
    return [
      200,
      {
        taskmanagers: o.taskManagers.length,
        'slots-total': o.slotsTotal,
        'slots-available': o.slotsAvailable,
        'jobs-running': o.jobsRunning,
        'jobs-finished': o.jobsFinished,
        'jobs-cancelled': o.jobsCancelled,
        'jobs-failed': o.jobsFailed,
        'nimble-version': NIMBLE_VERSION,
      },
    ];
  }
  if (get && url.pathname === '/config') return [200, dashboardConfiguration()];
  if (parts[0] === 'jars') {
    if (parts.length === 1 && get) return [200, listJars(jm, req, options.tls !== undefined)];
    if (parts.length === 2 && parts[1] === 'upload' && method === 'POST')
      return [200, await uploadJar(jm, req, options.maxContentLength)];
    if (parts.length === 2 && parts[1] !== 'upload' && method === 'DELETE')
      return [200, deleteJar(jm, parts[1]!)];
    if (parts.length === 3 && parts[2] === 'plan' && (get || method === 'POST')) {
      const body = get ? {} : await readJsonBody(req, options.maxContentLength);
      return [200, await planJar(jm, parts[1]!, body, url.searchParams)];
    }
    if (parts.length === 3 && parts[2] === 'run' && method === 'POST') {
      const body = await readJsonBody(req, options.maxContentLength);
      return [200, await runJar(jm, parts[1]!, body, url.searchParams)];
    }
  }
  if (get && parts[0] === 'jobmanager') {
    const path = parts.slice(1).join('/');
    if (path === 'config') return [200, jobManagerConfiguration(jm)];
    if (path === 'metrics') return [200, jobManagerMetrics(jm, url.searchParams)];
    if (path === 'logs') return [200, jobManagerLogs(jm)];
    if (path === 'log' || path === `logs/${LOG_NAME}`)
      return [200, jm.recentLog.text(), 'text/plain; charset=utf-8'];
  }
  if (get && parts[0] === 'taskmanagers' && parts.length === 2)
    return [200, taskManagerDetails(jm, parts[1]!)];
  if (get && parts[0] === 'taskmanagers' && parts.length === 3 && parts[2] === 'metrics')
    return [200, taskManagerMetrics(jm, parts[1]!, url.searchParams)];
  if (get && parts[0] === 'taskmanagers' && parts.length === 3 && parts[2] === 'logs')
    return [200, await taskManagerLogs(jm, parts[1]!)];
  if (get && parts[0] === 'taskmanagers' && parts.length === 3 && parts[2] === 'log')
    return [200, await taskManagerLogText(jm, parts[1]!), 'text/plain; charset=utf-8'];
  if (get && parts[0] === 'taskmanagers' && parts.length === 4 && parts[2] === 'logs')
    return [200, await taskManagerLogText(jm, parts[1]!, parts[3]!), 'text/plain; charset=utf-8'];
  if (parts[0] === 'savepoint-disposal') {
    if (parts.length === 1 && method === 'POST')
      return triggerDisposal(jm, operations, req, options);
    if (parts.length === 2 && get) {
      return [
        200,
        operations.status(
          'savepoint-disposal',
          parts[1]!,
          `There is no savepoint disposal with trigger id ${parts[1]}`,
        ),
      ];
    }
  }
  if (get && url.pathname === '/taskmanagers') {
    return [
      200,
      {
        taskmanagers: jm.overview().taskManagers.map((tm) => ({
          id: tm.resourceId,
          path: tm.address,
          metricsAddress: tm.metricsAddress,
          timeSinceLastHeartbeat: tm.lastHeartbeat,
          slotsNumber: tm.slotsTotal,
          freeSlots: tm.slotsFree,
          hardware: {
            cpuCores: tm.hardware?.cpuCores ?? 0,
            physicalMemory: tm.hardware?.physicalMemory ?? 0,
            freeMemory: tm.hardware?.freeMemory ?? 0,
          },
        })),
      },
    ];
  }
  if (parts[0] === 'jobs') {
    if (parts.length === 1 && get) {
      return [200, { jobs: [...jm.jobs.values()].map((j) => ({ id: j.jobId, status: j.status })) }];
    }
    if (parts.length === 2 && parts[1] === 'overview' && get) {
      return [200, { jobs: [...jm.jobs.values()].map(jobOverview) }];
    }
    const job = parts[1] ? jm.jobs.get(parts[1]) : undefined;
    if (parts.length >= 2 && !job) throw new RestError(404, `Job ${parts[1]} not found`);
    if (job && parts.length === 2 && get) return [200, jobDetails(job)];
    if (job && parts.length === 2 && method === 'PATCH') {
      const mode = url.searchParams.get('mode') ?? 'cancel';
      if (mode !== 'cancel')
        throw new RestError(
          400,
          `Unknown mode ${JSON.stringify(mode)}: only mode=cancel is supported`,
        );
      if (isTerminal(job.status))
        throw new RestError(409, `Job ${job.jobId} is already ${job.status}`);
      void job.cancel().catch(() => {});
      return [202, {}];
    }
    if (job && parts.length === 3 && parts[2] === 'plan' && get) {
      return [200, { plan: jsonPlanOf(job.submission.plan, job.jobId) }];
    }
    if (job && parts.length >= 4 && parts[2] === 'vertices' && get) {
      const body = vertexRoute(job, parts.slice(3), url.searchParams);
      if (body !== undefined) return [200, body];
    }
    if (job && parts.length === 3 && parts[2] === 'config' && get) return [200, jobConfig(job)];
    if (job && parts[2] === 'checkpoints' && get) {
      if (parts.length === 3) return [200, checkpointStatistics(job)];
      if (parts.length === 4 && parts[3] === 'config') return [200, checkpointConfig(job)];
      if (parts.length === 4) {
        return [
          200,
          operations.status(
            `${job.jobId}/checkpoints`,
            parts[3]!,
            `There is no checkpoint operation with trigger id ${parts[3]} for job ${job.jobId}`,
          ),
        ];
      }
      if (parts.length === 5 && parts[3] === 'details')
        return [200, checkpointDetails(job, parts[4]!)];
      if (parts.length === 7 && parts[3] === 'details' && parts[5] === 'subtasks')
        return [200, checkpointSubtaskDetails(job, parts[4]!, parts[6]!)];
    }
    if (job && parts.length === 3 && parts[2] === 'checkpoints' && method === 'POST')
      return triggerCheckpoint(job, operations, req, options);
    if (job && parts.length === 3 && method === 'POST') {
      if (parts[2] === 'savepoints')
        return savepointRoutes(jm, job, operations, req, 'savepoints', options);
      if (parts[2] === 'stop') return savepointRoutes(jm, job, operations, req, 'stop', options);
    }
    if (job && parts.length === 4 && parts[2] === 'savepoints' && get) {
      return [
        200,
        operations.status(
          `${job.jobId}/savepoints`,
          parts[3]!,
          `There is no savepoint operation with trigger id ${parts[3]} for job ${job.jobId}`,
        ),
      ];
    }
    if (job && parts[2] === 'state' && stateMethods(parts.slice(3)).includes(method)) {
      const rest = parts.slice(3);
      return [
        200,
        await stateRoute(job, rest, method, url.searchParams, req, options.maxContentLength),
      ];
    }
    if (job && parts.length === 3 && parts[2] === 'exceptions' && get) {
      const last = job.exceptions[job.exceptions.length - 1];
      return [
        200,
        {
          'root-exception': last ? `${last.error.name}: ${last.error.message}` : null,
          timestamp: last?.timestamp ?? null,
          'all-exceptions': [],
          truncated: false,
          exceptionHistory: {
            entries: job.exceptions.map((e) => ({
              exceptionName: e.error.name,
              stacktrace: e.error.stack,
              timestamp: e.timestamp,
              taskManagerId: e.taskManager || null,
            })),
            truncated: false,
          },
        },
      ];
    }
  }
  const allowed = allowedMethods(parts, jm);
  if (allowed.length > 0 && !allowed.includes(method)) {
    throw new RestError(
      405,
      `Method ${method} is not allowed on ${url.pathname}; allowed: ${allowed.join(', ')}`,
      { allow: allowed.join(', ') },
    );
  }
  throw new RestError(404, `Not found: ${method} ${url.pathname}`);
}

/** The methods `route` serves on a path, [] for a path it does not know. */
function allowedMethods(parts: string[], jm: JobManager): string[] {
  const path = parts.join('/');
  if (['metrics', 'overview', 'taskmanagers', 'config'].includes(path)) return ['GET'];
  if (
    ['jobmanager/config', 'jobmanager/metrics', 'jobmanager/logs', 'jobmanager/log'].includes(path)
  )
    return ['GET'];
  if (path === `jobmanager/logs/${LOG_NAME}`) return ['GET'];
  if (
    parts[0] === 'taskmanagers' &&
    (parts.length === 2 ||
      (parts.length === 3 && ['metrics', 'logs', 'log'].includes(parts[2]!)) ||
      (parts.length === 4 && parts[2] === 'logs'))
  )
    return ['GET'];
  if (path === 'savepoint-disposal') return ['POST'];
  if (path === 'jars') return ['GET'];
  if (path === 'jars/upload') return ['POST'];
  if (parts[0] === 'jars' && parts.length === 2) return ['DELETE'];
  if (parts[0] === 'jars' && parts.length === 3 && parts[2] === 'run') return ['POST'];
  if (parts[0] === 'jars' && parts.length === 3 && parts[2] === 'plan') return ['GET', 'POST'];
  if (parts[0] === 'savepoint-disposal' && parts.length === 2) return ['GET'];
  if (parts[0] !== 'jobs') return [];
  if (parts.length === 1 || (parts.length === 2 && parts[1] === 'overview')) return ['GET'];
  if (!jm.jobs.has(parts[1] ?? '')) return [];
  if (parts.length === 2) return ['GET', 'PATCH'];
  const [, , resource, sub] = parts;
  if (resource === 'state') return stateMethods(parts.slice(3));
  if (parts.length === 3 && (resource === 'savepoints' || resource === 'stop')) return ['POST'];
  if (parts.length === 3 && resource === 'checkpoints') return ['GET', 'POST'];
  if (parts.length === 3 && ['exceptions', 'plan', 'config'].includes(resource!)) return ['GET'];
  if (resource === 'checkpoints' && sub === 'details' && (parts.length === 5 || parts.length === 7))
    return ['GET'];
  if (parts.length >= 4 && resource === 'vertices' && VERTEX_PATHS.has(parts.slice(4).join('/')))
    return ['GET'];
  if (parts.length === 4 && resource === 'checkpoints') return ['GET'];
  if (parts.length === 4 && resource === 'savepoints') return ['GET'];
  return [];
}

/** Security and limits of the REST server. */
export interface RestOptions {
  readonly tls?: { cert: Buffer; key: Buffer };
  readonly token?: string;
  /** Largest request body (rest.server.max-content-length). */
  readonly maxContentLength: number;
}

/**
 * Serves the REST API (Flink's shapes) and /metrics over HTTP, or HTTPS with `options.tls`.
 * With `options.token`, requests other than the open ones (rest-auth.ts) need it: 401 without.
 * A bad request never stops the daemon.
 */
export function startRestServer(
  jm: JobManager,
  metrics: JobManagerMetrics,
  host: string,
  port: number,
  options: RestOptions,
): Promise<{ server: Server; port: number }> {
  const operations = new AsyncOperations();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!restAuthorized(req, options.token)) {
      req.resume();
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer realm="nimble"',
      });
      res.end(
        JSON.stringify({
          errors: ['Unauthorized: send the cluster token as "Authorization: Bearer <token>"'],
        }),
      );
      return;
    }
    const standby = jm.standbyReason();
    if (standby !== undefined) {
      // A standby serves nothing, so a readiness probe on /overview keeps it out of a Service.
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ errors: [standby], leader: jm.leaderRestUrl ?? null }));
      return;
    }
    route(jm, metrics, operations, req, options).then(
      ([status, body, contentType]) => {
        res.writeHead(status, { 'content-type': contentType ?? 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      },
      (e: unknown) => {
        const status = e instanceof RestError ? e.status : 500;
        if (status === 500)
          jm.log.error({ err: e, url: req.url }, 'REST request failed unexpectedly');
        const headers = e instanceof RestError ? e.headers : {};
        res.writeHead(status, { ...headers, 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [e instanceof Error ? e.message : String(e)] }));
      },
    );
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle)
    : createServer(handle);
  return new Promise((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        new Error(`Cannot listen on ${host}:${port} for the REST API: ${e.message}`, { cause: e }),
      ),
    );
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { JobManagerMetrics } from './job-manager-metrics.js';
import type { JobManager } from './job-manager.js';
import type { JobMaster } from './job-master.js';
import { isTerminal } from './job-status.js';

/** A REST answer other than 200, in Flink's error shape `{"errors": [...]}`. */
class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const VERSION = '0.1.0';

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

function jobDetails(job: JobMaster) {
  const d = job.details();
  return {
    jid: job.jobId,
    name: job.name,
    isStoppable: false,
    state: job.status,
    'start-time': job.startTime,
    'end-time': job.endTime,
    duration: (job.endTime > 0 ? job.endTime : Date.now()) - job.startTime,
    now: Date.now(),
    timestamps: job.timestamps,
    'status-message': d.statusMessage,
    'num-restarts': d.numRestarts,
    vertices: d.vertices!.map((v) => ({
      id: String(v.id),
      name: v.name,
      parallelism: v.parallelism,
      maxParallelism: v.maxParallelism,
      status: v.status,
      metrics: { 'read-records': v.recordsIn, 'write-records': v.recordsOut },
    })),
    'status-counts': taskCounts(job),
    plan: { jid: job.jobId, name: job.name, nodes: job.submission.plan.vertices },
  };
}

async function route(
  jm: JobManager,
  metrics: JobManagerMetrics,
  req: IncomingMessage,
): Promise<[number, unknown, string?]> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';
  const get = method === 'GET';
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
        'nimble-version': VERSION,
      },
    ];
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
  throw new RestError(404, `Not found: ${method} ${url.pathname}`);
}

/** Serves the REST API (Flink's shapes) and /metrics over HTTP. A bad request never stops the daemon. */
export function startRestServer(
  jm: JobManager,
  metrics: JobManagerMetrics,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(jm, metrics, req).then(
      ([status, body, contentType]) => {
        res.writeHead(status, { 'content-type': contentType ?? 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      },
      (e: unknown) => {
        const status = e instanceof RestError ? e.status : 500;
        if (status === 500)
          jm.log.error({ err: e, url: req.url }, 'REST request failed unexpectedly');
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [e instanceof Error ? e.message : String(e)] }));
      },
    );
  });
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

// A job's vertices over REST, in Flink's shapes: details per subtask, backpressure, watermarks
// and the subtasks' metrics, all from the counters the TaskManagers send with their heartbeats.
import type { TaskMetrics__Output } from '@nimble/proto';
import type { PlanVertex } from '@nimble/runtime';
import type { JobMaster } from './job-master.js';
import { RestError } from './rest-error.js';

/**
 * The metrics a subtask reported, by Flink's name. Read generically from the heartbeat message:
 * every numeric field is a metric (the proto's field names are Flink's metric names), and a
 * map of numbers adds its entries, so a metric the TaskManagers start reporting shows here
 * without a change to this file.
 */
export function subtaskMetrics(m: TaskMetrics__Output | undefined): Map<string, number> {
  const metrics = new Map<string, number>();
  if (!m) return metrics;
  for (const [name, value] of Object.entries(m)) {
    if (name === 'vertexId' || name === 'subtask') continue;
    if (typeof value === 'number') metrics.set(name, value);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v === 'number') metrics.set(k, v);
      }
    }
  }
  return metrics;
}

export function vertexOf(job: JobMaster, vertexId: string): PlanVertex {
  const vertex = job.submission.plan.vertices.find((v) => String(v.id) === vertexId);
  if (!vertex) {
    throw new RestError(404, `Job ${job.jobId} has no vertex ${JSON.stringify(vertexId)}`);
  }
  return vertex;
}

function metricsOf(job: JobMaster, vertex: PlanVertex, subtask: number): Map<string, number> {
  return subtaskMetrics(job.taskMetrics.get(`${vertex.id}/${subtask}`));
}

function subtasks(vertex: PlanVertex): number[] {
  return Array.from({ length: vertex.parallelism }, (_, s) => s);
}

/** Flink's IOMetricsInfo of one subtask or a whole vertex (summed). */
export function ioMetrics(all: Map<string, number>[]) {
  const sum = (name: string) => all.reduce((n, m) => n + (m.get(name) ?? 0), 0);
  // A figure is complete when every subtask reported it.
  const complete = (name: string) => all.length > 0 && all.every((m) => m.has(name));
  return {
    'read-bytes': sum('numBytesIn'),
    'read-bytes-complete': complete('numBytesIn'),
    'write-bytes': sum('numBytesOut'),
    'write-bytes-complete': complete('numBytesOut'),
    'read-records': sum('numRecordsIn'),
    'read-records-complete': complete('numRecordsIn'),
    'write-records': sum('numRecordsOut'),
    'write-records-complete': complete('numRecordsOut'),
    'accumulated-backpressured-time': sum('accumulatedBackPressuredTimeMs'),
    'accumulated-idle-time': sum('accumulatedIdleTimeMs'),
    'accumulated-busy-time': sum('accumulatedBusyTimeMs'),
  };
}

/** The metrics of all subtasks of a vertex, subtask by subtask. */
export function vertexMetrics(job: JobMaster, vertex: PlanVertex): Map<string, number>[] {
  return subtasks(vertex).map((s) => metricsOf(job, vertex, s));
}

/** Flink's JobVertexDetailsInfo: the vertex and each of its subtasks. */
export function vertexDetails(job: JobMaster, vertex: PlanVertex) {
  const now = Date.now();
  return {
    id: String(vertex.id),
    name: vertex.name,
    parallelism: vertex.parallelism,
    maxParallelism: vertex.maxParallelism,
    now,
    subtasks: subtasks(vertex).map((subtask) => {
      const placement = job.placement(subtask);
      const finished = job.finishedTasks.has(`${vertex.id}/${subtask}`);
      const host = placement?.taskManager.address.replace(/:\d+$/, '') ?? '(unassigned)';
      const startTime = placement?.startTime ?? -1;
      return {
        subtask,
        status: finished ? 'FINISHED' : job.runningTaskStatus(),
        attempt: placement?.attempt ?? 0,
        endpoint: placement?.taskManager.address ?? '(unassigned)',
        host,
        'start-time': startTime,
        start_time: startTime,
        'end-time': -1,
        duration: startTime > 0 ? now - startTime : -1,
        metrics: ioMetrics([metricsOf(job, vertex, subtask)]),
        'taskmanager-id': placement?.taskManager.resourceId ?? '(unassigned)',
      };
    }),
  };
}

/**
 * Flink's backpressure level of a ratio of time backpressured (JobVertexBackPressureHandler):
 * up to 10% is ok, up to 50% low, above high.
 */
export function backPressureLevel(ratio: number): 'ok' | 'low' | 'high' {
  if (ratio <= 0.1) return 'ok';
  if (ratio <= 0.5) return 'low';
  return 'high';
}

/**
 * Flink's JobVertexBackPressureInfo, from the subtasks' backPressuredTimeMsPerSecond (and
 * idle and busy time where reported). Busy time is, as in Flink, the rest of the second when
 * idle time is known but busy time was not reported; unknown ratios are null.
 */
export function vertexBackPressure(job: JobMaster, vertex: PlanVertex) {
  const perSubtask = subtasks(vertex).map((subtask) => {
    const m = metricsOf(job, vertex, subtask);
    const ratio = (m.get('backPressuredTimeMsPerSecond') ?? 0) / 1000;
    const idle = m.get('idleTimeMsPerSecond');
    const busy = m.get('busyTimeMsPerSecond');
    const idleRatio = idle === undefined ? null : idle / 1000;
    let busyRatio: number | null = null;
    if (busy !== undefined) busyRatio = busy / 1000;
    else if (idleRatio !== null) busyRatio = Math.max(0, 1 - ratio - idleRatio);
    return {
      subtask,
      attemptNumber: job.placement(subtask)?.attempt ?? 0,
      'backpressure-level': backPressureLevel(ratio),
      ratio,
      idleRatio,
      busyRatio,
    };
  });
  const worst = Math.max(0, ...perSubtask.map((s) => s.ratio));
  return {
    status: 'ok',
    'backpressure-level': backPressureLevel(worst),
    'end-timestamp': Date.now(),
    subtasks: perSubtask,
  };
}

/** Flink's watermarks of a vertex: `<subtask>.currentInputWatermark` with the value as a string. */
export function vertexWatermarks(job: JobMaster, vertex: PlanVertex) {
  const out: { id: string; value: string }[] = [];
  for (const subtask of subtasks(vertex)) {
    const w = metricsOf(job, vertex, subtask).get('currentInputWatermark');
    if (w !== undefined) out.push({ id: `${subtask}.currentInputWatermark`, value: String(w) });
  }
  return out;
}

function list(param: string | null): string[] | undefined {
  if (param === null) return undefined;
  return param
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Flink's metrics of a vertex (`/jobs/:id/vertices/:vid/metrics`): ids are
 * `<subtask>.<metric>`; without `get`, the ids there are, else the values asked for (as strings;
 * unknown ids are left out, as Flink does).
 */
export function vertexMetricValues(job: JobMaster, vertex: PlanVertex, query: URLSearchParams) {
  const values = new Map<string, number>();
  for (const subtask of subtasks(vertex)) {
    for (const [name, v] of metricsOf(job, vertex, subtask)) values.set(`${subtask}.${name}`, v);
  }
  const get = list(query.get('get'));
  if (get === undefined) return [...values.keys()].map((id) => ({ id }));
  return get.filter((id) => values.has(id)).map((id) => ({ id, value: String(values.get(id)) }));
}

const AGGREGATIONS = ['min', 'max', 'avg', 'sum'] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

/**
 * Flink's aggregated subtask metrics (`/jobs/:id/vertices/:vid/subtasks/metrics`): without
 * `get`, the ids of the metrics the subtasks report; with `get=a,b`, each one's min, max, avg
 * and sum over the subtasks (`agg` picks some, `subtasks` limits to some subtasks).
 */
export function aggregatedSubtaskMetrics(
  job: JobMaster,
  vertex: PlanVertex,
  query: URLSearchParams,
) {
  const chosen = list(query.get('subtasks'));
  let indexes = subtasks(vertex);
  if (chosen !== undefined) {
    indexes = chosen.map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0 || n >= vertex.parallelism) {
        throw new RestError(
          400,
          `subtasks: ${JSON.stringify(s)} is not a subtask of vertex ${vertex.id} (0..${vertex.parallelism - 1})`,
        );
      }
      return n;
    });
  }
  const aggs = (list(query.get('agg')) ?? [...AGGREGATIONS]).map((a) => {
    const agg = a.toLowerCase();
    if (!(AGGREGATIONS as readonly string[]).includes(agg)) {
      throw new RestError(
        400,
        `agg: unknown aggregation ${JSON.stringify(a)} (min, max, avg, sum)`,
      );
    }
    return agg as Aggregation;
  });
  const reported = indexes.map((s) => metricsOf(job, vertex, s));
  const get = list(query.get('get'));
  if (get === undefined) {
    const ids = new Set<string>();
    for (const m of reported) for (const id of m.keys()) ids.add(id);
    return [...ids].map((id) => ({ id }));
  }
  const out: Record<string, number | string>[] = [];
  for (const id of get) {
    const values = reported.flatMap((m) => (m.has(id) ? [m.get(id)!] : []));
    if (values.length === 0) continue;
    const sum = values.reduce((a, b) => a + b, 0);
    const all: Record<Aggregation, number> = {
      min: Math.min(...values),
      max: Math.max(...values),
      avg: sum / values.length,
      sum,
    };
    const entry: Record<string, number | string> = { id };
    for (const a of aggs) entry[a] = all[a];
    out.push(entry);
  }
  return out;
}

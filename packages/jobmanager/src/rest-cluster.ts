// The cluster over REST, in Flink's shapes: the dashboard's configuration, the JobManager's
// configuration, metrics and log, and the TaskManagers one by one.
import type { GetLogResponse__Output } from '@nimble/proto';
import { NO_RETRY, RpcError, status } from '@nimble/proto';
import type { JobManager } from './job-manager.js';
import { isTerminal } from './job-status.js';
import { RestError } from './rest-error.js';
import type { RegisteredTaskManager } from './task-manager-registry.js';

/** Nimble's version, where Flink gives its own (`flink-version`). */
export const NIMBLE_VERSION = '0.1.0';

/** The log file name the JobManager's kept lines are shown under. */
export const LOG_NAME = 'jobmanager.log';

/** The log file name a TaskManager's kept lines are shown under. */
export const TASK_MANAGER_LOG_NAME = 'taskmanager.log';

/**
 * How long a TaskManager has to send its log: a REST request (and the dashboard's page) waits
 * no longer for one that hangs.
 */
const TASK_MANAGER_LOG_TIMEOUT_MS = 5000;

/** Flink's DashboardConfiguration. */
export function dashboardConfiguration() {
  const offset = -new Date().getTimezoneOffset() * 60_000;
  return {
    'refresh-interval': 3000,
    'timezone-name': Intl.DateTimeFormat().resolvedOptions().timeZone,
    'timezone-offset': offset,
    'flink-version': NIMBLE_VERSION,
    'flink-revision': `${NIMBLE_VERSION} (Nimble)`,
    features: {
      'web-submit': true,
      'web-cancel': true,
      'web-rescale': false,
      'web-history': false,
    },
  };
}

/**
 * Parts of a key that mark its value secret; Flink hides the values of such keys
 * (GlobalConfiguration.isSensitive) behind {@link HIDDEN}.
 */
const SENSITIVE = [
  'password',
  'secret',
  'fs.azure.account.key',
  'apikey',
  'api-key',
  'auth-params',
  'service-key',
  'token',
  'basic-auth',
  'jaas.config',
  'http-headers',
];
const HIDDEN = '******';

export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase();
  return SENSITIVE.some((s) => k.includes(s));
}

/** Flink's ClusterConfigurationInfo: `{key, value}` by key, secrets hidden. */
export function jobManagerConfiguration(jm: JobManager) {
  return Object.entries(jm.configurationEntries)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value: isSensitiveKey(key) ? HIDDEN : String(value) }));
}

/** Flink's JobManager metrics, by Flink's names (the V8 heap under the JVM heap's names). */
function jobManagerMetricValues(jm: JobManager): Map<string, number> {
  const memory = process.memoryUsage();
  const jobs = [...jm.jobs.values()];
  return new Map([
    ['numRegisteredTaskManagers', jm.registry.all().length],
    ['numRunningJobs', jobs.filter((j) => !isTerminal(j.status)).length],
    ['taskSlotsTotal', jm.registry.slotsTotal()],
    ['taskSlotsAvailable', jm.registry.slotsFree()],
    ['Status.JVM.Memory.Heap.Used', memory.heapUsed],
    ['Status.JVM.Memory.Heap.Committed', memory.heapTotal],
    ['Status.JVM.Memory.NonHeap.Used', memory.external],
    ['Status.Process.Memory.RSS', memory.rss],
    ['uptime', Date.now() - jm.startTime],
  ]);
}

/**
 * Flink's MetricCollectionResponseBody as a plain list: without `get`, the ids there are; with
 * `get=a,b`, those of them there are, with their values as strings.
 */
export function metricList(values: Map<string, number>, query: URLSearchParams) {
  const get = query.get('get');
  if (get === null) return [...values.keys()].map((id) => ({ id }));
  return get
    .split(',')
    .map((id) => id.trim())
    .filter((id) => values.has(id))
    .map((id) => ({ id, value: String(values.get(id)) }));
}

export function jobManagerMetrics(jm: JobManager, query: URLSearchParams) {
  return metricList(jobManagerMetricValues(jm), query);
}

/** Flink's LogListInfo: the JobManager logs to stderr, and keeps its latest lines. */
export function jobManagerLogs(jm: JobManager) {
  return {
    logs: [{ name: LOG_NAME, size: jm.recentLog.size, mtime: jm.recentLog.lastWrite }],
  };
}

function taskManagerOf(jm: JobManager, id: string): RegisteredTaskManager {
  const tm = jm.registry.all().find((t) => t.resourceId === id);
  if (!tm) throw new RestError(404, `TaskManager ${id} is not registered`);
  return tm;
}

/** The TaskManager's figures: its hardware and the tasks it runs, summed over its subtasks. */
function taskManagerMetricValues(jm: JobManager, tm: RegisteredTaskManager): Map<string, number> {
  const values = new Map<string, number>([
    ['Status.Hardware.CpuCores', tm.hardware?.cpuCores ?? 0],
    ['Status.Hardware.PhysicalMemory', tm.hardware?.physicalMemory ?? 0],
    ['Status.Hardware.FreeMemory', tm.hardware?.freeMemory ?? 0],
    ['Status.TaskSlots.Total', tm.slots],
    [
      'Status.TaskSlots.Available',
      tm.slots - [...tm.allocated.values()].reduce((a, b) => a + b, 0),
    ],
    ['timeSinceLastHeartbeat', Date.now() - tm.lastHeartbeat],
  ]);
  let tasks = 0;
  for (const job of jm.jobs.values()) {
    for (const v of job.submission.plan.vertices) {
      for (let s = 0; s < v.parallelism; s++) {
        if (job.placement(s)?.taskManager !== tm || isTerminal(job.status)) continue;
        tasks++;
      }
    }
  }
  values.set('numRunningTasks', tasks);
  return values;
}

/**
 * Flink's TaskManagerDetailsInfo, without its JVM memory `metrics` (a TaskManager reports its
 * hardware at registration, no heap figures): `/taskmanagers/:id/metrics` has what there is.
 */
export function taskManagerDetails(jm: JobManager, id: string) {
  const tm = taskManagerOf(jm, id);
  const used = [...tm.allocated.values()].reduce((a, b) => a + b, 0);
  const memory = tm.hardware?.physicalMemory ?? 0;
  const slotResource = (slots: number) => ({
    cpuCores: slots,
    taskHeapMemory: 0,
    taskOffHeapMemory: 0,
    managedMemory: 0,
    networkMemory: 0,
    extendedResources: {},
  });
  return {
    id: tm.resourceId,
    path: tm.address,
    dataPort: Number(/:(\d+)$/.exec(tm.address)?.[1] ?? 0),
    jmxPort: -1,
    metricsAddress: tm.metricsAddress,
    timeSinceLastHeartbeat: tm.lastHeartbeat,
    slotsNumber: tm.slots,
    freeSlots: tm.slots - used,
    totalResource: slotResource(tm.slots),
    freeResource: slotResource(tm.slots - used),
    hardware: {
      cpuCores: tm.hardware?.cpuCores ?? 0,
      physicalMemory: memory,
      freeMemory: tm.hardware?.freeMemory ?? 0,
      managedMemory: 0,
    },
    allocatedSlots: [...tm.allocated.entries()].flatMap(([owner, n]) =>
      Array.from({ length: n }, () => ({
        jobId: owner.split('#')[0] ?? owner,
        resource: slotResource(1),
      })),
    ),
  };
}

export function taskManagerMetrics(jm: JobManager, id: string, query: URLSearchParams) {
  return metricList(taskManagerMetricValues(jm, taskManagerOf(jm, id)), query);
}

/**
 * A TaskManager's kept log lines, asked over its gRPC port (mutual TLS when configured, as every
 * call of the JobManager's): its metrics port has no credentials, so it never serves them.
 */
async function fetchTaskManagerLog(jm: JobManager, id: string): Promise<GetLogResponse__Output> {
  const tm = taskManagerOf(jm, id);
  try {
    return await tm.client.call(
      tm.client.raw.GetLog,
      {},
      { deadlineMs: TASK_MANAGER_LOG_TIMEOUT_MS, retry: NO_RETRY },
    );
  } catch (e) {
    if (e instanceof RpcError && e.code === status.DEADLINE_EXCEEDED) {
      throw new RestError(
        504,
        `TaskManager ${id} did not send its log within ${TASK_MANAGER_LOG_TIMEOUT_MS} ms`,
      );
    }
    throw new RestError(
      502,
      `TaskManager ${id} could not send its log: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** Flink's LogListInfo of a TaskManager: the one file of its kept lines. */
export async function taskManagerLogs(jm: JobManager, id: string) {
  const log = await fetchTaskManagerLog(jm, id);
  return { logs: [{ name: TASK_MANAGER_LOG_NAME, size: log.size, mtime: log.mtime }] };
}

/** A TaskManager's log file by name (`/taskmanagers/:id/logs/:name`; `undefined`: `/log`). */
export async function taskManagerLogText(
  jm: JobManager,
  id: string,
  name?: string,
): Promise<string> {
  taskManagerOf(jm, id); // an unknown TaskManager is the error, whatever the file name
  if (name !== undefined && name !== TASK_MANAGER_LOG_NAME) {
    throw new RestError(
      404,
      `TaskManager ${id} has no log file ${JSON.stringify(name)}; its log is ${TASK_MANAGER_LOG_NAME}`,
    );
  }
  return (await fetchTaskManagerLog(jm, id)).text;
}

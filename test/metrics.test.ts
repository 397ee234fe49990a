import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricNames as N } from '@nimble/runtime';
import { nimble, stopDaemon, TestCluster } from './fixtures/cluster.js';
import type { Series } from './fixtures/prometheus.js';
import { parsePrometheus } from './fixtures/prometheus.js';

const JOB = fileURLToPath(new URL('./fixtures/cluster-jobs/metrics-job.ts', import.meta.url));

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-metrics-'));
  cluster = await TestCluster.start({
    taskManagers: 1,
    slots: 2,
    jm: ['-D', 'metrics.fetcher.update-interval=200'],
    tm: ['-D', 'metrics.fetcher.update-interval=200'],
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function scrapeTm(): Promise<Series[]> {
  const port = cluster.taskManagers[0]!.ready.httpPort;
  return parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
}
async function scrapeJm(): Promise<Series[]> {
  return parsePrometheus(await (await fetch(`${cluster.restUrl}/metrics`)).text());
}

async function submit(backend: string, name: string): Promise<string> {
  const run = await nimble([
    'run',
    '-d',
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=300',
    '-D',
    `state.checkpoints.dir=file://${join(dir, name)}`,
    JOB,
    backend,
    name,
  ]);
  expect(run.code, run.stderr).toBe(0);
  return /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
}

/** The one value of `name` for the job's task (and operator) whose name contains `part`. */
function value(
  all: Series[],
  name: string,
  job: string,
  part: string,
  operator?: string,
): number | undefined {
  const found = all.filter(
    (s) =>
      s.name === name &&
      s.labels['job_name'] === job &&
      s.labels['task_name']!.includes(part) &&
      (operator === undefined || s.labels['operator_name'] === operator),
  );
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

describe('metrics of a running job, scraped from the daemons', () => {
  it('task, operator, state backend and JobManager figures', async () => {
    const levelJob = await submit('level', 'metrics-level');
    const heapJob = await submit('hashmap', 'metrics-heap');
    for (const id of [levelJob, heapJob]) {
      await cluster.waitFor(async () => (await cluster.rest(`/jobs/${id}`)).state === 'RUNNING');
    }

    // JobManager scope: one TaskManager with two slots, both taken by the two running jobs.
    const jm = await scrapeJm();
    const jmValue = (name: string) => jm.find((s) => s.name === name)?.value;
    expect(jmValue(N.jmNumRegisteredTaskManagers)).toBe(1);
    expect(jmValue(N.jmTaskSlotsTotal)).toBe(2);
    expect(jmValue(N.jmTaskSlotsAvailable)).toBe(0);
    expect(jmValue(N.jmNumRunningJobs)).toBe(2);

    // Wait for checkpoints, state and watermarks, and a rate computed over records that flowed.
    let all: Series[] = [];
    const v = (name: string, job: string, part: string, operator?: string) =>
      value(all, name, job, part, operator);
    await cluster.waitFor(async () => {
      all = await scrapeTm();
      const completed = [levelJob, heapJob].map(
        async (id) => (await cluster.rest(`/jobs/${id}/checkpoints`)).counts?.completed ?? 0,
      );
      return (
        (await Promise.all(completed)).every((n) => n >= 2) &&
        (v(N.operatorNumRecordsIn, 'metrics-level', 'running-count', 'running-count') ?? 0) > 200 &&
        (v(N.taskNumBytesInPerSecond, 'metrics-level', 'running-count') ?? 0) > 0 &&
        (v(N.taskNumBytesOutPerSecond, 'metrics-level', 'events') ?? 0) > 0 &&
        (v(N.operatorLevelLiveDataSize, 'metrics-level', 'running-count', 'running-count') ?? 0) >
          0 &&
        v(N.operatorLevelCacheMissRate, 'metrics-level', 'running-count', 'running-count') === 0
      );
    }, 120_000);

    for (const job of ['metrics-level', 'metrics-heap']) {
      for (const task of ['events', 'running-count']) {
        const busy = v(N.taskBusyTimeMsPerSecond, job, task)!;
        const idle = v(N.taskIdleTimeMsPerSecond, job, task)!;
        const bp = v(N.taskBackPressuredTimeMsPerSecond, job, task)!;
        for (const x of [busy, idle, bp]) expect(x).toBeGreaterThanOrEqual(0);
        expect(busy + idle + bp).toBeLessThanOrEqual(1000 + 1e-6);
        // 500 records per second leave both tasks waiting for input most of the time.
        expect(idle).toBeGreaterThan(0);
        // Checkpoint figures exist once checkpoints ran; a source aligns nothing.
        expect(v(N.taskCheckpointStartDelayNanos, job, task)).toBeGreaterThanOrEqual(0);
        expect(v(N.taskCheckpointAlignmentTime, job, task)).toBeGreaterThanOrEqual(0);
        // Events are stamped 2 s in the past: the watermark lags processing time by more.
        expect(v(N.taskWatermarkLag, job, task)).toBeGreaterThanOrEqual(2000);
        expect(Number.isFinite(v(N.taskWatermarkLag, job, task))).toBe(true);
      }
      expect(v(N.taskCheckpointAlignmentTime, job, 'events')).toBe(0);
      // Bytes cross the network only at the keyBy: the source reads none, and the chain after
      // the keyed operator (filter, print) sends none.
      expect(v(N.taskNumBytesIn, job, 'events')).toBe(0);
      expect(v(N.taskNumBytesOut, job, 'events')).toBeGreaterThan(0);
      expect(v(N.taskNumBytesIn, job, 'running-count')).toBeGreaterThan(0);
      expect(v(N.taskNumBytesOut, job, 'running-count')).toBe(0);
      // Operator scope: watermark lag everywhere, emit lag for the source only, state size for
      // the keyed operator only.
      // At least 2 s: a lag sampled in the millisecond the event was stamped is exactly 2000.
      expect(
        v(N.operatorWatermarkLag, job, 'running-count', 'running-count'),
      ).toBeGreaterThanOrEqual(2000);
      expect(v(N.operatorWatermarkLag, job, 'events', 'events')).toBeGreaterThanOrEqual(2000);
      expect(v(N.operatorCurrentEmitEventTimeLag, job, 'events', 'events')).toBeGreaterThanOrEqual(
        2000,
      );
      expect(
        v(N.operatorCurrentEmitEventTimeLag, job, 'running-count', 'running-count'),
      ).toBeUndefined();
      expect(v(N.operatorStateSize, job, 'running-count', 'running-count')).toBeGreaterThan(0);
      expect(v(N.operatorStateSize, job, 'events', 'events')).toBeUndefined();
    }

    // The level backend: one state read per record, each a hit or a miss; the 50 keys each
    // missed once (their first read), then stayed cached.
    const level = (name: string) => v(name, 'metrics-level', 'running-count', 'running-count');
    expect(level(N.operatorLevelCacheHits)! + level(N.operatorLevelCacheMisses)!).toBe(
      level(N.operatorNumRecordsIn),
    );
    expect(level(N.operatorLevelCacheMisses)).toBe(50);
    expect(level(N.operatorLevelCacheMissRate)).toBe(0);
    expect(level(N.operatorLevelWriteBufferBytes)).toBeGreaterThan(0);
    expect(level(N.operatorLevelNumFilesAtLevel0)).toBe(0);
    // The hashmap job has no level figures.
    expect(
      v(N.operatorLevelCacheHits, 'metrics-heap', 'running-count', 'running-count'),
    ).toBeUndefined();

    // Heartbeats carry the bytes to the JobManager: Flink's read-bytes and write-bytes per vertex.
    await cluster.waitFor(async () => {
      const job = await cluster.rest(`/jobs/${levelJob}`);
      const [source, count] = job.vertices as { metrics: Record<string, number> }[];
      return (
        source!.metrics['read-bytes'] === 0 &&
        source!.metrics['write-bytes']! > 0 &&
        count!.metrics['read-bytes']! > 0 &&
        count!.metrics['write-bytes'] === 0
      );
    });

    // Cancelling a job gives its slot back and leaves one running job.
    await cluster.rest(`/jobs/${heapJob}?mode=cancel`, { method: 'PATCH' });
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${heapJob}`)).state === 'CANCELED',
    );
    await cluster.waitFor(async () => {
      const after = await scrapeJm();
      const at = (name: string) => after.find((s) => s.name === name)?.value;
      return at(N.jmNumRunningJobs) === 1 && at(N.jmTaskSlotsAvailable) === 1;
    });
    // The TaskManager drops the series of the attempt that ended.
    await cluster.waitFor(async () =>
      (await scrapeTm()).every((s) => s.labels['job_name'] !== 'metrics-heap'),
    );
    await cluster.rest(`/jobs/${levelJob}?mode=cancel`, { method: 'PATCH' });
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${levelJob}`)).state === 'CANCELED',
    );

    // A TaskManager joining adds its slots; one leaving takes them away again.
    const jmAt = async (name: string) => (await scrapeJm()).find((s) => s.name === name)?.value;
    const second = await cluster.addTaskManager();
    expect(await jmAt(N.jmNumRegisteredTaskManagers)).toBe(2);
    expect(await jmAt(N.jmTaskSlotsTotal)).toBe(4);
    expect(await jmAt(N.jmNumRunningJobs)).toBe(0);
    await cluster.waitFor(async () => (await jmAt(N.jmTaskSlotsAvailable)) === 4);
    await stopDaemon(second);
    await cluster.waitFor(async () => (await jmAt(N.jmNumRegisteredTaskManagers)) === 1);
    expect(await jmAt(N.jmTaskSlotsTotal)).toBe(2);
    expect(await jmAt(N.jmTaskSlotsAvailable)).toBe(2);
  }, 180_000);
});

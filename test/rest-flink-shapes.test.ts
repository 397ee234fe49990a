/**
 * The REST API in Flink's shapes (docs/static/generated/rest_v1_dispatcher.yml), on real
 * daemons: a job's plan, its vertices with their subtasks, backpressure, watermarks and metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const job = (name: string) => `${root}test/fixtures/cluster-jobs/${name}`;

let cluster: TestCluster;
let jobId = '';
/** The backpressure job's two vertices: the source and the slow keyed map chained to the sink. */
let source = '';
let map = '';

beforeAll(async () => {
  cluster = await TestCluster.start({ taskManagers: 2, slots: 1 });
  const run = await nimble(['run', '-d', '-m', cluster.address, job('backpressure-job.ts')]);
  expect(run.code, run.stderr).toBe(0);
  jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
  await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING');
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

const get = async (path: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(cluster.restUrl + path);
  return { status: res.status, body: await res.json() };
};

describe('a running job over REST', () => {
  it('GET /jobs/:id/plan: Flink’s JobPlanInfo, the edge with its ship strategy', async () => {
    const { status, body } = await get(`/jobs/${jobId}/plan`);
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['plan']);
    const { plan } = body;
    expect(plan.jid).toBe(jobId);
    expect(plan.name).toBe('backpressure');
    expect(plan.type).toBe('STREAMING');
    expect(plan.nodes).toHaveLength(2);
    const [src, sink] = plan.nodes;
    source = src.id;
    map = sink.id;
    expect(src).toEqual({
      id: source,
      parallelism: 2,
      operator: src.operator,
      operator_strategy: '',
      description: src.description,
      optimizer_properties: {},
    });
    expect(src.description).toContain('fast-source');
    expect(sink.description).toContain('slow-map');
    expect(sink.parallelism).toBe(2);
    expect(sink.inputs).toEqual([
      { num: 0, id: source, ship_strategy: 'HASH', exchange: 'pipelined_bounded' },
    ]);
    // The job's details carry the same plan, and the job can be stopped while it runs.
    const details = (await get(`/jobs/${jobId}`)).body;
    expect(details.plan).toEqual(plan);
    expect(details.isStoppable).toBe(true);
    expect(details.vertices.map((v: { id: string }) => v.id)).toEqual([source, map]);
    expect(details.vertices[0].tasks.RUNNING).toBe(2);
  });

  it('GET /jobs/:id/vertices/:vid: Flink’s JobVertexDetailsInfo, a subtask per slot', async () => {
    const taskManagers = (await cluster.rest('/taskmanagers')).taskmanagers as {
      id: string;
      path: string;
    }[];
    let body: any;
    await cluster.waitFor(async () => {
      body = (await get(`/jobs/${jobId}/vertices/${source}`)).body;
      return body.subtasks.every((s: any) => s.metrics['write-records'] > 0);
    });
    expect(body.id).toBe(source);
    expect(body.parallelism).toBe(2);
    expect(body.maxParallelism).toBe(128);
    expect(body.subtasks.map((s: any) => s.subtask)).toEqual([0, 1]);
    for (const s of body.subtasks) {
      expect(s.status).toBe('RUNNING');
      expect(s.attempt).toBe(body.subtasks[0].attempt);
      const tm = taskManagers.find((t) => t.id === s['taskmanager-id']);
      expect(tm, s['taskmanager-id']).toBeDefined();
      expect(s.endpoint).toBe(tm!.path);
      expect(s.host).toBe(tm!.path.replace(/:\d+$/, ''));
      expect(Object.keys(s.metrics).slice(0, 8)).toEqual([
        'read-bytes',
        'read-bytes-complete',
        'write-bytes',
        'write-bytes-complete',
        'read-records',
        'read-records-complete',
        'write-records',
        'write-records-complete',
      ]);
      expect(s.metrics['write-records-complete']).toBe(true);
    }
    // Two slots on two TaskManagers: the subtasks run on different ones.
    expect(new Set(body.subtasks.map((s: any) => s['taskmanager-id'])).size).toBe(2);
  });

  it('GET .../backpressure: the source behind the slow map is HIGH, in Flink’s levels', async () => {
    let body: any;
    await cluster.waitFor(async () => {
      body = (await get(`/jobs/${jobId}/vertices/${source}/backpressure`)).body;
      return body['backpressure-level'] === 'high';
    }, 60_000);
    expect(body.status).toBe('ok');
    expect(typeof body['end-timestamp']).toBe('number');
    expect(body.subtasks.map((s: any) => s.subtask)).toEqual([0, 1]);
    const worst = Math.max(...body.subtasks.map((s: any) => s.ratio));
    expect(worst).toBeGreaterThan(0.5);
    for (const s of body.subtasks) {
      expect(s['backpressure-level']).toBe(s.ratio > 0.5 ? 'high' : s.ratio > 0.1 ? 'low' : 'ok');
      expect(s.ratio).toBeLessThanOrEqual(1);
      expect(Object.keys(s)).toEqual([
        'subtask',
        'attemptNumber',
        'backpressure-level',
        'ratio',
        'idleRatio',
        'busyRatio',
      ]);
    }
  });

  it('GET .../watermarks: one currentInputWatermark per subtask, values as strings', async () => {
    const { status, body } = await get(`/jobs/${jobId}/vertices/${map}/watermarks`);
    expect(status).toBe(200);
    expect(body.map((w: any) => w.id)).toEqual([
      '0.currentInputWatermark',
      '1.currentInputWatermark',
    ]);
    for (const w of body) expect(String(Number(w.value))).toBe(w.value);
  });

  it('GET .../subtasks/metrics: the reported ids, then min/max/avg/sum over the subtasks', async () => {
    const ids = (await get(`/jobs/${jobId}/vertices/${source}/subtasks/metrics`)).body.map(
      (m: any) => m.id,
    );
    for (const id of ['numRecordsIn', 'numRecordsOut', 'backPressuredTimeMsPerSecond']) {
      expect(ids).toContain(id);
    }
    const { body } = await get(
      `/jobs/${jobId}/vertices/${source}/subtasks/metrics?get=numRecordsOut,noSuchMetric`,
    );
    expect(body).toHaveLength(1);
    const [m] = body;
    expect(Object.keys(m)).toEqual(['id', 'min', 'max', 'avg', 'sum']);
    expect(m.id).toBe('numRecordsOut');
    expect(m.sum).toBe(m.min + m.max);
    expect(m.avg).toBe(m.sum / 2);
    const some = await get(
      `/jobs/${jobId}/vertices/${source}/subtasks/metrics?get=numRecordsOut&agg=max,sum&subtasks=1`,
    );
    expect(Object.keys(some.body[0])).toEqual(['id', 'max', 'sum']);
    expect(some.body[0].max).toBe(some.body[0].sum);
    const perSubtask = await get(
      `/jobs/${jobId}/vertices/${source}/metrics?get=0.numRecordsOut,1.numRecordsOut`,
    );
    expect(perSubtask.body.map((v: any) => v.id)).toEqual(['0.numRecordsOut', '1.numRecordsOut']);
  });

  it('bad vertex requests: 404 naming the vertex, 400 for a bad aggregation, 405 for POST', async () => {
    const missing = await get(`/jobs/${jobId}/vertices/77`);
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]).toBe(`Job ${jobId} has no vertex "77"`);
    const agg = await get(`/jobs/${jobId}/vertices/${source}/subtasks/metrics?get=a&agg=median`);
    expect(agg.status).toBe(400);
    expect(agg.body.errors[0]).toBe('agg: unknown aggregation "median" (min, max, avg, sum)');
    const sub = await get(`/jobs/${jobId}/vertices/${source}/subtasks/metrics?subtasks=2`);
    expect(sub.status).toBe(400);
    const post = await fetch(`${cluster.restUrl}/jobs/${jobId}/vertices/${source}/backpressure`, {
      method: 'POST',
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

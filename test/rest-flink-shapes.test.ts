/**
 * The REST API in Flink's shapes (docs/static/generated/rest_v1_dispatcher.yml), on real
 * daemons: a job's plan, its vertices with their subtasks, backpressure, watermarks and metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleJob } from '@nimble/client';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const job = (name: string) => `${root}test/fixtures/cluster-jobs/${name}`;

let cluster: TestCluster;
let dir = '';
let jobId = '';
/** The backpressure job's two vertices: the source and the slow keyed map chained to the sink. */
let source = '';
let map = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-rest-shapes-'));
  cluster = await TestCluster.start({
    taskManagers: 2,
    slots: 2,
    jm: ['-D', 's3.access-key=AKIAEXAMPLE', '-D', 's3.secret-key=do-not-show'],
  });
  const run = await nimble(['run', '-d', '-m', cluster.address, job('backpressure-job.ts')]);
  expect(run.code, run.stderr).toBe(0);
  jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
  await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING');
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
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
      expect(s.backpressureLevel).toBe(s.ratio > 0.5 ? 'high' : s.ratio > 0.1 ? 'low' : 'ok');
      expect(s.ratio).toBeLessThanOrEqual(1);
      expect(Object.keys(s)).toEqual([
        'subtask',
        'attempt-number',
        'backpressureLevel',
        'ratio',
        'idleRatio',
        'busyRatio',
        'other-concurrent-attempts',
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

const post = (path: string, body: unknown) =>
  fetch(`${cluster.restUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('the cluster over REST', () => {
  it('GET /config: Flink’s DashboardConfiguration with Nimble’s version', async () => {
    const { status, body } = await get('/config');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual([
      'refresh-interval',
      'timezone-name',
      'timezone-offset',
      'flink-version',
      'flink-revision',
      'features',
    ]);
    expect(body['refresh-interval']).toBe(3000);
    expect(body['flink-version']).toBe('0.1.0');
    expect(body.features['web-submit']).toBe(true);
    expect(body.features['web-cancel']).toBe(true);
  });

  it('GET /jobmanager/config: {key, value} by key, secrets as ******', async () => {
    const { body } = await get('/jobmanager/config');
    const entries = new Map(body.map((e: { key: string; value: string }) => [e.key, e.value]));
    expect(entries.get('s3.secret-key')).toBe('******');
    expect(entries.get('s3.access-key')).toBe('AKIAEXAMPLE');
    expect(entries.get('rest.port')).toBe('0');
    expect(JSON.stringify(body)).not.toContain('do-not-show');
    expect(body.map((e: { key: string }) => e.key)).toEqual(
      [...body.map((e: { key: string }) => e.key)].sort((a: string, b: string) =>
        a.localeCompare(b),
      ),
    );
  });

  it('GET /jobmanager/metrics: the ids, then values as strings', async () => {
    const ids = (await get('/jobmanager/metrics')).body.map((m: { id: string }) => m.id);
    expect(ids).toContain('numRegisteredTaskManagers');
    expect(ids).toContain('taskSlotsTotal');
    const { body } = await get(
      '/jobmanager/metrics?get=numRegisteredTaskManagers,taskSlotsTotal,noSuchMetric',
    );
    expect(body).toEqual([
      { id: 'numRegisteredTaskManagers', value: '2' },
      { id: 'taskSlotsTotal', value: '4' },
    ]);
  });

  it('GET /jobmanager/logs and /jobmanager/log: the JobManager’s latest log lines', async () => {
    const { body } = await get('/jobmanager/logs');
    expect(body.logs).toHaveLength(1);
    expect(body.logs[0].name).toBe('jobmanager.log');
    expect(body.logs[0].size).toBeGreaterThan(0);
    const res = await fetch(`${cluster.restUrl}/jobmanager/log`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('JobManager started');
    expect(text).toContain(jobId);
    const same = await fetch(`${cluster.restUrl}/jobmanager/logs/jobmanager.log`);
    expect((await same.text()).startsWith(text.slice(0, 200))).toBe(true);
  });

  it('GET /taskmanagers/:id and its metrics: Flink’s TaskManagerDetailsInfo', async () => {
    const [tm] = (await cluster.rest('/taskmanagers')).taskmanagers;
    const { status, body } = await get(`/taskmanagers/${tm.id}`);
    expect(status).toBe(200);
    expect(body.id).toBe(tm.id);
    expect(body.path).toBe(tm.path);
    expect(body.slotsNumber).toBe(2);
    expect(body.hardware.cpuCores).toBe(tm.hardware.cpuCores);
    expect(body.allocatedSlots.length).toBe(2 - body.freeSlots);
    for (const slot of body.allocatedSlots) expect(slot.jobId).toMatch(/^[0-9a-f]{32}$/);
    const metrics = await get(
      `/taskmanagers/${tm.id}/metrics?get=Status.TaskSlots.Total,Status.Hardware.CpuCores`,
    );
    expect(metrics.body).toEqual([
      { id: 'Status.TaskSlots.Total', value: '2' },
      { id: 'Status.Hardware.CpuCores', value: String(tm.hardware.cpuCores) },
    ]);
    // Clients may percent-encode the id's ':' (encodeURIComponent does).
    const encoded = await get(`/taskmanagers/${encodeURIComponent(tm.id)}`);
    expect([encoded.status, encoded.body.id]).toEqual([200, tm.id]);
    const malformed = await get('/taskmanagers/%E0%A4%A');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0]).toBe(
      'Malformed percent-encoding in the path segment "%E0%A4%A"',
    );
    const missing = await get('/taskmanagers/no-such-tm');
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]).toBe('TaskManager no-such-tm is not registered');
  });

  it('GET /jobs/:id/config: Flink’s JobConfigInfo with the job’s configuration', async () => {
    const { body } = await get(`/jobs/${jobId}/config`);
    expect(body.jid).toBe(jobId);
    expect(body.name).toBe('backpressure');
    expect(Object.keys(body['execution-config'])).toEqual([
      'execution-mode',
      'restart-strategy',
      'job-parallelism',
      'object-reuse-mode',
      'user-config',
    ]);
    expect(body['execution-config']['job-parallelism']).toBe(2);
  });
});

describe('checkpoints triggered over REST', () => {
  let countJob = '';

  it('POST /jobs/:id/checkpoints: a trigger id, then the checkpoint id when done', async () => {
    const run = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      `state.checkpoints.dir=${pathToFileURL(join(dir, 'checkpoints')).href}`,
      // Periodic checkpoints far apart: the triggered one is the only one for a while.
      '-D',
      'execution.checkpointing.interval=10 min',
      job('checkpointed-count-job.ts'),
      '600000',
      '1000',
    ]);
    expect(run.code, run.stderr).toBe(0);
    countJob = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${countJob}`)).state === 'RUNNING',
    );
    const res = await post(`/jobs/${countJob}/checkpoints`, { checkpointType: 'FULL' });
    expect(res.status).toBe(202);
    const { 'request-id': triggerId } = (await res.json()) as { 'request-id': string };
    expect(triggerId).toMatch(/^[0-9a-f]{32}$/);
    let result: any;
    await cluster.waitFor(async () => {
      result = (await get(`/jobs/${countJob}/checkpoints/${triggerId}`)).body;
      return result.status.id === 'COMPLETED';
    }, 60_000);
    expect(result.operation).toEqual({ checkpointId: expect.any(Number) });
    const id = result.operation.checkpointId as number;

    // Its statistics: Flink's CheckpointStatistics with each vertex's part.
    const details = (await get(`/jobs/${countJob}/checkpoints/details/${id}`)).body;
    expect(details['@class']).toBe('completed');
    expect(details.id).toBe(id);
    expect(details.status).toBe('COMPLETED');
    expect(existsSync(join(fileURLToPath(details.external_path), '_metadata'))).toBe(true);
    const plan = (await get(`/jobs/${countJob}/plan`)).body.plan;
    expect(Object.keys(details.tasks)).toEqual(plan.nodes.map((n: { id: string }) => n.id));
    for (const node of plan.nodes) {
      const task = details.tasks[node.id];
      expect(task.status).toBe('COMPLETED');
      expect(task.num_subtasks).toBe(node.parallelism);
      expect(task.num_acknowledged_subtasks).toBe(node.parallelism);
    }
    const stateSize = Object.values(details.tasks).reduce(
      (n: number, t: any) => n + t.state_size,
      0,
    );
    expect(stateSize).toBe(details.state_size);
    const vertex = plan.nodes[1].id;
    const subtasks = (await get(`/jobs/${countJob}/checkpoints/details/${id}/subtasks/${vertex}`))
      .body;
    expect(subtasks.subtasks.map((s: any) => [s.index, s.status])).toEqual([
      [0, 'completed'],
      [1, 'completed'],
    ]);
    expect(subtasks.summary.state_size.max).toBe(
      Math.max(...subtasks.subtasks.map((s: any) => s.state_size)),
    );
  });

  it('a bad checkpoint request: 404 for an unknown checkpoint, 400 for a bad type', async () => {
    const missing = await get(`/jobs/${countJob}/checkpoints/details/999999`);
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]).toBe(
      'Could not find checkpointing statistics for checkpoint 999999.',
    );
    const bad = await post(`/jobs/${countJob}/checkpoints`, { checkpointType: 'SOMETIMES' });
    expect(bad.status).toBe(400);
    // The backpressure job does not checkpoint.
    const off = await post(`/jobs/${jobId}/checkpoints`, {});
    expect(off.status).toBe(409);
    const unknown = await get(`/jobs/${countJob}/checkpoints/0123456789abcdef0123456789abcdef`);
    expect(unknown.status).toBe(404);
  });
});

describe('savepoint disposal over REST', () => {
  it('POST /savepoint-disposal: a trigger id; a path without a savepoint fails with its cause', async () => {
    const res = await post('/savepoint-disposal', {
      'savepoint-path': pathToFileURL(join(dir, 'no-savepoint')).href,
    });
    expect(res.status).toBe(202);
    const { 'request-id': triggerId } = (await res.json()) as { 'request-id': string };
    let result: any;
    await cluster.waitFor(async () => {
      result = (await get(`/savepoint-disposal/${triggerId}`)).body;
      return result.status.id === 'COMPLETED';
    });
    expect(result.operation['failure-cause']['stack-trace']).toContain('No savepoint at');
    const missing = await post('/savepoint-disposal', {});
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as any).errors[0]).toBe('Field "savepoint-path" is required');
  });
});

describe('nimble info and nimble checkpoint', () => {
  it('nimble info <job>: the plan in Flink’s JSON shape, without submitting the job', async () => {
    const jobsBefore = (await cluster.rest('/jobs')).jobs.length;
    const info = await nimble(['info', '-p', '3', job('checkpointed-count-job.ts'), '10', '10']);
    expect(info.code, info.stderr).toBe(0);
    const lines = info.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('----------------------- Execution Plan -----------------------');
    expect(lines.at(-1)).toBe('--------------------------------------------------------------');
    const plan = JSON.parse(lines.slice(1, -1).join('\n'));
    expect(plan.jid).toMatch(/^[0-9a-f]{32}$/);
    expect(plan.name).toBe('checkpointed-count');
    expect(plan.type).toBe('STREAMING');
    // -p gives the plan the parallelism `run -p` would give the job.
    expect(plan.nodes.map((n: any) => n.parallelism)).toEqual([3, 3]);
    expect(plan.nodes[0].description).toBe('events');
    expect(plan.nodes[1].inputs).toEqual([
      { num: 0, id: plan.nodes[0].id, ship_strategy: 'HASH', exchange: 'pipelined_bounded' },
    ]);
    expect((await cluster.rest('/jobs')).jobs.length).toBe(jobsBefore);
    const missing = await nimble(['info', job('no-such-job.ts')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-job.ts does not exist');
  });

  it('nimble checkpoint <jobId>: waits for the checkpoint and prints its id and path', async () => {
    const running = (await cluster.rest('/jobs/overview')).jobs.find(
      (j: any) => j.name === 'checkpointed-count' && j.state === 'RUNNING',
    );
    const before = (await cluster.rest(`/jobs/${running.jid}/checkpoints`)).counts.completed;
    const cp = await nimble(['checkpoint', '-m', cluster.address, running.jid]);
    expect(cp.code, cp.stderr).toBe(0);
    const m =
      /^Checkpoint\(CONFIGURED\) (\d+) for job ([0-9a-f]{32}) completed\.\nPath: (\S+)$/m.exec(
        cp.stdout,
      );
    expect(m, cp.stdout).not.toBeNull();
    expect(m![2]).toBe(running.jid);
    expect(existsSync(join(fileURLToPath(m![3]!), '_metadata'))).toBe(true);
    const stats = await cluster.rest(`/jobs/${running.jid}/checkpoints`);
    expect(stats.counts.completed).toBeGreaterThan(before);
    expect(stats.history.map((h: any) => h.id)).toContain(Number(m![1]));
    // --full on a job with full checkpoints is the same checkpoint.
    const full = await nimble(['checkpoint', '--full', '-m', cluster.address, running.jid]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toContain('Checkpoint(FULL) ');
    // A job without checkpointing: exit 1 with the reason.
    const off = await nimble(['checkpoint', '-m', cluster.address, jobId]);
    expect(off.code).toBe(1);
    expect(off.stderr).toContain(`Checkpointing is not enabled for job ${jobId}`);
    // Its slots are for the bundle run below.
    const cancel = await nimble(['cancel', '-m', cluster.address, running.jid]);
    expect(cancel.code, cancel.stderr).toBe(0);
  });
});

describe('job bundles over REST, as Flink takes jars', () => {
  const upload = (name: string, content: Uint8Array | string) => {
    const form = new FormData();
    form.append('jarfile', new Blob([content]), name);
    return fetch(`${cluster.restUrl}/jars/upload`, { method: 'POST', body: form });
  };
  let jarId = '';

  it('POST /jars/upload stores the bundle; GET /jars lists it', async () => {
    const bundle = await bundleJob(job('checkpointed-count-job.ts'));
    const res = await upload('count job.mjs', bundle);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { filename: string; status: string };
    expect(body.status).toBe('success');
    jarId = body.filename.split('/').at(-1)!;
    expect(jarId).toMatch(/^[0-9a-f-]{36}_count_job\.mjs$/);
    expect(body.filename).toBe(join(cluster.blobDir, 'jars', jarId));
    const list = (await get('/jars')).body;
    expect(list.address).toBe(cluster.restUrl);
    expect(list.files).toEqual([
      {
        id: jarId,
        name: 'count_job.mjs',
        uploaded: expect.any(Number),
        entry: [{ name: 'default', description: null }],
      },
    ]);
  });

  it('GET /jars/:id/plan: the plan it builds, without running it', async () => {
    const jobsBefore = (await cluster.rest('/jobs')).jobs.length;
    const { status, body } = await get(`/jars/${jarId}/plan?parallelism=3&programArg=10,10`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.plan.name).toBe('checkpointed-count');
    expect(body.plan.nodes.map((n: any) => n.parallelism)).toEqual([3, 3]);
    expect(body.plan.nodes[1].inputs[0].ship_strategy).toBe('HASH');
    const posted = await post(`/jars/${jarId}/plan`, { parallelism: 1 });
    expect(((await posted.json()) as any).plan.nodes.map((n: any) => n.parallelism)).toEqual([
      1, 1,
    ]);
    expect((await cluster.rest('/jobs')).jobs.length).toBe(jobsBefore);
  });

  it('POST /jars/:id/run runs it with parallelism and program arguments: {jobid}', async () => {
    const res = await post(`/jars/${jarId}/run`, {
      parallelism: 1,
      programArgsList: ['600000', '1000'],
    });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(Object.keys(body)).toEqual(['jobid']);
    const ran = body.jobid as string;
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${ran}`)).state === 'RUNNING');
    const details = await cluster.rest(`/jobs/${ran}`);
    expect(details.name).toBe('checkpointed-count');
    // The job sets parallelism 2 itself: the request's is the default it overrides, as -p.
    expect(details.vertices.map((v: any) => v.parallelism)).toEqual([1, 1]);
    expect((await get(`/jobs/${ran}/config`)).body['execution-config']['job-parallelism']).toBe(1);
    expect(
      (await fetch(`${cluster.restUrl}/jobs/${ran}?mode=cancel`, { method: 'PATCH' })).status,
    ).toBe(202);
  });

  it('bad uploads and runs: clear errors, nothing stored outside the jar directory', async () => {
    const wrongType = await upload('job.jar', 'PK');
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as any).errors[0]).toBe(
      'Only job bundles (one ES module, .mjs or .js) can be uploaded, not "job.jar"',
    );
    const traversal = await upload('../../evil.mjs', 'export {}');
    expect(traversal.status).toBe(200);
    const stored = ((await traversal.json()) as any).filename as string;
    expect(stored.startsWith(join(cluster.blobDir, 'jars') + '/')).toBe(true);
    expect(stored).toMatch(/_evil\.mjs$/);
    const notMultipart = await post('/jars/upload', { jar: 'x' });
    expect(notMultipart.status).toBe(400);
    // A module that builds no job: the run is refused and says why.
    const noJob = stored.split('/').at(-1)!;
    const refused = await post(`/jars/${noJob}/run`, {});
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).errors[0]).toContain('without calling execute()');
    const confusing = await post(`/jars/${jarId}/run`, {
      programArgs: 'a',
      programArgsList: ['a'],
    });
    expect(confusing.status).toBe(400);
    const badSavepoint = await post(`/jars/${jarId}/run`, {
      savepointPath: pathToFileURL(join(dir, 'no-savepoint')).href,
    });
    expect(badSavepoint.status).toBe(400);
    const unknown = await post('/jars/..%2F..%2Fjobs/run', {});
    expect(unknown.status).toBe(404);
    // DELETE /jars/:id removes it from the list and the disk.
    const del = await fetch(`${cluster.restUrl}/jars/${noJob}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await get('/jars')).body.files.map((f: any) => f.id)).toEqual([jarId]);
    expect(readdirSync(join(cluster.blobDir, 'jars'))).toEqual([jarId]);
    expect((await fetch(`${cluster.restUrl}/jars/${noJob}`, { method: 'DELETE' })).status).toBe(
      404,
    );
    const wrongMethod = await fetch(`${cluster.restUrl}/jars`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
  });

  it('a wrong method on a new path: 405 naming the allowed ones in Allow', async () => {
    const cases: [string, string, string][] = [
      ['PUT', '/config', 'GET'],
      ['POST', '/jobmanager/config', 'GET'],
      ['DELETE', '/jobmanager/log', 'GET'],
      ['GET', '/jars/upload', 'POST'],
      ['GET', `/jars/${jarId}`, 'DELETE'],
      ['GET', `/jars/${jarId}/run`, 'POST'],
      ['DELETE', `/jars/${jarId}/plan`, 'GET, POST'],
      ['GET', '/savepoint-disposal', 'POST'],
      ['PUT', `/jobs/${jobId}/checkpoints`, 'GET, POST'],
      ['POST', `/jobs/${jobId}/plan`, 'GET'],
      ['POST', `/jobs/${jobId}/config`, 'GET'],
      ['POST', `/jobs/${jobId}/checkpoints/details/1`, 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await fetch(cluster.restUrl + path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
  });
});

// Rescaling on real daemons and a real Kafka broker: a cluster in reactive mode scales an
// EXACTLY_ONCE keyed job up when a TaskManager joins and down when one is SIGKILLed, and
// `nimble rescale -p` moves it by hand; the read_committed output shows every record once with
// its exact per-key count. The REST resource requirements answer bad requests with clear errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';
import { createTopic, startKafka } from './fixtures/kafka-broker.js';
import { TopicReader } from './fixtures/kafka-spend.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/kafka-keyed-count-job.ts');
const KEYS = 20;
const SOURCE = 'rescale.in';
const SINK = 'rescale.out';

let broker: KafkaBroker;
let cluster: TestCluster;
let reader: TopicReader;
let work: string;
let jobId: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-rescale-'));
  [broker, cluster] = await Promise.all([
    startKafka(),
    TestCluster.start({
      taskManagers: 1,
      jm: [
        ...FAST_RESTARTS,
        '-D',
        'scheduler-mode=reactive',
        '-D',
        'jobmanager.adaptive-scheduler.resource-stabilization-timeout=1 s',
      ],
    }),
  ]);
  await createTopic(broker.bootstrapServers, SOURCE, 4);
  await createTopic(broker.bootstrapServers, SINK, 2);
  reader = await TopicReader.start(broker.bootstrapServers, [SINK]);
  const r = await nimble([
    'run',
    '-d',
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=500',
    '-D',
    `state.checkpoints.dir=file://${join(work, 'chk')}`,
    JOB,
    broker.bootstrapServers,
    SOURCE,
    SINK,
    'rescale-group',
    'rescale-tx',
  ]);
  expect(r.stderr).toBe('');
  jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)![1]!;
  await runsAt(1);
}, 240_000);

afterAll(async () => {
  await reader?.stop().catch(() => {});
  await cluster?.stop();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** Records [from, to) as `k<i mod KEYS>:<i>`, keyed by their key: a key's records in one partition, in order. */
async function produce(from: number, to: number): Promise<void> {
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let start = from; start < to; start += 200) {
      const messages = [];
      for (let i = start; i < Math.min(to, start + 200); i++)
        messages.push({ key: `k${i % KEYS}`, value: `k${i % KEYS}:${i}` });
      await producer.send({ topic: SOURCE, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** The output of records [0, n): each once, counted exactly. */
function expected(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `k${i % KEYS}:${i}:${Math.floor(i / KEYS) + 1}`,
  ).sort();
}

async function job(): Promise<any> {
  return cluster.rest(`/jobs/${jobId}`);
}

/** Waits until the job is RUNNING with every vertex at parallelism `p`. */
async function runsAt(p: number, timeoutMs = 120_000): Promise<void> {
  await cluster.waitFor(async () => {
    const j = await job();
    return (
      j.state === 'RUNNING' && j.vertices.every((v: { parallelism: number }) => v.parallelism === p)
    );
  }, timeoutMs);
}

async function outputReaches(n: number): Promise<void> {
  await cluster.waitFor(() => reader.of(SINK).length >= n, 120_000);
}

async function checkpointsCompleted(): Promise<number> {
  const c = await cluster.rest(`/jobs/${jobId}/checkpoints`);
  return (c.counts?.completed as number | undefined) ?? 0;
}

async function put(body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${cluster.restUrl}/jobs/${jobId}/resource-requirements`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('rescaling', () => {
  it('reactive mode and nimble rescale keep the EXACTLY_ONCE output and the keyed counts exact', async () => {
    await produce(0, 2000);
    await outputReaches(2000);

    // A second TaskManager joins: after the stabilization timeout the job runs at 2.
    const restartsBefore = (await job())['num-restarts'];
    const second = await cluster.addTaskManager();
    await runsAt(2);
    // A rescale is no failure: the restart strategy does not count it.
    expect((await job())['num-restarts']).toBe(restartsBefore);
    expect(await cluster.rest(`/jobs/${jobId}/resource-requirements`)).toEqual(
      Object.fromEntries(
        (await job()).vertices.map((v: { id: string }) => [
          v.id,
          { parallelism: { lowerBound: 1, upperBound: 128 } },
        ]),
      ),
    );

    // Records flow while a TaskManager is SIGKILLed: the restart comes up at 1.
    const producing = produce(2000, 4000);
    const before = await checkpointsCompleted();
    await cluster.waitFor(async () => (await checkpointsCompleted()) > before, 60_000);
    second.child.kill('SIGKILL');
    await runsAt(1);
    await producing;
    await outputReaches(4000);

    // By hand: a TaskManager joins (reactive mode scales to 2), then -p 1 and -p 2.
    await cluster.addTaskManager();
    await runsAt(2);
    const down = await nimble(['rescale', '-m', cluster.address, jobId, '-p', '1']);
    expect(down.stderr).toBe('');
    expect(down.stdout).toMatch(new RegExp(`^Job ${jobId} runs at parallelism 1 \\(`));
    await runsAt(1);
    // The upper bounds hold even with a free slot: reactive mode does not scale back up.
    expect((await cluster.rest('/overview'))['slots-available']).toBe(1);
    const producingMore = produce(4000, 6000);
    const up = await nimble(['rescale', '-m', cluster.address, jobId, '-p', '2']);
    expect(up.stderr).toBe('');
    await runsAt(2);
    await producingMore;

    await outputReaches(6000);
    // One more checkpoint after the last record's output: a repeat would show by now.
    const done = await checkpointsCompleted();
    await cluster.waitFor(async () => (await checkpointsCompleted()) >= done + 2, 60_000);
    expect(reader.of(SINK).length).toBe(6000);
    expect([...reader.of(SINK)].sort()).toEqual(expected(6000));
  }, 600_000);

  it('refuses bad resource requirements and rescale requests with clear errors', async () => {
    await runsAt(2);
    const vertices: { id: string; name: string }[] = (await job()).vertices;
    const all = (upper: number, lower = 1) =>
      Object.fromEntries(
        vertices.map((v) => [v.id, { parallelism: { lowerBound: lower, upperBound: upper } }]),
      );
    const first = vertices[0]!;

    expect(
      await put({ ...all(2), 999: { parallelism: { lowerBound: 1, upperBound: 1 } } }),
    ).toEqual({
      status: 400,
      body: { errors: [expect.stringMatching(/^The job has no vertex "999"; its vertices: /)] },
    });
    const { [first.id]: _, ...missing } = all(2);
    expect(await put(missing)).toEqual({
      status: 400,
      body: {
        errors: [
          `Requirements must name every vertex of the job; missing: ${first.id} (${first.name})`,
        ],
      },
    });
    expect((await put({ ...all(2), [first.id]: { parallelism: { upperBound: 2 } } })).body).toEqual(
      {
        errors: [
          `Vertex ${first.id}: expected { "parallelism": { "lowerBound": <integer>, "upperBound": <integer> } }`,
        ],
      },
    );
    expect((await put(all(0, 0))).body.errors[0]).toBe(
      `Vertex ${first.id} (${first.name}): the parallelism must be an integer >= 1; got 0`,
    );
    expect((await put(all(129))).body.errors[0]).toMatch(
      new RegExp(`^Vertex ${first.id} \\(.*\\): parallelism 129 is above its maxParallelism 128`),
    );
    // Reactive mode: lower bounds the slots cannot meet.
    expect(await put(all(4, 3))).toEqual({
      status: 409,
      body: {
        errors: [
          `Job ${jobId}: the lower bounds need more than the 2 task slot(s) available to it; start more TaskManagers or lower the lower bounds`,
        ],
      },
    });
    expect((await fetch(`${cluster.restUrl}/jobs/nope/resource-requirements`)).status).toBe(404);

    const tooHigh = await nimble(['rescale', '-m', cluster.address, jobId, '-p', '200']);
    expect(tooHigh.code).not.toBe(0);
    expect(tooHigh.stderr).toMatch(/parallelism 200 is above its maxParallelism 128/);
    const zero = await nimble(['rescale', '-m', cluster.address, jobId, '-p', '0']);
    expect(zero.stderr).toMatch(/-p 0: expected the new parallelism, an integer >= 1/);
    const unknown = await nimble(['rescale', '-m', cluster.address, 'feedbeef', '-p', '1']);
    expect(unknown.stderr).toMatch(/Job "feedbeef" not found/);

    // Reactive mode runs one job.
    const second = await nimble(['run', '-d', '-m', cluster.address, JOB, broker.bootstrapServers]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(
      new RegExp(
        `reactive mode \\(scheduler-mode: reactive\\), which runs one job, and job ${jobId}`,
      ),
    );

    // A job that is not running cannot be rescaled.
    expect((await nimble(['cancel', '-m', cluster.address, jobId])).code).toBe(0);
    await cluster.waitFor(async () => (await job()).state === 'CANCELED');
    expect(await put(all(1))).toEqual({
      status: 409,
      body: { errors: [`Job ${jobId} is CANCELED; a rescale needs a RUNNING job`] },
    });
  }, 300_000);
});

describe('rescaling without reactive mode', () => {
  const COUNT_JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/checkpointed-count-job.ts');
  let plain: TestCluster;
  let id: string;

  beforeAll(async () => {
    plain = await TestCluster.start({ taskManagers: 2 });
    const r = await nimble([
      'run',
      '-d',
      '-m',
      plain.address,
      '-D',
      `state.checkpoints.dir=file://${join(work, 'chk-plain')}`,
      COUNT_JOB,
      '100000000',
      '2000',
    ]);
    expect(r.stderr).toBe('');
    id = /JobID ([0-9a-f]+)/.exec(r.stdout)![1]!;
  }, 120_000);

  afterAll(async () => {
    await plain?.stop();
  }, 60_000);

  /** The vertices' parallelism while RUNNING, else none. */
  const parallelism = async (): Promise<number[]> => {
    const j = await plain.rest(`/jobs/${id}`);
    return j.state === 'RUNNING'
      ? j.vertices.map((v: { parallelism: number }) => v.parallelism)
      : [];
  };

  const runsAt = (ps: number[], p: number): boolean => ps.length > 0 && ps.every((x) => x === p);

  it('runs at the upper bounds, refuses what the slots cannot hold, and counts no restart', async () => {
    await plain.waitFor(async () => runsAt(await parallelism(), 2), 120_000);
    const tooMany = await nimble(['rescale', '-m', plain.address, id, '-p', '3']);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr).toContain(
      `Job ${id} needs 3 task slot(s) at the new parallelism, but only 2 are available to it ` +
        '(0 free of 2 on 2 TaskManager(s), and the 2 it holds). Start more TaskManagers or ask for a lower parallelism.',
    );

    const down = await nimble(['rescale', '-m', plain.address, id, '-p', '1']);
    expect(down.stderr).toBe('');
    const atOne = await parallelism();
    expect(atOne.length).toBeGreaterThanOrEqual(2);
    expect(runsAt(atOne, 1)).toBe(true);
    // The plan the dashboard draws shows it too.
    const { plan } = await plain.rest(`/jobs/${id}/plan`);
    expect(plan.nodes.map((n: { parallelism: number }) => n.parallelism)).toEqual(atOne);
    const requirements = await plain.rest(`/jobs/${id}/resource-requirements`);
    expect(Object.values(requirements)).toEqual(
      Array(atOne.length).fill({ parallelism: { lowerBound: 1, upperBound: 1 } }),
    );
    // The deployed configuration carries the overrides the TaskManagers rebuilt the graph with.
    const config = await plain.rest(`/jobs/${id}/config`);
    expect(
      config['execution-config']['user-config']['pipeline.jobvertex-parallelism-overrides'],
    ).toBe(
      Object.keys(requirements)
        .map((v) => `${v}:1`)
        .join(','),
    );

    const body = Object.fromEntries(
      Object.keys(requirements).map((v) => [v, { parallelism: { lowerBound: 1, upperBound: 2 } }]),
    );
    const res = await fetch(`${plain.restUrl}/jobs/${id}/resource-requirements`, {
      method: 'PUT',
      body: JSON.stringify(body),
    });
    expect([res.status, await res.json()]).toEqual([200, {}]);
    await plain.waitFor(async () => runsAt(await parallelism(), 2), 120_000);
    const j = await plain.rest(`/jobs/${id}`);
    expect(j['num-restarts']).toBe(0);
    expect((await plain.rest(`/jobs/${id}/checkpoints`)).counts.restored).toBeGreaterThanOrEqual(2);
  }, 300_000);
});

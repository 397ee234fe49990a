// Queryable state end to end on real daemons, on both state backends: a job registers two
// queryable states (setQueryable and asQueryableState); the JobManager answers REST lookups
// (single key, batch, errors, the token) and the client's gRPC lookups from the subtasks that
// own the keys; a killed TaskManager makes lookups answer 503 (retryable) until the job runs
// again with the same values; after stop-with-savepoint and a run at another parallelism the
// lookups route to the new owners.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobManagerClient, StateUnavailableError } from '@nimble/client';
import { assignToKeyGroup, operatorIndexForKeyGroup } from '@nimble/runtime';
import { nimble, TestCluster } from './fixtures/cluster.js';
import { queryableLatest, queryableSpend } from './fixtures/queryable-state-data.js';

const JOB = fileURLToPath(
  new URL('./fixtures/cluster-jobs/queryable-state-job.ts', import.meta.url),
);
const TOKEN = 'queryable-state-test-token-0123456789';
const EVENTS = 2000;

let cluster: TestCluster;
let client: JobManagerClient;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-queryable-'));
  cluster = await TestCluster.start({
    taskManagers: 2,
    slots: 2,
    jm: [
      '-D',
      `security.rest.token=${TOKEN}`,
      '-D',
      'restart-strategy.type=fixed-delay',
      '-D',
      'restart-strategy.fixed-delay.attempts=20',
      // Long enough that a lookup made right after a TaskManager died meets the restart.
      '-D',
      'restart-strategy.fixed-delay.delay=5 s',
    ],
  });
  client = new JobManagerClient(cluster.address, { token: TOKEN });
}, 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };

async function get(path: string, headers: Record<string, string> = auth) {
  const res = await fetch(cluster.restUrl + path, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function post(path: string, body: unknown) {
  const res = await fetch(cluster.restUrl + path, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function jobState(jobId: string): Promise<string> {
  return (await get(`/jobs/${jobId}`)).body.state;
}

async function run(args: {
  parallelism: number;
  backend: string;
  savepoint?: string;
  variant?: string;
}) {
  const run = await nimble(
    [
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      `state.checkpoints.dir=file://${join(work, 'chk')}`,
      '-D',
      `state.backend.type=${args.backend}`,
      ...(args.savepoint ? ['-s', args.savepoint] : []),
      JOB,
      String(EVENTS),
      String(args.parallelism),
      args.variant ?? '',
    ],
    { NIMBLE_TOKEN: TOKEN },
  );
  expect(run.code, run.stderr).toBe(0);
  const jobId = /JobID ([0-9a-f]+)/.exec(run.stdout)?.[1] ?? '';
  expect(jobId, run.stdout).not.toBe('');
  return jobId;
}

const user = (k: number) => `u${k}`;
const latestJson = (k: number) => {
  const e = queryableLatest(EVENTS, k);
  return { ...e, at: e.at.toISOString() };
};

/** Waits until both states are registered and every key has its final value. */
async function waitForFinalValues(jobId: string): Promise<void> {
  await cluster.waitFor(async () => {
    if ((await jobState(jobId)) !== 'RUNNING') return false;
    const spend = await post(`/jobs/${jobId}/state/spend-by-user`, {
      keys: Array.from({ length: 20 }, (_, k) => user(k)),
    });
    const latest = await post(`/jobs/${jobId}/state/latest-by-number`, {
      keys: Array.from({ length: 20 }, (_, k) => k),
    });
    return (
      spend.status === 200 &&
      latest.status === 200 &&
      spend.body.results.every((r: any, k: number) => r.value === queryableSpend(EVENTS, k)) &&
      latest.body.results.every((r: any, k: number) => r.value?.i === queryableLatest(EVENTS, k).i)
    );
  }, 120_000);
}

function owner(key: string | number, parallelism: number) {
  const keyGroup = assignToKeyGroup(key, 128);
  return { keyGroup, subtask: operatorIndexForKeyGroup(128, parallelism, keyGroup) };
}

async function completedCheckpoints(jobId: string): Promise<number> {
  return (await get(`/jobs/${jobId}/checkpoints`)).body.counts?.completed ?? 0;
}

describe.each(['hashmap', 'level'])('queryable state on %s', (backend) => {
  let jobId = '';

  it('lists the states and looks up single keys, batches and the client', async () => {
    jobId = await run({ parallelism: 2, backend });
    await waitForFinalValues(jobId);

    const list = await get(`/jobs/${jobId}/state`);
    expect(list.status).toBe(200);
    expect(list.body.states).toEqual([
      {
        name: 'latest-by-number',
        vertexId: expect.any(String),
        operatorUid: 'latest',
        operatorName: 'Queryable state: latest-by-number',
        kind: 'value',
        ttl: false,
        parallelism: 2,
        maxParallelism: 128,
      },
      {
        name: 'spend-by-user',
        vertexId: expect.any(String),
        operatorUid: 'spend',
        operatorName: 'KeyedProcess',
        kind: 'value',
        ttl: false,
        parallelism: 2,
        maxParallelism: 128,
      },
    ]);

    const one = await get(`/jobs/${jobId}/state/spend-by-user?key=u3`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      name: 'spend-by-user',
      mode: 'live',
      key: 'u3',
      found: true,
      value: queryableSpend(EVENTS, 3),
      ...owner('u3', 2),
    });
    const number = await get(`/jobs/${jobId}/state/latest-by-number?key=7&keyType=number`);
    expect(number.status).toBe(200);
    expect(number.body).toEqual({
      name: 'latest-by-number',
      mode: 'live',
      key: 7,
      found: true,
      value: latestJson(7),
      ...owner(7, 2),
    });
    // The string "7" is another key than the number 7.
    const stringSeven = await get(`/jobs/${jobId}/state/latest-by-number?key=7`);
    expect(stringSeven.body).toMatchObject({ key: '7', found: false, value: null });

    const batch = await post(`/jobs/${jobId}/state/latest-by-number`, {
      keys: [19, 0, 'u0', 42],
    });
    expect(batch.status).toBe(200);
    expect(batch.body).toEqual({
      name: 'latest-by-number',
      mode: 'live',
      results: [
        { key: 19, found: true, value: latestJson(19) },
        { key: 0, found: true, value: latestJson(0) },
        { key: 'u0', found: false, value: null },
        { key: 42, found: false, value: null },
      ],
    });

    // More keys than a subtask reads per turn: answered in slices, in the order asked.
    const many = Array.from({ length: 1500 }, (_, i) => 1499 - i);
    const large = await post(`/jobs/${jobId}/state/latest-by-number`, { keys: many });
    expect(large.status).toBe(200);
    expect(large.body.results.map((r: any) => r.key)).toEqual(many);
    expect(large.body.results.filter((r: any) => r.found).map((r: any) => r.value.n)).toEqual(
      Array.from({ length: 20 }, (_, k) => 19 - k),
    );

    expect(await client.getState<number>(jobId, 'spend-by-user', 'u5')).toBe(
      queryableSpend(EVENTS, 5),
    );
    // Exact JS values through gRPC: the Date stays a Date.
    expect(await client.getState(jobId, 'latest-by-number', 4)).toEqual(queryableLatest(EVENTS, 4));
    expect(await client.getStates<number>(jobId, 'spend-by-user', ['u1', 'nobody', 'u2'])).toEqual([
      queryableSpend(EVENTS, 1),
      undefined,
      queryableSpend(EVENTS, 2),
    ]);
  }, 180_000);

  it('answers bad lookups with clear errors', async () => {
    const unknown = await get(`/jobs/${jobId}/state/nope?key=a`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]).toBe(
      `Job ${jobId} has no queryable state "nope"; its queryable states: "latest-by-number", "spend-by-user"`,
    );
    const noJob = await get(`/jobs/0123456789abcdef0123456789abcdef/state/spend-by-user?key=a`);
    expect(noJob.status).toBe(404);

    const badType = await get(`/jobs/${jobId}/state/spend-by-user?key=a&keyType=date`);
    expect(badType.status).toBe(400);
    expect(badType.body.errors[0]).toBe(
      'keyType must be one of string, number, bigint, boolean, json; got "date"',
    );
    const badNumber = await get(`/jobs/${jobId}/state/latest-by-number?key=seven&keyType=number`);
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.errors[0]).toContain('"seven" is not a finite number');
    const noKey = await get(`/jobs/${jobId}/state/spend-by-user`);
    expect(noKey.status).toBe(400);
    const badMode = await get(`/jobs/${jobId}/state/spend-by-user?key=u1&mode=soon`);
    expect(badMode.status).toBe(400);
    const committed = await get(`/jobs/${jobId}/state/spend-by-user?key=u1&mode=committed`);
    expect(committed.status).toBe(501);

    const badBody = await post(`/jobs/${jobId}/state/spend-by-user`, { keys: [{ a: 1 }] });
    expect(badBody.status).toBe(400);
    expect(badBody.body.errors[0]).toContain('keys[0] ({"a":1}) is an object (Object)');
    const tooMany = await post(`/jobs/${jobId}/state/spend-by-user`, {
      keys: Array.from({ length: 10_001 }, (_, i) => i),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]).toContain('at most 10000 keys');
    const notJson = await post(`/jobs/${jobId}/state/spend-by-user`, '{ keys: ');
    expect(notJson.status).toBe(400);

    const noToken = await get(`/jobs/${jobId}/state/spend-by-user?key=u1`, {});
    expect(noToken.status).toBe(401);
    const unauthorized = new JobManagerClient(cluster.address);
    try {
      await expect(unauthorized.getState(jobId, 'spend-by-user', 'u1')).rejects.toThrow(
        /UNAUTHENTICATED/,
      );
    } finally {
      unauthorized.close();
    }
    await expect(client.getState(jobId, 'nope', 'u1')).rejects.toThrow(/NOT_FOUND/);
    await expect(
      client.getState(jobId, 'spend-by-user', { a: 1 } as unknown as string),
    ).rejects.toThrow(/INVALID_ARGUMENT/);
    // The job ran on through all of it.
    expect(await jobState(jobId)).toBe('RUNNING');
  }, 60_000);

  it('answers 503 (retryable) while the job restarts after a TaskManager died, then the same values', async () => {
    const before = await completedCheckpoints(jobId);
    await cluster.waitFor(async () => (await completedCheckpoints(jobId)) > before, 60_000);
    const busy = (
      (await get('/taskmanagers')).body.taskmanagers as {
        id: string;
        freeSlots: number;
        slotsNumber: number;
      }[]
    ).find((tm) => tm.freeSlots < tm.slotsNumber);
    const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
    expect(victim).toBeDefined();
    const exited = new Promise((r) => victim!.child.once('exit', r));
    victim!.child.kill('SIGKILL');
    await exited;

    const allUsers = { keys: Array.from({ length: 20 }, (_, k) => user(k)) };
    const during = await post(`/jobs/${jobId}/state/spend-by-user`, allUsers);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(during.body.errors[0]).toMatch(/retry/);
    await expect(client.getStates(jobId, 'spend-by-user', allUsers.keys)).rejects.toBeInstanceOf(
      StateUnavailableError,
    );

    await cluster.addTaskManager();
    await waitForFinalValues(jobId);
    expect((await get(`/jobs/${jobId}`)).body['num-restarts']).toBeGreaterThan(0);
    const after = await get(`/jobs/${jobId}/state/spend-by-user?key=u11`);
    expect(after.body).toMatchObject({ found: true, value: queryableSpend(EVENTS, 11) });
  }, 180_000);

  it('routes to the new owners after stop-with-savepoint and a run at parallelism 3', async () => {
    const stopped = await nimble(
      ['stop', '-m', cluster.address, jobId, '--savepointPath', `file://${join(work, 'sp')}`],
      { NIMBLE_TOKEN: TOKEN },
    );
    expect(stopped.code, stopped.stderr).toBe(0);
    const savepoint = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)?.[1];
    expect(savepoint).toBeDefined();
    await cluster.waitFor(async () => (await jobState(jobId)) === 'FINISHED');
    const ended = await get(`/jobs/${jobId}/state/spend-by-user?key=u1`);
    expect(ended.status).toBe(410);

    jobId = await run({ parallelism: 3, backend, savepoint });
    await waitForFinalValues(jobId);
    for (const k of [0, 5, 13, 19]) {
      const r = await get(`/jobs/${jobId}/state/spend-by-user?key=${user(k)}`);
      expect(r.body).toMatchObject({
        found: true,
        value: queryableSpend(EVENTS, k),
        ...owner(user(k), 3),
      });
      const n = await get(`/jobs/${jobId}/state/latest-by-number?key=${k}&keyType=number`);
      expect(n.body).toMatchObject({ found: true, value: latestJson(k), ...owner(k, 3) });
    }
    expect(new Set([0, 1, 2, 3, 4, 5, 6].map((k) => owner(user(k), 3).subtask)).size).toBe(3);
    const cancelled = await nimble(['cancel', '-m', cluster.address, jobId], {
      NIMBLE_TOKEN: TOKEN,
    });
    expect(cancelled.code, cancelled.stderr).toBe(0);
  }, 240_000);
});

describe('registration name clash', () => {
  it('fails a job whose two operators register the same queryable name, without restarts', async () => {
    const jobId = await run({ parallelism: 1, backend: 'hashmap', variant: 'clash' });
    await cluster.waitFor(async () => (await jobState(jobId)) === 'FAILED', 120_000);
    const exceptions = await get(`/jobs/${jobId}/exceptions`);
    expect(exceptions.body['root-exception']).toMatch(
      /^QueryableStateNameClashError: Registration name clash: queryable state "spend-by-user" is registered by operator/,
    );
    expect((await get(`/jobs/${jobId}`)).body['num-restarts']).toBe(0);
  }, 180_000);
});

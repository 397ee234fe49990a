// The Redis connector with real daemons and a real redis-server: per-user window features written
// as hashes through TaskManager SIGKILLs, and as strings across a savepoint at p=2 restored at
// p=3, equal the failure-free content key for key; a wrong password and a server that goes away
// fail the job with errors naming the server, the job follows its restart strategy, and once the
// password is right or the server is back the content is exact. An async lookup enriches events
// with exact output.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nimble, TestCluster } from './fixtures/cluster.js';
import {
  completedCheckpoints,
  killTaskManagersAfterCheckpoints,
  runningJobId,
  stopWithSavepoint,
} from './fixtures/failover.js';
import type { RedisServer } from './fixtures/redis-server.js';
import { redisContent, startRedis } from './fixtures/redis-server.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/redis-features-job.ts');

/** Many quick restarts: the tests wait for a failure and then repair what caused it. */
const RESTARTS = [
  '-D',
  'restart-strategy.type=fixed-delay',
  '-D',
  'restart-strategy.fixed-delay.attempts=200',
  '-D',
  'restart-strategy.fixed-delay.delay=200 ms',
];

let redis: RedisServer;
let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-redis-'));
  [redis, cluster] = await Promise.all([
    startRedis(),
    TestCluster.start({ taskManagers: 3, jm: RESTARTS }),
  ]);
}, 120_000);

/** Servers and jobs to stop after each test, also a failed one. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await redis?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** The failure-free windows: `spend:<user>:<window>` -> [count, total]. */
function expectedWindows(events: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (let i = 0; i < events; i++) {
    const key = `spend:u${i % 20}:${Math.floor((i * 10) / 1000) * 1000}`;
    const [count, total] = out.get(key) ?? [0, 0];
    out.set(key, [count + 1, total + (i % 7) + 1]);
  }
  return out;
}

function expectedHashes(events: number): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [k, [count, total]] of [...expectedWindows(events)].sort()) {
    out[k] = { count: String(count), total: String(total) };
  }
  return out;
}

function expectedStrings(events: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, [count, total]] of [...expectedWindows(events)].sort()) {
    out[k] = `${count}/${total}`;
  }
  return out;
}

interface Run {
  readonly gate: string;
  readonly chk: string;
  readonly jobId: string;
}

/** Submits the job detached and waits until it runs. */
async function submit(
  name: string,
  args: {
    events: number;
    rate: number;
    p: number;
    server: RedisServer | string;
    password?: string;
    mode: string;
    savepoint?: string;
  },
): Promise<Run> {
  const gate = join(work, `gate-${name}`);
  const chk = join(work, `chk-${name}`);
  const r = await nimble([
    'run',
    '-d',
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=400',
    '-D',
    `state.checkpoints.dir=file://${chk}`,
    ...(args.savepoint ? ['-s', args.savepoint] : []),
    JOB,
    String(args.events),
    String(args.rate),
    String(args.p),
    typeof args.server === 'string' ? args.server : args.server.address,
    args.password ?? '-',
    args.mode,
    gate,
  ]);
  expect(r.stderr).toBe('');
  const jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!jobId) throw new Error(`no job id in: ${r.stdout}\n${r.stderr}`);
  cleanups.push(async () => {
    const state = (await cluster.rest(`/jobs/${jobId}`)).state;
    if (state === 'FINISHED' || state === 'FAILED' || state === 'CANCELED') return;
    await nimble(['cancel', '-m', cluster.address, jobId]);
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state !== 'RUNNING');
  });
  return { gate, chk, jobId };
}

async function finish(run: Run): Promise<any> {
  writeFileSync(run.gate, '');
  await cluster.waitFor(async () => {
    const state = (await cluster.rest(`/jobs/${run.jobId}`)).state;
    if (state === 'FAILED') throw new Error(`job ${run.jobId} failed`);
    return state === 'FINISHED';
  }, 120_000);
  return cluster.rest(`/jobs/${run.jobId}`);
}

/** Waits until the job's exception history has an error matching `pattern`; returns it. */
async function failureMatching(jobId: string, pattern: RegExp): Promise<string> {
  let found = '';
  await cluster.waitFor(async () => {
    const ex = JSON.stringify(await cluster.rest(`/jobs/${jobId}/exceptions`));
    found = pattern.exec(ex)?.[0] ?? '';
    return found !== '';
  }, 120_000);
  return found;
}

describe('RedisSink on a cluster', () => {
  it('hash features through TaskManagers killed with SIGKILL twice: the Redis content is exact', async () => {
    await redis.client.flushall();
    const events = 12_000;
    const run = await submit('kill', { events, rate: 2000, p: 2, server: redis, mode: 'hash' });
    await runningJobId(cluster, 'redis-features-job-hash');
    const killed = await killTaskManagersAfterCheckpoints(cluster, run.chk, run.jobId, 2);
    expect(killed).toBe(2);
    const job = await finish(run);
    expect(job['num-restarts']).toBeGreaterThanOrEqual(2);
    expect(await redisContent(redis.client, 'spend:*')).toEqual(expectedHashes(events));
    // Every key got its one-hour TTL.
    const pttl = await redis.client.pttl('spend:u0:0');
    expect(pttl).toBeGreaterThan(3_000_000);
  }, 240_000);

  it('string features: a savepoint at p=2 restored at p=3 gives the exact content', async () => {
    await redis.client.flushall();
    const events = 10_000;
    const first = await submit('sp1', { events, rate: 1500, p: 2, server: redis, mode: 'string' });
    await runningJobId(cluster, 'redis-features-job-string');
    await cluster.waitFor(() => completedCheckpoints(first.chk, first.jobId).length > 0, 60_000);
    await cluster.waitFor(async () => (await redis.client.dbsize()) > 0, 60_000);
    const savepoint = await stopWithSavepoint(cluster, first.jobId, join(work, 'savepoints'));
    const before = await redis.client.dbsize();
    expect(before).toBeLessThan(Object.keys(expectedStrings(events)).length);
    const second = await submit('sp2', {
      events,
      rate: 0,
      p: 3,
      server: redis,
      mode: 'string',
      savepoint,
    });
    const job = await finish(second);
    expect(job.vertices.map((v: { parallelism: number }) => v.parallelism)).toContain(3);
    expect(await redisContent(redis.client, 'spend:*')).toEqual(expectedStrings(events));
  }, 240_000);

  it('a wrong password fails the job naming the server; once the password is right the content is exact', async () => {
    const secured = await startRedis({ password: 'right' });
    cleanups.push(() => secured.stop());
    const events = 4000;
    const run = await submit('auth', {
      events,
      rate: 0,
      p: 2,
      server: secured,
      password: 'wrong',
      mode: 'hash',
    });
    const error = await failureMatching(
      run.jobId,
      new RegExp(
        `Redis ${secured.address.replace(/\./g, '\\.')}: HSET spend:u\\d+:\\d+ failed: [^"]*?(WRONGPASS|NOAUTH)[^"]*`,
      ),
    );
    expect(error).toContain('Check the password');
    expect((await cluster.rest(`/jobs/${run.jobId}`)).state).not.toBe('FAILED');
    // The server's password becomes the job's: the next restart writes everything.
    await secured.client.config('SET', 'requirepass', 'wrong');
    const job = await finish(run);
    expect(job['num-restarts']).toBeGreaterThanOrEqual(1);
    // The fixture's client authenticated before the change: AUTH holds per connection.
    expect(await redisContent(secured.client, 'spend:*')).toEqual(expectedHashes(events));
  }, 240_000);

  it('the server goes away mid-job: the failure names it, and once it is back the content is exact', async () => {
    const dir = join(work, 'redis-outage');
    const first = await startRedis({ appendOnly: true, dir: mkdir(dir) });
    let current = first;
    cleanups.push(() => current.stop());
    const events = 12_000;
    const run = await submit('outage', {
      events,
      rate: 2000,
      p: 2,
      server: first.address,
      mode: 'hash',
    });
    await runningJobId(cluster, 'redis-features-job-hash');
    await cluster.waitFor(() => completedCheckpoints(run.chk, run.jobId).length > 0, 60_000);
    await cluster.waitFor(async () => (await first.client.dbsize()) > 0, 60_000);
    await first.stop(true);
    const error = await failureMatching(
      run.jobId,
      new RegExp(`Redis 127\\.0\\.0\\.1:${first.port}: [A-Z]+ [^ ]+ failed: [^"]*`),
    );
    expect(error).toMatch(/ECONNREFUSED|Connection is closed|max retries/);
    current = await startRedis({ appendOnly: true, dir, port: first.port });
    const job = await finish(run);
    expect(job['num-restarts']).toBeGreaterThanOrEqual(1);
    expect(await redisContent(current.client, 'spend:*')).toEqual(expectedHashes(events));
  }, 240_000);
});

describe('RedisLookupFunction on a cluster', () => {
  it('enriches events from Redis hashes through a cache: exact output', async () => {
    await redis.client.flushall();
    const tiers = ['basic', 'silver', 'gold'];
    for (let u = 0; u < 20; u++) await redis.client.hset(`profile:u${u}`, 'tier', tiers[u % 3]!);
    const events = 5000;
    const run = await submit('lookup', {
      events,
      rate: 0,
      p: 2,
      server: redis,
      mode: 'lookup-cache',
    });
    await finish(run);
    const expected: Record<string, string> = {};
    for (let i = 0; i < events; i++) {
      if (i % 25 < 20) expected[`enriched:${i}`] = `u${i % 25} ${tiers[(i % 25) % 3]}`;
    }
    const actual = await redisContent(redis.client, 'enriched:*');
    expect(Object.keys(actual).length).toBe(Object.keys(expected).length);
    expect(actual).toEqual(expected);
  }, 120_000);
});

function mkdir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

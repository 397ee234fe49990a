// The PostgreSQL connector on a real server (initdb'd by the fixture) and real daemons: the
// at-least-once upsert sink and the two-phase-commit sink give the exact table through
// TaskManager SIGKILLs, a savepoint at parallelism 2 restored at 3, no rows of an uncompleted
// checkpoint visible, no prepared transaction left; a wrong password and a server that goes away
// fail the job with errors naming the server, and it recovers by its restart strategy without
// losing data; the lookup function enriches events exactly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  JdbcConnectionOptions,
  JdbcDmlOptions,
  JdbcExecutionOptions,
  JdbcSink,
} from '@nimble/connector-postgres';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { stopWithSavepoint } from './fixtures/failover.js';
import type { PostgresServer } from './fixtures/postgres-server.js';
import { startPostgres } from './fixtures/postgres-server.js';

const JOB = fileURLToPath(new URL('./fixtures/cluster-jobs/postgres-job.ts', import.meta.url));
const USERS = 20;

let server: PostgresServer;
let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-pg-test-'));
  [server, cluster] = await Promise.all([
    startPostgres(),
    TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] }),
  ]);
}, 180_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

function jobArgs(options: Record<string, string | number>): string[] {
  const all: Record<string, string | number> = {
    url: server.jdbcUrl,
    user: server.user,
    password: server.password,
    ...options,
  };
  return [JOB, ...Object.entries(all).map(([k, v]) => `${k}=${v}`)];
}

const checkpointing = (name: string, intervalMs = 500) => [
  '-D',
  `execution.checkpointing.interval=${intervalMs}`,
  '-D',
  `state.checkpoints.dir=file://${join(work, `chk-${name}`)}`,
];

async function submit(options: string[], args: string[]): Promise<string> {
  const r = await nimble(['run', '-d', '-m', cluster.address, ...options, ...args]);
  const jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!jobId) throw new Error(`no job id in: ${r.stdout}\n${r.stderr}`);
  cleanups.push(async () => {
    if ((await cluster.rest(`/jobs/${jobId}`)).state !== 'RUNNING') return;
    await nimble(['cancel', '-m', cluster.address, jobId]);
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state !== 'RUNNING');
  });
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
    60_000,
  );
  return jobId;
}

async function state(jobId: string): Promise<string> {
  return (await cluster.rest(`/jobs/${jobId}`)).state as string;
}

async function checkpointsCompleted(jobId: string): Promise<number> {
  const c = await cluster.rest(`/jobs/${jobId}/checkpoints`);
  return (c.counts?.completed as number | undefined) ?? 0;
}

async function killBusyTaskManager(jobId: string): Promise<void> {
  const busy = (
    (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
  ).find((tm) => tm.freeSlots === 0);
  const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
  if (!victim) throw new Error('no TaskManager runs the job');
  victim.child.kill('SIGKILL');
  await cluster.addTaskManager();
  await cluster.waitFor(async () => (await state(jobId)) === 'RUNNING', 120_000);
}

/** Kills a busy TaskManager `times` times, each after a checkpoint newer than the last. */
async function killAfterCheckpoints(jobId: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const before = await checkpointsCompleted(jobId);
    await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) > before, 120_000);
    await killBusyTaskManager(jobId);
  }
}

async function finished(jobId: string): Promise<void> {
  await cluster.waitFor(async () => {
    const s = await state(jobId);
    if (s === 'FAILED')
      throw new Error(
        `job ${jobId} failed: ${JSON.stringify(await cluster.rest(`/jobs/${jobId}/exceptions`))}`,
      );
    return s === 'FINISHED';
  }, 180_000);
}

/** The final (user, n, total) of each user after `events` events. */
function expectedFinal(events: number): { user_id: string; n: number; total: number }[] {
  const out = new Map<string, { user_id: string; n: number; total: number }>();
  for (let i = 0; i < events; i++) {
    const user = `u${i % USERS}`;
    const s = out.get(user) ?? { user_id: user, n: 0, total: 0 };
    out.set(user, { user_id: user, n: s.n + 1, total: s.total + (i % 7) + 1 });
  }
  return [...out.values()].sort((a, b) => a.user_id.localeCompare(b.user_id));
}

/**
 * Every (user, n) the running counts emit for `events` events, sorted. (The totals between depend
 * on how the source subtasks' records interleave; the last one per user does not.)
 */
function expectedAll(events: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < events; i++) out.push(`u${i % USERS} ${Math.floor(i / USERS) + 1}`);
  return out.sort();
}

async function upsertTable(name: string): Promise<void> {
  await server.query(
    `CREATE TABLE ${name} (user_id text PRIMARY KEY, n integer NOT NULL, total integer NOT NULL)`,
  );
}
/** A table whose primary key makes a duplicate (user, n) fail the insert. */
async function appendTable(name: string): Promise<void> {
  await server.query(
    `CREATE TABLE ${name} (user_id text, n integer, total integer NOT NULL, PRIMARY KEY (user_id, n))`,
  );
}

async function finalRows(name: string) {
  return server.query<{ user_id: string; n: number; total: number }>(
    `SELECT user_id, n, total FROM ${name} ORDER BY user_id`,
  );
}
async function allRows(name: string): Promise<string[]> {
  const rows = await server.query<{ user_id: string; n: number; total: number }>(
    `SELECT user_id, n, total FROM ${name}`,
  );
  return rows.map((r) => `${r.user_id} ${r.n}`).sort();
}
/** The row of each user's last count. */
async function lastRows(name: string) {
  return server.query<{ user_id: string; n: number; total: number }>(
    `SELECT DISTINCT ON (user_id) user_id, n, total FROM ${name} ORDER BY user_id, n DESC`,
  );
}
async function preparedTransactions(prefix: string): Promise<string[]> {
  const rows = await server.query<{ gid: string }>(
    'SELECT gid FROM pg_prepared_xacts WHERE starts_with(gid, $1)',
    [`${prefix}-`],
  );
  return rows.map((r) => r.gid);
}

describe('PostgreSQL connector end to end', () => {
  it('upsert sink: exact table through TaskManager SIGKILLs', async () => {
    const events = 8000;
    await upsertTable('counts_upsert');
    const gate = join(work, 'gate-upsert');
    const jobId = await submit(
      checkpointing('upsert'),
      jobArgs({ mode: 'upsert', table: 'counts_upsert', events, rate: 2000, gate }),
    );
    await killAfterCheckpoints(jobId, 2);
    writeFileSync(gate, '');
    await finished(jobId);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(2);
    expect(await finalRows('counts_upsert')).toEqual(expectedFinal(events));
  }, 300_000);

  it('two-phase-commit sink: each row once through TaskManager SIGKILLs, no prepared transaction left', async () => {
    const events = 8000;
    await appendTable('counts_2pc');
    const gate = join(work, 'gate-2pc');
    const jobId = await submit(
      checkpointing('2pc'),
      jobArgs({ mode: '2pc', table: 'counts_2pc', events, rate: 2000, gate, prefix: 'kill2pc' }),
    );
    await killAfterCheckpoints(jobId, 2);
    writeFileSync(gate, '');
    await finished(jobId);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(2);
    // The primary key (user, n) fails any duplicate insert: the rows are each exactly once.
    expect(await allRows('counts_2pc')).toEqual(expectedAll(events));
    expect(await lastRows('counts_2pc')).toEqual(expectedFinal(events));
    expect(await preparedTransactions('kill2pc')).toEqual([]);
  }, 300_000);

  it('two-phase-commit sink: rows of an uncompleted checkpoint are not visible', async () => {
    await appendTable('counts_open');
    const gate = join(work, 'gate-open');
    // No checkpoint completes within the test: what the sink writes stays in its transactions.
    const jobId = await submit(
      checkpointing('open', 3_600_000),
      jobArgs({ mode: '2pc', table: 'counts_open', events: 2000, rate: 0, gate, prefix: 'open' }),
    );
    // The sink wrote into the table: its open transaction holds a lock on it.
    await cluster.waitFor(async () => {
      const locks = await server.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         WHERE c.relname = 'counts_open' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()`,
      );
      return locks[0]!.n > 0;
    }, 120_000);
    expect(await server.query('SELECT * FROM counts_open')).toEqual([]);
    await nimble(['cancel', '-m', cluster.address, jobId]);
    await cluster.waitFor(async () => (await state(jobId)) === 'CANCELED', 60_000);
    expect(await server.query('SELECT * FROM counts_open')).toEqual([]);
    expect(await preparedTransactions('open')).toEqual([]);
  }, 300_000);

  it('two-phase-commit sink: a savepoint at parallelism 2 restored at 3', async () => {
    const events = 12_000;
    await appendTable('counts_sp');
    const gate = join(work, 'gate-sp');
    const args = { mode: '2pc', table: 'counts_sp', events, rate: 0, gate, prefix: 'sp' };
    // Each reader holds after 2000 records until the gate opens: the savepoint is mid-stream.
    const jobId = await submit(
      checkpointing('sp'),
      jobArgs({ ...args, parallelism: 2, hold: 2000 }),
    );
    await cluster.waitFor(async () => (await allRows('counts_sp')).length >= 4000, 120_000);
    const savepoint = await stopWithSavepoint(cluster, jobId, join(work, 'savepoints'));
    expect((await allRows('counts_sp')).length).toBeLessThan(events);
    writeFileSync(gate, '');
    const resumed = await submit(
      ['-s', savepoint, ...checkpointing('sp')],
      jobArgs({ ...args, parallelism: 3 }),
    );
    await finished(resumed);
    expect(await allRows('counts_sp')).toEqual(expectedAll(events));
    expect(await lastRows('counts_sp')).toEqual(expectedFinal(events));
    expect(await preparedTransactions('sp')).toEqual([]);
  }, 300_000);

  it('a wrong password fails the job naming the server; it recovers once the password is right', async () => {
    const events = 3000;
    await upsertTable('counts_auth');
    await server.admin(`CREATE ROLE late LOGIN PASSWORD 'not-yet'`);
    await server.admin('GRANT ALL ON TABLE counts_auth TO late');
    const jobId = await submit(
      checkpointing('auth'),
      jobArgs({
        mode: 'upsert',
        table: 'counts_auth',
        events,
        rate: 1000,
        user: 'late',
        password: 'right',
      }),
    );
    let exceptions = '';
    await cluster.waitFor(async () => {
      exceptions = JSON.stringify(await cluster.rest(`/jobs/${jobId}/exceptions`));
      return exceptions.includes('password authentication failed');
    }, 120_000);
    expect(exceptions).toContain(
      `PostgreSQL server ${server.host}:${server.port}/${server.database} as user 'late'`,
    );
    await server.admin(`ALTER ROLE late PASSWORD 'right'`);
    await finished(jobId);
    expect(await finalRows('counts_auth')).toEqual(expectedFinal(events));
  }, 300_000);

  it('a server that goes away fails the job naming it; it recovers when the server is back', async () => {
    const events = 9000;
    await upsertTable('counts_down');
    const gate = join(work, 'gate-down');
    const jobId = await submit(
      checkpointing('down'),
      jobArgs({ mode: 'upsert', table: 'counts_down', events, rate: 1500, gate }),
    );
    await cluster.waitFor(async () => (await finalRows('counts_down')).length === USERS, 120_000);
    await server.halt();
    let exceptions = '';
    await cluster.waitFor(async () => {
      exceptions = JSON.stringify(await cluster.rest(`/jobs/${jobId}/exceptions`));
      return exceptions.includes(
        `PostgreSQL server ${server.host}:${server.port}/${server.database}`,
      );
    }, 120_000);
    await server.start();
    writeFileSync(gate, '');
    await finished(jobId);
    expect(await finalRows('counts_down')).toEqual(expectedFinal(events));
  }, 300_000);

  it('a record the table rejects fails the sink naming the table, the server and the record', async () => {
    await server.query(
      'CREATE TABLE strict_counts (user_id text PRIMARY KEY, n integer NOT NULL CHECK (n > 0))',
    );
    const connection = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
      .withUrl(`postgres://${server.host}:${server.port}/${server.database}`)
      .withUsername(server.user)
      .withPassword(server.password)
      .build();
    const sink = JdbcSink.sink(
      JdbcDmlOptions.builder()
        .withTableName('strict_counts')
        .withFieldNames('user_id', 'n')
        .withKeyFields('user_id')
        .build(),
      (r: { user: string; n: number }) => [r.user, r.n],
      JdbcExecutionOptions.builder().withBatchSize(100).build(),
      connection,
    );
    const writer = sink.createWriter({
      getSubtaskId: () => 0,
      getNumberOfParallelSubtasks: () => 1,
      getAttemptNumber: () => 0,
      getRestoredCheckpointId: () => undefined,
    });
    const context = { timestamp: () => undefined, currentWatermark: () => 0 };
    for (let i = 1; i <= 50; i++) writer.write({ user: `u${i}`, n: i === 37 ? -1 : i }, context);
    await expect(writer.flush(false)).rejects.toThrow(
      `JdbcSink: writing to table strict_counts on ${server.host}:${server.port}/${server.database} failed for record {"user":"u37","n":-1}: new row for relation "strict_counts" violates check constraint`,
    );
    await writer.close();
    // The batch is all or nothing: no row of it is in the table.
    expect(await server.query('SELECT * FROM strict_counts')).toEqual([]);
  }, 60_000);

  it('lookup: events enriched with their user tier, exactly', async () => {
    const events = 5000;
    await server.query('CREATE TABLE profiles (user_id text PRIMARY KEY, tier text NOT NULL)');
    // u0..u19 have profiles; u20..u24 do not.
    await server.query(
      `INSERT INTO profiles SELECT 'u' || i, CASE WHEN i % 3 = 0 THEN 'gold' ELSE 'basic' END FROM generate_series(0, 19) i`,
    );
    await server.query(
      'CREATE TABLE enriched (id integer PRIMARY KEY, user_id text NOT NULL, tier text NOT NULL)',
    );
    const jobId = await submit(
      checkpointing('lookup'),
      jobArgs({ mode: 'lookup', table: 'enriched', profiles: 'profiles', events, rate: 0 }),
    );
    await finished(jobId);
    const rows = await server.query<{ id: number; user_id: string; tier: string }>(
      'SELECT id, user_id, tier FROM enriched ORDER BY id',
    );
    const expected = Array.from({ length: events }, (_, id) => {
      const u = id % 25;
      return { id, user_id: `u${u}`, tier: u >= 20 ? 'none' : u % 3 === 0 ? 'gold' : 'basic' };
    });
    expect(rows).toEqual(expected);
  }, 300_000);
});

// The State Processor API with real daemons: a savepoint bootstrapped in-process from a history
// file restores with `run -s` into the spend job on a JobManager and TaskManagers (hashmap from
// file://, level from s3:// on moto), and the job's output over the new events equals that of
// the job that processed the history itself. Changed savepoints (a dropped state, a fixed key, a
// changed uid) restore the same way, and state read from a savepoint of a running job, as rows
// and as a SQL table, is exactly what the job held.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimble, TestCluster } from './fixtures/cluster.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';
import type { Spend } from './fixtures/state-processor/spend-state.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/state-processor/', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const JOB = join(FIXTURES, 'spend-state-job.ts');

let cluster: TestCluster;
let s3: S3Server;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-state-processor-'));
  s3 = await startS3Server();
  cluster = await TestCluster.start({ taskManagers: 2, slots: 2, jm: s3.flags, tm: s3.flags });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

const USERS = ['ann', 'bob', 'cyd', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'kim'];
const CATEGORIES = ['books', 'food', 'games'];

/** Events `from..to-1`, deterministic; user `badUser` takes every 10th event if given. */
function events(from: number, to: number, badUser?: string): Spend[] {
  const out: Spend[] = [];
  for (let id = from; id < to; id++) {
    const user = badUser !== undefined && id % 10 === 3 ? badUser : USERS[(id * 7) % USERS.length]!;
    out.push({ id, user, cents: (id * 7919) % 10_000, category: CATEGORIES[id % 3]! });
  }
  return out;
}

function writeEvents(name: string, list: Spend[]): string {
  const file = join(work, name);
  writeFileSync(file, list.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return file;
}

/** The lines the spend job emits for `fresh` after state built from `history` (exact model). */
function expectedLines(history: Spend[], fresh: Spend[]): string[] {
  const state = new Map<string, { total: number; count: number; cats: Map<string, number> }>();
  const apply = (e: Spend): string => {
    const s = state.get(e.user) ?? { total: 0, count: 0, cats: new Map<string, number>() };
    state.set(e.user, s);
    s.total += e.cents;
    s.count += 1;
    s.cats.set(e.category, (s.cats.get(e.category) ?? 0) + 1);
    const cats = [...s.cats]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([c, n]) => `${c}=${n}`)
      .join(',');
    return `OUT|${e.id}|${e.user}|${s.total}|${s.count}|${cats}`;
  };
  history.forEach(apply);
  return fresh.map(apply).sort();
}

/** The spend job's state per user after `list`. */
function stateAfter(
  list: Spend[],
): Map<string, { total: number; purchases: number; cats: Map<string, number> }> {
  const state = new Map<string, { total: number; purchases: number; cats: Map<string, number> }>();
  for (const e of list) {
    const s = state.get(e.user) ?? { total: 0, purchases: 0, cats: new Map<string, number>() };
    state.set(e.user, s);
    s.total += e.cents;
    s.purchases += 1;
    s.cats.set(e.category, (s.cats.get(e.category) ?? 0) + 1);
  }
  return state;
}

/** The rows SpendReader gives for `state`, by user. */
function expectedRows(state: ReturnType<typeof stateAfter>): unknown[] {
  return [...state]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([userId, s]) => ({
      userId,
      total: s.total,
      purchases: s.purchases,
      byCategory: [...s.cats].sort(([a], [b]) => (a < b ? -1 : 1)),
    }));
}

/** The rows read from the `spend` state at `path` by read-spend.ts, by user. */
async function readRows(path: string): Promise<unknown[]> {
  const rows = JSON.parse(
    /^RESULT (.*)$/m.exec(await tsxOk('read-spend.ts', [path, 'rows']))![1]!,
  ) as { userId: string }[];
  return rows.sort((a, b) => (a.userId < b.userId ? -1 : 1));
}

/** Runs a fixture script with tsx in its own process; resolves with its output. */
function tsx(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(TSX, [join(FIXTURES, script), ...args]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

async function tsxOk(script: string, args: string[]): Promise<string> {
  const r = await tsx(script, args);
  expect(r.code, r.out).toBe(0);
  return r.out;
}

/** Runs the spend job on the cluster to its end; returns its printed lines (sorted). */
async function runJob(args: {
  events: string;
  prefix: string;
  expected: number;
  savepoint?: string;
  backend?: 'hashmap' | 'level';
  parallelism?: number;
  uid?: string;
  extra?: string[];
}): Promise<string[]> {
  const run = await nimble([
    'run',
    '-m',
    cluster.address,
    '-D',
    `state.backend.type=${args.backend ?? 'hashmap'}`,
    ...(args.savepoint ? ['-s', args.savepoint] : []),
    ...(args.extra ?? []),
    JOB,
    args.events,
    args.prefix,
    String(args.parallelism ?? 2),
    args.uid ?? 'spend',
  ]);
  expect(run.code, run.stderr).toBe(0);
  const lines = (): string[] =>
    cluster
      .printed()
      .filter((l) => l.startsWith(`${args.prefix}:`) || l.startsWith(`${args.prefix}>`))
      .map((l) => l.slice(l.indexOf('OUT|')));
  // Print output reaches the TaskManagers' stdout pipes after the job ends: wait for all of it.
  await cluster.waitFor(() => lines().length >= args.expected, 60_000);
  return lines().sort();
}

const history = events(0, 900);
const fresh = events(900, 1200);

describe('State Processor API on a cluster', () => {
  let historyFile: string;
  let freshFile: string;
  let bootstrapped: string;

  beforeAll(() => {
    historyFile = writeEvents('history.jsonl', history);
    freshFile = writeEvents('fresh.jsonl', fresh);
  });

  it('bootstraps state from history: the restored job (hashmap from file://, level from s3://) emits what the job over all events emitted', async () => {
    const all = writeEvents('all.jsonl', [...history, ...fresh]);
    const a = await runJob({ events: all, prefix: 'A', expected: history.length + fresh.length });
    const freshIds = new Set(fresh.map((e) => String(e.id)));
    const aFresh = a.filter((l) => freshIds.has(l.split('|')[1]!));
    expect(aFresh).toEqual(expectedLines(history, fresh));

    bootstrapped = `file://${join(work, 'bootstrapped')}`;
    await tsxOk('bootstrap-spend.ts', [historyFile, bootstrapped, '3']);
    const bHeap = await runJob({
      events: freshFile,
      prefix: 'B-hashmap',
      expected: fresh.length,
      savepoint: bootstrapped,
    });
    expect(bHeap).toEqual(aFresh);

    const onS3 = `s3://${s3.bucket}/savepoints/bootstrapped`;
    const conf = JSON.stringify({
      's3.endpoint': s3.endpoint,
      's3.access-key': s3.accessKey,
      's3.secret-key': s3.secretKey,
      's3.path.style.access': true,
    });
    await tsxOk('bootstrap-spend.ts', [historyFile, onS3, '2', conf]);
    const bLevel = await runJob({
      events: freshFile,
      prefix: 'B-level',
      expected: fresh.length,
      savepoint: onS3,
      backend: 'level',
      parallelism: 3,
    });
    expect(bLevel).toEqual(aFresh);
  }, 300_000);

  it('drops a state: the restored job has totals and counts but starts the categories afresh', async () => {
    const out = `file://${join(work, 'no-categories')}`;
    await tsxOk('change-savepoint.ts', ['remove-state', bootstrapped, out, 'byCategory']);
    const lines = await runJob({
      events: freshFile,
      prefix: 'C-dropped',
      expected: fresh.length,
      savepoint: out,
    });
    // Totals and counts continue from the history; categories count the new events only.
    const categoriesAlone = new Map(
      expectedLines([], fresh).map((l) => [l.split('|')[1], l.split('|')[5]]),
    );
    const expected = expectedLines(history, fresh)
      .map((l) => {
        const f = l.split('|');
        return [...f.slice(0, 5), categoriesAlone.get(f[1])].join('|');
      })
      .sort();
    expect(lines).toEqual(expected);
  }, 180_000);

  it('changes a uid: the job whose operator has the new uid restores it without --allow-non-restored-state', async () => {
    const out = `file://${join(work, 'renamed')}`;
    await tsxOk('change-savepoint.ts', ['change-uid', bootstrapped, out, 'spend-v2']);
    const lines = await runJob({
      events: freshFile,
      prefix: 'D-renamed',
      expected: fresh.length,
      savepoint: out,
      uid: 'spend-v2',
    });
    expect(lines).toEqual(expectedLines(history, fresh));
    // The old uid is gone from the savepoint: the job under it is refused.
    const refused = await nimble([
      'run',
      '-m',
      cluster.address,
      '-s',
      out,
      JOB,
      freshFile,
      'D-refused',
      '2',
      'spend',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('spend-v2');
    expect(refused.stderr).toContain('--allow-non-restored-state');
  }, 180_000);

  it('reads the keyed state of a savepoint taken from a running job, as rows and as a SQL table', async () => {
    const gate = join(work, 'gate-read');
    const started = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      JOB,
      historyFile,
      'F-running',
      '2',
      'spend',
      gate,
    ]);
    expect(started.code, started.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]+)/.exec(started.stdout)?.[1] ?? '';
    expect(jobId).not.toBe('');
    // Every event processed (the source holds its end of input until the gate exists).
    await cluster.waitFor(
      () => cluster.printed().filter((l) => l.startsWith('F-running')).length >= history.length,
      60_000,
    );
    const taken = await nimble([
      'savepoint',
      '-m',
      cluster.address,
      jobId,
      `file://${join(work, 'from-running')}`,
    ]);
    expect(taken.code, taken.stderr).toBe(0);
    const path = /Savepoint completed\. Path: (\S+)/.exec(taken.stdout)?.[1] ?? '';
    expect(path).not.toBe('');
    writeFileSync(gate, '');
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
      60_000,
    );

    const expected = new Map<
      string,
      { total: number; purchases: number; cats: Map<string, number> }
    >();
    for (const e of history) {
      const s = expected.get(e.user) ?? { total: 0, purchases: 0, cats: new Map<string, number>() };
      expected.set(e.user, s);
      s.total += e.cents;
      s.purchases += 1;
      s.cats.set(e.category, (s.cats.get(e.category) ?? 0) + 1);
    }
    const rows = JSON.parse(
      /^RESULT (.*)$/m.exec(await tsxOk('read-spend.ts', [path, 'rows']))![1]!,
    ) as { userId: string }[];
    expect(rows.sort((a, b) => (a.userId < b.userId ? -1 : 1))).toEqual(
      [...expected]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([userId, s]) => ({
          userId,
          total: s.total,
          purchases: s.purchases,
          byCategory: [...s.cats].sort(([a], [b]) => (a < b ? -1 : 1)),
        })),
    );

    // SELECT userId, total / purchases AS average FROM spend_state WHERE purchases >= 82
    const sql = JSON.parse(
      /^RESULT (.*)$/m.exec(await tsxOk('read-spend.ts', [path, 'sql']))![1]!,
    ) as { userId: string; average: number }[];
    const expectedSql = [...expected]
      .filter(([, s]) => s.purchases >= 82)
      .map(([userId, s]) => ({ userId, average: Math.trunc(s.total / s.purchases) }))
      .sort((a, b) => (a.userId < b.userId ? -1 : 1));
    expect(expectedSql.length).toBeGreaterThan(0);
    expect(expectedSql.length).toBeLessThan(expected.size);
    expect(sql.sort((a, b) => (a.userId < b.userId ? -1 : 1))).toEqual(expectedSql);
  }, 180_000);

  it('bootstraps timers: the restored job fires them', async () => {
    const out = `file://${join(work, 'timers')}`;
    await tsxOk('bootstrap-timers.ts', [out, 'a:3000', 'b:2000', 'c:7000']);
    const run = await nimble([
      'run',
      '-m',
      cluster.address,
      '-s',
      out,
      join(FIXTURES, 'timer-job.ts'),
      'G-timers',
      'c,d',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = (): string[] =>
      cluster
        .printed()
        .filter((l) => l.startsWith('G-timers'))
        .map((l) => l.slice(l.indexOf('TIMER|')));
    await cluster.waitFor(() => lines().length >= 4, 60_000);
    // c's bootstrapped timer and its own are the same timer: it fires once.
    expect(lines().sort()).toEqual([
      'TIMER|a|3000',
      'TIMER|b|2000',
      'TIMER|c|7000',
      'TIMER|d|7000',
    ]);
  }, 120_000);

  it('reads the keyed state of a retained level checkpoint (native files) as exactly what the job held', async () => {
    const gate = join(work, 'gate-level');
    const started = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      'state.backend.type=level',
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${join(work, 'chk-level')}`,
      '-D',
      'execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION',
      JOB,
      historyFile,
      'H-level',
      '2',
      'spend',
      gate,
    ]);
    expect(started.code, started.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]+)/.exec(started.stdout)?.[1] ?? '';
    await cluster.waitFor(
      () => cluster.printed().filter((l) => l.startsWith('H-level')).length >= history.length,
      60_000,
    );
    const completed = async (): Promise<{ id: number; external_path: string } | null> =>
      (await cluster.rest(`/jobs/${jobId}/checkpoints`)).latest?.completed ?? null;
    // Checkpoint n0 + 1 may have been under way while the last events were processed; n0 + 2
    // was triggered after it completed, so after every event.
    const n0 = (await completed())?.id ?? 0;
    await cluster.waitFor(async () => ((await completed())?.id ?? 0) >= n0 + 2, 60_000);
    const cancelled = await nimble(['cancel', '-m', cluster.address, jobId]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'CANCELED',
      60_000,
    );
    const retained = (await completed())!.external_path;
    const metadata = JSON.parse(
      readFileSync(join(fileURLToPath(retained), '_metadata'), 'utf8'),
    ) as { operators: { uid: string; subtasks: { keyed?: { files: { kind: string }[] } }[] }[] };
    const kinds = metadata.operators
      .find((o) => o.uid === 'spend')!
      .subtasks.flatMap((st) => st.keyed?.files.map((f) => f.kind) ?? []);
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds.every((k) => k === 'level-full' || k === 'level-delta')).toBe(true);
    expect(await readRows(retained)).toEqual(expectedRows(stateAfter(history)));
  }, 180_000);

  it('fixes a bad key: state read, re-keyed and bootstrapped back continues under the fixed key', async () => {
    const badHistory = events(0, 900, 'Zoe ');
    const goodHistory = badHistory.map((e) => (e.user === 'Zoe ' ? { ...e, user: 'zoe' } : e));
    const freshZoe = events(900, 1200, 'zoe');
    const bad = `file://${join(work, 'bad-key')}`;
    await tsxOk('bootstrap-spend.ts', [writeEvents('bad.jsonl', badHistory), bad, '2']);
    const fixed = `file://${join(work, 'fixed-key')}`;
    await tsxOk('change-savepoint.ts', ['fix-key', bad, fixed, 'Zoe ', 'zoe']);
    const lines = await runJob({
      events: writeEvents('fresh-zoe.jsonl', freshZoe),
      prefix: 'E-fixed',
      expected: freshZoe.length,
      savepoint: fixed,
    });
    expect(lines).toEqual(expectedLines(goodHistory, freshZoe));
    expect(lines.some((l) => l.includes('|zoe|'))).toBe(true);
  }, 180_000);
});

// `nimble savepoint inspect` on real savepoints and checkpoints: a job whose state is known
// exactly (inspect-job.ts) runs on real daemons with hashmap and level; its savepoints go to a
// local directory and to S3 (moto), and a retained incremental level checkpoint is read as the
// chain of files it is.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimble, TestCluster } from './fixtures/cluster.js';
import {
  expectedTotals,
  expectedWindows,
  HELD_AFTER,
  SEQUENCE_LENGTH,
} from './fixtures/cluster-jobs/inspect-job-data.js';
import { startS3Server } from './fixtures/s3-server.js';
import type { S3Server } from './fixtures/s3-server.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/inspect-job.ts');
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'];

let s3: S3Server;
let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-inspect-'));
  s3 = await startS3Server();
  cluster = await TestCluster.start({ taskManagers: 2, jm: s3.flags, tm: s3.flags });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Runs inspect-job detached on `backend`; resolves with its id once every record was processed. */
async function runJob(
  backend: 'hashmap' | 'level',
  extra: string[] = [],
  onSubmitted: (jobId: string) => Promise<void> = async () => {},
): Promise<string> {
  const gate = join(work, `gate-${backend}-${Date.now()}`);
  const before = cluster.taskManagers.map((tm) => tm.stdout().length);
  const run = await nimble([
    'run',
    '-d',
    '-m',
    cluster.address,
    '-D',
    `state.backend.type=${backend}`,
    '-D',
    `state.checkpoints.dir=file://${join(work, 'chk')}`,
    ...extra,
    JOB,
    gate,
  ]);
  expect(run.code, run.stderr).toBe(0);
  const jobId = /submitted with JobID (\S+)/.exec(run.stdout)?.[1];
  expect(jobId, run.stdout).toBeDefined();
  await onSubmitted(jobId!);
  // Every reader emitted its records: each user's last running total is printed. A savepoint's
  // barrier follows those records on every channel, so its state holds all of them.
  const finals = [...expectedTotals()].map(([u, t]) => `total ${u} ${t.count} ${t.sum}`);
  await cluster.waitFor(() => {
    const printed = cluster.taskManagers
      .flatMap((tm, i) => tm.stdout().slice(before[i]).split('\n'))
      .filter(Boolean);
    return finals.every((f) => printed.some((line) => line.endsWith(f)));
  }, 120_000);
  return jobId!;
}

async function stopWithSavepoint(jobId: string, target: string): Promise<string> {
  const stopped = await nimble(['stop', '-m', cluster.address, jobId, '--savepointPath', target]);
  expect(stopped.code, stopped.stderr).toBe(0);
  const path = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)?.[1];
  expect(path, stopped.stdout).toBeDefined();
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
    60_000,
  );
  return path!;
}

/** `nimble savepoint inspect <args>` with the cluster's S3 options. */
function inspect(args: string[]) {
  return nimble(['savepoint', 'inspect', ...args, ...s3.flags]);
}

interface Report {
  location: string;
  type: string;
  checkpointId: number;
  jobId: string;
  operators: {
    uid: string;
    name: string;
    parallelism: number;
    maxParallelism: number;
    keyGroups: { keyGroup: number; subtask: number; bytes: number }[];
    states: {
      name: string;
      kind: string;
      ttl: boolean;
      keys: number;
      entries: number;
      bytes: number;
    }[];
    timers: { eventTime: number; processingTime: number };
    sourceSplits: { subtask: number; split: unknown }[];
    pendingCommittables: unknown[];
    operatorStates: unknown[];
    coordinatorState: unknown;
  }[];
}

async function inspectJson(path: string): Promise<Report> {
  const result = await inspect([path, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

/** Windows of all users: each has an end-of-window timer. */
const WINDOW_COUNT = [...expectedWindows().values()].reduce((n, w) => n + w.size, 0);

/** What the listing of any savepoint or checkpoint of inspect-job must show. */
function expectJobState(report: Report, jobId: string): void {
  expect(report.jobId).toBe(jobId);
  const ops = new Map(report.operators.map((o) => [o.uid, o]));
  expect([...ops.keys()]).toEqual(expect.arrayContaining(['events', 'totals', 'windows']));
  for (const op of ops.values()) {
    expect([op.parallelism, op.maxParallelism]).toEqual([2, 128]);
  }
  const events = ops.get('events')!;
  expect(events.sourceSplits).toEqual([
    { subtask: 0, split: { splitId: '0', next: HELD_AFTER, end: SEQUENCE_LENGTH / 2 } },
    {
      subtask: 1,
      split: { splitId: '1', next: SEQUENCE_LENGTH / 2 + HELD_AFTER, end: SEQUENCE_LENGTH },
    },
  ]);
  expect(events.coordinatorState).toEqual([]);
  expect(events.keyGroups).toEqual([]);

  const totals = ops.get('totals')!;
  expect(totals.states.map((s) => [s.name, s.kind, s.ttl, s.keys, s.entries])).toEqual([
    ['total', 'value', false, 5, 5],
  ]);
  expect(totals.timers).toEqual({ eventTime: 0, processingTime: 0 });
  expect(totals.keyGroups.length).toBeGreaterThan(0);
  expect(totals.keyGroups.length).toBeLessThanOrEqual(5);

  const windows = ops.get('windows')!;
  expect(windows.states.map((s) => [s.name, s.kind, s.ttl, s.keys, s.entries])).toEqual([
    ['window-accumulators', 'value', false, 5, 5],
  ]);
  // One end-of-window timer per key and window: no watermark came, none fired.
  expect(windows.timers).toEqual({ eventTime: WINDOW_COUNT, processingTime: 0 });
}

/** Checks `--key` and `--dump` against the expected state. */
async function expectKeysAndDump(path: string): Promise<void> {
  const totals = expectedTotals();
  const one = await inspect([path, '--state', 'total', '--key', 'u3']);
  expect(one.code, one.stderr).toBe(0);
  expect(JSON.parse(one.stdout)).toEqual(totals.get('u3'));

  const missing = await inspect([path, '--state', 'total', '--key', 'u9']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('Key "u9" has no value in state "total" of operator "totals"');
  const unknown = await inspect([path, '--state', 'totl', '--key', 'u3']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('No operator has a keyed state named "totl"');

  // The aligned window operator keeps one entry per key: [end, accumulator, end, ...] in the
  // order the key's windows opened (records of both sources interleave: not fixed).
  const output = join(work, `dump-${Date.now()}.jsonl`);
  const dumped = await inspect([
    path,
    '--dump',
    '--state',
    'window-accumulators',
    '--output',
    output,
  ]);
  expect(dumped.code, dumped.stderr).toBe(0);
  const lines = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { key: string; namespace: string; value: unknown[] });
  expect(lines.map((l) => [l.key, l.namespace]).sort()).toEqual(USERS.map((u) => [u, '']));
  const u2 = lines.find((l) => l.key === 'u2')!.value;
  const byEnd = new Map<number, unknown>();
  for (let i = 0; i < u2.length; i += 2) byEnd.set(u2[i] as number, u2[i + 1]);
  const expectedU2 = [...expectedWindows().get('u2')!].map(([start, acc]) => [start + 1000, acc]);
  expect([...byEnd].sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(expectedU2);

  const totalsDump = await inspect([path, '--dump', '--state', 'total']);
  expect(totalsDump.code, totalsDump.stderr).toBe(0);
  const byKey = totalsDump.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { key: string; namespace: string; value: unknown })
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  expect(byKey).toEqual(USERS.map((u) => ({ key: u, namespace: '', value: totals.get(u) })));
}

describe('nimble savepoint inspect', () => {
  it('lists, looks up and dumps a savepoint of a hashmap job', async () => {
    const jobId = await runJob('hashmap');
    const path = await stopWithSavepoint(jobId, `file://${join(work, 'savepoints')}`);

    const text = await inspect([path]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Savepoint `);
    expect(text.stdout).toContain(` of job ${jobId}, taken `);
    expect(text.stdout).toContain(`Location: ${path}`);
    expect(text.stdout).toContain('Operator totals "');
    expect(text.stdout).toMatch(/\n {4}total +value +no +5 +5 +\d+\n/);
    expect(text.stdout).toMatch(/\n {4}window-accumulators +value +no +5 +5 +\d+\n/);
    expect(text.stdout).toContain(`  Timers: ${WINDOW_COUNT} event time, 0 processing time`);
    expect(text.stdout).toContain(
      `    subtask 0: {"splitId":"0","next":${HELD_AFTER},"end":${SEQUENCE_LENGTH / 2}}`,
    );
    const withGroups = await inspect([path, '--key-groups']);
    expect(withGroups.stdout).toMatch(/ {4}KEY GROUP +SUBTASK +BYTES +ENTRIES\n/);

    const report = await inspectJson(path);
    expect(report.type).toBe('SAVEPOINT');
    expect(report.location).toBe(path);
    expectJobState(report, jobId);
    await expectKeysAndDump(path);
  }, 240_000);

  it('reads a level savepoint on S3 and a retained incremental level checkpoint', async () => {
    // Checkpoints only when asked: the first while the job runs (level-full), the second after
    // every record (a level-delta on top of it), so the retained one is a chain whatever the
    // timing.
    const checkpoint = async (jobId: string): Promise<string> => {
      let path = '';
      await cluster.waitFor(async () => {
        const taken = await nimble(['checkpoint', '-m', cluster.address, jobId]);
        path = /Path: (\S+)/.exec(taken.stdout)?.[1] ?? '';
        return taken.code === 0;
      }, 60_000);
      return path;
    };
    const jobId = await runJob(
      'level',
      [
        '-D',
        'execution.checkpointing.interval=1 h',
        '-D',
        'state.backend.incremental=true',
        '-D',
        'execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION',
      ],
      async (id) => void (await checkpoint(id)),
    );
    const chkPath = await checkpoint(jobId);
    const saved = await nimble([
      'savepoint',
      '-m',
      cluster.address,
      jobId,
      `s3://${s3.bucket}/savepoints`,
    ]);
    expect(saved.code, saved.stderr).toBe(0);
    const s3Path = /Savepoint completed\. Path: (\S+)/.exec(saved.stdout)?.[1];
    expect(s3Path, saved.stdout).toMatch(new RegExp(`^s3://${s3.bucket}/savepoints/savepoint-`));
    const cancelled = await nimble(['cancel', '-m', cluster.address, jobId]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'CANCELED',
      60_000,
    );

    const report = await inspectJson(s3Path!);
    expect(report.type).toBe('SAVEPOINT');
    expectJobState(report, jobId);
    await expectKeysAndDump(s3Path!);

    // The retained checkpoint is a chain of level files, read as one state; the job's
    // checkpoint directory names its newest checkpoint.
    const metadata = JSON.parse(
      readFileSync(join(new URL(chkPath).pathname, '_metadata'), 'utf8'),
    ) as {
      operators: { uid: string; subtasks: { keyed?: { files: { kind: string }[] } }[] }[];
    };
    const chains = metadata.operators
      .find((o) => o.uid === 'windows')!
      .subtasks.map((s) => s.keyed?.files.map((f) => f.kind));
    expect(chains).toEqual([
      ['level-full', 'level-delta'],
      ['level-full', 'level-delta'],
    ]);
    const jobDir = `file://${join(work, 'chk', jobId)}`;
    const chk = await inspectJson(jobDir);
    expect(chk.location).toBe(chkPath);
    expect(chk.type).toBe('CHECKPOINT');
    expectJobState(chk, jobId);
    await expectKeysAndDump(jobDir);
  }, 240_000);

  it('names a missing or corrupted _metadata, and refuses bad options', async () => {
    const empty = join(work, 'empty');
    const none = await inspect([empty]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`file://${empty}/_metadata does not exist`);

    const corrupted = mkdtempSync(join(work, 'corrupted-'));
    writeFileSync(join(corrupted, '_metadata'), '{ not json');
    const bad = await inspect([corrupted]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`file://${corrupted}/_metadata is corrupted: not JSON`);

    const usage = await inspect([empty, '--key', 'u1']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--key needs --state <name>');
    const keyType = await inspect([empty, '--state', 's', '--key', 'x', '--key-type', 'number']);
    expect(keyType.code).toBe(2);
    expect(keyType.stderr).toContain('--key "x": not a finite number (--key-type number)');
    // Reading never creates anything.
    expect(existsSync(empty)).toBe(false);
  }, 60_000);
});

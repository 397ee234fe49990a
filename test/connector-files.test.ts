// The file connectors on real daemons, a real S3 server (moto) and DuckDB as the standard reader
// of the training set: a continuous FileSource into a Parquet FileSink bucketed by event time,
// exact through TaskManager SIGKILLs on file:// and s3://, through a savepoint taken at
// parallelism 2 and restored at 3, and through a corrupt Parquet input file that fails the job
// (naming the file) until it is replaced.
import { DuckDBInstance } from '@duckdb/node-api';
import type { FileStatus } from '@nimble/connector-files';
import { fileSystemFor, ParquetBulkFormat } from '@nimble/connector-files';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { completedCheckpoints, runningJobId, stopWithSavepoint } from './fixtures/failover.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';

const JOB = join(import.meta.dirname, 'fixtures', 'cluster-jobs', 'files-job.ts');
const T0 = Date.UTC(2026, 11, 3, 7);

let cluster: TestCluster;
let s3: S3Server;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-files-'));
  [cluster, s3] = await Promise.all([
    TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] }),
    startS3Server(),
  ]);
}, 180_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

interface Event {
  id: number;
  user: string | null;
  amount: number;
  ts: number;
}

/** Events `[from, from + n)`: every seventh user is null, one event per second from T0. */
function events(from: number, n: number): Event[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { id: i, user: i % 7 === 0 ? null : `u${i % 5}`, amount: i / 4, ts: T0 + i * 1000 };
  });
}

/** What the job writes for `events`: amounts doubled. */
function expected(from: number, n: number): Event[] {
  return events(from, n).map((e) => ({ ...e, amount: e.amount * 2 }));
}

const jsonLines = (es: Event[]) => es.map((e) => JSON.stringify(e)).join('\n') + '\n';

/** Writes a file atomically (a hidden name first), as a producer of input files should. */
function writeInput(dir: string, name: string, text: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.tmp`), text);
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
  }
}

/** The finished Parquet part files under `dir`, as DuckDB reads them (no in-progress file). */
async function trainingSet(dir: string): Promise<Event[]> {
  const finished = existsSync(dir)
    ? (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'))
    : [];
  if (finished.length === 0) return [];
  const rows = await duck(
    `select id, "user", amount, epoch_ms(ts) as ts from read_parquet('${dir}/**/*.parquet', hive_partitioning = false) order by id`,
  );
  return rows.map((r) => ({
    id: Number(r['id']),
    user: r['user'] as string | null,
    amount: r['amount'] as number,
    ts: Number(r['ts']),
  }));
}

async function submit(args: string[], options: string[] = [], waitRunning = true): Promise<string> {
  const r = await nimble([
    'run',
    '-d',
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=500',
    '-D',
    `state.checkpoints.dir=file://${join(work, 'chk')}`,
    ...options,
    JOB,
    ...args,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!jobId) throw new Error(`no job id in: ${r.stdout}\n${r.stderr}`);
  cleanups.push(async () => {
    const terminal = ['FINISHED', 'FAILED', 'CANCELED'];
    if (terminal.includes((await cluster.rest(`/jobs/${jobId}`)).state)) return;
    await nimble(['cancel', '-m', cluster.address, jobId]);
    await cluster.waitFor(async () =>
      terminal.includes((await cluster.rest(`/jobs/${jobId}`)).state),
    );
  });
  if (waitRunning) {
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
      60_000,
    );
  }
  return jobId;
}

const latest = (jobId: string) => Math.max(0, ...completedCheckpoints(join(work, 'chk'), jobId));

/** Kills (SIGKILL) a TaskManager that runs the job, starts a fresh one, waits for RUNNING. */
async function killBusyTaskManager(jobId: string): Promise<void> {
  const busy = (
    (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
  ).find((tm) => tm.freeSlots === 0);
  const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
  if (!victim) throw new Error('no TaskManager runs the job');
  victim.child.kill('SIGKILL');
  await cluster.addTaskManager();
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
    120_000,
  );
}

/** Waits until `read` returns `n` rows, then for two more checkpoints, so extra rows would show. */
async function settle<T>(jobId: string, read: () => Promise<T[]>, n: number): Promise<T[]> {
  await cluster.waitFor(async () => (await read()).length >= n, 120_000);
  const done = latest(jobId);
  await cluster.waitFor(() => latest(jobId) >= done + 2, 60_000);
  return read();
}

/** Hidden in-progress part files under `dir`. */
function inProgress(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    f.includes('.inprogress.'),
  );
}

describe('FileSource and FileSink on a cluster', () => {
  it('file://: a Parquet training set exact through TaskManager SIGKILLs, read by DuckDB', async () => {
    const input = join(work, 'in-local');
    const output = join(work, 'out-local');
    const per = 4000;
    writeInput(input, 'events-0.json', jsonLines(events(0, per)));
    const jobId = await submit(['--input', input, '--output', `file://${output}`]);
    for (let k = 1; k <= 2; k++) {
      const before = latest(jobId);
      await cluster.waitFor(() => latest(jobId) > before, 60_000);
      writeInput(input, `events-${k}.json`, jsonLines(events(k * per, per)));
      // Kill while data of the new file is in an in-progress part file, or right after a
      // checkpoint that made it pending.
      const written = latest(jobId);
      await cluster.waitFor(() => inProgress(output).length > 0 || latest(jobId) > written, 60_000);
      await killBusyTaskManager(jobId);
    }
    writeInput(input, 'events-3.json', jsonLines(events(3 * per, per)));
    const rows = await settle(jobId, () => trainingSet(output), 4 * per);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(2);
    expect(rows).toEqual(expected(0, 4 * per));
    // Bucketed by event time: one second per event from 07:00, so hours 07 to 11.
    const buckets = new Set(
      (readdirSync(output, { recursive: true }) as string[])
        .filter((f) => f.endsWith('.parquet'))
        .map((f) => f.split('/').slice(0, 2).join('/')),
    );
    expect([...buckets].sort()).toEqual(
      ['07', '08', '09', '10', '11'].map((h) => `dt=2026-12-03/hour=${h}`),
    );
  }, 300_000);

  it('s3://: a Parquet training set exact through a TaskManager SIGKILL', async () => {
    const bucketUrl = `${s3.endpoint}/${s3.bucket}`;
    const put = async (key: string, body: string) => {
      const r = await fetch(`${bucketUrl}/${key}`, { method: 'PUT', body });
      expect(r.ok).toBe(true);
    };
    const per = 3000;
    await put('in/events-0.json', jsonLines(events(0, per)));
    const base = `s3://${s3.bucket}/training`;
    const fs = fileSystemFor(base, s3.s3Options);
    const read = async (): Promise<Event[]> => {
      const out: Event[] = [];
      const files: FileStatus[] = await fs.listFiles(base);
      for (const f of files) {
        const rows = await ParquetBulkFormat.forColumns().read(fs, f, undefined, 0);
        for (const r of rows)
          out.push({ ...(r as unknown as Event), ts: (r['ts'] as Date).getTime() });
      }
      return out.sort((a, b) => a.id - b.id);
    };
    const jobId = await submit([
      '--input',
      `s3://${s3.bucket}/in`,
      '--output',
      base,
      '--s3-endpoint',
      s3.endpoint,
      '--s3-access-key',
      s3.accessKey,
      '--s3-secret-key',
      s3.secretKey,
    ]);
    const before = latest(jobId);
    await cluster.waitFor(() => latest(jobId) > before, 60_000);
    await put('in/events-1.json', jsonLines(events(per, per)));
    await killBusyTaskManager(jobId);
    await put('in/events-2.json', jsonLines(events(2 * per, per)));
    const rows = await settle(jobId, read, 3 * per);
    expect(rows).toEqual(expected(0, 3 * per));
    const names = (await fs.listFiles(base)).map((f) => f.path.slice(base.length + 1));
    for (const n of names) {
      expect(n).toMatch(/^dt=2026-12-03\/hour=0[789]\/part-[0-9a-f-]{36}-[01]-\d+\.parquet$/);
    }
    expect(new Set(names.map((n) => n.split('/')[1])).size).toBe(3);
  }, 300_000);

  it('a savepoint at parallelism 2 restored at 3: source positions and pending files carry over', async () => {
    const input = join(work, 'in-rescale');
    const output = join(work, 'out-rescale');
    const per = 20_000;
    for (let k = 0; k < 3; k++)
      writeInput(input, `events-${k}.json`, jsonLines(events(k * per, per)));
    const first = await submit([
      '--input',
      input,
      '--output',
      output,
      '--format',
      'json',
      '--parallelism',
      '2',
    ]);
    await cluster.waitFor(() => committedJson(output).length > 0, 60_000);
    const savepoint = await stopWithSavepoint(cluster, first, join(work, 'savepoints'));
    const afterStop = committedJson(output).length;
    expect(afterStop).toBeGreaterThan(0);
    await submit(
      ['--input', input, '--output', output, '--format', 'json', '--parallelism', '3'],
      ['-s', savepoint],
    );
    const second = await runningJobId(cluster, 'files-job');
    // Three new files, one for each of the three readers.
    for (let k = 3; k < 6; k++)
      writeInput(input, `events-${k}.json`, jsonLines(events(k * per, per)));
    const rows = await settle(second, () => Promise.resolve(committedJson(output)), 6 * per);
    expect(rows.length).toBe(6 * per);
    expect(rows.sort((a, b) => a.id - b.id)).toEqual(expected(0, 6 * per));
    // Subtask 2 exists only after the restore at parallelism 3.
    expect(
      (readdirSync(output, { recursive: true }) as string[]).some((f) =>
        /part-[0-9a-f-]{36}-2-\d+$/.test(f),
      ),
    ).toBe(true);
  }, 300_000);

  it('a corrupt Parquet input file fails the job naming the file; replaced, the job completes exactly', async () => {
    const input = join(work, 'in-corrupt');
    const output = join(work, 'out-corrupt');
    mkdirSync(input, { recursive: true });
    // Input written by a standard writer (DuckDB).
    const copy = (from: number, n: number, file: string) =>
      duck(
        `copy (select i::bigint as id, case when i % 7 = 0 then null else 'u' || (i % 5) end as "user", i / 4 as amount, make_timestamp(${T0 * 1000}::bigint + i * 1000000) as ts from range(${from}, ${from + n}) t(i)) to '${file}' (format parquet)`,
      );
    await copy(0, 2000, join(input, 'good.parquet'));
    writeFileSync(join(input, 'bad.parquet'), 'PAR1 not a parquet file PAR1');
    // The job fails and restarts until the file is replaced, however long that takes here: a
    // restart strategy with room for it (the job's own, over the cluster's 20 attempts).
    const jobId = await submit(
      ['--input', input, '--input-format', 'parquet', '--output', output],
      [
        '-D',
        'restart-strategy.fixed-delay.attempts=100000',
        '-D',
        'restart-strategy.fixed-delay.delay=300 ms',
      ],
      false,
    );
    const bad = join(input, 'bad.parquet');
    await cluster.waitFor(async () => {
      const ex = await cluster.rest(`/jobs/${jobId}/exceptions`);
      return JSON.stringify(ex).includes(`File '${bad}' is not a valid Parquet file`);
    }, 120_000);
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`))['num-restarts'] >= 1,
      60_000,
    );
    // Replaced (atomically) by a valid file: the restarted job reads it and loses nothing.
    await copy(2000, 1000, join(input, '.bad.tmp'));
    renameSync(join(input, '.bad.tmp'), bad);
    const rows = await settle(jobId, () => trainingSet(output), 3000);
    expect(rows).toEqual(expected(0, 3000));
  }, 300_000);
});

/** The rows of the finished JSON part files under `dir`. */
function committedJson(dir: string): Event[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /(^|\/)part-[^/]*$/.test(f))
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Event),
    );
}

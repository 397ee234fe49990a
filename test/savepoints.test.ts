// Savepoints with real daemons: stop with a savepoint and resume at another parallelism and on
// the other state backend with exact output; refusals for missing operators, a changed
// maxParallelism and a corrupted _metadata; checkpoints that fail on an unreachable S3 endpoint.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  committedOutput,
  EXACTLY_ONCE_JOB as JOB,
  expectedOutput,
} from './fixtures/exactly-once-output.js';
import { nimble, TestCluster } from './fixtures/cluster.js';

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-sp-'));
  cluster = await TestCluster.start({ taskManagers: 3 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function runningJobId(): Promise<string> {
  let jobId = '';
  await cluster.waitFor(async () => {
    const jobs = (await cluster.rest('/jobs/overview')).jobs as { jid: string; state: string }[];
    jobId = jobs.find((j) => j.state === 'RUNNING')?.jid ?? '';
    return jobId !== '';
  }, 60_000);
  return jobId;
}

/** Runs the job detached; resolves with its id once it runs. */
async function start(args: {
  parallelism: number;
  backend: 'hashmap' | 'level';
  out: string;
  events: number;
  savepoint?: string;
  variant?: string;
  extra?: string[];
}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return nimble([
    'run',
    '-d',
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=500',
    '-D',
    `state.checkpoints.dir=file://${join(work, 'chk')}`,
    '-D',
    `state.backend.type=${args.backend}`,
    ...(args.savepoint ? ['-s', args.savepoint] : []),
    ...(args.extra ?? []),
    JOB,
    String(args.events),
    '1500',
    String(args.parallelism),
    args.out,
    args.variant ?? '',
  ]);
}

async function stopWithSavepoint(jobId: string): Promise<string> {
  const stopped = await nimble([
    'stop',
    '-m',
    cluster.address,
    jobId,
    '--savepointPath',
    `file://${join(work, 'savepoints')}`,
  ]);
  expect(stopped.code, stopped.stderr).toBe(0);
  const path = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)?.[1];
  expect(path).toBeDefined();
  await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED');
  return path!;
}

describe('savepoints', () => {
  it('p=2 on hashmap -> stop with savepoint -> p=3 on level -> stop -> p=1 on hashmap: exact output', async () => {
    const out = join(work, 'out-rescale');
    const events = 30_000;
    const first = await start({ parallelism: 2, backend: 'hashmap', out, events });
    expect(first.code, first.stderr).toBe(0);
    let jobId = await runningJobId();
    await cluster.waitFor(() => committedOutput(out).length > 0, 30_000);
    const sp1 = await stopWithSavepoint(jobId);
    const afterFirst = committedOutput(out).length;
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(expectedOutput(events).length);

    const second = await start({ parallelism: 3, backend: 'level', out, events, savepoint: sp1 });
    expect(second.code, second.stderr).toBe(0);
    jobId = await runningJobId();
    await cluster.waitFor(() => committedOutput(out).length > afterFirst, 30_000);
    const sp2 = await stopWithSavepoint(jobId);

    const third = await start({ parallelism: 1, backend: 'hashmap', out, events, savepoint: sp2 });
    expect(third.code, third.stderr).toBe(0);
    jobId = await runningJobId();
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
      90_000,
    );
    expect(committedOutput(out)).toEqual(expectedOutput(events));
  }, 240_000);

  it('refuses state of an operator missing from the new job unless --allowNonRestoredState; refuses a changed maxParallelism; names a corrupted _metadata', async () => {
    const out = join(work, 'out-refusals');
    const first = await start({ parallelism: 2, backend: 'hashmap', out, events: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const jobId = await runningJobId();
    await cluster.waitFor(() => committedOutput(out).length > 0, 30_000);
    const sp = await stopWithSavepoint(jobId);

    const renamed = await start({
      parallelism: 2,
      backend: 'hashmap',
      out,
      events: 10,
      savepoint: sp,
      variant: 'renamed',
    });
    expect(renamed.code).toBe(1);
    expect(renamed.stderr).toContain('Cannot map checkpoint/savepoint state for operator counts');
    expect(renamed.stderr).toContain('--allow-non-restored-state');

    const maxp = await start({
      parallelism: 2,
      backend: 'hashmap',
      out,
      events: 10,
      savepoint: sp,
      variant: 'maxp64',
    });
    expect(maxp.code).toBe(1);
    expect(maxp.stderr).toMatch(/maximum parallelism of operator \S+ .* changed from 128 to 64/);

    const allowed = await start({
      parallelism: 2,
      backend: 'hashmap',
      out: join(work, 'out-allowed'),
      events: 100_000,
      savepoint: sp,
      variant: 'renamed',
      extra: [
        '--allowNonRestoredState',
        '-D',
        'execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION',
      ],
    });
    expect(allowed.code, allowed.stderr).toBe(0);
    const allowedId = await runningJobId();
    const retained = () =>
      existsSync(join(work, 'chk', allowedId))
        ? readdirSync(join(work, 'chk', allowedId)).filter((d) =>
            existsSync(join(work, 'chk', allowedId, d, '_metadata')),
          )
        : [];
    await cluster.waitFor(() => retained().length > 0, 30_000);
    const cancelled = await nimble(['cancel', '-m', cluster.address, allowedId]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    // RETAIN_ON_CANCELLATION: the latest checkpoint outlives the cancelled job. The JobManager
    // discards checkpoints before the job turns CANCELED, so from then on any discard would show.
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${allowedId}`)).state === 'CANCELED',
    );
    expect(retained().length).toBeGreaterThan(0);

    const metadata = join(new URL(sp).pathname, '_metadata');
    writeFileSync(metadata, '{ not json');
    const corrupted = await start({
      parallelism: 2,
      backend: 'hashmap',
      out,
      events: 10,
      savepoint: sp,
    });
    expect(corrupted.code).toBe(1);
    expect(corrupted.stderr).toContain(`${sp}/_metadata is corrupted`);
  }, 180_000);
});

describe('unreachable checkpoint storage', () => {
  it('an S3 endpoint that refuses connections fails the checkpoints, counts them, and the job runs to the end', async () => {
    const s3Cluster = await TestCluster.start({
      taskManagers: 2,
      jm: [
        '-D',
        's3.endpoint=http://127.0.0.1:9',
        '-D',
        's3.access-key=a',
        '-D',
        's3.secret-key=b',
      ],
      tm: [
        '-D',
        's3.endpoint=http://127.0.0.1:9',
        '-D',
        's3.access-key=a',
        '-D',
        's3.secret-key=b',
      ],
    });
    try {
      const out = join(work, 'out-s3-down');
      const run = await nimble([
        'run',
        '-m',
        s3Cluster.address,
        '-D',
        'execution.checkpointing.interval=300',
        '-D',
        'execution.checkpointing.tolerable-failed-checkpoints=1000',
        '-D',
        'state.checkpoints.dir=s3://nowhere/chk',
        JOB,
        '6000',
        '1500',
        '2',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(committedOutput(out)).toEqual(expectedOutput(6000));
      const jobs = (await s3Cluster.rest('/jobs/overview')).jobs as { jid: string }[];
      const metrics = await (await fetch(`${s3Cluster.restUrl}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(
          `nimble_jobmanager_job_numberOfFailedCheckpoints\\{job_id="${jobs[0]!.jid}"[^}]*\\} [1-9]`,
        ),
      );
      expect(s3Cluster.jobManager.stderr()).toContain('127.0.0.1:9');
    } finally {
      await s3Cluster.stop();
    }
  }, 120_000);
});

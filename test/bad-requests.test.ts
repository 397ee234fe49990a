/**
 * Requests a JobManager must refuse without harm, on real daemons: savepoints to directories
 * that cannot take them, request bodies and submissions over the limits, submissions with a bad
 * plan, and wrong methods. After each the daemons still serve and the job still runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobManagerClient } from '@nimble/client';
import { nimbleServices, NO_RETRY, RpcClient, RpcError, status } from '@nimble/proto';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TICKS_JOB = `${root}test/fixtures/unbounded-print-job.ts`;
const MB = 1024 * 1024;

let cluster: TestCluster;
let client: JobManagerClient;
let dir: string;
let jobId = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-bad-requests-'));
  cluster = await TestCluster.start({
    taskManagers: 1,
    jm: ['-D', 'rest.server.max-content-length=2mb', '-D', 'pekko.framesize=1mb'],
    tm: ['-D', 'pekko.framesize=1mb'],
  });
  client = new JobManagerClient(cluster.address);
  const run = await nimble(
    [
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=200',
      '-D',
      `state.checkpoints.dir=file://${join(dir, 'checkpoints')}`,
      TICKS_JOB,
    ],
    {},
  );
  expect(run.code, run.stderr).toBe(0);
  jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
  await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING');
}, 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: string) =>
  fetch(`${cluster.restUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

function vmRssBytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))!;
  return Number(line[1]) * 1024;
}

describe('savepoint targets', () => {
  it.each(['/proc/self', 'file:///proc/self/fd', '/sys/kernel', '/dev/shm/../null', 'ftp://x/y'])(
    'POST /jobs/:id/savepoints to %s: 400 naming the target, the job runs on',
    async (target) => {
      const res = await post(
        `/jobs/${jobId}/savepoints`,
        JSON.stringify({ 'target-directory': target }),
      );
      expect(res.status).toBe(400);
      const body = (await res.json()) as { errors: string[] };
      expect(body.errors[0]).toMatch(/target-directory/);
      expect(body.errors[0]).toMatch(/pseudo file system|Unsupported state storage URI/);
      expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');
    },
  );

  it('a symlink into /proc is refused too, and the gRPC call says why', async () => {
    const link = join(dir, 'to-proc');
    await import('node:fs').then((fs) => fs.symlinkSync('/proc/self', link));
    await expect(client.triggerSavepoint(jobId, `${link}/savepoints`)).rejects.toThrow(
      /refused: .*under \/proc, a kernel pseudo file system/,
    );
  });

  it('a directory that is not writable is refused', async () => {
    const locked = join(dir, 'locked');
    const fs = await import('node:fs');
    fs.mkdirSync(locked, { mode: 0o500 });
    // Root writes anywhere: a file where the directory should be stands in for it.
    fs.writeFileSync(join(dir, 'a-file'), '');
    for (const target of [join(locked, 'sp'), join(dir, 'a-file', 'sp')]) {
      if (process.getuid?.() === 0 && target.startsWith(locked)) continue;
      const res = await post(
        `/jobs/${jobId}/savepoints`,
        JSON.stringify({ 'target-directory': target }),
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: string[] }).errors[0]).toMatch(/not writable/);
    }
  });

  it('after the refusals a savepoint to a good directory completes and the job cancels', async () => {
    const path = await client.triggerSavepoint(jobId, `file://${join(dir, 'savepoints')}`);
    expect(readdirSync(fileURLToPath(path))).toContain('_metadata');
    const res = await fetch(`${cluster.restUrl}/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    expect(res.status).toBe(202);
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'CANCELED');
    await cluster.waitFor(async () => (await cluster.rest('/overview'))['slots-available'] === 1);
  });
});

describe('bounded requests', () => {
  it('a REST body over rest.server.max-content-length: 413 naming the key', async () => {
    const res = await post(
      `/jobs/${jobId}/savepoints`,
      JSON.stringify({ pad: 'x'.repeat(3 * MB) }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errors: string[] }).errors[0]).toMatch(
      /exceeds the limit of 2097152 bytes \(rest\.server\.max-content-length\)/,
    );
    expect((await cluster.rest('/overview'))['taskmanagers']).toBe(1);
  });

  it('a wrong method on a known path: 405 with Allow', async () => {
    const res = await fetch(`${cluster.restUrl}/jobs/${jobId}/savepoints`, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    const jobs = await fetch(`${cluster.restUrl}/jobs`, { method: 'DELETE' });
    expect(jobs.status).toBe(405);
    expect(jobs.headers.get('allow')).toBe('GET');
    expect((await fetch(`${cluster.restUrl}/nothing`, { method: 'DELETE' })).status).toBe(404);
  });

  it('a submission over the limit is refused and nothing is stored', async () => {
    const before = readdirSync(cluster.blobDir);
    await expect(
      client.submitJob({
        jobName: 'too-big',
        bundle: Buffer.alloc(3 * MB, 1),
        planJson: '{}',
        graphDigest: '',
      }),
    ).rejects.toThrow(
      /refused the job submission as too large \(bundle of 3145728 bytes; .*\)\. .*rest\.server\.max-content-length/,
    );
    expect(readdirSync(cluster.blobDir)).toEqual(before);
  });

  it('a TaskManager refuses a message over pekko.framesize and serves on', async () => {
    const tm = cluster.taskManagers[0]!;
    const rpc = new RpcClient(nimbleServices().TaskExecutor, `127.0.0.1:${tm.ready.rpcPort}`);
    try {
      const error = await rpc
        .call(rpc.raw.CancelTasks, { jobId: 'x'.repeat(2 * MB), attempt: 1 }, { retry: NO_RETRY })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(status.RESOURCE_EXHAUSTED);
      // Within the limit the same call is served (an unknown attempt is a no-op).
      await rpc.call(rpc.raw.CancelTasks, { jobId: 'x'.repeat(1000), attempt: 1 });
    } finally {
      rpc.close();
    }
    expect((await cluster.rest('/overview'))['taskmanagers']).toBe(1);
  });

  it('submissions with a bad plan leave no bundle on disk and no bytes in memory', async () => {
    const before = readdirSync(cluster.blobDir);
    const pid = cluster.jobManager.child.pid!;
    const rssBefore = vmRssBytes(pid);
    // 40 submissions of 1.5 MB each: 60 MB that the JobManager must not keep.
    for (let i = 0; i < 40; i++) {
      await expect(
        client.submitJob({
          jobName: 'bad-plan',
          bundle: Buffer.alloc(1.5 * MB, i + 1),
          planJson: '{',
          graphDigest: '',
        }),
      ).rejects.toThrow(/INVALID_ARGUMENT|plan/);
    }
    expect(readdirSync(cluster.blobDir)).toEqual(before);
    expect(vmRssBytes(pid) - rssBefore).toBeLessThan(50 * MB);
    expect((await cluster.rest('/overview'))['jobs-running']).toBe(0);
  });

  it('the job store is written whole, readable by the daemon user only', async () => {
    const run = await nimble(['run', '-d', '-m', cluster.address, TICKS_JOB]);
    expect(run.code, run.stderr).toBe(0);
    const id = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    const store = join(cluster.blobDir, 'jobs');
    expect(readdirSync(store)).toEqual([`${id}.json`]);
    expect(statSync(join(store, `${id}.json`)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(store, `${id}.json`), 'utf8')).jobId).toBe(id);
    await client.cancelJob(id);
    await cluster.waitFor(() => readdirSync(store).length === 0);
  });
});

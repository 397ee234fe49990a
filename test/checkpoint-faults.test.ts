/**
 * Checkpoints to storage that fails under a running job, on real daemons: a full disk and a
 * read-only one (a small tmpfs, when the test may mount one; a directory without write
 * permission otherwise). The failures name the error as the system reported it, the job runs on,
 * and no partial, empty or orphaned state file is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMetadata } from '@nimble/runtime';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const COUNT_JOB = `${root}test/fixtures/cluster-jobs/checkpointed-count-job.ts`;

let cluster: TestCluster;
let work: string;
let storage: string;
let mounted = false;

const mount = (...args: string[]) => spawnSync('mount', args, { stdio: 'ignore' }).status === 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-checkpoint-faults-'));
  storage = join(work, 'storage');
  mkdirSync(storage);
  // A 2 MB tmpfs fills up and turns read-only on demand. Without the right to mount, a directory
  // made unwritable stands in (as root, permissions would not stop a write).
  mounted = mount('-t', 'tmpfs', '-o', 'size=2m', 'nimble-test', storage);
  cluster = await TestCluster.start({
    taskManagers: 1,
    slots: 2,
    jm: ['-D', 'heartbeat.timeout=60 s'],
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (mounted) spawnSync('umount', [storage]);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/**
 * Files that belong to no completed checkpoint: outside a chk-N with _metadata and not a shared
 * file its _metadata names, or empty.
 */
function leftovers(jobDir: string): string[] {
  const complete = readdirSync(jobDir).filter((d) => existsSync(join(jobDir, d, '_metadata')));
  const shared = new Set<string>();
  for (const chk of complete) {
    const metadata = decodeMetadata(readFileSync(join(jobDir, chk, '_metadata')), chk);
    for (const op of metadata.operators)
      for (const st of op.subtasks)
        for (const f of st.keyed?.files ?? [])
          if (f.path.startsWith('../')) shared.add(f.path.slice(3));
  }
  return filesUnder(jobDir).filter((f) => {
    const [top] = f.split('/');
    const known = complete.includes(top!) || shared.has(f);
    return !known || statSync(join(jobDir, f)).size === 0;
  });
}

describe('checkpoints to failing storage', () => {
  it('fail naming the error, the job runs on, and nothing is left behind', async () => {
    const checkpoints = join(storage, 'checkpoints');
    const run = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      `state.checkpoints.dir=file://${checkpoints}`,
      '-D',
      'execution.checkpointing.interval=100',
      '-D',
      'execution.checkpointing.tolerable-failed-checkpoints=1000000',
      '-D',
      'execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION',
      '-D',
      'state.backend.type=level',
      '-D',
      'state.backend.incremental=true',
      COUNT_JOB,
      '100000000',
      '2000',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    const jobDir = join(checkpoints, jobId);
    const stats = () => cluster.rest(`/jobs/${jobId}/checkpoints`);
    await cluster.waitFor(async () => (await stats()).counts?.completed >= 2, 60_000);

    /** Waits for a checkpoint that fails after `since` failures; returns its message. */
    const nextFailure = async (since: number): Promise<string> => {
      let message = '';
      await cluster.waitFor(async () => {
        const s = await stats();
        message = s.latest?.failed?.failure_message ?? '';
        return s.counts.failed >= since + 3;
      }, 60_000);
      return message;
    };

    const expected: RegExp[] = [];
    if (mounted) {
      // Full: a filler takes every free block.
      const { bavail, bsize } = statfsSync(storage);
      try {
        writeFileSync(join(storage, 'filler'), Buffer.alloc(Number(bavail) * Number(bsize)));
      } catch {
        // The last blocks may not fit: full is what the test wants.
      }
      expect(await nextFailure((await stats()).counts.failed)).toMatch(
        /ENOSPC.*the storage is full/,
      );
      rmSync(join(storage, 'filler'));
      await cluster.waitFor(async () => (await stats()).latest?.completed?.id > 0, 60_000);
      // Read-only.
      // A file open for writing (a checkpoint being written) makes the remount fail with EBUSY:
      // it is tried again until it falls between two writes.
      await cluster.waitFor(() => mount('-o', 'remount,ro', storage), 60_000);
      expect(await nextFailure((await stats()).counts.failed)).toMatch(
        /EROFS.*the file system is read-only/,
      );
      expect(mount('-o', 'remount,rw', storage)).toBe(true);
      expected.push(/ENOSPC/, /EROFS/);
    } else {
      chmodSync(jobDir, 0o500);
      expect(await nextFailure((await stats()).counts.failed)).toMatch(/EACCES.*permission denied/);
      chmodSync(jobDir, 0o700);
    }
    // Writable again: checkpoints complete again and the job never stopped.
    const failed = (await stats()).counts.completed;
    await cluster.waitFor(async () => (await stats()).counts.completed > failed, 60_000);
    expect((await cluster.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');

    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'CANCELED');
    // The retained checkpoint stays; the aborted ones' files go, also those written late.
    let left: string[] = [];
    await cluster
      .waitFor(() => (left = leftovers(jobDir)).length === 0, 30_000)
      .catch(() => {
        throw new Error(`files of failed checkpoints left behind: ${left.join(', ')}`);
      });
    expect(readdirSync(jobDir).filter((d) => d.startsWith('chk-')).length).toBeGreaterThan(0);
    expect(expected.length === 2 || !mounted).toBe(true);
  }, 240_000);
});

describe('checkpoint storage that never answers', () => {
  it('fails checkpoints at state.storage.timeout; cancel and SIGTERM still work', async () => {
    // An "S3 endpoint" that accepts connections and never answers a request.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const s3 = [
      '-D',
      `s3.endpoint=http://127.0.0.1:${port}`,
      '-D',
      's3.access-key=a',
      '-D',
      's3.secret-key=b',
      '-D',
      's3.path.style.access=true',
      '-D',
      'state.storage.timeout=1 s',
    ];
    const hanging = await TestCluster.start({ taskManagers: 1, slots: 2, jm: s3, tm: s3 });
    try {
      const run = await nimble([
        'run',
        '-d',
        '-m',
        hanging.address,
        '-D',
        'state.checkpoints.dir=s3://silent/checkpoints',
        '-D',
        'state.storage.timeout=1 s',
        '-D',
        'execution.checkpointing.interval=200',
        '-D',
        'execution.checkpointing.tolerable-failed-checkpoints=1000000',
        COUNT_JOB,
        '100000000',
        '2000',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
      let stats: any;
      await hanging.waitFor(async () => {
        stats = await hanging.rest(`/jobs/${jobId}/checkpoints`);
        return stats.counts?.failed >= 2;
      }, 60_000);
      expect(stats.latest.failed.failure_message).toMatch(
        /no answer within 1000 ms \(state\.storage\.timeout\)/,
      );
      expect((await hanging.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');
      // A savepoint to the silent store fails in time too, and the job runs on.
      const savepoint = await nimble(['savepoint', '-m', hanging.address, jobId, 's3://silent/sp']);
      expect(savepoint.code).not.toBe(0);
      expect(savepoint.stderr).toMatch(/state\.storage\.timeout/);
      expect((await hanging.rest(`/jobs/${jobId}`)).state).toBe('RUNNING');

      await hanging.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
      await hanging.waitFor(
        async () => (await hanging.rest(`/jobs/${jobId}`)).state === 'CANCELED',
        60_000,
      );
      await hanging.waitFor(async () => (await hanging.rest('/overview'))['slots-available'] === 2);
      const tm = hanging.taskManagers[0]!.child;
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        tm.once('exit', (code, signal) => resolve(signal ?? code)),
      );
      tm.kill('SIGTERM');
      // stopDaemon would SIGKILL after 10 s: the TaskManager must end on SIGTERM by itself.
      expect(await exited).not.toBe('SIGKILL');
    } finally {
      await hanging.stop();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 180_000);
});

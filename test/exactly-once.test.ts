// Exactly-once state with real daemons: TaskManagers killed with SIGKILL mid-run, the job
// restored from its latest checkpoint each time, and the committed output equal to the
// failure-free output line for line.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { Daemon } from './fixtures/cluster.js';
import {
  committedOutput,
  EXACTLY_ONCE_JOB as JOB,
  expectedOutput,
} from './fixtures/exactly-once-output.js';
import { FAST_RESTARTS, nimble, startDaemon, stopDaemon, TestCluster } from './fixtures/cluster.js';
import { startS3Server } from './fixtures/s3-server.js';
import {
  completedCheckpoints,
  killTaskManagersAfterCheckpoints,
  runningJobId,
} from './fixtures/failover.js';

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-eo-'));
  cluster = await TestCluster.start({
    taskManagers: 3,
    jm: [...FAST_RESTARTS],
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('executeAndCollect', () => {
  it('returns the failure-free result after TaskManagers are killed and the job restored', async () => {
    const out = join(work, 'out-collect');
    const chk = join(work, 'chk-collect');
    const events = 12_000;
    const run = nimble([
      'run',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${chk}`,
      JOB,
      String(events),
      '1500',
      '2',
      out,
      'collect',
    ]);
    const jobId = await runningJobId(cluster, 'exactly-once-job');
    expect(await killTaskManagersAfterCheckpoints(cluster, chk, jobId, 2)).toBe(2);
    const result = await run;
    expect(result.stderr).toContain('RESTARTING');
    expect(result.code).toBe(0);
    const actual = committedOutput(out);
    const expected = expectedOutput(events);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);
  }, 180_000);
});

describe.each(['hashmap', 'level'] as const)('exactly-once state on %s', (backend) => {
  it('TaskManagers killed with SIGKILL three times: the committed output equals the failure-free run', async () => {
    const out = join(work, `out-${backend}`);
    const chk = join(work, `chk-${backend}`);
    const events = 24_000;
    const run = nimble([
      'run',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${chk}`,
      '-D',
      `state.backend.type=${backend}`,
      '-D',
      'state.backend.incremental=true',
      JOB,
      String(events),
      '1500',
      '2',
      out,
    ]);
    const jobId = await runningJobId(cluster, 'exactly-once-job');
    await killTaskManagersAfterCheckpoints(cluster, chk, jobId, 3);
    const result = await run;
    expect(result.stderr).toContain('RESTARTING');
    expect(result.code).toBe(0);
    const details = await cluster.rest(`/jobs/${jobId}`);
    expect(details['num-restarts']).toBeGreaterThanOrEqual(3);
    const actual = committedOutput(out);
    const expected = expectedOutput(events);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);
    // A finished job's checkpoints are discarded, shared incremental files with them.
    // The JobManager discards the checkpoints after the job reports FINISHED, once its tasks
    // are torn down: on a loaded machine that can take more than a few seconds.
    await cluster.waitFor(() => completedCheckpoints(chk, jobId).length === 0, 60_000);
    const shared = join(chk, jobId, 'shared');
    expect(existsSync(shared) ? readdirSync(shared) : []).toEqual([]);
  }, 180_000);
});

/** A free loopback port (the restarted JobManager must listen where the first one did). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

describe('JobManager failover', () => {
  it.each([
    ['recovers the job from its latest checkpoint; the output is exact', ''],
    [
      'with the newest _metadata corrupted, names it and falls back to the checkpoint before; nothing is lost',
      'metadata',
    ],
    [
      "with the newest checkpoint's state files corrupted, the restore names them and recovery falls back; nothing is lost",
      'state',
    ],
  ])(
    'a JobManager killed with SIGKILL and restarted %s',
    async (_title, corrupt) => {
      const [rpc, rest] = [await freePort(), await freePort()];
      const blobs = join(work, `jm-blobs-${corrupt}`);
      const chk = join(work, `chk-jm-${corrupt}`);
      const out = join(work, `out-jm-${corrupt}`);
      const jmArgs = [
        'jobmanager',
        '-D',
        `jobmanager.rpc.port=${rpc}`,
        '-D',
        `rest.port=${rest}`,
        '-D',
        `blob.storage.directory=${blobs}`,
        ...FAST_RESTARTS,
      ];
      const tmArgs = [
        'taskmanager',
        '-D',
        `jobmanager.rpc.port=${rpc}`,
        '-D',
        'taskmanager.rpc.port=0',
        '-D',
        'metrics.reporter.prom.port=0',
      ];
      let jm: Daemon = await startDaemon(jmArgs);
      const tms = [await startDaemon(tmArgs), await startDaemon(tmArgs)];
      const restGet = async (path: string) =>
        (await fetch(`http://127.0.0.1:${rest}${path}`)).json() as Promise<any>;
      const until = async (condition: () => Promise<boolean>, ms = 60_000) => {
        const deadline = Date.now() + ms;
        while (!(await condition().catch(() => false))) {
          if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      try {
        const events = 20_000;
        const submitted = await nimble([
          'run',
          '-d',
          '-m',
          `127.0.0.1:${rpc}`,
          '-D',
          'execution.checkpointing.interval=300',
          '-D',
          `state.checkpoints.dir=file://${chk}`,
          '-D',
          'state.checkpoints.num-retained=2',
          JOB,
          String(events),
          '1500',
          '2',
          out,
        ]);
        expect(submitted.code).toBe(0);
        const jobId = /JobID ([0-9a-f]{32})/.exec(submitted.stdout)![1]!;
        await until(
          async () =>
            completedCheckpoints(chk, jobId).length > 0 && committedOutput(out).length > 0,
        );
        await until(async () => completedCheckpoints(chk, jobId).length >= 2);
        await stopDaemon(jm, 'SIGKILL');
        const committedBefore = committedOutput(out).length;
        // The newest checkpoint is unreadable: recovery names it and falls back to the one before.
        const newest = Math.max(...completedCheckpoints(chk, jobId));
        const newestDir = join(chk, jobId, `chk-${newest}`);
        if (corrupt === 'metadata') writeFileSync(join(newestDir, '_metadata'), 'garbage');
        if (corrupt === 'state') {
          for (const f of readdirSync(newestDir).filter((f) => f !== '_metadata')) {
            const bytes = readFileSync(join(newestDir, f));
            writeFileSync(join(newestDir, f), Buffer.alloc(bytes.length, 0xff));
          }
        }
        jm = await startDaemon(jmArgs);
        await until(async () => (await restGet(`/jobs/${jobId}`)).state === 'FINISHED', 90_000);
        expect(committedBefore).toBeLessThan(expectedOutput(events).length);
        expect(jm.stderr()).toContain('job recovered');
        if (corrupt) {
          if (corrupt === 'metadata') {
            expect(jm.stderr()).toContain(`chk-${newest}/_metadata is corrupted`);
          } else {
            const exceptions = await restGet(`/jobs/${jobId}/exceptions`);
            expect(JSON.stringify(exceptions)).toMatch(
              new RegExp(`State file file://${newestDir}/\\S+ is corrupted`),
            );
            expect(jm.stderr()).toContain('falling back to the previous one');
          }
          // The sinks had committed checkpoint `newest`: replaying from the one before repeats
          // what it committed (as in Flink), but loses nothing.
          expect([...new Set(committedOutput(out))].sort()).toEqual(expectedOutput(events));
        } else {
          expect(committedOutput(out)).toEqual(expectedOutput(events));
        }
      } finally {
        await Promise.all(tms.map((t) => stopDaemon(t)));
        await stopDaemon(jm);
      }
    },
    180_000,
  );
});

describe('s3:// checkpoints on a real S3-protocol server', () => {
  it('incremental level checkpoints in S3: a TaskManager killed with SIGKILL, exact output', async () => {
    const s3 = await startS3Server();
    const s3Flags = s3.flags;
    const s3Cluster = await TestCluster.start({
      taskManagers: 3,
      jm: [
        ...s3Flags,
        '-D',
        'restart-strategy.type=fixed-delay',
        '-D',
        'restart-strategy.fixed-delay.delay=200 ms',
      ],
      tm: s3Flags,
    });
    try {
      const out = join(work, 'out-s3');
      // The source holds its input open until the gate file exists: the test opens it once it
      // has seen two checkpoints and killed a TaskManager, so the job cannot finish first.
      const gate = join(work, 'gate-s3');
      const events = 15_000;
      const run = nimble([
        'run',
        '-m',
        s3Cluster.address,
        '-D',
        'execution.checkpointing.interval=300',
        '-D',
        `state.checkpoints.dir=s3://${s3.bucket}/checkpoints`,
        '-D',
        'state.backend.type=level',
        '-D',
        'state.backend.incremental=true',
        JOB,
        String(events),
        '1500',
        '2',
        out,
        `gate=${gate}`,
      ]);
      let jobId = '';
      await s3Cluster.waitFor(async () => {
        const jobs = (await s3Cluster.rest('/jobs/overview')).jobs as {
          jid: string;
          state: string;
        }[];
        jobId = jobs.find((j) => j.state === 'RUNNING')?.jid ?? '';
        return (
          jobId !== '' && (await s3Cluster.rest(`/jobs/${jobId}/checkpoints`)).counts?.completed > 1
        );
      }, 60_000);
      const checkpoints = await s3Cluster.rest(`/jobs/${jobId}/checkpoints`);
      expect(checkpoints.latest.completed.external_path).toMatch(
        new RegExp(`^s3://${s3.bucket}/checkpoints/${jobId}/chk-\\d+$`),
      );
      const busy = (
        (await s3Cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
      ).find((tm) => tm.freeSlots === 0)!;
      s3Cluster.taskManagers.find((tm) => tm.ready.resourceId === busy.id)!.child.kill('SIGKILL');
      await s3Cluster.waitFor(
        async () => (await s3Cluster.rest(`/jobs/${jobId}`))['num-restarts'] >= 1,
        60_000,
      );
      writeFileSync(gate, '');
      const result = await run;
      expect(result.stderr).toContain('RESTARTING');
      expect(result.code).toBe(0);
      expect(committedOutput(out)).toEqual(expectedOutput(events));
    } finally {
      await s3Cluster.stop();
      await s3.stop();
    }
  }, 180_000);
});

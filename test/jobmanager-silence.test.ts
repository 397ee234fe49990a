/**
 * A JobManager that stops answering (SIGSTOP) past heartbeat.timeout, on real daemons: the
 * TaskManager stops its tasks while the JobManager is silent, as Flink's TaskExecutor does, rather
 * than running them on until the connection comes back; after SIGCONT it registers again and the
 * job runs again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TICKS_JOB = `${root}test/fixtures/unbounded-print-job.ts`;
const HEARTBEAT = ['-D', 'heartbeat.interval=300', '-D', 'heartbeat.timeout=3 s'];

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    taskManagers: 1,
    jm: [
      ...HEARTBEAT,
      '-D',
      'restart-strategy.type=fixed-delay',
      '-D',
      'restart-strategy.fixed-delay.attempts=100',
      '-D',
      'restart-strategy.fixed-delay.delay=200 ms',
    ],
    tm: HEARTBEAT,
  });
}, 60_000);

afterAll(async () => {
  cluster?.jobManager.child.kill('SIGCONT');
  await cluster?.stop();
});

describe('a JobManager stopped past heartbeat.timeout', () => {
  it('makes the TaskManager cancel its tasks while it is silent, and the job runs again after SIGCONT', async () => {
    const run = await nimble(['run', '-d', '-m', cluster.address, TICKS_JOB]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    await cluster.waitFor(async () => {
      const job = await cluster.rest(`/jobs/${jobId}`);
      return job.state === 'RUNNING' && job['status-counts'].running === 1;
    }, 60_000);
    const tm = cluster.taskManagers[0]!;
    cluster.jobManager.child.kill('SIGSTOP');
    try {
      // Read from the TaskManager's own log: the JobManager cannot answer anything now.
      await cluster.waitFor(() => /lost the JobManager/.test(tm.stderr()), 60_000);
      const line = tm
        .stderr()
        .split('\n')
        .find((l) => /lost the JobManager/.test(l))!;
      expect(line).toMatch(/no answer to its heartbeats for \d+ ms \(heartbeat.timeout 3000 ms\)/);
      await cluster.waitFor(() => /"msg":"released"/.test(tm.stderr()), 60_000);
    } finally {
      cluster.jobManager.child.kill('SIGCONT');
    }
    await cluster.waitFor(async () => {
      const job = await cluster.rest(`/jobs/${jobId}`);
      return job.state === 'RUNNING' && job['status-counts'].running === 1;
    }, 120_000);
    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
  }, 240_000);
});

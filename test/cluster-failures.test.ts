import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nimble, TestCluster } from './fixtures/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    taskManagers: 2,
    jm: [
      '-D',
      'heartbeat.interval=300 ms',
      '-D',
      'heartbeat.timeout=2 s',
      '-D',
      'restart-strategy.type=fixed-delay',
      '-D',
      'restart-strategy.fixed-delay.delay=100 ms',
    ],
    tm: ['-D', 'heartbeat.interval=300 ms', '-D', 'heartbeat.timeout=2 s'],
  });
}, 60_000);

afterAll(async () => {
  for (const tm of cluster?.taskManagers ?? []) tm.child.kill('SIGCONT');
  await cluster?.stop();
});

it('an exception in a task restarts the job under the restart strategy', async () => {
  const job = fileURLToPath(new URL('./fixtures/cluster-jobs/fail-once-job.ts', import.meta.url));
  const run = await nimble(['run', '-m', cluster.address, job]);
  expect(run.stderr).toContain('RESTARTING: restarting in 100 ms after:');
  expect(run.stderr).toContain('boom at element 1000');
  expect(run.code).toBe(0);
  expect(JSON.parse(/RESULT (.*)/.exec(run.stdout)![1]!)).toEqual({ k0: 2000, k1: 2000 });
  const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
  expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBe(1);
});

it('a silent TaskManager is lost after heartbeat.timeout, and registers again when it wakes', async () => {
  const tm = cluster.taskManagers[1]!;
  tm.child.kill('SIGSTOP');
  const stopped = Date.now();
  await cluster.waitFor(async () => (await cluster.rest('/overview')).taskmanagers === 1, 60_000);
  const lostAfter = Date.now() - stopped;
  expect(lostAfter).toBeGreaterThanOrEqual(1500);
  tm.child.kill('SIGCONT');
  await cluster.waitFor(async () => (await cluster.rest('/overview')).taskmanagers === 2, 60_000);
  expect(cluster.jobManager.stderr()).toContain('no heartbeat for');
});

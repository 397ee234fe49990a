/**
 * A TaskManager that stops answering (SIGSTOP) and comes back (SIGCONT), on real daemons: the
 * JobManager says what happened, and the TaskManager frees its slots before it registers again,
 * so the job's next deployment finds them free.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TICKS_JOB = `${root}test/fixtures/unbounded-print-job.ts`;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    taskManagers: 1,
    jm: [
      '-D',
      'heartbeat.interval=500',
      '-D',
      'heartbeat.timeout=60 s',
      '-D',
      'restart-strategy.type=fixed-delay',
      '-D',
      'restart-strategy.fixed-delay.attempts=100',
      '-D',
      'restart-strategy.fixed-delay.delay=200 ms',
    ],
    tm: ['-D', 'heartbeat.interval=500', '-D', 'heartbeat.timeout=60 s'],
  });
}, 60_000);

afterAll(async () => {
  for (const tm of cluster?.taskManagers ?? []) tm.child.kill('SIGCONT');
  await cluster?.stop();
});

describe('a TaskManager stopped past heartbeat.timeout', () => {
  it('is reported lost for its silence, and runs the job again after SIGCONT', async () => {
    const run = await nimble(['run', '-d', '-m', cluster.address, TICKS_JOB]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING');
    const tm = cluster.taskManagers[0]!;
    tm.child.kill('SIGSTOP');
    let exceptions: any;
    await cluster.waitFor(async () => {
      exceptions = await cluster.rest(`/jobs/${jobId}/exceptions`);
      return exceptions['root-exception'] !== null;
    }, 60_000);
    expect(exceptions['root-exception']).toMatch(
      /no heartbeat for \d+ ms, then its connection was dropped \(keepalive unanswered\)/,
    );
    expect(exceptions['root-exception']).not.toMatch(/closed its heartbeat stream/);
    tm.child.kill('SIGCONT');
    await cluster.waitFor(async () => {
      const job = await cluster.rest(`/jobs/${jobId}`);
      return job.state === 'RUNNING' && job['status-counts'].running === 1;
    }, 60_000);
    // One failure (the loss), no second one from a deployment into slots still held.
    const after = await cluster.rest(`/jobs/${jobId}/exceptions`);
    const messages = after.exceptionHistory.entries.map((e: any) => e.stacktrace as string);
    expect(messages, messages.join('\n')).toHaveLength(1);
    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
  }, 120_000);
});

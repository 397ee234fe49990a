import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { nimble, stopDaemon, TestCluster } from './fixtures/cluster.js';

const TICKS_JOB = fileURLToPath(new URL('./fixtures/unbounded-print-job.ts', import.meta.url));

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('a JobManager stopped with SIGTERM (Flink: SUSPENDED)', () => {
  it('suspends its jobs: the tasks stop, the job store keeps them, a following client is told', async () => {
    cluster = await TestCluster.start({ taskManagers: 1 });
    const c = cluster;
    const run = nimble(['run', '-m', c.address, TICKS_JOB]);
    let jobId = '';
    await c.waitFor(async () => {
      const jobs = (await c.rest('/jobs/overview')).jobs as { jid: string; state: string }[];
      jobId = jobs.find((j) => j.state === 'RUNNING')?.jid ?? '';
      return jobId !== '' && c.printed().length > 0;
    });
    await stopDaemon(c.jobManager, 'SIGTERM');
    expect(c.jobManager.child.exitCode).toBe(0);
    expect(c.jobManager.stderr()).toContain('"to":"SUSPENDED"');
    // Kept for the next JobManager on the same store (the compose test recovers it).
    expect(existsSync(join(c.blobDir, 'jobs', `${jobId}.json`))).toBe(true);
    const client = await run;
    expect(client.code).toBe(1);
    expect(client.stderr).toContain(
      `Job "unbounded-print" (${jobId}) was suspended: the JobManager shut down.`,
    );
    // The TaskManager stopped the job's tasks: its slot is free again and no tick follows.
    const printed = c.printed().length;
    await c.waitFor(() => c.taskManagers[0]!.stderr().includes('"msg":"released"'));
    expect(c.printed().length).toBeLessThanOrEqual(printed + 1);
  });
});

// Unaligned checkpoints on real daemons under full backpressure (a keyBy exchange into a sink
// that takes 1 ms per record, across two TaskManagers): the aligned checkpoint waits for the
// in-flight records to drain, the unaligned one persists them and completes at once; a
// TaskManager killed with SIGKILL after it restores from the unaligned checkpoint, replays the
// in-flight records, and the committed output equals the failure-free output exactly, also across
// a `nimble rescale` (which takes an aligned checkpoint first); a restore of the unaligned
// checkpoint at another parallelism is refused.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { committedOutput } from './fixtures/exactly-once-output.js';
import { runningJobId } from './fixtures/failover.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/unaligned-job.ts');
const EVENTS = 16_000;

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-unaligned-'));
  cluster = await TestCluster.start({
    taskManagers: 2,
    jm: [...FAST_RESTARTS, '-D', 'metrics.fetcher.update-interval=200'],
    tm: ['-D', 'metrics.fetcher.update-interval=200'],
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The failure-free output of the job, sorted. */
function expectedCounts(events: number): string[] {
  const counts = new Map<string, number>();
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const user = `u${i % 20}`;
    const n = (counts.get(user) ?? 0) + 1;
    counts.set(user, n);
    lines.push(`count ${user} ${n}`);
  }
  return lines.sort();
}

interface CheckpointDetails {
  id: number;
  status: string;
  is_unaligned: boolean;
  checkpoint_type: string;
  end_to_end_duration: number;
  persisted_data: number;
  tasks: Record<string, { persisted_data: number }>;
}

/** Starts the job (attached; the promise settles when `nimble run` ends) and waits for backpressure. */
async function startJob(name: string, unaligned: boolean) {
  const out = join(work, `out-${name}`);
  const gate = join(work, `gate-${name}`);
  const run = nimble([
    'run',
    '-m',
    cluster.address,
    '-D',
    // Only the checkpoints the test triggers.
    'execution.checkpointing.interval=3600000',
    '-D',
    `state.checkpoints.dir=file://${join(work, `chk-${name}`)}`,
    '-D',
    `execution.checkpointing.unaligned.enabled=${unaligned}`,
    JOB,
    String(EVENTS),
    '2',
    out,
    gate,
  ]);
  const jobId = await runningJobId(cluster, 'unaligned-job');
  // Records reach the slow sink: the source, far faster, has filled the channels' credit.
  await cluster.waitFor(async () => {
    const job = await cluster.rest(`/jobs/${jobId}`);
    const sink = (job.vertices as { metrics: Record<string, number> }[] | undefined)?.[1];
    return (sink?.metrics['read-records'] ?? 0) > 300;
  }, 120_000);
  return { run, jobId, out, gate };
}

/** Triggers a checkpoint through REST and returns its details once it completed. */
async function checkpoint(jobId: string): Promise<CheckpointDetails> {
  const before = (await cluster.rest(`/jobs/${jobId}/checkpoints`)).counts.completed as number;
  const trigger = await fetch(`${cluster.restUrl}/jobs/${jobId}/checkpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(trigger.status).toBe(202);
  let id = 0;
  await cluster.waitFor(async () => {
    const stats = await cluster.rest(`/jobs/${jobId}/checkpoints`);
    if (stats.counts.failed > 0) throw new Error(JSON.stringify(stats.latest.failed));
    id = stats.latest.completed?.id ?? 0;
    return stats.counts.completed > before;
  }, 120_000);
  return (await cluster.rest(`/jobs/${jobId}/checkpoints/details/${id}`)) as CheckpointDetails;
}

describe('unaligned checkpoints under full backpressure', () => {
  it('complete without the drain an aligned one waits for, and a SIGKILL restore from one is exact', async () => {
    const aligned = await startJob('aligned', false);
    const a = await checkpoint(aligned.jobId);
    expect(a.is_unaligned).toBe(false);
    expect(a.checkpoint_type).toBe('CHECKPOINT');
    expect(a.persisted_data).toBe(0);
    await cluster.rest(`/jobs/${aligned.jobId}?mode=cancel`, { method: 'PATCH' });
    await aligned.run;

    const job = await startJob('unaligned', true);
    const u = await checkpoint(job.jobId);
    expect(u.is_unaligned).toBe(true);
    expect(u.checkpoint_type).toBe('UNALIGNED_CHECKPOINT');
    // The in-flight buffers of the full channels were persisted, on the keyed side at least.
    expect(u.persisted_data).toBeGreaterThan(64 * 1024);
    expect(Object.values(u.tasks).some((t) => t.persisted_data > 0)).toBe(true);
    expect(u.end_to_end_duration).toBeLessThan(2_000);
    // The aligned one waited for thousands of records at 1 ms each.
    expect(a.end_to_end_duration).toBeGreaterThan(u.end_to_end_duration);
    console.log(
      `checkpoint under full backpressure: aligned ${a.end_to_end_duration} ms, ` +
        `unaligned ${u.end_to_end_duration} ms (${u.persisted_data} bytes in flight persisted)`,
    );

    // A copy of the checkpoint outlives the job (a finished job discards its checkpoints).
    const retained = join(work, 'retained');
    cpSync(join(work, 'chk-unaligned', job.jobId), retained, { recursive: true });

    cluster.taskManagers[0]!.child.kill('SIGKILL');
    await cluster.addTaskManager();
    await cluster.waitFor(async () => {
      const stats = await cluster.rest(`/jobs/${job.jobId}/checkpoints`);
      const details = await cluster.rest(`/jobs/${job.jobId}`);
      return stats.latest.restored?.id === u.id && details.state === 'RUNNING';
    }, 120_000);
    // A rescale takes an aligned checkpoint first, even when the job's are unaligned: the job
    // restores from it at the new parallelism, with nothing in flight to redistribute.
    const rescale = await nimble(['rescale', '-m', cluster.address, job.jobId, '-p', '1']);
    expect(rescale.stderr).toBe('');
    expect(rescale.code).toBe(0);
    const after = await cluster.rest(`/jobs/${job.jobId}/checkpoints`);
    const before = (await cluster.rest(
      `/jobs/${job.jobId}/checkpoints/details/${after.latest.restored.id}`,
    )) as CheckpointDetails;
    expect(before.id).toBeGreaterThan(u.id);
    expect(before.is_unaligned).toBe(false);
    expect(before.persisted_data).toBe(0);
    const rescaled = await cluster.rest(`/jobs/${job.jobId}`);
    expect(rescaled.state).toBe('RUNNING');
    expect((rescaled.vertices as { parallelism: number }[]).map((v) => v.parallelism)).toEqual([
      1, 1,
    ]);
    writeFileSync(job.gate, '');
    const result = await job.run;
    expect(result.stderr).toContain('RESTARTING');
    expect(result.code, result.stderr).toBe(0);
    const actual = committedOutput(job.out);
    const expected = expectedCounts(EVENTS);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);

    // Its in-flight data is not redistributed: a restore at another parallelism is refused.
    const checkpointDir = join(retained, `chk-${u.id}`);
    const refused = await nimble([
      'run',
      '-m',
      cluster.address,
      '-s',
      checkpointDir,
      JOB,
      String(EVENTS),
      '3',
      join(work, 'out-rescaled'),
      join(work, 'gate-rescaled'),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `Cannot restore ${checkpointDir} (checkpoint ${u.id}) at a changed parallelism: it is an ` +
        'unaligned checkpoint that holds in-flight data, and operator',
    );
    expect(refused.stderr).toContain(
      'take a savepoint there (savepoints are always aligned) and rescale from the savepoint.',
    );
  }, 240_000);
});

// The seed's delayed label join with real daemons: predictions interval-joined with labels that
// arrive up to 12 s later, checkpoints every 300 ms, TaskManagers killed with SIGKILL mid-run,
// and a stop with savepoint resumed at another parallelism: the committed output equals the
// failure-free output line for line, so the join's buffers and cleanup timers are restored
// exactly (and redistributed by key group on rescaling).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { expectedJoin } from './fixtures/cluster-jobs/delayed-labels.js';
import { committedOutput } from './fixtures/exactly-once-output.js';
import {
  completedCheckpoints,
  killTaskManagersAfterCheckpoints,
  runningJobId,
} from './fixtures/failover.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/interval-join-job.ts');
const JOB_NAME = 'interval-join-job';

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-ij-'));
  cluster = await TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** `nimble run` of the join job with checkpoints every 300 ms. */
function run(args: {
  backend: 'hashmap' | 'level';
  parallelism: number;
  predictions: number;
  out: string;
  chk: string;
  detached?: boolean;
  savepoint?: string;
  /** A file the predictions' end of input waits for. */
  gate?: string;
  /** Predictions per subtask after which they wait for the gate too. */
  holdAfter?: number;
}) {
  return nimble([
    'run',
    ...(args.detached ? ['-d'] : []),
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=300',
    '-D',
    `state.checkpoints.dir=file://${args.chk}`,
    '-D',
    `state.backend.type=${args.backend}`,
    '-D',
    'state.backend.incremental=true',
    ...(args.savepoint ? ['-s', args.savepoint] : []),
    JOB,
    String(args.predictions),
    '1000',
    String(args.parallelism),
    args.out,
    ...(args.gate ? [args.gate] : []),
    ...(args.holdAfter ? [String(args.holdAfter)] : []),
  ]);
}

describe.each(['hashmap', 'level'] as const)('interval join failover on %s', (backend) => {
  it('TaskManagers killed with SIGKILL three times: the committed output equals the failure-free run', async () => {
    const out = join(work, `out-${backend}`);
    const chk = join(work, `chk-${backend}`);
    const predictions = 16_000;
    // The predictions end only once the gate file exists, so the job cannot finish before the
    // third kill however slow the machine is.
    const gate = join(work, `gate-${backend}`);
    const job = run({ backend, parallelism: 2, predictions, out, chk, gate });
    const jobId = await runningJobId(cluster, JOB_NAME);
    const killed = await killTaskManagersAfterCheckpoints(cluster, chk, jobId, 3);
    writeFileSync(gate, '');
    const result = await job;
    expect(result.code, result.stderr).toBe(0);
    expect(killed).toBe(3);
    expect(result.stderr).toContain('RESTARTING');
    const details = await cluster.rest(`/jobs/${jobId}`);
    expect(details['num-restarts']).toBeGreaterThanOrEqual(3);
    const expected = expectedJoin(predictions);
    const actual = committedOutput(out);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);
    // The JobManager discards the checkpoints as the job turns FINISHED, without waiting for its
    // slots to be freed: wait for that event (the bound only ends a test that would hang).
    await cluster.waitFor(() => completedCheckpoints(chk, jobId).length === 0, 60_000);
  }, 480_000);
});

describe('interval join savepoint', () => {
  it('p=2 on hashmap -> stop with savepoint -> p=3 on level: exact output', async () => {
    const out = join(work, 'out-rescale');
    const chk = join(work, 'chk-rescale');
    const predictions = 20_000;
    // Each prediction subtask holds after 4000 predictions until the gate file exists: the stop
    // comes mid-stream however fast the machine is.
    const gate = join(work, 'gate-rescale');
    const first = await run({
      backend: 'hashmap',
      parallelism: 2,
      predictions,
      out,
      chk,
      detached: true,
      gate,
      holdAfter: 4000,
    });
    expect(first.code, first.stderr).toBe(0);
    let jobId = await runningJobId(cluster, JOB_NAME);
    // Stop once the join has committed output and holds buffered elements of both sides.
    await cluster.waitFor(() => committedOutput(out).length > 0, 120_000);
    const stopped = await nimble([
      'stop',
      '-m',
      cluster.address,
      jobId,
      '--savepointPath',
      `file://${join(work, 'savepoints')}`,
    ]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const savepoint = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)?.[1];
    expect(savepoint).toBeDefined();
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
      120_000,
    );
    const afterFirst = committedOutput(out).length;
    expect(afterFirst).toBeLessThan(expectedJoin(predictions).length);

    writeFileSync(gate, '');
    const second = await run({
      backend: 'level',
      parallelism: 3,
      predictions,
      out,
      chk,
      detached: true,
      savepoint,
      gate,
    });
    expect(second.code, second.stderr).toBe(0);
    jobId = await runningJobId(cluster, JOB_NAME);
    const vertices = (await cluster.rest(`/jobs/${jobId}`)).vertices as { parallelism: number }[];
    expect(vertices.map((v) => v.parallelism)).toContain(3);
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
      120_000,
    );
    expect(committedOutput(out)).toEqual(expectedJoin(predictions));
  }, 480_000);
});

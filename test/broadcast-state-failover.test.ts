// Broadcast state with real daemons, in the seed's model hot-reload (model versions broadcast to
// a keyed scoring function while purchases stream): TaskManagers killed with SIGKILL under
// checkpoints every 300 ms, and stop-with-savepoint restarts at other parallelisms. The job
// applies each model version by event time (packages/examples/src/model-scoring.ts), so its
// failure-free output is one well-defined set of lines whatever the interleaving of the two
// streams; the committed output must equal it exactly. A restored instance that lacked the
// broadcast state would score with no model (version 0) and show in the output.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { committedOutput } from './fixtures/exactly-once-output.js';
import { killTaskManagersAfterCheckpoints, runningJobId } from './fixtures/failover.js';
import {
  clusterJobOptions,
  expectedScores,
  MODEL_HOT_RELOAD_JOB as JOB,
  scoreLine,
} from './fixtures/model-scores.js';

const JOB_NAME = 'model-hot-reload-job';

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-broadcast-'));
  cluster = await TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The failure-free output of the job's arguments, sorted as committedOutput sorts. */
function expected(purchases: number, models: number): string[] {
  return expectedScores(clusterJobOptions(purchases, 0, models, 0))
    .map(scoreLine)
    .sort();
}

describe.each(['hashmap', 'level'] as const)('model hot-reload under failures on %s', (backend) => {
  it('TaskManagers killed with SIGKILL three times while versions and purchases stream: the committed output equals the failure-free run', async () => {
    const out = join(work, `out-${backend}`);
    const chk = join(work, `chk-${backend}`);
    // 40 versions at 4 per second arrive over the first 10 s of 16 s of purchases. The purchases
    // end only once the gate file exists, so the job cannot finish before the third kill however
    // slow the machine is.
    const [purchases, models] = [24_000, 40];
    const gate = join(work, `gate-${backend}`);
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
      String(purchases),
      '1500',
      String(models),
      '4',
      '2',
      out,
      gate,
    ]);
    const jobId = await runningJobId(cluster, JOB_NAME);
    expect(await killTaskManagersAfterCheckpoints(cluster, chk, jobId, 3)).toBe(3);
    writeFileSync(gate, '');
    const result = await run;
    expect(result.stderr).toContain('RESTARTING');
    expect(result.code, result.stderr).toBe(0);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(3);
    const actual = committedOutput(out);
    const wanted = expected(purchases, models);
    expect(actual.length).toBe(wanted.length);
    expect(actual).toEqual(wanted);
  }, 480_000);
});

describe('model hot-reload across savepoints', () => {
  /** Runs the job detached at `parallelism`, from `savepoint` if given; resolves with its id. */
  async function start(
    parallelism: number,
    backend: 'hashmap' | 'level',
    out: string,
    savepoint?: string,
  ): Promise<string> {
    const started = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${join(work, 'chk-savepoints')}`,
      '-D',
      `state.backend.type=${backend}`,
      ...(savepoint ? ['-s', savepoint] : []),
      JOB,
      String(PURCHASES),
      '1500',
      String(MODELS),
      '0',
      String(parallelism),
      out,
      gate(),
      String(HOLD_AFTER),
    ]);
    expect(started.code, started.stderr).toBe(0);
    return runningJobId(cluster, JOB_NAME);
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
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
      120_000,
    );
    return path!;
  }

  const PURCHASES = 30_000;
  const MODELS = 30;
  // Until the gate file exists, each purchase subtask stops after HOLD_AFTER purchases: the first
  // two runs are stopped mid-stream however fast the machine is, the last one runs to the end.
  const gate = (): string => join(work, 'gate-savepoints');
  const HOLD_AFTER = 3000;

  it('stop with savepoint at p=2, resume at p=3, stop, resume at p=1: every new instance scores with the restored versions', async () => {
    const out = join(work, 'out-savepoints');
    // The versions are unthrottled: all are broadcast before the first savepoint, so after a
    // restore they exist only in the restored broadcast state (the finished version source
    // sends nothing again).
    let jobId = await start(2, 'hashmap', out);
    await cluster.waitFor(() => committedOutput(out).length > 0, 120_000);
    const first = await stopWithSavepoint(jobId);
    const afterFirst = committedOutput(out).length;
    expect(afterFirst).toBeLessThan(PURCHASES);

    jobId = await start(3, 'level', out, first);
    await cluster.waitFor(() => committedOutput(out).length > afterFirst, 120_000);
    const second = await stopWithSavepoint(jobId);
    const afterSecond = committedOutput(out).length;
    expect(afterSecond).toBeLessThan(PURCHASES);

    writeFileSync(gate(), '');
    jobId = await start(1, 'hashmap', out, second);
    await cluster.waitFor(
      async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
      180_000,
    );
    const actual = committedOutput(out);
    expect(actual.filter((line) => line.includes(' v0 '))).toEqual([]);
    expect(actual).toEqual(expected(PURCHASES, MODELS));
  }, 600_000);
});

// Functions with their own checkpointed state (CheckpointedFunction) with real daemons: a
// batching function's buffer in operator list state and its lineage in union list state, and a
// counter's keyed state registered in initializeState, through TaskManagers killed with SIGKILL
// and through stop-with-savepoint and restarts at other parallelisms. The committed output must
// equal the failure-free output exactly. The functions read their settings from the job
// parameters, so these runs also show that the parameters reach the TaskManagers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedOutput, jobArgs } from './fixtures/checkpointed-function-output.js';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { committedOutput } from './fixtures/exactly-once-output.js';
import {
  killTaskManagersAfterCheckpoints,
  runningJobId,
  stopWithSavepoint,
} from './fixtures/failover.js';

const JOB_NAME = 'checkpointed-function-job';

let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-cf-'));
  cluster = await TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** `nimble run` of the job with checkpoints every 300 ms; `extra` goes before the job file. */
function run(
  backend: 'hashmap' | 'level',
  chk: string,
  args: Parameters<typeof jobArgs>[0],
  extra: string[] = [],
) {
  return nimble([
    'run',
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=300',
    '-D',
    `state.checkpoints.dir=file://${chk}`,
    '-D',
    `state.backend.type=${backend}`,
    ...extra,
    ...jobArgs(args),
  ]);
}

describe.each(['hashmap', 'level'] as const)('CheckpointedFunction state on %s', (backend) => {
  it('TaskManagers killed with SIGKILL three times: the committed output equals the failure-free run', async () => {
    const out = join(work, `out-${backend}`);
    const chk = join(work, `chk-${backend}`);
    const events = 21_000;
    const job = run(backend, chk, { events, rate: 1500, parallelism: 2, out, gen: 1 });
    const jobId = await runningJobId(cluster, JOB_NAME);
    await killTaskManagersAfterCheckpoints(cluster, chk, jobId, 3);
    const result = await job;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('RESTARTING');
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(3);
    const actual = committedOutput(out);
    const expected = expectedOutput(events, [2]);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);
  }, 180_000);
});

describe('CheckpointedFunction state on rescaling', () => {
  it('stop with savepoint, p=2 on hashmap -> p=3 on level -> p=1 on hashmap: split state spread once, union state everywhere', async () => {
    const out = join(work, 'out-rescale');
    const chk = join(work, 'chk-rescale');
    const savepoints = join(work, 'savepoints');
    const events = 30_000;
    const announced = (gen: number) =>
      committedOutput(out).filter((l) => l.startsWith(`announce g${gen}-`)).length;
    const generations: [number, 'hashmap' | 'level'][] = [
      [2, 'hashmap'],
      [3, 'level'],
      [1, 'hashmap'],
    ];
    let savepoint: string | undefined;
    for (let g = 1; g <= generations.length; g++) {
      const [parallelism, backend] = generations[g - 1]!;
      const submitted = await run(backend, chk, { events, rate: 1500, parallelism, out, gen: g }, [
        '-d',
        ...(savepoint ? ['-s', savepoint] : []),
      ]);
      expect(submitted.code, submitted.stderr).toBe(0);
      const jobId = await runningJobId(cluster, JOB_NAME);
      if (g < generations.length) {
        // Every instance has announced itself (and so holds its id in its lineage) before the stop.
        await cluster.waitFor(() => announced(g) === parallelism, 60_000);
        savepoint = await stopWithSavepoint(cluster, jobId, savepoints);
      } else {
        await cluster.waitFor(
          async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
          90_000,
        );
      }
    }
    const actual = committedOutput(out);
    // Each run stopped before the end: the last one restored and finished the sequence.
    expect(actual.filter((l) => l.startsWith('item ')).length).toBe(events);
    expect(actual).toEqual(expectedOutput(events, [2, 3, 1]));
  }, 240_000);
});

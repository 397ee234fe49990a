/**
 * Rescale benchmark on real daemons: a JobManager in reactive mode
 * (jobmanager.adaptive-scheduler.resource-stabilization-timeout as given) runs a keyed job with
 * state (bench/jobs/rescale-job.ts, 100k keys, checkpoints every second to local disk).
 *
 * 1. Scale up: a second TaskManager process starts; the time from its start, and from its
 *    registration, to the job RUNNING at parallelism 2 (the stabilization timeout included).
 *    Then it is SIGKILLed and the job comes back at 1 (a failover, timed too).
 * 2. Manual: `rescale -p 2` / `-p 1` through the client with two TaskManagers up, each timed
 *    from the call to the job running at the new parallelism (checkpoint, cancel, deploy).
 *
 *   pnpm bench:rescale [-- --rounds 3 --stabilization "1 s" --keys 100000 --rate 20000]
 */
import { JobManagerClient } from '@nimble/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nimble, TestCluster } from '../test/fixtures/cluster.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rounds: { type: 'string', default: '3' },
    stabilization: { type: 'string', default: '1 s' },
    keys: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '20000' },
  },
});
const rounds = Number(args.rounds);
const JOB = join(import.meta.dirname, 'jobs/rescale-job.ts');
const work = mkdtempSync(join(tmpdir(), 'nimble-rescale-bench-'));
const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`;

const cluster = await TestCluster.start({
  taskManagers: 1,
  jm: [
    '-D',
    'scheduler-mode=reactive',
    '-D',
    `jobmanager.adaptive-scheduler.resource-stabilization-timeout=${args.stabilization}`,
    '-D',
    'restart-strategy.type=fixed-delay',
    '-D',
    'restart-strategy.fixed-delay.attempts=100',
    '-D',
    'restart-strategy.fixed-delay.delay=200 ms',
  ],
});
const client = new JobManagerClient(cluster.address);
try {
  const run = await nimble([
    'run',
    '-d',
    '-m',
    cluster.address,
    '-D',
    'execution.checkpointing.interval=1000',
    '-D',
    `state.checkpoints.dir=file://${join(work, 'chk')}`,
    JOB,
    args.keys,
    args.rate,
  ]);
  const jobId = /JobID ([0-9a-f]+)/.exec(run.stdout)?.[1];
  if (!jobId) throw new Error(`the job did not start: ${run.stdout}${run.stderr}`);

  const runsAt = async (p: number) => {
    await cluster.waitFor(async () => {
      const j = await client.getJob(jobId);
      return j.state === 'RUNNING' && j.vertices.every((v) => v.parallelism === p);
    }, 300_000);
  };
  const checkpoints = async () =>
    ((await cluster.rest(`/jobs/${jobId}/checkpoints`)).counts?.completed as number) ?? 0;
  const afterCheckpoints = async (n: number) => {
    const from = await checkpoints();
    await cluster.waitFor(async () => (await checkpoints()) >= from + n, 300_000);
  };
  await runsAt(1);
  await afterCheckpoints(3); // every key has state by now

  const fromStart: number[] = [];
  const fromRegistration: number[] = [];
  const failover: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    const tm = await cluster.addTaskManager(); // resolves once the JobManager lists it
    const registered = performance.now();
    await runsAt(2);
    fromStart.push(performance.now() - started);
    fromRegistration.push(performance.now() - registered);
    await afterCheckpoints(2);
    const killed = performance.now();
    tm.child.kill('SIGKILL');
    await runsAt(1);
    failover.push(performance.now() - killed);
    await afterCheckpoints(2);
  }

  await cluster.addTaskManager();
  await runsAt(2);
  await afterCheckpoints(2);
  const manual: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const p of [1, 2]) {
      const t = performance.now();
      await client.rescaleJob(jobId, p);
      await runsAt(p);
      manual.push(performance.now() - t);
      await afterCheckpoints(2);
    }
  }

  const summary = (xs: number[]) =>
    `median ${ms([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)} (${xs.map(ms).join(', ')})`;
  console.log(
    `rescale benchmark: ${args.keys} keys at ${args.rate} events/s, checkpoints every 1 s, ` +
      `stabilization timeout ${args.stabilization}, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  console.log(`TaskManager process start -> RUNNING at p2: ${summary(fromStart)}`);
  console.log(`TaskManager registered   -> RUNNING at p2: ${summary(fromRegistration)}`);
  console.log(`TaskManager SIGKILL      -> RUNNING at p1: ${summary(failover)}`);
  console.log(`manual rescale (1 <-> 2) -> RUNNING:       ${summary(manual)}`);
  await client.cancelJob(jobId);
} finally {
  client.close();
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}

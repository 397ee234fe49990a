/**
 * Cluster benchmark: the 5-minute spend job on a local cluster (`nimble local`: a JobManager and
 * two TaskManagers of one slot, as processes) at parallelism 2, against the same job in the
 * in-process executor at parallelism 1; then the per-event feature job's latency at a fixed rate.
 *
 *   pnpm bench:cluster [-- --events 2000000 --users 100000 --rate 80000 --seconds 20]
 */
import { startLocalCluster } from '@nimble/cli';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const events = arg('events', 2_000_000);
const users = arg('users', 100_000);
const rate = arg('rate', 80_000);
const seconds = arg('seconds', 20);

const root = fileURLToPath(new URL('..', import.meta.url));
const nimbleBin = `${root}packages/cli/bin/nimble.mjs`;
const tsx = `${root}node_modules/.bin/tsx`;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

const job = `${root}bench/jobs/cluster-spend-job.ts`;
const local = await run(tsx, [job, String(events), String(users), '1']);
const localMs = (JSON.parse(/BENCH_RESULT (.*)/.exec(local)![1]!) as { netRuntimeMs: number })
  .netRuntimeMs;
const localRate = events / (localMs / 1000);

const cluster = await startLocalCluster({
  taskManagers: 2,
  slots: 1,
  args: ['-D', 'jobmanager.rpc.port=0', '-D', 'rest.port=0'],
});
try {
  const out = await run(process.execPath, [
    nimbleBin,
    'run',
    '-m',
    cluster.jobManagerAddress,
    job,
    String(events),
    String(users),
    '2',
  ]);
  const jobId = /JobID ([0-9a-f]{32})/.exec(out)![1]!;
  const details = (await (await fetch(`${cluster.restUrl}/jobs/${jobId}`)).json()) as {
    timestamps: Record<string, number>;
    duration: number;
  };
  const runningMs = details.timestamps['FINISHED']! - details.timestamps['RUNNING']!;
  const clusterRate = events / (runningMs / 1000);

  const latencyOut = await run(process.execPath, [
    nimbleBin,
    'run',
    '-m',
    cluster.jobManagerAddress,
    `${root}bench/jobs/latency-job.ts`,
    String(rate),
    String(seconds),
  ]);
  const latency = JSON.parse(/BENCH_LATENCY (.*)/.exec(latencyOut)![1]!) as Record<string, number>;

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`events ${fmt(events)}, users ${fmt(users)}`);
  console.log(
    `in-process executor, parallelism 1:   ${fmt(localRate)} events/s (${fmt(localMs)} ms)`,
  );
  console.log(
    `nimble local, 2 TaskManagers x 1 slot, p2: ${fmt(clusterRate)} events/s (${fmt(runningMs)} ms RUNNING to FINISHED, ${fmt(details.duration)} ms from submission)`,
  );
  console.log(`speed-up: ${(clusterRate / localRate).toFixed(2)}x (target >= 1.6x)`);
  console.log(
    `latency at ${fmt(rate)} events/s for ${seconds} s (${fmt(latency['measured']!)} records): p50 ${latency['p50Ms']} ms, p99 ${latency['p99Ms']} ms, max ${latency['maxMs']} ms (target p99 <= 20 ms)`,
  );
} finally {
  await cluster.stop();
}

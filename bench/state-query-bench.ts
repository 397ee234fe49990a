/**
 * Queryable state lookup benchmark: `nimble local` (a JobManager and two TaskManagers of one slot,
 * as processes) runs the user-features job (packages/examples/src/user-features.ts) at
 * parallelism 2, fed 50,000 purchases/s by a rate-limited generator; meanwhile one client looks
 * single keys up, one request at a time, first through REST (GET /jobs/:id/state/:name?key=) and
 * then through the client's gRPC (JobManagerClient.getState), for --seconds each. It reports
 * p50/p99/max latency in ms of each, and the event rate the job achieved meanwhile, read from its
 * operator's records-in counter (target: p99 < 5 ms while the job holds 50,000 events/s).
 *
 *   pnpm bench:state-query [-- --rate 50000 --users 10000 --seconds 30 --backend hashmap
 *                             --lookup-rate 500 --taskmanagers 2 --slots 1]
 */
import { startLocalCluster } from '@nimble/cli';
import { JobManagerClient } from '@nimble/client';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const rate = Number(arg('rate', '50000'));
const users = Number(arg('users', '10000'));
const seconds = Number(arg('seconds', '30'));
const backend = arg('backend', 'hashmap');
// Lookups per second, paced: a model server asks at its own rate. 0: back to back (closed loop),
// which on a small machine measures the CPU the benchmark's own client and the JobManager take
// from the job as much as the lookup path.
const lookupRate = Number(arg('lookup-rate', '500'));
// nimble local's defaults: 2 TaskManagers of 1 slot, so half the keyBy traffic crosses them.
const taskManagers = Number(arg('taskmanagers', '2'));
const slots = Number(arg('slots', '1'));

const root = fileURLToPath(new URL('..', import.meta.url));
const nimbleBin = `${root}packages/cli/bin/nimble.mjs`;
const job = `${root}packages/examples/src/user-features.ts`;
const STATE = 'user-spend-cents';
const OPERATOR = 'User features';

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nimbleBin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`nimble ${args.join(' ')} exited with ${code}:\n${err}`)),
    );
  });
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The latency quantile `q` of sorted samples (nearest rank). */
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

interface Phase {
  lookups: number;
  found: number;
  p50: number;
  p99: number;
  max: number;
  eventsPerSecond: number;
}

const loadBefore = load();
const cluster = await startLocalCluster({
  taskManagers,
  slots,
  args: ['-D', 'jobmanager.rpc.port=0', '-D', 'rest.port=0'],
});
const client = new JobManagerClient(cluster.jobManagerAddress);
try {
  const out = await run([
    'run',
    '-d',
    '-m',
    cluster.jobManagerAddress,
    job,
    '--users',
    String(users),
    '--rate',
    String(rate),
    '--parallelism',
    '2',
    '--backend',
    backend,
  ]);
  const jobId = /JobID ([0-9a-f]{32})/.exec(out)![1]!;

  /** Records the features operator has read so far, over all its subtasks. */
  const recordsIn = async (): Promise<number> => {
    const details = (await (await fetch(`${cluster.restUrl}/jobs/${jobId}`)).json()) as {
      state: string;
      vertices: { name: string; metrics?: Record<string, number> }[];
    };
    if (details.state !== 'RUNNING') throw new Error(`The job is ${details.state}, not RUNNING`);
    const v = details.vertices.find((x) => x.name.includes(OPERATOR));
    return v?.metrics?.['read-records'] ?? 0;
  };
  // Warm up: until the job runs, its operator has taken a few seconds of input and every user exists.
  const warm = Date.now() + 120_000;
  const state = async () =>
    ((await (await fetch(`${cluster.restUrl}/jobs/${jobId}`)).json()) as { state: string }).state;
  while ((await state()) !== 'RUNNING' || (await recordsIn()) < Math.max(3 * rate, 5 * users)) {
    if (Date.now() > warm) throw new Error('The job did not take its warm-up input within 2 min');
    await new Promise((r) => setTimeout(r, 500));
  }

  const key = (i: number) => `user-${(i * 7919) % users}`;
  const measure = async (lookup: (user: string) => Promise<boolean>): Promise<Phase> => {
    const samples: number[] = [];
    let found = 0;
    const startRecords = await recordsIn();
    const start = performance.now();
    const end = start + seconds * 1000;
    for (let i = 0; performance.now() < end; i++) {
      if (lookupRate > 0) {
        const due = start + (i * 1000) / lookupRate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const t = performance.now();
      if (await lookup(key(i))) found++;
      samples.push(performance.now() - t);
    }
    const elapsed = (performance.now() - start) / 1000;
    const events = (await recordsIn()) - startRecords;
    samples.sort((a, b) => a - b);
    return {
      lookups: samples.length,
      found,
      p50: quantile(samples, 0.5),
      p99: quantile(samples, 0.99),
      max: samples[samples.length - 1] ?? NaN,
      eventsPerSecond: events / elapsed,
    };
  };

  const rest = await measure(async (user) => {
    const res = await fetch(
      `${cluster.restUrl}/jobs/${jobId}/state/${STATE}?key=${encodeURIComponent(user)}`,
    );
    if (res.status !== 200)
      throw new Error(`REST lookup answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { found: boolean }).found;
  });
  // The same REST round trip without the TaskManager hop: what the JobManager alone costs.
  const jmOnly = await measure(async () => {
    const res = await fetch(`${cluster.restUrl}/jobs/${jobId}/state`);
    if (res.status !== 200) throw new Error(`REST list answered ${res.status}`);
    await res.json();
    return true;
  });
  const grpc = await measure(
    async (user) => (await client.getState<number>(jobId, STATE, user)) !== undefined,
  );

  const line = (name: string, p: Phase) =>
    `${name.padEnd(5)} ${fmt(p.lookups)} lookups (${fmt((100 * p.found) / p.lookups)}% found): ` +
    `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, max ${p.max.toFixed(2)} ms; ` +
    `job meanwhile ${fmt(p.eventsPerSecond)} events/s`;
  console.log(
    `user-features job, ${backend}, p2 on nimble local (${taskManagers} TaskManager(s) x ${slots} slot(s)), ${fmt(users)} users, ` +
      `source rate ${fmt(rate)} events/s; single-key lookups of ${STATE} for ${seconds} s each, ` +
      (lookupRate > 0 ? `${fmt(lookupRate)} per second` : 'back to back'),
  );
  console.log(line('REST', rest));
  console.log(line('gRPC', grpc));
  console.log(line('JM', jmOnly) + ' (GET /jobs/:id/state: the JobManager only, no lookup)');
  const held = Math.min(rest.eventsPerSecond, grpc.eventsPerSecond) >= 0.95 * rate;
  const p99 = Math.max(rest.p99, grpc.p99);
  console.log(
    `target p99 < 5 ms: ${p99 < 5 ? 'met' : 'NOT met'} (worst p99 ${p99.toFixed(2)} ms); ` +
      `event rate ${held ? 'held' : 'NOT held'} (>= 95% of ${fmt(rate)}/s)`,
  );
  console.log(`load average before ${loadBefore}, after ${load()}`);
  await client.cancelJob(jobId);
} finally {
  client.close();
  await cluster.stop();
}

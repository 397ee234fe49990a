/**
 * Cluster benchmark: the 5-minute spend job on a local cluster (`nimble local`: a JobManager and
 * two TaskManagers of one slot, as processes) at parallelism 2, against the same job in the
 * in-process executor at parallelism 1; then the per-event feature job's latency at a fixed rate.
 *
 * Besides wall time it reports where the CPU went while the job ran (RUNNING to FINISHED), read
 * from /proc per thread: each TaskManager's main thread (control plane and network I/O), its slot
 * thread (the busiest other thread), its helper threads (GC, libuv), the JobManager and the
 * client. On a shared machine the CPU figures are steadier than the wall times.
 *
 *   pnpm bench:cluster [-- --events 2000000 --users 100000 --rate 80000 --seconds 20 --no-latency]
 *                      [--cpu-prof DIR]   (V8 CPU profiles of the daemons' threads into DIR)
 */
import { startLocalCluster } from '@nimble/cli';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const events = arg('events', 2_000_000);
const users = arg('users', 100_000);
const rate = arg('rate', 80_000);
const seconds = arg('seconds', 20);
const latency = !process.argv.includes('--no-latency');

const root = fileURLToPath(new URL('..', import.meta.url));
const nimbleBin = `${root}packages/cli/bin/nimble.mjs`;
const tsx = `${root}node_modules/.bin/tsx`;

/** Runs a command to its end; `onLine` sees each line of its standard error as it comes. */
function run(cmd: string, args: string[], onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // The client reports the job's state changes on standard error.
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine?.(l);
    });
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

// ---- CPU per thread from /proc ---------------------------------------------------------------

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms (user + system) of each thread of `pid`, by thread id. */
function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) * TICK_MS);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** This process's children: pid and role (`jobmanager`, `taskmanager`, `run`). */
function daemons(): { pid: number; role: string }[] {
  const out: { pid: number; role: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const role = ['jobmanager', 'taskmanager', 'run'].find((r) => cmd.includes(r));
      if (role) out.push({ pid: Number(d), role });
    } catch {
      // gone
    }
  }
  return out;
}

type Snapshot = Map<number, Map<number, number>>;
const snapshot = (pids: number[]): Snapshot => new Map(pids.map((p) => [p, threadCpu(p)]));

/** CPU between two snapshots, per process: main thread, busiest other thread, the rest. */
function cpuBetween(a: Snapshot, b: Snapshot, pid: number) {
  const before = a.get(pid) ?? new Map<number, number>();
  const deltas: [number, number][] = [];
  for (const [tid, ms] of b.get(pid) ?? []) deltas.push([tid, ms - (before.get(tid) ?? 0)]);
  const main = deltas.find(([t]) => t === pid)?.[1] ?? 0;
  const others = deltas.filter(([t]) => t !== pid).map(([, ms]) => ms);
  others.sort((x, y) => y - x);
  const busiest = others[0] ?? 0;
  const rest = others.slice(1).reduce((s, x) => s + x, 0);
  return { main, busiest, rest, total: main + busiest + rest };
}

// ---- the runs -------------------------------------------------------------------------------

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const loadBefore = load();
const job = `${root}bench/jobs/cluster-spend-job.ts`;
const local = await run(tsx, [job, String(events), String(users), '1']);
const localResult = JSON.parse(/BENCH_RESULT (.*)/.exec(local)![1]!) as {
  netRuntimeMs: number;
  cpuMs: number;
};
const localMs = localResult.netRuntimeMs;
const localRate = events / (localMs / 1000);

// --cpu-prof DIR: the daemons (and their slot threads) write V8 CPU profiles into DIR.
const cpuProfDir = process.argv[process.argv.indexOf('--cpu-prof') + 1];
// (Node refuses --cpu-prof in NODE_OPTIONS; the daemons are forked with this process's execArgv.)
const execArgv = [...process.execArgv];
if (process.argv.includes('--cpu-prof')) {
  process.execArgv.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
}
const cluster = await startLocalCluster({
  taskManagers: 2,
  slots: 1,
  args: ['-D', 'jobmanager.rpc.port=0', '-D', 'rest.port=0'],
});
process.execArgv.splice(0, process.execArgv.length, ...execArgv);
try {
  const procs = daemons();
  const pids = procs.map((p) => p.pid);
  let atRunning: Snapshot | undefined;
  let atFinished: Snapshot | undefined;
  let runPid = 0;
  const out = await run(
    process.execPath,
    [nimbleBin, 'run', '-m', cluster.jobManagerAddress, job, String(events), String(users), '2'],
    (line) => {
      if (/^Job \w+ is RUNNING/.test(line)) {
        runPid = daemons().find((p) => p.role === 'run')?.pid ?? 0;
        atRunning = snapshot([...pids, runPid]);
      } else if (/^Job \w+ is FINISHED/.test(line)) {
        atFinished = snapshot([...pids, runPid]);
      }
    },
  );
  const jobId = /JobID ([0-9a-f]{32})/.exec(out)![1]!;
  const details = (await (await fetch(`${cluster.restUrl}/jobs/${jobId}`)).json()) as {
    timestamps: Record<string, number>;
    duration: number;
  };
  const runningMs = details.timestamps['FINISHED']! - details.timestamps['RUNNING']!;
  const clusterRate = events / (runningMs / 1000);
  const loadAfter = load();

  console.log(`events ${fmt(events)}, users ${fmt(users)}`);
  console.log(
    `in-process executor, parallelism 1:   ${fmt(localRate)} events/s (${fmt(localMs)} ms, ${fmt(localResult.cpuMs)} ms CPU)`,
  );
  console.log(
    `nimble local, 2 TaskManagers x 1 slot, p2: ${fmt(clusterRate)} events/s (${fmt(runningMs)} ms RUNNING to FINISHED, ${fmt(details.duration)} ms from submission)`,
  );
  console.log(`speed-up: ${(clusterRate / localRate).toFixed(2)}x (target >= 1.7x)`);
  console.log(`load average before ${loadBefore}, after ${loadAfter}`);
  if (atRunning && atFinished) {
    console.log('CPU ms while RUNNING (as seen by the client: RUNNING to FINISHED printed):');
    let all = 0;
    for (const p of [...procs, { pid: runPid, role: 'run' }]) {
      const c = cpuBetween(atRunning, atFinished, p.pid);
      all += c.total;
      const name = p.role === 'run' ? 'client (nimble run)' : `${p.role} ${p.pid}`;
      console.log(
        `  ${name.padEnd(22)} main ${fmt(c.main).padStart(6)}  busiest other ${fmt(c.busiest).padStart(6)}  rest ${fmt(c.rest).padStart(6)}  total ${fmt(c.total).padStart(6)}`,
      );
    }
    console.log(`  all ${fmt(all)} ms CPU (in-process p1: ${fmt(localResult.cpuMs)} ms)`);
    // On a shared machine the wall times say little; the CPU says what 2 free cores would allow.
    console.log(
      `p2 uses ${(all / localResult.cpuMs).toFixed(2)}x the CPU of p1: on 2 free cores, a speed-up of at most ~${((2 * localResult.cpuMs) / all).toFixed(2)}x`,
    );
  }

  if (latency) {
    const latencyOut = await run(process.execPath, [
      nimbleBin,
      'run',
      '-m',
      cluster.jobManagerAddress,
      `${root}bench/jobs/latency-job.ts`,
      String(rate),
      String(seconds),
    ]);
    const l = JSON.parse(/BENCH_LATENCY (.*)/.exec(latencyOut)![1]!) as Record<string, number>;
    console.log(
      `latency at ${fmt(rate)} events/s for ${seconds} s (${fmt(l['measured']!)} records): p50 ${l['p50Ms']} ms, p99 ${l['p99Ms']} ms, max ${l['maxMs']} ms (target p99 <= 20 ms)`,
    );
  }
} finally {
  await cluster.stop();
}

/**
 * Benchmark of the seed's 5-minute spend job on generated events: events/s and peak memory at
 * parallelism 1 and 2 on both state backends. Run: `pnpm bench` (options: --events N --users N).
 * Each case runs in a fresh process (`tsx bench/jobs/user-spend-job.ts`), so figures include the
 * real start-up of slots and nothing leaks between cases. Cases `join:<backend>:<p>` run the
 * interval join benchmark (`bench/jobs/interval-join-job.ts`) on --join-events events.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const argv = process.argv.slice(2);
const { values } = parseArgs({
  // `pnpm bench -- --events N` passes the `--` along.
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    events: { type: 'string', default: '2000000' },
    users: { type: 'string', default: '100000' },
    cases: {
      type: 'string',
      default: 'hashmap:1,hashmap:2,level:1,level:2,join:hashmap:1,join:level:1',
    },
    'join-events': { type: 'string', default: '1000000' },
  },
});
const job = fileURLToPath(new URL('./jobs/user-spend-job.ts', import.meta.url));
const joinJob = fileURLToPath(new URL('./jobs/interval-join-job.ts', import.meta.url));
// Run node itself with the TypeScript loader (not the tsx CLI, which would add a wrapper process
// and hide the job's memory from the sampler).
const tsxLoader = new URL(import.meta.resolve('tsx')).href;

interface Result {
  backend: string;
  parallelism: number;
  events: number;
  /** The job's running time from submission to its end, without process start-up. */
  seconds: number;
  peakRssMb: number;
}

function runCase(
  backend: string,
  parallelism: number,
  jobFile = job,
  events = values.events,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, jobFile], {
      env: {
        ...process.env,
        BENCH_EVENTS: events,
        BENCH_USERS: values.users,
        BENCH_PARALLELISM: String(parallelism),
        BENCH_BACKEND: backend,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let peak = 0;
    // Peak resident memory of the job process, sampled from /proc (worker threads included).
    const sampler = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const m = /VmHWM:\s+(\d+) kB/.exec(status);
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        // The process may have exited between samples.
      }
    }, 100);
    child.on('exit', (code) => {
      clearInterval(sampler);
      const line = /BENCH_RESULT (.*)/.exec(stdout);
      if (code !== 0 || !line) {
        reject(new Error(`${backend} p=${parallelism} exited with ${code}`));
        return;
      }
      const { netRuntimeMs } = JSON.parse(line[1]!) as { netRuntimeMs: number };
      const seconds = netRuntimeMs / 1000;
      resolve({ backend, parallelism, events: Number(events), seconds, peakRssMb: peak });
    });
  });
}

const results: Result[] = [];
for (const c of values.cases.split(',')) {
  const join = c.startsWith('join:');
  const [backend, p] = (join ? c.slice('join:'.length) : c).split(':');
  const r = join
    ? await runCase(backend!, Number(p), joinJob, values['join-events'])
    : await runCase(backend!, Number(p));
  results.push(r);
  const eps = r.events / r.seconds;
  console.log(
    `${join ? 'join ' : ''}${r.backend.padEnd(8)} p=${r.parallelism}  ${r.events} events  ${r.seconds.toFixed(2)} s  ` +
      `${Math.round(eps).toLocaleString('en-US')} events/s  (${Math.round(eps / r.parallelism).toLocaleString('en-US')} per core)  ` +
      `peak RSS ${Math.round(r.peakRssMb)} MiB`,
  );
}

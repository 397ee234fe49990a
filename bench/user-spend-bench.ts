/**
 * Benchmark of the seed's 5-minute spend job on generated events: events/s and peak memory at
 * parallelism 1 and 2 on both state backends. Run: `pnpm bench` (options: --events N --users N).
 * Each case runs in a fresh process (`tsx bench/jobs/user-spend-job.ts`), so figures include the
 * real start-up of slots and nothing leaks between cases.
 *
 * Cases `async:1` and `async-http:1` run the async I/O job instead (`bench/jobs/async-io-job.ts`:
 * lookups against a local service answering after 1 ms, capacity 100, parallelism 1) over a
 * pipelined TCP connection or Node's http client (option: --async-events N).
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
    cases: { type: 'string', default: 'hashmap:1,hashmap:2,level:1,level:2,async:1,async-http:1' },
    'async-events': { type: 'string', default: '300000' },
  },
});
const job = fileURLToPath(new URL('./jobs/user-spend-job.ts', import.meta.url));
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

const asyncJob = fileURLToPath(new URL('./jobs/async-io-job.ts', import.meta.url));

function runCase(backend: string, parallelism: number): Promise<Result> {
  const isAsync = backend === 'async' || backend === 'async-http';
  const events = isAsync ? values['async-events'] : values.events;
  // The async job measures one subtask against its own lookup service.
  if (isAsync && parallelism !== 1) throw new Error(`${backend}: only parallelism 1 is measured`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, isAsync ? asyncJob : job], {
      env: {
        ...process.env,
        BENCH_EVENTS: events,
        BENCH_USERS: values.users,
        BENCH_PARALLELISM: String(parallelism),
        BENCH_BACKEND: backend,
        BENCH_ASYNC_TRANSPORT: backend === 'async-http' ? 'http' : 'tcp',
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
  const [backend, p] = c.split(':');
  const r = await runCase(backend!, Number(p));
  results.push(r);
  const eps = r.events / r.seconds;
  console.log(
    `${r.backend.padEnd(8)} p=${r.parallelism}  ${r.events} events  ${r.seconds.toFixed(2)} s  ` +
      `${Math.round(eps).toLocaleString('en-US')} events/s  (${Math.round(eps / r.parallelism).toLocaleString('en-US')} per core)  ` +
      `peak RSS ${Math.round(r.peakRssMb)} MiB`,
  );
}

/**
 * `pnpm bench`: the DataStream benchmarks, each case in a fresh process so figures include the
 * real start-up of slots and nothing leaks between cases. A case is one of:
 *
 * - `<backend>:<p>`: the seed's 5-minute spend job on generated events
 *   (`bench/jobs/user-spend-job.ts`; options --events N --users N);
 * - `join:<backend>:<p>`: the interval join of two generated streams keyed by user
 *   (`bench/jobs/interval-join-job.ts`; option --join-events N, both streams together);
 * - `sql:<backend>:<p>`: the same job written in SQL, the seed's TUMBLE query
 *   (`bench/jobs/sql-user-spend-job.ts`);
 * - `sql-over:<backend>:<p>`: a SQL OVER window, each user's 5-minute rolling spend on every
 *   event (`bench/jobs/sql-user-spend-job.ts`; options --over-events N --over-users N);
 * - `async:1` / `async-http:1`: async I/O lookups against a local service answering after 1 ms,
 *   capacity 100, over a pipelined TCP connection or Node's http client
 *   (`bench/jobs/async-io-job.ts`; option --async-events N).
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
      default:
        'hashmap:1,hashmap:2,level:1,level:2,join:hashmap:1,join:level:1,async:1,async-http:1',
    },
    'join-events': { type: 'string', default: '1000000' },
    'async-events': { type: 'string', default: '300000' },
    'over-events': { type: 'string', default: '2000000' },
    'over-users': { type: 'string', default: '1000000' },
  },
});

const jobFile = (name: string) => fileURLToPath(new URL(`./jobs/${name}`, import.meta.url));
// Run node itself with the TypeScript loader (not the tsx CLI, which would add a wrapper process
// and hide the job's memory from the sampler).
const tsxLoader = new URL(import.meta.resolve('tsx')).href;

/** What one case runs: a job module with its environment. */
interface Case {
  readonly label: string;
  readonly parallelism: number;
  readonly events: number;
  readonly job: string;
  readonly env: Record<string, string>;
}

interface Result {
  readonly label: string;
  readonly parallelism: number;
  readonly events: number;
  /** The job's running time from submission to its end, without process start-up. */
  readonly seconds: number;
  readonly peakRssMb: number;
}

function parseCase(text: string): Case {
  const parts = text.split(':');
  const [kind] = parts;
  if (kind === 'join') {
    const [, backend = 'hashmap', p = '1'] = parts;
    return {
      label: `join ${backend}`,
      parallelism: Number(p),
      events: Number(values['join-events']),
      job: jobFile('interval-join-job.ts'),
      env: { BENCH_BACKEND: backend },
    };
  }
  if (kind === 'sql' || kind === 'sql-over') {
    const [, backend = 'hashmap', p = '1'] = parts;
    const over = kind === 'sql-over';
    return {
      label: `${kind} ${backend}`,
      parallelism: Number(p),
      events: Number(over ? values['over-events'] : values.events),
      job: jobFile('sql-user-spend-job.ts'),
      env: {
        BENCH_BACKEND: backend,
        BENCH_SQL_QUERY: over ? 'over' : 'tumble',
        ...(over ? { BENCH_USERS: values['over-users'] } : {}),
      },
    };
  }
  if (kind === 'async' || kind === 'async-http') {
    // The async job measures one subtask against its own lookup service.
    if ((parts[1] ?? '1') !== '1') throw new Error(`${text}: only parallelism 1 is measured`);
    return {
      label: kind,
      parallelism: 1,
      events: Number(values['async-events']),
      job: jobFile('async-io-job.ts'),
      env: { BENCH_ASYNC_TRANSPORT: kind === 'async-http' ? 'http' : 'tcp' },
    };
  }
  const [backend = 'hashmap', p = '1'] = parts;
  return {
    label: backend,
    parallelism: Number(p),
    events: Number(values.events),
    job: jobFile('user-spend-job.ts'),
    env: { BENCH_BACKEND: backend },
  };
}

function run(c: Case): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, c.job], {
      env: {
        ...process.env,
        BENCH_EVENTS: String(c.events),
        BENCH_USERS: values.users,
        BENCH_PARALLELISM: String(c.parallelism),
        ...c.env,
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
        reject(new Error(`${c.label} p=${c.parallelism} exited with ${code}`));
        return;
      }
      const { netRuntimeMs } = JSON.parse(line[1]!) as { netRuntimeMs: number };
      resolve({
        label: c.label,
        parallelism: c.parallelism,
        events: c.events,
        seconds: netRuntimeMs / 1000,
        peakRssMb: peak,
      });
    });
  });
}

for (const text of values.cases.split(',')) {
  const r = await run(parseCase(text));
  const eps = r.events / r.seconds;
  console.log(
    `${r.label.padEnd(16)} p=${r.parallelism}  ${r.events} events  ${r.seconds.toFixed(2)} s  ` +
      `${Math.round(eps).toLocaleString('en-US')} events/s  (${Math.round(eps / r.parallelism).toLocaleString('en-US')} per core)  ` +
      `peak RSS ${Math.round(r.peakRssMb)} MiB`,
  );
}

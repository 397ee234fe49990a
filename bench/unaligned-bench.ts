/**
 * Checkpoint duration under full backpressure, aligned vs unaligned: a local cluster (a
 * JobManager and two TaskManagers of one slot, as processes) runs bench/jobs/unaligned-backpressure-job.ts
 * (an unthrottled source keyed into a map of 1 ms per record, parallelism 2) once per mode and
 * network buffer size, triggers checkpoints one after the other through REST once records reach
 * the map, and prints each mode's checkpoint durations (end to end) and the in-flight bytes the
 * checkpoints persisted.
 *
 *   pnpm bench:unaligned [-- --checkpoints 3 --timeout 500]
 */
import { startLocalCluster } from '@nimble/cli';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const checkpoints = arg('checkpoints', 3);
const alignedTimeout = arg('timeout', 500);

const root = fileURLToPath(new URL('..', import.meta.url));
const nimbleBin = `${root}packages/cli/bin/nimble.mjs`;
const JOB = `${root}bench/jobs/unaligned-backpressure-job.ts`;

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nimbleBin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`nimble ${args.join(' ')}: ${out}`)),
    );
  });
}

async function until(condition: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Mode {
  readonly name: string;
  readonly options: string[];
}
const modes: Mode[] = [
  { name: 'aligned', options: [] },
  { name: 'unaligned', options: ['execution.checkpointing.unaligned.enabled=true'] },
  {
    name: `aligned, timeout ${alignedTimeout} ms`,
    options: [
      'execution.checkpointing.unaligned.enabled=true',
      `execution.checkpointing.aligned-checkpoint-timeout=${alignedTimeout}`,
    ],
  },
];
const segments = ['32kb', '2kb'];

const work = mkdtempSync(join(tmpdir(), 'nimble-unaligned-bench-'));
const cluster = await startLocalCluster({
  taskManagers: 2,
  slots: 1,
  args: ['-D', 'metrics.fetcher.update-interval=200'],
});
const rest = async (path: string, init?: RequestInit): Promise<any> =>
  (await fetch(cluster.restUrl + path, init)).json();

const rows: string[][] = [];
try {
  for (const segment of segments) {
    for (const mode of modes) {
      const out = await run([
        'run',
        '-d',
        '-m',
        cluster.jobManagerAddress,
        '-D',
        'execution.checkpointing.interval=3600000',
        '-D',
        `state.checkpoints.dir=file://${join(work, 'chk')}`,
        '-D',
        `taskmanager.memory.segment-size=${segment}`,
        ...mode.options.flatMap((o) => ['-D', o]),
        JOB,
      ]);
      const jobId = /JobID ([0-9a-f]{32})/.exec(out)![1]!;
      await until(async () => {
        const job = await rest(`/jobs/${jobId}`);
        return (job.vertices?.[1]?.metrics?.['read-records'] ?? 0) > 300;
      }, 120_000);
      const durations: number[] = [];
      let persisted = 0;
      let unaligned = 0;
      for (let c = 0; c < checkpoints; c++) {
        await rest(`/jobs/${jobId}/checkpoints`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        let latest: any;
        await until(async () => {
          const stats = await rest(`/jobs/${jobId}/checkpoints`);
          latest = stats.latest.completed;
          return stats.counts.completed > c;
        }, 300_000);
        durations.push(latest.end_to_end_duration);
        persisted += latest.persisted_data;
        if (latest.is_unaligned) unaligned++;
      }
      await rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
      await until(async () => (await rest(`/jobs/${jobId}`)).state === 'CANCELED', 60_000);
      rows.push([
        segment,
        mode.name,
        durations.join(' / '),
        String(Math.round(durations.reduce((a, b) => a + b, 0) / durations.length)),
        `${unaligned}/${checkpoints}`,
        String(Math.round(persisted / checkpoints / 1024)),
      ]);
      process.stderr.write(`${rows.at(-1)!.join(' | ')}\n`);
    }
  }
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}

const header = ['buffer', 'mode', 'checkpoint ms (each)', 'mean ms', 'unaligned', 'persisted KiB'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log('Checkpoint duration under full backpressure (1 ms per record after a keyBy, p=2)');
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));

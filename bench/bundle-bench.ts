/**
 * Size and bundling time of job bundles, which hold the job and everything it imports but
 * `@nimble/api` and `@nimble/runtime`: a DataGen job, a Kafka job, a SQL job and the job
 * `nimble sql` submits for each query. Each is bundled once cold, then timed over five runs
 * (median).
 *
 *   pnpm bench:bundle
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { bundleJob } from '../packages/client/src/bundle.js';

const at = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

const jobs: [string, string][] = [
  ['DataGen job (user-spend.ts)', at('../packages/examples/src/user-spend.ts')],
  ['Kafka job (kafka-user-spend.ts)', at('../packages/examples/src/kafka-user-spend.ts')],
  ['SQL job (hybrid-session-tracker.ts)', at('../packages/examples/sql/hybrid-session-tracker.ts')],
  [
    'nimble sql query (@nimble/sql/script-job)',
    fileURLToPath(import.meta.resolve('@nimble/sql/script-job')),
  ],
];

const RUNS = 5;

console.log(`load average ${loadavg()[0]!.toFixed(1)}, median of ${RUNS} runs after a cold one`);
console.log(
  `${'job'.padEnd(44)} ${'size'.padStart(10)} ${'cold'.padStart(8)} ${'median'.padStart(8)}`,
);
for (const [label, entry] of jobs) {
  let started = performance.now();
  const bundle = await bundleJob(entry);
  const cold = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    started = performance.now();
    await bundleJob(entry);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const kib = `${Math.ceil(bundle.length / 1024).toLocaleString('en-US')} KiB`;
  console.log(
    `${label.padEnd(44)} ${kib.padStart(10)} ${`${cold.toFixed(0)} ms`.padStart(8)} ${`${times[RUNS >> 1]!.toFixed(0)} ms`.padStart(8)}`,
  );
}

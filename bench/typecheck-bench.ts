/**
 * How long `nimble run` spends type-checking a job: a first check (no cache), the same job again
 * unchanged (the remembered verdict), and again after its file is touched (tsc's build info).
 *
 *   pnpm bench:typecheck [job.ts]   (default: packages/examples/src/user-spend.ts)
 */
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typeCheckJob } from '../packages/cli/src/typecheck.js';

const job =
  process.argv[2] ??
  fileURLToPath(new URL('../packages/examples/src/user-spend.ts', import.meta.url));
// A cache of its own, so that the first check is a cold one.
const cache = mkdtempSync(join(tmpdir(), 'nimble-typecheck-bench-'));
process.env['TMPDIR'] = cache;

function timed(label: string): void {
  const started = performance.now();
  const { errors } = typeCheckJob(job);
  const ms = performance.now() - started;
  console.log(`${label.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  (${errors.length} errors)`);
}

try {
  console.log(`job ${job}, load average ${loadavg()[0]!.toFixed(1)}`);
  timed('first check (no cache)');
  timed('again, unchanged');
  const now = new Date();
  utimesSync(job, now, now);
  timed('again, after touching the job file');
  timed('again, unchanged');
} finally {
  rmSync(cache, { recursive: true, force: true });
}

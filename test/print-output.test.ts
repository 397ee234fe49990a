import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const job = fileURLToPath(new URL('./fixtures/unbounded-print-job.ts', import.meta.url));

/** Far above process start-up on a loaded machine; the unfixed sink would not print for minutes. */
const DEADLINE_MS = 30_000;

describe('print() in an unbounded job', () => {
  it.each([
    ['default buffer timeout', {}, /^tick 0$/m],
    ['execution.buffer-timeout 0', { 'execution.buffer-timeout': 0 }, /^tick 0$/m],
    // Two slots run on worker threads: lines reach the main thread's stdout by message.
    ['parallelism 2, on worker threads', { 'parallelism.default': 2 }, /^[12]> tick \d+$/m],
  ])('shows its lines while the job runs (%s)', async (_, configuration, line) => {
    const child = spawn(tsx, [job], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FIXTURE_CONFIGURATION: JSON.stringify(configuration) },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      // Wait for the event (a line printed), not for an amount of time.
      const printed = await new Promise<boolean>((resolve) => {
        const deadline = setTimeout(() => resolve(false), DEADLINE_MS);
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (line.test(stdout)) {
            clearTimeout(deadline);
            resolve(true);
          }
        });
        child.once('exit', () => {
          clearTimeout(deadline);
          resolve(line.test(stdout));
        });
      });
      expect(printed, `stdout: ${JSON.stringify(stdout)}\nstderr: ${stderr}`).toBe(true);
      // The line came from the running job, not from a flush at its end.
      expect(child.exitCode).toBeNull();
    } finally {
      // Cancel the job as a user does: Ctrl-C / SIGTERM.
      child.kill('SIGTERM');
      await exited;
    }
  });
});

// The short chaos run (bench/chaos, docs/chaos.md): five faults at seeded random times into the
// exactly-once Kafka job on daemons in network namespaces (needs root), then the committed output
// holds every expected record exactly once and nothing else.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'nimble-chaos-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function chaos(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/chaos/main.ts'), ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

it('five faults: nothing lost, duplicated or unexpected, the job recovers from each', async () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const json = join(work, 'result.json');
  const { output } = await chaos(['--faults', '5', '--seed', String(seed), '--json', json]);
  // The seed reproduces a failure: pnpm chaos --faults 5 --seed <seed>
  if (!existsSync(json))
    throw new Error(`the chaos run (seed ${seed}) ended without a result:\n${output}`);
  const result = JSON.parse(readFileSync(json, 'utf8')) as {
    seed: number;
    faults: number;
    notRecovered: number;
    slowerThan10s: number;
    recordsLost: number;
    recordsDuplicated: number;
    recordsUnexpected: number;
    expectedRecords: number;
    drained: boolean;
  };
  const context = `seed ${seed}:\n${output.slice(-5000)}`;
  expect(result.seed, context).toBe(seed);
  expect(result.faults, context).toBe(5);
  expect(result.notRecovered, context).toBe(0);
  expect(result.recordsLost, context).toBe(0);
  expect(result.recordsDuplicated, context).toBe(0);
  expect(result.recordsUnexpected, context).toBe(0);
  expect(result.expectedRecords, context).toBeGreaterThan(0);
  expect(result.drained, context).toBe(true);
  // Recovery within 10 s is reported (slowerThan10s), not asserted: a broker restart on a
  // loaded machine can take longer, and that is not the job's fault.
}, 900_000);

/**
 * `pnpm chaos [--faults N] [--seed S] [--rate R] [--kinds K,..] [--input-first] [--keep-work]
 *   [--json FILE]`: the chaos suite (see docs/chaos.md).
 *
 * This process creates the network namespaces the daemons run in (it needs root), runs the driver
 * (driver.ts) inside the hub namespace, and removes the namespaces again when the driver ends,
 * also on Ctrl-C or SIGTERM. Its exit code is the driver's: 0 when nothing was lost or
 * duplicated and the job recovered from every fault.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNetwork, type Network } from './netns.js';

const driver = fileURLToPath(new URL('./driver.ts', import.meta.url));

if (process.getuid?.() !== 0) {
  console.error(
    'pnpm chaos needs root: it creates network namespaces (ip netns add) for the daemons.',
  );
  process.exit(2);
}

// Unique per run: two runs on one machine (or a run left over after a crash) do not collide.
const prefix = `nchaos${process.pid}`;
let network: Network | undefined;
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  network?.destroy();
}
process.on('exit', cleanup);

try {
  network = createNetwork(prefix, 2);
} catch (e) {
  console.error(`could not create the network namespaces: ${(e as Error).message}`);
  process.exit(2);
}
console.log(`network namespaces: ${network.namespaces().join(', ')}`);

const child = spawn(
  'ip',
  [
    'netns',
    'exec',
    network.hub,
    process.execPath,
    ...process.execArgv,
    driver,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: { ...process.env, NIMBLE_CHAOS_NETWORK: JSON.stringify(network.spec) } },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The driver stops its daemons; what it leaves behind, destroy() kills with the namespaces.
    child.kill(signal);
    setTimeout(() => {
      cleanup();
      process.exit(130);
    }, 30_000).unref();
  });
}
child.on('exit', (code, signal) => {
  cleanup();
  process.exit(code ?? (signal ? 130 : 1));
});

/**
 * How long the published packages take to make and install: `pnpm build` (JavaScript and
 * declarations apart), `pnpm pack:packages` (a build and one `pnpm pack` per package), and `npm install`
 * of the tarballs into an empty project (third-party packages from the npm registry, through the
 * user's npm cache), with the size of what was installed.
 *
 *   pnpm bench:packages
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPackages } from '../scripts/build-packages.ts';
import { packPackages } from '../scripts/pack-packages.ts';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'nimble-packages-bench-'));

function line(label: string, ms: number, extra = ''): void {
  console.log(`${label.padEnd(36)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${extra}`);
}

try {
  console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
  const build = await buildPackages();
  line(
    'pnpm build',
    build.javascriptMs + build.declarationsMs,
    `(${build.files} files: JavaScript ${build.javascriptMs} ms, declarations ${build.declarationsMs} ms)`,
  );
  let started = performance.now();
  const tarballs = await packPackages({ outDir: join(scratch, 'tarballs') });
  const bytes = [...tarballs.values()].reduce((n, f) => n + statSync(f).size, 0);
  line(
    'pnpm pack:packages',
    performance.now() - started,
    `(${tarballs.size} tarballs, ${(bytes / 1e6).toFixed(1)} MB)`,
  );
  const project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "name": "bench", "type": "module" }\n');
  started = performance.now();
  await run('npm', ['install', '--no-audit', '--no-fund', ...tarballs.values()], { cwd: project });
  const { stdout } = await run('du', ['-sm', join(project, 'node_modules')]);
  line(
    'npm install of the tarballs',
    performance.now() - started,
    `(node_modules ${stdout.split('\t')[0]} MB)`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

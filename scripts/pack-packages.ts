/**
 * Builds and packs every public package into tarballs that install with plain npm:
 *
 *   pnpm pack:packages [--out <dir>]        # default: build/packages/
 *
 * or from code: `packPackages({ outDir })`, which resolves to package name -> tarball path.
 * The tarballs are made by `pnpm pack`, which applies each package's publishConfig (exports into
 * dist/) and replaces `workspace:*` dependencies by the version; their names are pnpm's
 * (`nimble-api-0.1.0.tgz`). Every package is built once here, before packing, so the packages'
 * prepack scripts (scripts/prepack.mjs) are told not to build again.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildPackages, publicPackages, REPO_ROOT } from './build-packages.ts';

export interface PackOptions {
  /** Where the tarballs are written (created when missing; existing tarballs are replaced). */
  readonly outDir: string;
}

/** The file name `pnpm pack` gives a package's tarball: `@nimble/api` 0.1.0 -> nimble-api-0.1.0.tgz. */
export function tarballName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? done()
        : fail(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while holding the workspace's pack lock: the build replaces every dist/, so two packs
 * at once (two test files in one run) would pack each other's half-written files. The lock is a
 * directory (mkdir is atomic) naming its holder's pid; a dead holder's lock is taken over.
 */
export async function withPackLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(REPO_ROOT, 'build', '.pack-lock');
  mkdirSync(join(REPO_ROOT, 'build'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // Just created, its pid not written yet: wait for it.
      }
      if (Number.isInteger(holder) && !alive(holder))
        rmSync(lock, { recursive: true, force: true });
      else await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds every public package and packs it into `outDir`: package name -> absolute tarball path. */
export async function packPackages(options: PackOptions): Promise<Map<string, string>> {
  return withPackLock(() => buildAndPack(resolve(options.outDir)));
}

async function buildAndPack(outDir: string): Promise<Map<string, string>> {
  mkdirSync(outDir, { recursive: true });
  const packages = publicPackages();
  await buildPackages();
  const filters = packages.flatMap((p) => ['--filter', p.name]);
  await run(
    'pnpm',
    ['--recursive', ...filters, '--workspace-concurrency=4', 'pack', '--pack-destination', outDir],
    { ...process.env, NIMBLE_PACKAGES_BUILT: '1' },
  );
  const tarballs = new Map<string, string>();
  for (const p of packages) {
    const file = join(outDir, tarballName(p.name, p.version));
    if (!existsSync(file)) throw new Error(`pnpm pack did not write ${file} for ${p.name}`);
    tarballs.set(p.name, file);
  }
  return tarballs;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  if (at >= 0 && !args[at + 1])
    throw new Error('--out needs a directory: pnpm pack:packages --out <dir>');
  const outDir = at >= 0 ? args[at + 1]! : join(REPO_ROOT, 'build', 'packages');
  const started = performance.now();
  const tarballs = await packPackages({ outDir });
  for (const file of tarballs.values()) process.stdout.write(`${file}\n`);
  process.stdout.write(
    `Packed ${tarballs.size} packages into ${resolve(outDir)} in ${Math.round(performance.now() - started)} ms\n`,
  );
}

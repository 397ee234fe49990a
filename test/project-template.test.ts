/**
 * A project of one's own, as a user starts it: the packages packed into tarballs, `create-nimble`
 * run from its tarball in a temporary folder outside the repository, the project's @nimble/*
 * dependencies pointed at the tarballs and installed with plain npm (third-party packages from
 * the registry), then its `tsc`, its own test, and `npm run submit` against a `nimble local`
 * started from the project's installed @nimble/cli. One pack and one install serve every case.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/build-packages.ts';
import { packPackages } from '../scripts/pack-packages.ts';

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The user's environment, not the workspace's: no pnpm agent, no vitest variables. */
const userEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: process.env['HOME'] ?? tmpdir(),
  ...(process.env['TMPDIR'] ? { TMPDIR: process.env['TMPDIR'] } : {}),
  ...extra,
});

/** Runs a command to its end; resolves with its exit code and output whatever the code. */
function exec(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = userEnv(),
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under `dir` but node_modules, with its text; relative paths in `/` form. */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !join(e.parentPath, e.name).includes('node_modules'))
      .map((e) => {
        const path = join(e.parentPath, e.name);
        return [relative(dir, path).replaceAll('\\', '/'), readFileSync(path, 'utf8')];
      }),
  );
}

/** Polls `condition` every 100 ms until it holds or `timeoutMs` passed. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the template's job prints: each user's spend in the two windows (its test's rows). */
const JOB_OUTPUT = [
  '{"user_id":"user-0","window_end":"2026-01-01T00:05:00.000Z","purchases":10,"spend_usd":254.9}',
  '{"user_id":"user-1","window_end":"2026-01-01T00:05:00.000Z","purchases":11,"spend_usd":292.89}',
  '{"user_id":"user-2","window_end":"2026-01-01T00:05:00.000Z","purchases":10,"spend_usd":244.9}',
  '{"user_id":"user-0","window_end":"2026-01-01T00:10:00.000Z","purchases":10,"spend_usd":254.9}',
  '{"user_id":"user-1","window_end":"2026-01-01T00:10:00.000Z","purchases":9,"spend_usd":206.91}',
  '{"user_id":"user-2","window_end":"2026-01-01T00:10:00.000Z","purchases":10,"spend_usd":244.9}',
];

let work: string;
let project: string;
/** The project as create-nimble wrote it, before its dependencies were pointed at the tarballs. */
let written: Record<string, string>;
let createOutput: Outcome;
let cluster: ChildProcess | undefined;
const timings: Record<string, number> = {};

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[what] = Math.round(performance.now() - started);
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-project-template-'));
  const tarballs = await timed('pack', () => packPackages({ outDir: join(work, 'packages') }));
  const createNimble = tarballs.get('create-nimble');
  if (createNimble === undefined) throw new Error('packPackages did not pack create-nimble');

  // What `npm create nimble@latest my-pipeline` runs: create-nimble's bin, from its package.
  createOutput = await timed('create', () =>
    exec(
      'npm',
      ['exec', '--yes', '--package', createNimble, '--', 'create-nimble', 'my-pipeline'],
      work,
    ),
  );
  project = join(work, 'my-pipeline');
  if (createOutput.code !== 0) throw new Error(`create-nimble failed:\n${createOutput.stderr}`);
  written = tree(project);

  // The packages are not on the registry: every @nimble/* (and create-nimble, which @nimble/cli
  // depends on) comes from its tarball, the project's own dependencies and the transitive ones.
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  const fromTarball = Object.fromEntries(
    [...tarballs].map(([name, file]) => [name, `file:${file}`]),
  );
  for (const section of ['dependencies', 'devDependencies']) {
    for (const name of Object.keys(manifest[section])) {
      if (fromTarball[name]) manifest[section][name] = fromTarball[name];
    }
  }
  manifest.overrides = fromTarball;
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const install = await timed('npm install', () =>
    exec('npm', ['install', '--no-audit', '--no-fund'], project),
  );
  if (install.code !== 0)
    throw new Error(`npm install failed:\n${install.stdout}${install.stderr}`);
}, 1_200_000);

afterAll(async () => {
  if (cluster && cluster.exitCode === null && cluster.signalCode === null) {
    const exited = new Promise((r) => cluster!.once('exit', r));
    cluster.kill('SIGKILL');
    await exited;
  }
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`project template timings (ms): ${JSON.stringify(timings)}`);
});

describe('a project from the template, on the packed packages', () => {
  it('is written by create-nimble from its tarball, outside the repository, with next steps', () => {
    expect(relative(REPO_ROOT, project).startsWith('..')).toBe(true);
    expect(Object.keys(written).sort()).toEqual([
      '.gitignore',
      'README.md',
      'package.json',
      'src/job.ts',
      'src/pipeline.ts',
      'test/job.test.ts',
      'tsconfig.json',
    ]);
    expect(JSON.parse(written['package.json']!).name).toBe('my-pipeline');
    expect(createOutput.stdout).toContain(`Created my-pipeline in ${realpathSync(project)}`);
    expect(createOutput.stdout).toContain('\n  cd my-pipeline\n  npm install\n');
  });

  it('installs the packages themselves from the tarballs: built JavaScript, no sources', () => {
    for (const name of ['@nimble/api', '@nimble/cli', '@nimble/runtime', 'create-nimble']) {
      const dir = realpathSync(join(project, 'node_modules', name));
      expect(relative(realpathSync(project), dir).startsWith('..'), name).toBe(false);
      const files = readdirSync(dir);
      expect(files, name).toContain('dist');
      expect(files, name).not.toContain('src');
    }
  });

  it('writes the same project with nimble init, from the installed @nimble/cli', async () => {
    const init = await exec(
      process.execPath,
      [
        join(project, 'node_modules/@nimble/cli/bin/nimble.mjs'),
        'init',
        join(work, 'again'),
        '--name',
        'my-pipeline',
      ],
      work,
    );
    expect(init.code, init.stderr).toBe(0);
    expect(tree(join(work, 'again'))).toEqual(written);
  }, 120_000);

  it('passes tsc --noEmit', async () => {
    const tsc = await timed('tsc', () => exec('npx', ['tsc', '--noEmit'], project));
    expect(tsc, 'tsc').toEqual({ code: 0, stdout: '', stderr: '' });
  }, 300_000);

  it('passes its own test: the pipeline in-process, with exact output', async () => {
    const test = await timed('npm test', () => exec('npm', ['test'], project));
    expect(test.code, `${test.stdout}\n${test.stderr}`).toBe(0);
    expect(test.stdout).toMatch(/Tests {2}2 passed \(2\)/);
  }, 300_000);

  it('runs with npm run submit on nimble local, started from the installed CLI, and finishes', async () => {
    // Ports from 0: other tests run clusters beside this one.
    const local = spawn(
      process.execPath,
      [
        join(project, 'node_modules/@nimble/cli/bin/nimble.mjs'),
        'local',
        '-n',
        '1',
        '-D',
        'jobmanager.rpc.port=0',
        '-D',
        'rest.port=0',
      ],
      { cwd: project, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cluster = local;
    let stdout = '';
    let stderr = '';
    local.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    local.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await timed('nimble local start', () =>
      until(
        () => stderr.includes('Local cluster:') || local.exitCode !== null,
        180_000,
        'nimble local to start',
      ),
    );
    const address = /Local cluster: JobManager 127\.0\.0\.1:(\d+)/.exec(stderr);
    expect(address, stderr).not.toBeNull();

    // `submit` is `nimble run src/job.ts`: the JobManager comes from the configuration.
    const submit = await timed('npm run submit', () =>
      exec(
        'npm',
        ['run', 'submit'],
        project,
        userEnv({ NIMBLE_PROPERTIES: `jobmanager.rpc.port: ${address![1]}` }),
      ),
    );
    expect(submit.code, `${submit.stdout}\n${submit.stderr}`).toBe(0);
    expect(submit.stdout).toMatch(/Job has been submitted with JobID [0-9a-f]{32}\n/);
    expect(submit.stdout).toMatch(/Job with JobID [0-9a-f]{32} has finished\./);
    expect(submit.stderr).toMatch(/Job [0-9a-f]{32} is FINISHED\n/);

    // print() writes on the TaskManager, whose stdout is nimble local's.
    const printed = (): string[] =>
      stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.replace(/^\d+> /, ''));
    await until(() => printed().length >= JOB_OUTPUT.length, 60_000, 'the job output');
    expect(printed().sort()).toEqual([...JOB_OUTPUT].sort());

    const exited = new Promise<number | null>((r) => local.once('exit', (code) => r(code)));
    local.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 600_000);
});

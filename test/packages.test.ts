/**
 * The packages as a user gets them: `pnpm pack:packages`'s tarballs, installed with plain npm
 * (no pnpm, no workspace) into an empty ESM project outside the repository. Third-party
 * dependencies come from the npm registry. One pack and one install serve every case.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackages, withPackLock } from '../scripts/pack-packages.ts';
import { REPO_ROOT } from '../scripts/build-packages.ts';

const run = promisify(execFile);

/** The file paths an `exports` field points at (its leaves, whatever the conditions). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap(exportTargets);
}

/** The paths a tarball holds, sorted. */
async function tarFiles(file: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', file]);
  return stdout
    .split('\n')
    .filter((f) => f !== '')
    .sort();
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in `cwd`; resolves with its exit code and output whatever the code. */
async function exec(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
      env: USER_ENV,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: `${err.stderr ?? ''}${typeof err.code === 'string' ? ` (${err.code})` : ''}`,
    };
  }
}

// A keyed running count of 300 generated records over three keys; the last count per key.
const COUNT_JOB = `import { StreamExecutionEnvironment, WatermarkStrategy } from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(2);
const source = new DataGeneratorSource((i: number): [string, number] => [\`k\${i % 3}\`, 1], 300);
const counts = await env
  .fromSource(source, WatermarkStrategy.noWatermarks(), 'events')
  .keyBy((e) => e[0])
  .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
  .executeAndCollect('count-job');
const last: Record<string, number> = {};
for (const [k, n] of counts) last[k] = Math.max(last[k] ?? 0, n);
console.log(\`RESULT \${JSON.stringify(last, Object.keys(last).sort())}\`);
`;
const EXPECTED = 'RESULT {"k0":100,"k1":100,"k2":100}';

/** The job as plain JavaScript: the type annotations removed. */
const COUNT_JOB_JS = COUNT_JOB.replace('(i: number): [string, number] =>', '(i) =>')
  .replace('(a, b): [string, number] =>', '(a, b) =>')
  .replace('const last: Record<string, number> = {};', 'const last = {};');

/**
 * A user's environment rather than the workspace's: without what pnpm and vitest set for their
 * children (npm_* package and lifecycle variables, the pnpm user agent, NODE_OPTIONS, VITEST),
 * but with the npm registry, cache and proxy settings the machine has.
 */
const USER_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      !/^(npm_|NODE_OPTIONS$|NODE_ENV$|VITEST|PNPM_)/i.test(k) ||
      /^npm_config_(registry|cache|(https?_)?proxy|noproxy|strict_ssl|cafile)$/i.test(k),
  ),
);

let scratch: string;
let project: string;
let tarballs: Map<string, string>;
const timings: Record<string, number> = {};

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'nimble-packages-'));
  let started = performance.now();
  tarballs = await packPackages({ outDir: join(scratch, 'tarballs') });
  timings.pack = performance.now() - started;

  project = join(scratch, 'project');
  mkdirSync(project);
  const init = await exec('npm', ['init', '-y'], project);
  expect(init.code, init.stderr).toBe(0);
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ ...manifest, type: 'module' }, null, 2),
  );
  started = performance.now();
  const install = await exec(
    'npm',
    ['install', '--no-audit', '--no-fund', ...tarballs.values()],
    project,
    600_000,
  );
  timings.install = performance.now() - started;
  expect(install.code, install.stderr).toBe(0);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['job.ts'],
    }),
  );
  writeFileSync(join(project, 'job.ts'), COUNT_JOB);
  writeFileSync(join(project, 'job.mjs'), `import '@nimble/runtime/local';\n${COUNT_JOB_JS}`);
}, 900_000);

afterAll(() => {
  process.stdout.write(
    `packages.test.ts: pack ${Math.round(timings.pack ?? 0)} ms, npm install ${Math.round(timings.install ?? 0)} ms\n`,
  );
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the packages installed with npm in an empty project', () => {
  it('a plain .mjs job runs in-process with node', async () => {
    const out = await exec(process.execPath, ['job.mjs'], project);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(`${EXPECTED}\n`);
  });

  it('a .ts job type-checks against the .d.ts; one with a type error does not', async () => {
    const tsc = join(project, 'node_modules', '.bin', 'tsc');
    const ok = await exec(tsc, ['-p', 'tsconfig.json'], project);
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.code).toBe(0);

    writeFileSync(
      join(project, 'bad.ts'),
      "import { StreamExecutionEnvironment } from '@nimble/api';\n" +
        'const env = StreamExecutionEnvironment.getExecutionEnvironment();\n' +
        "env.setParallelism('2');\n",
    );
    const config = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8'));
    writeFileSync(
      join(project, 'tsconfig.bad.json'),
      JSON.stringify({
        // The packages' declarations were checked above: the libraries need not be again.
        compilerOptions: { ...config.compilerOptions, skipLibCheck: true },
        files: ['bad.ts'],
      }),
    );
    const bad = await exec(tsc, ['-p', 'tsconfig.bad.json'], project);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain(
      "bad.ts(3,20): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.",
    );
  });

  it('npx nimble local runs the .ts job on a cluster of processes from the installation', async () => {
    const out = await exec('npx', ['nimble', 'local', '-n', '2', 'job.ts'], project, 600_000);
    expect(out.code, `${out.stderr}\n${out.stdout}`).toBe(0);
    // The daemons' log lines are JSON objects; what the job printed is the rest.
    const printed = out.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('{"level"'));
    expect(printed).toContain(EXPECTED);
    expect(printed.some((l) => /^Job with JobID [0-9a-f]{32} has finished\.$/.test(l))).toBe(true);
  });
});

describe('the tarballs', () => {
  it('hold dist/, README.md, LICENSE and a manifest into dist/, no sources or tests', async () => {
    expect([...tarballs.keys()].sort()).toEqual([
      '@nimble/api',
      '@nimble/cli',
      '@nimble/client',
      '@nimble/connector-datagen',
      '@nimble/connector-files',
      '@nimble/connector-kafka',
      '@nimble/connector-postgres',
      '@nimble/connector-redis',
      '@nimble/format-avro',
      '@nimble/jobmanager',
      '@nimble/proto',
      '@nimble/runtime',
      '@nimble/sql',
      '@nimble/state-processor',
      '@nimble/taskmanager',
      '@nimble/test-utils',
      'create-nimble',
    ]);
    for (const [name, file] of tarballs) {
      const { stdout: listing } = await run('tar', ['-tzf', file]);
      // create-nimble's template/ holds a new project's sources by design: copied, never run.
      const files = listing
        .split('\n')
        .filter((f) => f !== '' && !f.startsWith('package/template/'));
      expect(files, name).toEqual(
        expect.arrayContaining(['package/README.md', 'package/LICENSE', 'package/package.json']),
      );
      expect(
        files.filter((f) => f.startsWith('package/src/') || /\.test\./.test(f)),
        name,
      ).toEqual([]);
      expect(
        files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
        name,
      ).toEqual([]);
      const { stdout } = await run('tar', ['-xOzf', file, 'package/package.json']);
      const manifest = JSON.parse(stdout);
      expect(manifest, name).toMatchObject({
        name,
        version: '0.1.0',
        license: 'Apache-2.0',
        engines: { node: '>=20.10' },
      });
      expect(manifest.publishConfig, name).toBeUndefined();
      expect(JSON.stringify(manifest.dependencies ?? {}), name).not.toContain('workspace:');
      expect(manifest.exports['.'], name).toEqual({
        types: './dist/index.d.ts',
        default: './dist/index.js',
      });
      for (const target of exportTargets(manifest.exports)) {
        expect(target, name).toMatch(/^\.\/dist\//);
        expect(files, name).toContain(`package/${target.slice(2)}`);
      }
    }
    const cli = JSON.parse(
      (await run('tar', ['-xOzf', tarballs.get('@nimble/cli')!, 'package/package.json'])).stdout,
    );
    expect(cli.bin).toEqual({ nimble: './bin/nimble.mjs' });
  });

  it('npm pack in a package directory packs what pnpm pack does, and keeps package.json', async () => {
    const dir = join(REPO_ROOT, 'packages', 'connector-datagen');
    const workspaceManifest = readFileSync(join(dir, 'package.json'), 'utf8');
    const out = join(scratch, 'npm-pack');
    mkdirSync(out);
    // Under the pack lock: npm pack's prepack builds the package's dist/, which another test
    // file's pack must not be packing meanwhile.
    const packed = await withPackLock(() => exec('npm', ['pack', '--pack-destination', out], dir));
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(out, 'nimble-connector-datagen-0.1.0.tgz');
    const manifest = async (file: string) =>
      JSON.parse((await run('tar', ['-xOzf', file, 'package/package.json'])).stdout);
    const byPnpm = tarballs.get('@nimble/connector-datagen')!;
    expect(await manifest(tarball)).toEqual(await manifest(byPnpm));
    expect(await tarFiles(tarball)).toEqual(await tarFiles(byPnpm));
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(workspaceManifest);
    expect(existsSync(join(dir, 'package.json.before-pack'))).toBe(false);
  });
});

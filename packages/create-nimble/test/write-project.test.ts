import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  main,
  nextSteps,
  projectNameProblem,
  ProjectSetupError,
  TEMPLATE_DIR,
  writeProject,
} from '../src/index.js';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'create-nimble-test-'));
  dirs.push(dir);
  return dir;
}

const readJson = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8'));

/** Runs create-nimble's main with `args` and returns its exit code and output. */
function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('writeProject', () => {
  it('writes the template with the name in package.json and README.md, and a .gitignore', () => {
    const dir = join(tempDir(), 'my-pipeline');
    const project = writeProject(dir);
    expect(project).toEqual({
      dir,
      name: 'my-pipeline',
      files: [
        '.gitignore',
        'README.md',
        'package.json',
        'src/job.ts',
        'src/pipeline.ts',
        'test/job.test.ts',
        'tsconfig.json',
      ],
    });
    const pkg = readJson(join(dir, 'package.json'));
    expect(pkg['name']).toBe('my-pipeline');
    expect(pkg['type']).toBe('module');
    expect(pkg['scripts']).toEqual({
      dev: 'nimble local src/job.ts',
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
      submit: 'nimble run src/job.ts',
    });
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# my-pipeline\n/);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('node_modules/');
    for (const file of project.files)
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toContain('{{name}}');
    // The job and its test are the template's, byte for byte.
    expect(readFileSync(join(dir, 'src/job.ts'), 'utf8')).toBe(
      readFileSync(join(TEMPLATE_DIR, 'src/job.ts'), 'utf8'),
    );
  });

  it("depends on this repository's public packages at their version", () => {
    const pkg = readJson(join(TEMPLATE_DIR, 'package.json'));
    const nimble = Object.entries({ ...pkg['dependencies'], ...pkg['devDependencies'] }).filter(
      ([name]) => name.startsWith('@nimble/'),
    );
    expect(nimble.map(([name]) => name).sort()).toEqual([
      '@nimble/api',
      '@nimble/cli',
      '@nimble/connector-datagen',
      '@nimble/test-utils',
    ]);
    const workspace = new Map(
      readdirSync(packagesDir).map((d) => {
        const p = readJson(join(packagesDir, d, 'package.json'));
        return [p['name'] as string, p];
      }),
    );
    for (const [name, range] of nimble) {
      const own = workspace.get(name);
      expect(own, name).toBeDefined();
      expect(own!['private'], name).toBeUndefined();
      expect(range, name).toBe(`^${own!['version']}`);
    }
  });

  it('writes into an empty directory that exists, with --name over the directory name', () => {
    const dir = tempDir();
    expect(writeProject(dir, { name: '@acme/spend-features' }).name).toBe('@acme/spend-features');
    expect(readJson(join(dir, 'package.json'))['name']).toBe('@acme/spend-features');
  });

  it('refuses a directory that holds anything, and writes nothing there', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(() => writeProject(dir, { name: 'x' })).toThrow(
      new ProjectSetupError(
        `${dir} is not empty (it holds notes.txt): give a new or empty directory, ` +
          'so that no file of yours is overwritten',
      ),
    );
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('points the Nimble dependencies at tarballs with --packages, and refuses a folder without', () => {
    const packages = tempDir();
    for (const file of ['nimble-api-0.1.0.tgz', 'nimble-cli-0.1.0.tgz', 'create-nimble-0.1.0.tgz'])
      writeFileSync(join(packages, file), '');
    writeFileSync(join(packages, 'notes.txt'), '');
    const dir = join(tempDir(), 'p');
    writeProject(dir, { packages });
    const manifest = readJson(join(dir, 'package.json'));
    expect(manifest['dependencies']['@nimble/api']).toBe(
      `file:${join(packages, 'nimble-api-0.1.0.tgz')}`,
    );
    expect(manifest['dependencies']['@nimble/connector-datagen']).toBe('^0.1.0');
    expect(manifest['devDependencies']['@nimble/cli']).toBe(
      `file:${join(packages, 'nimble-cli-0.1.0.tgz')}`,
    );
    expect(manifest['overrides']).toEqual({
      '@nimble/api': `file:${join(packages, 'nimble-api-0.1.0.tgz')}`,
      '@nimble/cli': `file:${join(packages, 'nimble-cli-0.1.0.tgz')}`,
      'create-nimble': `file:${join(packages, 'create-nimble-0.1.0.tgz')}`,
    });

    const empty = tempDir();
    const target = join(tempDir(), 'q');
    expect(() => writeProject(target, { packages: empty })).toThrow(
      `--packages ${empty} holds no Nimble package tarballs (nimble-api-<version>.tgz, ...): ` +
        'run `pnpm pack:packages` in a Nimble checkout and give its build/packages directory',
    );
    expect(readdirSync(join(target, '..'))).toEqual([]);
  });

  it('refuses a path that is a file', () => {
    const file = join(tempDir(), 'taken');
    writeFileSync(file, '');
    expect(() => writeProject(file)).toThrow(`${file} exists and is not a directory`);
  });

  it('refuses a directory name npm would not take, before creating anything', () => {
    const parent = tempDir();
    expect(() => writeProject(join(parent, 'My Pipeline'))).toThrow(
      new ProjectSetupError(
        'The directory name "My Pipeline" is not a valid package name (a package name cannot ' +
          'have capital letters): choose another directory, or give the name with --name',
      ),
    );
    expect(() => writeProject(join(parent, 'ok'), { name: 'fs' })).toThrow(
      '--name "fs" is not a valid package name ("fs" is the name of a Node.js built-in module)',
    );
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('projectNameProblem', () => {
  it.each(['my-pipeline', 'a', 'spend.features_2', '@acme/spend-features', 'x'.repeat(214)])(
    'takes %s',
    (name) => expect(projectNameProblem(name)).toBeUndefined(),
  );
  it.each([
    ['', 'a package name cannot be empty'],
    [' x', 'a package name cannot start or end with spaces'],
    ['x'.repeat(215), 'a package name has at most 214 characters; this one has 215'],
    ['.hidden', 'a package name cannot start with a period or an underscore'],
    ['_private', 'a package name cannot start with a period or an underscore'],
    ['@acme/_x', 'a package name cannot start with a period or an underscore'],
    ['MyPipeline', 'a package name cannot have capital letters'],
    ['wow!', "a package name cannot have any of the characters ~'!()*"],
    ['node_modules', '"node_modules" is a reserved name'],
    ['http', '"http" is the name of a Node.js built-in module'],
    ['my pipeline', 'a package name can only have URL-safe characters: letters, digits and -._~'],
    ['a/b', 'a package name can only have URL-safe characters: letters, digits and -._~'],
  ])('refuses %j: %s', (name, problem) => expect(projectNameProblem(name)).toBe(problem));
});

describe('nextSteps', () => {
  const project = { dir: '/work/p/my-pipeline', name: 'my-pipeline', files: [] };
  it('says where to cd, relative when below the current directory, then the scripts', () => {
    expect(nextSteps(project, '/work')).toBe(
      [
        'Created my-pipeline in /work/p/my-pipeline',
        '',
        'Next steps:',
        '  cd p/my-pipeline',
        '  npm install',
        "  npm test          # runs the job's pipeline in-process and checks its output",
        '  npm run dev       # runs the job on a local cluster (nimble local)',
        '  npm run submit    # submits the job to your cluster (nimble run)',
        '',
        'README.md in the project says more.',
        '',
      ].join('\n'),
    );
  });
  it('gives an absolute path from elsewhere, quoted when needed, and no cd from the project', () => {
    expect(nextSteps(project, '/other')).toContain('\n  cd /work/p/my-pipeline\n');
    expect(nextSteps({ ...project, dir: "/a b/it's" }, '/x')).toContain(`\n  cd '/a b/it'\\''s'\n`);
    expect(nextSteps(project, '/work/p/my-pipeline')).not.toContain('cd ');
  });
});

describe('create-nimble', () => {
  it('writes the project and prints the next steps', () => {
    const dir = join(tempDir(), 'spend');
    const r = run([dir]);
    expect(r).toEqual({ code: 0, out: nextSteps(writtenAt(dir)), err: '' });
  });
  it('exits 2 with the reason and the usage on bad usage', () => {
    const none = run([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^create-nimble: give the directory of the new project\n\nUsage: /);
    expect(run(['a', 'b']).err).toMatch(/^create-nimble: one directory only; got a b\n/);
    expect(run(['--nme', 'x', 'a']).code).toBe(2);
    const dir = join(tempDir(), 'taken');
    mkdirSync(join(dir, 'src'), { recursive: true });
    expect(run([dir])).toEqual({
      code: 2,
      out: '',
      err: `create-nimble: ${dir} is not empty (it holds src): give a new or empty directory, so that no file of yours is overwritten\n`,
    });
  });
  it('prints its usage with --help', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^Usage: create-nimble <directory> \[--name <name>\] \[--packages <dir>\]\n/,
    );
    expect(r.out).toContain('npm create nimble@latest my-pipeline');
  });
});

/** The project a successful run wrote, as writeProject describes it. */
function writtenAt(dir: string) {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
  return { dir, name: readJson(join(dir, 'package.json'))['name'] as string, files };
}

/**
 * A project of one's own, as a user starts it: the packages packed into tarballs, `create-nimble`
 * run from its tarball in a temporary folder outside the repository, the project's @nimble/*
 * dependencies pointed at the tarballs and installed with plain npm (third-party packages from
 * the registry), then its `tsc`, its own test, and `npm run submit` against a `nimble local`
 * started from the project's installed @nimble/cli. One pack and one install serve every case.
 */
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/build-packages.ts';
import type { ProjectCluster, TemplateProject, Timings } from './fixtures/template-project.js';
import {
  exec,
  installTemplateProject,
  startProjectCluster,
  TEMPLATE_JOB_OUTPUT,
  timed,
  tree,
  until,
  userEnv,
} from './fixtures/template-project.js';

/** What the template's job prints: each user's spend in the two windows (its test's rows). */
const JOB_OUTPUT = TEMPLATE_JOB_OUTPUT;

let work: string;
let project: TemplateProject;
let cluster: ProjectCluster | undefined;
const timings: Timings = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-project-template-'));
  project = await installTemplateProject(work, timings);
}, 1_200_000);

afterAll(async () => {
  if (cluster) {
    cluster.child.kill('SIGKILL');
    await cluster.stop();
  }
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`project template timings (ms): ${JSON.stringify(timings)}`);
});

describe('a project from the template, on the packed packages', () => {
  it('is written by create-nimble from its tarball, outside the repository, with next steps', () => {
    expect(relative(REPO_ROOT, project.dir).startsWith('..')).toBe(true);
    expect(Object.keys(project.written).sort()).toEqual([
      '.gitignore',
      'README.md',
      'package.json',
      'src/job.ts',
      'src/pipeline.ts',
      'test/job.test.ts',
      'tsconfig.json',
    ]);
    expect(JSON.parse(project.written['package.json']!).name).toBe('my-pipeline');
    expect(project.created.stdout).toContain(`Created my-pipeline in ${realpathSync(project.dir)}`);
    expect(project.created.stdout).toContain('\n  cd my-pipeline\n  npm install\n');
  });

  it('installs the packages themselves from the tarballs: built JavaScript, no sources', () => {
    for (const name of ['@nimble/api', '@nimble/cli', '@nimble/runtime', 'create-nimble']) {
      const dir = realpathSync(join(project.dir, 'node_modules', name));
      expect(relative(realpathSync(project.dir), dir).startsWith('..'), name).toBe(false);
      const files = readdirSync(dir);
      expect(files, name).toContain('dist');
      expect(files, name).not.toContain('src');
    }
  });

  it('writes the same project with nimble init, from the installed @nimble/cli', async () => {
    const init = await exec(
      process.execPath,
      [
        join(project.dir, 'node_modules/@nimble/cli/bin/nimble.mjs'),
        'init',
        join(work, 'again'),
        '--name',
        'my-pipeline',
        '--packages',
        join(work, 'packages'),
      ],
      work,
    );
    expect(init.code, init.stderr).toBe(0);
    expect(tree(join(work, 'again'))).toEqual(project.written);
  }, 120_000);

  it('passes tsc --noEmit', async () => {
    const tsc = await timed(timings, 'tsc', () => exec('npx', ['tsc', '--noEmit'], project.dir));
    expect(tsc, 'tsc').toEqual({ code: 0, stdout: '', stderr: '' });
  }, 300_000);

  it('passes its own test: the pipeline in-process, with exact output', async () => {
    const test = await timed(timings, 'npm test', () => exec('npm', ['test'], project.dir));
    expect(test.code, `${test.stdout}\n${test.stderr}`).toBe(0);
    expect(test.stdout).toMatch(/Tests {2}2 passed \(2\)/);
  }, 300_000);

  it('runs with npm run submit on nimble local, started from the installed CLI, and finishes', async () => {
    const local = await timed(timings, 'nimble local start', () =>
      startProjectCluster(project.dir),
    );
    cluster = local;

    // `submit` is `nimble run src/job.ts`: the JobManager comes from the configuration.
    const submit = await timed(timings, 'npm run submit', () =>
      exec(
        'npm',
        ['run', 'submit'],
        project.dir,
        userEnv({ NIMBLE_PROPERTIES: `jobmanager.rpc.port: ${local.port}` }),
      ),
    );
    expect(submit.code, `${submit.stdout}\n${submit.stderr}`).toBe(0);
    expect(submit.stdout).toMatch(/Job has been submitted with JobID [0-9a-f]{32}\n/);
    expect(submit.stdout).toMatch(/Job with JobID [0-9a-f]{32} has finished\./);
    expect(submit.stderr).toMatch(/Job [0-9a-f]{32} is FINISHED\n/);

    // print() writes on the TaskManager, whose stdout is nimble local's.
    const printed = (): string[] =>
      local
        .stdout()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.replace(/^\d+> /, ''));
    await until(() => printed().length >= JOB_OUTPUT.length, 60_000, 'the job output');
    expect(printed().sort()).toEqual([...JOB_OUTPUT].sort());

    expect(await local.stop()).toBe(0);
    cluster = undefined;
  }, 600_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nimble, TestCluster } from './fixtures/cluster.js';

// A job with a type error that still runs: the annotation is wrong, the value works at run time.
const ILL_TYPED_JOB = [
  "import { StreamExecutionEnvironment } from '@nimble/api';",
  '',
  'const env = StreamExecutionEnvironment.getExecutionEnvironment();',
  "const factor: number = '2';",
  'const out = await env',
  '  .fromElements(1, 2, 3)',
  '  .map((x) => x * Number(factor))',
  "  .executeAndCollect('ill-typed');",
  'process.stdout.write(`RESULT ${JSON.stringify(out)}\\n`);',
  '',
].join('\n');

// Well typed only without `strict` (an implicit any): its own tsconfig.json says so.
const LOOSE_JOB = [
  "import { StreamExecutionEnvironment } from '@nimble/api';",
  '',
  'function triple(x) {',
  '  return x * 3;',
  '}',
  'const env = StreamExecutionEnvironment.getExecutionEnvironment();',
  "const out = await env.fromElements(1, 2).map(triple).executeAndCollect('loose');",
  // No @types/node in this project: console is the default lib's (DOM).
  'console.log(`RESULT ${JSON.stringify(out)}`);',
  '',
].join('\n');

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  cluster = await TestCluster.start({ taskManagers: 1 });
  // A project of its own outside the repository: no tsconfig.json (the defaults apply), ESM.
  dir = mkdtempSync(join(tmpdir(), 'nimble-typecheck-cli-'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nimble run type-checks the job', () => {
  it('refuses a job with a type error, printing it as tsc does; --no-typecheck submits it', async () => {
    const job = join(dir, 'ill-typed-job.ts');
    writeFileSync(job, ILL_TYPED_JOB);

    const refused = await nimble(['run', '-m', cluster.address, job], {}, true);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(
      "ill-typed-job.ts(4,7): error TS2322: Type 'string' is not assignable to type 'number'.\n",
    );
    expect(refused.stderr).toContain(
      `nimble: ${job} has 1 type error (checked with the default compiler options): not submitted. ` +
        'Fix them, or submit without the check with --no-typecheck.\n',
    );
    expect(refused.stdout).toBe('');
    expect((await cluster.rest('/jobs/overview')).jobs).toEqual([]);

    const run = await nimble(['run', '--no-typecheck', '-m', cluster.address, job], {}, true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('RESULT [2,4,6]\n');
    expect(run.stderr).not.toContain('TS2322');
    const jobs = (await cluster.rest('/jobs/overview')).jobs as { name: string; state: string }[];
    expect(jobs.map((j) => [j.name, j.state])).toEqual([['ill-typed', 'FINISHED']]);
  }, 180_000);

  it("checks a job with its own tsconfig.json's compilerOptions and submits it when they pass", async () => {
    const project = join(dir, 'loose');
    mkdirSync(join(project, 'jobs'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: false,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
        },
      }),
    );
    const job = join(project, 'jobs', 'loose-job.ts');
    writeFileSync(job, LOOSE_JOB);

    const run = await nimble(['run', '-m', cluster.address, job], {}, true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('RESULT [3,6]\n');
    const jobs = (await cluster.rest('/jobs/overview')).jobs as { name: string }[];
    expect(jobs.map((j) => j.name).sort()).toEqual(['ill-typed', 'loose']);
  }, 180_000);
});

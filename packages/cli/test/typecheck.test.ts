import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTypeErrors, typeCheckJob } from '../src/typecheck.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A project folder outside the repository with `files` (relative path -> text). */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimble-typecheck-test-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

// An implicit any: an error under strict, none without it.
const LOOSE_JOB = [
  "import { StreamExecutionEnvironment } from '@nimble/api';",
  'function double(x) {',
  '  return x * 2;',
  '}',
  'const env = StreamExecutionEnvironment.getExecutionEnvironment();',
  'env.fromElements(1, 2, 3).map(double).print();',
  "await env.execute('loose');",
  '',
].join('\n');

describe('typeCheckJob', () => {
  it('checks a job without a tsconfig.json with the strict defaults, @nimble/* from this installation', () => {
    const dir = project({ 'job.ts': LOOSE_JOB });
    const checked = typeCheckJob(join(dir, 'job.ts'));
    expect(checked.configFile).toBeUndefined();
    expect(checked.errors.map((e) => e.code)).toEqual([7006]);
    expect(formatTypeErrors(checked.errors).replaceAll('\\', '/')).toMatch(
      /job\.ts\(2,17\): error TS7006: Parameter 'x' implicitly has an 'any' type\.\n$/,
    );
  }, 120_000);

  it('checks a job with the compilerOptions of the nearest tsconfig.json above it, as tsc finds it', () => {
    const dir = project({
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          strict: false,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          skipLibCheck: true,
        },
        // Other files of the project are not the job's business: this one does not compile.
        include: ['src/**/*.ts'],
      }),
      'src/jobs/loose-job.ts': LOOSE_JOB,
      'src/broken.ts': 'export const n: number = "not checked";\n',
    });
    const checked = typeCheckJob(join(dir, 'src/jobs/loose-job.ts'));
    expect(checked.configFile).toBe(join(dir, 'tsconfig.json').replaceAll('\\', '/'));
    expect(formatTypeErrors(checked.errors)).toBe('');
  }, 120_000);

  it('does not check a JavaScript job, as tsc does not', () => {
    const dir = project({ 'job.mjs': 'const n = 1;\nn.notAMethod();\n' });
    expect(typeCheckJob(join(dir, 'job.mjs'))).toEqual({ configFile: undefined, errors: [] });
  });

  it('reports a tsconfig.json that is not valid JSON as tsc does', () => {
    const dir = project({ 'tsconfig.json': '{ "compilerOptions": { ', 'job.ts': LOOSE_JOB });
    const checked = typeCheckJob(join(dir, 'job.ts'));
    expect(checked.errors.length).toBeGreaterThan(0);
    expect(formatTypeErrors(checked.errors)).toMatch(/tsconfig\.json\(1,\d+\): error TS\d+: /);
  });

  it("gives the repository's verdict on an example job (its tsconfig.json), then remembers it", () => {
    const job = join(repo, 'packages/examples/src/user-spend.ts');
    const checked = typeCheckJob(job);
    expect(checked.configFile).toBe(join(repo, 'tsconfig.json').replaceAll('\\', '/'));
    expect(formatTypeErrors(checked.errors)).toBe('');
    // Unchanged files: the remembered verdict, without building the program again.
    const started = performance.now();
    expect(typeCheckJob(job).errors).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  }, 180_000);
});

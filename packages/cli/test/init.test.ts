import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextSteps, writeProject } from 'create-nimble';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandError } from '../src/commands.js';
import { initProject } from '../src/init.js';
import { createProgram } from '../src/main.js';

const BIN = fileURLToPath(new URL('../bin/nimble.mjs', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimble-init-test-'));
  dirs.push(dir);
  return dir;
}

/** Every file under `dir` with its text, relative paths in `/` form. */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const path = join(e.parentPath, e.name);
        return [path.slice(dir.length + 1).replaceAll('\\', '/'), readFileSync(path, 'utf8')];
      }),
  );
}

describe('nimble init', () => {
  it('writes the project create-nimble writes and prints the next steps', () => {
    const parent = tempDir();
    let printed = '';
    const code = initProject(join(parent, 'my-pipeline'), {}, (t) => (printed += t));
    expect(code).toBe(0);
    const project = writeProject(join(parent, 'reference'), { name: 'my-pipeline' });
    expect(tree(join(parent, 'my-pipeline'))).toEqual(tree(project.dir));
    expect(printed).toBe(nextSteps({ ...project, dir: join(parent, 'my-pipeline') }));
    expect(JSON.parse(readFileSync(join(parent, 'my-pipeline/package.json'), 'utf8')).name).toBe(
      'my-pipeline',
    );
  });

  it('takes the package name from --name', () => {
    const dir = join(tempDir(), 'Features');
    initProject(dir, { name: 'features' }, () => {});
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name).toBe('features');
  });

  it('refuses a name npm would not take with exit code 2', () => {
    const dir = join(tempDir(), 'Features');
    expect(() => initProject(dir, {}, () => {})).toThrow(
      new CommandError(
        'The directory name "Features" is not a valid package name (a package name cannot have ' +
          'capital letters): choose another directory, or give the name with --name',
        2,
      ),
    );
  });

  it('exits 2 from the command line on a non-empty directory, saying so, and keeps its files', () => {
    const dir = join(tempDir(), 'taken');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const r = spawnSync(process.execPath, [BIN, 'init', dir], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `nimble: ${dir} is not empty (it holds data): give a new or empty directory, ` +
        'so that no file of yours is overwritten\n',
    );
    expect(readdirSync(dir)).toEqual(['data']);
  }, 60_000);

  it('is listed in nimble --help and explains itself in nimble init --help', () => {
    const program = createProgram(() => {});
    expect(program.helpInformation()).toMatch(/\n {2}init \[options\] <dir> +write a new project/);
    const help = program.commands.find((c) => c.name() === 'init')!.helpInformation();
    expect(help).toMatch(/^Usage: nimble init \[options\] <dir>\n/);
    expect(help).toContain('--name <name>');
    expect(help).toContain("the project's package name (default: the directory's name)");
  });
});

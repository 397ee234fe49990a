// Writes the project template (this package's template/ folder) to a new directory, for both
// `npm create nimble` and `nimble init`.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectNameProblem } from './project-name.js';

/** The template, beside src/ in the repository and beside dist/ in the package. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../template/', import.meta.url));

/** Placeholder the template's files hold where the project's name goes. */
const NAME_PLACEHOLDER = '{{name}}';

/**
 * Template files stored under another name: npm leaves `.gitignore` files out of packages, so
 * the template holds it as `gitignore`.
 */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** A project could not be written as asked: a bad name or a directory in the way. */
export class ProjectSetupError extends Error {
  override readonly name = 'ProjectSetupError';
}

/** Options of {@link writeProject}. */
export interface ProjectOptions {
  /** The package name; default: the directory's name. */
  readonly name?: string;
  /**
   * A directory of package tarballs (`pnpm pack:packages` in a Nimble checkout) to install the
   * Nimble packages from instead of the npm registry.
   */
  readonly packages?: string;
}

/** A project {@link writeProject} wrote. */
export interface WrittenProject {
  /** Its absolute directory. */
  readonly dir: string;
  /** Its package name. */
  readonly name: string;
  /** The files written, relative to `dir`, in `/` form, sorted. */
  readonly files: readonly string[];
}

/** The template's files, relative to {@link TEMPLATE_DIR}, in `/` form. */
function templateFiles(dir = TEMPLATE_DIR, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? templateFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/**
 * Writes a new project to `dir` (created with its parents): a job, its test, `tsconfig.json`,
 * `package.json` with the scripts `dev`, `test`, `typecheck` and `submit`, a README and a
 * `.gitignore`. Refuses a `dir` that exists and is not an empty directory, and a name npm would
 * not take, with a {@link ProjectSetupError}.
 */
export function writeProject(dir: string, options: ProjectOptions = {}): WrittenProject {
  const target = resolve(dir);
  const name = options.name ?? basename(target);
  const problem = projectNameProblem(name);
  if (problem !== undefined) {
    throw new ProjectSetupError(
      options.name === undefined
        ? `The directory name ${JSON.stringify(name)} is not a valid package name (${problem}): ` +
            'choose another directory, or give the name with --name'
        : `--name ${JSON.stringify(name)} is not a valid package name (${problem})`,
    );
  }
  if (existsSync(target)) {
    if (!statSync(target).isDirectory())
      throw new ProjectSetupError(`${target} exists and is not a directory: choose another path`);
    const entries = readdirSync(target);
    if (entries.length > 0) {
      const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', ...' : '');
      throw new ProjectSetupError(
        `${target} is not empty (it holds ${shown}): give a new or empty directory, ` +
          'so that no file of yours is overwritten',
      );
    }
  }
  const tarballs = options.packages === undefined ? undefined : findTarballs(options.packages);
  const files: string[] = [];
  for (const file of templateFiles().sort()) {
    const base = basename(file);
    const out = join(dirname(file), RENAMED[base] ?? base).replaceAll('\\', '/');
    const text = readFileSync(join(TEMPLATE_DIR, file), 'utf8').replaceAll(NAME_PLACEHOLDER, name);
    mkdirSync(join(target, dirname(out)), { recursive: true });
    writeFileSync(join(target, out), text, { flag: 'wx' });
    files.push(out);
  }
  if (tarballs !== undefined) useTarballs(join(target, 'package.json'), tarballs);
  return { dir: target, name, files: files.sort() };
}

/**
 * The package a tarball holds, from the name `pnpm pack` gives it: `nimble-api-0.1.0.tgz` holds
 * `@nimble/api`, `create-nimble-0.1.0.tgz` holds `create-nimble`.
 */
function tarballPackage(file: string): string | undefined {
  const m = /^(.+)-\d+\.\d+\.\d+(?:-[\w.]+)?\.tgz$/.exec(file);
  if (!m) return undefined;
  return m[1]!.startsWith('nimble-') ? `@nimble/${m[1]!.slice('nimble-'.length)}` : m[1];
}

/** The Nimble package tarballs in `dir`: package name -> `file:` specifier. */
function findTarballs(dir: string): Map<string, string> {
  const from = resolve(dir);
  const tarballs = new Map<string, string>();
  if (existsSync(from) && statSync(from).isDirectory()) {
    for (const file of readdirSync(from).sort()) {
      const name = tarballPackage(file);
      if (name !== undefined) tarballs.set(name, `file:${join(from, file)}`);
    }
  }
  if (!tarballs.has('@nimble/api')) {
    throw new ProjectSetupError(
      `--packages ${from} holds no Nimble package tarballs (nimble-api-<version>.tgz, ...): ` +
        'run `pnpm pack:packages` in a Nimble checkout and give its build/packages directory',
    );
  }
  return tarballs;
}

/**
 * Points the project's Nimble dependencies at the tarballs, and (by `overrides`) the packages'
 * dependencies on each other, so `npm install` takes every Nimble package from them.
 */
function useTarballs(manifestPath: string, tarballs: ReadonlyMap<string, string>): void {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    overrides?: Record<string, string>;
  };
  for (const deps of [manifest.dependencies, manifest.devDependencies]) {
    for (const name of Object.keys(deps ?? {})) {
      const tarball = tarballs.get(name);
      if (tarball !== undefined) deps![name] = tarball;
    }
  }
  manifest.overrides = Object.fromEntries(tarballs);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** `path` as a shell word: quoted when it holds anything but safe characters. */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

/** What to do after {@link writeProject}, for a user in `cwd`. */
export function nextSteps(project: WrittenProject, cwd: string = process.cwd()): string {
  const rel = relative(cwd, project.dir);
  const where =
    rel === '' ? undefined : rel.startsWith('..') || isAbsolute(rel) ? project.dir : rel;
  return [
    `Created ${project.name} in ${project.dir}`,
    '',
    'Next steps:',
    ...(where === undefined ? [] : [`  cd ${shellWord(where)}`]),
    '  npm install',
    "  npm test          # runs the job's pipeline in-process and checks its output",
    '  npm run dev       # runs the job on a local cluster (nimble local)',
    '  npm run submit    # submits the job to your cluster (nimble run)',
    '',
    'README.md in the project says more.',
    '',
  ].join('\n');
}

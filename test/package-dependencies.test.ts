/**
 * The dependency arrows between Nimble's packages are the ones their code draws: a package
 * declares a `@nimble/*` dependency exactly when its sources import it (tests may import what
 * the workspace provides), and the packages a cluster runs — api, runtime, jobmanager,
 * taskmanager — reach no connector, format or SQL package, even transitively: a job bundle
 * carries those (see packages/client/src/bundle.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');

interface Manifest {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

interface WorkspacePackage {
  readonly dir: string;
  readonly manifest: Manifest;
}

const packages: WorkspacePackage[] = readdirSync(packagesDir)
  .map((d) => join(packagesDir, d))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest,
  }));

const byName = new Map(packages.map((p) => [p.manifest.name, p]));

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
// create-nimble's template/ holds a new project's sources: copied into the project, never run here.
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'test', 'template']);

/** The source files of a package: everything but its tests, build output and node_modules. */
function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) files.push(...sourceFiles(join(dir, entry.name)));
    } else if (SOURCE.test(entry.name)) {
      files.push(join(dir, entry.name));
    }
  }
  return files;
}

/** Static, type-only and dynamic imports, re-exports and import.meta.resolve of `@nimble/*`. */
const NIMBLE_IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(?\s*|\bimport\.meta\.resolve\(\s*|\brequire\(\s*)['"](@nimble\/[a-z0-9-]+)/g;

/** The `@nimble/*` packages a file imports, comments left out (TSDoc examples show imports). */
function nimbleImports(file: string): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(NIMBLE_IMPORT)].map((m) => m[1]!);
}

/** Who imports what: imported `@nimble/*` package → the files (relative to the root) doing so. */
function importsOf(p: WorkspacePackage): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(p.dir)) {
    for (const name of nimbleImports(file)) {
      if (name === p.manifest.name) continue;
      const files = found.get(name) ?? [];
      if (!files.includes(relative(root, file))) files.push(relative(root, file));
      found.set(name, files);
    }
  }
  return found;
}

function nimbleDeps(record: Record<string, string> | undefined): string[] {
  return Object.keys(record ?? {}).filter((n) => n.startsWith('@nimble/'));
}

/** A package's `@nimble/*` dependencies, direct and transitive (dev dependencies left out). */
function closure(name: string, seen = new Set<string>()): Set<string> {
  const p = byName.get(name);
  if (!p) throw new Error(`No workspace package ${name}`);
  const m = p.manifest;
  for (const dep of [...nimbleDeps(m.dependencies), ...nimbleDeps(m.peerDependencies)]) {
    if (!seen.has(dep)) {
      seen.add(dep);
      closure(dep, seen);
    }
  }
  return seen;
}

describe('package dependencies', () => {
  it('finds the workspace packages and their imports', () => {
    // Guards the scan itself: a regex that matched nothing would pass every check below.
    expect(packages.length).toBeGreaterThanOrEqual(15);
    const runtime = byName.get('@nimble/runtime')!;
    expect([...importsOf(runtime).keys()]).toEqual(['@nimble/api']);
    const cli = importsOf(byName.get('@nimble/cli')!);
    expect(cli.get('@nimble/sql')).toContain('packages/cli/src/sql-session.ts');
    expect(nimbleImports(join(packagesDir, 'cli/src/sql-session.ts'))).toContain('@nimble/sql');
  });

  it('declares every @nimble/* package its sources import', () => {
    const missing: string[] = [];
    for (const p of packages) {
      const declared = new Set([
        ...nimbleDeps(p.manifest.dependencies),
        ...nimbleDeps(p.manifest.peerDependencies),
      ]);
      for (const [name, files] of importsOf(p)) {
        if (!declared.has(name)) {
          missing.push(`${p.manifest.name} imports ${name} (${files.join(', ')})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('depends on a @nimble/* package only when its sources import it', () => {
    const unused: string[] = [];
    for (const p of packages) {
      const imported = importsOf(p);
      for (const name of [
        ...nimbleDeps(p.manifest.dependencies),
        ...nimbleDeps(p.manifest.peerDependencies),
      ]) {
        if (!imported.has(name)) unused.push(`${p.manifest.name} depends on ${name}`);
      }
    }
    expect(unused).toEqual([]);
  });

  it('keeps connectors, formats and SQL out of the packages a cluster runs', () => {
    const forbidden = /^@nimble\/(connector-|format-|sql$)/;
    const reached: string[] = [];
    for (const name of [
      '@nimble/api',
      '@nimble/runtime',
      '@nimble/jobmanager',
      '@nimble/taskmanager',
    ]) {
      const m = byName.get(name)!.manifest;
      const direct = [
        ...nimbleDeps(m.dependencies),
        ...nimbleDeps(m.devDependencies),
        ...nimbleDeps(m.peerDependencies),
      ];
      for (const dep of new Set([...direct, ...closure(name)])) {
        if (forbidden.test(dep)) reached.push(`${name} → ${dep}`);
      }
    }
    expect(reached).toEqual([]);
  });
});

/**
 * Builds the `dist/` of Nimble's public packages: `dist/` mirrors `src/` with ESM `.js` files and
 * their source maps (sources embedded, so `src/` need not ship), `.d.ts` declarations with their
 * maps, and the plain `.mjs` modules of `src/` copied as they are. The package's LICENSE is the
 * repository's, copied beside its package.json.
 *
 *   pnpm build                       # every public package
 *   tsx scripts/build-packages.ts api cli   # some, by directory name
 *
 * Each source file is transformed on its own by esbuild (no bundling: relative imports already
 * name the `.js` file they become); the declarations come from one TypeScript program over all
 * the packages built, whose output is redirected from `<pkg>/src/` to `<pkg>/dist/`.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES_DIR = join(REPO_ROOT, 'packages');

/** A workspace package that is published: its directory name, npm name and version. */
export interface PublicPackage {
  readonly dir: string;
  readonly path: string;
  readonly name: string;
  readonly version: string;
}

/** Every package under packages/ that is not private, in directory order. */
export function publicPackages(): PublicPackage[] {
  const out: PublicPackage[] = [];
  for (const dir of readdirSync(PACKAGES_DIR).sort()) {
    const path = join(PACKAGES_DIR, dir);
    let manifest: { name: string; version: string; private?: boolean };
    try {
      manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.private) continue;
    out.push({ dir, path, name: manifest.name, version: manifest.version });
  }
  return out;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

/** The compiler options the workspace checks with (tsconfig.base.json), set to emit declarations. */
function declarationOptions(): ts.CompilerOptions {
  const configPath = join(REPO_ROOT, 'tsconfig.base.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (config.error)
    throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT);
  return {
    ...parsed.options,
    types: ['node'],
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    // Emit without checking every body (the same declarations, in less than half the time):
    // `pnpm typecheck` is the type check; the build only writes what it finds.
    noCheck: true,
    declarationMap: true,
    rootDir: PACKAGES_DIR,
    // Never written: every output is redirected into its package's dist/ (see emitDeclarations).
    outDir: join(REPO_ROOT, '.tsbuild', 'declarations'),
  };
}

/** Emits the `.d.ts` and `.d.ts.map` of the packages' sources into their `dist/`. */
function emitDeclarations(packages: readonly PublicPackage[], sources: readonly string[]): void {
  const options = declarationOptions();
  const outDir = options.outDir!;
  const wanted = new Set(packages.map((p) => p.dir));
  const program = ts.createProgram({ rootNames: sources, options });
  const result = program.emit(undefined, (fileName, text) => {
    // <outDir>/<pkg>/src/<path> -> packages/<pkg>/dist/<path>
    const [pkg, srcDir, ...rest] = relative(outDir, fileName).split(sep);
    if (!pkg || !wanted.has(pkg) || srcDir !== 'src') return;
    const target = join(PACKAGES_DIR, pkg, 'dist', ...rest);
    if (target.endsWith('.map')) {
      const map = JSON.parse(text) as { sources: string[] };
      map.sources = map.sources.map((s) =>
        relative(dirname(target), resolve(dirname(fileName), s))
          .split(sep)
          .join('/'),
      );
      text = JSON.stringify(map);
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  });
  if (result.diagnostics.length > 0) {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => REPO_ROOT,
      getNewLine: () => '\n',
    };
    throw new Error(
      `Declarations of the packages could not be emitted:\n${ts.formatDiagnostics(result.diagnostics, host)}`,
    );
  }
}

/** What a build did, for the caller to print. */
export interface BuildReport {
  readonly packages: readonly string[];
  readonly files: number;
  readonly javascriptMs: number;
  readonly declarationsMs: number;
}

/**
 * Builds the `dist/` of the given public packages (all by default), replacing what was there.
 * Throws when a source does not transform or its declarations cannot be emitted.
 */
export async function buildPackages(dirs?: readonly string[]): Promise<BuildReport> {
  const all = publicPackages();
  const packages = dirs ? dirs.map((d) => findPackage(all, d)) : all;
  const started = performance.now();
  const sources: string[] = [];
  let files = 0;
  for (const pkg of packages) {
    const src = join(pkg.path, 'src');
    const dist = join(pkg.path, 'dist');
    rmSync(dist, { recursive: true, force: true });
    const entries = listFiles(src);
    const tsFiles = entries.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    await build({
      entryPoints: tsFiles.map((f) => join(src, f)),
      outdir: dist,
      outbase: src,
      bundle: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      sourcesContent: true,
      logLevel: 'warning',
    });
    // Plain JavaScript modules that the code loads by path (worker entries, loader hooks).
    for (const f of entries.filter((e) => e.endsWith('.mjs') || e.endsWith('.cjs'))) {
      mkdirSync(dirname(join(dist, f)), { recursive: true });
      copyFileSync(join(src, f), join(dist, f));
    }
    copyFileSync(join(REPO_ROOT, 'LICENSE'), join(pkg.path, 'LICENSE'));
    sources.push(...tsFiles.map((f) => join(src, f)));
    files += entries.length;
  }
  const javascriptDone = performance.now();
  emitDeclarations(packages, sources);
  return {
    packages: packages.map((p) => p.name),
    files,
    javascriptMs: Math.round(javascriptDone - started),
    declarationsMs: Math.round(performance.now() - javascriptDone),
  };
}

function findPackage(all: readonly PublicPackage[], dirOrName: string): PublicPackage {
  const found = all.find((p) => p.dir === dirOrName || p.name === dirOrName);
  if (!found) {
    throw new Error(
      `No public package '${dirOrName}' under packages/: use one of ${all.map((p) => p.dir).join(', ')}`,
    );
  }
  return found;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await buildPackages(process.argv.length > 2 ? process.argv.slice(2) : undefined);
  process.stdout.write(
    `Built ${report.packages.length} packages (${report.files} source files): ` +
      `JavaScript in ${report.javascriptMs} ms, declarations in ${report.declarationsMs} ms\n`,
  );
}

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Compiler options of a job that has no tsconfig.json of its own: strict ESM TypeScript as a
 * bundler reads it (the job is bundled by esbuild before it is submitted).
 */
export const DEFAULT_JOB_COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  esModuleInterop: true,
  resolveJsonModule: true,
  allowImportingTsExtensions: true,
  skipLibCheck: true,
};

/** The verdict of type-checking a job. */
export interface JobTypeCheck {
  /** The tsconfig.json whose compilerOptions were used, or undefined for the defaults. */
  readonly configFile: string | undefined;
  /** Errors only (warnings and suggestions do not stop a submission), in tsc's order. */
  readonly errors: readonly ts.Diagnostic[];
}

/**
 * The job file's own directory is where `@nimble/*` resolve first; a job outside any project that
 * depends on them (a file in /tmp) gets this installation's, as the `nimble` command's module
 * hooks give it at run time.
 */
const NIMBLE_FALLBACK_IMPORTER = fileURLToPath(import.meta.url);
const INSTALLATION = dirname(NIMBLE_FALLBACK_IMPORTER);

/** The node_modules/@types folders from `dir` up to the root, nearest first (tsc's lookup). */
function typeRootsAbove(dir: string): string[] {
  const roots: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const types = join(d, 'node_modules', '@types');
    if (existsSync(types)) roots.push(types);
    if (dirname(d) === d) return roots;
  }
}

/**
 * Where the state of checking `root` with `configFile` is kept between runs (per user, in the
 * temporary directory: it is a cache, always safe to delete).
 */
function cachePath(root: string, configFile: string | undefined, suffix: string): string {
  const key = createHash('sha256')
    .update(`${root}\0${configFile ?? ''}\0${ts.version}`)
    .digest('hex')
    .slice(0, 24);
  return join(tmpdir(), `nimble-typecheck-${userInfo().uid}`, `${key}${suffix}`);
}

/** Replaces `file` whole, so that checks running at once (one per `nimble run`) never mix. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(partial, text);
  renameSync(partial, file);
}

/**
 * A passed check, remembered: the options and every file the program read, with its size and
 * modification time. While they are all unchanged, the verdict stands without building the
 * program (seconds saved on every submission of an unchanged job).
 */
interface PassedCheck {
  readonly options: string;
  readonly files: readonly (readonly [path: string, mtimeMs: number, size: number])[];
}

function fileStamp(path: string): [number, number] | undefined {
  try {
    const s = statSync(path);
    return [s.mtimeMs, s.size];
  } catch {
    return undefined;
  }
}

function stillPasses(verdictFile: string, options: string): boolean {
  let passed: PassedCheck;
  try {
    passed = JSON.parse(readFileSync(verdictFile, 'utf8')) as PassedCheck;
  } catch {
    return false;
  }
  if (passed.options !== options || !Array.isArray(passed.files)) return false;
  return passed.files.every(([path, mtimeMs, size]) => {
    const stamp = fileStamp(path);
    return stamp !== undefined && stamp[0] === mtimeMs && stamp[1] === size;
  });
}

/**
 * Type-checks a job as `tsc --noEmit` would: with the compilerOptions of the nearest
 * tsconfig.json above the job file (tsc's search), else {@link DEFAULT_JOB_COMPILER_OPTIONS}; but
 * only the program rooted at the job file, not the tsconfig's other files, and errors only in
 * the job's own files (those it imports by relative path), not in the packages it imports. A
 * JavaScript job is not checked.
 */
export function typeCheckJob(jobFile: string): JobTypeCheck {
  const root = resolve(jobFile);
  const jobDir = dirname(root);
  const configFile = ts.findConfigFile(jobDir, (f) => ts.sys.fileExists(f), 'tsconfig.json');
  // A JavaScript job (a .js or .mjs module, or a bundle) has no types to check, as for tsc.
  if (!/\.(c|m)?tsx?$/.test(root)) return { configFile: undefined, errors: [] };
  let options: ts.CompilerOptions;
  const configErrors: ts.Diagnostic[] = [];
  if (configFile === undefined) {
    // Type packages (@types/node above all: jobs run on Node) from the job's folders, else
    // from this installation's, as `@nimble/*` are.
    const typeRoots = [...new Set([...typeRootsAbove(jobDir), ...typeRootsAbove(INSTALLATION)])];
    options = { ...DEFAULT_JOB_COMPILER_OPTIONS, typeRoots };
  } else {
    const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
    if (read.error) return { configFile, errors: [read.error] };
    const parsed = ts.parseJsonConfigFileContent(
      read.config,
      ts.sys,
      dirname(configFile),
      undefined,
      configFile,
    );
    // The tsconfig's files and include do not matter here (the job is the root), so neither does
    // "No inputs were found" (TS18003) when they match nothing.
    configErrors.push(...parsed.errors.filter((d) => d.code !== 18003));
    options = parsed.options;
  }
  const optionsKey = JSON.stringify(options);
  const verdictFile = cachePath(root, configFile, '.passed.json');
  if (configErrors.length === 0 && stillPasses(verdictFile, optionsKey)) {
    return { configFile, errors: [] };
  }
  // Nothing is emitted; the build info (tsc's incremental state) goes to a cache of this job's,
  // so that checking it again after a small change, or none, is much faster.
  options = {
    ...options,
    noEmit: true,
    incremental: true,
    composite: false,
    // One per project: the jobs of a project share most of their files, and what tsc learnt of
    // them checking one job saves time checking the next.
    tsBuildInfoFile: cachePath(configFile ?? jobDir, configFile, '.tsbuildinfo'),
    declaration: false,
    declarationMap: false,
    emitDeclarationOnly: false,
  };
  const host = ts.createIncrementalCompilerHost(options);
  host.writeFile = (file, text) => writeAtomically(file, text);
  // Type roots (node_modules/@types) are looked up from the job's project, not the shell's.
  if (configFile === undefined) host.getCurrentDirectory = () => jobDir;
  const cache = ts.createModuleResolutionCache(
    host.getCurrentDirectory(),
    (f) => host.getCanonicalFileName(f),
    options,
  );
  host.resolveModuleNameLiterals = (literals, containingFile, redirect, opts, sourceFile) =>
    literals.map((literal) => {
      const mode = ts.getModeForUsageLocation(sourceFile, literal, opts);
      const name = literal.text;
      const found = ts.resolveModuleName(name, containingFile, opts, host, cache, redirect, mode);
      if (found.resolvedModule !== undefined || !name.startsWith('@nimble/')) return found;
      return ts.resolveModuleName(
        name,
        NIMBLE_FALLBACK_IMPORTER,
        opts,
        host,
        cache,
        redirect,
        mode,
      );
    });
  const builder = ts.createIncrementalProgram({ rootNames: [root], options, host });
  const program = builder.getProgram();
  const diagnostics = [
    ...configErrors,
    ...builder.getConfigFileParsingDiagnostics(),
    ...builder.getOptionsDiagnostics(),
    ...builder.getGlobalDiagnostics(),
  ];
  // The job's own files only, not its dependencies': `@nimble/*` (and other packages) ship their
  // TypeScript sources, and are checked with their own options, not the job's (a job with
  // `strict: false` would find "errors" in them). Checking less is also most of the speed.
  for (const file of builder.getSourceFiles()) {
    if (program.isSourceFileFromExternalLibrary(file)) continue;
    diagnostics.push(
      ...builder.getSyntacticDiagnostics(file),
      ...builder.getSemanticDiagnostics(file),
    );
  }
  // With noEmit, emit() writes only the build info.
  builder.emit();
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length === 0) {
    const files: [string, number, number][] = [];
    for (const f of builder.getSourceFiles()) {
      const stamp = fileStamp(f.fileName);
      if (stamp !== undefined) files.push([f.fileName, ...stamp]);
    }
    // The config files themselves: an edit of one may change the verdict with the same options
    // (an include of type roots, say).
    if (configFile !== undefined) {
      const stamp = fileStamp(configFile);
      if (stamp !== undefined) files.push([configFile, ...stamp]);
    }
    try {
      writeAtomically(verdictFile, JSON.stringify({ options: optionsKey, files }));
    } catch {
      // A cache that cannot be written only makes the next check slower.
    }
  }
  return { configFile, errors };
}

/**
 * Diagnostics as tsc prints them: `file(line,col): error TSxxxx: message`, paths relative to the
 * current directory; with `pretty`, tsc's colored form with the source line.
 */
export function formatTypeErrors(errors: readonly ts.Diagnostic[], pretty = false): string {
  const host: ts.FormatDiagnosticsHost = {
    getCurrentDirectory: () => process.cwd(),
    getCanonicalFileName: (f) => (ts.sys.useCaseSensitiveFileNames ? f : f.toLowerCase()),
    getNewLine: () => '\n',
  };
  return pretty
    ? ts.formatDiagnosticsWithColorAndContext(errors, host)
    : ts.formatDiagnostics(errors, host);
}

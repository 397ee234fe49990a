/**
 * The `ts` blocks of the DataStream, state, SQL, testing and connector pages of docs/ name the
 * packages' real API. Most blocks are excerpts: they use a stream (`purchases`) or a record type
 * (`Purchase`) the page leaves to the reader, and may be a method of a class. So each block is
 * checked as its own module with the packages' exports it names imported, free lower-case
 * values and undeclared types left to the reader, and a block that only parses as class members
 * wrapped in a class. What remains must type-check: a class or function the packages do not
 * export, a method a type does not have, a wrong argument, an option object's unknown key.
 * (docs/coming-from-flink.md has a stricter test of its own: its blocks are whole programs.)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const pages = [
  'docs/datastream/async-io.md',
  'docs/datastream/broadcast-state.md',
  'docs/datastream/connected-streams.md',
  'docs/datastream/functions.md',
  'docs/datastream/joins.md',
  'docs/datastream/windows.md',
  'docs/state-access.md',
  'docs/sql.md',
  'docs/testing.md',
  'docs/connectors/avro.md',
  'docs/connectors/datagen.md',
  'docs/connectors/files.md',
  'docs/connectors/kafka.md',
  'docs/connectors/postgres.md',
  'docs/connectors/print-blackhole.md',
  'docs/connectors/redis.md',
];
const packages = [
  'api',
  'sql',
  'connector-datagen',
  'connector-files',
  'connector-kafka',
  'connector-postgres',
  'connector-redis',
  'format-avro',
  'test-utils',
  'state-processor',
  'client',
  'runtime',
];

// Inside the repository (its /tmp/ is ignored), so the blocks resolve @nimble/* as a job does.
mkdirSync(join(root, 'tmp'), { recursive: true });
const dir = mkdtempSync(join(root, 'tmp', 'docs-code-blocks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), (f) => ts.sys.readFile(f));
const { options } = ts.parseJsonConfigFileContent(base.config, ts.sys, root);
const compilerOptions: ts.CompilerOptions = {
  ...options,
  noEmit: true,
  types: ['node'],
  noUnusedLocals: false,
  noUnusedParameters: false,
};
const indexes = packages.map((p) => join(root, 'packages', p, 'src/index.ts'));

/** Every export of the packages, by name: the first package that exports it owns it. */
const packagesProgram = ts.createProgram(indexes, compilerOptions);

function exportsByName(): Map<string, string> {
  const program = packagesProgram;
  const checker = program.getTypeChecker();
  const owner = new Map<string, string>();
  packages.forEach((p, i) => {
    const name = (
      JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8')) as {
        name: string;
      }
    ).name;
    const module = checker.getSymbolAtLocation(program.getSourceFile(indexes[i]!)!)!;
    for (const e of checker.getExportsOfModule(module))
      if (!owner.has(e.name)) owner.set(e.name, name);
  });
  return owner;
}

interface Block {
  readonly where: string;
  readonly file: string;
  /** Lines the module has before the block's first line. */
  readonly skip: number;
}

function parses(code: string): boolean {
  const host = ts.createCompilerHost({});
  const program = ts.createProgram({
    rootNames: ['block.ts'],
    options: { noResolve: true, noLib: true },
    host: {
      ...host,
      getSourceFile: (name, target) =>
        name === 'block.ts' ? ts.createSourceFile(name, code, target) : undefined,
      fileExists: (name) => name === 'block.ts',
    },
  });
  return program.getSyntacticDiagnostics().length === 0;
}

const owner = exportsByName();
const unparsed: string[] = [];
const blocks: Block[] = [];
for (const page of pages) {
  const text = readFileSync(join(root, page), 'utf8');
  let n = 0;
  for (const m of text.matchAll(/^( *)```ts\n([\s\S]*?)^ *```$/gm)) {
    n++;
    const where = `${page}:${text.slice(0, m.index).split('\n').length + 1}`;
    const code = m[2]!
      .split('\n')
      .map((l) => l.slice(m[1]!.length))
      .join('\n');
    const imported = new Set<string>();
    for (const i of code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}/g)) {
      for (const part of i[1]!.split(',')) {
        const local = part
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)
          .pop()!;
        if (local) imported.add(local);
      }
    }
    const declared = new Set(
      [...code.matchAll(/\b(?:class|interface|type|const|let|function|enum)\s+(\w+)/g)].map(
        (d) => d[1]!,
      ),
    );
    const byPackage = new Map<string, string[]>();
    for (const [name, pkg] of owner) {
      if (imported.has(name) || declared.has(name) || !new RegExp(`\\b${name}\\b`).test(code))
        continue;
      byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), name]);
    }
    const prelude = [...byPackage].map(
      ([pkg, names]) => `import { ${names.join(', ')} } from '${pkg}';`,
    );
    let body = code;
    if (!parses(code)) {
      // A method (or methods) of a class the page shows in part.
      body = `abstract class DocFragment {\n${code}\n}`;
      if (!parses(body)) {
        unparsed.push(where);
        continue;
      }
    }
    const skip = prelude.length + (body === code ? 0 : 1);
    const file = join(dir, `${page.replace(/[/.]/g, '_')}-${n}.ts`);
    writeFileSync(file, `${prelude.join('\n')}\n${body}\nexport {};\n`);
    blocks.push({ where, file, skip });
  }
}

// The packages' source files are reused from the program that listed their exports.
const program = ts.createProgram({
  rootNames: blocks.map((b) => b.file),
  options: compilerOptions,
  oldProgram: packagesProgram,
});

/** Whether the identifier at `start` is in a type position (`Purchase`, `Map<string, Rule>`). */
function inType(source: ts.SourceFile, start: number): boolean {
  const path: ts.Node[] = [];
  const visit = (node: ts.Node): void => {
    if (start < node.getStart(source) || start >= node.getEnd()) return;
    path.push(node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return path.some((n) => ts.isTypeNode(n) || ts.isExpressionWithTypeArguments(n));
}

/** Classes and constants the pages name and leave to the reader (a job's own). */
const readersOwn = new Set([
  'MIN', // testing.md: 60_000
  'MyJoin', // joins.md: a ProcessJoinFunction
  'PURCHASE_V2', // avro.md: Avro schemas
  'SpendReader', // state-access.md: a KeyedStateReaderFunction
  'SpendRowBootstrap', // state-access.md: a KeyedStateBootstrapFunction
  'Timeout', // testing.md: a KeyedProcessFunction
  'TOTAL',
  'UserSessionTracker', // testing.md: the seed's KeyedProcessFunction
]);

/**
 * What the reader supplies: values the page leaves out (a lower-case name), types it leaves out
 * (any name in a type position), and the consequences (implicit `any`, an `unknown` element
 * type), the test runner's globals, and type-only names imported as values by the prelude.
 */
function leftToTheReader(d: ts.Diagnostic): boolean {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (d.code === 2304 || d.code === 2552) {
    const name = /Cannot find name '([^']+)'/.exec(message)?.[1] ?? '';
    return /^[a-z_$]/.test(name) || readersOwn.has(name) || inType(d.file!, d.start!);
  }
  if (d.code === 18004) return true; // shorthand property of a value the page leaves out
  if ([7005, 7006, 7031, 7034].includes(d.code)) return true; // implicit any
  if ([2582, 2593].includes(d.code)) return true; // it / describe / expect
  if (d.code === 1484) return true; // a type imported with the prelude's value import
  if (d.code === 2449) return true; // a class used above its declaration in the excerpt
  if (/'unknown'|type 'unknown'/.test(message) || d.code === 2698) return true;
  return false;
}

describe('docs code blocks', () => {
  it('parse, as statements or as members of a class', () => {
    expect(unparsed).toEqual([]);
    expect(blocks.length).toBeGreaterThan(40);
  });

  it('use only what the packages export, as they type it', () => {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => dir,
      getNewLine: () => '\n',
    };
    const problems = blocks.flatMap((b) => {
      const source = program.getSourceFile(b.file)!;
      return program
        .getSemanticDiagnostics(source)
        .filter((d) => !leftToTheReader(d))
        .map((d) => {
          const line = source.getLineAndCharacterOfPosition(d.start ?? 0).line;
          return `${b.where} (block line ${line - b.skip + 1}): ${ts.formatDiagnostic(d, host).split('\n')[0]}`;
        });
    });
    expect(problems).toEqual([]);
  });
});

/**
 * docs/coming-from-flink.md stays true to the code: every `ts` block on the page type-checks
 * against the packages (each block is its own module), and every Nimble class or type the
 * page's tables name in backticks is exported by one of the documented packages.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const page = readFileSync(join(root, 'docs/coming-from-flink.md'), 'utf8');
const packages = [
  'api',
  'sql',
  'connector-datagen',
  'connector-files',
  'connector-kafka',
  'connector-postgres',
  'connector-redis',
  'format-avro',
].map((p) => join(root, 'packages', p, 'src/index.ts'));

// Inside the repository (its /tmp/ is ignored), so the blocks resolve @nimble/* as a job does.
mkdirSync(join(root, 'tmp'), { recursive: true });
const dir = mkdtempSync(join(root, 'tmp', 'coming-from-flink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const blocks = [...page.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const files = blocks.map((code, i) => {
  const file = join(dir, `block-${i + 1}.ts`);
  writeFileSync(file, code);
  return file;
});

const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), (f) => ts.sys.readFile(f));
const { options } = ts.parseJsonConfigFileContent(base.config, ts.sys, root);
const program = ts.createProgram([...files, ...packages], {
  ...options,
  noEmit: true,
  types: ['node'],
});

describe('docs/coming-from-flink.md', () => {
  it('has code blocks that type-check against the packages', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const errors = files.flatMap((f) => {
      const source = program.getSourceFile(f)!;
      return [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ];
    });
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => dir,
      getNewLine: () => '\n',
    };
    expect(ts.formatDiagnostics(errors, host)).toBe('');
  });

  it('names only classes and types the packages export', () => {
    const checker = program.getTypeChecker();
    const exported = new Set<string>();
    for (const index of packages) {
      const symbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
      for (const e of checker.getExportsOfModule(symbol)) exported.add(e.name);
    }
    // The page's own types, defined in its code blocks.
    const local = new Set(['Purchase', 'SessionFeature', 'UserSessionTracker']);
    const named = new Set<string>();
    for (const row of page.split('\n').filter((l) => l.startsWith('| '))) {
      const nimble = row.split(' | ')[1] ?? '';
      for (const code of nimble.matchAll(/`([^`]+)`/g)) {
        // Capitalised names that are not members (`.Name`) or inside string literals.
        const text = code[1]!.replace(/'[^']*'/g, "''");
        for (const name of text.matchAll(/(?<![.\w])[A-Z][A-Za-z]*[a-z][A-Za-z]*\b/g)) {
          if (!local.has(name[0]) && !(name[0] in globalThis)) named.add(name[0]);
        }
      }
    }
    expect(named.size).toBeGreaterThan(30);
    expect([...named].filter((n) => !exported.has(n))).toEqual([]);
  });
});

/**
 * What a job bundle holds: the job and everything it imports, connectors and their libraries
 * included, with only `@nimble/api` and `@nimble/runtime` (and Node's built-ins) left for the
 * cluster to provide. The imports are read back from the bundle by esbuild's own parser.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleJob } from '../src/bundle.js';

const examples = join(import.meta.dirname, '../../examples');
const scratch = mkdtempSync(join(tmpdir(), 'nimble-bundle-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface BundleImport {
  readonly path: string;
  readonly kind: string;
}

/** The imports, dynamic imports and requires a bundle leaves to the module loader. */
async function externalImportsOf(bundle: Uint8Array, name: string): Promise<BundleImport[]> {
  const file = join(scratch, `${name}.mjs`);
  writeFileSync(file, bundle);
  const { metafile } = await build({
    entryPoints: [file],
    bundle: true,
    format: 'esm',
    platform: 'node',
    external: ['*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const imports = Object.values(metafile.inputs).flatMap((input) =>
    input.imports.map((i) => ({ path: i.path, kind: i.kind })),
  );
  // The bundle's require() is its own (createRequire in the banner), so esbuild does not list
  // its calls (nor those of esbuild's __require): read them from the code.
  for (const m of Buffer.from(bundle)
    .toString('utf8')
    .matchAll(/require\("([^"]+)"\)/g)) {
    imports.push({ path: m[1]!, kind: 'require-call' });
  }
  return imports;
}

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** The imported packages other than Node's built-ins, by kind of import. */
function nonBuiltin(imports: BundleImport[]): string[] {
  return [
    ...new Set(imports.filter((i) => !builtins.has(i.path)).map((i) => `${i.kind} ${i.path}`)),
  ].sort();
}

const text = (bundle: Uint8Array): string => Buffer.from(bundle).toString('utf8');

describe('bundleJob', () => {
  it('bundles a Kafka job with the connector and kafkajs, keeping api and runtime external', async () => {
    const bundle = await bundleJob(join(examples, 'src/kafka-user-spend.ts'));
    const code = text(bundle);
    // The connector's own code and kafkajs' client and internals (one copy, patched in place).
    expect(code).toMatch(/^var KafkaSource = class\b/m);
    expect(code).toContain('private:Kafka:createCluster');
    expect(code.match(/^\/\/ .*node_modules\/kafkajs\/src\/broker\/index\.js$/gm)).toHaveLength(1);
    expect(code).not.toMatch(/require\("kafkajs/);
    const imports = await externalImportsOf(bundle, 'kafka');
    expect(nonBuiltin(imports)).toEqual([
      'import-statement @nimble/api',
      'import-statement @nimble/runtime/local',
    ]);
  });

  it('bundles a DataGen job with the connector', async () => {
    const bundle = await bundleJob(join(examples, 'src/user-spend.ts'));
    expect(text(bundle)).toMatch(/^var DataGeneratorSource = class\b/m);
    expect(nonBuiltin(await externalImportsOf(bundle, 'datagen'))).toEqual([
      'import-statement @nimble/api',
      'import-statement @nimble/runtime/local',
    ]);
  });

  it('bundles a SQL job with @nimble/sql, leaving only optional native add-ons to require', async () => {
    const bundle = await bundleJob(join(examples, 'sql/hybrid-session-tracker.ts'));
    expect(text(bundle)).toMatch(/^var StreamTableEnvironment = class\b/m);
    // pg and the AWS SDK require these inside a try and fall back when they are missing.
    expect(nonBuiltin(await externalImportsOf(bundle, 'sql'))).toEqual([
      'import-statement @nimble/api',
      'import-statement @nimble/runtime/local',
      'require-call @aws-sdk/signature-v4-crt',
      'require-call pg-native',
    ]);
  });

  it("resolves a job's @nimble/* imports from this installation when its directory has none", async () => {
    const dir = join(scratch, 'outside-any-project');
    mkdirSync(dir);
    const job = join(dir, 'job.ts');
    writeFileSync(
      job,
      [
        "import { dirname } from 'node:path';",
        "import { fileURLToPath } from 'node:url';",
        "import { StreamExecutionEnvironment } from '@nimble/api';",
        "import { KafkaSource } from '@nimble/connector-kafka';",
        'const __dirname = dirname(fileURLToPath(import.meta.url));',
        'export const used = [StreamExecutionEnvironment, KafkaSource, __dirname];',
      ].join('\n'),
    );
    const bundle = await bundleJob(job);
    expect(text(bundle)).toMatch(/^var KafkaSource = class\b/m);
    // The job's own __dirname stays its own; CommonJS code gets the bundle's directory.
    expect(text(bundle)).toContain('var __dirname = dirname(fileURLToPath(import.meta.url));');
    expect(nonBuiltin(await externalImportsOf(bundle, 'outside'))).toEqual([
      'import-statement @nimble/api',
    ]);
  });

  it('names the job and the import it cannot resolve', async () => {
    const job = join(scratch, 'missing-import.ts');
    writeFileSync(job, "import { nothing } from '@nimble/connector-nowhere';\nnothing();\n");
    await expect(bundleJob(job)).rejects.toThrow(
      new RegExp(
        `Cannot bundle the job ${job}:\\n.*missing-import\\.ts:1: Could not resolve "@nimble/connector-nowhere"`,
      ),
    );
  });
});

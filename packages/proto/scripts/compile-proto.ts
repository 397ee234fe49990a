/**
 * Generates TypeScript types for proto/nimble/v1/*.proto into src/generated/ with grpc's
 * proto-loader-gen-types. The output is committed; `--check` regenerates into a temporary
 * directory and fails when the committed types are out of date (a test runs it).
 *
 *   pnpm --filter @nimble/proto generate          # regenerate
 *   tsx scripts/compile-proto.ts --check          # verify
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOADER_OPTIONS, PROTO_FILES, PROTO_ROOT } from '../src/proto-files.js';

const generatedDir = fileURLToPath(new URL('../src/generated', import.meta.url));

function generate(outDir: string): void {
  const require = createRequire(import.meta.url);
  const bin = join(
    require.resolve('@grpc/proto-loader/package.json'),
    '../build/bin/proto-loader-gen-types.js',
  );
  const args = [
    bin,
    '--longs=Number',
    `--enums=${LOADER_OPTIONS.enums === String ? 'String' : 'number'}`,
    '--defaults',
    '--oneofs',
    '--includeComments',
    '--grpcLib=@grpc/grpc-js',
    '--importFileExtension=.js',
    '-I',
    PROTO_ROOT,
    '-O',
    outDir,
    ...PROTO_FILES,
  ];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`proto-loader-gen-types failed:\n${run.stderr}`);
  // The generator names each type's source file by absolute path: make it relative to the
  // package so the output does not depend on where the checkout lives.
  for (const [file, text] of listFiles(outDir)) {
    writeFileSync(join(outDir, file), text.replaceAll(`${PROTO_ROOT}/`, 'proto/'));
  }
}

function listFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

if (process.argv.includes('--check')) {
  const tmp = mkdtempSync(join(tmpdir(), 'nimble-proto-'));
  try {
    generate(tmp);
    const fresh = listFiles(tmp);
    const committed = listFiles(generatedDir);
    const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter(
      (f) => fresh.get(f) !== committed.get(f),
    );
    if (stale.length > 0) {
      process.stderr.write(
        `Generated types are out of date (${stale.join(', ')}): run pnpm --filter @nimble/proto generate\n`,
      );
      process.exit(1);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  rmSync(generatedDir, { recursive: true, force: true });
  generate(generatedDir);
}

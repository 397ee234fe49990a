/**
 * The API reference (docs/api) builds without a warning: every {@link} in the TSDoc of the
 * public packages resolves, and every type a public signature names is exported, so a broken
 * doc link or a leaked internal type fails the build here rather than on a reader's screen.
 * This runs the same configuration as `pnpm docs:api`, into a temporary folder.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'nimble-api-docs-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function typedoc(): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      join(root, 'node_modules/.bin/typedoc'),
      ['--options', 'docs/api/typedoc.json', '--out', out],
      { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe('API reference', () => {
  it('builds with no warning and a page per package and public class', async () => {
    const { code, output } = await typedoc();
    const problems = output.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
    expect(problems).toEqual([]);
    expect(code).toBe(0);
    for (const page of [
      'modules/_nimble_api.html',
      'modules/_nimble_sql.html',
      'modules/_nimble_connector-datagen.html',
      'modules/_nimble_connector-files.html',
      'modules/_nimble_connector-kafka.html',
      'modules/_nimble_connector-postgres.html',
      'modules/_nimble_connector-redis.html',
      'modules/_nimble_format-avro.html',
      'classes/_nimble_api.StreamExecutionEnvironment.html',
      'classes/_nimble_api.KeyedProcessFunction.html',
      'classes/_nimble_sql.StreamTableEnvironment.html',
      'classes/_nimble_connector-kafka.KafkaSource.html',
    ]) {
      expect(existsSync(join(out, page)), page).toBe(true);
    }
  }, 600_000);
});

// The filesystem connector's Parquet format, PARTITIONED BY and s3:// paths through SQL, with
// DuckDB reading what the sink wrote and moto serving S3.
import '@nimble/runtime/local';
import { DuckDBInstance } from '@duckdb/node-api';
import { StreamExecutionEnvironment } from '@nimble/api';
import { StreamTableEnvironment } from '@nimble/sql';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Server } from '../../../test/fixtures/s3-server.js';
import { startS3Server } from '../../../test/fixtures/s3-server.js';

let dir: string;
let s3: S3Server;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-sql-parquet-'));
  s3 = await startS3Server();
}, 60_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await s3?.stop();
});

function tEnv(): StreamTableEnvironment {
  return StreamTableEnvironment.create(StreamExecutionEnvironment.getExecutionEnvironment());
}

const INPUT = [
  { id: 1, country: 'DE', amount: 1.5, ts: '2026-12-03 07:00:01' },
  { id: 2, country: 'FR', amount: 2.5, ts: '2026-12-03 07:30:00' },
  { id: 3, country: 'DE', amount: null, ts: '2026-12-03 08:00:00' },
  { id: 4, country: null, amount: 4, ts: '2026-12-03 09:15:00' },
];

function writeInput(path: string): void {
  writeFileSync(path, INPUT.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

describe("filesystem 'format' = 'parquet'", () => {
  it('writes partitioned Parquet that DuckDB reads and reads it back with a projection', async () => {
    const input = join(dir, 'in');
    const output = join(dir, 'out');
    rmSync(input, { recursive: true, force: true });
    mkdirSync(input, { recursive: true });
    writeInput(join(input, 'a.json'));
    const t = tEnv();
    await t.executeSql(
      `CREATE TABLE src (id BIGINT, country STRING, amount DOUBLE, ts TIMESTAMP(3))
       WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json')`,
    );
    await t.executeSql(
      `CREATE TABLE training (id BIGINT, amount DOUBLE, ts TIMESTAMP(3), country STRING)
       PARTITIONED BY (country)
       WITH ('connector' = 'filesystem', 'path' = 'file://${output}', 'format' = 'parquet',
             'sink.rolling-policy.file-size' = '1mb')`,
    );
    await t.executeSql(`INSERT INTO training SELECT id, amount, ts, country FROM src`);
    expect(
      (readdirSync(output, { recursive: true }) as string[])
        .filter((f) => f.includes('part-'))
        .map((f) => f.split('/')[0])
        .sort(),
    ).toEqual(['country=DE', 'country=FR', 'country=__DEFAULT_PARTITION__']);

    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (
      await c.runAndReadAll(
        `select id, amount, strftime(ts, '%Y-%m-%d %H:%M:%S') as ts, country from read_parquet('${output}/*/part-*', hive_partitioning = true) order by id`,
      )
    ).getRowObjectsJson();
    c.closeSync();
    expect(rows).toEqual([
      { id: '1', amount: 1.5, ts: '2026-12-03 07:00:01', country: 'DE' },
      { id: '2', amount: 2.5, ts: '2026-12-03 07:30:00', country: 'FR' },
      { id: '3', amount: null, ts: '2026-12-03 08:00:00', country: 'DE' },
      { id: '4', amount: 4, ts: '2026-12-03 09:15:00', country: '__DEFAULT_PARTITION__' },
    ]);

    // Read back, one partition directory as a table: only the selected columns are read.
    await t.executeSql(
      `CREATE TABLE de (id BIGINT, amount DOUBLE, ts TIMESTAMP(3))
       WITH ('connector' = 'filesystem', 'path' = '${output}/country=DE', 'format' = 'parquet')`,
    );
    const result = await t.executeSql(`SELECT id, ts FROM de WHERE amount IS NULL OR amount > 1`);
    expect(result.rows).toEqual([
      [1, new Date(Date.UTC(2026, 11, 3, 7, 0, 1))],
      [3, new Date(Date.UTC(2026, 11, 3, 8))],
    ]);
  });

  it('reads and writes s3:// paths with the s3.* keys of the job configuration', async () => {
    const key = `${s3.endpoint}/${s3.bucket}/sql-in/a.json`;
    const put = await fetch(key, {
      method: 'PUT',
      body: INPUT.map((r) => JSON.stringify(r)).join('\n') + '\n',
    });
    expect(put.ok).toBe(true);
    const t = tEnv();
    await t.executeSql(`SET 's3.endpoint' = '${s3.endpoint}'`);
    await t.executeSql(`SET 's3.access-key' = '${s3.accessKey}'`);
    await t.executeSql(`SET 's3.secret-key' = '${s3.secretKey}'`);
    await t.executeSql(`SET 's3.path.style.access' = 'true'`);
    await t.executeSql(
      `CREATE TABLE src (id BIGINT, country STRING, amount DOUBLE, ts TIMESTAMP(3))
       WITH ('connector' = 'filesystem', 'path' = 's3://${s3.bucket}/sql-in', 'format' = 'json')`,
    );
    await t.executeSql(
      `CREATE TABLE dst (id BIGINT, country STRING)
       WITH ('connector' = 'filesystem', 'path' = 's3://${s3.bucket}/sql-out', 'format' = 'parquet')`,
    );
    await t.executeSql(`INSERT INTO dst SELECT id, country FROM src WHERE id > 1`);
    await t.executeSql(
      `CREATE TABLE back (id BIGINT, country STRING)
       WITH ('connector' = 'filesystem', 'path' = 's3://${s3.bucket}/sql-out', 'format' = 'parquet')`,
    );
    const result = await t.executeSql(`SELECT id, country FROM back`);
    expect([...result.rows].sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [2, 'FR'],
      [3, 'DE'],
      [4, null],
    ]);
  });
});

// The `jdbc` SQL connector against a real PostgreSQL server: upsert and append sinks, the
// bounded (partitioned) scan with its types, and Flink's option validation.
import type { DataStream } from '@nimble/api';
import {
  installPipelineExecutor,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { LocalExecutor } from '@nimble/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresServer } from '../../../test/fixtures/postgres-server.js';
import { startPostgres } from '../../../test/fixtures/postgres-server.js';
import type { CatalogTable } from '../src/catalog/catalog-table.js';
import { sinkFactory, sourceFactory } from '../src/connectors/registry.js';
import type { Change, Row } from '../src/row.js';
import type { SqlType } from '../src/types.js';
import { Types } from '../src/types.js';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

function localEnv(): StreamExecutionEnvironment {
  installPipelineExecutor(new LocalExecutor({ threads: false, stdout: () => {} }));
  return StreamExecutionEnvironment.getExecutionEnvironment();
}

function table(
  name: string,
  columns: [string, SqlType][],
  options: Record<string, string>,
  primaryKey?: string[],
): CatalogTable {
  return {
    kind: 'table',
    name,
    columns: columns.map(([n, type]) => ({ kind: 'physical', name: n, type })),
    partitionKeys: [],
    options: new Map(Object.entries(options)),
    temporary: false,
    ...(primaryKey ? { primaryKey } : {}),
  };
}

function physical(t: CatalogTable) {
  return t.columns.flatMap((c) => (c.kind === 'physical' ? [{ name: c.name, type: c.type }] : []));
}

function jdbc(tableName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    connector: 'jdbc',
    url: server.jdbcUrl,
    'table-name': tableName,
    username: server.user,
    password: server.password,
    ...extra,
  };
}

function source(env: StreamExecutionEnvironment, t: CatalogTable): DataStream<Row> {
  const f = sourceFactory(t);
  f.validateSource(t);
  return f.createSource({
    env,
    table: t,
    physical: physical(t),
    metadata: [],
    watermarks: WatermarkStrategy.noWatermarks<Row>(),
    uid: `source-${t.name}`,
    name: `Source: ${t.name}`,
    configuration: new Map(),
  });
}

function sink(
  t: CatalogTable,
  input: DataStream<Row> | DataStream<Change>,
  inputMode: 'insert-only' | 'updates',
): void {
  const f = sinkFactory(t);
  f.validateSink(t);
  f.createSink({
    table: t,
    physical: physical(t),
    input,
    inputMode,
    uid: `sink-${t.name}`,
    name: `Sink: ${t.name}`,
    configuration: new Map(),
  });
}

const INT = Types.INT();
const STRING = Types.STRING();

describe("'connector' = 'jdbc'", () => {
  it('upserts by the primary key: +I/+U write the row, -D deletes it', async () => {
    await server.query('CREATE TABLE spend (user_id text PRIMARY KEY, total integer)');
    const t = table(
      'spend',
      [
        ['user_id', STRING],
        ['total', INT],
      ],
      jdbc('spend'),
      ['user_id'],
    );
    expect(sinkFactory(t).changelogMode(t)).toBe('upsert');
    const env = localEnv();
    const changes: Change[] = [
      { kind: '+I', row: { user_id: 'a', total: 1 } },
      { kind: '+I', row: { user_id: 'b', total: 2 } },
      { kind: '-U', row: { user_id: 'a', total: 1 } },
      { kind: '+U', row: { user_id: 'a', total: 5 } },
      { kind: '+I', row: { user_id: 'c', total: 7 } },
      { kind: '-D', row: { user_id: 'b', total: 2 } },
    ];
    sink(t, env.fromCollection(changes), 'updates');
    await env.execute();
    expect(await server.query('SELECT * FROM spend ORDER BY user_id')).toEqual([
      { user_id: 'a', total: 5 },
      { user_id: 'c', total: 7 },
    ]);
  }, 60_000);

  it('appends without a primary key, and scans the table back with its types, partitioned', async () => {
    await server.query(
      'CREATE TABLE events (id bigint, name text, amount numeric(10,2), ts timestamp, day date, ok boolean)',
    );
    const cols: [string, SqlType][] = [
      ['id', Types.BIGINT()],
      ['name', STRING],
      ['amount', Types.DECIMAL(10, 2)],
      ['ts', Types.TIMESTAMP(3)],
      ['day', { name: 'DATE', nullable: true }],
      ['ok', Types.BOOLEAN()],
    ];
    const out = table('events', cols, jdbc('events', { 'sink.buffer-flush.max-rows': '7' }));
    expect(sinkFactory(out).changelogMode(out)).toBe('insert-only');
    const rows: Row[] = Array.from({ length: 50 }, (_, i) => ({
      id: i,
      name: `n${i}`,
      amount: i + 0.25,
      ts: Date.UTC(2026, 11, 3, 7, i),
      day: 20_000 + i,
      ok: i % 2 === 0,
    }));
    const env = localEnv();
    sink(out, env.fromCollection(rows), 'insert-only');
    await env.execute();

    const scan = table(
      'events_in',
      cols,
      jdbc('events', {
        'scan.partition.column': 'id',
        'scan.partition.num': '3',
        'scan.partition.lower-bound': '0',
        'scan.partition.upper-bound': '49',
        'scan.fetch-size': '4',
      }),
    );
    expect(sourceFactory(scan).isBounded(scan)).toBe(true);
    const read = await source(localEnv().setParallelism(2), scan).executeAndCollect();
    expect(read.sort((a, b) => (a.id as number) - (b.id as number))).toEqual(rows);
  }, 60_000);

  it('names the option at fault', () => {
    const noUrl = table('t', [['a', INT]], { connector: 'jdbc', 'table-name': 't' });
    expect(() => sinkFactory(noUrl).validateSink(noUrl)).toThrow(
      'Missing required options are:\n\nurl',
    );
    const partial = table('t', [['a', INT]], jdbc('t', { 'scan.partition.column': 'a' }));
    expect(() => sourceFactory(partial).validateSource(partial)).toThrow(
      'Either all or none of the following options should be provided:\nscan.partition.column',
    );
    const mysql = table('t', [['a', INT]], { ...jdbc('t'), url: 'jdbc:mysql://h/db' });
    expect(() => sinkFactory(mysql).validateSink(mysql)).toThrow('Only PostgreSQL is supported');
    const lookup = table('t', [['a', INT]], jdbc('t', { 'lookup.cache.max-rows': '10' }));
    expect(() => sourceFactory(lookup).validateSource(lookup)).toThrow(
      'Unsupported options:\n\nlookup.cache.max-rows',
    );
  });
});

import type { DataStream } from '@nimble/api';
import {
  installPipelineExecutor,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { LocalExecutor } from '@nimble/runtime';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, saslSslProperties, startKafka } from '../../../test/fixtures/kafka-broker.js';
import type { KafkaBroker } from '../../../test/fixtures/kafka-broker.js';
import type { CatalogColumn, CatalogTable } from '../src/catalog/catalog-table.js';
import { formatRowForPrint } from '../src/connectors/print.js';
import { sinkFactory, sourceFactory } from '../src/connectors/registry.js';
import type { Change, Row } from '../src/row.js';
import type { RowField, SqlType } from '../src/types.js';
import { Types } from '../src/types.js';
import { StreamTableEnvironment } from '../src/index.js';

let printed = '';

function localEnv(): StreamExecutionEnvironment {
  installPipelineExecutor(
    new LocalExecutor({
      threads: false,
      stdout: (t) => {
        printed += t;
      },
    }),
  );
  return StreamExecutionEnvironment.getExecutionEnvironment();
}

function table(
  name: string,
  columns: [string, SqlType][],
  options: Record<string, string>,
  extra: { metadata?: [string, SqlType, string][]; primaryKey?: string[] } = {},
): CatalogTable {
  const cols: CatalogColumn[] = columns.map(([n, type]) => ({ kind: 'physical', name: n, type }));
  for (const [n, type, key] of extra.metadata ?? []) {
    cols.push({ kind: 'metadata', name: n, type, key, virtual: true });
  }
  return {
    kind: 'table',
    name,
    columns: cols,
    partitionKeys: [],
    options: new Map(Object.entries(options)),
    temporary: false,
    ...(extra.primaryKey ? { primaryKey: extra.primaryKey } : {}),
  };
}

function physical(t: CatalogTable): RowField[] {
  return t.columns
    .filter((c) => c.kind === 'physical')
    .map((c) => ({ name: c.name, type: c.type }));
}

function source(env: StreamExecutionEnvironment, t: CatalogTable): DataStream<Row> {
  const f = sourceFactory(t);
  f.validateSource(t);
  return f.createSource({
    env,
    table: t,
    physical: physical(t),
    metadata: t.columns.flatMap((c) =>
      c.kind === 'metadata' ? [{ name: c.name, key: c.key, type: c.type }] : [],
    ),
    watermarks: WatermarkStrategy.noWatermarks<Row>(),
    uid: `source-${t.name}`,
    name: `Source: ${t.name}`,
    configuration: new Map(),
  });
}

function sink(
  t: CatalogTable,
  input: DataStream<Row> | DataStream<Change>,
  inputMode: 'insert-only' | 'updates' = 'insert-only',
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

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const INT = Types.INT();
const STRING = Types.STRING();

describe('connector discovery and option validation', () => {
  it('names the available connectors for an unknown one', () => {
    const t = table('t', [['a', INT]], { connector: 'kafkaa' });
    const e = errorOf(() => sourceFactory(t));
    expect(e.name).toBe('ValidationError');
    expect(e.message).toBe(
      "Unable to create a source for reading table 'default_catalog.default_database.t'.\n\nTable options are:\n\n'connector'='kafkaa'\n\nCaused by: Could not find any factory for identifier 'kafkaa' that implements 'DynamicTableFactory'.\n\nAvailable factory identifiers are:\n\nblackhole\ndatagen\nfilesystem\njdbc\nkafka\nprint\nredis\nupsert-kafka",
    );
    expect((e.cause as Error).message).toMatch(
      /^Could not find any factory for identifier 'kafkaa'/,
    );
  });

  it('reports a missing connector option and a sink-only connector used as source', () => {
    expect(errorOf(() => sourceFactory(table('t', [['a', INT]], {}))).message).toContain(
      "Caused by: Table options do not contain an option key 'connector' for discovering a connector.",
    );
    expect(
      errorOf(() => sourceFactory(table('t', [['a', INT]], { connector: 'print' }))).message,
    ).toContain(
      "Caused by: Connector 'print' can only be used as a sink. It cannot be used as a source.",
    );
  });

  it('reports missing required options', () => {
    const t = table('t', [['a', INT]], {
      connector: 'kafka',
      'properties.bootstrap.servers': 'x:1',
      format: 'json',
    });
    const e = errorOf(() => sourceFactory(t).validateSource(t));
    expect((e.cause as Error).message).toBe(
      'One or more required options are missing.\n\nMissing required options are:\n\ntopic',
    );
  });

  it('reports unsupported options with the supported ones', () => {
    const t = table('t', [['a', INT]], { connector: 'print', foo: '1' });
    const e = errorOf(() => sinkFactory(t).validateSink(t));
    expect((e.cause as Error).message).toBe(
      "Unsupported options found for 'print'.\n\nUnsupported options:\n\nfoo\n\nSupported options:\n\nconnector\nprint-identifier\nproperty-version\nsink.parallelism\nstandard-error",
    );
    expect(e.message).toMatch(
      /^Unable to create a sink for writing table 'default_catalog.default_database.t'./,
    );
  });

  it('reports a value of the wrong type naming the table, option and type', () => {
    const t = table('t', [['a', INT]], { connector: 'datagen', 'rows-per-second': 'abc' });
    const e = errorOf(() => sourceFactory(t).validateSource(t));
    expect(e.message).toContain("'default_catalog.default_database.t'");
    expect(e.message).toContain(
      "Caused by: Invalid value for option 'rows-per-second'.\n\nCaused by: Could not parse value 'abc' for key 'rows-per-second': expected an integer (BIGINT).",
    );
  });

  it('requires a primary key for upsert-kafka and a prefix for exactly-once', () => {
    const u = table('u', [['a', INT]], {
      connector: 'upsert-kafka',
      topic: 't',
      'properties.bootstrap.servers': 'x:1',
      'key.format': 'json',
      'value.format': 'json',
    });
    expect((errorOf(() => sinkFactory(u).validateSink(u)).cause as Error).message).toMatch(
      /^'upsert-kafka' tables require to define a PRIMARY KEY constraint\./,
    );
    const k = table('k', [['a', INT]], {
      connector: 'kafka',
      topic: 't',
      'properties.bootstrap.servers': 'x:1',
      format: 'json',
      'sink.delivery-guarantee': 'exactly-once',
    });
    expect((errorOf(() => sinkFactory(k).validateSink(k)).cause as Error).message).toBe(
      'sink.transactional-id-prefix must be specified when using DeliveryGuarantee.EXACTLY_ONCE.',
    );
  });
});

describe('datagen', () => {
  it('generates sequences exactly and ends with them', async () => {
    const t = table(
      'gen',
      [
        ['id', INT],
        ['name', STRING],
        ['score', Types.DOUBLE()],
      ],
      {
        connector: 'datagen',
        'fields.id.kind': 'sequence',
        'fields.id.start': '1',
        'fields.id.end': '5',
        'fields.name.kind': 'sequence',
        'fields.name.start': '10',
        'fields.name.end': '100',
        'fields.score.min': '0',
        'fields.score.max': '1',
      },
    );
    expect(sourceFactory(t).isBounded(t)).toBe(true);
    const env = localEnv();
    env.setParallelism(2);
    const rows = await source(env, t).executeAndCollect();
    const sorted = rows.sort((a, b) => (a.id as number) - (b.id as number));
    expect(sorted.map((r) => [r.id, r.name])).toEqual([
      [1, '10'],
      [2, '11'],
      [3, '12'],
      [4, '13'],
      [5, '14'],
    ]);
    for (const r of rows) expect(r.score).toBeGreaterThanOrEqual(0);
    // The same index gives the same random values (restores regenerate the same rows).
    const again = await source(localEnv().setParallelism(1), t).executeAndCollect();
    expect(again.sort((a, b) => (a.id as number) - (b.id as number))).toEqual(sorted);
  });

  it('honours number-of-rows and random string length', async () => {
    const t = table(
      'gen2',
      [
        ['s', STRING],
        ['n', INT],
      ],
      {
        connector: 'datagen',
        'number-of-rows': '7',
        'fields.s.length': '5',
        'fields.n.min': '3',
        'fields.n.max': '4',
      },
    );
    const rows = await source(localEnv(), t).executeAndCollect();
    expect(rows).toHaveLength(7);
    for (const r of rows) {
      expect(r.s).toMatch(/^[0-9a-f]{5}$/);
      expect([3, 4]).toContain(r.n);
    }
  });
});

describe('print and blackhole', () => {
  it('formats rows as Flink prints them', () => {
    const fields: RowField[] = [
      { name: 'u', type: STRING },
      { name: 'ts', type: Types.TIMESTAMP(3) },
      { name: 'x', type: Types.DOUBLE() },
      { name: 'd', type: Types.DECIMAL(10, 2) },
      { name: 'l', type: Types.TIMESTAMP_LTZ(3) },
      { name: 'n', type: INT },
    ];
    expect(
      formatRowForPrint(
        '+I',
        {
          u: 'user_1',
          ts: Date.UTC(2024, 0, 1, 0, 5),
          x: 12.5,
          d: 3,
          l: Date.UTC(2024, 0, 1, 0, 5),
          n: null,
        },
        fields,
      ),
    ).toBe('+I[user_1, 2024-01-01T00:05, 12.5, 3.00, 2024-01-01T00:05:00Z, null]');
    expect(
      formatRowForPrint(
        '-U',
        { u: 'a', ts: Date.UTC(2024, 0, 1, 0, 5, 7, 250), x: 2, d: 1.5, l: 0, n: 1 },
        fields,
      ),
    ).toBe('-U[a, 2024-01-01T00:05:07.250, 2.0, 1.50, 1970-01-01T00:00:00Z, 1]');
  });

  it('prints changes with the identifier and subtask prefix', async () => {
    printed = '';
    const env = localEnv();
    const t = table(
      'out',
      [
        ['a', STRING],
        ['b', INT],
      ],
      { connector: 'print', 'print-identifier': 'res', 'sink.parallelism': '1' },
    );
    const changes: Change[] = [
      { kind: '+I', row: { a: 'x', b: 1 } },
      { kind: '-U', row: { a: 'x', b: 1 } },
      { kind: '+U', row: { a: 'x', b: 2 } },
    ];
    expect(sinkFactory(t).changelogMode(t)).toBe('all');
    sink(t, env.fromCollection(changes), 'updates');
    await env.execute();
    expect(printed).toBe('res> +I[x, 1]\nres> -U[x, 1]\nres> +U[x, 2]\n');

    printed = '';
    const env2 = localEnv();
    const t2 = table('out2', [['a', STRING]], {
      connector: 'print',
      'print-identifier': 'p',
      'sink.parallelism': '2',
    });
    sink(t2, env2.fromCollection<Row>([{ a: 'r1' }, { a: 'r2' }]).rebalance());
    await env2.execute();
    expect(printed.trim().split('\n').sort()).toEqual(['p:1> +I[r1]', 'p:2> +I[r2]']);
  });

  it('blackhole swallows everything', async () => {
    const env = localEnv();
    const t = table('bh', [['a', INT]], { connector: 'blackhole' });
    sink(t, env.fromCollection<Row>([{ a: 1 }]));
    await expect(env.execute()).resolves.toBeDefined();
  });
});

describe('filesystem', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nimble-sql-fs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads all files of a directory as one bounded source and writes committed part files', async () => {
    const input = join(dir, 'in');
    const output = join(dir, 'out');
    freshDir(input);
    writeFileSync(join(input, 'a.json'), '{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n');
    writeFileSync(join(input, 'b.json'), '{"id":3,"name":"c"}\n');
    writeFileSync(join(input, '.hidden'), 'garbage\n');
    const cols: [string, SqlType][] = [
      ['id', INT],
      ['name', STRING],
    ];
    const src = table('fin', cols, { connector: 'filesystem', path: input, format: 'json' });
    expect(sourceFactory(src).isBounded(src)).toBe(true);
    const env = localEnv();
    env.setParallelism(2);
    const dst = table('fout', cols, { connector: 'filesystem', path: output, format: 'csv' });
    sink(dst, source(env, src));
    await env.execute();
    const files = readdirSync(output);
    expect(files.every((f) => /^part-[0-9a-f-]{36}-\d+-\d+$/.test(f))).toBe(true);
    const lines = files
      .flatMap((f) => readFileSync(join(output, f), 'utf8').trim().split('\n'))
      .sort();
    expect(lines).toEqual(['1,a', '2,b', '3,c']);
  });

  it('fails naming the file and line of a malformed record', async () => {
    const input = join(dir, 'bad');
    freshDir(input);
    writeFileSync(join(input, 'x.json'), '{"id":1}\n{"id":"abc"}\n');
    const env = localEnv();
    const src = table('fbad', [['id', INT]], {
      connector: 'filesystem',
      path: input,
      format: 'json',
    });
    await expect(source(env, src).executeAndCollect()).rejects.toThrow(
      /line 2 of file '.*x\.json'/,
    );
  });
});

/** A fresh empty directory at `p`. */
function freshDir(p: string): void {
  rmSync(p, { recursive: true, force: true });
  mkdirSync(p, { recursive: true });
}

describe('kafka (real broker)', () => {
  let broker: KafkaBroker | undefined;
  beforeAll(async () => {
    broker = await startKafka({ secure: { users: [{ name: 'sql', password: 'sql-secret' }] } });
  }, 180_000);
  afterAll(async () => {
    await broker?.stop();
  }, 60_000);

  it('writes rows and reads them back with metadata columns, failing on a malformed record', async () => {
    const servers = broker!.bootstrapServers;
    await createTopic(servers, 'orders', 2);
    const cols: [string, SqlType][] = [
      ['id', INT],
      ['user', STRING],
      ['ts', Types.TIMESTAMP(3)],
    ];
    const base = {
      connector: 'kafka',
      topic: 'orders',
      'properties.bootstrap.servers': servers,
      format: 'json',
    };
    const out = table('orders_out', cols, { ...base, 'key.format': 'json', 'key.fields': 'user' });
    const env = localEnv();
    const rows: Row[] = [1, 2, 3, 4].map((i) => ({
      id: i,
      user: `u${i % 2}`,
      ts: Date.UTC(2024, 0, 1, 0, i),
    }));
    sink(out, env.fromCollection(rows));
    await env.execute();

    const inTable = table(
      'orders_in',
      cols,
      { ...base, 'scan.startup.mode': 'earliest-offset', 'scan.bounded.mode': 'latest-offset' },
      {
        metadata: [
          ['kts', Types.TIMESTAMP_LTZ(3), 'timestamp'],
          ['part', INT, 'partition'],
          ['off', Types.BIGINT(), 'offset'],
          ['tp', STRING, 'topic'],
        ],
      },
    );
    expect(sourceFactory(inTable).isBounded(inTable)).toBe(true);
    const read = await source(localEnv(), inTable).executeAndCollect();
    expect(read.map((r) => r.id).sort()).toEqual([1, 2, 3, 4]);
    for (const r of read) {
      expect(r.ts).toBe(Date.UTC(2024, 0, 1, 0, r.id as number));
      expect(r.tp).toBe('orders');
      expect([0, 1]).toContain(r.part);
      expect(typeof r.off).toBe('number');
      expect(Math.abs((r.kts as number) - Date.now())).toBeLessThan(120_000);
    }
    // Rows of one key share a partition; each partition's offsets run from 0.
    const byUser = new Map<unknown, Row[]>();
    const byPart = new Map<unknown, Row[]>();
    for (const r of read) byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
    for (const r of read) byPart.set(r.part, [...(byPart.get(r.part) ?? []), r]);
    for (const list of byUser.values()) expect(new Set(list.map((r) => r.part)).size).toBe(1);
    for (const list of byPart.values()) {
      expect(list.map((r) => r.off).sort()).toEqual(list.map((_, i) => i));
    }

    // A malformed record fails the job, naming table, topic, partition and offset ...
    const { Kafka, logLevel } = await import('kafkajs');
    const producer = new Kafka({ brokers: [servers], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ value: '{"id":"oops"}', partition: 0 }] });
    await producer.disconnect();
    await expect(source(localEnv(), inTable).executeAndCollect()).rejects.toThrow(
      /Table 'default_catalog.default_database.orders_in': cannot read the record at offset \d+ of partition 0 of topic 'orders'/,
    );
    // ... unless the format skips it.
    const lenient = table('orders_lenient', cols, {
      ...base,
      'scan.startup.mode': 'earliest-offset',
      'scan.bounded.mode': 'latest-offset',
      'json.ignore-parse-errors': 'true',
    });
    expect(await source(localEnv(), lenient).executeAndCollect()).toHaveLength(4);
  }, 120_000);

  it('upsert-kafka writes keys, values and tombstones', async () => {
    const servers = broker!.bootstrapServers;
    await createTopic(servers, 'latest', 1);
    const t = table(
      'latest',
      [
        ['user', STRING],
        ['total', INT],
      ],
      {
        connector: 'upsert-kafka',
        topic: 'latest',
        'properties.bootstrap.servers': servers,
        'key.format': 'json',
        'value.format': 'json',
      },
      { primaryKey: ['user'] },
    );
    expect(sinkFactory(t).changelogMode(t)).toBe('upsert');
    const env = localEnv();
    const changes: Change[] = [
      { kind: '+I', row: { user: 'a', total: 1 } },
      { kind: '-U', row: { user: 'a', total: 1 } },
      { kind: '+U', row: { user: 'a', total: 3 } },
      { kind: '-D', row: { user: 'a', total: 3 } },
    ];
    sink(t, env.fromCollection(changes), 'updates');
    await env.execute();
    const { Kafka, logLevel } = await import('kafkajs');
    const consumer = new Kafka({ brokers: [servers], logLevel: logLevel.NOTHING }).consumer({
      groupId: 'check',
    });
    await consumer.connect();
    await consumer.subscribe({ topics: ['latest'], fromBeginning: true });
    const got: [string | null, string | null][] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push([message.key?.toString() ?? null, message.value?.toString() ?? null]);
      },
    });
    const deadline = Date.now() + 30_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    expect(got).toEqual([
      ['{"user":"a"}', '{"user":"a","total":1}'],
      ['{"user":"a"}', '{"user":"a","total":3}'],
      ['{"user":"a"}', null],
    ]);
  }, 120_000);
  it("upsert-kafka over SASL_SSL ('properties.security.protocol' ...): a keyed topic read as a changelog", async () => {
    const secure = broker!.secure!;
    await createTopic(broker!.bootstrapServers, 'latest_secure', 1);
    const security = Object.fromEntries(
      Object.entries(saslSslProperties(secure, 'SCRAM-SHA-512')).map(([k, v]) => [
        `properties.${k}`,
        v,
      ]),
    );
    const options = {
      connector: 'upsert-kafka',
      topic: 'latest_secure',
      'properties.bootstrap.servers': secure.saslSslBootstrapServers,
      'key.format': 'json',
      'value.format': 'json',
      ...security,
    };
    const t = table(
      'latest_secure',
      [
        ['user', STRING],
        ['total', INT],
      ],
      options,
      { primaryKey: ['user'] },
    );
    const env = localEnv();
    const written: Change[] = [
      { kind: '+I', row: { user: 'a', total: 1 } },
      { kind: '+I', row: { user: 'b', total: 5 } },
      { kind: '-U', row: { user: 'a', total: 1 } },
      { kind: '+U', row: { user: 'a', total: 3 } },
      { kind: '-D', row: { user: 'b', total: 5 } },
      { kind: '+U', row: { user: 'a', total: 3 } },
      { kind: '+I', row: { user: 'b', total: 7 } },
      { kind: '-D', row: { user: 'a', total: 3 } },
    ];
    sink(t, env.fromCollection(written), 'updates');
    await env.execute();

    const readEnv = localEnv();
    readEnv.setParallelism(1);
    const tEnv = StreamTableEnvironment.create(readEnv);
    const with_ = Object.entries({ ...options, 'scan.bounded.mode': 'latest-offset' })
      .map(([k, v]) => `'${k}' = '${v.replace(/'/g, "''")}'`)
      .join(', ');
    await tEnv.executeSql(
      `CREATE TABLE totals (\`user\` STRING, total INT, PRIMARY KEY (\`user\`) NOT ENFORCED) WITH (${with_})`,
    );
    const out = (await tEnv
      .toChangelogStream(tEnv.sqlQuery('SELECT `user`, total FROM totals'))
      .executeAndCollect()) as Change[];
    expect(out.map((c) => `${c.kind}[${String(c.row.user)}, ${String(c.row.total)}]`)).toEqual([
      '+I[a, 1]',
      '+I[b, 5]',
      '-U[a, 1]',
      '+U[a, 3]',
      '-D[b, 5]',
      '+I[b, 7]',
      '-D[a, 3]',
    ]);

    // A wrong security option is refused when the table is planned, naming it.
    const bad = table(
      'bad_security',
      [
        ['user', STRING],
        ['total', INT],
      ],
      {
        ...options,
        'properties.sasl.mechanism': 'GSSAPI',
      },
      { primaryKey: ['user'] },
    );
    expect(() => sourceFactory(bad).validateSource(bad)).toThrow(
      /Invalid Kafka security options \('properties\.\*'\): sasl\.mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; got "GSSAPI"/,
    );
  }, 120_000);
});

// Avro in Confluent's wire format on a real Kafka broker, a real schema registry (Apicurio
// Registry's Confluent-compatible API) and real daemons: running totals per user read from Avro
// purchases (v1 and v2 records, resolved into v2) and written as Avro, EXACTLY_ONCE, equal the
// expected totals exactly through a TaskManager SIGKILL and through a savepoint at parallelism 2
// restored at 3; a record with an unknown schema id goes to the dead letters naming its
// partition, offset and id; an unreachable registry fails the job naming its URL; the registry
// refuses an incompatible schema naming the subject; a SQL job reads and writes avro-confluent.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfluentRegistryAvroDeserializationSchema,
  ConfluentRegistryAvroSerializationSchema,
  SchemaRegistryClient,
} from '@nimble/format-avro';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import { PURCHASE_V1, PURCHASE_V2 } from './fixtures/cluster-jobs/avro-schemas.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';
import { createTopic, startKafka } from './fixtures/kafka-broker.js';
import type { SchemaRegistry } from './fixtures/schema-registry.js';
import { startSchemaRegistry } from './fixtures/schema-registry.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/avro-totals-job.ts');
const SQL_JOB = join(import.meta.dirname, 'fixtures/sql-jobs/sql-script-job.ts');
const PARTITIONS = 4;
const USERS = 12;
/** A schema id no registry here hands out. */
const UNKNOWN_ID = 987654;

let broker: KafkaBroker;
let registry: SchemaRegistry;
let cluster: TestCluster;
let kafka: Kafka;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-avro-'));
  [broker, registry, cluster] = await Promise.all([
    startKafka(),
    startSchemaRegistry(),
    TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] }),
  ]);
  kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
}, 600_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([broker?.stop(), registry?.stop()]);
  rmSync(work, { recursive: true, force: true });
}, 60_000);

interface Written {
  user: string;
  amount: number;
  region: string | undefined;
}

/** Topics of one test: purchases (4 partitions), totals and dead letters. */
async function topics(name: string) {
  const t = { source: `purchases.${name}`, sink: `totals.${name}`, dlq: `dlq.${name}` };
  await createTopic(broker.bootstrapServers, t.source, PARTITIONS);
  await createTopic(broker.bootstrapServers, t.sink, 2);
  await createTopic(broker.bootstrapServers, t.dlq, 1);
  return t;
}

function purchases(from: number, to: number, v2: boolean): Written[] {
  const out: Written[] = [];
  for (let i = from; i < to; i++) {
    out.push({
      user: `u${i % USERS}`,
      amount: (i * 7) % 100,
      region: v2 ? ['eu', 'us', 'apac'][i % 3] : undefined,
    });
  }
  return out;
}

/**
 * Writes purchases keyed by user (a user's records in one partition, in order) in the wire
 * format, v1 or v2 of the schema registered under `<topic>-value`.
 */
async function write(topic: string, records: Written[], v2: boolean): Promise<void> {
  const schema = ConfluentRegistryAvroSerializationSchema.forGeneric<Partial<Written>>(
    `${topic}-value`,
    v2 ? PURCHASE_V2 : PURCHASE_V1,
    registry.url,
  );
  await schema.open();
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 500) {
      await producer.send({
        topic,
        acks: -1,
        messages: records.slice(i, i + 500).map((r) => ({
          key: r.user,
          value: schema.serialize(v2 ? r : { user: r.user, amount: r.amount }),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Writes one record with a schema id the registry does not have: where it landed. */
async function writeUnknownId(topic: string): Promise<{ partition: number; offset: number }> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const value = Buffer.from([0, 0, 0, 0, 0, 0x04, 0x61, 0x62, 0x02]);
    value.writeInt32BE(UNKNOWN_ID, 1);
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: 'u0', value }] });
    return { partition: meta!.partition, offset: Number(meta!.baseOffset) };
  } finally {
    await producer.disconnect();
  }
}

/** The running totals the job must write for `records` (in the order written): `user:n:total:region`. */
function expectedTotals(records: Written[]): string[] {
  const state = new Map<string, { n: number; total: number }>();
  const out: string[] = [];
  for (const r of records) {
    const s = state.get(r.user) ?? { n: 0, total: 0 };
    s.n++;
    s.total += r.amount;
    state.set(r.user, s);
    out.push(`${r.user}:${s.n}:${s.total}:${r.region ?? 'unknown'}`);
  }
  return out.sort();
}

/** Reads topics with read_committed from the start: raw values per topic. */
class Reader {
  readonly values = new Map<string, Buffer[]>();
  private constructor(private readonly consumer: Consumer) {}
  static async start(topicNames: string[]): Promise<Reader> {
    const consumer = kafka.consumer({ groupId: `reader-${Math.random()}`, readUncommitted: false });
    const reader = new Reader(consumer);
    for (const t of topicNames) reader.values.set(t, []);
    await consumer.connect();
    await consumer.subscribe({ topics: topicNames, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (message.value) reader.values.get(topic)!.push(message.value);
      },
    });
    cleanups.push(() => reader.stop());
    return reader;
  }
  of(topic: string): Buffer[] {
    return this.values.get(topic)!;
  }
  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** The totals records decoded with their writer schema: `user:n:total:region`, sorted. */
async function decodeTotals(values: Buffer[]): Promise<string[]> {
  const d = ConfluentRegistryAvroDeserializationSchema.forGeneric<{
    user: string;
    count: number;
    total: number;
    region: string;
  }>(null, registry.url);
  await d.prepare(values);
  return values
    .map((v) => d.deserialize(v))
    .map((t) => `${t.user}:${t.count}:${t.total}:${t.region}`)
    .sort();
}

async function submit(options: string[], args: string[]): Promise<string> {
  const r = await nimble(['run', '-d', '-m', cluster.address, ...options, ...args]);
  expect(r.stderr).toBe('');
  const jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!jobId) throw new Error(`no job id in: ${r.stdout}\n${r.stderr}`);
  cleanups.push(async () => {
    await nimble(['cancel', '-m', cluster.address, jobId]);
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state !== 'RUNNING');
  });
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
    60_000,
  );
  return jobId;
}

async function checkpointsCompleted(jobId: string): Promise<number> {
  const c = await cluster.rest(`/jobs/${jobId}/checkpoints`);
  return (c.counts?.completed as number | undefined) ?? 0;
}

const options = (name: string, parallelism: number) => [
  '-p',
  String(parallelism),
  '-D',
  'execution.checkpointing.interval=500',
  '-D',
  `state.checkpoints.dir=file://${join(work, `chk-${name}`)}`,
];

const jobArgs = (t: { source: string; sink: string; dlq: string }, name: string) => [
  JOB,
  broker.bootstrapServers,
  registry.url,
  t.source,
  t.sink,
  t.dlq,
  `tx-${name}`,
];

/** Waits for `n` totals, then two more checkpoints, so that duplicates would show. */
async function waitForTotals(reader: Reader, topic: string, n: number, jobId: string) {
  await cluster.waitFor(() => reader.of(topic).length >= n, 180_000);
  const done = await checkpointsCompleted(jobId);
  await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) >= done + 2, 60_000);
}

describe('Avro with a schema registry on a cluster', () => {
  it('exact totals of v1 and v2 records through a TaskManager SIGKILL; an unknown schema id goes to the dead letters', async () => {
    const t = await topics('kill');
    const reader = await Reader.start([t.sink, t.dlq]);
    const jobId = await submit(options('kill', 2), jobArgs(t, 'kill'));
    const first = purchases(0, 1500, false);
    const second = purchases(1500, 3000, true);
    await write(t.source, first, false);
    const bad = await writeUnknownId(t.source);
    const before = await checkpointsCompleted(jobId);
    await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) >= before + 2, 60_000);
    const busy = (
      (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
    ).find((tm) => tm.freeSlots === 0);
    const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
    if (!victim) throw new Error('no TaskManager runs the job');
    victim.child.kill('SIGKILL');
    await cluster.addTaskManager();
    await write(t.source, second, true);
    const expected = expectedTotals([...first, ...second]);
    await waitForTotals(reader, t.sink, expected.length, jobId);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(1);
    expect(reader.of(t.sink).length).toBe(expected.length);
    expect(await decodeTotals(reader.of(t.sink))).toEqual(expected);
    // The record with the unknown id: once, with its position and the id.
    const dead = reader.of(t.dlq).map((v) => JSON.parse(v.toString()) as Record<string, unknown>);
    expect(dead).toEqual([
      {
        topic: t.source,
        partition: bad.partition,
        offset: bad.offset,
        timestamp: expect.any(Number),
        key: 'u0',
        value: null,
        error: `unknown schema id ${UNKNOWN_ID}: the schema registry ${registry.url} has no schema with this id`,
      },
    ]);
  }, 400_000);

  it('a savepoint at parallelism 2 restored at 3: exact totals, no gap, no duplicate', async () => {
    const t = await topics('sp');
    const reader = await Reader.start([t.sink, t.dlq]);
    const jobId = await submit(options('sp', 2), jobArgs(t, 'sp'));
    const first = purchases(0, 1200, false);
    const second = purchases(1200, 2400, true);
    await write(t.source, first, false);
    await cluster.waitFor(() => reader.of(t.sink).length >= first.length, 180_000);
    const stopped = await nimble([
      'stop',
      '-m',
      cluster.address,
      jobId,
      '--savepointPath',
      join(work, 'savepoints'),
    ]);
    expect(stopped.code).toBe(0);
    const savepoint = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)?.[1];
    expect(savepoint).toBeDefined();
    await write(t.source, second, true);
    const resumed = await submit(['-s', savepoint!, ...options('sp', 3)], jobArgs(t, 'sp'));
    const expected = expectedTotals([...first, ...second]);
    await waitForTotals(reader, t.sink, expected.length, resumed);
    expect(reader.of(t.sink).length).toBe(expected.length);
    expect(await decodeTotals(reader.of(t.sink))).toEqual(expected);
    expect(reader.of(t.dlq)).toEqual([]);
  }, 400_000);

  it('an unreachable registry fails the job with its URL, restart after restart', async () => {
    const t = await topics('down');
    await write(t.source, purchases(0, 10, false), false);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const down = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    const args = jobArgs(t, 'down');
    args[2] = down;
    const jobId = await submit(options('down', 1), args);
    let root = '';
    await cluster.waitFor(async () => {
      root = String((await cluster.rest(`/jobs/${jobId}/exceptions`))['root-exception'] ?? '');
      return root !== '';
    }, 120_000);
    expect(root).toContain(`schema registry ${down} is unreachable`);
    expect(root).toMatch(/check the registry URL and that the registry runs/);
  }, 200_000);
});

describe('the registry and the SQL formats', () => {
  it('refuses a schema its compatibility rule does not allow, naming the subject', async () => {
    const client = new SchemaRegistryClient(registry.url);
    const subject = 'compat-test-value';
    await client.register(subject, JSON.stringify(PURCHASE_V1));
    await client.setCompatibility(subject, 'BACKWARD');
    // v2 adds a field with a default: allowed. A field without one is not.
    await client.register(subject, JSON.stringify(PURCHASE_V2));
    const breaking = {
      ...PURCHASE_V1,
      fields: [...PURCHASE_V1.fields, { name: 'country', type: 'string' }],
    };
    const s = ConfluentRegistryAvroSerializationSchema.forGeneric(subject, breaking, registry.url);
    await expect(s.open()).rejects.toThrow(
      new RegExp(
        `^schema registry ${registry.url} refused the schema for subject '${subject}' as incompatible: .*${subject}`,
      ),
    );
  });

  it('a SQL job writes avro-confluent and another reads it back, v1 rows with the v2 default', async () => {
    const t = await topics('sql');
    // v1 records written by a producer, read by a table whose columns are v2's.
    const rows = purchases(0, 20, false);
    await write(t.source, rows, false);
    const ddl = (name: string, topic: string, extra: string) => `
      CREATE TABLE ${name} (
        \`user\` STRING NOT NULL,
        amount BIGINT NOT NULL,
        region STRING
      ) WITH (
        'connector' = 'kafka',
        'topic' = '${topic}',
        'properties.bootstrap.servers' = '${broker.bootstrapServers}',
        'format' = 'avro-confluent',
        'avro-confluent.url' = '${registry.url}'${extra}
      );`;
    const script = `
      ${ddl('purchases', t.source, `,\n'scan.startup.mode' = 'earliest-offset',\n'scan.bounded.mode' = 'latest-offset'`)}
      ${ddl('copies', t.sink, '')}
      INSERT INTO copies SELECT \`user\`, amount * 2, COALESCE(region, 'none') FROM purchases;`;
    const r = await nimble(['run', '-m', cluster.address, '-p', '1', SQL_JOB, '--sql', script]);
    expect(r.stderr + r.stdout).not.toMatch(/FAILED|Error/);
    expect(r.code).toBe(0);
    const reader = await Reader.start([t.sink]);
    await cluster.waitFor(() => reader.of(t.sink).length >= rows.length, 60_000);
    const d = ConfluentRegistryAvroDeserializationSchema.forGeneric<Record<string, unknown>>(
      null,
      registry.url,
    );
    await d.prepare(reader.of(t.sink));
    const read = reader.of(t.sink).map((v) => JSON.stringify({ ...d.deserialize(v) }));
    // The v1 records have no region: the reader schema's default (null) reads as null.
    expect(read.sort()).toEqual(
      rows
        .map((p) => JSON.stringify({ user: p.user, amount: p.amount * 2, region: 'none' }))
        .sort(),
    );
    // Written under <topic>-value with the schema derived from the table.
    const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[];
    expect(subjects).toContain(`${t.sink}-value`);
  }, 200_000);
});

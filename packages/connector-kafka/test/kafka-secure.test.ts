// Keys, headers, timestamps, tombstones and upserts, over SASL_SSL (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512) and mutual TLS, on a real broker with those listeners (certificates made by
// openssl, SCRAM credentials written when the broker's storage was formatted).
import type { ConfigValue } from '@nimble/api';
import {
  installPipelineExecutor,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { LocalExecutor } from '@nimble/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBroker, SecureListeners } from '../../../test/fixtures/kafka-broker.js';
import { createTopic, saslSslProperties, startKafka } from '../../../test/fixtures/kafka-broker.js';
import type { KafkaChange, KafkaConsumerRecord, KafkaUpsert } from '../src/index.js';
import {
  DeliveryGuarantee,
  KafkaOffsetsInitializer,
  KafkaRecordDeserializationSchema,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  SimpleStringSchema,
  UpsertKafkaDeserializationSchema,
  UpsertKafkaNormalizer,
  UpsertKafkaRecordSerializationSchema,
} from '../src/index.js';

function localEnv(configuration: Record<string, ConfigValue> = {}): StreamExecutionEnvironment {
  installPipelineExecutor(new LocalExecutor({ threads: false, stdout: () => {} }));
  const env = StreamExecutionEnvironment.getExecutionEnvironment(configuration);
  env.setParallelism(1);
  return env;
}

let broker: KafkaBroker;
let secure: SecureListeners;
const alice = { name: 'alice', password: 'alice-secret' };

beforeAll(async () => {
  broker = await startKafka({ secure: { users: [alice] } });
  secure = broker.secure!;
}, 180_000);

afterAll(async () => {
  await broker?.stop();
}, 60_000);

interface Event {
  readonly user: string;
  readonly amount: number;
  readonly ts: number;
}

/** A record as read back: everything the record deserializer sees, bytes as text. */
interface Seen {
  topic: string;
  partition: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | string[]>;
}

const seeAll = KafkaRecordDeserializationSchema.of<Seen>({
  deserialize: (r: KafkaConsumerRecord) => ({
    topic: r.topic,
    partition: r.partition,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('utf8'),
    value: r.value === null ? null : r.value.toString('utf8'),
    headers: Object.fromEntries(
      Object.entries(r.headers).map(([k, v]) => {
        // Header values arrive as Buffers.
        const values = Array.isArray(v) ? v : [v];
        for (const b of values)
          if (!Buffer.isBuffer(b)) throw new Error(`header ${k} is no Buffer`);
        return [k, Array.isArray(v) ? v.map((b) => b.toString('hex')) : v.toString('hex')];
      }),
    ),
  }),
});

async function readBack(
  topic: string,
  properties: Record<string, string>,
  servers: string,
): Promise<Seen[]> {
  const builder = KafkaSource.builder<Seen>()
    .setBootstrapServers(servers)
    .setTopics(topic)
    .setBounded(KafkaOffsetsInitializer.latest())
    .setDeserializer(seeAll)
    .setProperty('isolation.level', 'read_committed');
  for (const [k, v] of Object.entries(properties)) builder.setProperty(k, v);
  const env = localEnv();
  const out = await env
    .fromSource(builder.build(), WatermarkStrategy.noWatermarks(), 'read')
    .executeAndCollect();
  return out.sort((a, b) => a.timestamp - b.timestamp);
}

const events: Event[] = [
  { user: 'u1', amount: 10, ts: Date.UTC(2026, 0, 1, 10, 0) },
  { user: 'u2', amount: 20, ts: Date.UTC(2026, 0, 1, 10, 1) },
  { user: 'u1', amount: 30, ts: Date.UTC(2026, 0, 1, 10, 2) },
];

async function writeEvents(
  topic: string,
  properties: Record<string, string>,
  servers: string,
  guarantee: DeliveryGuarantee,
): Promise<void> {
  const env = localEnv();
  const builder = KafkaSink.builder<Event>()
    .setBootstrapServers(servers)
    .setDeliveryGuarantee(guarantee)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<Event>()
        .setTopic(topic)
        .setKeySerializationSchema({ serialize: (e) => e.user })
        .setValueSerializationSchema({ serialize: (e) => JSON.stringify(e) })
        .setHeaderProvider((e) => ({
          'trace-id': Buffer.from([0, 0xff, e.amount]),
          tag: ['a', Buffer.from('b')],
        }))
        .build(),
    );
  if (guarantee === DeliveryGuarantee.EXACTLY_ONCE) builder.setTransactionalIdPrefix(topic);
  for (const [k, v] of Object.entries(properties)) builder.setProperty(k, v);
  env
    .fromCollection(events)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((e) => e.ts),
    )
    .sinkTo(builder.build(), 'kafka');
  await env.execute();
}

function expectedRecords(topic: string): Seen[] {
  return events.map((e) => ({
    topic,
    partition: 0,
    timestamp: e.ts,
    key: e.user,
    value: JSON.stringify(e),
    headers: {
      'trace-id': Buffer.from([0, 0xff, e.amount]).toString('hex'),
      tag: [Buffer.from('a').toString('hex'), Buffer.from('b').toString('hex')],
    },
  }));
}

describe('SASL_SSL and SSL', () => {
  const cases = [
    ['PLAIN', DeliveryGuarantee.AT_LEAST_ONCE],
    ['SCRAM-SHA-256', DeliveryGuarantee.AT_LEAST_ONCE],
    // EXACTLY_ONCE over SASL_SSL: test/kafka-secure-cluster.test.ts, on a cluster.
    ['SCRAM-SHA-512', DeliveryGuarantee.AT_LEAST_ONCE],
  ] as const;
  for (const [mechanism, guarantee] of cases) {
    it(`writes and reads keys, values, headers and timestamps exactly through SASL_SSL ${mechanism} (${guarantee})`, async () => {
      const topic = `secure.${mechanism.toLowerCase()}`;
      await createTopic(broker.bootstrapServers, topic, 1);
      const props = saslSslProperties(secure, mechanism);
      await writeEvents(topic, props, secure.saslSslBootstrapServers, guarantee);
      expect(await readBack(topic, props, secure.saslSslBootstrapServers)).toEqual(
        expectedRecords(topic),
      );
    }, 120_000);
  }

  it('writes and reads through SSL with a client certificate (mutual TLS, PEM keystore)', async () => {
    const topic = 'secure.mtls';
    await createTopic(broker.bootstrapServers, topic, 1);
    const props = {
      'security.protocol': 'SSL',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': secure.caFile,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': secure.clientKeystoreFile,
    };
    await writeEvents(topic, props, secure.sslBootstrapServers, DeliveryGuarantee.AT_LEAST_ONCE);
    expect(await readBack(topic, props, secure.sslBootstrapServers)).toEqual(
      expectedRecords(topic),
    );
  }, 120_000);

  it('a wrong password fails the source and the sink, naming the broker and the mechanism', async () => {
    const topic = 'secure.denied';
    await createTopic(broker.bootstrapServers, topic, 1);
    const servers = secure.saslSslBootstrapServers;
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256'] as const) {
      const props = saslSslProperties(secure, mechanism, { name: 'alice', password: 'wrong' });
      await expect(readBack(topic, props, servers)).rejects.toThrow(
        `KafkaSource: SASL authentication with mechanism ${mechanism} failed at broker ${servers} (security.protocol=SASL_SSL)`,
      );
      await expect(
        writeEvents(topic, props, servers, DeliveryGuarantee.AT_LEAST_ONCE),
      ).rejects.toThrow(
        `KafkaSink: SASL authentication with mechanism ${mechanism} failed at broker ${servers} (security.protocol=SASL_SSL)`,
      );
    }
  }, 120_000);

  it('a broker certificate signed by an unknown CA fails the job, naming the broker', async () => {
    const servers = secure.saslSslBootstrapServers;
    const props = saslSslProperties(secure, 'PLAIN');
    delete props['ssl.truststore.location'];
    // Few retries: an untrusted certificate is a connection error, which kafkajs retries.
    props['retries'] = '1';
    await expect(readBack('secure.denied', props, servers)).rejects.toThrow(
      new RegExp(
        `KafkaSource: the TLS certificate of broker ${servers.replace(/\./g, '\\.')} is not trusted \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
      ),
    );
  }, 120_000);
});

describe('upserts and tombstones', () => {
  interface Total {
    readonly user: string;
    readonly total: number;
  }

  it('writes a changelog as keyed records and tombstones, and reads it back as a changelog', async () => {
    const topic = 'upsert.totals';
    await createTopic(broker.bootstrapServers, topic, 2);
    const props = saslSslProperties(secure, 'SCRAM-SHA-256');
    const servers = secure.saslSslBootstrapServers;
    const changes: KafkaChange<Total>[] = [
      { kind: '+I', row: { user: 'a', total: 1 } },
      { kind: '+I', row: { user: 'b', total: 5 } },
      { kind: '-U', row: { user: 'a', total: 1 } },
      { kind: '+U', row: { user: 'a', total: 3 } },
      { kind: '-D', row: { user: 'b', total: 5 } },
      { kind: '+U', row: { user: 'a', total: 3 } },
      { kind: '+I', row: { user: 'b', total: 7 } },
      { kind: '-D', row: { user: 'a', total: 3 } },
    ];
    const sink = KafkaSink.builder<KafkaChange<Total>>()
      .setBootstrapServers(servers)
      .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
      .setRecordSerializer(
        UpsertKafkaRecordSerializationSchema.builder<Total>()
          .setTopic(topic)
          .setKeySerializationSchema({ serialize: (t) => t.user })
          .setValueSerializationSchema({ serialize: (t) => JSON.stringify(t) })
          .build(),
      );
    for (const [k, v] of Object.entries(props)) sink.setProperty(k, v);
    const env = localEnv();
    env.fromCollection(changes).sinkTo(sink.build(), 'upsert');
    await env.execute();

    // On the topic: -U is dropped, -D is a tombstone of its key.
    const raw = await readBack(topic, props, servers);
    const byKey = (key: string) => raw.filter((r) => r.key === key).map((r) => r.value);
    expect(raw).toHaveLength(7);
    expect(byKey('a')).toEqual([
      '{"user":"a","total":1}',
      '{"user":"a","total":3}',
      '{"user":"a","total":3}',
      null,
    ]);
    expect(byKey('b')).toEqual(['{"user":"b","total":5}', null, '{"user":"b","total":7}']);

    // Read back: the latest value per key, a tombstone deletes, a repeated value is no change.
    const source = KafkaSource.builder<KafkaUpsert<string, Total>>()
      .setBootstrapServers(servers)
      .setTopics(topic)
      .setBounded(KafkaOffsetsInitializer.latest())
      .setDeserializer(
        new UpsertKafkaDeserializationSchema(new SimpleStringSchema(), {
          deserialize: (b: Buffer) => JSON.parse(b.toString('utf8')) as Total,
        }),
      );
    for (const [k, v] of Object.entries(props)) source.setProperty(k, v);
    const readEnv = localEnv();
    readEnv.setParallelism(2);
    const changelog = await readEnv
      .fromSource(source.build(), WatermarkStrategy.noWatermarks(), 'upserts')
      .keyBy((u) => u.key)
      .process(new UpsertKafkaNormalizer<string, Total>())
      .executeAndCollect();
    const perKey = (user: string) =>
      changelog.filter((c) => c.row.user === user).map((c) => `${c.kind}${c.row.total}`);
    expect(perKey('a')).toEqual(['+I1', '-U1', '+U3', '-D3']);
    expect(perKey('b')).toEqual(['+I5', '-D5', '+I7']);
    expect(changelog).toHaveLength(7);
  }, 120_000);

  it('valueOnly skips tombstones; a record without a key fails an upsert read, naming it', async () => {
    const topic = 'upsert.unkeyed';
    await createTopic(broker.bootstrapServers, topic, 1);
    const servers = broker.bootstrapServers;
    const env = localEnv();
    env.fromCollection(['x', 'tombstone', 'y']).sinkTo(
      KafkaSink.builder<string>()
        .setBootstrapServers(servers)
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .setRecordSerializer(
          KafkaRecordSerializationSchema.builder<string>()
            .setTopic(topic)
            .setValueSerializationSchema({ serialize: (s) => (s === 'tombstone' ? null : s) })
            .build(),
        )
        .build(),
    );
    await env.execute();
    const read = <T>(deserializer: KafkaRecordDeserializationSchema<T>) =>
      localEnv()
        .fromSource(
          KafkaSource.builder<T>()
            .setBootstrapServers(servers)
            .setTopics(topic)
            .setBounded(KafkaOffsetsInitializer.latest())
            .setDeserializer(deserializer)
            .build(),
          WatermarkStrategy.noWatermarks(),
          'read',
        )
        .executeAndCollect();
    expect(
      await read(KafkaRecordDeserializationSchema.valueOnly(new SimpleStringSchema())),
    ).toEqual(['x', 'y']);
    await expect(
      read(
        new UpsertKafkaDeserializationSchema(new SimpleStringSchema(), new SimpleStringSchema()),
      ),
    ).rejects.toThrow(
      `UpsertKafkaDeserializationSchema: the record at offset 0 of partition 0 of topic ${topic} has no key; an upsert topic needs a key on every record`,
    );
  }, 120_000);
});

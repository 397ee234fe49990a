/**
 * Avro format benchmark: records/s of one thread (one subtask) for serialize and deserialize of
 * a feature-pipeline record (user, item, amount, a nullable score, a timestamp, region), with
 * the plain Avro schemas, with Confluent's wire format against a real schema registry (Apicurio,
 * test/fixtures/schema-registry.ts: the id is registered once in open(), fetched once in
 * prepare(), then read from the caches), next to JSON for reference. A v1 -> v2 resolution
 * (a defaulted field added) is measured too.
 *
 * Through Kafka (a real broker, test/fixtures/kafka-broker.ts): a job at parallelism 1, in this
 * process, copies `--kafka-records` records from a one-partition topic to another (bounded
 * KafkaSource -> KafkaSink, AT_LEAST_ONCE), once in avro-confluent and once in JSON: records/s
 * of the subtask from start to end of the job (reading, deserializing, serializing, writing).
 *
 *   pnpm bench:connector-avro [-- --records 300000 --kafka-records 200000]
 */
import { parseArgs } from 'node:util';
import '@nimble/runtime/local';
import { StreamExecutionEnvironment, WatermarkStrategy } from '@nimble/api';
import type { DeserializationSchema, SerializationSchema } from '@nimble/connector-kafka';
import {
  DeliveryGuarantee,
  JsonDeserializationSchema,
  JsonSerializationSchema,
  KafkaOffsetsInitializer,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
} from '@nimble/connector-kafka';
import { Kafka, logLevel } from 'kafkajs';
import {
  AvroDeserializationSchema,
  AvroSerializationSchema,
  ConfluentRegistryAvroDeserializationSchema,
  ConfluentRegistryAvroSerializationSchema,
} from '@nimble/format-avro';
import { createTopic, startKafka } from '../test/fixtures/kafka-broker.js';
import { startSchemaRegistry } from '../test/fixtures/schema-registry.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    'kafka-records': { type: 'string', default: '200000' },
  },
});
const N = Number(values.records);
const K = Number(values['kafka-records']);

const V1 = {
  type: 'record',
  name: 'Purchase',
  namespace: 'nimble.bench',
  fields: [
    { name: 'user', type: 'string' },
    { name: 'item', type: 'long' },
    { name: 'amount', type: 'double' },
    { name: 'score', type: ['null', 'double'], default: null },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'region', type: 'string', default: 'eu' }] };

const records = Array.from({ length: 1000 }, (_, i) => ({
  user: `user-${i * 7919}`,
  item: i * 104729,
  amount: (i % 500) / 3,
  score: i % 3 === 0 ? null : i / 1000,
  ts: 1_780_000_000_000 + i * 1000,
}));

function rate(label: string, fn: (i: number) => unknown, unit = 'records/s'): number {
  for (let i = 0; i < Math.min(N, 20_000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(i);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const r = N / s;
  console.log(`${label.padEnd(52)} ${Math.round(r).toLocaleString('en-US').padStart(12)} ${unit}`);
  return r;
}

const registry = await startSchemaRegistry();
try {
  console.log(
    `Avro format, one thread, ${N.toLocaleString('en-US')} records per row (node ${process.version})`,
  );
  const json = records.map((r) => Buffer.from(JSON.stringify(r)));
  rate('JSON serialize (reference)', (i) => Buffer.from(JSON.stringify(records[i % 1000])));
  rate('JSON deserialize (reference)', (i) => JSON.parse(json[i % 1000]!.toString()));

  const ser = AvroSerializationSchema.forGeneric(V1);
  const de = AvroDeserializationSchema.forGeneric(V1);
  const avro = records.map((r) => ser.serialize(r));
  rate('avro serialize', (i) => ser.serialize(records[i % 1000]!));
  rate('avro deserialize', (i) => de.deserialize(avro[i % 1000]!));

  const cser = ConfluentRegistryAvroSerializationSchema.forGeneric('bench-value', V1, registry.url);
  await cser.open();
  const wire = records.map((r) => cser.serialize(r));
  const cde = ConfluentRegistryAvroDeserializationSchema.forGeneric(null, registry.url);
  await cde.prepare(wire);
  const cdeV2 = ConfluentRegistryAvroDeserializationSchema.forGeneric(V2, registry.url);
  await cdeV2.prepare(wire);
  rate('avro-confluent serialize', (i) => cser.serialize(records[i % 1000]!));
  rate('avro-confluent deserialize (writer schema)', (i) => cde.deserialize(wire[i % 1000]!));
  rate('avro-confluent deserialize v1 -> v2 reader', (i) => cdeV2.deserialize(wire[i % 1000]!));
  const batch = wire.slice(0, 500);
  // prepare() per 500-record batch with every id cached: records/s it lets through.
  const batches = rate(
    'avro-confluent prepare (500-record batch, cached)',
    () => cde.prepare(batch),
    'batches/s',
  );
  console.log(
    `${'  = records/s of prepared batches'.padEnd(52)} ${Math.round(batches * 500)
      .toLocaleString('en-US')
      .padStart(12)} records/s`,
  );
  console.log(
    `record sizes: JSON ${json[1]!.length} B, avro ${avro[1]!.length} B, avro-confluent ${wire[1]!.length} B`,
  );

  // ---- through Kafka ----
  const broker = await startKafka();
  try {
    const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
    console.log(
      `\nThrough Kafka: ${K.toLocaleString('en-US')} records copied by one subtask (source + sink)`,
    );
    const formats: [
      string,
      Buffer[],
      DeserializationSchema<unknown>,
      SerializationSchema<unknown>,
    ][] = [
      [
        'avro-confluent',
        wire,
        ConfluentRegistryAvroDeserializationSchema.forGeneric(V1, registry.url),
        ConfluentRegistryAvroSerializationSchema.forGeneric('bench-out-value', V1, registry.url),
      ],
      ['json', json, new JsonDeserializationSchema(), new JsonSerializationSchema()],
    ];
    for (const [name, encoded, de, ser] of formats) {
      const from = `bench-${name}-in`;
      const to = `bench-${name}-out`;
      await createTopic(broker.bootstrapServers, from, 1);
      await createTopic(broker.bootstrapServers, to, 1);
      const producer = kafka.producer();
      await producer.connect();
      for (let i = 0; i < K; i += 5000) {
        const messages = [];
        for (let j = i; j < Math.min(K, i + 5000); j++)
          messages.push({ value: encoded[j % 1000]! });
        await producer.send({ topic: from, acks: 1, messages });
      }
      await producer.disconnect();
      const env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.setParallelism(1);
      env
        .fromSource(
          KafkaSource.builder<unknown>()
            .setBootstrapServers(broker.bootstrapServers)
            .setTopics(from)
            .setStartingOffsets(KafkaOffsetsInitializer.earliest())
            .setBounded(KafkaOffsetsInitializer.latest())
            .setValueOnlyDeserializer(de)
            .build(),
          WatermarkStrategy.noWatermarks(),
          'source',
        )
        .sinkTo(
          KafkaSink.builder<unknown>()
            .setBootstrapServers(broker.bootstrapServers)
            .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
            .setRecordSerializer(
              KafkaRecordSerializationSchema.builder<unknown>()
                .setTopic(to)
                .setValueSerializationSchema(ser)
                .build(),
            )
            .build(),
        );
      const t0 = performance.now();
      await env.execute(`copy-${name}`);
      const s = (performance.now() - t0) / 1000;
      console.log(
        `${`kafka copy, ${name}`.padEnd(52)} ${Math.round(K / s)
          .toLocaleString('en-US')
          .padStart(12)} records/s (${s.toFixed(1)} s)`,
      );
    }
  } finally {
    await broker.stop();
  }
} finally {
  await registry.stop();
}

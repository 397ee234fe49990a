/**
 * Avro format benchmark: records/s of one thread (one subtask) for serialize and deserialize of
 * a feature-pipeline record (user, item, amount, a nullable score, a timestamp, region), with
 * the plain Avro schemas, with Confluent's wire format against a real schema registry (Apicurio,
 * test/fixtures/schema-registry.ts: the id is registered once in open(), fetched once in
 * prepare(), then read from the caches), next to JSON for reference. A v1 -> v2 resolution
 * (a defaulted field added) is measured too.
 *
 *   pnpm bench:connector-avro [-- --records 300000]
 */
import { parseArgs } from 'node:util';
import {
  AvroDeserializationSchema,
  AvroSerializationSchema,
  ConfluentRegistryAvroDeserializationSchema,
  ConfluentRegistryAvroSerializationSchema,
} from '@nimble/format-avro';
import { startSchemaRegistry } from '../test/fixtures/schema-registry.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '300000' } } });
const N = Number(values.records);

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
} finally {
  await registry.stop();
}

/**
 * Kafka connector benchmark: events/s of one KafkaSink subtask and one KafkaSource subtask, on a
 * real Kafka 3.9.1 broker (test/fixtures/kafka-broker.ts) with a PLAINTEXT and a SASL_SSL
 * (SCRAM-SHA-512, TLS) listener, in this process (LocalExecutor, parallelism 1).
 *
 * Records are keyed (`user-<i % 10000>`), with a 16-byte `trace` header and a ~60-byte JSON value.
 * - sink: N records from a collection through KafkaSink (AT_LEAST_ONCE: every record acknowledged
 *   by the broker) into a 1-partition topic: N / the job's time. EXACTLY_ONCE is left out: in
 *   the in-process executor its single end-of-input transaction sometimes comes out empty (a
 *   known bug, docs/connectors/kafka.md), and the cluster figures of bench:kafka measure it;
 * - source: the N records read back in bounded mode by KafkaSource with a record deserializer
 *   that sees key, value and headers, into a sink that drops them: N / the job's time.
 *
 *   pnpm bench:connector-kafka [-- --events 200000]
 */
import type { Sink } from '@nimble/api';
import {
  installPipelineExecutor,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import {
  DeliveryGuarantee,
  KafkaOffsetsInitializer,
  KafkaRecordDeserializationSchema,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
} from '@nimble/connector-kafka';
import { LocalExecutor } from '@nimble/runtime';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createTopic, saslSslProperties, startKafka } from '../test/fixtures/kafka-broker.js';

const { values: args } = parseArgs({
  options: { events: { type: 'string', default: '200000' } },
});
const N = Number(args.events);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (line: string) => console.log(`[connector-kafka-bench] ${line}`);

function env(configuration: Record<string, number> = {}): StreamExecutionEnvironment {
  installPipelineExecutor(new LocalExecutor({ threads: false, stdout: () => {} }));
  const e = StreamExecutionEnvironment.getExecutionEnvironment(configuration);
  e.setParallelism(1);
  return e;
}

const trace = Buffer.alloc(16, 7);

async function sinkRun(
  topic: string,
  n: number,
  servers: string,
  properties: Record<string, string>,
  guarantee: DeliveryGuarantee,
): Promise<number> {
  const e = env();
  const builder = KafkaSink.builder<number>()
    .setBootstrapServers(servers)
    .setDeliveryGuarantee(guarantee)
    .setRecordSerializer(
      KafkaRecordSerializationSchema.builder<number>()
        .setTopic(topic)
        .setKeySerializationSchema({ serialize: (i) => `user-${i % 10_000}` })
        .setValueSerializationSchema({
          serialize: (i) => `{"user":"user-${i % 10000}","amount":${i % 977},"seq":${i}}`,
        })
        .setHeaderProvider(() => ({ trace }))
        .build(),
    );
  if (guarantee === DeliveryGuarantee.EXACTLY_ONCE) builder.setTransactionalIdPrefix(topic);
  for (const [k, v] of Object.entries(properties)) builder.setProperty(k, v);
  e.fromCollection(Array.from({ length: n }, (_, i) => i)).sinkTo(builder.build(), 'kafka');
  const t0 = performance.now();
  await e.execute(`sink ${topic}`);
  return (performance.now() - t0) / 1000;
}

const drop: Sink<unknown> = {
  createWriter: () => ({ write() {}, flush() {}, close() {} }),
};

async function sourceRun(
  topic: string,
  servers: string,
  properties: Record<string, string>,
): Promise<{ seconds: number; read: number }> {
  const e = env();
  let read = 0;
  const builder = KafkaSource.builder<number>()
    .setBootstrapServers(servers)
    .setTopics(topic)
    .setBounded(KafkaOffsetsInitializer.latest())
    .setProperty('isolation.level', 'read_committed')
    .setDeserializer(
      KafkaRecordDeserializationSchema.of((r) => {
        read++;
        return r.key!.length + r.value!.length + (r.headers['trace'] as Buffer).length;
      }),
    );
  for (const [k, v] of Object.entries(properties)) builder.setProperty(k, v);
  e.fromSource(builder.build(), WatermarkStrategy.noWatermarks(), 'kafka').sinkTo(drop, 'drop');
  const t0 = performance.now();
  await e.execute(`source ${topic}`);
  return { seconds: (performance.now() - t0) / 1000, read };
}

const user = { name: 'bench', password: 'bench-secret' };
log(`starting a broker with PLAINTEXT and SASL_SSL listeners; ${fmt(N)} events per run`);
const broker = await startKafka({ secure: { users: [user] } });
const secure = broker.secure!;
const listeners = [
  { name: 'PLAINTEXT', servers: broker.bootstrapServers, properties: {} },
  {
    name: 'SASL_SSL SCRAM-SHA-512',
    servers: secure.saslSslBootstrapServers,
    properties: saslSslProperties(secure, 'SCRAM-SHA-512', user),
  },
];
const rows: string[] = [];
try {
  for (const [l, listener] of listeners.entries()) {
    for (const guarantee of [DeliveryGuarantee.AT_LEAST_ONCE]) {
      const topic = `bench-${l}-${guarantee}`;
      const n = N;
      await createTopic(broker.bootstrapServers, topic, 1);
      const sinkSeconds = await sinkRun(topic, n, listener.servers, listener.properties, guarantee);
      const source = await sourceRun(topic, listener.servers, listener.properties);
      if (source.read !== n) throw new Error(`${topic}: read ${source.read} of ${n} records`);
      const line =
        `${listener.name.padEnd(24)} ${guarantee.padEnd(14)} ${fmt(n).padStart(8)} records   sink ${fmt(n / sinkSeconds).padStart(7)} events/s` +
        `   source ${fmt(n / source.seconds).padStart(7)} events/s`;
      rows.push(line);
      log(line);
    }
  }
} finally {
  await broker.stop();
}
console.log('');
console.log(
  `Kafka connector, one subtask each (events/s per subtask; keyed records with a header; load ${loadavg()[0]!.toFixed(1)}):`,
);
for (const r of rows) console.log(`  ${r}`);
process.exit(0);

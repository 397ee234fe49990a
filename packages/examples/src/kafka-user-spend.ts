/**
 * The seed's "user-5min-spend-feature" job on Kafka: purchases (JSON) from `raw.purchases` ->
 * keyBy(user) -> tumbling 5-minute event-time window -> total spend per user -> JSON features to
 * `features.user_5min_spend`, exactly once. Records that are not valid JSON go to a dead-letter
 * topic with their topic, partition and offset.
 *
 *   deploy/kafka/kafka.sh start                          a broker on 127.0.0.1:9092
 *   pnpm --filter @nimble/examples produce-purchases     purchases into raw.purchases
 *   nimble local -n 2 -D execution.checkpointing.interval=10s packages/examples/src/kafka-user-spend.ts
 *
 * Options (after the job path): --bootstrap-servers, --source-topic, --sink-topic, --dlq-topic,
 * --group-id, --guarantee (none | at-least-once | exactly-once), --transactional-id-prefix,
 * --parallelism, --bounded (true: stop at the offsets that were latest at the start).
 */
import '@nimble/runtime/local';
import { Duration, StreamExecutionEnvironment, WatermarkStrategy } from '@nimble/api';
import {
  DeliveryGuarantee,
  JsonDeserializationSchema,
  JsonSerializationSchema,
  KafkaOffsetResetStrategy,
  KafkaOffsetsInitializer,
  KafkaRecordSerializationSchema,
  KafkaSink,
  KafkaSource,
  SimpleStringSchema,
} from '@nimble/connector-kafka';
import { jobArgs } from './args.js';
import type { Purchase } from './purchases.js';
import { userSpend5Min } from './user-spend-pipeline.js';

const args = jobArgs({
  'bootstrap-servers': '127.0.0.1:9092',
  'source-topic': 'raw.purchases',
  'sink-topic': 'features.user_5min_spend',
  'dlq-topic': 'raw.purchases.dlq',
  'group-id': 'nimble-feature-pipeline',
  guarantee: 'exactly-once',
  'transactional-id-prefix': 'user-5min-spend',
  parallelism: 2,
  bounded: 'false',
});
const guarantee = Object.values(DeliveryGuarantee).find((g) => g === args.guarantee);
if (guarantee === undefined) {
  throw new Error(
    `--guarantee must be one of ${Object.values(DeliveryGuarantee).join(', ')}; got ${args.guarantee}`,
  );
}

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(args.parallelism);

// Source: Kafka topic with user purchase events, resuming at the group's committed offsets.
const sourceBuilder = KafkaSource.builder<Purchase>()
  .setBootstrapServers(args['bootstrap-servers'])
  .setTopics(args['source-topic'])
  .setGroupId(args['group-id'])
  .setStartingOffsets(KafkaOffsetsInitializer.committedOffsets(KafkaOffsetResetStrategy.EARLIEST))
  .setValueOnlyDeserializer(new JsonDeserializationSchema<Purchase>());
if (args.bounded === 'true') sourceBuilder.setBounded(KafkaOffsetsInitializer.latest());

// Watermark strategy: allow 5 seconds of out-of-order events; a partition silent for a minute
// does not hold back the others.
const watermarks = WatermarkStrategy.forBoundedOutOfOrderness<Purchase>(Duration.ofSeconds(5))
  .withTimestampAssigner((event) => event.event_time_ms)
  .withIdleness(Duration.ofMinutes(1));
const purchases = env
  .fromSource(sourceBuilder.build(), watermarks, 'Kafka Source')
  .uid('kafka-purchases');

function sinkTo<T>(topic: string, uid: string, schema: KafkaRecordSerializationSchema<T>) {
  return KafkaSink.builder<T>()
    .setBootstrapServers(args['bootstrap-servers'])
    .setRecordSerializer(schema)
    .setDeliveryGuarantee(guarantee!)
    .setTransactionalIdPrefix(`${args['transactional-id-prefix']}-${uid}`)
    .build();
}

// Write the feature to Kafka, keyed by user.
type Feature = {
  user_id: string;
  spend_5min_usd: number;
  category_id: number;
  window_end_ts: number;
};
userSpend5Min(purchases)
  .map((x): Feature => ({
    user_id: x[0],
    spend_5min_usd: Math.round(x[1] * 100) / 100,
    category_id: x[2],
    window_end_ts: x[3],
  }))
  .uid('to-feature')
  .sinkTo(
    sinkTo(
      args['sink-topic'],
      'features',
      KafkaRecordSerializationSchema.builder<Feature>()
        .setTopic(args['sink-topic'])
        .setKeySerializationSchema({ serialize: (f) => f.user_id })
        .setValueSerializationSchema(new JsonSerializationSchema<Feature>())
        .build(),
    ),
    'Kafka Sink',
  )
  .uid('features-sink');

// Records that are not purchases: to the dead-letter topic, with where they came from.
purchases
  .getSideOutput(KafkaSource.MALFORMED_RECORDS)
  .map((r) => JSON.stringify(r))
  .uid('dead-letters')
  .sinkTo(
    sinkTo(
      args['dlq-topic'],
      'dlq',
      KafkaRecordSerializationSchema.builder<string>()
        .setTopic(args['dlq-topic'])
        .setValueSerializationSchema(new SimpleStringSchema())
        .build(),
    ),
    'Dead Letters',
  )
  .uid('dlq-sink');

await env.execute('user-5min-spend-feature-kafka');

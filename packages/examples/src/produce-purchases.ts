/**
 * Writes generated purchases to Kafka (the input of kafka-user-spend.ts). Creates the topics of
 * the Kafka examples that do not exist yet (the development broker creates none by itself): the
 * purchases, the features and the dead letters.
 *
 *   pnpm --filter @nimble/examples produce-purchases -- --events 600000 --rate 20000
 */
import { createKafkaClient } from '@nimble/connector-kafka';
import { jobArgs } from './args.js';
import { producePurchases } from './purchase-producer.js';

const args = jobArgs({
  'bootstrap-servers': '127.0.0.1:9092',
  topic: 'raw.purchases',
  'sink-topic': 'features.user_5min_spend',
  'dlq-topic': 'raw.purchases.dlq',
  partitions: 4,
  events: 600_000,
  from: 0,
  rate: 20_000,
  users: 1000,
  'ms-per-event': 1,
  'malformed-every': 0,
});

const admin = createKafkaClient(
  { 'bootstrap.servers': args['bootstrap-servers'], 'client.id': 'produce-purchases' },
  'produce-purchases',
).admin();
await admin.connect();
const existing = new Set(await admin.listTopics());
const wanted = [
  { topic: args.topic, numPartitions: args.partitions },
  { topic: args['sink-topic'], numPartitions: args.partitions },
  { topic: args['dlq-topic'], numPartitions: 1 },
].filter((t) => t.topic !== '' && !existing.has(t.topic));
if (wanted.length > 0) {
  await admin.createTopics({ topics: wanted, waitForLeaders: true });
  for (const t of wanted)
    console.log(`Created topic ${t.topic} with ${t.numPartitions} partition(s)`);
}
await admin.disconnect();

const started = performance.now();
await producePurchases({
  bootstrapServers: args['bootstrap-servers'],
  topic: args.topic,
  from: args.from,
  to: args.from + args.events,
  rate: args.rate,
  stream: { users: args.users, msPerEvent: args['ms-per-event'], maxDelayMs: 3000 },
  malformedEvery: args['malformed-every'],
});
const seconds = (performance.now() - started) / 1000;
console.log(
  `Wrote ${args.events} purchases to ${args.topic} in ${seconds.toFixed(1)} s (${Math.round(args.events / seconds)}/s)`,
);

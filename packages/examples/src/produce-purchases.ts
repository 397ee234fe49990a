/**
 * Writes generated purchases to Kafka (the input of kafka-user-spend.ts), creating the topic
 * when it does not exist.
 *
 *   pnpm --filter @nimble/examples produce-purchases -- --events 600000 --rate 20000
 */
import { Kafka, logLevel } from 'kafkajs';
import { jobArgs } from './args.js';
import { producePurchases } from './purchase-producer.js';

const args = jobArgs({
  'bootstrap-servers': '127.0.0.1:9092',
  topic: 'raw.purchases',
  partitions: 4,
  events: 600_000,
  from: 0,
  rate: 20_000,
  users: 1000,
  'ms-per-event': 1,
  'malformed-every': 0,
});

const admin = new Kafka({
  brokers: args['bootstrap-servers'].split(','),
  logLevel: logLevel.ERROR,
}).admin();
await admin.connect();
if (!(await admin.listTopics()).includes(args.topic)) {
  await admin.createTopics({
    topics: [{ topic: args.topic, numPartitions: args.partitions }],
    waitForLeaders: true,
  });
  console.log(`Created topic ${args.topic} with ${args.partitions} partitions`);
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

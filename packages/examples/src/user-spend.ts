/**
 * The seed's "user-5min-spend-feature" job: purchases -> keyBy(user) -> tumbling 5-minute
 * event-time window -> total spend per user -> feature records.
 *
 *   pnpm --filter @nimble/examples user-spend -- --users 1000 --events 600000 --rate 50000
 *
 * Events are generated (no Kafka needed); the stream is bounded by --events (Infinity runs forever).
 */
import '@nimble/runtime/local';
import {
  Duration,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { jobArgs } from './args.js';
import type { Purchase } from './purchases.js';
import { purchaseAt } from './purchases.js';

const args = jobArgs({
  users: 1000,
  events: 600_000,
  rate: 50_000,
  parallelism: 2,
  backend: 'hashmap',
  'ms-per-event': 1,
});

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(args.parallelism);
env.setStateBackend(args.backend === 'level' ? 'level' : 'hashmap');

const streamOptions = { users: args.users, msPerEvent: args['ms-per-event'], maxDelayMs: 3000 };
const source = new DataGeneratorSource<Purchase>((i) => purchaseAt(i, streamOptions), args.events, {
  recordsPerSecond: args.rate > 0 ? args.rate : undefined,
});

// Watermark strategy: allow 5 seconds of out-of-order events.
const watermarks = WatermarkStrategy.forBoundedOutOfOrderness<Purchase>(
  Duration.ofSeconds(5),
).withTimestampAssigner((event) => event.event_time_ms);

const purchases = env.fromSource(source, watermarks, 'Purchases').uid('purchases');

type Row = [user: string, amount: number, category: number, eventTime: number];

purchases
  .map((e): Row => [e.user_id, e.amount_usd, e.category_id, e.event_time_ms])
  .keyBy((row) => row[0])
  .window(TumblingEventTimeWindows.of(Time.minutes(5)))
  // Sum the amounts; keep the user and category, and the latest event time.
  .reduce((a: Row, b: Row): Row => [a[0], a[1] + b[1], a[2], Math.max(a[3], b[3])])
  .uid('user-5min-spend')
  .map((x) =>
    JSON.stringify({
      user_id: x[0],
      spend_5min_usd: Math.round(x[1] * 100) / 100,
      category_id: x[2],
      window_end_ts: x[3],
    }),
  )
  .print();

await env.execute('user-5min-spend-feature');

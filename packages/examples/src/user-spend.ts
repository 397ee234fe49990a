/**
 * The seed's "user-5min-spend-feature" job: purchases -> keyBy(user) -> tumbling 5-minute
 * event-time window -> total spend per user -> feature records.
 *
 *   pnpm --filter @nimble/examples user-spend -- --users 1000 --events 600000 --rate 50000
 *
 * Events are generated (no Kafka needed); the stream is bounded by --events (Infinity runs forever).
 */
import '@nimble/runtime/local';
import { StreamExecutionEnvironment } from '@nimble/api';
import { jobArgs } from './args.js';
import { generatedPurchases, userSpend5Min } from './user-spend-pipeline.js';

const args = jobArgs(
  {
    users: 1000,
    events: 600_000,
    rate: 50_000,
    parallelism: 2,
    backend: 'hashmap',
    'ms-per-event': 1,
  },
  { unbounded: ['events'] },
);

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(args.parallelism);
env.setStateBackend(args.backend === 'level' ? 'level' : 'hashmap');

const stream = { users: args.users, msPerEvent: args['ms-per-event'], maxDelayMs: 3000 };
const purchases = generatedPurchases(
  env,
  args.events,
  stream,
  args.rate > 0 ? args.rate : undefined,
);

userSpend5Min(purchases)
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

/**
 * The seed's "model hot-reload": new versions of a tiny linear model stream in while purchases
 * do; the versions are broadcast to every parallel instance of a keyed scoring function
 * (broadcast state) and each purchase is scored with the version valid at its event time,
 * emitted as a feature record with that version (model-scoring.ts explains why by event time).
 *
 *   pnpm --filter @nimble/examples model-hot-reload -- --users 20 --events 5000 --models 6
 *
 * Events and models are generated (no Kafka needed); --rate and --model-rate throttle them so
 * the versions arrive while purchases flow.
 */
import '@nimble/runtime/local';
import { StreamExecutionEnvironment } from '@nimble/api';
import { jobArgs } from './args.js';
import { scoredPurchases } from './model-scoring.js';

const args = jobArgs({
  users: 20,
  events: 2000,
  rate: 0,
  models: 4,
  'model-rate': 0,
  'model-interval-ms': 10 * 60_000,
  'ms-per-event': 1000,
  'max-delay-ms': 5000,
  parallelism: 2,
  backend: 'hashmap',
});

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(args.parallelism);
env.setStateBackend(args.backend === 'level' ? 'level' : 'hashmap');

scoredPurchases(env, {
  purchases: args.events,
  stream: {
    users: args.users,
    msPerEvent: args['ms-per-event'],
    maxDelayMs: args['max-delay-ms'],
  },
  purchasesPerSecond: args.rate > 0 ? args.rate : undefined,
  models: args.models,
  modelIntervalMs: args['model-interval-ms'],
  modelsPerSecond: args['model-rate'] > 0 ? args['model-rate'] : undefined,
})
  .map((s) => JSON.stringify(s))
  .print('scored');

await env.execute('model-hot-reload');

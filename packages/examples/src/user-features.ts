/**
 * The seed's online features per user, kept in queryable keyed state so a model server reads
 * them at request time (feature-server.ts) instead of from a copy in a key-value store:
 * purchases -> keyBy(user) -> a KeyedProcessFunction that updates the user's purchase count,
 * total spend, rolling 5-minute spend and latest purchase time.
 *
 *   nimble run -d packages/examples/src/user-features.ts --users 1000 --rate 1000
 *   pnpm --filter @nimble/examples feature-server -- --jobmanager 127.0.0.1:6123
 *
 * `--events N` ends the input after N purchases, but the job keeps running (an idle second
 * source holds it open) so the features stay queryable; `--events 0` (the default) runs forever.
 */
import '@nimble/runtime/local';
import { StreamExecutionEnvironment } from '@nimble/api';
import { jobArgs } from './args.js';
import { USER_FEATURES_JOB, userFeatures } from './user-features-pipeline.js';

const args = jobArgs({
  users: 1000,
  events: 0,
  rate: 1000,
  parallelism: 2,
  backend: 'hashmap',
  'ms-per-event': 1,
});
const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(args.parallelism);
env.setStateBackend(args.backend === 'level' ? 'level' : 'hashmap');
userFeatures(env, {
  stream: { users: args.users, msPerEvent: args['ms-per-event'], maxDelayMs: 3000 },
  events: args.events,
  rate: args.rate,
});
await env.execute(USER_FEATURES_JOB);

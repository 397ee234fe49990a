/**
 * The job: each user's spend per 5-minute window of generated purchases, printed as JSON lines.
 * `npm run dev` runs it on a local cluster, `npm run submit` on the cluster you configured.
 */
import { StreamExecutionEnvironment } from '@nimble/api';
import { buildPipeline } from './pipeline.js';

const env = StreamExecutionEnvironment.getExecutionEnvironment();

buildPipeline(env)
  .map((spend) => JSON.stringify(spend))
  .print();

await env.execute('user-spend');

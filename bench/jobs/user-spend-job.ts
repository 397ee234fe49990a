/**
 * The 5-minute spend job of the seed, for benchmarks: generated purchases -> keyBy(user) ->
 * tumbling 5-minute event-time window reduce -> a sink that counts. Parameters come from
 * environment variables so every slot's worker thread builds the same job.
 */
import type { Sink, SinkWriter } from '@nimble/api';
import { StreamExecutionEnvironment } from '@nimble/api';
import '@nimble/runtime/local';
import { generatedPurchases, userSpend5Min } from '@nimble/examples/user-spend-pipeline';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const events = Number(env('BENCH_EVENTS', '2000000'));
const users = Number(env('BENCH_USERS', '100000'));
const parallelism = Number(env('BENCH_PARALLELISM', '1'));
const backend = env('BENCH_BACKEND', 'hashmap') as 'hashmap' | 'level';

/** Counts what reaches it; nothing is printed, so the figure is the engine's. */
class CountingSink implements Sink<unknown> {
  createWriter(): SinkWriter<unknown> {
    let n = 0;
    return {
      write: () => {
        n++;
      },
      flush: () => {},
      close: () => {
        void n;
      },
    };
  }
}

const e = StreamExecutionEnvironment.getExecutionEnvironment();
e.setParallelism(parallelism).setStateBackend(backend);
// Extra configuration with Flink's keys, e.g. BENCH_CONF='{"execution.buffer-timeout": 20}'.
e.configure(JSON.parse(env('BENCH_CONF', '{}')) as Record<string, string | number | boolean>);
// The example's pipeline, as fast as the source can generate (no rate limit).
userSpend5Min(generatedPurchases(e, events, { users, msPerEvent: 1, maxDelayMs: 3000 })).sinkTo(
  new CountingSink(),
  'Count',
);

const result = await e.execute('bench-user-5min-spend');
// The runner reads this line: the job's own running time, without process and thread start-up.
process.stdout.write(`BENCH_RESULT ${JSON.stringify({ netRuntimeMs: result.netRuntimeMs })}\n`);

/**
 * The 5-minute spend job for the cluster benchmark. Parameters are program arguments (they travel
 * with the job to every TaskManager): events, users, parallelism.
 */
import type { Sink, SinkWriter } from '@nimble/api';
import { StreamExecutionEnvironment } from '@nimble/api';
import '@nimble/runtime/local';
import { generatedPurchases, userSpend5Min } from '@nimble/examples/user-spend-pipeline';

const [events = 2_000_000, users = 100_000, parallelism = 2] = process.argv.slice(2).map(Number);

/** Counts what reaches it; nothing is printed, so the figure is the engine's. */
class CountingSink implements Sink<unknown> {
  createWriter(): SinkWriter<unknown> {
    return { write: () => {}, flush: () => {}, close: () => {} };
  }
}

const e = StreamExecutionEnvironment.getExecutionEnvironment();
e.setParallelism(parallelism);
userSpend5Min(generatedPurchases(e, events, { users, msPerEvent: 1, maxDelayMs: 3000 })).sinkTo(
  new CountingSink(),
  'Count',
);
const cpu = process.cpuUsage();
const result = await e.execute('bench-cluster-user-5min-spend');
// CPU of this process while the job ran (all its threads; in-process: the job itself).
const used = process.cpuUsage(cpu);
const cpuMs = Math.round((used.user + used.system) / 1000);
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ netRuntimeMs: result.netRuntimeMs, cpuMs })}\n`,
);

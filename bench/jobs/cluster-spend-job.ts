/**
 * The 5-minute spend job for the cluster benchmarks. Parameters are program arguments (they travel
 * with the job to every TaskManager): events, users, parallelism, and the order of the sequence
 * across source subtasks.
 *
 * Order `interleaved` (the default) gives source subtask s of p the events s, s + p, s + 2p, ...,
 * so every subtask's event time advances at the same pace, as a Kafka topic's partitions do, and
 * windows fire as the job runs. Order `contiguous` is the data generator's own split (subtask s
 * gets the s-th block of the sequence, as Flink's `DataGeneratorSource`): at p = 2 the second
 * subtask starts half the event-time range ahead, the watermark (the minimum of the two) holds its
 * windows back, and keyed state grows with every event until the end of input fires them all.
 * The same events either way; only which subtask generates which, and so when windows fire.
 */
import type { Sink, SinkWriter } from '@nimble/api';
import { Duration, StreamExecutionEnvironment, WatermarkStrategy } from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import type { Purchase } from '@nimble/examples/purchases';
import { purchaseAt } from '@nimble/examples/purchases';
import '@nimble/runtime/local';
import { generatedPurchases, userSpend5Min } from '@nimble/examples/user-spend-pipeline';

const args = process.argv.slice(2);
const [events = 2_000_000, users = 100_000, parallelism = 2] = args.slice(0, 3).map(Number);
const order = args[3] ?? 'interleaved';
const stream = { users, msPerEvent: 1, maxDelayMs: 3000 };

/** Counts what reaches it; nothing is printed, so the figure is the engine's. */
class CountingSink implements Sink<unknown> {
  createWriter(): SinkWriter<unknown> {
    return { write: () => {}, flush: () => {}, close: () => {} };
  }
}

function interleavedPurchases(env: StreamExecutionEnvironment) {
  // The generator's split s covers [s * perSplit, (s + 1) * perSplit) when p divides the count.
  if (events % parallelism !== 0)
    throw new RangeError(`interleaved order needs events divisible by ${parallelism}`);
  const perSplit = events / parallelism;
  const source = new DataGeneratorSource<Purchase>((i) => {
    const split = Math.floor(i / perSplit);
    return purchaseAt((i - split * perSplit) * parallelism + split, stream);
  }, events);
  const watermarks = WatermarkStrategy.forBoundedOutOfOrderness<Purchase>(
    Duration.ofSeconds(5),
  ).withTimestampAssigner((event) => event.event_time_ms);
  return env.fromSource(source, watermarks, 'Purchases').uid('purchases');
}

const e = StreamExecutionEnvironment.getExecutionEnvironment();
e.setParallelism(parallelism);
const purchases =
  order === 'contiguous'
    ? generatedPurchases(e, events, stream)
    : order === 'interleaved'
      ? interleavedPurchases(e)
      : (() => {
          throw new RangeError(`order must be interleaved or contiguous; got ${order}`);
        })();
userSpend5Min(purchases).sinkTo(new CountingSink(), 'Count');
const cpu = process.cpuUsage();
const result = await e.execute('bench-cluster-user-5min-spend');
// CPU of this process while the job ran (all its threads; in-process: the job itself).
const used = process.cpuUsage(cpu);
const cpuMs = Math.round((used.user + used.system) / 1000);
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ netRuntimeMs: result.netRuntimeMs, cpuMs })}\n`,
);

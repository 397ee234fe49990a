/**
 * The interval join benchmark: two generated streams keyed by user, joined with
 * `between(-5 s, +5 s)`, into a sink that counts. Each user has one element per stream every
 * 10 s of event time, the second stream's 3.3 s after the first's, so each element joins about
 * one element of the other stream and each side buffers about one element per user (as many
 * keys in state as users). Parameters come from environment variables so every slot's worker
 * thread builds the same job: BENCH_EVENTS (both streams together), BENCH_USERS,
 * BENCH_PARALLELISM, BENCH_BACKEND.
 */
import type { Collector, ProcessJoinContext, Sink, SinkWriter } from '@nimble/api';
import {
  Duration,
  ProcessJoinFunction,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import '@nimble/runtime/local';
import { DataGeneratorSource } from '@nimble/connector-datagen';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const events = Number(env('BENCH_EVENTS', '2000000'));
const users = Number(env('BENCH_USERS', '100000'));
const parallelism = Number(env('BENCH_PARALLELISM', '1'));
const backend = env('BENCH_BACKEND', 'hashmap') as 'hashmap' | 'level';

/** [user, amount, event time]: a click of the first stream or an order of the second. */
type Event = [user: string, amount: number, eventTime: number];

const PERIOD_MS = 10_000;
/** Element i of a stream: users in turn, each user once per PERIOD_MS of event time. */
function eventAt(i: number, shiftMs: number): Event {
  return [`user-${i % users}`, i % 100, Math.floor((i * PERIOD_MS) / users) + shiftMs];
}

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
        // The number of pairs, for a sanity check of the join's selectivity.
        process.stdout.write(`BENCH_PAIRS ${n}\n`);
      },
    };
  }
}

class Pair extends ProcessJoinFunction<Event, Event, [string, number, number]> {
  processElement(
    click: Event,
    order: Event,
    ctx: ProcessJoinContext,
    out: Collector<[string, number, number]>,
  ): void {
    out.collect([click[0], click[1] + order[1], ctx.getTimestamp()]);
  }
}

const e = StreamExecutionEnvironment.getExecutionEnvironment();
e.setParallelism(parallelism).setStateBackend(backend);
e.configure(JSON.parse(env('BENCH_CONF', '{}')) as Record<string, string | number | boolean>);
const stream = (name: string, shiftMs: number) =>
  e
    .fromSource(
      new DataGeneratorSource<Event>((i) => eventAt(i, shiftMs), events / 2),
      WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((x) => x[2]),
      name,
    )
    .uid(name);
stream('clicks', 0)
  .keyBy((x) => x[0])
  .intervalJoin(stream('orders', PERIOD_MS / 3).keyBy((x) => x[0]))
  .between(-5_000, Duration.ofSeconds(5))
  .process(new Pair())
  .uid('join')
  .sinkTo(new CountingSink(), 'Count');

const result = await e.execute('bench-interval-join');
// The runner reads this line: the job's own running time, without process and thread start-up.
process.stdout.write(`BENCH_RESULT ${JSON.stringify({ netRuntimeMs: result.netRuntimeMs })}\n`);

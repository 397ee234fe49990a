/**
 * Per-event feature job for the latency benchmark: purchases at a fixed rate -> keyBy(user) ->
 * a KeyedProcessFunction that updates the user's rolling 5-minute spend (five one-minute buckets
 * in ValueState) and emits it on every event -> latency from the record's creation at the source
 * to its feature, measured right after the feature operator. Arguments: events per second,
 * seconds, users, parallelism.
 */
import type {
  Collector,
  KeyedProcessContext,
  ProcessContext,
  RuntimeContext,
  ValueState,
} from '@nimble/api';
import {
  KeyedProcessFunction,
  ProcessFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import '@nimble/runtime/local';

const [rate = 80_000, seconds = 20, users = 10_000, parallelism = 2] = process.argv
  .slice(2)
  .map(Number);

interface Purchase {
  user: string;
  amount: number;
  createdAt: number;
}
interface Feature {
  user: string;
  spend5m: number;
  createdAt: number;
}

const MINUTE = 60_000;

class RollingSpend extends KeyedProcessFunction<string, Purchase, Feature> {
  private buckets!: ValueState<number[]>;
  override open(ctx: RuntimeContext): void {
    this.buckets = ctx.getState(new ValueStateDescriptor<number[]>('buckets'));
  }
  override processElement(
    p: Purchase,
    _ctx: KeyedProcessContext<string>,
    out: Collector<Feature>,
  ): void {
    // [minute0, sum0, minute1, sum1, ...] for the last five minutes of processing time.
    const now = Math.floor(Date.now() / MINUTE);
    const old = this.buckets.value() ?? [];
    const kept: number[] = [];
    let spend = p.amount;
    let added = false;
    for (let i = 0; i < old.length; i += 2) {
      const minute = old[i]!;
      if (minute <= now - 5) continue;
      let sum = old[i + 1]!;
      if (minute === now) {
        sum += p.amount;
        added = true;
        spend += sum - p.amount;
      } else {
        spend += sum;
      }
      kept.push(minute, sum);
    }
    if (!added) kept.push(now, p.amount);
    this.buckets.update(kept);
    out.collect({ user: p.user, spend5m: spend, createdAt: p.createdAt });
  }
}

/** Latency histogram in 0.1 ms buckets up to 2 s; emits cumulative snapshots every 20k records. */
class LatencyHistogram extends ProcessFunction<
  Feature,
  { subtask: number; count: number; buckets: number[] }
> {
  private readonly buckets = new Array<number>(20_001).fill(0);
  private count = 0;
  private subtask = 0;
  override open(ctx: RuntimeContext): void {
    this.subtask = ctx.getIndexOfThisSubtask();
  }
  override processElement(
    f: Feature,
    _ctx: ProcessContext,
    out: Collector<{ subtask: number; count: number; buckets: number[] }>,
  ): void {
    const ms = Date.now() - f.createdAt;
    this.buckets[Math.min(20_000, Math.max(0, Math.round(ms * 10)))]!++;
    if (++this.count % 20_000 === 0)
      out.collect({ subtask: this.subtask, count: this.count, buckets: [...this.buckets] });
  }
}

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(parallelism);
const source = new DataGeneratorSource<Purchase>(
  (i) => ({ user: `user-${i % users}`, amount: (i * 7919) % 100, createdAt: Date.now() }),
  rate * seconds,
  // Small batches: the rate limiter releases records in batches, and a record's latency starts
  // when it is generated.
  { recordsPerSecond: rate, batchSize: 64 },
);
const snapshots = await env
  .fromSource(source, WatermarkStrategy.noWatermarks<Purchase>(), 'purchases')
  .keyBy((p) => p.user)
  .process(new RollingSpend())
  .name('rolling-spend')
  .process(new LatencyHistogram())
  .name('latency')
  .executeAndCollect('bench-latency');

const last = new Map<number, { count: number; buckets: number[] }>();
for (const s of snapshots) if ((last.get(s.subtask)?.count ?? 0) < s.count) last.set(s.subtask, s);
const merged = new Array<number>(20_001).fill(0);
let total = 0;
for (const s of last.values()) {
  total += s.count;
  s.buckets.forEach((n, i) => (merged[i]! += n));
}
const percentile = (q: number): number => {
  let seen = 0;
  for (let i = 0; i < merged.length; i++) {
    seen += merged[i]!;
    if (seen >= q * total) return i / 10;
  }
  return Infinity;
};
process.stdout.write(
  `BENCH_LATENCY ${JSON.stringify({ measured: total, p50Ms: percentile(0.5), p99Ms: percentile(0.99), maxMs: percentile(1) })}\n`,
);

/**
 * The pipeline of this project: each user's spend in 5-minute event-time windows, from purchase
 * events. `job.ts` builds it with {@link buildPipeline} and runs it; `test/job.test.ts` runs the
 * same pipeline in-process, and {@link userSpend} alone on hand-made purchases.
 */
import type {
  AggregateFunction,
  Collector,
  DataStream,
  ProcessWindowContext,
  StreamExecutionEnvironment,
  TimeWindow,
} from '@nimble/api';
import {
  Duration,
  ProcessWindowFunction,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';

/** A purchase event. */
export interface Purchase {
  readonly user_id: string;
  readonly amount_usd: number;
  readonly event_time_ms: number;
}

/** The feature: what a user spent in one 5-minute window. */
export interface UserSpend {
  readonly user_id: string;
  /** End of the window (exclusive), as an ISO date. */
  readonly window_end: string;
  readonly purchases: number;
  readonly spend_usd: number;
}

/** Generated purchases start at 2026-01-01T00:00:00Z. */
export const START_MS = Date.UTC(2026, 0, 1);

/**
 * The generated purchase number `i`: one every 10 s among 3 users, every fourth one arriving
 * 4 s after a later one. The same on every run, whatever the parallelism.
 */
export function purchaseAt(i: number): Purchase {
  return {
    user_id: `user-${i % 3}`,
    amount_usd: ((i * 7) % 50) + 0.99,
    event_time_ms: START_MS + i * 10_000 - (i % 4 === 3 ? 14_000 : 0),
  };
}

/** Event time from `event_time_ms`, with watermarks that allow 5 s of disorder. */
export function purchaseWatermarks(): WatermarkStrategy<Purchase> {
  return WatermarkStrategy.forBoundedOutOfOrderness<Purchase>(
    Duration.ofSeconds(5),
  ).withTimestampAssigner((p) => p.event_time_ms);
}

/** `count` generated purchases (bounded: the job finishes once they are processed). */
export function generatedPurchases(
  env: StreamExecutionEnvironment,
  count: number,
): DataStream<Purchase> {
  return env
    .fromSource(new DataGeneratorSource(purchaseAt, count), purchaseWatermarks(), 'Purchases')
    .uid('purchases');
}

interface SpendAccumulator {
  purchases: number;
  cents: number;
}

/** Counts purchases and sums their amounts in whole cents, so sums are exact. */
class SpendAggregate implements AggregateFunction<Purchase, SpendAccumulator, SpendAccumulator> {
  createAccumulator(): SpendAccumulator {
    return { purchases: 0, cents: 0 };
  }
  add(p: Purchase, acc: SpendAccumulator): SpendAccumulator {
    acc.purchases += 1;
    acc.cents += Math.round(p.amount_usd * 100);
    return acc;
  }
  getResult(acc: SpendAccumulator): SpendAccumulator {
    return acc;
  }
  merge(a: SpendAccumulator, b: SpendAccumulator): SpendAccumulator {
    return { purchases: a.purchases + b.purchases, cents: a.cents + b.cents };
  }
}

/** Adds the user and the window's end to the aggregate. */
class ToUserSpend extends ProcessWindowFunction<SpendAccumulator, UserSpend, string, TimeWindow> {
  process(
    user: string,
    ctx: ProcessWindowContext<TimeWindow>,
    aggregates: Iterable<SpendAccumulator>,
    out: Collector<UserSpend>,
  ): void {
    for (const acc of aggregates) {
      out.collect({
        user_id: user,
        window_end: new Date(ctx.window().end).toISOString(),
        purchases: acc.purchases,
        spend_usd: acc.cents / 100,
      });
    }
  }
}

/** Each user's purchases and spend per 5-minute event-time window. */
export function userSpend(purchases: DataStream<Purchase>): DataStream<UserSpend> {
  return purchases
    .keyBy((p) => p.user_id)
    .window(TumblingEventTimeWindows.of(Time.minutes(5)))
    .aggregate(new SpendAggregate(), new ToUserSpend())
    .name('User spend')
    .uid('user-spend');
}

/** One purchase every 10 s of event time: 60 make 10 minutes, two windows per user. */
export const PURCHASES = 60;

/** The job's pipeline: {@link PURCHASES} generated purchases, each user's spend per window. */
export function buildPipeline(env: StreamExecutionEnvironment): DataStream<UserSpend> {
  return userSpend(generatedPurchases(env, PURCHASES));
}

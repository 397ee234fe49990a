/**
 * The seed's online features per user, kept in queryable keyed state so a model server reads
 * them at request time (feature-server.ts) instead of from a copy in a key-value store. The job
 * program is user-features.ts.
 */
import type {
  DataStream,
  KeyedProcessContext,
  RuntimeContext,
  StreamExecutionEnvironment,
  ValueState,
} from '@nimble/api';
import { KeyedProcessFunction, ValueStateDescriptor, WatermarkStrategy } from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import type { Purchase, PurchaseStreamOptions } from './purchases.js';
import { purchaseAt } from './purchases.js';

/** The job's name, by which the feature server finds it. */
export const USER_FEATURES_JOB = 'user-features';

/** The queryable states of the job, by feature. Every value is a number; money is in cents. */
export const FEATURE_STATES = {
  purchases: 'user-purchases',
  spendCents: 'user-spend-cents',
  spend5MinCents: 'user-spend-5min-cents',
  lastPurchaseTs: 'user-last-purchase-ts',
} as const;

const MINUTE_MS = 60_000;
/** The rolling spend covers the latest purchase's minute and the four before it. */
const ROLLING_MINUTES = 5;

/** Cents of an amount in USD with two decimals: sums of cents are exact, sums of dollars are not. */
export const toCents = (usd: number): number => Math.round(usd * 100);

/**
 * Updates a user's features with each purchase. The rolling 5-minute spend is kept in 1-minute
 * buckets of event time (at most five [minute, cents] pairs per user), so a purchase costs a few
 * reads and writes of small values whatever the user's rate; it covers the purchases of the
 * user's latest minute of event time and the four minutes before it. A purchase older than that
 * window when it arrives counts in the totals but not in the rolling spend, so every feature is
 * the same whatever order the purchases of a user arrive in.
 */
export class UserFeatures extends KeyedProcessFunction<string, Purchase, never> {
  private purchases!: ValueState<number>;
  private spendCents!: ValueState<number>;
  private spend5MinCents!: ValueState<number>;
  private lastPurchaseTs!: ValueState<number>;
  private buckets!: ValueState<[minute: number, cents: number][]>;

  override open(ctx: RuntimeContext): void {
    const queryable = (name: string) => new ValueStateDescriptor<number>(name).setQueryable(name);
    this.purchases = ctx.getState(queryable(FEATURE_STATES.purchases));
    this.spendCents = ctx.getState(queryable(FEATURE_STATES.spendCents));
    this.spend5MinCents = ctx.getState(queryable(FEATURE_STATES.spend5MinCents));
    this.lastPurchaseTs = ctx.getState(queryable(FEATURE_STATES.lastPurchaseTs));
    this.buckets = ctx.getState(
      new ValueStateDescriptor<[minute: number, cents: number][]>('spend-minute-buckets'),
    );
  }

  processElement(p: Purchase, _ctx: KeyedProcessContext<string>): void {
    const cents = toCents(p.amount_usd);
    this.purchases.update((this.purchases.value() ?? 0) + 1);
    this.spendCents.update((this.spendCents.value() ?? 0) + cents);
    const last = Math.max(p.event_time_ms, this.lastPurchaseTs.value() ?? p.event_time_ms);
    this.lastPurchaseTs.update(last);

    const newest = Math.floor(last / MINUTE_MS);
    const minute = Math.floor(p.event_time_ms / MINUTE_MS);
    const kept = (this.buckets.value() ?? []).filter(([m]) => m > newest - ROLLING_MINUTES);
    if (minute > newest - ROLLING_MINUTES) {
      const bucket = kept.find(([m]) => m === minute);
      if (bucket) bucket[1] += cents;
      else kept.push([minute, cents]);
    }
    this.buckets.update(kept);
    this.spend5MinCents.update(kept.reduce((sum, [, c]) => sum + c, 0));
  }
}

/** Options of {@link userFeatures}. */
export interface UserFeaturesOptions {
  readonly stream: PurchaseStreamOptions;
  /** Purchases to generate; 0 generates forever. */
  readonly events: number;
  /** Purchases per second over all source subtasks; 0 is as fast as the job goes. */
  readonly rate: number;
}

/** Builds the feature job's pipeline on `env`. */
export function userFeatures(env: StreamExecutionEnvironment, o: UserFeaturesOptions): void {
  const source = new DataGeneratorSource<Purchase | null>(
    (i) => purchaseAt(i, o.stream),
    o.events > 0 ? o.events : Infinity,
    { recordsPerSecond: o.rate > 0 ? o.rate : undefined },
  );
  // The features use the purchases' own times, not watermarks or timers.
  let purchases: DataStream<Purchase | null> = env
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Purchases')
    .uid('purchases');
  if (o.events > 0) {
    // A bounded input would finish the job and take its state with it: a second, idle source
    // (a tick a second, dropped below) keeps the job, and so its features, running.
    const idle = new DataGeneratorSource<Purchase | null>(() => null, Infinity, {
      recordsPerSecond: 1,
    });
    purchases = purchases.union(
      env
        .fromSource(idle, WatermarkStrategy.noWatermarks(), 'Keep running')
        .uid('keep-running')
        .setParallelism(1),
    );
  }
  purchases
    .flatMap<Purchase>((p, out) => {
      if (p !== null) out.collect(p);
    })
    .name('Purchases only')
    .keyBy((p) => p.user_id)
    .process(new UserFeatures())
    .uid('user-features')
    .name('User features')
    // Emits nothing: the features are read from its state. A job's operators end in sinks.
    .print();
}

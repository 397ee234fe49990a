/**
 * The seed's "model hot-reload", as a library: the parameters of a tiny linear model stream in
 * as versions and are broadcast to a keyed scoring function (broadcast state), which scores each
 * purchase with the model version valid at the purchase's event time. model-hot-reload.ts runs it.
 *
 * Which version scores a purchase is decided by event time, not by arrival: a version carries the
 * time it is valid from, and a purchase waits in keyed state until the watermark of both streams
 * passes its time. The model stream's watermark says "no version valid before this time is still
 * to come", so by then every version that could apply has arrived, on every parallel instance.
 * The output is therefore the same on every run, parallelism and failure (the exactly-once tests
 * rely on it). The price: scoring lags the slower stream; a real model feed emits such watermarks
 * regularly (heartbeats from the model registry), or trades determinism for latency with
 * `withIdleness`.
 */
import type {
  Collector,
  DataStream,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastReadOnlyContext,
  ListState,
  RuntimeContext,
  SingleOutputStreamOperator,
  Source,
  StreamExecutionEnvironment,
  ValueState,
} from '@nimble/api';
import {
  Duration,
  KeyedBroadcastProcessFunction,
  ListStateDescriptor,
  MapStateDescriptor,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import type { NumberSequenceSplit } from '@nimble/connector-datagen';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import type { Purchase, PurchaseStreamOptions } from './purchases.js';
import { EPOCH_MS, purchaseAt } from './purchases.js';

/** One version of the model: score = bias + amountWeight * amount + spendWeight * spend so far. */
export interface ModelParams {
  readonly version: number;
  /** Event time from which this version scores purchases (until the next version's). */
  readonly validFromMs: number;
  readonly bias: number;
  readonly amountWeight: number;
  readonly spendWeight: number;
}

/** A scored purchase: the feature record the job emits. */
export interface ScoredPurchase {
  readonly user_id: string;
  readonly event_time_ms: number;
  readonly amount_usd: number;
  /** The version that scored it; 0 when no version was valid (none is, with the generated models). */
  readonly model_version: number;
  readonly score: number | null;
}

/** The broadcast state of the scoring function: model versions by version number. */
export const MODELS = new MapStateDescriptor<number, ModelParams>('models');

/**
 * Model version `index + 1`: the first is valid from the beginning of time, the others from
 * `EPOCH_MS + index * intervalMs` of event time. Deterministic, like the purchases.
 */
export function modelAt(index: number, intervalMs: number): ModelParams {
  return {
    version: index + 1,
    validFromMs: index === 0 ? 0 : EPOCH_MS + index * intervalMs,
    bias: ((index * 37) % 11) / 10 - 0.5,
    amountWeight: 0.01 * (1 + (index % 4)),
    spendWeight: 0.001 * (1 + ((index * 7) % 5)),
  };
}

/** The model valid at event time `time`: the version valid from the latest time not after it. */
export function modelValidAt(
  models: Iterable<readonly [number, ModelParams]>,
  time: number,
): ModelParams | undefined {
  let valid: ModelParams | undefined;
  for (const [, model] of models) {
    if (model.validFromMs <= time && (valid === undefined || model.validFromMs > valid.validFromMs))
      valid = model;
  }
  return valid;
}

/** The score of a purchase of `amount` by a user who spent `spendBefore` before it, to 4 decimals. */
export function score(model: ModelParams, amount: number, spendBefore: number): number {
  const raw = model.bias + model.amountWeight * amount + model.spendWeight * spendBefore;
  return Math.round(raw * 10_000) / 10_000;
}

/** The order a user's purchases are scored in: event time, then amount and category for ties. */
export function purchaseOrder(a: Purchase, b: Purchase): number {
  return (
    a.event_time_ms - b.event_time_ms ||
    a.amount_usd - b.amount_usd ||
    a.category_id - b.category_id
  );
}

/**
 * Scores each user's purchases in event-time order with the model version valid at their time.
 * `processBroadcastElement` only stores the version: the same update on every instance.
 */
export class PurchaseScorer extends KeyedBroadcastProcessFunction<
  string,
  Purchase,
  ModelParams,
  ScoredPurchase
> {
  /** Purchases waiting for the watermark to pass their time. */
  private pending!: ListState<Purchase>;
  /** What the user spent in the purchases scored so far: a feature of the model. */
  private spend!: ValueState<number>;

  override open(ctx: RuntimeContext): void {
    this.pending = ctx.getListState(new ListStateDescriptor<Purchase>('pending'));
    this.spend = ctx.getState(new ValueStateDescriptor<number>('spend'));
  }

  processElement(purchase: Purchase, ctx: KeyedBroadcastReadOnlyContext<string>): void {
    this.pending.add(purchase);
    ctx.timerService().registerEventTimeTimer(purchase.event_time_ms);
  }

  processBroadcastElement(model: ModelParams, ctx: KeyedBroadcastContext<string>): void {
    ctx.getBroadcastState(MODELS).put(model.version, model);
  }

  override onTimer(
    time: number,
    ctx: KeyedBroadcastOnTimerContext<string>,
    out: Collector<ScoredPurchase>,
  ): void {
    const due: Purchase[] = [];
    const later: Purchase[] = [];
    for (const p of this.pending.get()) (p.event_time_ms <= time ? due : later).push(p);
    if (due.length === 0) return;
    due.sort(purchaseOrder);
    const models = ctx.getBroadcastState(MODELS).immutableEntries();
    let spend = this.spend.value() ?? 0;
    for (const p of due) {
      const model = modelValidAt(models, p.event_time_ms);
      out.collect({
        user_id: p.user_id,
        event_time_ms: p.event_time_ms,
        amount_usd: p.amount_usd,
        model_version: model?.version ?? 0,
        score: model === undefined ? null : score(model, p.amount_usd, spend),
      });
      spend = Math.round((spend + p.amount_usd) * 100) / 100;
    }
    this.spend.update(spend);
    this.pending.update(later);
  }
}

/** What the job generates. */
export interface ModelHotReloadOptions {
  readonly purchases: number;
  readonly stream: PurchaseStreamOptions;
  /** Purchases per second over all source subtasks; unlimited when omitted. */
  readonly purchasesPerSecond?: number;
  readonly models: number;
  /** Event time between model versions. */
  readonly modelIntervalMs: number;
  /** Model versions per second; unlimited when omitted. */
  readonly modelsPerSecond?: number;
}

/** The generated model versions, as a stream whose event time is the version's validity. */
export function modelStream(
  env: StreamExecutionEnvironment,
  options: ModelHotReloadOptions,
): DataStream<ModelParams> {
  const source = new DataGeneratorSource(
    (i) => modelAt(i, options.modelIntervalMs),
    options.models,
    { recordsPerSecond: options.modelsPerSecond, batchSize: 1 },
  );
  return env
    .fromSource(
      source,
      WatermarkStrategy.forMonotonousTimestamps<ModelParams>().withTimestampAssigner(
        (m) => m.validFromMs,
      ),
      'Model versions',
    )
    .uid('model-versions')
    .setParallelism(1);
}

/** The generated purchases' source. */
export type PurchaseSource = Source<Purchase, NumberSequenceSplit, NumberSequenceSplit[]>;

/**
 * Purchases with `stream.maxDelayMs` of disorder allowed by their watermarks. `wrap` may wrap
 * their source, e.g. to hold its end of input.
 */
export function purchaseStream(
  env: StreamExecutionEnvironment,
  options: ModelHotReloadOptions,
  wrap: (source: PurchaseSource) => PurchaseSource = (source) => source,
): DataStream<Purchase> {
  const source = new DataGeneratorSource<Purchase>(
    (i) => purchaseAt(i, options.stream),
    options.purchases,
    { recordsPerSecond: options.purchasesPerSecond },
  );
  return env
    .fromSource(
      wrap(source),
      WatermarkStrategy.forBoundedOutOfOrderness<Purchase>(
        Duration.ofMillis(options.stream.maxDelayMs),
      ).withTimestampAssigner((p) => p.event_time_ms),
      'Purchases',
    )
    .uid('purchases');
}

/**
 * The job: purchases keyed by user, connected with the broadcast model versions, scored.
 * `wrapPurchases` may wrap the purchases' source (see purchaseStream).
 */
export function scoredPurchases(
  env: StreamExecutionEnvironment,
  options: ModelHotReloadOptions,
  wrapPurchases?: (source: PurchaseSource) => PurchaseSource,
): SingleOutputStreamOperator<ScoredPurchase> {
  const models = modelStream(env, options).broadcast(MODELS);
  return purchaseStream(env, options, wrapPurchases)
    .keyBy((p) => p.user_id)
    .connect(models)
    .process(new PurchaseScorer())
    .uid('score-purchases')
    .name('Score purchases');
}

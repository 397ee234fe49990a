/**
 * The seed's delayed label join: a recommendation model's predictions joined with the ground
 * truth that arrives later, a purchase of the recommended item within 10 minutes, into training
 * examples (the features the model saw + the label). The label's delay is the point: the interval
 * join keeps each prediction in keyed state until 10 minutes of event time have passed, then its
 * cleanup timer removes it, so state holds only what can still be labelled.
 *
 *   pnpm --filter @nimble/examples delayed-label-join -- --predictions 20000 --rate 0
 *
 * Events are generated (no Kafka needed): one prediction per second of event time; every fourth
 * one leads to a purchase up to 15 minutes later, so some purchases come too late to count.
 * Predictions without a purchase yield nothing (the interval join is an inner join, as in Flink).
 */
import '@nimble/runtime/local';
import type {
  Collector,
  DataStream,
  ProcessJoinContext,
  SingleOutputStreamOperator,
} from '@nimble/api';
import {
  Duration,
  ProcessJoinFunction,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { jobArgs } from './args.js';
import { EPOCH_MS } from './purchases.js';

/** What the model predicted: a score for recommending an item to a user, with its features. */
export interface Prediction {
  readonly prediction_id: string;
  readonly user_id: string;
  readonly item_id: string;
  readonly score: number;
  readonly features: { readonly user_spend_7d_usd: number; readonly item_popularity: number };
  readonly event_time_ms: number;
}

/** The ground truth: a purchase, which labels the predictions of its user and item before it. */
export interface LabelPurchase {
  readonly user_id: string;
  readonly item_id: string;
  readonly amount_usd: number;
  readonly event_time_ms: number;
}

/** A training example: the prediction's features and its label. */
export interface TrainingExample {
  readonly prediction_id: string;
  readonly user_id: string;
  readonly item_id: string;
  readonly score: number;
  readonly features: Prediction['features'];
  /** 1: the user bought the recommended item within the label window. */
  readonly label: 1;
  readonly label_delay_ms: number;
  readonly amount_usd: number;
}

const USERS = 50;
const ITEMS = 13;
/** Event time between predictions. */
const PREDICTION_EVERY_MS = 1000;
/** Every n-th prediction leads to a purchase. */
const CONVERTS_EVERY = 4;
/** Purchases come up to 15 minutes after their prediction; only those within 10 count. */
export const MAX_PURCHASE_DELAY_MS = 15 * 60_000;
export const LABEL_WINDOW = Duration.ofMinutes(10);

export function predictionAt(i: number): Prediction {
  return {
    prediction_id: `pred-${i}`,
    user_id: `user-${i % USERS}`,
    item_id: `item-${(i * 7) % ITEMS}`,
    score: ((i * 37) % 100) / 100,
    features: { user_spend_7d_usd: (i * 13) % 500, item_popularity: ((i * 7) % ITEMS) / ITEMS },
    event_time_ms: EPOCH_MS + i * PREDICTION_EVERY_MS,
  };
}

/** How many purchases `predictions` predictions lead to. */
export function purchaseCount(predictions: number): number {
  return Math.ceil(predictions / CONVERTS_EVERY);
}

/** Purchase j: of the item recommended by prediction 4j, a pseudo-random 0-15 minutes after it. */
export function purchaseAt(j: number): LabelPurchase {
  const p = predictionAt(j * CONVERTS_EVERY);
  const delay = ((j * 7919) % (MAX_PURCHASE_DELAY_MS / 1000)) * 1000;
  return {
    user_id: p.user_id,
    item_id: p.item_id,
    amount_usd: 5 + (j % 40),
    event_time_ms: p.event_time_ms + delay,
  };
}

/** Joins a prediction and the purchase that labels it into a training example. */
export class ToTrainingExample extends ProcessJoinFunction<
  Prediction,
  LabelPurchase,
  TrainingExample
> {
  processElement(
    prediction: Prediction,
    purchase: LabelPurchase,
    ctx: ProcessJoinContext,
    out: Collector<TrainingExample>,
  ): void {
    out.collect({
      prediction_id: prediction.prediction_id,
      user_id: prediction.user_id,
      item_id: prediction.item_id,
      score: prediction.score,
      features: prediction.features,
      label: 1,
      label_delay_ms: ctx.getRightTimestamp() - ctx.getLeftTimestamp(),
      amount_usd: purchase.amount_usd,
    });
  }
}

/**
 * Labels predictions with the purchases of the same user and item that follow them within
 * 10 minutes: `purchase.time` in `[prediction.time, prediction.time + 10 min]`.
 */
export function delayedLabelJoin(
  predictions: DataStream<Prediction>,
  purchases: DataStream<LabelPurchase>,
): SingleOutputStreamOperator<TrainingExample> {
  return predictions
    .keyBy((p) => [p.user_id, p.item_id])
    .intervalJoin(purchases.keyBy((p) => [p.user_id, p.item_id]))
    .between(Duration.ZERO, LABEL_WINDOW)
    .process(new ToTrainingExample())
    .uid('delayed-label-join');
}

/** Generated predictions and purchases (`recordsPerSecond` of predictions; purchases in step). */
export function generatedStreams(
  env: StreamExecutionEnvironment,
  predictions: number,
  recordsPerSecond?: number,
): { predictions: DataStream<Prediction>; purchases: DataStream<LabelPurchase> } {
  const rate = (r: number | undefined) => (r === undefined ? {} : { recordsPerSecond: r });
  const predictionStream = env
    .fromSource(
      new DataGeneratorSource(predictionAt, predictions, rate(recordsPerSecond)),
      WatermarkStrategy.forMonotonousTimestamps<Prediction>().withTimestampAssigner(
        (p) => p.event_time_ms,
      ),
      'Predictions',
    )
    .uid('predictions');
  // Purchases arrive in the order of their predictions, up to 15 minutes apart in event time.
  const purchaseStream = env
    .fromSource(
      new DataGeneratorSource(
        purchaseAt,
        purchaseCount(predictions),
        rate(recordsPerSecond === undefined ? undefined : recordsPerSecond / CONVERTS_EVERY),
      ),
      WatermarkStrategy.forBoundedOutOfOrderness<LabelPurchase>(
        Duration.ofMillis(MAX_PURCHASE_DELAY_MS),
      ).withTimestampAssigner((p) => p.event_time_ms),
      'Purchases',
    )
    .uid('purchases');
  return { predictions: predictionStream, purchases: purchaseStream };
}

if (process.env['NIMBLE_EXAMPLE_IMPORT'] !== '1') {
  const args = jobArgs({ predictions: 20_000, rate: 0, parallelism: 1, backend: 'hashmap' });
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(args.parallelism);
  env.setStateBackend(args.backend === 'level' ? 'level' : 'hashmap');
  const { predictions, purchases } = generatedStreams(
    env,
    args.predictions,
    args.rate > 0 ? args.rate : undefined,
  );
  delayedLabelJoin(predictions, purchases)
    .map((example) => JSON.stringify(example))
    .print('training-example');
  await env.execute('delayed-label-join');
}

import type {
  DataStream,
  SingleOutputStreamOperator,
  StreamExecutionEnvironment,
} from '@nimble/api';
import { Duration, Time, TumblingEventTimeWindows, WatermarkStrategy } from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import type { Purchase, PurchaseStreamOptions } from './purchases.js';
import { purchaseAt } from './purchases.js';

/** [user, total amount, category, latest event time]: the seed's tuple. */
export type SpendRow = [user: string, amount: number, category: number, eventTime: number];

/** Generated purchases with 5 s of allowed disorder (the seed's watermark strategy). */
export function generatedPurchases(
  env: StreamExecutionEnvironment,
  events: number,
  stream: PurchaseStreamOptions,
  recordsPerSecond?: number,
): DataStream<Purchase> {
  const source = new DataGeneratorSource<Purchase>((i) => purchaseAt(i, stream), events, {
    recordsPerSecond,
  });
  // Watermark strategy: allow 5 seconds of out-of-order events.
  const watermarks = WatermarkStrategy.forBoundedOutOfOrderness<Purchase>(
    Duration.ofSeconds(5),
  ).withTimestampAssigner((event) => event.event_time_ms);
  return env.fromSource(source, watermarks, 'Purchases').uid('purchases');
}

/** The seed's feature: total spend per user in tumbling 5-minute event-time windows. */
export function userSpend5Min(
  purchases: DataStream<Purchase>,
): SingleOutputStreamOperator<SpendRow> {
  return (
    purchases
      .map((e): SpendRow => [e.user_id, e.amount_usd, e.category_id, e.event_time_ms])
      .keyBy((row) => row[0])
      .window(TumblingEventTimeWindows.of(Time.minutes(5)))
      // Sum the amounts; keep the user and category, and the latest event time.
      .reduce((a: SpendRow, b: SpendRow): SpendRow => [
        a[0],
        a[1] + b[1],
        a[2],
        Math.max(a[3], b[3]),
      ])
      .uid('user-5min-spend')
  );
}

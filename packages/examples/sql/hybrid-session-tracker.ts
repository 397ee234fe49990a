/**
 * The seed's hybrid job: SQL for the window aggregation, the DataStream API for per-user state.
 * The seed's `raw_transactions` table (Kafka, JSON) and its `user_5min_spend` view (5-minute
 * tumbling windows) as SQL; the view's rows as a DataStream keyed by user into a
 * KeyedProcessFunction that tracks each user's run of consecutive active windows; the enriched
 * windows as JSON to a Kafka topic.
 *
 *   nimble run -m <jobmanager> -D execution.checkpointing.interval=10s \
 *     packages/examples/sql/hybrid-session-tracker.ts --bootstrap-servers 127.0.0.1:9092
 *
 * Options (after the job path): --bootstrap-servers (the seed's kafka:9092), --sink-topic,
 * --guarantee (none | at-least-once | exactly-once), --transactional-id-prefix, --parallelism.
 * Like the seed's table, the source starts at the latest offset.
 */
import '@nimble/runtime/local';
import type { Collector, KeyedProcessContext, RuntimeContext, ValueState } from '@nimble/api';
import {
  Duration,
  KeyedProcessFunction,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
} from '@nimble/api';
import {
  DeliveryGuarantee,
  JsonSerializationSchema,
  KafkaRecordSerializationSchema,
  KafkaSink,
} from '@nimble/connector-kafka';
import { StreamTableEnvironment } from '@nimble/sql';
import { jobArgs } from '../src/args.js';

/** A row of the `user_5min_spend` view, as toDataStream gives it (TIMESTAMPs are Dates). */
export interface UserWindowSpend {
  user_id: string;
  total_spend: number;
  tx_count: number;
  window_start: Date;
  window_end: Date;
}

/** A window of a user, with the run of consecutive active windows it belongs to. */
export interface UserActivity {
  user_id: string;
  window_start: string;
  window_end: string;
  total_spend: number;
  tx_count: number;
  /** Consecutive 5-minute windows with spend, up to and including this one. */
  active_windows: number;
  /** When the run began (the first of those windows' start). */
  active_since: string;
  /** Spend over the run. */
  run_spend: number;
}

/**
 * Per user: the run of consecutive windows that had transactions. A window that starts where the
 * previous one of the user ended extends the run; a gap starts a new one. The window operator
 * emits a user's windows in event-time order, so they arrive here in order.
 */
export class UserSessionTracker extends KeyedProcessFunction<
  string,
  UserWindowSpend,
  UserActivity
> {
  private runStart!: ValueState<number>;
  private runWindows!: ValueState<number>;
  private runSpend!: ValueState<number>;
  private lastWindowEnd!: ValueState<number>;

  override open(ctx: RuntimeContext): void {
    // As in the seed: forget a user after a day without activity.
    const ttl = StateTtlConfig.newBuilder(Duration.ofHours(24))
      .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
      .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
      .build();
    const state = (name: string) =>
      ctx.getState(new ValueStateDescriptor<number>(name).enableTimeToLive(ttl));
    this.runStart = state('run_start_ts');
    this.runWindows = state('run_windows');
    this.runSpend = state('run_spend');
    this.lastWindowEnd = state('last_window_end_ts');
  }

  processElement(
    w: UserWindowSpend,
    _ctx: KeyedProcessContext<string>,
    out: Collector<UserActivity>,
  ): void {
    const start = w.window_start.getTime();
    const continues = this.lastWindowEnd.value() === start;
    const runStart = continues ? (this.runStart.value() ?? start) : start;
    const windows = (continues ? (this.runWindows.value() ?? 0) : 0) + 1;
    const spend = (continues ? (this.runSpend.value() ?? 0) : 0) + w.total_spend;
    this.runStart.update(runStart);
    this.runWindows.update(windows);
    this.runSpend.update(spend);
    this.lastWindowEnd.update(w.window_end.getTime());
    out.collect({
      user_id: w.user_id,
      window_start: w.window_start.toISOString(),
      window_end: w.window_end.toISOString(),
      total_spend: w.total_spend,
      tx_count: w.tx_count,
      active_windows: windows,
      active_since: new Date(runStart).toISOString(),
      run_spend: spend,
    });
  }
}

const args = jobArgs({
  'bootstrap-servers': 'kafka:9092',
  'sink-topic': 'features.user_sessions',
  guarantee: 'at-least-once',
  'transactional-id-prefix': 'hybrid-session-tracker',
  parallelism: 2,
});
const guarantee = Object.values(DeliveryGuarantee).find((g) => g === args.guarantee);
if (guarantee === undefined) {
  throw new Error(
    `--guarantee must be one of ${Object.values(DeliveryGuarantee).join(', ')}; got ${args.guarantee}`,
  );
}
const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(args.parallelism);
const tEnv = StreamTableEnvironment.create(env);

// The seed's source table.
await tEnv.executeSql(`
CREATE TABLE raw_transactions (
  transaction_id STRING,
  user_id STRING,
  amount_usd DOUBLE,
  category_id INT,
  event_time TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'raw.transactions',
  'properties.bootstrap.servers' = ${quote(args['bootstrap-servers'])},
  'properties.group.id' = 'flink-sql-features',
  'scan.startup.mode' = 'latest-offset',
  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601'
)`);

// Step 1: SQL for the window aggregation (the seed's view).
await tEnv.executeSql(`
CREATE VIEW user_5min_spend AS
SELECT user_id, SUM(amount_usd) AS total_spend, COUNT(*) AS tx_count,
window_start, window_end
FROM TABLE(TUMBLE(TABLE raw_transactions, DESCRIPTOR(event_time), INTERVAL '5' MINUTE))
GROUP BY user_id, window_start, window_end
`);

// Step 2: the view's rows as a DataStream; step 3: per-user state in a KeyedProcessFunction.
tEnv
  .toDataStream<UserWindowSpend>(tEnv.from('user_5min_spend'))
  .keyBy((row) => row.user_id)
  .process(new UserSessionTracker())
  .uid('user-session-tracker')
  .sinkTo(
    KafkaSink.builder<UserActivity>()
      .setBootstrapServers(args['bootstrap-servers'])
      .setRecordSerializer(
        KafkaRecordSerializationSchema.builder<UserActivity>()
          .setTopic(args['sink-topic'])
          .setKeySerializationSchema({ serialize: (a) => a.user_id })
          .setValueSerializationSchema(new JsonSerializationSchema<UserActivity>())
          .build(),
      )
      .setDeliveryGuarantee(guarantee)
      .setTransactionalIdPrefix(args['transactional-id-prefix'])
      .build(),
    'Kafka Sink',
  )
  .uid('user-activity-sink');

await env.execute('hybrid-session-tracker');

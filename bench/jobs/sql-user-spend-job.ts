/**
 * The seed's 5-minute spend job written in SQL, for benchmarks beside `user-spend-job.ts`: the
 * same generated purchases (same source, same watermarks) registered as a table, the seed's
 * TUMBLE query, a blackhole sink table. With BENCH_SQL_QUERY=over it runs the per-event rolling
 * feature instead: a 5-minute RANGE OVER window summing each user's purchases.
 */
import { StreamExecutionEnvironment } from '@nimble/api';
import '@nimble/runtime/local';
import { generatedPurchases } from '@nimble/examples/user-spend-pipeline';
import { Schema, StreamTableEnvironment } from '@nimble/sql';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const events = Number(env('BENCH_EVENTS', '2000000'));
const users = Number(env('BENCH_USERS', '100000'));
const parallelism = Number(env('BENCH_PARALLELISM', '1'));
const backend = env('BENCH_BACKEND', 'hashmap') as 'hashmap' | 'level';
const query = env('BENCH_SQL_QUERY', 'tumble');

const e = StreamExecutionEnvironment.getExecutionEnvironment();
e.setParallelism(parallelism).setStateBackend(backend);
e.configure(JSON.parse(env('BENCH_CONF', '{}')) as Record<string, string | number | boolean>);
const tEnv = StreamTableEnvironment.create(e);
// The stream's own timestamps and watermarks (5 s of disorder) are the table's rowtime.
tEnv.createTemporaryView(
  'raw_transactions',
  generatedPurchases(e, events, { users, msPerEvent: 1, maxDelayMs: 3000 }),
  Schema.newBuilder()
    .column('user_id', 'STRING')
    .column('amount_usd', 'DOUBLE')
    .column('category_id', 'INT')
    .columnByMetadata('event_time', 'TIMESTAMP_LTZ(3)', 'rowtime')
    .watermark('event_time', 'SOURCE_WATERMARK()')
    .build(),
);
// The results go to a blackhole table, as a SQL job's would go to its sink table.
await tEnv.executeSql(
  query === 'over'
    ? `CREATE TABLE features (user_id STRING, amount_usd DOUBLE, spend_5min DOUBLE)
       WITH ('connector' = 'blackhole')`
    : `CREATE TABLE features (user_id STRING, window_start TIMESTAMP_LTZ(3),
         window_end TIMESTAMP_LTZ(3), total_spend_usd DOUBLE, tx_count BIGINT)
       WITH ('connector' = 'blackhole')`,
);
const insert =
  query === 'over'
    ? `INSERT INTO features
       SELECT user_id, amount_usd,
         SUM(amount_usd) OVER (PARTITION BY user_id ORDER BY event_time
           RANGE BETWEEN INTERVAL '5' MINUTE PRECEDING AND CURRENT ROW) AS spend_5min
       FROM raw_transactions`
    : `INSERT INTO features
       SELECT user_id, window_start, window_end,
         SUM(amount_usd) AS total_spend_usd, COUNT(*) AS tx_count
       FROM TABLE(TUMBLE(TABLE raw_transactions, DESCRIPTOR(event_time), INTERVAL '5' MINUTE))
       GROUP BY user_id, window_start, window_end`;
const result = await tEnv.executeSql(insert);
const netRuntimeMs = result.jobExecutionResult?.netRuntimeMs;
process.stdout.write(`BENCH_RESULT ${JSON.stringify({ netRuntimeMs })}\n`);

-- A rolling 5-minute spend per user with an OVER window, on generated transactions: runs without
-- Kafka or anything else. Row `id` of the datagen table is a transaction of user_<id % 3> of
-- (id * 37 % 400 + 1) / 4 USD at 10:00:00 + 50 s * id; each output row is a transaction with the
-- user's spend over the five minutes up to and including it, printed as Flink's print sink does.
--
--   nimble local -n 2 packages/examples/sql/datagen-rolling-spend.sql

CREATE TABLE transactions (
    id BIGINT,
    user_id AS CONCAT('user_', CAST(MOD(id, 3) AS STRING)),
    amount AS CAST(MOD(id * 37, 400) + 1 AS DOUBLE) / 4,
    ts AS TIMESTAMPADD(SECOND, CAST(id * 50 AS INT), TIMESTAMP '2024-05-01 10:00:00'),
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'datagen',
    'number-of-rows' = '30',
    'fields.id.kind' = 'sequence',
    'fields.id.start' = '0',
    'fields.id.end' = '29'
);

CREATE TABLE rolling_spend (
    user_id STRING,
    ts TIMESTAMP(3),
    amount DOUBLE,
    spend_5min DOUBLE
) WITH (
    'connector' = 'print'
);

INSERT INTO rolling_spend
SELECT
    user_id,
    ts,
    amount,
    SUM(amount) OVER (
        PARTITION BY user_id
        ORDER BY ts
        RANGE BETWEEN INTERVAL '5' MINUTE PRECEDING AND CURRENT ROW
    ) AS spend_5min
FROM transactions;

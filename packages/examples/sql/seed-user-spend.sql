-- The seed lesson's Flink SQL job, statement for statement: transactions (JSON) from Kafka's
-- raw.transactions -> 5-minute tumbling event-time windows per user -> total spend and count per
-- user and window, as JSON to features.user_5min_spend.
--
-- Its broker is 'kafka:9092' (the docker-compose service); on a broker elsewhere, change the two
-- 'properties.bootstrap.servers'. The source starts at the latest offset: only transactions
-- written after the job started are read. Run it (see README.md):
--
--   nimble sql -f packages/examples/sql/seed-user-spend.sql -m <jobmanager host:port>

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
    'properties.bootstrap.servers' = 'kafka:9092',
    'properties.group.id' = 'flink-sql-features',
    'scan.startup.mode' = 'latest-offset',
    'format' = 'json',
    'json.timestamp-format.standard' = 'ISO-8601'
);

CREATE TABLE features_user_spend (
    user_id STRING,
    window_start TIMESTAMP(3),
    window_end TIMESTAMP(3),
    total_spend_usd DOUBLE,
    tx_count BIGINT,
    PRIMARY KEY (user_id, window_start) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = 'features.user_5min_spend',
    'properties.bootstrap.servers' = 'kafka:9092',
    'format' = 'json'
);

INSERT INTO features_user_spend
SELECT
    user_id,
    window_start,
    window_end,
    SUM(amount_usd) AS total_spend_usd,
    COUNT(*) AS tx_count
FROM TABLE(
    TUMBLE(TABLE raw_transactions, DESCRIPTOR(event_time), INTERVAL '5' MINUTE)
)
GROUP BY user_id, window_start, window_end;

/**
 * Compares Nimble's Flink SQL parser (Chevrotain) with two npm parsers that claim Flink SQL
 * support: dt-sql-parser (its FlinkSQL class, ANTLR4) and node-sql-parser (database 'flinksql').
 * Reports coverage of a fixed list of statements, the messages for three broken statements, and
 * parse times (median of many runs).
 *
 *   mkdir -p /tmp/sql-eval && cd /tmp/sql-eval && npm init -y && npm i dt-sql-parser node-sql-parser
 *   npx tsx bench/sql-parser-eval.ts
 *
 * The competitors are loaded from SQL_EVAL_MODULES (default /tmp/sql-eval/node_modules) so the
 * repository's dependencies stay untouched.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as ParserModule from '../packages/sql/src/parser/parser.js';

export const SEED_SCRIPT = `CREATE TABLE raw_transactions (
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

CREATE VIEW user_5min_spend AS
SELECT user_id, SUM(amount_usd) AS total_spend, COUNT(*) AS tx_count,
window_start, window_end
FROM TABLE(TUMBLE(TABLE raw_transactions, DESCRIPTOR(event_time), INTERVAL '5' MINUTE))
GROUP BY user_id, window_start, window_end;
`;

const seed = SEED_SCRIPT.split(';\n')
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

/** The fixed statement list: the seed, Flink documentation examples, and the other forms. */
export const STATEMENTS: readonly { readonly name: string; readonly sql: string }[] = [
  { name: 'seed: CREATE TABLE raw_transactions', sql: seed[0]! },
  { name: 'seed: CREATE TABLE features_user_spend', sql: seed[1]! },
  { name: 'seed: INSERT ... TUMBLE', sql: seed[2]! },
  { name: 'seed: CREATE VIEW ... TUMBLE', sql: seed[3]! },
  {
    name: 'window Top-N',
    sql: `SELECT *
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) as rownum
    FROM (
      SELECT window_start, window_end, supplier_id, SUM(price) as price, COUNT(*) as cnt
      FROM TABLE(
        TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
      GROUP BY window_start, window_end, supplier_id
    )
  ) WHERE rownum <= 3`,
  },
  {
    name: 'OVER aggregation (RANGE interval)',
    sql: `SELECT order_id, order_time, amount,
  SUM(amount) OVER (
    PARTITION BY product
    ORDER BY order_time
    RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW
  ) AS one_hour_prod_amount_sum
FROM Orders`,
  },
  {
    name: 'interval join',
    sql: `SELECT *
FROM Orders o, Shipments s
WHERE o.id = s.order_id
AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time`,
  },
  {
    name: 'CUMULATE',
    sql: `SELECT window_start, window_end, SUM(price)
  FROM TABLE(
    CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES))
  GROUP BY window_start, window_end`,
  },
  {
    name: 'SESSION with PARTITION BY',
    sql: `SELECT window_start, window_end, item, SUM(price) AS total_price
  FROM TABLE(
    SESSION(TABLE Bid PARTITION BY item, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
  GROUP BY item, window_start, window_end`,
  },
  {
    name: 'HOP with named arguments',
    sql: `SELECT * FROM TABLE(
    HOP(
      DATA => TABLE Bid,
      TIMECOL => DESCRIPTOR(bidtime),
      SLIDE => INTERVAL '5' MINUTES,
      SIZE => INTERVAL '10' MINUTES))`,
  },
  {
    name: 'EXECUTE STATEMENT SET',
    sql: `EXECUTE STATEMENT SET
BEGIN
INSERT INTO RubberOrders SELECT product, amount FROM Orders WHERE product LIKE '%Rubber%';
INSERT INTO GlassOrders SELECT product, amount FROM Orders WHERE product LIKE '%Glass%';
END`,
  },
  {
    name: 'metadata, computed, PK column, LIKE',
    sql: `CREATE TEMPORARY TABLE IF NOT EXISTS events (
  id BIGINT NOT NULL PRIMARY KEY NOT ENFORCED,
  payload ROW<a INT, b ARRAY<STRING>>,
  tags MAP<STRING, DECIMAL(10, 2)>,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  proc AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) COMMENT 'events' PARTITIONED BY (id) WITH ('connector' = 'datagen') LIKE base`,
  },
  {
    name: 'CTE + UNION ALL + ORDER BY/LIMIT',
    sql: `WITH big AS (SELECT * FROM t WHERE amount > 100)
SELECT a FROM big UNION ALL SELECT a FROM small ORDER BY a DESC LIMIT 10`,
  },
  {
    name: 'LEFT JOIN ... USING, CASE, CAST',
    sql: `SELECT CASE WHEN a.x IS NOT NULL THEN CAST(a.x AS VARCHAR(10)) ELSE 'none' END AS label
FROM a LEFT OUTER JOIN b USING (id) WHERE a.y NOT IN (1, 2, 3)`,
  },
  {
    name: 'special functions',
    sql: `SELECT SUBSTRING(s FROM 2 FOR 3), EXTRACT(HOUR FROM ts), TRIM(BOTH 'x' FROM s),
  POSITION('a' IN s), CURRENT_TIMESTAMP, COUNT(DISTINCT user_id), TRY_CAST(s AS INT)
FROM t`,
  },
  {
    name: 'agg FILTER, ROWS frame, named WINDOW',
    sql: `SELECT COUNT(*) FILTER (WHERE amount > 0) AS positive,
  AVG(amount) OVER w AS avg_amount
FROM t
WINDOW w AS (PARTITION BY user_id ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)`,
  },
  {
    name: 'constructors and item access',
    sql: "SELECT ROW(a, b), ARRAY[1, 2, 3][1], MAP['k', v]['k'], r.nested.f FROM t",
  },
  { name: 'VALUES', sql: "INSERT INTO t VALUES (1, 'a'), (2, 'b')" },
  { name: 'INSERT OVERWRITE with columns', sql: 'INSERT OVERWRITE t (a, b) SELECT a, b FROM s' },
  { name: 'DROP TEMPORARY VIEW IF EXISTS', sql: 'DROP TEMPORARY VIEW IF EXISTS v' },
  { name: 'SHOW TABLES', sql: 'SHOW TABLES' },
  { name: 'SHOW CREATE TABLE', sql: 'SHOW CREATE TABLE raw_transactions' },
  { name: 'DESCRIBE', sql: 'DESCRIBE raw_transactions' },
  { name: 'EXPLAIN PLAN FOR', sql: 'EXPLAIN PLAN FOR SELECT * FROM t' },
  { name: "SET 'k' = 'v'", sql: "SET 'execution.runtime-mode' = 'streaming'" },
  { name: 'RESET', sql: "RESET 'execution.runtime-mode'" },
  {
    name: 'temporal join',
    sql: `SELECT o.id, r.rate FROM orders AS o
JOIN rates FOR SYSTEM_TIME AS OF o.order_time AS r ON o.currency = r.currency`,
  },
];

/** Three broken statements for the error-message comparison. */
export const BROKEN: readonly { readonly name: string; readonly sql: string }[] = [
  {
    name: 'misspelled FROM',
    sql: 'SELECT user_id, amount_usd\nFORM raw_transactions\nWHERE amount_usd > 10',
  },
  {
    name: 'missing closing parenthesis',
    sql: "SELECT * FROM TABLE(\n  TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTE)",
  },
  { name: 'unterminated string', sql: "CREATE TABLE t (a INT) WITH ('connector' = 'kafka)" },
];

interface Contender {
  readonly name: string;
  /** Throws, or returns an error text, when the statement does not parse. */
  check(sql: string): string | undefined;
  /** What is timed: the call a user would make to get a tree. */
  parse(sql: string): unknown;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// Loaded in main() so that the load (module import + Chevrotain's grammar analysis) is timed.
let parser!: typeof ParserModule;

const nimble: Contender = {
  name: 'nimble (Chevrotain)',
  check(sql) {
    try {
      parser.parseScript(sql);
      return undefined;
    } catch (e) {
      return errorText(e);
    }
  },
  parse: (sql) => (sql.includes(';\n') ? parser.parseScript(sql) : parser.parseStatement(sql)),
};

const loadTimes = new Map<string, number>();

function loadCompetitors(): Contender[] | undefined {
  const dir = process.env['SQL_EVAL_MODULES'] ?? '/tmp/sql-eval/node_modules';
  if (!existsSync(join(dir, 'dt-sql-parser')) || !existsSync(join(dir, 'node-sql-parser'))) {
    return undefined;
  }
  const require = createRequire(join(dir, 'noop.js'));
  let t0 = performance.now();
  const dt = require('dt-sql-parser') as {
    FlinkSQL: new () => {
      validate(sql: string): { startLine: number; startColumn: number; message: string }[];
      parse(sql: string): unknown;
    };
  };
  const flink = new dt.FlinkSQL();
  loadTimes.set('dt-sql-parser FlinkSQL', performance.now() - t0);
  t0 = performance.now();
  const nsp = require('node-sql-parser/build/flinksql') as {
    Parser: new () => { astify(sql: string, opt: { database: string }): unknown };
  };
  const nodeParser = new nsp.Parser();
  loadTimes.set("node-sql-parser 'flinksql'", performance.now() - t0);
  const opt = { database: 'flinksql' };
  return [
    {
      name: 'dt-sql-parser FlinkSQL',
      check(sql) {
        const errors = flink.validate(sql);
        if (errors.length === 0) return undefined;
        return errors
          .map((e) => `line ${e.startLine}, column ${e.startColumn}: ${e.message}`)
          .join(' | ');
      },
      parse: (sql) => flink.parse(sql),
    },
    {
      name: "node-sql-parser 'flinksql'",
      check(sql) {
        try {
          nodeParser.astify(sql, opt);
          return undefined;
        } catch (e) {
          return errorText(e);
        }
      },
      parse: (sql) => nodeParser.astify(sql, opt),
    },
  ];
}

/** Median time of one call in milliseconds, after a warm-up, over at least 20 runs or 0.5 s. */
function median(fn: () => void): number {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  const started = performance.now();
  while (times.length < 20 || (performance.now() - started < 500 && times.length < 2000)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function coldTime(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function fmt(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms.toFixed(3);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  parser = await import('../packages/sql/src/parser/parser.js');
  loadTimes.set(nimble.name, performance.now() - t0);
  const competitors = loadCompetitors();
  if (!competitors) {
    console.error(
      'dt-sql-parser and node-sql-parser are not installed. Install them outside the repository:\n' +
        '  mkdir -p /tmp/sql-eval && cd /tmp/sql-eval && npm init -y && npm i dt-sql-parser node-sql-parser\n' +
        'or point SQL_EVAL_MODULES at a node_modules folder that has them.',
    );
    process.exitCode = 1;
    return;
  }
  const all = [nimble, ...competitors];

  // Cold time first, before any of the coverage runs warms the parsers up.
  console.log('## Start-up (ms): module load, then the first parse of the seed script\n');
  console.log(`| parser | load | first parse |\n|---|---:|---:|`);
  for (const c of all) {
    const first = coldTime(() => void safe(() => c.parse(SEED_SCRIPT)));
    console.log(`| ${c.name} | ${fmt(loadTimes.get(c.name) ?? NaN)} | ${fmt(first)} |`);
  }

  console.log('\n## Coverage\n');
  console.log(`| statement | ${all.map((c) => c.name).join(' | ')} |`);
  console.log(`|---|${all.map(() => '---').join('|')}|`);
  const passed = all.map(() => 0);
  const failures: string[] = [];
  for (const s of STATEMENTS) {
    const cells = all.map((c, i) => {
      const error = c.check(s.sql);
      if (error === undefined) {
        passed[i]!++;
        return 'yes';
      }
      failures.push(`- ${c.name} / ${s.name}: ${error.split('\n')[0]!.slice(0, 200)}`);
      return '**no**';
    });
    console.log(`| ${s.name} | ${cells.join(' | ')} |`);
  }
  console.log(`| **total of ${STATEMENTS.length}** | ${passed.join(' | ')} |`);
  console.log('\nFailures:\n');
  console.log(failures.join('\n'));

  console.log('\n## Error messages\n');
  for (const b of BROKEN) {
    console.log(`### ${b.name}\n\n\`\`\`sql\n${b.sql}\n\`\`\`\n`);
    for (const c of all) {
      const error = c.check(b.sql);
      console.log(
        `- ${c.name}: ${error === undefined ? '(accepted)' : `\`${error.replace(/\n/g, ' ')}\``}`,
      );
    }
    console.log('');
  }

  console.log('## Parse time (median of warm runs, ms)\n');
  console.log(`| statement | ${all.map((c) => c.name).join(' | ')} |`);
  console.log(`|---|${all.map(() => '---:').join('|')}|`);
  const timed = [
    ...STATEMENTS.filter(
      (s) => s.name.startsWith('seed') || /Top-N|OVER agg|interval join/.test(s.name),
    ),
    { name: 'seed script (4 statements)', sql: SEED_SCRIPT },
  ];
  for (const s of timed) {
    const cells = all.map((c) =>
      c.check(s.sql) === undefined ? fmt(median(() => void c.parse(s.sql))) : 'fails',
    );
    console.log(`| ${s.name} | ${cells.join(' | ')} |`);
  }
}

function safe(fn: () => unknown): unknown {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

await main();

import { describe, expect, it } from 'vitest';
import { SqlParseError } from '../src/errors.js';
import type {
  CreateTable,
  CreateView,
  Expr,
  Insert,
  Query,
  Select,
  Statement,
} from '../src/parser/ast.js';
import {
  parseExpression,
  parseScript,
  parseSelectList,
  parseStatement,
  parseType,
} from '../src/parser/parser.js';
import { formatType, MAX_LENGTH } from '../src/types.js';

/** The tree without positions, for comparing shapes. */
function strip<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, (k, v: unknown) => (k === 'pos' ? undefined : v)));
}

function expr(text: string): unknown {
  return strip(parseExpression(text));
}

function parseError(run: () => unknown): SqlParseError {
  try {
    run();
  } catch (e) {
    if (e instanceof SqlParseError) return e;
    throw e;
  }
  throw new Error('expected a SqlParseError');
}

function select(statement: Statement): Select {
  const query: Query =
    statement.kind === 'query'
      ? statement.query
      : statement.kind === 'insert'
        ? statement.query
        : statement.kind === 'createView'
          ? statement.query
          : (undefined as never);
  if (query.kind !== 'select') throw new Error(`not a select: ${query.kind}`);
  return query;
}

const SEED_RAW = `CREATE TABLE raw_transactions (
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
)`;

const SEED_SINK = `CREATE TABLE features_user_spend (
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
)`;

const SEED_INSERT = `INSERT INTO features_user_spend
SELECT
user_id,
window_start,
window_end,
SUM(amount_usd) AS total_spend_usd,
COUNT(*) AS tx_count
FROM TABLE(
TUMBLE(TABLE raw_transactions, DESCRIPTOR(event_time), INTERVAL '5' MINUTE)
)
GROUP BY user_id, window_start, window_end`;

const SEED_VIEW_QUERY = `SELECT user_id, SUM(amount_usd) AS total_spend, COUNT(*) AS tx_count,
window_start, window_end
FROM TABLE(TUMBLE(TABLE raw_transactions, DESCRIPTOR(event_time), INTERVAL '5' MINUTE))
GROUP BY user_id, window_start, window_end`;
const SEED_VIEW = `CREATE VIEW user_5min_spend AS\n${SEED_VIEW_QUERY}`;

const STRING = { name: 'VARCHAR', length: MAX_LENGTH, nullable: true };

describe('the seed statements', () => {
  it('parses the source table with its watermark and options', () => {
    const t = parseStatement(SEED_RAW) as CreateTable;
    expect(t.kind).toBe('createTable');
    expect(t.name).toEqual(['raw_transactions']);
    expect(t.temporary).toBe(false);
    expect(t.pos).toEqual({ line: 1, column: 1, offset: 0 });
    expect(strip(t.columns)).toEqual([
      { kind: 'physical', name: 'transaction_id', type: STRING },
      { kind: 'physical', name: 'user_id', type: STRING },
      { kind: 'physical', name: 'amount_usd', type: { name: 'DOUBLE', nullable: true } },
      { kind: 'physical', name: 'category_id', type: { name: 'INT', nullable: true } },
      {
        kind: 'physical',
        name: 'event_time',
        type: { name: 'TIMESTAMP', precision: 3, nullable: true },
      },
    ]);
    expect(t.columns[1]!.pos).toEqual({ line: 3, column: 1, offset: SEED_RAW.indexOf('user_id') });
    expect(t.watermark?.column).toBe('event_time');
    expect(t.watermark?.pos).toEqual({
      line: 7,
      column: 1,
      offset: SEED_RAW.indexOf('WATERMARK'),
    });
    expect(strip(t.watermark?.expr)).toEqual({
      kind: 'binary',
      op: '-',
      left: { kind: 'ident', parts: ['event_time'] },
      right: { kind: 'interval', value: '5', sign: 1, unit: 'SECOND' },
    });
    expect(t.options.map((o) => [o.key, o.value])).toEqual([
      ['connector', 'kafka'],
      ['topic', 'raw.transactions'],
      ['properties.bootstrap.servers', 'kafka:9092'],
      ['properties.group.id', 'flink-sql-features'],
      ['scan.startup.mode', 'latest-offset'],
      ['format', 'json'],
      ['json.timestamp-format.standard', 'ISO-8601'],
    ]);
    expect(t.options[0]!.pos).toEqual({
      line: 9,
      column: 1,
      offset: SEED_RAW.indexOf("'connector'"),
    });
    expect(t.primaryKey).toBeUndefined();
  });

  it('parses the sink table with its primary key', () => {
    const t = parseStatement(SEED_SINK) as CreateTable;
    expect(t.columns.map((c) => c.name)).toEqual([
      'user_id',
      'window_start',
      'window_end',
      'total_spend_usd',
      'tx_count',
    ]);
    expect(t.primaryKey).toEqual({
      columns: ['user_id', 'window_start'],
      enforced: false,
      pos: { line: 7, column: 1, offset: SEED_SINK.indexOf('PRIMARY') },
    });
    expect(t.options).toHaveLength(4);
  });

  it('parses the INSERT over a TUMBLE window TVF', () => {
    const insert = parseStatement(SEED_INSERT) as Insert;
    expect(insert.kind).toBe('insert');
    expect(insert.table).toEqual(['features_user_spend']);
    expect(insert.overwrite).toBe(false);
    const s = select(insert);
    expect(s.pos).toEqual({ line: 2, column: 1, offset: SEED_INSERT.indexOf('SELECT') });
    expect(s.items.map((i) => i.alias)).toEqual([
      undefined,
      undefined,
      undefined,
      'total_spend_usd',
      'tx_count',
    ]);
    expect(strip(s.items[4]!.expr)).toEqual({
      kind: 'call',
      name: 'COUNT',
      args: [{ kind: 'star' }],
      distinct: false,
    });
    expect(strip(s.from)).toEqual({
      kind: 'tvf',
      call: {
        kind: 'call',
        name: 'TUMBLE',
        args: [
          { kind: 'tableArg', name: ['raw_transactions'], partitionBy: [] },
          { kind: 'descriptor', columns: ['event_time'] },
          { kind: 'interval', value: '5', sign: 1, unit: 'MINUTE' },
        ],
        distinct: false,
      },
    });
    expect(s.from?.pos).toEqual({
      line: 8,
      column: 6,
      offset: SEED_INSERT.indexOf('TABLE('),
    });
    expect(strip(s.groupBy)).toEqual([
      { kind: 'ident', parts: ['user_id'] },
      { kind: 'ident', parts: ['window_start'] },
      { kind: 'ident', parts: ['window_end'] },
    ]);
  });

  it('parses the view and keeps its query text', () => {
    const v = parseStatement(SEED_VIEW) as CreateView;
    expect(v.kind).toBe('createView');
    expect(v.name).toEqual(['user_5min_spend']);
    expect(v.queryText).toBe(SEED_VIEW_QUERY);
    expect(select(v).items).toHaveLength(5);
  });

  it('parses the seed as one script with texts and positions', () => {
    const script = `${SEED_RAW};\n\n${SEED_SINK};\n\n-- the job\n${SEED_INSERT};\n${SEED_VIEW};\n`;
    const statements = parseScript(script);
    expect(statements.map((s) => s.statement.kind)).toEqual([
      'createTable',
      'createTable',
      'insert',
      'createView',
    ]);
    expect(statements.map((s) => s.text)).toEqual([SEED_RAW, SEED_SINK, SEED_INSERT, SEED_VIEW]);
    expect(statements.map((s) => s.pos.line)).toEqual([1, 18, 33, 44]);
  });
});

describe('Flink documentation examples', () => {
  it('window Top-N', () => {
    const s = select(
      parseStatement(`SELECT *
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) as rownum
    FROM (
      SELECT window_start, window_end, supplier_id, SUM(price) as price, COUNT(*) as cnt
      FROM TABLE(
        TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
      GROUP BY window_start, window_end, supplier_id
    )
  ) WHERE rownum <= 3`),
    );
    expect(strip(s.where)).toEqual({
      kind: 'binary',
      op: '<=',
      left: { kind: 'ident', parts: ['rownum'] },
      right: { kind: 'literal', type: 'number', value: '3' },
    });
    if (s.from?.kind !== 'subquery' || s.from.query.kind !== 'select') throw new Error('shape');
    const rank = s.from.query.items[1]!;
    expect(rank.alias).toBe('rownum');
    expect(strip(rank.expr)).toEqual({
      kind: 'call',
      name: 'ROW_NUMBER',
      args: [],
      distinct: false,
      over: {
        partitionBy: [
          { kind: 'ident', parts: ['window_start'] },
          { kind: 'ident', parts: ['window_end'] },
        ],
        orderBy: [{ expr: { kind: 'ident', parts: ['price'] }, direction: 'DESC' }],
      },
    });
    expect(rank.pos).toEqual({ line: 3, column: 15, offset: 32 });
  });

  it('OVER aggregation with a RANGE interval frame', () => {
    const s = select(
      parseStatement(`SELECT order_id, order_time, amount,
  SUM(amount) OVER (
    PARTITION BY product
    ORDER BY order_time
    RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW
  ) AS one_hour_prod_amount_sum
FROM Orders`),
    );
    const sum = s.items[3]!;
    expect(sum.alias).toBe('one_hour_prod_amount_sum');
    if (sum.expr.kind !== 'call') throw new Error('shape');
    expect(strip(sum.expr.over?.frame)).toEqual({
      unit: 'RANGE',
      start: { kind: 'preceding', offset: { kind: 'interval', value: '1', sign: 1, unit: 'HOUR' } },
      end: { kind: 'currentRow' },
    });
  });

  it('interval join as a comma join', () => {
    const s = select(
      parseStatement(`SELECT *
FROM Orders o, Shipments s
WHERE o.id = s.order_id
AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time`),
    );
    expect(strip(s.from)).toEqual({
      kind: 'join',
      type: 'CROSS',
      left: { kind: 'table', name: ['Orders'], alias: 'o' },
      right: { kind: 'table', name: ['Shipments'], alias: 's' },
    });
    if (s.where?.kind !== 'binary') throw new Error('shape');
    expect(strip(s.where.right)).toEqual({
      kind: 'between',
      expr: { kind: 'ident', parts: ['o', 'order_time'] },
      low: {
        kind: 'binary',
        op: '-',
        left: { kind: 'ident', parts: ['s', 'ship_time'] },
        right: { kind: 'interval', value: '4', sign: 1, unit: 'HOUR' },
      },
      high: { kind: 'ident', parts: ['s', 'ship_time'] },
      not: false,
      symmetric: false,
    });
  });

  it('CUMULATE, SESSION with PARTITION BY, and named arguments', () => {
    const cumulate = select(
      parseStatement(`SELECT window_start, window_end, SUM(price)
  FROM TABLE(
    CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES))
  GROUP BY window_start, window_end`),
    );
    if (cumulate.from?.kind !== 'tvf') throw new Error('shape');
    expect(cumulate.from.call.name).toBe('CUMULATE');
    expect(strip(cumulate.from.call.args.slice(2))).toEqual([
      { kind: 'interval', value: '2', sign: 1, unit: 'MINUTE' },
      { kind: 'interval', value: '10', sign: 1, unit: 'MINUTE' },
    ]);

    const session = select(
      parseStatement(`SELECT window_start, window_end, item, SUM(price) AS total_price
  FROM TABLE(
    SESSION(TABLE Bid PARTITION BY item, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
  GROUP BY item, window_start, window_end`),
    );
    if (session.from?.kind !== 'tvf') throw new Error('shape');
    expect(strip(session.from.call.args[0])).toEqual({
      kind: 'tableArg',
      name: ['Bid'],
      partitionBy: [{ kind: 'ident', parts: ['item'] }],
    });

    const hop = select(
      parseStatement(`SELECT * FROM TABLE(
    HOP(
      DATA => TABLE Bid,
      TIMECOL => DESCRIPTOR(bidtime),
      SLIDE => INTERVAL '5' MINUTES,
      SIZE => INTERVAL '10' MINUTES))`),
    );
    if (hop.from?.kind !== 'tvf') throw new Error('shape');
    expect(hop.from.call.argNames).toEqual(['DATA', 'TIMECOL', 'SLIDE', 'SIZE']);
    expect(hop.from.call.args.map((a) => a.kind)).toEqual([
      'tableArg',
      'descriptor',
      'interval',
      'interval',
    ]);
  });

  it('EXECUTE STATEMENT SET and the SQL client form become one statement set', () => {
    const block = `EXECUTE STATEMENT SET
BEGIN
INSERT INTO RubberOrders SELECT product, amount FROM Orders WHERE product LIKE '%Rubber%';
INSERT INTO GlassOrders SELECT product, amount FROM Orders WHERE product LIKE '%Glass%';
END`;
    const set = parseStatement(block);
    if (set.kind !== 'statementSet') throw new Error('shape');
    expect(set.inserts.map((i) => i.table)).toEqual([['RubberOrders'], ['GlassOrders']]);
    expect(set.inserts[1]!.pos).toEqual({ line: 4, column: 1, offset: 119 });

    const script = parseScript(`${block};
BEGIN STATEMENT SET;
INSERT INTO a SELECT CASE WHEN x THEN 1 END FROM t;
INSERT INTO b SELECT 2;
END;
SELECT 1`);
    expect(script.map((s) => s.statement.kind)).toEqual(['statementSet', 'statementSet', 'query']);
    expect(script[0]!.text).toBe(block);
    const client = script[1]!;
    expect(client.pos).toEqual({ line: 6, column: 1, offset: block.length + 2 });
    expect(client.text).toBe(
      'BEGIN STATEMENT SET;\nINSERT INTO a SELECT CASE WHEN x THEN 1 END FROM t;\nINSERT INTO b SELECT 2;\nEND',
    );
    if (client.statement.kind !== 'statementSet') throw new Error('shape');
    expect(client.statement.inserts.map((i) => i.table)).toEqual([['a'], ['b']]);
  });
});

describe('DDL and other statements', () => {
  it('parses metadata, computed and column-level key columns, comments and LIKE', () => {
    const t = parseStatement(`CREATE TEMPORARY TABLE IF NOT EXISTS cat.db.events (
  id BIGINT NOT NULL PRIMARY KEY NOT ENFORCED COMMENT 'the id',
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  \`offset\` BIGINT METADATA VIRTUAL,
  proc AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) COMMENT 'events' PARTITIONED BY (id) WITH ('connector' = 'datagen') LIKE base (INCLUDING ALL)`) as CreateTable;
    expect(t.name).toEqual(['cat', 'db', 'events']);
    expect(t.temporary).toBe(true);
    expect(t.ifNotExists).toBe(true);
    expect(strip(t.columns)).toEqual([
      {
        kind: 'physical',
        name: 'id',
        type: { name: 'BIGINT', nullable: false },
        comment: 'the id',
      },
      {
        kind: 'metadata',
        name: 'ts',
        type: { name: 'TIMESTAMP_LTZ', precision: 3, nullable: true },
        from: 'timestamp',
        virtual: true,
      },
      { kind: 'metadata', name: 'offset', type: { name: 'BIGINT', nullable: true }, virtual: true },
      {
        kind: 'computed',
        name: 'proc',
        expr: { kind: 'call', name: 'PROCTIME', args: [], distinct: false },
      },
    ]);
    expect(t.primaryKey).toEqual({
      columns: ['id'],
      enforced: false,
      pos: { line: 2, column: 22, offset: 74 },
    });
    expect(t.comment).toBe('events');
    expect(t.partitionedBy).toEqual(['id']);
    expect(t.like).toEqual(['base']);
  });

  it('parses a named table constraint', () => {
    const t = parseStatement(
      'CREATE TABLE t (a INT, b INT, CONSTRAINT pk PRIMARY KEY (a, b) NOT ENFORCED)',
    ) as CreateTable;
    expect(t.primaryKey?.columns).toEqual(['a', 'b']);
    expect(t.primaryKey?.pos.column).toBe(31);
  });

  it('parses the small statements', () => {
    expect(strip(parseStatement('DROP TEMPORARY VIEW IF EXISTS v'))).toEqual({
      kind: 'drop',
      object: 'VIEW',
      temporary: true,
      ifExists: true,
      name: ['v'],
    });
    expect(strip(parseStatement('drop table t;'))).toEqual({
      kind: 'drop',
      object: 'TABLE',
      temporary: false,
      ifExists: false,
      name: ['t'],
    });
    for (const what of ['TABLES', 'VIEWS', 'FUNCTIONS', 'CATALOGS', 'DATABASES', 'JOBS']) {
      expect(strip(parseStatement(`show ${what.toLowerCase()}`))).toEqual({ kind: 'show', what });
    }
    expect(strip(parseStatement('SHOW CREATE VIEW v'))).toEqual({
      kind: 'showCreate',
      object: 'VIEW',
      name: ['v'],
    });
    expect(strip(parseStatement('DESC t'))).toEqual({ kind: 'describe', name: ['t'] });
    expect(strip(parseStatement('DESCRIBE db.t'))).toEqual({ kind: 'describe', name: ['db', 't'] });
    expect(strip(parseStatement('SET'))).toEqual({ kind: 'set' });
    expect(strip(parseStatement("SET 'table.local-time-zone' = 'UTC'"))).toEqual({
      kind: 'set',
      key: 'table.local-time-zone',
      value: 'UTC',
    });
    expect(strip(parseStatement('RESET'))).toEqual({ kind: 'reset' });
    expect(strip(parseStatement("RESET 'k'"))).toEqual({ kind: 'reset', key: 'k' });
    const explain = parseStatement('EXPLAIN PLAN FOR SELECT 1');
    expect(explain.kind === 'explain' && explain.statement.kind).toBe('query');
    const execute = parseStatement('EXECUTE INSERT INTO t SELECT 1');
    expect(execute.kind).toBe('insert');
    expect(execute.pos).toEqual({ line: 1, column: 1, offset: 0 });
    const overwrite = parseStatement('INSERT OVERWRITE t (a, b) VALUES (1, 2), (3, 4)') as Insert;
    expect(overwrite.overwrite).toBe(true);
    expect(overwrite.columns).toEqual(['a', 'b']);
    expect(overwrite.query.kind === 'values' && overwrite.query.rows.length).toBe(2);
  });
});

describe('queries', () => {
  it('parses WITH, set operations, ORDER BY and LIMIT', () => {
    const q = parseStatement(
      'WITH big AS (SELECT * FROM t WHERE amount > 100) SELECT a FROM big UNION ALL SELECT a FROM small ORDER BY a DESC NULLS LAST LIMIT 10',
    );
    if (q.kind !== 'query' || q.query.kind !== 'with') throw new Error('shape');
    expect(q.query.ctes.map((c) => c.name)).toEqual(['big']);
    const body = q.query.body;
    if (body.kind !== 'setOperation') throw new Error('shape');
    expect(body.op).toBe('UNION');
    expect(body.all).toBe(true);
    expect(strip(body.orderBy)).toEqual([
      { expr: { kind: 'ident', parts: ['a'] }, direction: 'DESC', nulls: 'LAST' },
    ]);
    expect(strip(body.limit)).toEqual({ kind: 'literal', type: 'number', value: '10' });
  });

  it('binds INTERSECT tighter than UNION', () => {
    const q = parseStatement('SELECT 1 UNION SELECT 2 INTERSECT SELECT 3');
    if (q.kind !== 'query' || q.query.kind !== 'setOperation') throw new Error('shape');
    expect(q.query.op).toBe('UNION');
    expect(q.query.right.kind === 'setOperation' && q.query.right.op).toBe('INTERSECT');
  });

  it('parses joins', () => {
    const s = select(
      parseStatement(
        'SELECT * FROM a JOIN b ON a.id = b.id LEFT OUTER JOIN c USING (id) CROSS JOIN d FULL JOIN e ON TRUE',
      ),
    );
    const types: string[] = [];
    let ref = s.from;
    while (ref?.kind === 'join') {
      types.unshift(ref.type);
      ref = ref.left;
    }
    expect(types).toEqual(['INNER', 'LEFT', 'CROSS', 'FULL']);
    if (s.from?.kind !== 'join' || s.from.left.kind !== 'join' || s.from.left.left.kind !== 'join')
      throw new Error('shape');
    expect(s.from.left.left.using).toEqual(['id']);
  });

  it('parses a temporal join and subquery aliases with column lists', () => {
    const s = select(
      parseStatement(
        'SELECT * FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.order_time AS r ON o.c = r.c, (VALUES (1)) AS v (x)',
      ),
    );
    if (s.from?.kind !== 'join' || s.from.left.kind !== 'join') throw new Error('shape');
    const rates = s.from.left.right;
    expect(rates.kind === 'table' && strip(rates.forSystemTimeAsOf)).toEqual({
      kind: 'ident',
      parts: ['o', 'order_time'],
    });
    expect(rates.kind === 'table' && rates.alias).toBe('r');
    expect(s.from.right.kind === 'subquery' && s.from.right.columnAliases).toEqual(['x']);
  });

  it('parses a named WINDOW, FILTER and DISTINCT aggregates', () => {
    const s = select(
      parseStatement(`SELECT COUNT(DISTINCT user_id) FILTER (WHERE amount > 0) AS c, AVG(x) OVER w
FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ROWS 2 PRECEDING)`),
    );
    const c = s.items[0]!.expr;
    expect(c.kind === 'call' && c.distinct).toBe(true);
    expect(c.kind === 'call' && strip(c.filter)).toEqual({
      kind: 'binary',
      op: '>',
      left: { kind: 'ident', parts: ['amount'] },
      right: { kind: 'literal', type: 'number', value: '0' },
    });
    const avg = s.items[1]!.expr;
    expect(avg.kind === 'call' && avg.over?.windowName).toBe('w');
    expect(s.windows[0]!.name).toBe('w');
    expect(strip(s.windows[0]!.spec.frame)).toEqual({
      unit: 'ROWS',
      start: { kind: 'preceding', offset: { kind: 'literal', type: 'number', value: '2' } },
      end: { kind: 'currentRow' },
    });
  });

  it('accepts non-reserved keywords as column names and keeps identifier case', () => {
    const s = select(
      parseStatement(
        'SELECT timestamp, value, `user`, data, `offset`, partition, window_start, `Select` AS `My Col` FROM Events',
      ),
    );
    expect(s.items.map((i) => (i.expr.kind === 'ident' ? i.expr.parts[0] : '?'))).toEqual([
      'timestamp',
      'value',
      'user',
      'data',
      'offset',
      'partition',
      'window_start',
      'Select',
    ]);
    expect(s.items[7]!.alias).toBe('My Col');
    expect(s.from?.kind === 'table' && s.from.name).toEqual(['Events']);
  });

  it('parses keywords in any case', () => {
    expect(strip(parseStatement('select A from T where B is not null'))).toEqual(
      strip(parseStatement('SELECT A FROM T WHERE B IS NOT NULL')),
    );
  });
});

describe('expressions', () => {
  it('follows SQL precedence', () => {
    expect(expr('a OR b AND NOT c = 1 + 2 * -d')).toEqual({
      kind: 'binary',
      op: 'OR',
      left: { kind: 'ident', parts: ['a'] },
      right: {
        kind: 'binary',
        op: 'AND',
        left: { kind: 'ident', parts: ['b'] },
        right: {
          kind: 'unary',
          op: 'NOT',
          operand: {
            kind: 'binary',
            op: '=',
            left: { kind: 'ident', parts: ['c'] },
            right: {
              kind: 'binary',
              op: '+',
              left: { kind: 'literal', type: 'number', value: '1' },
              right: {
                kind: 'binary',
                op: '*',
                left: { kind: 'literal', type: 'number', value: '2' },
                right: { kind: 'unary', op: '-', operand: { kind: 'ident', parts: ['d'] } },
              },
            },
          },
        },
      },
    });
    expect(expr("a || 'x' = b")).toEqual({
      kind: 'binary',
      op: '=',
      left: {
        kind: 'binary',
        op: '||',
        left: { kind: 'ident', parts: ['a'] },
        right: { kind: 'literal', type: 'string', value: 'x' },
      },
      right: { kind: 'ident', parts: ['b'] },
    });
  });

  it('parses literals', () => {
    expect(expr("'it''s'")).toEqual({ kind: 'literal', type: 'string', value: "it's" });
    expect(expr('1.5E-3')).toEqual({ kind: 'literal', type: 'number', value: '1.5E-3' });
    expect(expr('10000000000')).toEqual({ kind: 'literal', type: 'number', value: '10000000000' });
    expect(expr('.5')).toEqual({ kind: 'literal', type: 'number', value: '.5' });
    expect(expr('true')).toEqual({ kind: 'literal', type: 'boolean', value: true });
    expect(expr('NULL')).toEqual({ kind: 'literal', type: 'null', value: null });
    expect(expr("TIMESTAMP '2024-01-01 00:00:00'")).toEqual({
      kind: 'literal',
      type: 'timestamp',
      value: '2024-01-01 00:00:00',
    });
    expect(expr("DATE '2024-01-01'")).toEqual({
      kind: 'literal',
      type: 'date',
      value: '2024-01-01',
    });
    expect(expr("TIME '12:00:00'")).toEqual({ kind: 'literal', type: 'time', value: '12:00:00' });
    expect(expr("INTERVAL '1:30' HOUR TO MINUTE")).toEqual({
      kind: 'interval',
      value: '1:30',
      sign: 1,
      unit: 'HOUR',
      toUnit: 'MINUTE',
    });
    expect(expr("INTERVAL '5' SECOND(3)")).toEqual({
      kind: 'interval',
      value: '5',
      sign: 1,
      unit: 'SECOND',
    });
    expect(expr("INTERVAL -'2' DAYS")).toEqual({
      kind: 'interval',
      value: '2',
      sign: -1,
      unit: 'DAY',
    });
    for (const unit of ['YEAR', 'MONTH']) {
      expect(expr(`INTERVAL '1' ${unit}`)).toEqual({ kind: 'interval', value: '1', sign: 1, unit });
    }
  });

  it('parses predicates', () => {
    expect(expr('x IS NOT UNKNOWN')).toEqual({
      kind: 'is',
      expr: { kind: 'ident', parts: ['x'] },
      what: 'UNKNOWN',
      not: true,
    });
    expect(expr('x NOT BETWEEN SYMMETRIC 1 AND 2')).toMatchObject({
      kind: 'between',
      not: true,
      symmetric: true,
    });
    expect(expr("s NOT LIKE 'a!%' ESCAPE '!'")).toEqual({
      kind: 'like',
      op: 'LIKE',
      expr: { kind: 'ident', parts: ['s'] },
      pattern: { kind: 'literal', type: 'string', value: 'a!%' },
      escape: { kind: 'literal', type: 'string', value: '!' },
      not: true,
    });
    expect(expr('x NOT IN (1, 2)')).toEqual({
      kind: 'in',
      expr: { kind: 'ident', parts: ['x'] },
      list: [
        { kind: 'literal', type: 'number', value: '1' },
        { kind: 'literal', type: 'number', value: '2' },
      ],
      not: true,
    });
    expect(expr('x IN (SELECT a FROM t)')).toMatchObject({ kind: 'in', list: { kind: 'select' } });
    expect(expr('EXISTS (SELECT 1)')).toMatchObject({ kind: 'subquery', exists: true });
    expect(expr('(SELECT MAX(a) FROM t)')).toMatchObject({ kind: 'subquery', exists: false });
  });

  it('parses CASE, CAST and TRY_CAST', () => {
    expect(expr("CASE x WHEN 1 THEN 'a' ELSE 'b' END")).toEqual({
      kind: 'case',
      operand: { kind: 'ident', parts: ['x'] },
      whens: [
        {
          when: { kind: 'literal', type: 'number', value: '1' },
          then: { kind: 'literal', type: 'string', value: 'a' },
        },
      ],
      else: { kind: 'literal', type: 'string', value: 'b' },
    });
    expect(expr('CASE WHEN a THEN 1 END')).toEqual({
      kind: 'case',
      whens: [
        {
          when: { kind: 'ident', parts: ['a'] },
          then: { kind: 'literal', type: 'number', value: '1' },
        },
      ],
    });
    expect(expr('TRY_CAST(s AS DECIMAL(10, 2))')).toEqual({
      kind: 'cast',
      expr: { kind: 'ident', parts: ['s'] },
      type: { name: 'DECIMAL', precision: 10, scale: 2, nullable: true },
      try: true,
    });
  });

  it('rewrites the keyword-argument functions to plain calls', () => {
    const call = (name: string, args: unknown[]): unknown => ({
      kind: 'call',
      name,
      args,
      distinct: false,
    });
    const s = { kind: 'ident', parts: ['s'] };
    const str = (value: string): unknown => ({ kind: 'literal', type: 'string', value });
    const num = (value: string): unknown => ({ kind: 'literal', type: 'number', value });
    expect(expr('SUBSTRING(s FROM 2 FOR 3)')).toEqual(call('SUBSTRING', [s, num('2'), num('3')]));
    expect(expr('substring(s, 2)')).toEqual(call('SUBSTRING', [s, num('2')]));
    expect(expr('EXTRACT(hour FROM ts)')).toEqual(
      call('EXTRACT', [str('HOUR'), { kind: 'ident', parts: ['ts'] }]),
    );
    expect(expr("TRIM(LEADING 'x' FROM s)")).toEqual(call('TRIM', [str('LEADING'), str('x'), s]));
    expect(expr('TRIM(s)')).toEqual(call('TRIM', [str('BOTH'), str(' '), s]));
    expect(expr("POSITION('a' IN s)")).toEqual(call('POSITION', [str('a'), s]));
    expect(expr('CURRENT_TIMESTAMP')).toEqual(call('CURRENT_TIMESTAMP', []));
    expect(expr('localtimestamp')).toEqual(call('LOCALTIMESTAMP', []));
    expect(expr('CURRENT_DATE')).toEqual(call('CURRENT_DATE', []));
    expect(expr('LEFT(s, 3)')).toEqual(call('LEFT', [s, num('3')]));
    expect(expr('ROW(1, s)')).toEqual(call('ROW', [num('1'), s]));
    expect(expr('ARRAY[1][1]')).toEqual(call('ITEM', [call('ARRAY', [num('1')]), num('1')]));
    expect(expr("m['k'].f")).toEqual(
      call('DOT', [call('ITEM', [{ kind: 'ident', parts: ['m'] }, str('k')]), str('f')]),
    );
    expect(expr("MAP['k', 1]")).toEqual(call('MAP', [str('k'), num('1')]));
    expect(expr('r.nested.field')).toEqual({ kind: 'ident', parts: ['r', 'nested', 'field'] });
  });

  it('records positions of nested nodes', () => {
    const e = parseExpression('a +\n  f(b)') as Expr & { kind: 'binary' };
    expect(e.pos).toEqual({ line: 1, column: 1, offset: 0 });
    expect(e.right.pos).toEqual({ line: 2, column: 3, offset: 6 });
    if (e.right.kind !== 'call') throw new Error('shape');
    expect(e.right.args[0]!.pos).toEqual({ line: 2, column: 5, offset: 8 });
  });
});

describe('Table API entry points', () => {
  it('parses a select list', () => {
    expect(strip(parseSelectList('a, b * 2 AS c, t.*, *'))).toEqual([
      { expr: { kind: 'ident', parts: ['a'] } },
      {
        expr: {
          kind: 'binary',
          op: '*',
          left: { kind: 'ident', parts: ['b'] },
          right: { kind: 'literal', type: 'number', value: '2' },
        },
        alias: 'c',
      },
      { expr: { kind: 'star', qualifier: ['t'] } },
      { expr: { kind: 'star' } },
    ]);
  });

  it('parses types with Flink defaults', () => {
    const cases: [string, string][] = [
      ['STRING', 'STRING'],
      ['VARCHAR(10)', 'VARCHAR(10)'],
      ['CHAR', 'CHAR(1)'],
      ['BOOLEAN', 'BOOLEAN'],
      ['TINYINT', 'TINYINT'],
      ['SMALLINT', 'SMALLINT'],
      ['INTEGER', 'INT'],
      ['FLOAT', 'FLOAT'],
      ['DOUBLE PRECISION', 'DOUBLE'],
      ['DECIMAL', 'DECIMAL(10, 0)'],
      ['DEC(5)', 'DECIMAL(5, 0)'],
      ['NUMERIC(5, 2)', 'DECIMAL(5, 2)'],
      ['DATE', 'DATE'],
      ['TIME(3)', 'TIME(3)'],
      ['TIMESTAMP', 'TIMESTAMP(6)'],
      ['TIMESTAMP(3) WITH LOCAL TIME ZONE', 'TIMESTAMP_LTZ(3)'],
      ['TIMESTAMP_LTZ(3)', 'TIMESTAMP_LTZ(3)'],
      ['BYTES', 'BYTES'],
      ['BINARY(4)', 'BINARY(4)'],
      ['VARBINARY(8)', 'VARBINARY(8)'],
      ['ARRAY<INT NOT NULL>', 'ARRAY<INT NOT NULL>'],
      ['MAP<STRING, ARRAY<INT>>', 'MAP<STRING, ARRAY<INT>>'],
      ['MULTISET<STRING>', 'MULTISET<STRING>'],
      ['ROW<a INT, b STRING>', 'ROW<`a` INT, `b` STRING>'],
      ['ROW(a INT, `b c` STRING) NOT NULL', 'ROW<`a` INT, `b c` STRING> NOT NULL'],
      ['bigint not null', 'BIGINT NOT NULL'],
    ];
    for (const [text, formatted] of cases) expect(formatType(parseType(text))).toBe(formatted);
  });
});

describe('errors', () => {
  it('points at a misspelled FROM taken for an alias', () => {
    const e = parseError(() =>
      parseStatement('SELECT user_id,\n  amount_usd\nFORM raw_transactions\nWHERE amount_usd > 10'),
    );
    expect(e).toBeInstanceOf(SqlParseError);
    expect(e.message).toBe(
      "SQL parse error at line 3, column 1: unexpected 'FORM'; did you mean 'FROM'?",
    );
    expect([e.line, e.column, e.token, e.hint]).toEqual([3, 1, 'FORM', "did you mean 'FROM'?"]);
  });

  it('lists what was expected and suggests close keywords', () => {
    expect(parseError(() => parseStatement('INSERT INOT t SELECT 1')).message).toBe(
      "SQL parse error at line 1, column 8: unexpected 'INOT'; expected one of: INTO, OVERWRITE (did you mean 'INTO'?)",
    );
    expect(
      parseError(() => parseStatement("CREATE TABLE t (a INT) WTIH ('a' = 'b')")).message,
    ).toBe(
      "SQL parse error at line 1, column 24: unexpected 'WTIH'; expected one of: COMMENT, PARTITIONED, WITH, LIKE, ';' (did you mean 'WITH'?)",
    );
    expect(parseError(() => parseStatement('SELECT a FROM t\nGROPU BY a')).message).toBe(
      "SQL parse error at line 2, column 1: unexpected 'GROPU'; did you mean 'GROUP'?",
    );
    expect(parseError(() => parseStatement('SELECT a,, b FROM t')).message).toBe(
      "SQL parse error at line 1, column 10: unexpected ','; expected one of: '*', an expression",
    );
    expect(parseError(() => parseStatement('SELECT a FROM t; SELECT b')).message).toBe(
      "SQL parse error at line 1, column 18: unexpected 'SELECT'; expected end of statement",
    );
  });

  it('reports the end of input', () => {
    const e = parseError(() =>
      parseStatement(
        "SELECT * FROM TABLE(\n  TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTE)",
      ),
    );
    expect(e.message).toBe(
      'SQL parse error at line 2, column 55: Encountered "<EOF>"; expected \')\'',
    );
    expect(e.token).toBe('<EOF>');
    expect(parseError(() => parseStatement('SELECT * FROM t WHERE')).message).toBe(
      'SQL parse error at line 1, column 22: Encountered "<EOF>"; expected an expression',
    );
    expect(
      parseError(() => parseScript('BEGIN STATEMENT SET;\nINSERT INTO a SELECT 1;')).message,
    ).toBe(
      'SQL parse error at line 2, column 24: Encountered "<EOF>"; expected END to close BEGIN STATEMENT SET at line 1, column 1',
    );
  });

  it('reports lexer errors with positions', () => {
    expect(parseError(() => parseStatement("SELECT 1\nFROM t WHERE s = 'abc")).message).toBe(
      "SQL parse error at line 2, column 18: unterminated string literal; close it with ' (write '' for a quote inside it)",
    );
    expect(parseError(() => parseStatement('SELECT 1 /* never closed')).message).toBe(
      'SQL parse error at line 1, column 10: unterminated comment; close it with */',
    );
    expect(parseError(() => parseStatement('SELECT `abc FROM t')).message).toBe(
      'SQL parse error at line 1, column 8: unterminated quoted identifier; close it with `',
    );
    expect(parseError(() => parseStatement('SELECT "a" FROM t')).message).toBe(
      "SQL parse error at line 1, column 8: unexpected character '\"'; Flink quotes identifiers with backticks (`name`) and strings with single quotes",
    );
  });

  it('rejects unknown types and interval units at their position', () => {
    expect(parseError(() => parseStatement('CREATE TABLE t (\n  a FOO\n)')).message).toBe(
      "SQL parse error at line 2, column 5: unknown type 'FOO'; Flink's types include STRING, INT, BIGINT, DOUBLE, DECIMAL(p, s), BOOLEAN, TIMESTAMP(p), TIMESTAMP_LTZ(p), DATE, ARRAY<T>, MAP<K, V>, ROW<...>",
    );
    expect(parseError(() => parseExpression("INTERVAL '5' FORTNIGHT")).message).toBe(
      "SQL parse error at line 1, column 14: unknown interval unit 'FORTNIGHT'; expected YEAR, MONTH, DAY, HOUR, MINUTE or SECOND",
    );
  });

  it('ignores comments', () => {
    const statements = parseScript(
      '-- header\nSELECT /* inline; with semicolon */ a FROM t; -- trailing\n/* block */ SHOW TABLES',
    );
    expect(statements.map((s) => s.text)).toEqual([
      'SELECT /* inline; with semicolon */ a FROM t',
      'SHOW TABLES',
    ]);
  });
});

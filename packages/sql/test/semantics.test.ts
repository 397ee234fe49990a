/**
 * Flink SQL semantics pinned with the examples of Flink's documentation and their documented
 * result tables (window TVF aggregation, session windows, window Top-N, OVER aggregation, interval
 * joins, group aggregation changelogs), plus the rules around them: which rows are late, which
 * sinks accept updates, stable operator uids, validation messages. Every stateful query runs on
 * both keyed state backends. Inputs are bounded, so a final watermark fires every window.
 */
import '@nimble/runtime/local';
import type { Collector, KeyedProcessContext, RuntimeContext, ValueState } from '@nimble/api';
import {
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
} from '@nimble/api';
import type { Change, Row } from '@nimble/sql';
import { Schema, StreamTableEnvironment } from '@nimble/sql';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// ------------------------------------------------------------------------------------------------
// Helpers

/** The keyed state backends every stateful test runs on. */
const BACKENDS = ['hashmap', 'level'] as const;
type Backend = (typeof BACKENDS)[number];

function environments(backend: Backend): {
  env: StreamExecutionEnvironment;
  tEnv: StreamTableEnvironment;
} {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.configure({ 'state.backend.type': backend });
  return { env, tEnv: StreamTableEnvironment.create(env) };
}

/** Epoch ms of `2020-04-15 <hh:mm[:ss[.SSS]]>` (the docs' day), read as UTC wall-clock time. */
function t(time: string): number {
  return Date.parse(`2020-04-15T${time.length === 5 ? `${time}:00` : time}Z`);
}

/** A timestamp as the docs print it: `08:05`, or `08:09:59.999` when it has seconds. */
function hm(value: unknown): string {
  const ms = value instanceof Date ? value.getTime() : (value as number);
  const time = new Date(ms).toISOString().slice(11, 23);
  return time.endsWith(':00.000') ? time.slice(0, 5) : time;
}

/** A row's values in column order, timestamps formatted with {@link hm}. */
function cells(row: Row, columns?: readonly string[]): unknown[] {
  return (columns ?? Object.keys(row)).map((c) => {
    const v = row[c];
    return v instanceof Date ? hm(v) : v;
  });
}

/** Rows as value lists, sorted (for results whose order between keys is not defined). */
function sorted(rows: readonly Row[], columns?: readonly string[]): unknown[][] {
  return rows
    .map((r) => cells(r, columns))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Changes as Flink prints them: `+I[a, b]`. */
function changes(list: readonly Change[]): string[] {
  return list.map((c) => `${c.kind}[${cells(c.row).join(', ')}]`);
}

interface Bid {
  bidtime: number;
  price: number;
  item: string;
  supplier_id?: string;
}

/** The docs' Bid table (`WATERMARK FOR bidtime AS bidtime - <delay>`) over `rows`, in order. */
function registerBid(
  env: StreamExecutionEnvironment,
  tEnv: StreamTableEnvironment,
  rows: readonly Bid[],
  delay = "INTERVAL '1' SECOND",
  name = 'Bid',
): void {
  tEnv.createTemporaryView(
    name,
    env.fromElements(...rows.map((r) => ({ supplier_id: null, ...r }))),
    Schema.newBuilder()
      .column('bidtime', 'TIMESTAMP(3)')
      .column('price', 'DECIMAL(10, 2)')
      .column('item', 'STRING')
      .column('supplier_id', 'STRING')
      .watermark('bidtime', `bidtime - ${delay}`)
      .build(),
  );
}

/** Runs an insert-only query over a DataStream table and returns its rows. */
async function query(tEnv: StreamTableEnvironment, sql: string): Promise<Row[]> {
  return tEnv.toDataStream(tEnv.sqlQuery(sql)).executeAndCollect();
}

/** The Bid rows of the docs' window aggregation pages. */
const DOCS_BIDS: readonly Bid[] = [
  { bidtime: t('08:05'), price: 4, item: 'C', supplier_id: 'supplier1' },
  { bidtime: t('08:07'), price: 2, item: 'A', supplier_id: 'supplier1' },
  { bidtime: t('08:09'), price: 5, item: 'D', supplier_id: 'supplier2' },
  { bidtime: t('08:11'), price: 3, item: 'B', supplier_id: 'supplier2' },
  { bidtime: t('08:13'), price: 1, item: 'E', supplier_id: 'supplier1' },
  { bidtime: t('08:17'), price: 6, item: 'F', supplier_id: 'supplier2' },
];

/** The Bid rows of the docs' SESSION examples (out of order, as printed there). */
const SESSION_BIDS: readonly Bid[] = [
  { bidtime: t('08:07'), price: 4, item: 'A' },
  { bidtime: t('08:06'), price: 2, item: 'A' },
  { bidtime: t('08:09'), price: 5, item: 'B' },
  { bidtime: t('08:08'), price: 3, item: 'A' },
  { bidtime: t('08:17'), price: 1, item: 'B' },
];

/** The Bid rows of the docs' window Top-N page. */
const TOPN_BIDS: readonly Bid[] = [
  { bidtime: t('08:05'), price: 4, item: 'A', supplier_id: 'supplier1' },
  { bidtime: t('08:06'), price: 4, item: 'C', supplier_id: 'supplier2' },
  { bidtime: t('08:07'), price: 2, item: 'G', supplier_id: 'supplier1' },
  { bidtime: t('08:08'), price: 2, item: 'B', supplier_id: 'supplier3' },
  { bidtime: t('08:09'), price: 5, item: 'D', supplier_id: 'supplier4' },
  { bidtime: t('08:11'), price: 2, item: 'B', supplier_id: 'supplier3' },
  { bidtime: t('08:13'), price: 1, item: 'E', supplier_id: 'supplier1' },
  { bidtime: t('08:15'), price: 3, item: 'H', supplier_id: 'supplier2' },
  { bidtime: t('08:17'), price: 6, item: 'F', supplier_id: 'supplier5' },
];

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimble-sql-semantics-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A JSON lines file of `rows` in a new temp directory; returns the directory. */
function jsonLines(rows: readonly Record<string, unknown>[]): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'data.json'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

// ------------------------------------------------------------------------------------------------
// Window TVF aggregation (docs: window-agg.md, window-tvf.md)

describe.each(BACKENDS)('window TVF aggregation over the docs Bid table (%s)', (backend) => {
  it('TUMBLE 10 minutes', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 11],
      ['08:10', '08:20', 10],
    ]);
  });

  it('TUMBLE with named parameters and window_time', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, window_time, COUNT(*) AS cnt
       FROM TABLE(TUMBLE(DATA => TABLE Bid, TIMECOL => DESCRIPTOR(bidtime), SIZE => INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end, window_time`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', '08:09:59.999', 3],
      ['08:10', '08:20', '08:19:59.999', 3],
    ]);
  });

  it('HOP 5 minutes slide, 10 minutes size', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 11],
      ['08:05', '08:15', 15],
      ['08:10', '08:20', 10],
      ['08:15', '08:25', 6],
    ]);
  });

  it('CUMULATE 2 minutes step, 10 minutes size', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:06', 4],
      ['08:00', '08:08', 6],
      ['08:00', '08:10', 11],
      ['08:10', '08:12', 3],
      ['08:10', '08:14', 4],
      ['08:10', '08:16', 4],
      ['08:10', '08:18', 10],
      ['08:10', '08:20', 10],
    ]);
  });

  it('TUMBLE grouped by supplier_id (the docs grouping-set rows without the empty set)', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, supplier_id, SUM(price) AS price
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end, supplier_id`,
    );
    expect(sorted(rows)).toEqual([
      ['08:00', '08:10', 'supplier1', 6],
      ['08:00', '08:10', 'supplier2', 5],
      ['08:10', '08:20', 'supplier1', 1],
      ['08:10', '08:20', 'supplier2', 9],
    ]);
  });

  it('TUMBLE with an offset shifts the windows', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES, INTERVAL '1' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:01', '08:11', 11],
      ['08:11', '08:21', 10],
    ]);
  });

  it('CUMULATE with an offset shifts the periods', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES, INTERVAL '1' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:01', '08:07', 4],
      ['08:01', '08:09', 6],
      ['08:01', '08:11', 11],
      ['08:11', '08:13', 3],
      ['08:11', '08:15', 4],
      ['08:11', '08:17', 4],
      ['08:11', '08:19', 10],
      ['08:11', '08:21', 10],
    ]);
  });

  it('cascading window aggregation through window_time', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    await tEnv.executeSql(
      `CREATE VIEW window1 AS
       SELECT window_start AS w5_start, window_end AS w5_end, window_time AS rowtime, SUM(price) AS partial_price
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
       GROUP BY supplier_id, window_start, window_end, window_time`,
    );
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(partial_price) AS total_price
       FROM TABLE(TUMBLE(TABLE window1, DESCRIPTOR(rowtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 11],
      ['08:10', '08:20', 10],
    ]);
  });
});

describe.each(BACKENDS)('window aggregation over other inputs (%s)', (backend) => {
  it('a filesystem table with a WATERMARK clause: TUMBLE drops the late row (executeSql)', async () => {
    const { tEnv } = environments(backend);
    const dir = jsonLines(
      [
        ['08:05', 4],
        ['08:07', 2],
        ['08:11', 3], // watermark 08:10:59: [08:00, 08:10) fires
        ['08:09', 5], // late
        ['08:17', 6],
      ].map(([time, price]) => ({ bidtime: `2020-04-15 ${String(time)}:00`, price })),
    );
    await tEnv.executeSql(
      `CREATE TABLE FileBid (bidtime TIMESTAMP(3), price INT,
         WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND)
       WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'json')`,
    );
    const result = await tEnv.executeSql(
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(TUMBLE(TABLE FileBid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(result.rows.map((r) => r.map((v) => (v instanceof Date ? hm(v) : v)))).toEqual([
      ['08:00', '08:10', 6],
      ['08:10', '08:20', 9],
    ]);
  });

  it('TUMBLE over a view of UNION ALL keeps the rowtime', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS.slice(0, 3), undefined, 'Bid1');
    registerBid(env, tEnv, DOCS_BIDS.slice(3), undefined, 'Bid2');
    await tEnv.executeSql('CREATE VIEW AllBids AS SELECT * FROM Bid1 UNION ALL SELECT * FROM Bid2');
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(TUMBLE(TABLE AllBids, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 11],
      ['08:10', '08:20', 10],
    ]);
  });

  it('a Top-N partitioned by window and supplier', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, TOPN_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, supplier_id, item, price FROM (
         SELECT *, ROW_NUMBER() OVER (
           PARTITION BY window_start, window_end, supplier_id ORDER BY price DESC, bidtime ASC) AS rn
         FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       ) WHERE rn = 1 AND price > 2`,
    );
    expect(sorted(rows)).toEqual([
      ['08:00', 'supplier1', 'A', 4],
      ['08:00', 'supplier2', 'C', 4],
      ['08:00', 'supplier4', 'D', 5],
      ['08:10', 'supplier2', 'H', 3],
      ['08:10', 'supplier5', 'F', 6],
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// SESSION window TVF (docs: window-tvf.md, Flink 1.19+)

describe.each(BACKENDS)('SESSION window TVF (%s)', (backend) => {
  it('with PARTITION BY item', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, SESSION_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, item, SUM(price) AS total_price
       FROM TABLE(SESSION(TABLE Bid PARTITION BY item, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
       GROUP BY item, window_start, window_end`,
    );
    expect(sorted(rows, ['window_start', 'window_end', 'item', 'total_price'])).toEqual([
      ['08:06', '08:13', 'A', 9],
      ['08:09', '08:14', 'B', 5],
      ['08:17', '08:22', 'B', 1],
    ]);
  });

  it('without PARTITION BY', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, SESSION_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS total_price
       FROM TABLE(SESSION(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:06', '08:14', 14],
      ['08:17', '08:22', 1],
    ]);
  });

  it('a row behind the newest but not late bridges two sessions into one', async () => {
    const { env, tEnv } = environments(backend);
    // Watermark 5 minutes behind: after 08:08 it is 08:03, so [08:00, 08:05) has not fired when
    // the 08:04 row arrives and joins it with [08:08, 08:13).
    registerBid(
      env,
      tEnv,
      [
        { bidtime: t('08:00'), price: 1, item: 'A' },
        { bidtime: t('08:08'), price: 2, item: 'A' },
        { bidtime: t('08:04'), price: 4, item: 'A' },
        { bidtime: t('08:30'), price: 8, item: 'A' },
      ],
      "INTERVAL '5' MINUTE",
    );
    const rows = await query(
      tEnv,
      `SELECT item, window_start, window_end, SUM(price) AS total, COUNT(*) AS cnt
       FROM TABLE(SESSION(TABLE Bid PARTITION BY item, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
       GROUP BY item, window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['A', '08:00', '08:13', 7, 3],
      ['A', '08:30', '08:35', 8, 1],
    ]);
  });

  it('a row whose session has fired is late and dropped', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, [
      { bidtime: t('08:00'), price: 1, item: 'A' },
      // Watermark 08:11:59: the session [08:00, 08:05) has fired.
      { bidtime: t('08:12'), price: 2, item: 'A' },
      // [08:04, 08:09) would bridge nothing and has fired already: late.
      { bidtime: t('08:04'), price: 4, item: 'A' },
    ]);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS total
       FROM TABLE(SESSION(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:05', 1],
      ['08:12', '08:17', 2],
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// Late rows of window aggregations

describe.each(BACKENDS)('late rows of window aggregations (%s)', (backend) => {
  it('a row behind the watermark (max(bidtime) - 2 min) in a fired window is dropped', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(
      env,
      tEnv,
      [
        { bidtime: t('08:01'), price: 1, item: 'A' },
        { bidtime: t('08:13'), price: 2, item: 'B' }, // watermark 08:11: [08:00, 08:10) fires
        { bidtime: t('08:05'), price: 4, item: 'C' }, // late: dropped
        { bidtime: t('08:11'), price: 8, item: 'D' }, // behind the newest row, not late
        { bidtime: t('08:12'), price: 16, item: 'E' },
      ],
      "INTERVAL '2' MINUTE",
    );
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price, COUNT(*) AS cnt
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 1, 1],
      ['08:10', '08:20', 26, 3],
    ]);
  });

  it('the delay is the WATERMARK clause, not 1 ms less: a watermark 2 minutes behind keeps a row 2 minutes behind', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(
      env,
      tEnv,
      [
        { bidtime: t('08:01'), price: 1, item: 'A' },
        { bidtime: t('08:11:59.999'), price: 2, item: 'B' }, // watermark 08:09:59.999
        { bidtime: t('08:09:59.999'), price: 4, item: 'C' }, // its window ends at 08:10: fired
        { bidtime: t('08:09:59.998'), price: 8, item: 'D' }, // same window: dropped too
      ],
      "INTERVAL '2' MINUTE",
    );
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 1],
      ['08:10', '08:20', 2],
    ]);
  });

  it('a watermark at window_end - 2 ms keeps the window open for a row at window_end - 1 ms', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(
      env,
      tEnv,
      [
        { bidtime: t('08:01'), price: 1, item: 'A' },
        { bidtime: t('08:11:59.998'), price: 2, item: 'B' }, // watermark 08:09:59.998
        { bidtime: t('08:09:59.999'), price: 4, item: 'C' }, // window_end - 1 > watermark: kept
      ],
      "INTERVAL '2' MINUTE",
    );
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 5],
      ['08:10', '08:20', 2],
    ]);
  });

  it('HOP: a row whose first window fired still counts in its open windows', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, [
      { bidtime: t('08:01'), price: 1, item: 'A' },
      { bidtime: t('08:11'), price: 2, item: 'B' }, // watermark 08:10:59: [08:00, 08:10) fired
      { bidtime: t('08:07'), price: 4, item: 'C' }, // in [08:00, 08:10) (fired) and [08:05, 08:15)
    ]);
    const rows = await query(
      tEnv,
      `SELECT window_start, window_end, SUM(price) AS price
       FROM TABLE(HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['07:55', '08:05', 1],
      ['08:00', '08:10', 1],
      ['08:05', '08:15', 6],
      ['08:10', '08:20', 2],
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// Window Top-N (docs: window-topn.md)

describe.each(BACKENDS)('window Top-N (%s)', (backend) => {
  it('top 3 suppliers with the highest sales for every tumbling 10 minutes window', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, TOPN_BIDS);
    const rows = await query(
      tEnv,
      `SELECT *
       FROM (
         SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum
         FROM (
           SELECT window_start, window_end, supplier_id, SUM(price) AS price, COUNT(*) AS cnt
           FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
           GROUP BY window_start, window_end, supplier_id
         )
       ) WHERE rownum <= 3`,
    );
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:00', '08:10', 'supplier1', 6, 2, 1],
      ['08:00', '08:10', 'supplier4', 5, 1, 2],
      ['08:00', '08:10', 'supplier2', 4, 1, 3],
      ['08:10', '08:20', 'supplier5', 6, 1, 1],
      ['08:10', '08:20', 'supplier2', 3, 1, 2],
      ['08:10', '08:20', 'supplier3', 2, 1, 3],
    ]);
    expect(Object.keys(rows[0]!)).toEqual([
      'window_start',
      'window_end',
      'supplier_id',
      'price',
      'cnt',
      'rownum',
    ]);
  });

  it('top 3 items with the highest price, directly after the window TVF', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, TOPN_BIDS);
    const rows = await query(
      tEnv,
      `SELECT bidtime, price, item, supplier_id, window_start, window_end, rownum
       FROM (
         SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum
         FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       ) WHERE rownum <= 3`,
    );
    // The docs list the rows by bidtime; Flink emits them in rank order.
    expect(sorted(rows)).toEqual([
      ['08:05', 4, 'A', 'supplier1', '08:00', '08:10', 2],
      ['08:06', 4, 'C', 'supplier2', '08:00', '08:10', 3],
      ['08:09', 5, 'D', 'supplier4', '08:00', '08:10', 1],
      ['08:11', 2, 'B', 'supplier3', '08:10', '08:20', 3],
      ['08:15', 3, 'H', 'supplier2', '08:10', '08:20', 2],
      ['08:17', 6, 'F', 'supplier5', '08:10', '08:20', 1],
    ]);
  });

  it('SELECT * after the TVF keeps window_time and drops late rows', async () => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, [
      ...TOPN_BIDS.slice(0, 6),
      { bidtime: t('08:09:30'), price: 100, item: 'Z', supplier_id: 'late' }, // watermark 08:10:59
      ...TOPN_BIDS.slice(6),
    ]);
    const rows = await query(
      tEnv,
      `SELECT * FROM (
         SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum
         FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       ) WHERE rownum <= 1`,
    );
    expect(Object.keys(rows[0]!)).toEqual([
      'bidtime',
      'price',
      'item',
      'supplier_id',
      'window_start',
      'window_end',
      'window_time',
      'rownum',
    ]);
    expect(rows.map((r) => cells(r))).toEqual([
      ['08:09', 5, 'D', 'supplier4', '08:00', '08:10', '08:09:59.999', 1],
      ['08:17', 6, 'F', 'supplier5', '08:10', '08:20', '08:19:59.999', 1],
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// OVER aggregation (docs: over-agg.md)

interface Order {
  order_id: number;
  product: string;
  amount: number;
  order_time: number;
}

function registerOrders(
  env: StreamExecutionEnvironment,
  tEnv: StreamTableEnvironment,
  rows: readonly Order[],
): void {
  tEnv.createTemporaryView(
    'Orders',
    env.fromElements(...rows),
    Schema.newBuilder()
      .column('order_id', 'INT')
      .column('product', 'STRING')
      .column('amount', 'INT')
      .column('order_time', 'TIMESTAMP(3)')
      .watermark('order_time', "order_time - INTERVAL '1' SECOND")
      .build(),
  );
}

/** Two rows of product A share 09:30; 10:30:00.001 is just over an hour after them. */
const ORDERS: readonly Order[] = [
  { order_id: 1, product: 'A', amount: 10, order_time: t('09:00') },
  { order_id: 2, product: 'A', amount: 20, order_time: t('09:30') },
  { order_id: 3, product: 'A', amount: 5, order_time: t('09:30') },
  { order_id: 4, product: 'B', amount: 7, order_time: t('09:45') },
  { order_id: 5, product: 'A', amount: 1, order_time: t('10:00') },
  { order_id: 6, product: 'A', amount: 2, order_time: t('10:30:00.001') },
  // Watermark 10:29:59.001: product A was evaluated up to 10:00, so 09:15 is late.
  { order_id: 7, product: 'A', amount: 100, order_time: t('09:15') },
];

async function overSums(backend: Backend, frame: string): Promise<unknown[][]> {
  const { env, tEnv } = environments(backend);
  registerOrders(env, tEnv, ORDERS);
  const rows = await query(
    tEnv,
    `SELECT order_id, order_time, amount,
       SUM(amount) OVER (PARTITION BY product ORDER BY order_time ${frame}) AS s
     FROM Orders`,
  );
  return sorted(rows).map(([id, , , s]) => [id, s]);
}

describe.each(BACKENDS)('OVER aggregation (%s)', (backend) => {
  it('RANGE BETWEEN INTERVAL 1 HOUR PRECEDING: rows of one timestamp get the same value', async () => {
    expect(
      await overSums(backend, "RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW"),
    ).toEqual([
      [1, 10],
      [2, 35],
      [3, 35],
      [4, 7],
      [5, 36], // 09:00 is exactly one hour before: in the frame
      [6, 3], // 09:30 is more than one hour before
    ]);
  });

  it('ROWS BETWEEN 2 PRECEDING AND CURRENT ROW', async () => {
    expect(await overSums(backend, 'ROWS BETWEEN 2 PRECEDING AND CURRENT ROW')).toEqual([
      [1, 10],
      [2, 30],
      [3, 35],
      [4, 7],
      [5, 26],
      [6, 8],
    ]);
  });

  it('RANGE UNBOUNDED PRECEDING (the default frame)', async () => {
    expect(await overSums(backend, '')).toEqual([
      [1, 10],
      [2, 35],
      [3, 35],
      [4, 7],
      [5, 36],
      [6, 38],
    ]);
  });

  it('ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW', async () => {
    expect(await overSums(backend, 'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW')).toEqual([
      [1, 10],
      [2, 30],
      [3, 35],
      [4, 7],
      [5, 36],
      [6, 38],
    ]);
  });

  it('a WINDOW clause shared by SUM and AVG; AVG of INT is an INT', async () => {
    const { env, tEnv } = environments(backend);
    registerOrders(env, tEnv, ORDERS);
    const rows = await query(
      tEnv,
      `SELECT order_id, order_time, amount,
         SUM(amount) OVER w AS sum_amount,
         AVG(amount) OVER w AS avg_amount
       FROM Orders
       WINDOW w AS (
         PARTITION BY product
         ORDER BY order_time
         RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)`,
    );
    expect(sorted(rows)).toEqual([
      [1, '09:00', 10, 10, 10],
      [2, '09:30', 20, 35, 11],
      [3, '09:30', 5, 35, 11],
      [4, '09:45', 7, 7, 7],
      [5, '10:00', 1, 36, 9],
      [6, '10:30:00.001', 2, 3, 1],
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// Interval joins (docs: joins.md)

function registerShipments(
  env: StreamExecutionEnvironment,
  tEnv: StreamTableEnvironment,
  orders: readonly { id: number; order_time: number }[],
  shipments: readonly { order_id: number; ship_time: number }[],
): void {
  tEnv.createTemporaryView(
    'Orders',
    env.fromElements(...orders),
    Schema.newBuilder()
      .column('id', 'INT')
      .column('order_time', 'TIMESTAMP(3)')
      .watermark('order_time', "order_time - INTERVAL '1' SECOND")
      .build(),
  );
  tEnv.createTemporaryView(
    'Shipments',
    env.fromElements(...shipments),
    Schema.newBuilder()
      .column('order_id', 'INT')
      .column('ship_time', 'TIMESTAMP(3)')
      .watermark('ship_time', "ship_time - INTERVAL '1' SECOND")
      .build(),
  );
}

describe.each(BACKENDS)('interval join (%s)', (backend) => {
  it('orders shipped within 4 hours (the docs query), bounds inclusive', async () => {
    const { env, tEnv } = environments(backend);
    registerShipments(
      env,
      tEnv,
      [
        { id: 1, order_time: t('08:00') },
        { id: 2, order_time: t('09:00') },
        { id: 3, order_time: t('10:00') },
      ],
      [
        { order_id: 2, ship_time: t('08:59') }, // shipped before it was ordered
        { order_id: 3, ship_time: t('10:00') }, // at the order time: in
        { order_id: 1, ship_time: t('11:00') },
        { order_id: 1, ship_time: t('12:00') }, // exactly 4 hours: in
        { order_id: 4, ship_time: t('12:30') }, // no such order
        { order_id: 2, ship_time: t('13:00:01') }, // 4 hours and 1 second: out
      ],
    );
    const rows = await query(
      tEnv,
      `SELECT o.id, o.order_time, s.order_id, s.ship_time
       FROM Orders o, Shipments s
       WHERE o.id = s.order_id
       AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time`,
    );
    expect(sorted(rows)).toEqual([
      [1, '08:00', 1, '11:00'],
      [1, '08:00', 1, '12:00'],
      [3, '10:00', 3, '10:00'],
    ]);
  });

  it('JOIN ... ON a.k = b.k AND b.t BETWEEN a.t - INTERVAL AND a.t', async () => {
    const { env, tEnv } = environments(backend);
    registerShipments(
      env,
      tEnv,
      [
        { id: 1, order_time: t('08:10') },
        { id: 2, order_time: t('08:20') },
      ],
      [
        { order_id: 1, ship_time: t('08:00') }, // 10 minutes before: in
        { order_id: 1, ship_time: t('08:05') },
        { order_id: 2, ship_time: t('08:09:59.999') }, // just over 10 minutes before: out
        { order_id: 2, ship_time: t('08:20') },
        { order_id: 2, ship_time: t('08:20:00.001') }, // after: out
      ],
    );
    const rows = await query(
      tEnv,
      `SELECT a.id, b.ship_time
       FROM Orders a JOIN Shipments b
       ON a.id = b.order_id AND b.ship_time BETWEEN a.order_time - INTERVAL '10' MINUTE AND a.order_time`,
    );
    expect(sorted(rows)).toEqual([
      [1, '08:00'],
      [1, '08:05'],
      [2, '08:20'],
    ]);
  });

  it('strict bounds with < and >', async () => {
    const { env, tEnv } = environments(backend);
    registerShipments(
      env,
      tEnv,
      [{ id: 1, order_time: t('08:00') }],
      [
        { order_id: 1, ship_time: t('08:00') },
        { order_id: 1, ship_time: t('08:30') },
        { order_id: 1, ship_time: t('09:00') },
      ],
    );
    const rows = await query(
      tEnv,
      `SELECT o.id, s.ship_time FROM Orders o, Shipments s
       WHERE o.id = s.order_id AND s.ship_time > o.order_time AND s.ship_time < o.order_time + INTERVAL '1' HOUR`,
    );
    expect(sorted(rows)).toEqual([[1, '08:30']]);
  });
});

// ------------------------------------------------------------------------------------------------
// UNION ALL, projections, filters and aggregate functions

describe('UNION ALL and projections', () => {
  it('UNION ALL of two filtered DataStream tables', async () => {
    const { env, tEnv } = environments('hashmap');
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT item, price FROM Bid WHERE price > 4
       UNION ALL
       SELECT supplier_id AS item, price * 10 AS price FROM Bid WHERE item IN ('A', 'B')`,
    );
    expect(sorted(rows)).toEqual([
      ['D', 5],
      ['F', 6],
      ['supplier1', 20],
      ['supplier2', 30],
    ]);
  });

  it('WHERE, CASE, CAST, LIKE, IN and COALESCE over a filesystem table (executeSql)', async () => {
    const { tEnv } = environments('hashmap');
    const dir = jsonLines([
      { id: 1, name: 'apple', qty: 3, category: 'fruit' },
      { id: 2, name: 'avocado', qty: 0, category: null },
      { id: 3, name: 'bread', qty: 12, category: 'bakery' },
      { id: 4, name: 'banana', qty: 7, category: null },
      { id: 5, name: 'cherry', qty: null, category: 'fruit' },
    ]);
    await tEnv.executeSql(
      `CREATE TABLE Items (id INT, name STRING, qty INT, category STRING)
       WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'json')`,
    );
    const result = await tEnv.executeSql(
      `SELECT id,
         CASE WHEN qty > 5 THEN 'many' WHEN qty > 0 THEN 'some' ELSE 'none' END AS amount,
         CAST(qty AS STRING) AS qty_text,
         COALESCE(category, 'unknown') AS category,
         name LIKE 'a%' AS starts_with_a
       FROM Items
       WHERE id IN (1, 2, 4, 5) AND name NOT LIKE '%rr%'`,
    );
    expect(result.columns.map((c) => c.name)).toEqual([
      'id',
      'amount',
      'qty_text',
      'category',
      'starts_with_a',
    ]);
    expect(result.rows).toEqual([
      [1, 'some', '3', 'fruit', true],
      [2, 'none', '0', 'unknown', true],
      [4, 'many', '7', 'unknown', false],
    ]);
  });

  it.each(BACKENDS)(
    'COUNT(DISTINCT), AVG of INT, FIRST_VALUE/LAST_VALUE and HAVING (group aggregation, %s)',
    async (backend) => {
      const { tEnv } = environments(backend);
      const dir = jsonLines([
        { user_id: 'alice', page: 'home', ms: 10 },
        { user_id: 'alice', page: 'cart', ms: 15 },
        { user_id: 'alice', page: 'home', ms: 20 },
        { user_id: 'bob', page: 'home', ms: 7 },
        { user_id: 'carol', page: 'faq', ms: 1 },
        { user_id: 'carol', page: 'faq', ms: 2 },
      ]);
      await tEnv.executeSql(
        `CREATE TABLE Clicks (user_id STRING, page STRING, ms INT)
       WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'json')`,
      );
      const result = await tEnv.executeSql(
        `SELECT user_id, COUNT(DISTINCT page) AS pages, AVG(ms) AS avg_ms,
         FIRST_VALUE(page) AS first_page, LAST_VALUE(page) AS last_page
       FROM Clicks
       GROUP BY user_id
       HAVING COUNT(*) > 1`,
      );
      expect([...result.rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
        ['alice', 2, 15, 'home', 'home'],
        ['carol', 1, 1, 'faq', 'faq'],
      ]);
    },
  );

  it.each(BACKENDS)('aggregate functions in a window aggregation (%s)', async (backend) => {
    const { env, tEnv } = environments(backend);
    registerBid(env, tEnv, DOCS_BIDS);
    const rows = await query(
      tEnv,
      `SELECT window_start, COUNT(DISTINCT supplier_id) AS suppliers, AVG(CAST(price AS INT)) AS avg_price,
         FIRST_VALUE(item) AS first_item, LAST_VALUE(item) AS last_item, MAX(price) AS max_price
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end
       HAVING SUM(price) > 10`,
    );
    expect(rows.map((r) => cells(r))).toEqual([['08:00', 2, 3, 'C', 'D', 5]]);
  });
});

// ------------------------------------------------------------------------------------------------
// Group aggregation: changelogs and sinks

const PURCHASES = [
  { user_id: 'alice', amount: 10 },
  { user_id: 'bob', amount: 5 },
  { user_id: 'alice', amount: 20 },
  { user_id: 'alice', amount: 0 }, // the sum stays 30: no change is emitted
  { user_id: 'bob', amount: 1 },
];

function registerPurchases(env: StreamExecutionEnvironment, tEnv: StreamTableEnvironment): void {
  tEnv.createTemporaryView(
    'Purchases',
    env.fromElements(...PURCHASES),
    Schema.newBuilder().column('user_id', 'STRING').column('amount', 'INT').build(),
  );
}

describe.each(BACKENDS)('group aggregation changelog (%s)', (backend) => {
  it('toChangelogStream of a GROUP BY: +I, then -U/+U per update', async () => {
    const { env, tEnv } = environments(backend);
    registerPurchases(env, tEnv);
    const table = tEnv.sqlQuery(
      'SELECT user_id, SUM(amount) AS total FROM Purchases GROUP BY user_id',
    );
    const out = await tEnv.toChangelogStream(table).executeAndCollect();
    expect(changes(out)).toEqual([
      '+I[alice, 10]',
      '+I[bob, 5]',
      '-U[alice, 10]',
      '+U[alice, 30]',
      '-U[bob, 5]',
      '+U[bob, 6]',
    ]);
  });

  it('a GROUP BY without keys and a filter over the updating result', async () => {
    const { env, tEnv } = environments(backend);
    registerPurchases(env, tEnv);
    const table = tEnv.sqlQuery(
      'SELECT cnt FROM (SELECT COUNT(*) AS cnt, SUM(amount) AS total FROM Purchases) WHERE total > 10',
    );
    const out = await tEnv.toChangelogStream(table).executeAndCollect();
    // The aggregate changes [1, 10] -> [2, 15] -> [3, 35] -> [4, 35] -> [5, 36]; as in Flink, the
    // Calc filters each change as it is, so the first change kept is an update after.
    expect(changes(out)).toEqual(['+U[2]', '-U[2]', '+U[3]', '-U[3]', '+U[4]', '-U[4]', '+U[5]']);
  });
});

describe.each(BACKENDS)('aggregation of an updating table (%s)', (backend) => {
  it('GROUP BY over a GROUP BY retracts: -D when a group empties', async () => {
    const { env, tEnv } = environments(backend);
    registerPurchases(env, tEnv);
    const table = tEnv.sqlQuery(
      `SELECT total, COUNT(*) AS users FROM (
         SELECT user_id, SUM(amount) AS total FROM Purchases GROUP BY user_id
       ) GROUP BY total`,
    );
    const out = await tEnv.toChangelogStream(table).executeAndCollect();
    expect(changes(out)).toEqual([
      '+I[10, 1]',
      '+I[5, 1]',
      '-D[10, 1]',
      '+I[30, 1]',
      '-D[5, 1]',
      '+I[6, 1]',
    ]);
  });

  it('SELECT DISTINCT emits each row once', async () => {
    const { env, tEnv } = environments(backend);
    registerPurchases(env, tEnv);
    const out = await tEnv
      .toChangelogStream(tEnv.sqlQuery('SELECT DISTINCT user_id FROM Purchases'))
      .executeAndCollect();
    expect(changes(out)).toEqual(['+I[alice]', '+I[bob]']);
  });
});

describe('sinks of an updating result', () => {
  it('INSERT into the filesystem sink is refused with Flink message', async () => {
    const { env, tEnv } = environments('hashmap');
    registerPurchases(env, tEnv);
    const dir = tempDir();
    await tEnv.executeSql(
      `CREATE TABLE Totals (user_id STRING, total INT)
       WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'json')`,
    );
    await expect(
      tEnv.executeSql(
        'INSERT INTO Totals SELECT user_id, SUM(amount) AS total FROM Purchases GROUP BY user_id',
      ),
    ).rejects.toThrow(
      "Table sink 'default_catalog.default_database.Totals' doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[user_id], select=[user_id, SUM(amount)",
    );
  });

  it('INSERT into the kafka sink is refused with Flink message', async () => {
    const { env, tEnv } = environments('hashmap');
    registerPurchases(env, tEnv);
    await tEnv.executeSql(
      `CREATE TABLE TotalsTopic (user_id STRING, total INT) WITH (
         'connector' = 'kafka', 'topic' = 'totals',
         'properties.bootstrap.servers' = '127.0.0.1:9', 'format' = 'json')`,
    );
    await expect(
      tEnv.executeSql(
        'INSERT INTO TotalsTopic SELECT user_id, SUM(amount) FROM Purchases GROUP BY user_id',
      ),
    ).rejects.toThrow(
      "Table sink 'default_catalog.default_database.TotalsTopic' doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[user_id]",
    );
  });

  it('INSERT into the print sink is accepted and prints the changes', async () => {
    const { env, tEnv } = environments('hashmap');
    registerPurchases(env, tEnv);
    await tEnv.executeSql(
      `CREATE TABLE Out (user_id STRING, total INT) WITH ('connector' = 'print')`,
    );
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const result = await tEnv.executeSql(
        'INSERT INTO Out SELECT user_id, SUM(amount) FROM Purchases GROUP BY user_id',
      );
      expect(result.jobId).toBeDefined();
    } finally {
      process.stdout.write = write;
    }
    expect(printed.join('').trim().split('\n')).toEqual([
      '+I[alice, 10]',
      '+I[bob, 5]',
      '-U[alice, 10]',
      '+U[alice, 30]',
      '-U[bob, 5]',
      '+U[bob, 6]',
    ]);
  });

  it('INSERT of a window aggregation into the filesystem sink writes its rows', async () => {
    const { env, tEnv } = environments('level');
    registerBid(env, tEnv, DOCS_BIDS);
    const dir = tempDir();
    await tEnv.executeSql(
      `CREATE TABLE WindowTotals (window_start TIMESTAMP(3), supplier_id STRING, price DECIMAL(10, 2))
       WITH ('connector' = 'filesystem', 'path' = '${dir}', 'format' = 'json')`,
    );
    await tEnv.executeSql(
      `INSERT INTO WindowTotals
       SELECT window_start, supplier_id, SUM(price)
       FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
       GROUP BY window_start, window_end, supplier_id`,
    );
    const lines = readdirSync(dir)
      .filter((f) => f.startsWith('part-'))
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
    expect(lines.map((l) => JSON.parse(l) as Row).map((r) => cells(r))).toEqual(
      expect.arrayContaining([
        ['2020-04-15 08:00:00', 'supplier1', 6],
        ['2020-04-15 08:00:00', 'supplier2', 5],
        ['2020-04-15 08:10:00', 'supplier1', 1],
        ['2020-04-15 08:10:00', 'supplier2', 9],
      ]),
    );
    expect(lines).toHaveLength(4);
  });
});

// ------------------------------------------------------------------------------------------------
// SQL and DataStream in one job

/** Running total per user over the rows of a SQL query (state in the DataStream API). */
class RunningTotal extends KeyedProcessFunction<string, Row, string> {
  private total!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.total = ctx.getState(new ValueStateDescriptor<number>('total'));
  }
  processElement(row: Row, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const total = (this.total.value() ?? 0) + (row.amount as number);
    this.total.update(total);
    const ts = row.ts;
    out.collect(
      `${ctx.getCurrentKey()} ${total} ${ts instanceof Date ? ts.toISOString().slice(11, 16) : `not a Date: ${String(ts)}`}`,
    );
  }
}

describe.each(BACKENDS)(
  'sqlQuery -> toDataStream -> keyBy -> KeyedProcessFunction (%s)',
  (backend) => {
    it('one job, exact output, TIMESTAMP fields as Date', async () => {
      const { env, tEnv } = environments(backend);
      tEnv.createTemporaryView(
        'Events',
        env.fromElements(
          { user_id: 'u1', amount: 5, ts: t('08:00') },
          { user_id: 'u2', amount: 1, ts: t('08:01') },
          { user_id: 'u1', amount: -3, ts: t('08:02') },
          { user_id: 'u1', amount: 7, ts: t('08:03') },
          { user_id: 'u2', amount: 2, ts: t('08:04') },
        ),
        Schema.newBuilder()
          .column('user_id', 'STRING')
          .column('amount', 'INT')
          .column('ts', 'TIMESTAMP(3)')
          .watermark('ts', "ts - INTERVAL '5' SECOND")
          .build(),
      );
      const positive = tEnv.sqlQuery(
        'SELECT user_id, amount * 10 AS amount, ts FROM Events WHERE amount > 0',
      );
      const out = await tEnv
        .toDataStream(positive)
        .keyBy((row: Row) => row.user_id as string)
        .process(new RunningTotal())
        .executeAndCollect();
      expect(out).toEqual(['u1 50 08:00', 'u2 10 08:01', 'u1 120 08:03', 'u2 30 08:04']);
    });
  },
);

// ------------------------------------------------------------------------------------------------
// EXPLAIN and operator uids

/** A new table environment with the Bid table as a datagen table (nothing runs). */
async function bidCatalog(): Promise<StreamTableEnvironment> {
  const { tEnv } = environments('hashmap');
  await tEnv.executeSql(
    `CREATE TABLE Bid (bidtime TIMESTAMP(3), price DECIMAL(10, 2), item STRING, supplier_id STRING,
       WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND)
     WITH ('connector' = 'datagen', 'number-of-rows' = '10')`,
  );
  return tEnv;
}

/** EXPLAIN of `sql` planned in a new environment. */
async function explainIn(sql: string): Promise<string> {
  return (await bidCatalog()).explainSql(sql);
}

describe('EXPLAIN and uids', () => {
  const windowQuery = `SELECT window_start, window_end, supplier_id, SUM(price) AS price
    FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
    GROUP BY window_start, window_end, supplier_id`;

  it('prints every operator with its uid', async () => {
    const plan = await explainIn(windowQuery);
    const operators = plan.split('\n').filter((l) => /^(\s*\+- )?[A-Z]\w*\(/.test(l));
    expect(operators.length).toBeGreaterThanOrEqual(3);
    for (const line of operators) expect(line).toMatch(/uid=\[[\w$-]+\]/);
    expect(plan).toContain('WindowAggregate(groupBy=[supplier_id]');
    expect(plan).toContain('TableSourceScan(table=[[default_catalog, default_database, Bid]]');
  });

  it('the same statements planned twice in new environments get the same uids', async () => {
    expect(await explainIn(windowQuery)).toEqual(await explainIn(windowQuery));
    const over = `SELECT item, SUM(price) OVER (PARTITION BY item ORDER BY bidtime
      RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW) FROM Bid`;
    expect(await explainIn(over)).toEqual(await explainIn(over));
  });

  it('a changed query changes the uids of the changed operator and those after it', async () => {
    const uids = (plan: string) => [...plan.matchAll(/uid=\[([^\]]+)\]/g)].map((m) => m[1]);
    const a = uids(await explainIn(windowQuery));
    const b = uids(await explainIn(windowQuery.replace("'10' MINUTES", "'5' MINUTES")));
    expect(a).toHaveLength(b.length);
    expect(a[0]).not.toEqual(b[0]); // the top operator
    expect(a[a.length - 1]).toEqual(b[b.length - 1]); // the source scan
    expect(a.filter((u, i) => u !== b[i]).length).toBeGreaterThanOrEqual(2);
  });

  it('EXPLAIN via executeSql', async () => {
    const tEnv = await bidCatalog();
    const result = await tEnv.executeSql(`EXPLAIN ${windowQuery}`);
    expect(String(result.rows[0]![0])).toContain('== Optimized Execution Plan ==');
    expect(String(result.rows[0]![0])).toEqual(tEnv.explainSql(windowQuery));
  });
});

// ------------------------------------------------------------------------------------------------
// Validation errors (Calcite's and Flink's messages, with positions)

describe('validation errors', () => {
  function bidEnv(): StreamTableEnvironment {
    const { env, tEnv } = environments('hashmap');
    registerBid(env, tEnv, DOCS_BIDS);
    return tEnv;
  }

  it('unknown column', () => {
    expect(() => bidEnv().sqlQuery('SELECT item, nope FROM Bid')).toThrow(
      "From line 1, column 14: Column 'nope' not found in any table",
    );
  });

  it('unknown table', () => {
    expect(() => bidEnv().sqlQuery('SELECT *\nFROM Nope')).toThrow(
      /line 2, column 6.*Object 'Nope' not found/,
    );
  });

  it('a temporal join, with or without interval bounds, is refused naming it', () => {
    const tEnv = bidEnv();
    const refused =
      'Temporal and lookup joins (Bid FOR SYSTEM_TIME AS OF ...) are not supported. ' +
      'Enrich a stream from Redis or PostgreSQL with async I/O in the DataStream API';
    expect(() =>
      tEnv.sqlQuery(
        'SELECT a.item FROM Bid AS a JOIN Bid FOR SYSTEM_TIME AS OF a.bidtime AS b ON a.item = b.item',
      ),
    ).toThrow(refused);
    // With bounds on both rowtimes it would otherwise plan as an interval join.
    expect(() =>
      tEnv.sqlQuery(
        'SELECT a.item FROM Bid AS a JOIN Bid FOR SYSTEM_TIME AS OF a.bidtime AS b ' +
          "ON a.item = b.item AND b.bidtime BETWEEN a.bidtime - INTERVAL '1' MINUTE AND a.bidtime",
      ),
    ).toThrow(refused);
  });

  it("'table.exec.state.ttl' is refused unless 0", async () => {
    const tEnv = bidEnv();
    await expect(tEnv.executeSql("SET 'table.exec.state.ttl' = '1 h'")).rejects.toThrow(
      "'table.exec.state.ttl' = '1 h' is not supported: the SQL operators keep their state " +
        'without a time-to-live (the default, 0)',
    );
    expect(() => tEnv.getConfig().set('table.exec.state.ttl', '36000000')).toThrow(
      "'table.exec.state.ttl' = '36000000' is not supported",
    );
    await tEnv.executeSql("SET 'table.exec.state.ttl' = '0 ms'");
    expect(tEnv.getConfig().get('table.exec.state.ttl')).toBe('0 ms');
  });

  it('a column that is not grouped', () => {
    expect(() =>
      bidEnv().sqlQuery('SELECT item, SUM(price) FROM Bid GROUP BY supplier_id'),
    ).toThrow("From line 1, column 8: Expression 'item' is not being grouped");
  });

  it('a HOP aggregation whose size is no multiple of its slide', () => {
    expect(() =>
      bidEnv().sqlQuery(
        `SELECT window_start, SUM(price) FROM TABLE(
           HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '3' MINUTES, INTERVAL '10' MINUTES))
         GROUP BY window_start, window_end`,
      ),
    ).toThrow(
      'HOP table function based aggregate requires size must be an integral multiple of slide, but got size 600000 ms and slide 180000 ms.',
    );
  });

  it('an INSERT with the wrong number of columns', async () => {
    const tEnv = bidEnv();
    await tEnv.executeSql(`CREATE TABLE Sink (item STRING) WITH ('connector' = 'blackhole')`);
    await expect(tEnv.executeSql('INSERT INTO Sink SELECT item, price FROM Bid')).rejects.toThrow(
      "Column types of query result and sink for 'default_catalog.default_database.Sink' do not match.\n" +
        'Cause: Different number of columns.\n\n' +
        'Query schema: [item: STRING, price: DECIMAL(10, 2)]\n' +
        'Sink schema:  [item: STRING]',
    );
  });
});

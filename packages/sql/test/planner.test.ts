import '@nimble/runtime/local';
import { StreamExecutionEnvironment } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { Schema, StreamTableEnvironment } from '@nimble/sql';

const at = (hhmm: string) => Date.parse(`2020-04-15T${hhmm}:00Z`);

/** Flink's Bid table of the window TVF docs, as a table over a DataStream. */
function bids() {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  const stream = env.fromElements(
    { bidtime: at('08:05'), price: 4, item: 'C' },
    { bidtime: at('08:07'), price: 2, item: 'A' },
    { bidtime: at('08:09'), price: 5, item: 'D' },
    { bidtime: at('08:11'), price: 3, item: 'B' },
    { bidtime: at('08:13'), price: 1, item: 'E' },
    { bidtime: at('08:17'), price: 6, item: 'F' },
  );
  const tEnv = StreamTableEnvironment.create(env);
  tEnv.createTemporaryView(
    'Bid',
    stream,
    Schema.newBuilder()
      .column('bidtime', 'TIMESTAMP(3)')
      .column('price', 'DOUBLE')
      .column('item', 'STRING')
      .watermark('bidtime', "bidtime - INTERVAL '1' SECOND")
      .build(),
  );
  return tEnv;
}

const TUMBLE_QUERY = `SELECT window_start, window_end, SUM(price) AS price
  FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
  GROUP BY window_start, window_end`;

describe('planner', () => {
  it('runs a window TVF aggregation through the DataStream window operator', async () => {
    const tEnv = bids();
    const rows = await tEnv.toDataStream(tEnv.sqlQuery(TUMBLE_QUERY)).executeAndCollect();
    expect(rows).toEqual([
      { window_start: new Date(at('08:00')), window_end: new Date(at('08:10')), price: 11 },
      { window_start: new Date(at('08:10')), window_end: new Date(at('08:20')), price: 10 },
    ]);
  });

  // The uids are what a savepoint's state is matched by: a change of these values makes
  // savepoints of SQL jobs written by earlier versions unrestorable, so they are pinned.
  it('gives operators the uids of earlier versions', () => {
    const plan = bids().explainSql(TUMBLE_QUERY);
    expect(plan.match(/uid=\[[^\]]+\]/g)).toEqual([
      'uid=[calc-d92290a7b4003111]',
      'uid=[window-aggregate-db78fc4571bcc8e2]',
      'uid=[watermark-assigner-d330ba4795d29772]',
      'uid=[datastream-scan-16b515e8abb1979e]',
    ]);
  });
});

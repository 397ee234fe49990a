import '@nimble/runtime/local';
import { StreamExecutionEnvironment } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { Schema, StreamTableEnvironment } from '@nimble/sql';

describe('smoke', () => {
  it('tumble over a DataStream table', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const t = (s: string) => Date.parse(`2020-04-15T${s}:00Z`);
    const bids = env.fromElements(
      { bidtime: t('08:05'), price: 4, item: 'C' },
      { bidtime: t('08:07'), price: 2, item: 'A' },
      { bidtime: t('08:09'), price: 5, item: 'D' },
      { bidtime: t('08:11'), price: 3, item: 'B' },
      { bidtime: t('08:13'), price: 1, item: 'E' },
      { bidtime: t('08:17'), price: 6, item: 'F' },
    );
    const tEnv = StreamTableEnvironment.create(env);
    tEnv.createTemporaryView(
      'Bid',
      bids,
      Schema.newBuilder()
        .column('bidtime', 'TIMESTAMP(3)')
        .column('price', 'DOUBLE')
        .column('item', 'STRING')
        .watermark('bidtime', "bidtime - INTERVAL '1' SECOND")
        .build(),
    );
    const table = tEnv.sqlQuery(
      `SELECT window_start, window_end, SUM(price) AS price FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) GROUP BY window_start, window_end`,
    );
    console.log(table.explain());
    const rows = await tEnv.toDataStream(table).executeAndCollect();
    console.log(rows);
    expect(rows.length).toBe(2);
  });
});

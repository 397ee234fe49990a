import '@nimble/runtime/local';
import { StreamExecutionEnvironment } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { Schema, StreamTableEnvironment, Tumble } from '@nimble/sql';

const at = (hhmm: string) => Date.parse(`2020-04-15T${hhmm}:00Z`);

/** Purchases as a table over a DataStream, with a watermark on `ts`. */
function purchases() {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  const stream = env.fromElements(
    { user: 'a', amount: 4, ts: at('08:01') },
    { user: 'b', amount: 2, ts: at('08:02') },
    { user: 'a', amount: 5, ts: at('08:04') },
    { user: 'b', amount: 30, ts: at('08:06') },
    { user: 'a', amount: 1, ts: at('08:07') },
  );
  const tEnv = StreamTableEnvironment.create(env);
  const table = tEnv.fromDataStream(
    stream,
    Schema.newBuilder()
      .column('user', 'STRING')
      .column('amount', 'INT')
      .column('ts', 'TIMESTAMP(3)')
      .watermark('ts', "ts - INTERVAL '1' SECOND")
      .build(),
  );
  return { tEnv, table };
}

describe('the Table API', () => {
  it('filters and projects with SQL expressions', async () => {
    const { tEnv, table } = purchases();
    const t = table.where('amount > 2').select('UPPER(user) AS u, amount * 10 AS tenfold');
    expect(t.getResolvedSchema().map((c) => c.name)).toEqual(['u', 'tenfold']);
    expect(await tEnv.toDataStream(t).executeAndCollect()).toEqual([
      { u: 'A', tenfold: 40 },
      { u: 'A', tenfold: 50 },
      { u: 'B', tenfold: 300 },
    ]);
  });

  it('aggregates per group as an updating table', async () => {
    const { tEnv, table } = purchases();
    const t = table.groupBy('user').select('user, SUM(amount) AS total');
    const changes = await tEnv.toChangelogStream(t).executeAndCollect();
    expect(changes.map((c) => `${c.kind}[${String(c.row.user)}, ${String(c.row.total)}]`)).toEqual([
      '+I[a, 4]',
      '+I[b, 2]',
      '-U[a, 4]',
      '+U[a, 9]',
      '-U[b, 2]',
      '+U[b, 32]',
      '-U[a, 9]',
      '+U[a, 10]',
    ]);
  });

  it('aggregates tumbling windows of a group window', async () => {
    const { tEnv, table } = purchases();
    const t = table
      .window(Tumble.over("INTERVAL '5' MINUTE").on('ts').as('w'))
      .groupBy('w, user')
      .select('user, w.start AS window_start, w.end AS window_end, SUM(amount) AS total');
    const rows = await tEnv.toDataStream(t).executeAndCollect();
    const text = rows
      .map(
        (r) =>
          `${String(r.user)} ${(r.window_start as Date).toISOString().slice(11, 16)} ${String(r.total)}`,
      )
      .sort();
    expect(text).toEqual(['a 08:00 9', 'a 08:05 1', 'b 08:00 2', 'b 08:05 30']);
  });

  it('runs a bounded query with executeSql and reads a view made with createTemporaryView', async () => {
    const { tEnv, table } = purchases();
    tEnv.createTemporaryView('big', table.where('amount >= 5'));
    const result = await tEnv.executeSql('SELECT user, amount FROM big');
    expect(result.rows).toEqual([
      ['a', 5],
      ['b', 30],
    ]);
    expect((await tEnv.executeSql('SHOW VIEWS')).rows).toEqual([['big']]);
    const times = await tEnv.executeSql('SELECT ts FROM big');
    expect(times.toString()).toContain('| 2020-04-15 08:04:00.000 |');
  });
});

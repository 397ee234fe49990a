import { describe, expect, it } from 'vitest';
import {
  compileDml,
  compileSql,
  isTransient,
  JdbcConnectionOptions,
  JdbcDmlOptions,
  JdbcExactlyOnceOptions,
  JdbcExecutionOptions,
  parseUrl,
} from '../src/index.js';

const op = (params: unknown[], del = false) => ({ delete: del, params, element: params });

describe('statements', () => {
  const dml = JdbcDmlOptions.builder()
    .withTableName('public.features')
    .withFieldNames('user_id', 'spend', 'n')
    .withKeyFields('user_id')
    .build();

  it('upserts rows in one multi-row INSERT ... ON CONFLICT DO UPDATE', () => {
    const s = compileDml(dml);
    expect(s.statements([op(['a', 1, 2]), op(['b', 3, 4])])).toEqual([
      {
        text: 'INSERT INTO "public"."features" ("user_id", "spend", "n") VALUES ($1,$2,$3),($4,$5,$6) ON CONFLICT ("user_id") DO UPDATE SET "spend"=EXCLUDED."spend", "n"=EXCLUDED."n"',
        values: ['a', 1, 2, 'b', 3, 4],
      },
    ]);
  });

  it('deletes by key and keeps upserts and deletes in order', () => {
    const s = compileDml(dml);
    const out = s.statements([op(['a', 1, 2]), op(['b', 0, 0], true), op(['c', 1, 1])]);
    expect(out.map((x) => x.text.split(' ')[0])).toEqual(['INSERT', 'DELETE', 'INSERT']);
    expect(out[1]).toEqual({
      text: 'DELETE FROM "public"."features" WHERE ("user_id") IN (($1))',
      values: ['b'],
    });
  });

  it('splits a batch that exceeds the 65535 parameters of a statement', () => {
    const s = compileDml(dml);
    const ops = Array.from({ length: 30_000 }, (_, i) => op([`u${i}`, i, i]));
    const out = s.statements(ops);
    expect(out.map((x) => x.values.length)).toEqual([65535, 90000 - 65535]);
  });

  it("rewrites the user's INSERT into a multi-row one and knows its conflict key", () => {
    const s = compileSql(
      'INSERT INTO t (id, v) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v',
    );
    expect(s.keyOf!(['x', 1])).toBe('x');
    expect(s.statements([op([1, 'a']), op([2, 'b'])])).toEqual([
      {
        text: 'INSERT INTO t (id, v) VALUES ($1,$2),($3,$4) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v',
        values: [1, 'a', 2, 'b'],
      },
    ]);
  });

  it('runs other statements once per row', () => {
    const s = compileSql('UPDATE t SET v = $2 WHERE id = $1');
    expect(s.table).toBe('t');
    expect(s.statements([op([1, 'a']), op([2, 'b'])])).toEqual([
      { text: 'UPDATE t SET v = $2 WHERE id = $1', values: [1, 'a'] },
      { text: 'UPDATE t SET v = $2 WHERE id = $1', values: [2, 'b'] },
    ]);
  });

  it('rejects a key field that is not a field', () => {
    expect(() =>
      JdbcDmlOptions.builder().withTableName('t').withFieldNames('a').withKeyFields('b').build(),
    ).toThrow("key field 'b' is not one of the fields [a]");
  });
});

describe('options', () => {
  it('parses JDBC and libpq URLs', () => {
    expect(parseUrl('jdbc:postgresql://db.local:5433/features')).toEqual({
      host: 'db.local',
      port: 5433,
      database: 'features',
      username: undefined,
      password: undefined,
    });
    expect(parseUrl('postgres://u:p%40ss@127.0.0.1/db?x=1')).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      username: 'u',
      password: 'p@ss',
    });
    expect(() => parseUrl('jdbc:mysql://h/db')).toThrow('is not a PostgreSQL URL');
    expect(() => parseUrl('jdbc:postgresql://h:5432/')).toThrow('names no database');
  });

  it("names the server as host:port/db and takes the builder's credentials", () => {
    const o = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
      .withUrl('jdbc:postgresql://h:6000/d')
      .withUsername('me')
      .withPassword('secret')
      .build();
    expect(o.server).toBe('h:6000/d');
    expect(o.clientConfig()).toMatchObject({ user: 'me', password: 'secret', port: 6000 });
  });

  it("has Flink's execution defaults", () => {
    expect(JdbcExecutionOptions.defaults()).toEqual(new JdbcExecutionOptions(5000, 0, 3));
    expect(() => JdbcExactlyOnceOptions.builder().build()).toThrow('withTransactionIdPrefix');
    expect(() => JdbcExactlyOnceOptions.builder().withTransactionIdPrefix("a'b")).toThrow();
  });

  it('retries lost connections and serialization failures, not data errors', () => {
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: '40001' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
    expect(isTransient(Object.assign(new Error('x'), { code: '28P01' }))).toBe(false);
  });
});

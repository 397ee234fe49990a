import { deserialize, serialize } from 'node:v8';

import { describe, expect, test } from 'vitest';

import { TableError, ValidationError } from '../src/errors.js';
import type { CallExpr, Expr } from '../src/parser/ast.js';
import { parseExpression } from '../src/parser/parser.js';
import { compileAggregates } from '../src/planner/aggregates.js';
import type { AggregateCall, CompiledAggregates } from '../src/planner/aggregates.js';
import { Scope } from '../src/planner/scope.js';
import type { Row } from '../src/row.js';
import { formatType } from '../src/types.js';

const scope = new Scope([
  { name: 'a', key: 'a', type: { name: 'INT', nullable: true } },
  { name: 's', key: 's', type: { name: 'VARCHAR', length: 2147483647, nullable: true } },
  { name: 'd', key: 'd', type: { name: 'DOUBLE', nullable: true } },
  { name: 'dec', key: 'dec', type: { name: 'DECIMAL', precision: 10, scale: 2, nullable: true } },
  {
    name: 'ts',
    key: 'ts',
    type: { name: 'TIMESTAMP', precision: 3, nullable: false, timeAttribute: 'ROWTIME' },
  },
]);

const pos = { line: 1, column: 1, offset: 0 };

/** An aggregate call from SQL text, with an optional FILTER (WHERE ...) condition. */
function call(sql: string, filter?: string): AggregateCall {
  const c = parseExpression(sql) as CallExpr;
  const f: Expr | undefined = filter ? parseExpression(filter) : c.filter;
  return { name: c.name, distinct: c.distinct, args: c.args, filter: f, pos };
}

const ROWS: Row[] = [
  { a: 1, s: 'x', d: 1.5, dec: 1.1, ts: 1000 },
  { a: null, s: 'y', d: null, dec: null, ts: 2000 },
  { a: 4, s: 'x', d: 2.0, dec: 2.2, ts: 3000 },
  { a: 2, s: null, d: 0.25, dec: 0.3, ts: 4000 },
];

function run(aggs: CompiledAggregates, rows: readonly Row[]): unknown[] {
  const accs = aggs.createAccumulators();
  for (const r of rows) aggs.accumulate(accs, r);
  return accs;
}

const ALL = [
  'SUM(a)',
  'COUNT(*)',
  'COUNT(a)',
  'COUNT(DISTINCT s)',
  'AVG(a)',
  'MIN(a)',
  'MAX(a)',
  'FIRST_VALUE(s)',
  'LAST_VALUE(s)',
  'AVG(d)',
  'SUM(dec)',
  'MAX(ts)',
  'LISTAGG(s)',
  'SUM(DISTINCT a)',
];

describe('aggregates', () => {
  test('result types follow Flink', () => {
    const aggs = compileAggregates(
      [...ALL.map((c) => call(c)), call('AVG(dec)'), call('MIN(s)')],
      scope,
    );
    expect(aggs.resultTypes.map(formatType)).toEqual([
      'INT',
      'BIGINT NOT NULL',
      'BIGINT NOT NULL',
      'BIGINT NOT NULL',
      'INT',
      'INT',
      'INT',
      'STRING',
      'STRING',
      'DOUBLE',
      'DECIMAL(38, 2)',
      'TIMESTAMP(3)',
      'STRING',
      'INT',
      'DECIMAL(38, 6)',
      'STRING',
    ]);
  });

  test('values over rows with NULLs', () => {
    const aggs = compileAggregates(
      ALL.map((c) => call(c)),
      scope,
    );
    const accs = run(aggs, ROWS);
    expect(aggs.getValues(accs)).toEqual([
      7,
      4,
      3,
      2,
      2,
      1,
      4,
      'x',
      'x',
      1.25,
      3.6,
      4000,
      'x,y,x',
      7,
    ]);
  });

  test('empty input gives NULL except for COUNT', () => {
    const aggs = compileAggregates(
      ALL.map((c) => call(c)),
      scope,
    );
    expect(aggs.getValues(aggs.createAccumulators())).toEqual([
      null,
      0,
      0,
      0,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  test('AVG of INT truncates toward zero like Java', () => {
    const aggs = compileAggregates([call('AVG(a)')], scope);
    expect(aggs.getValues(run(aggs, [{ a: 1 }, { a: 2 }]))).toEqual([1]);
    expect(aggs.getValues(run(aggs, [{ a: -1 }, { a: -2 }]))).toEqual([-1]);
    expect(aggs.getValues(run(aggs, [{ a: 7 }, { a: 0 }, { a: 0 }]))).toEqual([2]);
  });

  test('SUM of INT overflows like Java int', () => {
    const aggs = compileAggregates([call('SUM(a)')], scope);
    expect(aggs.getValues(run(aggs, [{ a: 2147483647 }, { a: 1 }]))).toEqual([-2147483648]);
  });

  test('FILTER (WHERE ...) and COUNT(DISTINCT)', () => {
    const aggs = compileAggregates(
      [
        call('SUM(a)', "s = 'x'"),
        call('COUNT(*)', 'a > 1'),
        call('COUNT(DISTINCT a)'),
        call('COUNT(DISTINCT s)', 'a > 1'),
      ],
      scope,
    );
    const rows = [...ROWS, { a: 4, s: 'z' }];
    expect(aggs.getValues(run(aggs, rows))).toEqual([5, 3, 3, 2]);
  });

  test('retract takes rows back out', () => {
    const aggs = compileAggregates(
      ALL.map((c) => call(c)),
      scope,
      { retractable: true },
    );
    expect(aggs.retractable).toBe(true);
    const accs = run(aggs, ROWS);
    aggs.retract(accs, ROWS[2]!); // a = 4, s = 'x'
    expect(aggs.getValues(accs)).toEqual([
      3,
      3,
      2,
      2,
      1,
      1,
      2,
      'x',
      'y',
      0.875,
      1.4,
      4000,
      'x,y',
      3,
    ]);
    aggs.retract(accs, ROWS[0]!);
    expect(aggs.getValues(accs)).toEqual([2, 2, 1, 1, 2, 2, 2, 'y', 'y', 0.25, 0.3, 4000, 'y', 2]);
    aggs.retract(accs, ROWS[1]!);
    aggs.retract(accs, ROWS[3]!);
    expect(aggs.getValues(accs)).toEqual([
      null,
      0,
      0,
      0,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  test('retract of MIN/MAX keeps duplicates', () => {
    const aggs = compileAggregates([call('MAX(a)'), call('MIN(a)')], scope, { retractable: true });
    const accs = run(aggs, [{ a: 5 }, { a: 5 }, { a: 1 }, { a: 3 }]);
    aggs.retract(accs, { a: 5 });
    expect(aggs.getValues(accs)).toEqual([5, 1]);
    aggs.retract(accs, { a: 5 });
    aggs.retract(accs, { a: 1 });
    expect(aggs.getValues(accs)).toEqual([3, 3]);
  });

  test('retract without retraction support fails', () => {
    const aggs = compileAggregates([call('MAX(a)')], scope);
    expect(aggs.retractable).toBe(false);
    const accs = run(aggs, ROWS);
    expect(() => aggs.retract(accs, ROWS[0]!)).toThrow(TableError);
  });

  test.each([false, true])(
    'merge gives the same values as one pass (retractable %s)',
    (retractable) => {
      const aggs = compileAggregates(
        ALL.map((c) => call(c)),
        scope,
        { retractable },
      );
      const whole = aggs.getValues(run(aggs, ROWS));
      const left = run(aggs, ROWS.slice(0, 2));
      const right = run(aggs, ROWS.slice(2));
      aggs.merge(left, right);
      expect(aggs.getValues(left)).toEqual(whole);
      // Merging an empty accumulator changes nothing.
      aggs.merge(left, aggs.createAccumulators());
      expect(aggs.getValues(left)).toEqual(whole);
    },
  );

  test('accumulators survive a v8 serialize round trip', () => {
    const aggs = compileAggregates(
      ALL.map((c) => call(c)),
      scope,
      { retractable: true },
    );
    const accs = deserialize(serialize(run(aggs, ROWS.slice(0, 3)))) as unknown[];
    aggs.accumulate(accs, ROWS[3]!);
    expect(aggs.getValues(accs)).toEqual(aggs.getValues(run(aggs, ROWS)));
    const plain = deserialize(
      serialize(run(compileAggregates([call('COUNT(*)'), call('SUM(a)')], scope), ROWS)),
    );
    expect(plain).toEqual([4, 7]);
  });

  test('type errors', () => {
    expect(() => compileAggregates([call('SUM(s)')], scope)).toThrow(
      "Cannot apply 'SUM' to arguments of type 'SUM(<VARCHAR(2147483647)>)'. Supported form(s): 'SUM(<NUMERIC>)'",
    );
    expect(() => compileAggregates([call('AVG(a, a)')], scope)).toThrow(ValidationError);
    expect(() => compileAggregates([call('SUM(nope)')], scope)).toThrow("Column 'nope' not found");
  });

  test('LISTAGG with a separator', () => {
    const aggs = compileAggregates([call("LISTAGG(s, '|')")], scope);
    expect(aggs.getValues(run(aggs, ROWS))).toEqual(['x|y|x']);
  });
});

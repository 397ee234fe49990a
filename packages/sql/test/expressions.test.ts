import { describe, expect, test } from 'vitest';

import { ValidationError } from '../src/errors.js';
import type { Expr, IntervalExpr } from '../src/parser/ast.js';
import { parseExpression } from '../src/parser/parser.js';
import {
  collectAggregateCalls,
  compileExpr,
  compilePredicate,
  compileProjection,
  containsOver,
  inferType,
  intervalMillis,
  intervalMonths,
  isAggregateCall,
  isConstant,
  literalValue,
} from '../src/planner/expressions.js';
import type { EvalContext } from '../src/planner/expressions.js';
import { Scope } from '../src/planner/scope.js';
import { formatType } from '../src/types.js';
import type { SqlType } from '../src/types.js';

const STRING: SqlType = { name: 'VARCHAR', length: 2147483647, nullable: true };

const scope = new Scope([
  { qualifier: 't', name: 'a', key: 'a', type: { name: 'INT', nullable: true } },
  { qualifier: 't', name: 'b', key: 'b', type: { name: 'INT', nullable: false } },
  { qualifier: 't', name: 'bi', key: 'bi', type: { name: 'BIGINT', nullable: true } },
  { qualifier: 't', name: 'd', key: 'd', type: { name: 'DOUBLE', nullable: true } },
  {
    qualifier: 't',
    name: 'dec',
    key: 'dec',
    type: { name: 'DECIMAL', precision: 10, scale: 2, nullable: true },
  },
  { qualifier: 't', name: 's', key: 's_key', type: STRING },
  { qualifier: 't', name: 'flag', key: 'flag', type: { name: 'BOOLEAN', nullable: true } },
  {
    qualifier: 't',
    name: 'ts',
    key: 'ts',
    type: { name: 'TIMESTAMP', precision: 3, nullable: false, timeAttribute: 'ROWTIME' },
  },
  {
    qualifier: 't',
    name: 'arr',
    key: 'arr',
    type: { name: 'ARRAY', element: { name: 'INT', nullable: true }, nullable: true },
  },
  {
    qualifier: 't',
    name: 'm',
    key: 'm',
    type: { name: 'MAP', key: STRING, value: { name: 'INT', nullable: true }, nullable: true },
  },
  {
    qualifier: 't',
    name: 'r',
    key: 'r',
    type: {
      name: 'ROW',
      fields: [
        { name: 'x', type: { name: 'INT', nullable: true } },
        { name: 'y', type: STRING },
      ],
      nullable: true,
    },
  },
]);

let watermark: number | undefined;
const ctx: EvalContext = {
  currentWatermark: () => watermark,
  currentProcessingTime: () => 1_700_000_000_000,
};

const TS = Date.UTC(2024, 2, 5, 7, 8, 9, 45); // 2024-03-05 07:08:09.045, a Tuesday

function ev(sql: string, row: Record<string, unknown> = {}): unknown {
  return compileExpr(parseExpression(sql), scope).fn({ b: 0, ts: TS, ...row }, ctx);
}

function ty(sql: string): string {
  return formatType(inferType(parseExpression(sql), scope));
}

function fails(sql: string): string {
  try {
    compileExpr(parseExpression(sql), scope);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error(`expected ${sql} to fail validation`);
}

describe('type inference', () => {
  test.each([
    ['1', 'INT NOT NULL'],
    ['10000000000', 'BIGINT NOT NULL'],
    ['1.5', 'DECIMAL(2, 1) NOT NULL'],
    ['0.25', 'DECIMAL(2, 2) NOT NULL'],
    ['1.5E0', 'DOUBLE NOT NULL'],
    ["'abc'", 'CHAR(3) NOT NULL'],
    ['TRUE', 'BOOLEAN NOT NULL'],
    ["TIMESTAMP '2024-01-01 00:00:00'", 'TIMESTAMP(0) NOT NULL'],
    ["TIMESTAMP '2024-01-01 00:00:00.123'", 'TIMESTAMP(3) NOT NULL'],
    ["INTERVAL '5' MINUTE", 'INTERVAL SECOND(3) NOT NULL'],
    ["INTERVAL '1' YEAR", 'INTERVAL MONTH NOT NULL'],
    ['a + 1', 'INT'],
    ['b + 1', 'INT NOT NULL'],
    ['a + bi', 'BIGINT'],
    ['a / b', 'INT'],
    ['a + d', 'DOUBLE'],
    ['1.5 + 1', 'DECIMAL(12, 1) NOT NULL'],
    ['dec * dec', 'DECIMAL(21, 4)'],
    ['dec / 3', 'DECIMAL(21, 13)'],
    ['a = 1', 'BOOLEAN'],
    ['b = 1', 'BOOLEAN NOT NULL'],
    ["s || 'x'", 'STRING'],
    ["'ab' || 'c'", 'CHAR(3) NOT NULL'],
    ["CASE WHEN b > 1 THEN 'x' ELSE 'yy' END", 'VARCHAR(2) NOT NULL'],
    ["CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", 'CHAR(3)'],
    ['CASE WHEN b > 1 THEN 1 ELSE 2.5 END', 'DECIMAL(11, 1) NOT NULL'],
    ['CAST(a AS STRING)', 'STRING'],
    ['TRY_CAST(b AS STRING)', 'STRING'],
    ['ts', 'TIMESTAMP(3) NOT NULL *ROWTIME*'],
    ["ts + INTERVAL '1' HOUR", 'TIMESTAMP(3) NOT NULL'],
    ['COALESCE(a, 5)', 'INT NOT NULL'],
    ['a IS NULL', 'BOOLEAN NOT NULL'],
    ['UPPER(s)', 'STRING'],
    ['CHAR_LENGTH(s)', 'INT'],
    ['TO_TIMESTAMP_LTZ(1700000000000, 3)', 'TIMESTAMP_LTZ(3) NOT NULL'],
    ["TO_TIMESTAMP('2024-01-01 00:00:00')", 'TIMESTAMP(3)'],
    ['CURRENT_TIMESTAMP', 'TIMESTAMP_LTZ(3) NOT NULL'],
    ['PROCTIME()', 'TIMESTAMP_LTZ(3) NOT NULL *PROCTIME*'],
    ['CURRENT_WATERMARK(ts)', 'TIMESTAMP(3)'],
    ['EXTRACT(HOUR FROM ts)', 'BIGINT NOT NULL'],
    ['arr[1]', 'INT'],
    ["m['k']", 'INT'],
    ['r.y', 'STRING'],
    ['ROW(1, s)', 'ROW<`EXPR$0` INT NOT NULL, `EXPR$1` STRING> NOT NULL'],
    ['ARRAY[1, 2]', 'ARRAY<INT NOT NULL> NOT NULL'],
  ])('%s is %s', (sql, type) => {
    expect(ty(sql)).toBe(type);
  });

  test('type errors use Calcite wording with the position', () => {
    expect(fails("'a' + 1")).toBe(
      "From line 1, column 1: Cannot apply '+' to arguments of type '<CHAR(1)> + <INTEGER>'. Supported form(s): " +
        "'<NUMERIC> + <NUMERIC>'\n'<DATETIME_INTERVAL> + <DATETIME_INTERVAL>'\n'<DATETIME> + <DATETIME_INTERVAL>'\n" +
        "'<DATETIME_INTERVAL> + <DATETIME>'",
    );
    expect(fails('FOO(1)')).toBe(
      'From line 1, column 1: No match found for function signature FOO(<NUMERIC>)',
    );
    expect(fails("FOO(s, 'x', ts)")).toContain('FOO(<CHARACTER>, <CHARACTER>, <TIMESTAMP>)');
    expect(fails('UPPER(1)')).toContain(
      "Cannot apply 'UPPER' to arguments of type 'UPPER(<INTEGER>)'. Supported form(s): 'UPPER(<STRING>)'",
    );
    expect(fails('UPPER(s, s)')).toContain(
      "Invalid number of arguments to function 'UPPER'. Was expecting 1 arguments",
    );
    expect(fails('a = s')).toContain(
      "Cannot apply '=' to arguments of type '<INTEGER> = <VARCHAR(2147483647)>'",
    );
    expect(fails('a AND flag')).toContain("Cannot apply 'AND'");
    expect(fails('CAST(a AS TIMESTAMP(3))')).toContain(
      'Cast function cannot convert value of type INTEGER to type TIMESTAMP(3)',
    );
    expect(fails('nope + 1')).toContain("Column 'nope' not found in any table");
    expect(fails('SUM(a)')).toContain('Aggregate function SUM is not allowed');
  });
});

describe('operators', () => {
  test('arithmetic with NULLs and Java integer semantics', () => {
    expect(ev('a + 1', { a: null })).toBeNull();
    expect(ev('a + 1', { a: 2 })).toBe(3);
    expect(ev('a * NULL', { a: 2 })).toBeNull();
    expect(ev('7 / 2')).toBe(3);
    expect(ev('-7 / 2')).toBe(-3);
    expect(ev('7 % -3')).toBe(1);
    expect(ev('-7 % 3')).toBe(-1);
    expect(ev('MOD(7, 3)')).toBe(1);
    expect(ev('2147483647 + b', { b: 1 })).toBe(-2147483648);
    expect(ev('7 / 2.0')).toBe(3.5);
    expect(ev('7.0E0 / 2')).toBe(3.5);
    expect(ev('0.1 + 0.2')).toBe(0.3);
    expect(ev('dec / 3', { dec: 10 })).toBe(3.3333333333333);
    expect(ev('-a', { a: 5 })).toBe(-5);
    expect(ev('1.5 + 1')).toBe(2.5);
  });

  test('integer division by zero fails naming the expression', () => {
    expect(() => ev('a / b', { a: 1, b: 0 })).toThrow("Division by zero in 'a / b'");
    expect(() => ev('a % b', { a: 1, b: 0 })).toThrow("Division by zero in 'a % b'");
    expect(ev('d / 0', { d: 1 })).toBe(Infinity);
  });

  test('comparisons', () => {
    expect(ev('a < 2', { a: 1 })).toBe(true);
    expect(ev('a <> 1', { a: 1 })).toBe(false);
    expect(ev('a = 1', { a: null })).toBeNull();
    expect(ev("s >= 'b'", { s_key: 'c' })).toBe(true);
    expect(ev("ts > TIMESTAMP '2024-01-01 00:00:00'")).toBe(true);
    expect(ev('a = 1.0', { a: 1 })).toBe(true);
    expect(ev('ARRAY[1, 2] = ARRAY[1, 2]')).toBe(true);
  });

  test('AND, OR, NOT use three-valued logic', () => {
    const row = { flag: null };
    expect(ev('flag AND FALSE', row)).toBe(false);
    expect(ev('flag AND TRUE', row)).toBeNull();
    expect(ev('flag OR TRUE', row)).toBe(true);
    expect(ev('flag OR FALSE', row)).toBeNull();
    expect(ev('NOT flag', row)).toBeNull();
    expect(ev('NOT flag', { flag: false })).toBe(true);
    // The right side is not evaluated when the left decides.
    expect(ev('b <> 0 AND 10 / b > 1', { b: 0 })).toBe(false);
  });

  test('a predicate treats NULL as false', () => {
    const p = compilePredicate(parseExpression('a > 1'), scope);
    expect(p.fn({ a: null }, ctx)).toBe(false);
    expect(p.fn({ a: 2 }, ctx)).toBe(true);
    expect(() => compilePredicate(parseExpression('a + 1'), scope)).toThrow(ValidationError);
  });

  test('IS, BETWEEN, IN', () => {
    expect(ev('flag IS NULL', { flag: null })).toBe(true);
    expect(ev('flag IS NOT TRUE', { flag: null })).toBe(true);
    expect(ev('flag IS FALSE', { flag: false })).toBe(true);
    expect(ev('flag IS UNKNOWN', { flag: true })).toBe(false);
    expect(ev('a BETWEEN 1 AND 3', { a: 3 })).toBe(true);
    expect(ev('a NOT BETWEEN 1 AND 3', { a: 4 })).toBe(true);
    expect(ev('5 BETWEEN 10 AND 1')).toBe(false);
    expect(ev('5 BETWEEN SYMMETRIC 10 AND 1')).toBe(true);
    expect(ev('a BETWEEN 1 AND 3', { a: null })).toBeNull();
    expect(ev('a IN (1, 2)', { a: 2 })).toBe(true);
    expect(ev('a IN (1, 2)', { a: 3 })).toBe(false);
    expect(ev('a IN (1, 2, NULL)', { a: 3 })).toBeNull();
    expect(ev('a NOT IN (1, 2)', { a: 3 })).toBe(true);
    expect(ev('a IN (1, 2)', { a: null })).toBeNull();
    expect(ev('a IN (b, 7)', { a: 7, b: 1 })).toBe(true);
    expect(ev("s IN ('x', 'y')", { s_key: 'y' })).toBe(true);
  });

  test('CASE in both forms, COALESCE, NULLIF, IF', () => {
    expect(ev("CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END", { a: 1 })).toBe(
      'small',
    );
    expect(ev("CASE WHEN a > 1 THEN 'big' END", { a: 0 })).toBeNull();
    expect(ev("CASE WHEN a > 1 THEN 'big' ELSE 'none' END", { a: null })).toBe('none');
    expect(ev("CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END", { a: 2 })).toBe('two');
    expect(ev("CASE a WHEN 1 THEN 'one' ELSE 'other' END", { a: null })).toBe('other');
    expect(ev('COALESCE(a, bi, 5)', { a: null, bi: null })).toBe(5);
    expect(ev('COALESCE(a, 5)', { a: 3 })).toBe(3);
    expect(ev('NULLIF(a, 1)', { a: 1 })).toBeNull();
    expect(ev('NULLIF(a, 1)', { a: 2 })).toBe(2);
    expect(ev("IF(a > 1, 'x', 'y')", { a: 2 })).toBe('x');
    expect(ev("IF(a > 1, 'x', 'y')", { a: null })).toBe('y');
  });

  test('LIKE with wildcards and ESCAPE', () => {
    expect(ev("s LIKE 'a%'", { s_key: 'abc' })).toBe(true);
    expect(ev("s LIKE 'a_c'", { s_key: 'abc' })).toBe(true);
    expect(ev("s LIKE 'a_c'", { s_key: 'abbc' })).toBe(false);
    expect(ev("s LIKE '%b'", { s_key: 'abc' })).toBe(false);
    expect(ev("s LIKE 'a.c'", { s_key: 'abc' })).toBe(false);
    expect(ev("s LIKE '100!%' ESCAPE '!'", { s_key: '100%' })).toBe(true);
    expect(ev("s LIKE '100!%' ESCAPE '!'", { s_key: '1000' })).toBe(false);
    expect(ev("s LIKE 'a!_%' ESCAPE '!'", { s_key: 'a_x' })).toBe(true);
    expect(ev("s LIKE 'a!_%' ESCAPE '!'", { s_key: 'abx' })).toBe(false);
    expect(ev("s NOT LIKE 'a%'", { s_key: 'abc' })).toBe(false);
    expect(ev("s LIKE 'a%'", { s_key: null })).toBeNull();
    expect(ev("s LIKE s || '%'", { s_key: 'ab' })).toBe(true);
    expect(ev("s LIKE '%'", { s_key: 'multi\nline' })).toBe(true);
    expect(fails("s LIKE 'a!x' ESCAPE '!'")).toContain('Invalid escape sequence');
  });

  test('timestamp and interval arithmetic', () => {
    expect(ev("ts + INTERVAL '1' HOUR")).toBe(TS + 3_600_000);
    expect(ev("ts - INTERVAL '1:30' HOUR TO MINUTE")).toBe(TS - 5_400_000);
    expect(ev("CAST(ts + INTERVAL '1' MONTH AS STRING)")).toBe('2024-04-05 07:08:09.045');
    expect(ev("CAST(TIMESTAMP '2024-01-31 00:00:00' + INTERVAL '1' MONTH AS STRING)")).toBe(
      '2024-02-29 00:00:00',
    );
  });
});

describe('CAST', () => {
  test('between strings, numbers and booleans', () => {
    expect(ev("CAST('42' AS INT)")).toBe(42);
    expect(ev("CAST(' 42 ' AS BIGINT)")).toBe(42);
    expect(ev('CAST(1.7 AS INT)')).toBe(1);
    expect(ev('CAST(-1.7 AS INT)')).toBe(-1);
    expect(ev('CAST(d AS INT)', { d: -2.9 })).toBe(-2);
    expect(ev('CAST(1.255 AS DECIMAL(5, 2))')).toBe(1.26);
    expect(ev('CAST(d AS DECIMAL(5, 1))', { d: 2.25 })).toBe(2.3);
    expect(ev('CAST(d AS DECIMAL(3, 1))', { d: 1234.5 })).toBeNull();
    expect(ev('CAST(true AS STRING)')).toBe('TRUE');
    expect(ev('CAST(1.5E0 AS STRING)')).toBe('1.5');
    expect(ev('CAST(1E0 AS STRING)')).toBe('1.0');
    expect(ev('CAST(d AS STRING)', { d: 1.5e10 })).toBe('1.5E10');
    expect(ev('CAST(dec AS STRING)', { dec: 1.5 })).toBe('1.50');
    expect(ev('CAST(a AS STRING)', { a: 7 })).toBe('7');
    expect(ev("CAST('yes' AS BOOLEAN)")).toBe(true);
    expect(ev("CAST('abcdef' AS VARCHAR(3))")).toBe('abc');
    expect(ev("CAST('ab' AS CHAR(4))")).toBe('ab  ');
    expect(ev('CAST(a AS DOUBLE)', { a: null })).toBeNull();
  });

  test('a failing CAST names the value; TRY_CAST gives NULL', () => {
    expect(() => ev("CAST('abc' AS INT)")).toThrow(
      /Cannot cast 'abc' of type CHAR\(3\) NOT NULL to INT.*TRY_CAST/,
    );
    expect(() => ev('CAST(s AS INT)', { s_key: 'x1' })).toThrow("Cannot cast 'x1'");
    expect(ev("TRY_CAST('abc' AS INT)")).toBeNull();
    expect(ev('TRY_CAST(s AS DOUBLE)', { s_key: '1.5' })).toBe(1.5);
    expect(ev("TRY_CAST('2024-13-01' AS TIMESTAMP(3))")).toBeNull();
    expect(() => ev("CAST('99999999999' AS INT)")).toThrow('Cannot cast');
  });

  test('timestamps and dates', () => {
    expect(ev("CAST('2024-01-01 12:00:00' AS TIMESTAMP(3))")).toBe(Date.UTC(2024, 0, 1, 12));
    expect(ev("CAST('2024-01-01T12:00:00.123' AS TIMESTAMP(3))")).toBe(
      Date.UTC(2024, 0, 1, 12, 0, 0, 123),
    );
    expect(ev("CAST('2024-01-01 12:00:00.999' AS TIMESTAMP(0))")).toBe(Date.UTC(2024, 0, 1, 12));
    expect(ev("CAST(CAST('2024-01-01 12:00:00' AS TIMESTAMP(3)) AS STRING)")).toBe(
      '2024-01-01 12:00:00.000',
    );
    expect(ev("CAST(TIMESTAMP '2024-01-01 12:00:00' AS STRING)")).toBe('2024-01-01 12:00:00');
    expect(ev('CAST(ts AS STRING)')).toBe('2024-03-05 07:08:09.045');
    expect(ev('CAST(ts AS DATE)')).toBe(19787);
    expect(ev("CAST(DATE '2024-03-05' AS STRING)")).toBe('2024-03-05');
    expect(ev("CAST('2024-03-05' AS DATE)")).toBe(19787);
    expect(ev('CAST(ts AS TIMESTAMP_LTZ(3))')).toBe(TS);
    expect(() => ev("CAST('soon' AS TIMESTAMP(3))")).toThrow("Cannot cast 'soon'");
  });
});

describe('functions', () => {
  test('SUBSTRING follows Flink for edge positions', () => {
    expect(ev("SUBSTRING('Hello' FROM 2 FOR 3)")).toBe('ell');
    expect(ev("SUBSTRING('Hello', 2)")).toBe('ello');
    expect(ev("SUBSTRING('Hello', 0, 2)")).toBe('He');
    expect(ev("SUBSTRING('Hello', -3)")).toBe('llo');
    expect(ev("SUBSTRING('Hello', -3, 2)")).toBe('ll');
    expect(ev("SUBSTRING('Hello', -10, 2)")).toBe('');
    expect(ev("SUBSTRING('Hello', 10)")).toBe('');
    expect(ev("SUBSTRING('Hello', 2, 100)")).toBe('ello');
    expect(ev("SUBSTRING('Hello', 2, -1)")).toBeNull();
    expect(ev('SUBSTR(s, 2, 1)', { s_key: null })).toBeNull();
  });

  test('string functions', () => {
    expect(ev("UPPER('abc')")).toBe('ABC');
    expect(ev('LOWER(s)', { s_key: 'AbC' })).toBe('abc');
    expect(ev("INITCAP('hello wORLD-foo')")).toBe('Hello World-Foo');
    expect(ev("CONCAT('a', 'b', 'c')")).toBe('abc');
    expect(ev("CONCAT('a', s)", { s_key: null })).toBeNull();
    expect(ev("CONCAT_WS('-', 'a', s, 'b')", { s_key: null })).toBe('a-b');
    expect(ev("CONCAT_WS(s, 'a', 'b')", { s_key: null })).toBeNull();
    expect(ev("'a' || s", { s_key: 'b' })).toBe('ab');
    expect(ev("CHAR_LENGTH('héllo')")).toBe(5);
    expect(ev("TRIM('  x  ')")).toBe('x');
    expect(ev("TRIM(BOTH 'x' FROM 'xxaxx')")).toBe('a');
    expect(ev("TRIM(LEADING 'x' FROM 'xxaxx')")).toBe('axx');
    expect(ev("LTRIM('  x ')")).toBe('x ');
    expect(ev("RTRIM('  x ')")).toBe('  x');
    expect(ev("REPLACE('a-b-c', '-', '+')")).toBe('a+b+c');
    expect(ev("POSITION('b' IN 'abc')")).toBe(2);
    expect(ev("POSITION('z' IN 'abc')")).toBe(0);
    expect(ev("REGEXP_REPLACE('a1b22', '[0-9]+', '#')")).toBe('a#b#');
    expect(ev("REGEXP_EXTRACT('foo123bar', '([a-z]+)([0-9]+)', 2)")).toBe('123');
    expect(ev("REGEXP_EXTRACT('foo', '([0-9]+)')")).toBeNull();
    expect(ev("SPLIT_INDEX('a,b,c', ',', 1)")).toBe('b');
    expect(ev("SPLIT_INDEX('a,b,c', ',', 5)")).toBeNull();
    expect(ev("LPAD('hi', 5, '*')")).toBe('***hi');
    expect(ev("LPAD('hello', 3, '*')")).toBe('hel');
    expect(ev("RPAD('hi', 5, 'xy')")).toBe('hixyx');
    expect(ev("MD5('abc')")).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(ev("JSON_VALUE(s, '$.a.b[1]')", { s_key: '{"a":{"b":[1,2]}}' })).toBe('2');
    expect(ev("JSON_VALUE(s, '$.a')", { s_key: '{"a":{"b":1}}' })).toBeNull();
    expect(ev("JSON_VALUE(s, '$.x')", { s_key: 'not json' })).toBeNull();
  });

  test('numeric functions', () => {
    expect(ev('ABS(-3)')).toBe(3);
    expect(ev('ROUND(1.255, 2)')).toBe(1.26);
    expect(ev('ROUND(d, 1)', { d: 2.45 })).toBe(2.5);
    expect(ev('ROUND(-2.5E0)')).toBe(-3);
    expect(ev('ROUND(1234, -2)')).toBe(1200);
    expect(ev('FLOOR(-1.5)')).toBe(-2);
    expect(ev('CEIL(1.2)')).toBe(2);
    expect(ev('POWER(2, 10)')).toBe(1024);
    expect(ev('SQRT(16)')).toBe(4);
    expect(ev('LN(1)')).toBe(0);
    expect(ev('LOG10(1000)')).toBeCloseTo(3, 12);
    expect(ev('EXP(0)')).toBe(1);
    expect(ev('ABS(a)', { a: null })).toBeNull();
    expect(ty('ROUND(dec, 1)')).toBe('DECIMAL(10, 1)');
  });

  test('DATE_FORMAT with SimpleDateFormat patterns', () => {
    expect(ev("DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss')")).toBe('2024-03-05 07:08:09');
    expect(ev("DATE_FORMAT(ts, 'yyyyMMdd HH:mm:ss.SSS')")).toBe('20240305 07:08:09.045');
    expect(ev("DATE_FORMAT(ts, 'EEE, dd MMM yyyy hh a')")).toBe('Tue, 05 Mar 2024 07 AM');
    expect(ev("DATE_FORMAT(ts, 'yyyy-MM-dd''T''HH')")).toBe('2024-03-05T07');
    expect(ev("DATE_FORMAT('2024-03-05 07:08:09', 'yyyy/MM/dd')")).toBe('2024/03/05');
    expect(ev("DATE_FORMAT(s, 'yyyy')", { s_key: 'nope' })).toBeNull();
  });

  test('TO_TIMESTAMP_LTZ, TO_TIMESTAMP, FROM_UNIXTIME, UNIX_TIMESTAMP', () => {
    expect(ev('TO_TIMESTAMP_LTZ(1700000000000, 3)')).toBe(1_700_000_000_000);
    expect(ev('TO_TIMESTAMP_LTZ(1700000000, 0)')).toBe(1_700_000_000_000);
    expect(ev('CAST(TO_TIMESTAMP_LTZ(1700000000000, 3) AS STRING)')).toBe(
      '2023-11-14 22:13:20.000',
    );
    expect(fails('TO_TIMESTAMP_LTZ(1, 5)')).toContain("Cannot apply 'TO_TIMESTAMP_LTZ'");
    expect(ev("TO_TIMESTAMP('2024-01-01 10:00:00')")).toBe(Date.UTC(2024, 0, 1, 10));
    expect(ev("TO_TIMESTAMP('01/02/2024', 'MM/dd/yyyy')")).toBe(Date.UTC(2024, 0, 2));
    expect(ev("TO_TIMESTAMP('garbage')")).toBeNull();
    expect(ev('FROM_UNIXTIME(1700000000)')).toBe('2023-11-14 22:13:20');
    expect(ev("FROM_UNIXTIME(0, 'yyyy-MM-dd')")).toBe('1970-01-01');
    expect(ev("UNIX_TIMESTAMP('2023-11-14 22:13:20')")).toBe(1_700_000_000);
    expect(ev("UNIX_TIMESTAMP('2023/11/14', 'yyyy/MM/dd')")).toBe(1_699_920_000);
    expect(ev('UNIX_TIMESTAMP()')).toBe(1_700_000_000);
  });

  test('current time functions read the context', () => {
    expect(ev('CURRENT_TIMESTAMP')).toBe(1_700_000_000_000);
    expect(ev('NOW()')).toBe(1_700_000_000_000);
    expect(ev('LOCALTIMESTAMP')).toBe(1_700_000_000_000);
    expect(ev('CURRENT_DATE')).toBe(19675);
    expect(ev('PROCTIME()')).toBe(1_700_000_000_000);
  });

  test('CURRENT_WATERMARK is NULL before the first watermark', () => {
    const c = compileExpr(parseExpression('CURRENT_WATERMARK(ts)'), scope);
    expect(c.usesWatermark).toBe(true);
    watermark = undefined;
    expect(c.fn({ ts: TS }, ctx)).toBeNull();
    watermark = 1234;
    expect(c.fn({ ts: TS }, ctx)).toBe(1234);
    watermark = undefined;
    const late = compilePredicate(parseExpression('ts < CURRENT_WATERMARK(ts)'), scope);
    expect(late.usesWatermark).toBe(true);
    expect(late.fn({ ts: TS }, ctx)).toBe(false);
    expect(compileExpr(parseExpression('a + 1'), scope).usesWatermark).toBe(false);
  });

  test('EXTRACT and its shorthands', () => {
    expect(ev('EXTRACT(HOUR FROM ts)')).toBe(7);
    expect(ev('EXTRACT(YEAR FROM ts)')).toBe(2024);
    expect(ev('YEAR(ts)')).toBe(2024);
    expect(ev('MONTH(ts)')).toBe(3);
    expect(ev('DAYOFMONTH(ts)')).toBe(5);
    expect(ev('HOUR(ts)')).toBe(7);
    expect(ev('MINUTE(ts)')).toBe(8);
    expect(ev('SECOND(ts)')).toBe(9);
    expect(ev("EXTRACT(DAY FROM DATE '2024-03-05')")).toBe(5);
    expect(ev("TIMESTAMPDIFF(HOUR, ts, ts + INTERVAL '1' DAY)")).toBe(24);
  });

  test('FLOOR and CEIL of a timestamp to a unit', () => {
    // Built by hand: the unit arrives as a string literal or a bare identifier.
    const p = { line: 1, column: 1, offset: 0 };
    const at = (name: string, unit: Expr): unknown =>
      compileExpr(
        {
          kind: 'call',
          name,
          args: [{ kind: 'ident', parts: ['ts'], pos: p }, unit],
          distinct: false,
          pos: p,
        },
        scope,
      ).fn({ ts: TS }, ctx);
    expect(at('FLOOR', { kind: 'literal', type: 'string', value: 'HOUR', pos: p })).toBe(
      Date.UTC(2024, 2, 5, 7),
    );
    expect(at('CEIL', { kind: 'ident', parts: ['DAY'], pos: p })).toBe(Date.UTC(2024, 2, 6));
    expect(at('FLOOR', { kind: 'ident', parts: ['MONTH'], pos: p })).toBe(Date.UTC(2024, 2, 1));
  });

  test('collections and rows', () => {
    expect(ev('arr[1]', { arr: [10, 20] })).toBe(10);
    expect(ev('arr[3]', { arr: [10, 20] })).toBeNull();
    expect(ev('CARDINALITY(arr)', { arr: [10, 20] })).toBe(2);
    expect(ev("m['k']", { m: { k: 5 } })).toBe(5);
    expect(ev("m['toString']", { m: { k: 5 } })).toBeNull();
    expect(ev('r.x', { r: { x: 1, y: 'a' } })).toBe(1);
    expect(ev('t.r.y', { r: { x: 1, y: 'a' } })).toBe('a');
    expect(ev('r.x', { r: null })).toBeNull();
    expect(ev('ARRAY[a, 2]', { a: 1 })).toEqual([1, 2]);
    expect(ev("ROW(a, 'x')", { a: 1 })).toEqual({ EXPR$0: 1, EXPR$1: 'x' });
  });
});

describe('projection', () => {
  test('one object literal with the fields in order', () => {
    const p = compileProjection(
      [
        { expr: parseExpression('a + 1'), name: 'x' },
        { expr: parseExpression('UPPER(s)'), name: 'y' },
        { expr: parseExpression('ts'), name: 'ts' },
      ],
      scope,
    );
    expect(p.fields.map((f) => `${f.name} ${formatType(f.type)}`)).toEqual([
      'x INT',
      'y STRING',
      'ts TIMESTAMP(3) NOT NULL *ROWTIME*',
    ]);
    const out = p.fn({ a: 2, s_key: 'abc', ts: TS }, ctx);
    expect(out).toEqual({ x: 3, y: 'ABC', ts: TS });
    expect(Object.keys(out)).toEqual(['x', 'y', 'ts']);
    expect(p.fn({ a: null, s_key: null, ts: TS }, ctx)).toEqual({ x: null, y: null, ts: TS });
    expect(p.usesWatermark).toBe(false);
  });

  test('substitute replaces aggregate calls with input columns', () => {
    const agg = parseExpression('SUM(a) + 1');
    const sum = collectAggregateCalls(agg)[0]!;
    const c = compileExpr(agg, scope, {
      substitute: (e) =>
        e === sum
          ? { name: 'EXPR$0', key: '$agg0', type: { name: 'INT', nullable: true } }
          : undefined,
    });
    expect(c.fn({ $agg0: 41 }, ctx)).toBe(42);
  });
});

describe('helpers', () => {
  test('aggregate and OVER detection', () => {
    expect(isAggregateCall(parseExpression('SUM(a)'))).toBe(true);
    expect(isAggregateCall(parseExpression('UPPER(s)'))).toBe(false);
    expect(isAggregateCall(parseExpression('SUM(a) OVER (ORDER BY ts)'))).toBe(false);
    expect(
      collectAggregateCalls(parseExpression('SUM(a) / COUNT(*) + MAX(b)')).map((c) => c.name),
    ).toEqual(['SUM', 'COUNT', 'MAX']);
    expect(containsOver(parseExpression('1 + SUM(a) OVER (ORDER BY ts)'))).toBe(true);
    expect(containsOver(parseExpression('1 + SUM(a)'))).toBe(false);
  });

  test('constants and intervals', () => {
    expect(isConstant(parseExpression("1 + 2 * LENGTH_OF_NOTHING('x')"))).toBe(true);
    expect(isConstant(parseExpression('1 + a'))).toBe(false);
    expect(isConstant(parseExpression('CURRENT_TIMESTAMP'))).toBe(false);
    expect(literalValue(parseExpression('1 + 2'))).toBe(3);
    expect(literalValue(parseExpression("INTERVAL '5' MINUTE"))).toBe(300_000);
    expect(literalValue(parseExpression("UPPER('x')"))).toBe('X');
    const interval = (sql: string): IntervalExpr => parseExpression(sql) as IntervalExpr;
    expect(intervalMillis(interval("INTERVAL '1:30' HOUR TO MINUTE"))).toBe(5_400_000);
    expect(intervalMillis(interval("INTERVAL '2 03:04:05.5' DAY TO SECOND"))).toBe(
      2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5500,
    );
    expect(intervalMillis(interval("INTERVAL '10' SECOND"))).toBe(10_000);
    expect(intervalMonths(interval("INTERVAL '1-6' YEAR TO MONTH"))).toBe(18);
    expect(() => intervalMillis(interval("INTERVAL '1' MONTH"))).toThrow(ValidationError);
    const bad: Expr = {
      kind: 'interval',
      value: 'x',
      sign: 1,
      unit: 'DAY',
      pos: { line: 1, column: 1, offset: 0 },
    };
    expect(() => intervalMillis(bad as IntervalExpr)).toThrow(
      "Illegal interval literal format 'x'",
    );
  });
});

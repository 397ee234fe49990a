/**
 * Type rules shared by the expression compiler, the function library and the aggregates:
 * Calcite's names of types in messages, numeric widening, Flink's DECIMAL precision rules and
 * the least restrictive common type (CASE, COALESCE, IN lists, set operations).
 */
import {
  MAX_LENGTH,
  isCharacterString,
  isNumeric,
  isTimestamp,
  withoutTimeAttribute,
} from '../types.js';
import type { SqlType } from '../types.js';

/** Flink's largest DECIMAL precision. */
export const MAX_DECIMAL_PRECISION = 38;
/** Scale Flink keeps at least when a DECIMAL result would exceed 38 digits. */
const MIN_ADJUSTED_SCALE = 6;

/** A type as Calcite names it in messages (`INTEGER`, `CHAR(1)`, `VARCHAR(2147483647)`). */
export function calciteTypeName(t: SqlType): string {
  switch (t.name) {
    case 'INT':
      return 'INTEGER';
    case 'CHAR':
    case 'VARCHAR':
    case 'BINARY':
    case 'VARBINARY':
      return `${t.name}(${t.length})`;
    case 'DECIMAL':
      return `DECIMAL(${t.precision}, ${t.scale})`;
    case 'TIME':
    case 'TIMESTAMP':
      return `${t.name}(${t.precision})`;
    case 'TIMESTAMP_LTZ':
      return `TIMESTAMP_WITH_LOCAL_TIME_ZONE(${t.precision})`;
    case 'INTERVAL_DAY_TIME':
      return 'INTERVAL SECOND';
    case 'INTERVAL_YEAR_MONTH':
      return 'INTERVAL MONTH';
    case 'ARRAY':
    case 'MULTISET':
      return `${calciteTypeName(t.element)} ${t.name}`;
    case 'MAP':
      return `(${calciteTypeName(t.key)}, ${calciteTypeName(t.value)}) MAP`;
    case 'ROW':
      return `RecordType(${t.fields.map((f) => `${calciteTypeName(f.type)} ${f.name}`).join(', ')})`;
    default:
      return t.name;
  }
}

/** The type family Calcite prints in "No match found for function signature" messages. */
export function calciteFamily(t: SqlType): string {
  if (isNumeric(t)) return 'NUMERIC';
  if (isCharacterString(t)) return 'CHARACTER';
  if (t.name === 'BINARY' || t.name === 'VARBINARY') return 'BINARY';
  if (isTimestamp(t)) return 'TIMESTAMP';
  if (t.name === 'INTERVAL_DAY_TIME' || t.name === 'INTERVAL_YEAR_MONTH') return t.name;
  return t.name;
}

function integerRank(name: string): number {
  return name === 'TINYINT' ? 1 : name === 'SMALLINT' ? 2 : name === 'INT' ? 3 : 4;
}

/** The DECIMAL digits an exact integer type needs (INT is DECIMAL(10, 0)). */
export function integerDecimalPrecision(name: string): number {
  return name === 'TINYINT' ? 3 : name === 'SMALLINT' ? 5 : name === 'INT' ? 10 : 19;
}

/** Precision and scale of a numeric type seen as DECIMAL (exact integers with scale 0). */
function asDecimal(t: SqlType): { p: number; s: number } {
  if (t.name === 'DECIMAL') return { p: t.precision, s: t.scale };
  return { p: integerDecimalPrecision(t.name), s: 0 };
}

/** Flink's rule for a DECIMAL result wider than 38 digits: keep integer digits, then scale >= 6. */
export function adjustDecimal(precision: number, scale: number, nullable: boolean): SqlType {
  if (precision <= MAX_DECIMAL_PRECISION) return { name: 'DECIMAL', precision, scale, nullable };
  const intDigits = precision - scale;
  const minScale = Math.min(scale, MIN_ADJUSTED_SCALE);
  const s = Math.max(MAX_DECIMAL_PRECISION - intDigits, minScale);
  return { name: 'DECIMAL', precision: MAX_DECIMAL_PRECISION, scale: s, nullable };
}

/**
 * The result type of `a op b` for numeric operands (Flink's `LogicalTypeMerging`): exact
 * integers widen to the wider one (INT / INT is INT), FLOAT and DOUBLE win, and DECIMAL results
 * follow Flink's precision and scale rules.
 */
export function numericResultType(
  op: '+' | '-' | '*' | '/' | '%',
  a: SqlType,
  b: SqlType,
): SqlType {
  const nullable = a.nullable || b.nullable;
  if (a.name === 'DOUBLE' || b.name === 'DOUBLE') return { name: 'DOUBLE', nullable };
  if (a.name === 'FLOAT' || b.name === 'FLOAT') return { name: 'FLOAT', nullable };
  if (a.name === 'DECIMAL' || b.name === 'DECIMAL') {
    const { p: p1, s: s1 } = asDecimal(a);
    const { p: p2, s: s2 } = asDecimal(b);
    switch (op) {
      case '+':
      case '-': {
        const scale = Math.max(s1, s2);
        return adjustDecimal(Math.max(p1 - s1, p2 - s2) + scale + 1, scale, nullable);
      }
      case '*':
        return adjustDecimal(p1 + p2 + 1, s1 + s2, nullable);
      case '/': {
        const scale = Math.max(MIN_ADJUSTED_SCALE, s1 + p2 + 1);
        return adjustDecimal(p1 - s1 + s2 + scale, scale, nullable);
      }
      case '%': {
        const scale = Math.max(s1, s2);
        return adjustDecimal(Math.min(p1 - s1, p2 - s2) + scale, scale, nullable);
      }
    }
  }
  if (op === '%') return { ...b, nullable } as SqlType;
  const wider = integerRank(a.name) >= integerRank(b.name) ? a : b;
  return { name: wider.name, nullable } as SqlType;
}

/**
 * The least restrictive type of several (CASE branches, COALESCE, IN lists, VALUES rows), or
 * undefined when they have none. NULL literals fit any type; the time attribute is dropped.
 */
export function leastRestrictive(types: readonly SqlType[]): SqlType | undefined {
  const nullable = types.some((t) => t.nullable);
  const real = types.filter((t) => t.name !== 'NULL').map(withoutTimeAttribute);
  const first = real[0];
  if (!first) return { name: 'NULL', nullable: true };
  if (real.every(isCharacterString)) {
    const lengths = real.map((t) => (t as { length: number }).length);
    const max = Math.max(...lengths);
    const allChar = real.every((t) => t.name === 'CHAR') && lengths.every((l) => l === max);
    return { name: allChar ? 'CHAR' : 'VARCHAR', length: max, nullable };
  }
  if (real.every(isNumeric)) {
    if (real.some((t) => t.name === 'DOUBLE')) return { name: 'DOUBLE', nullable };
    if (real.some((t) => t.name === 'FLOAT')) return { name: 'FLOAT', nullable };
    if (real.some((t) => t.name === 'DECIMAL')) {
      let intDigits = 0;
      let scale = 0;
      for (const t of real) {
        const { p, s } = asDecimal(t);
        intDigits = Math.max(intDigits, p - s);
        scale = Math.max(scale, s);
      }
      return {
        name: 'DECIMAL',
        precision: Math.min(MAX_DECIMAL_PRECISION, intDigits + scale),
        scale,
        nullable,
      };
    }
    let widest = first;
    for (const t of real) if (integerRank(t.name) > integerRank(widest.name)) widest = t;
    return { name: widest.name, nullable } as SqlType;
  }
  if (real.every(isTimestamp)) {
    const precision = Math.max(...real.map((t) => (t as { precision: number }).precision));
    const ltz = real.some((t) => t.name === 'TIMESTAMP_LTZ');
    return { name: ltz ? 'TIMESTAMP_LTZ' : 'TIMESTAMP', precision, nullable };
  }
  if (!real.every((t) => t.name === first.name)) return undefined;
  if (first.name === 'ARRAY' || first.name === 'MULTISET') {
    const element = leastRestrictive(real.map((t) => (t as { element: SqlType }).element));
    return element ? { name: first.name, element, nullable } : undefined;
  }
  if (first.name === 'TIME') {
    const precision = Math.max(...real.map((t) => (t as { precision: number }).precision));
    return { name: 'TIME', precision, nullable };
  }
  return { ...first, nullable } as SqlType;
}

/** The STRING type (VARCHAR(2147483647)). */
export function stringType(nullable: boolean): SqlType {
  return { name: 'VARCHAR', length: MAX_LENGTH, nullable };
}

/** Whether values of two types can be compared with `=`, `<`, ... */
export function comparable(a: SqlType, b: SqlType): boolean {
  if (a.name === 'NULL' || b.name === 'NULL') return true;
  if (isNumeric(a) && isNumeric(b)) return true;
  if (isCharacterString(a) && isCharacterString(b)) return true;
  if (isTimestamp(a) && isTimestamp(b)) return true;
  return a.name === b.name;
}

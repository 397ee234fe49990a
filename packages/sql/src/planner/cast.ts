/**
 * CAST and TRY_CAST between SQL types (Flink 1.15+ semantics: a failing CAST fails the job,
 * TRY_CAST gives NULL), and the text forms Flink prints for values.
 */
import {
  MAX_LENGTH,
  formatType,
  isCharacterString,
  isExactInteger,
  isNumeric,
  isTimestamp,
} from '../types.js';
import type { SqlType } from '../types.js';
import {
  MS_PER_DAY,
  formatDate,
  formatTime,
  formatTimestamp,
  parseDate,
  parseTime,
  parseTimestamp,
} from './time-functions.js';

/** What a converter returns when the value does not convert (a CAST error, a TRY_CAST null). */
export const CAST_FAILED: unique symbol = Symbol('CAST_FAILED');

/** Converts one non-null value; returns {@link CAST_FAILED} when it does not convert. */
export type Converter = (value: unknown) => unknown;

/** Rounds half away from zero to `scale` digits, as Java's `RoundingMode.HALF_UP` does for DECIMAL. */
export function roundHalfUp(x: number, scale: number): number {
  if (!Number.isFinite(x)) return x;
  if (scale < 0) {
    const f = 10 ** -scale;
    return Math.sign(x) * Math.round(Math.abs(x) / f) * f;
  }
  const f = 10 ** scale;
  const scaled = Math.abs(x) * f;
  // The epsilon nudge undoes binary representation error: 1.005 is stored as 1.00499999...
  const r = Math.round(scaled * (1 + 4 * Number.EPSILON)) / f;
  return x < 0 ? -r : r;
}

/** Java's `Double.toString` (how Flink prints DOUBLE and FLOAT values): `1.0`, `1.5E10`. */
export function javaDoubleString(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(n);
    return s.includes('.') ? s : s + '.0';
  }
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : mantissa + '.0'}E${Number(exponent)}`;
}

/** The text Flink prints for a value of a type (CAST to STRING, collected results). */
export function valueToString(value: unknown, type: SqlType): string {
  if (value === null || value === undefined) return 'NULL';
  switch (type.name) {
    case 'BOOLEAN':
      return value ? 'TRUE' : 'FALSE';
    case 'FLOAT':
    case 'DOUBLE':
      return javaDoubleString(value as number);
    case 'DECIMAL':
      return (value as number).toFixed(type.scale);
    case 'DATE':
      return formatDate(value as number);
    case 'TIME':
      return formatTime(value as number, type.precision);
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return formatTimestamp(value as number, type.precision);
    case 'ARRAY':
    case 'MULTISET':
      return `[${(value as unknown[]).map((v) => valueToString(v, type.element)).join(', ')}]`;
    case 'ROW':
      return `(${type.fields.map((f) => valueToString((value as Record<string, unknown>)[f.name], f.type)).join(', ')})`;
    case 'MAP': {
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
      return `{${entries.map(([k, v]) => `${valueToString(k, type.key)}=${valueToString(v, type.value)}`).join(', ')}}`;
    }
    case 'BINARY':
    case 'VARBINARY':
      return Buffer.from(value as Uint8Array).toString('hex');
    default:
      return String(value);
  }
}

const INTEGER_RANGE: Record<string, readonly [number, number]> = {
  TINYINT: [-128, 127],
  SMALLINT: [-32768, 32767],
  INT: [-2147483648, 2147483647],
  BIGINT: [Number.MIN_SAFE_INTEGER * 1024, Number.MAX_SAFE_INTEGER * 1024],
};

const NUMBER_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const TRUE_TEXT = new Set(['t', 'true', 'y', 'yes', '1']);
const FALSE_TEXT = new Set(['f', 'false', 'n', 'no', '0']);

/** Whether CAST from `from` to `to` is allowed (else Calcite's "Cast function cannot convert"). */
export function canCast(from: SqlType, to: SqlType): boolean {
  if (from.name === 'NULL') return true;
  if (isCharacterString(to) || isCharacterString(from)) {
    return (
      !(from.name === 'ARRAY' || from.name === 'MAP' || from.name === 'ROW') ||
      isCharacterString(to)
    );
  }
  if (isNumeric(from) || from.name === 'BOOLEAN') return isNumeric(to) || to.name === 'BOOLEAN';
  if (isTimestamp(from)) return isTimestamp(to) || to.name === 'DATE' || to.name === 'TIME';
  if (from.name === 'DATE') return isTimestamp(to) || to.name === 'DATE';
  if (from.name === 'TIME') return to.name === 'TIME' || isTimestamp(to);
  if ((from.name === 'ARRAY' || from.name === 'MULTISET') && to.name === from.name) {
    return canCast(from.element, to.element);
  }
  if (from.name === 'ROW' && to.name === 'ROW') {
    return (
      from.fields.length === to.fields.length &&
      from.fields.every((f, i) => canCast(f.type, to.fields[i]!.type))
    );
  }
  if (from.name === 'MAP' && to.name === 'MAP')
    return canCast(from.key, to.key) && canCast(from.value, to.value);
  return from.name === to.name;
}

function toInteger(name: string): Converter {
  const [min, max] = INTEGER_RANGE[name]!;
  return (v) => {
    let n: number;
    if (typeof v === 'string') {
      if (!NUMBER_TEXT.test(v)) return CAST_FAILED;
      n = Number(v);
    } else if (typeof v === 'boolean') {
      return v ? 1 : 0;
    } else {
      n = v as number;
    }
    if (!Number.isFinite(n)) return CAST_FAILED;
    n = Math.trunc(n);
    if (n < min || n > max) return CAST_FAILED;
    return n === 0 ? 0 : n;
  };
}

function toApproximate(single: boolean): Converter {
  return (v) => {
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number') return single ? Math.fround(v) : v;
    const s = (v as string).trim();
    if (!NUMBER_TEXT.test(s) && !/^[+-]?(NaN|Infinity)$/.test(s)) return CAST_FAILED;
    const n = Number(s);
    return single ? Math.fround(n) : n;
  };
}

function toDecimal(precision: number, scale: number): Converter {
  const limit = 10 ** (precision - scale);
  return (v) => {
    let n: number;
    if (typeof v === 'string') {
      if (!NUMBER_TEXT.test(v)) return CAST_FAILED;
      n = Number(v);
    } else if (typeof v === 'boolean') {
      n = v ? 1 : 0;
    } else {
      n = v as number;
    }
    if (!Number.isFinite(n)) return CAST_FAILED;
    const r = roundHalfUp(n, scale);
    // Flink gives NULL for a value that does not fit DECIMAL(p, s) rather than failing.
    return Math.abs(r) >= limit ? null : r;
  };
}

function toStringConverter(from: SqlType, to: SqlType): Converter {
  const length = (to as { length: number }).length;
  const pad = to.name === 'CHAR';
  const fit = (s: string): string => {
    if (length === MAX_LENGTH) return s;
    if (s.length > length) return s.slice(0, length);
    return pad && s.length < length ? s.padEnd(length, ' ') : s;
  };
  if (isCharacterString(from)) return (v) => fit(v as string);
  if (isExactInteger(from)) return (v) => fit(String(v));
  return (v) => fit(valueToString(v, from));
}

function stringToTimestampLike(to: SqlType): Converter {
  const precision = (to as { precision?: number }).precision ?? 0;
  const unit = precision >= 3 ? 1 : 10 ** (3 - precision);
  return (v) => {
    const ms = parseTimestamp(v as string);
    if (ms === null) return CAST_FAILED;
    return unit === 1 ? ms : Math.floor(ms / unit) * unit;
  };
}

/**
 * The converter of CAST(from AS to) for non-null values, or undefined when no conversion is
 * needed. Call {@link canCast} first.
 */
export function castConverter(from: SqlType, to: SqlType): Converter | undefined {
  if (from.name === 'NULL') return undefined;
  if (isCharacterString(to)) {
    if (isCharacterString(from) && (to as { length: number }).length === MAX_LENGTH)
      return undefined;
    return toStringConverter(from, to);
  }
  switch (to.name) {
    case 'BOOLEAN':
      if (from.name === 'BOOLEAN') return undefined;
      if (isCharacterString(from)) {
        return (v) => {
          const s = (v as string).trim().toLowerCase();
          return TRUE_TEXT.has(s) ? true : FALSE_TEXT.has(s) ? false : CAST_FAILED;
        };
      }
      return (v) => v !== 0;
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
      if (isExactInteger(from) && INTEGER_RANGE[from.name]![1] <= INTEGER_RANGE[to.name]![1])
        return undefined;
      return toInteger(to.name);
    case 'FLOAT':
    case 'DOUBLE':
      if (isNumeric(from) && from.name !== 'FLOAT' && to.name === 'DOUBLE') return undefined;
      return toApproximate(to.name === 'FLOAT');
    case 'DECIMAL':
      if (
        from.name === 'DECIMAL' &&
        from.scale <= to.scale &&
        from.precision - from.scale <= to.precision - to.scale
      ) {
        return undefined;
      }
      if (isExactInteger(from) && to.scale === 0 && to.precision >= 19) return undefined;
      return toDecimal(to.precision, to.scale);
    case 'DATE':
      if (from.name === 'DATE') return undefined;
      if (isCharacterString(from)) {
        return (v) => {
          const s = v as string;
          const d = parseDate(s);
          if (d !== null) return d;
          const ts = parseTimestamp(s);
          return ts === null ? CAST_FAILED : Math.floor(ts / MS_PER_DAY);
        };
      }
      return (v) => Math.floor((v as number) / MS_PER_DAY);
    case 'TIME':
      if (from.name === 'TIME') return undefined;
      if (isCharacterString(from)) {
        return (v) => {
          const t = parseTime(v as string);
          return t === null ? CAST_FAILED : t;
        };
      }
      return (v) => {
        const ms = v as number;
        return ms - Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
      };
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ': {
      if (isCharacterString(from)) return stringToTimestampLike(to);
      if (from.name === 'DATE') return (v) => (v as number) * MS_PER_DAY;
      if (
        isTimestamp(from) &&
        (from as { precision: number }).precision > to.precision &&
        to.precision < 3
      ) {
        const unit = 10 ** (3 - to.precision);
        return (v) => Math.floor((v as number) / unit) * unit;
      }
      // TIMESTAMP <-> TIMESTAMP_LTZ is the identity in the UTC session time zone.
      return undefined;
    }
    case 'ARRAY':
    case 'MULTISET': {
      const element = castConverter((from as { element: SqlType }).element, to.element);
      if (!element) return undefined;
      return (v) => {
        const out: unknown[] = [];
        for (const e of v as unknown[]) {
          if (e === null) {
            out.push(null);
            continue;
          }
          const c = element(e);
          if (c === CAST_FAILED) return CAST_FAILED;
          out.push(c);
        }
        return out;
      };
    }
    case 'ROW': {
      const fromFields = (from as { fields: readonly { name: string; type: SqlType }[] }).fields;
      const converters = to.fields.map((f, i) => castConverter(fromFields[i]!.type, f.type));
      return (v) => {
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < to.fields.length; i++) {
          const value = src[fromFields[i]!.name] ?? null;
          const c = converters[i];
          const converted = value === null || !c ? value : c(value);
          if (converted === CAST_FAILED) return CAST_FAILED;
          out[to.fields[i]!.name] = converted;
        }
        return out;
      };
    }
    default:
      return undefined;
  }
}

/** The error a failing CAST throws; it names the value and the types and suggests TRY_CAST. */
export function castError(value: unknown, from: SqlType, to: SqlType): Error {
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  return new Error(
    `Cannot cast ${shown} of type ${formatType(from)} to ${formatType(to)}: the value is not a valid ` +
      `${formatType({ ...to, nullable: true } as SqlType)}. Use TRY_CAST to get NULL for such values instead.`,
  );
}

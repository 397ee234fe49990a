/**
 * The scalar function library (Flink's "System (Built-in) Functions"): argument type rules,
 * result types and implementations. Special forms that evaluate their arguments lazily
 * (COALESCE, IF, CASE, NULLIF) and the operators live in `expressions.ts`.
 *
 * Session time zone: UTC. TIMESTAMP values are epoch ms of the wall-clock time read as UTC and
 * TIMESTAMP_LTZ values are instants, so conversions between the two are the identity and
 * functions that render an instant (FROM_UNIXTIME, DATE_FORMAT of a TIMESTAMP_LTZ) print UTC.
 */
import { createHash, randomUUID } from 'node:crypto';

import {
  MAX_LENGTH,
  isCharacterString,
  isExactInteger,
  isNumeric,
  isTimestamp,
  withoutTimeAttribute,
} from '../types.js';
import type { SqlType } from '../types.js';
import type { CodeGen, Value } from './codegen.js';
import { roundHalfUp } from './cast.js';
import { adjustDecimal, leastRestrictive, stringType } from './type-rules.js';
import {
  EXTRACT_UNITS,
  MS_PER_DAY,
  addMonths,
  extractField,
  floorToUnit,
  formatterFor,
  parseTimestamp,
  parserFor,
} from './time-functions.js';

/** Argument families of function signatures, named as Calcite prints them in messages. */
export type Family =
  | 'STRING'
  | 'NUMERIC'
  | 'INTEGER'
  | 'BOOLEAN'
  | 'TIMESTAMP'
  | 'DATETIME'
  | 'ARRAY'
  | 'COLLECTION'
  | 'ANY';

/** A scalar function: how to type-check a call and how to generate code for it. */
export interface FunctionDef {
  /** Argument families; with `variadic` the last one repeats. */
  readonly families: readonly Family[];
  /** How many leading arguments are required (the rest of `families` are optional). */
  readonly required: number;
  readonly variadic?: boolean;
  /**
   * The result type for these arguments, or undefined when they do not fit beyond their
   * families (the caller reports a type error). For strict functions the caller makes the
   * result nullable when an argument is.
   */
  readonly type: (args: readonly Value[]) => SqlType | undefined;
  /** NULL in any argument gives NULL without calling the implementation (default true). */
  readonly strict?: boolean;
  /** The implementation for these arguments (called with non-null values when strict). */
  readonly make?: (args: readonly Value[], type: SqlType) => (...values: never[]) => unknown;
  /** Code generation instead of `make` (reads `ctx`, builds literals). */
  readonly gen?: (g: CodeGen, args: readonly Value[], type: SqlType) => string | undefined;
  /** False for functions whose value changes between calls (CURRENT_TIMESTAMP, RAND). */
  readonly deterministic?: boolean;
}

/** Whether a type belongs to a family (NULL belongs to all). */
export function inFamily(family: Family, t: SqlType): boolean {
  if (t.name === 'NULL') return true;
  switch (family) {
    case 'STRING':
      return isCharacterString(t);
    case 'NUMERIC':
      return isNumeric(t);
    case 'INTEGER':
      return isExactInteger(t);
    case 'BOOLEAN':
      return t.name === 'BOOLEAN';
    case 'TIMESTAMP':
      return isTimestamp(t);
    case 'DATETIME':
      return isTimestamp(t) || t.name === 'DATE' || t.name === 'TIME';
    case 'ARRAY':
      return t.name === 'ARRAY';
    case 'COLLECTION':
      return t.name === 'ARRAY' || t.name === 'MAP' || t.name === 'MULTISET';
    case 'ANY':
      return true;
  }
}

/** `UPPER(<STRING>)`-style text of a function's supported form, for messages. */
export function formOf(name: string, def: FunctionDef): string {
  const parts = def.families.map((f, i) => (i < def.required ? `<${f}>` : `[<${f}>]`));
  if (def.variadic) parts.push('...');
  return `'${name}(${parts.join(', ')})'`;
}

const STRING = stringType(false);
const INT: SqlType = { name: 'INT', nullable: false };
const BIGINT: SqlType = { name: 'BIGINT', nullable: false };
const DOUBLE: SqlType = { name: 'DOUBLE', nullable: false };
const BOOLEAN: SqlType = { name: 'BOOLEAN', nullable: false };
const TIMESTAMP3: SqlType = { name: 'TIMESTAMP', precision: 3, nullable: false };
const LTZ3: SqlType = { name: 'TIMESTAMP_LTZ', precision: 3, nullable: false };
const DATE: SqlType = { name: 'DATE', nullable: false };

type Impl = (...values: never[]) => unknown;

function fixed(type: SqlType): () => SqlType {
  return () => type;
}

function constArg(args: readonly Value[], i: number): unknown {
  return args[i]?.constant?.value;
}

/** Converts a datetime value of `type` to epoch ms (DATE days, TIME ms of the day). */
function toMillis(type: SqlType): (v: number) => number {
  return type.name === 'DATE' ? (d) => d * MS_PER_DAY : (v) => v;
}

/** A definition whose implementation does not depend on argument types. */
function simple(
  families: readonly Family[],
  required: number,
  type: (args: readonly Value[]) => SqlType | undefined,
  impl: Impl,
  extra: Partial<FunctionDef> = {},
): FunctionDef {
  return { families, required, type, make: () => impl, ...extra };
}

// ---------------------------------------------------------------------------------------------
// String helpers (Flink's SqlFunctionUtils semantics)

function substring(s: string, start: number, length: number = MAX_LENGTH): string | null {
  if (length < 0) return null;
  let from: number;
  if (start > 0) {
    from = start - 1;
    if (from >= s.length) return '';
  } else if (start < 0) {
    from = s.length + start;
    if (from < 0) return '';
  } else {
    from = 0;
  }
  const to = s.length - from < length ? s.length : from + length;
  return s.slice(from, to);
}

function pad(left: boolean) {
  return (s: string, len: number, padding: string): string | null => {
    if (len < 0 || padding === '') return null;
    if (len <= s.length) return s.slice(0, len);
    let fill = '';
    while (fill.length < len - s.length) fill += padding;
    fill = fill.slice(0, len - s.length);
    return left ? fill + s : s + fill;
  };
}

function trimChars(mode: string, chars: string, s: string): string {
  let start = 0;
  let end = s.length;
  if (mode !== 'TRAILING') while (start < end && chars.includes(s[start]!)) start++;
  if (mode !== 'LEADING') while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

function initcap(s: string): string {
  let out = '';
  let startOfWord = true;
  for (const c of s) {
    const alnum = /[\p{L}\p{N}]/u.test(c);
    out += alnum ? (startOfWord ? c.toUpperCase() : c.toLowerCase()) : c;
    startOfWord = !alnum;
  }
  return out;
}

const regexps = new Map<string, RegExp | null>();

/** A Java regular expression as a JavaScript one, cached; null when it does not compile. */
export function regexpFor(source: string, flags = ''): RegExp | null {
  const key = flags + '/' + source;
  let re = regexps.get(key);
  if (re === undefined) {
    try {
      re = new RegExp(source, flags);
    } catch {
      re = null;
    }
    if (regexps.size < 1000) regexps.set(key, re);
  }
  return re;
}

function regexpReplace(s: string, pattern: string, replacement: string): string | null {
  const re = regexpFor(pattern, 'g');
  if (!re) return null;
  re.lastIndex = 0;
  return s.replace(re, replacement);
}

function regexpExtract(s: string, pattern: string, index = 1): string | null {
  const re = regexpFor(pattern);
  if (!re || index < 0) return null;
  const m = re.exec(s);
  if (!m || index >= m.length) return null;
  return m[index] ?? null;
}

function splitIndex(s: string, separator: string, index: number): string | null {
  if (index < 0) return null;
  const parts = s.split(separator);
  return index < parts.length ? parts[index]! : null;
}

// JSON_VALUE with simple paths: $.a.b, $.a[0], $['a'].
const jsonPaths = new Map<string, readonly (string | number)[] | null>();

function jsonPath(path: string): readonly (string | number)[] | null {
  let steps = jsonPaths.get(path);
  if (steps !== undefined) return steps;
  const p = path.trim().replace(/^(lax|strict)\s+/, '');
  if (!p.startsWith('$')) steps = null;
  else {
    const out: (string | number)[] = [];
    const re = /\.([A-Za-z_$][\w$]*)|\."([^"]*)"|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
    let i = 1;
    let ok = true;
    while (i < p.length) {
      re.lastIndex = i;
      const m = re.exec(p);
      if (!m) {
        ok = false;
        break;
      }
      out.push(m[3] !== undefined ? Number(m[3]) : (m[1] ?? m[2] ?? m[4] ?? m[5])!);
      i = re.lastIndex;
    }
    steps = ok ? out : null;
  }
  if (jsonPaths.size < 1000) jsonPaths.set(path, steps);
  return steps;
}

function jsonValue(json: string, path: string): string | null {
  const steps = jsonPath(path);
  if (!steps) return null;
  let node: unknown;
  try {
    node = JSON.parse(json);
  } catch {
    return null; // Flink's default: NULL ON ERROR
  }
  for (const step of steps) {
    if (node === null || typeof node !== 'object') return null;
    node = (node as Record<string | number, unknown>)[step];
  }
  if (node === undefined || node === null || typeof node === 'object') return null;
  return String(node);
}

function hash(algorithm: string) {
  return (s: string): string => createHash(algorithm).update(s, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Numeric helpers

function roundType(args: readonly Value[]): SqlType | undefined {
  const t = args[0]!.type;
  const n = args.length > 1 ? constArg(args, 1) : 0;
  if (t.name === 'DECIMAL') {
    if (typeof n !== 'number') return { ...t };
    if (n >= t.scale) return t;
    if (n < 0) return adjustDecimal(Math.min(38, 1 + t.precision - t.scale), 0, t.nullable);
    return adjustDecimal(1 + t.precision - t.scale + n, n, t.nullable);
  }
  return withoutTimeAttribute(t);
}

function floorCeilType(args: readonly Value[]): SqlType | undefined {
  const t = args[0]!.type;
  if (args.length === 2)
    return isTimestamp(t) || t.name === 'DATE' ? withoutTimeAttribute(t) : undefined;
  if (!isNumeric(t) && t.name !== 'NULL') return undefined;
  if (t.name === 'DECIMAL' && t.scale > 0) {
    return {
      name: 'DECIMAL',
      precision: Math.min(38, t.precision - t.scale + 1),
      scale: 0,
      nullable: t.nullable,
    };
  }
  return t;
}

function floorCeil(ceil: boolean) {
  return (args: readonly Value[]): Impl => {
    if (args.length === 1) return (ceil ? Math.ceil : Math.floor) as Impl;
    const t = args[0]!.type;
    if (t.name === 'DATE') {
      return ((d: number, unit: string) =>
        Math.floor(floorToUnit(d * MS_PER_DAY, unit.toUpperCase(), ceil) / MS_PER_DAY)) as Impl;
    }
    return ((ms: number, unit: string) => floorToUnit(ms, unit.toUpperCase(), ceil)) as Impl;
  };
}

function greatestLeast(greatest: boolean): FunctionDef {
  return {
    families: ['ANY'],
    required: 1,
    variadic: true,
    type: (args) => leastRestrictive(args.map((a) => a.type)),
    make: () =>
      ((...values: unknown[]) => {
        let best = values[0] as number | string;
        for (let i = 1; i < values.length; i++) {
          const v = values[i] as number | string;
          if (greatest ? v > best : v < best) best = v;
        }
        return best;
      }) as Impl,
  };
}

function timestampDiff(unit: string, a: number, b: number): number {
  switch (unit) {
    case 'YEAR':
    case 'QUARTER':
    case 'MONTH': {
      const months =
        (extractField('YEAR', b) - extractField('YEAR', a)) * 12 +
        (extractField('MONTH', b) - extractField('MONTH', a));
      // A month counts only once its day and time are reached.
      let whole = months;
      if (months > 0 && addMonths(a, months) > b) whole--;
      if (months < 0 && addMonths(a, months) < b) whole++;
      return unit === 'MONTH' ? whole : Math.trunc(whole / (unit === 'YEAR' ? 12 : 3));
    }
    default: {
      const unitMs =
        unit === 'WEEK'
          ? 7 * MS_PER_DAY
          : unit === 'DAY'
            ? MS_PER_DAY
            : unit === 'HOUR'
              ? 3_600_000
              : unit === 'MINUTE'
                ? 60_000
                : unit === 'SECOND'
                  ? 1000
                  : 1;
      return Math.trunc((b - a) / unitMs);
    }
  }
}

function timestampAdd(unit: string, n: number, ms: number): number {
  switch (unit) {
    case 'YEAR':
      return addMonths(ms, n * 12);
    case 'QUARTER':
      return addMonths(ms, n * 3);
    case 'MONTH':
      return addMonths(ms, n);
    case 'WEEK':
      return ms + n * 7 * MS_PER_DAY;
    case 'DAY':
      return ms + n * MS_PER_DAY;
    case 'HOUR':
      return ms + n * 3_600_000;
    case 'MINUTE':
      return ms + n * 60_000;
    case 'SECOND':
      return ms + n * 1000;
    default:
      return ms + n;
  }
}

const DEFAULT_TIMESTAMP_FORMAT = 'yyyy-MM-dd HH:mm:ss';

function parseWith(format: string | undefined): (s: string) => number | null {
  return format === undefined ? parseTimestamp : parserFor(format);
}

function unitOf(args: readonly Value[], i: number): string | undefined {
  const u = constArg(args, i);
  return typeof u === 'string' ? u.toUpperCase() : undefined;
}

// ---------------------------------------------------------------------------------------------
// The library

const string1 = (t: (a: SqlType) => SqlType) => (args: readonly Value[]) => t(args[0]!.type);
const sameAsFirst = string1((t) => (t.name === 'NULL' ? STRING : withoutTimeAttribute(t)));
const math1 = (f: (x: number) => number): FunctionDef =>
  simple(['NUMERIC'], 1, fixed(DOUBLE), f as Impl);

const FUNCTIONS: Record<string, FunctionDef> = {
  // --- numeric
  ABS: simple(['NUMERIC'], 1, sameAsFirst, Math.abs as Impl),
  SIGN: simple(['NUMERIC'], 1, sameAsFirst, Math.sign as Impl),
  ROUND: {
    families: ['NUMERIC', 'INTEGER'],
    required: 1,
    type: roundType,
    make: (args) =>
      (isExactInteger(args[0]!.type) && args.length === 1
        ? (x: number) => x
        : (x: number, n = 0) => roundHalfUp(x, n)) as Impl,
  },
  TRUNCATE: {
    families: ['NUMERIC', 'INTEGER'],
    required: 1,
    type: roundType,
    make: () =>
      ((x: number, n = 0) => {
        const f = 10 ** n;
        return Math.trunc(x * f) / f;
      }) as Impl,
  },
  FLOOR: { families: ['ANY', 'STRING'], required: 1, type: floorCeilType, make: floorCeil(false) },
  CEIL: { families: ['ANY', 'STRING'], required: 1, type: floorCeilType, make: floorCeil(true) },
  CEILING: { families: ['ANY', 'STRING'], required: 1, type: floorCeilType, make: floorCeil(true) },
  POWER: simple(['NUMERIC', 'NUMERIC'], 2, fixed(DOUBLE), Math.pow as Impl),
  POW: simple(['NUMERIC', 'NUMERIC'], 2, fixed(DOUBLE), Math.pow as Impl),
  SQRT: math1(Math.sqrt),
  LN: math1(Math.log),
  LOG10: math1(Math.log10),
  LOG2: math1(Math.log2),
  LOG: simple(['NUMERIC', 'NUMERIC'], 1, fixed(DOUBLE), ((a: number, b?: number) =>
    b === undefined ? Math.log(a) : Math.log(b) / Math.log(a)) as Impl),
  EXP: math1(Math.exp),
  SIN: math1(Math.sin),
  COS: math1(Math.cos),
  TAN: math1(Math.tan),
  COT: math1((x) => 1 / Math.tan(x)),
  ASIN: math1(Math.asin),
  ACOS: math1(Math.acos),
  ATAN: math1(Math.atan),
  ATAN2: simple(['NUMERIC', 'NUMERIC'], 2, fixed(DOUBLE), Math.atan2 as Impl),
  SINH: math1(Math.sinh),
  COSH: math1(Math.cosh),
  TANH: math1(Math.tanh),
  DEGREES: math1((x) => (x * 180) / Math.PI),
  RADIANS: math1((x) => (x * Math.PI) / 180),
  PI: { families: [], required: 0, type: fixed(DOUBLE), gen: () => String(Math.PI) },
  E: { families: [], required: 0, type: fixed(DOUBLE), gen: () => String(Math.E) },
  RAND: {
    families: ['INTEGER'],
    required: 0,
    type: fixed(DOUBLE),
    strict: false,
    deterministic: false,
    make: () => Math.random as Impl,
  },
  RAND_INTEGER: {
    families: ['INTEGER'],
    required: 1,
    type: fixed(INT),
    deterministic: false,
    make: () => ((n: number) => Math.floor(Math.random() * n)) as Impl,
  },
  GREATEST: greatestLeast(true),
  LEAST: greatestLeast(false),

  // --- strings
  UPPER: simple(['STRING'], 1, sameAsFirst, ((s: string) => s.toUpperCase()) as Impl),
  LOWER: simple(['STRING'], 1, sameAsFirst, ((s: string) => s.toLowerCase()) as Impl),
  INITCAP: simple(['STRING'], 1, sameAsFirst, initcap as Impl),
  CHAR_LENGTH: simple(['STRING'], 1, fixed(INT), ((s: string) => s.length) as Impl),
  CHARACTER_LENGTH: simple(['STRING'], 1, fixed(INT), ((s: string) => s.length) as Impl),
  SUBSTRING: simple(['STRING', 'INTEGER', 'INTEGER'], 2, fixed(STRING), substring as Impl),
  SUBSTR: simple(['STRING', 'INTEGER', 'INTEGER'], 2, fixed(STRING), substring as Impl),
  LEFT: simple(['STRING', 'INTEGER'], 2, fixed(STRING), ((s: string, n: number) =>
    n <= 0 ? '' : s.slice(0, n)) as Impl),
  RIGHT: simple(['STRING', 'INTEGER'], 2, fixed(STRING), ((s: string, n: number) =>
    n <= 0 ? '' : s.slice(Math.max(0, s.length - n))) as Impl),
  CONCAT: simple(['STRING'], 1, fixed(STRING), ((...parts: string[]) => parts.join('')) as Impl, {
    variadic: true,
  }),
  CONCAT_WS: {
    families: ['STRING', 'STRING'],
    required: 1,
    variadic: true,
    strict: false,
    type: (args) => ({ ...STRING, nullable: args[0]!.type.nullable }),
    make: () =>
      ((sep: string | null, ...parts: (string | null)[]) => {
        if (sep === null) return null;
        let out = '';
        let first = true;
        for (const p of parts) {
          if (p === null) continue; // CONCAT_WS skips NULL arguments
          out += first ? p : sep + p;
          first = false;
        }
        return out;
      }) as Impl,
  },
  TRIM: {
    families: ['STRING', 'STRING', 'STRING'],
    required: 1,
    type: fixed(STRING),
    make: (args) =>
      (args.length === 1
        ? (s: string) => trimChars('BOTH', ' ', s)
        : args.length === 2
          ? (chars: string, s: string) => trimChars('BOTH', chars, s)
          : (mode: string, chars: string, s: string) =>
              trimChars(mode.toUpperCase(), chars, s)) as Impl,
  },
  LTRIM: simple(['STRING', 'STRING'], 1, fixed(STRING), ((s: string, chars = ' ') =>
    trimChars('LEADING', chars, s)) as Impl),
  RTRIM: simple(['STRING', 'STRING'], 1, fixed(STRING), ((s: string, chars = ' ') =>
    trimChars('TRAILING', chars, s)) as Impl),
  BTRIM: simple(['STRING', 'STRING'], 1, fixed(STRING), ((s: string, chars = ' ') =>
    trimChars('BOTH', chars, s)) as Impl),
  REPLACE: simple(['STRING', 'STRING', 'STRING'], 3, fixed(STRING), ((
    s: string,
    from: string,
    to: string,
  ) => (from === '' ? s : s.split(from).join(to))) as Impl),
  POSITION: simple(
    ['STRING', 'STRING'],
    2,
    fixed(INT),
    ((needle: string, s: string) => s.indexOf(needle) + 1) as Impl,
  ),
  LOCATE: simple(['STRING', 'STRING', 'INTEGER'], 2, fixed(INT), ((
    needle: string,
    s: string,
    start = 1,
  ) => (start < 1 ? 0 : s.indexOf(needle, start - 1) + 1)) as Impl),
  INSTR: simple(
    ['STRING', 'STRING'],
    2,
    fixed(INT),
    ((s: string, needle: string) => s.indexOf(needle) + 1) as Impl,
  ),
  REPEAT: simple(['STRING', 'INTEGER'], 2, fixed(STRING), ((s: string, n: number) =>
    n <= 0 ? '' : s.repeat(n)) as Impl),
  REVERSE: simple(['STRING'], 1, fixed(STRING), ((s: string) => [...s].reverse().join('')) as Impl),
  LPAD: simple(['STRING', 'INTEGER', 'STRING'], 3, fixed(STRING), pad(true) as Impl),
  RPAD: simple(['STRING', 'INTEGER', 'STRING'], 3, fixed(STRING), pad(false) as Impl),
  REGEXP_REPLACE: simple(['STRING', 'STRING', 'STRING'], 3, fixed(STRING), regexpReplace as Impl),
  REGEXP_EXTRACT: simple(['STRING', 'STRING', 'INTEGER'], 2, fixed(STRING), regexpExtract as Impl),
  REGEXP: simple(['STRING', 'STRING'], 2, fixed(BOOLEAN), ((s: string, p: string) => {
    const re = regexpFor(p);
    return re ? re.test(s) : null;
  }) as Impl),
  SPLIT_INDEX: simple(['STRING', 'STRING', 'INTEGER'], 3, fixed(STRING), splitIndex as Impl),
  ASCII: simple(['STRING'], 1, fixed(INT), ((s: string) =>
    s.length === 0 ? 0 : s.charCodeAt(0)) as Impl),
  CHR: simple(['INTEGER'], 1, fixed(STRING), ((n: number) =>
    n < 0 ? null : String.fromCharCode(n % 256)) as Impl),
  MD5: simple(['STRING'], 1, fixed(STRING), hash('md5') as Impl),
  SHA1: simple(['STRING'], 1, fixed(STRING), hash('sha1') as Impl),
  SHA256: simple(['STRING'], 1, fixed(STRING), hash('sha256') as Impl),
  TO_BASE64: simple(['STRING'], 1, fixed(STRING), ((s: string) =>
    Buffer.from(s, 'utf8').toString('base64')) as Impl),
  FROM_BASE64: simple(['STRING'], 1, fixed(STRING), ((s: string) =>
    Buffer.from(s, 'base64').toString('utf8')) as Impl),
  UUID: {
    families: [],
    required: 0,
    type: fixed(STRING),
    deterministic: false,
    make: () => randomUUID as Impl,
  },
  JSON_VALUE: {
    families: ['STRING', 'STRING'],
    required: 2,
    type: () => STRING,
    make: () => jsonValue as Impl,
  },

  // --- time
  DATE_FORMAT: {
    families: ['ANY', 'STRING'],
    required: 2,
    type: (args) =>
      isTimestamp(args[0]!.type) ||
      isCharacterString(args[0]!.type) ||
      args[0]!.type.name === 'NULL'
        ? { ...STRING, nullable: isCharacterString(args[0]!.type) }
        : undefined,
    make: (args) => {
      const fromString = isCharacterString(args[0]!.type);
      const fmt = constArg(args, 1);
      if (typeof fmt === 'string') {
        const f = formatterFor(fmt);
        return (
          fromString
            ? (s: string) => {
                const ms = parseTimestamp(s);
                return ms === null ? null : f(ms);
              }
            : (ms: number) => f(ms)
        ) as Impl;
      }
      return ((v: number | string, format: string) => {
        const ms = fromString ? parseTimestamp(v as string) : (v as number);
        return ms === null ? null : formatterFor(format)(ms);
      }) as Impl;
    },
  },
  TO_TIMESTAMP: {
    families: ['STRING', 'STRING'],
    required: 1,
    type: () => ({ ...TIMESTAMP3, nullable: true }),
    make: (args) => {
      const fmt = constArg(args, 1);
      if (args.length === 1 || typeof fmt === 'string') {
        const parse = parseWith(args.length === 1 ? DEFAULT_TIMESTAMP_FORMAT : (fmt as string));
        return ((s: string) => parse(s)) as Impl;
      }
      return ((s: string, format: string) => parserFor(format)(s)) as Impl;
    },
  },
  TO_DATE: {
    families: ['STRING', 'STRING'],
    required: 1,
    type: () => ({ ...DATE, nullable: true }),
    make: () =>
      ((s: string, format?: string) => {
        const ms = parserFor(format ?? 'yyyy-MM-dd')(s);
        return ms === null ? null : Math.floor(ms / MS_PER_DAY);
      }) as Impl,
  },
  TO_TIMESTAMP_LTZ: {
    families: ['NUMERIC', 'INTEGER'],
    required: 1,
    type: (args) => {
      const p = args.length > 1 ? constArg(args, 1) : 3;
      return p === 0 || p === 3 ? LTZ3 : undefined;
    },
    make: (args) => {
      const p = args.length > 1 ? constArg(args, 1) : 3;
      return (p === 0 ? (n: number) => Math.trunc(n * 1000) : (n: number) => Math.trunc(n)) as Impl;
    },
  },
  FROM_UNIXTIME: {
    families: ['NUMERIC', 'STRING'],
    required: 1,
    type: fixed(STRING),
    make: (args) => {
      const fmt = constArg(args, 1);
      if (args.length === 1 || typeof fmt === 'string') {
        const f = formatterFor(args.length === 1 ? DEFAULT_TIMESTAMP_FORMAT : (fmt as string));
        return ((s: number) => f(Math.trunc(s) * 1000)) as Impl;
      }
      return ((s: number, format: string) => formatterFor(format)(Math.trunc(s) * 1000)) as Impl;
    },
  },
  UNIX_TIMESTAMP: {
    families: ['STRING', 'STRING'],
    required: 0,
    type: (args) => ({ ...BIGINT, nullable: args.length > 0 }),
    deterministic: false,
    gen: (_g, args) => {
      return args.length === 0 ? 'Math.floor(ctx.currentProcessingTime() / 1000)' : undefined;
    },
    make: (args) => {
      const fmt = constArg(args, 1);
      const parse =
        args.length === 2 && typeof fmt !== 'string'
          ? undefined
          : parserFor((fmt as string | undefined) ?? DEFAULT_TIMESTAMP_FORMAT);
      // Flink answers Long.MIN_VALUE for text that does not parse; NULL is what JavaScript can carry.
      return ((s: string, format?: string) => {
        const ms = (parse ?? parserFor(format!))(s);
        return ms === null ? null : Math.floor(ms / 1000);
      }) as Impl;
    },
  },
  CURRENT_TIMESTAMP: {
    families: [],
    required: 0,
    type: fixed(LTZ3),
    deterministic: false,
    gen: () => 'ctx.currentProcessingTime()',
  },
  NOW: {
    families: [],
    required: 0,
    type: fixed(LTZ3),
    deterministic: false,
    gen: () => 'ctx.currentProcessingTime()',
  },
  CURRENT_ROW_TIMESTAMP: {
    families: [],
    required: 0,
    type: fixed(LTZ3),
    deterministic: false,
    gen: () => 'ctx.currentProcessingTime()',
  },
  LOCALTIMESTAMP: {
    families: [],
    required: 0,
    type: fixed(TIMESTAMP3),
    deterministic: false,
    gen: () => 'ctx.currentProcessingTime()',
  },
  CURRENT_DATE: {
    families: [],
    required: 0,
    type: fixed(DATE),
    deterministic: false,
    gen: () => `Math.floor(ctx.currentProcessingTime() / ${MS_PER_DAY})`,
  },
  CURRENT_TIME: {
    families: [],
    required: 0,
    type: fixed({ name: 'TIME', precision: 0, nullable: false }),
    deterministic: false,
    gen: () => `(ctx.currentProcessingTime() % ${MS_PER_DAY})`,
  },
  LOCALTIME: {
    families: [],
    required: 0,
    type: fixed({ name: 'TIME', precision: 0, nullable: false }),
    deterministic: false,
    gen: () => `(ctx.currentProcessingTime() % ${MS_PER_DAY})`,
  },
  PROCTIME: {
    families: [],
    required: 0,
    type: fixed({
      name: 'TIMESTAMP_LTZ',
      precision: 3,
      nullable: false,
      timeAttribute: 'PROCTIME',
    }),
    deterministic: false,
    gen: () => 'ctx.currentProcessingTime()',
  },
  EXTRACT: {
    families: ['STRING', 'DATETIME'],
    required: 2,
    type: (args) =>
      unitOf(args, 0) !== undefined && EXTRACT_UNITS.has(unitOf(args, 0)!) ? BIGINT : undefined,
    make: (args) => {
      const unit = unitOf(args, 0)!;
      const ms = toMillis(args[1]!.type);
      return ((_u: string, v: number) => extractField(unit, ms(v))) as Impl;
    },
  },
  TIMESTAMPDIFF: {
    families: ['STRING', 'DATETIME', 'DATETIME'],
    required: 3,
    type: (args) => (unitOf(args, 0) !== undefined ? INT : undefined),
    make: (args) => {
      const unit = unitOf(args, 0)!;
      const a = toMillis(args[1]!.type);
      const b = toMillis(args[2]!.type);
      return ((_u: string, x: number, y: number) => timestampDiff(unit, a(x), b(y))) as Impl;
    },
  },
  TIMESTAMPADD: {
    families: ['STRING', 'INTEGER', 'DATETIME'],
    required: 3,
    type: (args) =>
      unitOf(args, 0) !== undefined ? withoutTimeAttribute(args[2]!.type) : undefined,
    make: (args) => {
      const unit = unitOf(args, 0)!;
      if (args[2]!.type.name === 'DATE') {
        return ((_u: string, n: number, d: number) =>
          Math.floor(timestampAdd(unit, n, d * MS_PER_DAY) / MS_PER_DAY)) as Impl;
      }
      return ((_u: string, n: number, ms: number) => timestampAdd(unit, n, ms)) as Impl;
    },
  },

  // --- collections
  CARDINALITY: {
    families: ['COLLECTION'],
    required: 1,
    type: fixed(INT),
    make: () =>
      ((c: unknown) =>
        Array.isArray(c)
          ? c.length
          : c instanceof Map
            ? c.size
            : Object.keys(c as object).length) as Impl,
  },
  ELEMENT: {
    families: ['ARRAY'],
    required: 1,
    type: (args) => {
      const t = args[0]!.type;
      return t.name === 'ARRAY' ? { ...t.element, nullable: true } : undefined;
    },
    make: () =>
      ((a: unknown[]) => {
        if (a.length > 1) throw new Error('ELEMENT: the array has more than one element');
        return a.length === 0 ? null : a[0];
      }) as Impl,
  },
  ITEM: {
    families: ['COLLECTION', 'ANY'],
    required: 2,
    type: (args) => {
      const t = args[0]!.type;
      if (t.name === 'ARRAY')
        return isExactInteger(args[1]!.type) ? { ...t.element, nullable: true } : undefined;
      if (t.name === 'MAP') return { ...t.value, nullable: true };
      return undefined;
    },
    make: (args) =>
      (args[0]!.type.name === 'ARRAY'
        ? (a: unknown[], i: number) => (i >= 1 && i <= a.length ? (a[i - 1] ?? null) : null)
        : (m: unknown, k: unknown) => {
            if (m instanceof Map) return (m.get(k) as unknown) ?? null;
            const o = m as Record<string, unknown>;
            return Object.prototype.hasOwnProperty.call(o, k as string)
              ? (o[k as string] ?? null)
              : null;
          }) as Impl,
  },
};

/** The definition of a scalar function by upper-cased name, or undefined. */
export function lookupFunction(name: string): FunctionDef | undefined {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}

/** Whether `name` names a non-deterministic function (not folded as a constant). */
export function isNonDeterministic(name: string): boolean {
  return lookupFunction(name)?.deterministic === false || name === 'CURRENT_WATERMARK';
}

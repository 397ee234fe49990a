/**
 * The `json` format (Flink's `JsonFormatFactory`): one JSON object per record or line, fields by
 * column name. Like Flink, a missing field reads as null (or fails with
 * `json.fail-on-missing-field`), numbers may come as numeric strings, a value that does not fit
 * its column is a parse error, and `json.ignore-parse-errors` skips bad records instead of failing.
 */
import type { Row } from '../../row.js';
import type { RowField, SqlType } from '../../types.js';
import { javaDoubleString } from '../../planner/cast.js';
import type { OptionReader } from '../options.js';
import type { FormatFactory, RowDecoder, RowEncoder } from './format.js';
import { FormatError } from './format.js';
import type { TimestampStandard } from './time-format.js';
import {
  formatDate,
  formatTime,
  formatTimestamp,
  parseDate,
  parseTime,
  parseTimestamp,
} from './time-format.js';

const STANDARDS = ['SQL', 'ISO-8601'] as const;
const NULL_KEY_MODES = ['FAIL', 'DROP', 'LITERAL'] as const;

interface JsonSettings {
  readonly failOnMissing: boolean;
  readonly ignoreParseErrors: boolean;
  readonly standard: TimestampStandard;
  readonly nullKeyMode: (typeof NULL_KEY_MODES)[number];
  readonly nullKeyLiteral: string;
  readonly ignoreNullFields: boolean;
}

function settings(options: OptionReader): JsonSettings {
  return {
    failOnMissing: options.boolean('fail-on-missing-field') ?? false,
    ignoreParseErrors: options.boolean('ignore-parse-errors') ?? false,
    standard: options.enum('timestamp-format.standard', STANDARDS) ?? 'SQL',
    nullKeyMode: options.enum('map-null-key.mode', NULL_KEY_MODES) ?? 'FAIL',
    nullKeyLiteral: options.string('map-null-key.literal') ?? 'null',
    ignoreNullFields: options.boolean('encode.ignore-null-fields') ?? false,
  };
}

/** A value that does not fit its column. */
class Mismatch extends Error {}

function describeJson(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function toNumber(v: unknown, type: SqlType): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    if (!Number.isNaN(n)) return n;
  }
  throw new Mismatch(`Fail to deserialize ${describeJson(v)} as ${type.name}`);
}

function toInteger(v: unknown, type: SqlType, min: number, max: number): number {
  let n: number;
  if (typeof v === 'number') n = Math.trunc(v);
  else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) n = Number(v.trim());
  else throw new Mismatch(`Fail to deserialize ${describeJson(v)} as ${type.name}`);
  if (n < min || n > max) throw new Mismatch(`${describeJson(v)} is out of range of ${type.name}`);
  return n;
}

function roundDecimal(n: number, scale: number): number {
  const f = 10 ** scale;
  return Math.round(n * f) / f;
}

function fromJson(v: unknown, type: SqlType, s: JsonSettings): unknown {
  if (v === null || v === undefined) return null;
  switch (type.name) {
    case 'CHAR':
    case 'VARCHAR':
      // Flink reads a non-text node as its JSON text.
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return v.trim().toLowerCase() === 'true';
      throw new Mismatch(`Fail to deserialize ${describeJson(v)} as BOOLEAN`);
    case 'TINYINT':
      return toInteger(v, type, -128, 127);
    case 'SMALLINT':
      return toInteger(v, type, -32768, 32767);
    case 'INT':
      return toInteger(v, type, -2147483648, 2147483647);
    case 'BIGINT':
      return toInteger(v, type, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    case 'FLOAT':
      return Math.fround(toNumber(v, type));
    case 'DOUBLE':
      return toNumber(v, type);
    case 'DECIMAL':
      return roundDecimal(toNumber(v, type), type.scale);
    case 'DATE': {
      const d = typeof v === 'string' ? parseDate(v) : undefined;
      if (d === undefined) throw new Mismatch(`Fail to deserialize ${describeJson(v)} as DATE`);
      return d;
    }
    case 'TIME': {
      const t = typeof v === 'string' ? parseTime(v) : undefined;
      if (t === undefined) throw new Mismatch(`Fail to deserialize ${describeJson(v)} as TIME`);
      return t;
    }
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ': {
      const ltz = type.name === 'TIMESTAMP_LTZ';
      const t = typeof v === 'string' ? parseTimestamp(v, s.standard, ltz) : undefined;
      if (t === undefined) {
        throw new Mismatch(
          `Fail to deserialize ${describeJson(v)} as ${type.name} in the ${s.standard} standard (json.timestamp-format.standard)`,
        );
      }
      return t;
    }
    case 'BINARY':
    case 'VARBINARY':
      if (typeof v !== 'string')
        throw new Mismatch(`Fail to deserialize ${describeJson(v)} as BYTES`);
      return new Uint8Array(Buffer.from(v, 'base64'));
    case 'ARRAY':
    case 'MULTISET':
      if (!Array.isArray(v)) throw new Mismatch(`Fail to deserialize ${describeJson(v)} as ARRAY`);
      return v.map((e) => fromJson(e, type.element, s));
    case 'MAP': {
      if (typeof v !== 'object' || Array.isArray(v)) {
        throw new Mismatch(`Fail to deserialize ${describeJson(v)} as MAP`);
      }
      const entries = Object.entries(v as Record<string, unknown>);
      if (type.key.name === 'VARCHAR' || type.key.name === 'CHAR') {
        const out: Record<string, unknown> = {};
        for (const [k, e] of entries) out[k] = fromJson(e, type.value, s);
        return out;
      }
      const out = new Map<unknown, unknown>();
      for (const [k, e] of entries) out.set(fromJson(k, type.key, s), fromJson(e, type.value, s));
      return out;
    }
    case 'ROW':
      if (typeof v !== 'object' || Array.isArray(v)) {
        throw new Mismatch(`Fail to deserialize ${describeJson(v)} as ROW`);
      }
      return readRow(v as Record<string, unknown>, type.fields, s);
    default:
      throw new Mismatch(`Unsupported type ${type.name} in the json format`);
  }
}

function readRow(obj: Record<string, unknown>, fields: readonly RowField[], s: JsonSettings): Row {
  const row: Row = {};
  for (const f of fields) {
    const v = obj[f.name];
    if (v === undefined && s.failOnMissing) {
      throw new Mismatch(`Could not find field with name '${f.name}'.`);
    }
    try {
      row[f.name] = fromJson(v, f.type, s);
    } catch (e) {
      if (e instanceof Mismatch && !e.message.startsWith('Fail to deserialize at field')) {
        throw new Mismatch(`Fail to deserialize at field: ${f.name}: ${e.message}`);
      }
      throw e;
    }
  }
  return row;
}

/** JSON text of a value of `type` (written by hand so DECIMAL keeps its scale). */
function toJson(v: unknown, type: SqlType, s: JsonSettings): string {
  if (v === null || v === undefined) return 'null';
  switch (type.name) {
    case 'CHAR':
    case 'VARCHAR':
      return JSON.stringify(String(v));
    case 'BOOLEAN':
      return v ? 'true' : 'false';
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
      return String(v);
    case 'FLOAT':
    case 'DOUBLE':
      // Flink's JSON (Jackson) writes Java's Double.toString: 30.0, not 30; 1.0E7, not 10000000.
      // Float.toString for FLOAT: the shortest decimal that reads back as the same float32.
      return Number.isFinite(v as number)
        ? javaDoubleString(type.name === 'FLOAT' ? shortestFloat(v as number) : (v as number))
        : JSON.stringify(String(v));
    case 'DECIMAL':
      return (v as number).toFixed(type.scale);
    case 'DATE':
      return JSON.stringify(formatDate(v as number));
    case 'TIME':
      return JSON.stringify(formatTime(v as number));
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return JSON.stringify(
        formatTimestamp(toEpochMs(v), s.standard, type.name === 'TIMESTAMP_LTZ'),
      );
    case 'BINARY':
    case 'VARBINARY':
      return JSON.stringify(Buffer.from(v as Uint8Array).toString('base64'));
    case 'ARRAY':
    case 'MULTISET':
      return `[${(v as unknown[]).map((e) => toJson(e, type.element, s)).join(',')}]`;
    case 'MAP': {
      const entries: [unknown, unknown][] =
        v instanceof Map ? [...(v as Map<unknown, unknown>)] : Object.entries(v as object);
      const parts: string[] = [];
      for (const [k, e] of entries) {
        let key: string;
        if (k === null || k === undefined) {
          if (s.nullKeyMode === 'DROP') continue;
          if (s.nullKeyMode === 'FAIL') {
            throw new FormatError(
              "JSON format doesn't support to serialize map data with null keys. You can drop null key entries or encode null in literals by specifying 'json.map-null-key.mode' option.",
            );
          }
          key = s.nullKeyLiteral;
        } else {
          key = typeof k === 'string' ? k : stripQuotes(toJson(k, type.key, s));
        }
        parts.push(`${JSON.stringify(key)}:${toJson(e, type.value, s)}`);
      }
      return `{${parts.join(',')}}`;
    }
    case 'ROW':
      return writeRow(v as Row, type.fields, s);
    default:
      return JSON.stringify(v) ?? 'null';
  }
}

function shortestFloat(v: number): number {
  for (let p = 1; p < 9; p++) {
    const c = Number(v.toPrecision(p));
    if (Math.fround(c) === Math.fround(v)) return c;
  }
  return v;
}

function stripQuotes(json: string): string {
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}

function toEpochMs(v: unknown): number {
  return v instanceof Date ? v.getTime() : (v as number);
}

function writeRow(row: Row, fields: readonly RowField[], s: JsonSettings): string {
  const parts: string[] = [];
  for (const f of fields) {
    const v = row[f.name];
    if ((v === null || v === undefined) && s.ignoreNullFields) continue;
    parts.push(`${JSON.stringify(f.name)}:${toJson(v, f.type, s)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Decodes a JSON object into a row of `fields` (exported for the formats test and reuse). */
export function createJsonDecoder(fields: readonly RowField[], options: OptionReader): RowDecoder {
  const s = settings(options);
  return (bytes) => {
    const text = bytes.toString('utf8');
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new Mismatch(`expected a JSON object, got ${describeJson(parsed)}`);
      }
      return readRow(parsed as Record<string, unknown>, fields, s);
    } catch (e) {
      if (s.ignoreParseErrors) return null;
      throw new FormatError(`Failed to deserialize JSON '${text}'.`, { cause: e });
    }
  };
}

export function createJsonEncoder(fields: readonly RowField[], options: OptionReader): RowEncoder {
  const s = settings(options);
  return (row) => Buffer.from(writeRow(row, fields, s), 'utf8');
}

export const jsonFormat: FormatFactory = {
  identifier: 'json',
  options: [
    { key: 'fail-on-missing-field', type: 'boolean' },
    { key: 'ignore-parse-errors', type: 'boolean' },
    { key: 'timestamp-format.standard', type: 'enum', values: STANDARDS },
    { key: 'map-null-key.mode', type: 'enum', values: NULL_KEY_MODES },
    { key: 'map-null-key.literal', type: 'string' },
    { key: 'encode.decimal-as-plain-number', type: 'boolean' },
    { key: 'encode.ignore-null-fields', type: 'boolean' },
    { key: 'decode.json-parser.enabled', type: 'boolean' },
  ],
  validate() {},
  createDecoder: createJsonDecoder,
  createEncoder: createJsonEncoder,
};

/**
 * The `csv` format (Flink's `CsvFormatFactory`): one RFC 4180 record per Kafka record or file
 * line, columns in table order. Empty fields of non-string columns and fields equal to
 * `csv.null-literal` read as null; timestamps use the SQL form (`yyyy-MM-dd HH:mm:ss[.fff]`).
 */
// RFC 4180 splitting and quoting live with the file connectors, which read and write CSV too.
import { quoteCsv, splitCsv } from '@nimble/connector-files';
import type { Row } from '../../row.js';
import type { RowField, SqlType } from '../../types.js';
import type { OptionReader } from '../options.js';
import type { FormatFactory, RowDecoder, RowEncoder } from './format.js';
import { FormatError } from './format.js';
import {
  formatDate,
  formatTime,
  formatTimestamp,
  parseDate,
  parseTime,
  parseTimestamp,
} from './time-format.js';

interface CsvSettings {
  readonly delimiter: string;
  /** undefined with `disable-quote-character`. */
  readonly quote: string | undefined;
  readonly allowComments: boolean;
  readonly ignoreParseErrors: boolean;
  readonly nullLiteral: string | undefined;
  readonly arrayDelimiter: string;
  readonly escape: string | undefined;
}

function singleChar(options: OptionReader, key: string, fallback: string): string {
  const v = options.string(key);
  if (v === undefined) return fallback;
  // Flink accepts '\t' spelled out as well as a literal tab.
  const c = v === '\\t' ? '\t' : v;
  if (c.length !== 1) {
    throw new FormatError(
      `Option 'csv.${key}' must be a string with single character, but was: ${v}`,
    );
  }
  return c;
}

function settings(options: OptionReader): CsvSettings {
  const disableQuote = options.boolean('disable-quote-character') ?? false;
  const escape = options.string('escape-character');
  return {
    delimiter: singleChar(options, 'field-delimiter', ','),
    quote: disableQuote ? undefined : singleChar(options, 'quote-character', '"'),
    allowComments: options.boolean('allow-comments') ?? false,
    ignoreParseErrors: options.boolean('ignore-parse-errors') ?? false,
    nullLiteral: options.string('null-literal'),
    arrayDelimiter: options.string('array-element-delimiter') ?? ';',
    escape: escape === undefined ? undefined : singleChar(options, 'escape-character', '\\'),
  };
}

function parseField(text: string, type: SqlType, s: CsvSettings): unknown {
  if (s.nullLiteral !== undefined && text === s.nullLiteral) return null;
  const isString = type.name === 'VARCHAR' || type.name === 'CHAR';
  if (isString) return text;
  const t = text.trim();
  if (t === '') return null;
  const fail = (): never => {
    throw new FormatError(`Fail to deserialize '${text}' as ${type.name}`);
  };
  switch (type.name) {
    case 'BOOLEAN':
      return t.toLowerCase() === 'true';
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
      return /^[+-]?\d+$/.test(t) ? Number(t) : fail();
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL': {
      const n = Number(t);
      if (Number.isNaN(n)) return fail();
      if (type.name === 'DECIMAL') return Math.round(n * 10 ** type.scale) / 10 ** type.scale;
      return type.name === 'FLOAT' ? Math.fround(n) : n;
    }
    case 'DATE':
      return parseDate(t) ?? fail();
    case 'TIME':
      return parseTime(t) ?? fail();
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return (
        parseTimestamp(t, 'SQL', false) ??
        (type.name === 'TIMESTAMP_LTZ' ? parseTimestamp(t, 'SQL', true) : undefined) ??
        fail()
      );
    case 'BINARY':
    case 'VARBINARY':
      return new Uint8Array(Buffer.from(t, 'base64'));
    case 'ARRAY':
      return t.split(s.arrayDelimiter).map((e) => parseField(e, type.element, s));
    default:
      throw new FormatError(`Unsupported type ${type.name} in the csv format`);
  }
}

function formatField(v: unknown, type: SqlType, s: CsvSettings): string {
  if (v === null || v === undefined) return s.nullLiteral ?? '';
  switch (type.name) {
    case 'DECIMAL':
      return (v as number).toFixed(type.scale);
    case 'DATE':
      return formatDate(v as number);
    case 'TIME':
      return formatTime(v as number);
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return formatTimestamp(v instanceof Date ? v.getTime() : (v as number), 'SQL', false);
    case 'BINARY':
    case 'VARBINARY':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'ARRAY':
      return (v as unknown[]).map((e) => formatField(e, type.element, s)).join(s.arrayDelimiter);
    default:
      return String(v);
  }
}

export function createCsvDecoder(fields: readonly RowField[], options: OptionReader): RowDecoder {
  const s = settings(options);
  return (bytes) => {
    let text = bytes.toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
    if (s.allowComments && text.startsWith('#')) return null;
    try {
      const parts = splitCsv(text, s);
      if (parts.length < fields.length) {
        throw new FormatError(`expected ${fields.length} fields, found ${parts.length}`);
      }
      const row: Row = {};
      fields.forEach((f, i) => {
        row[f.name] = parseField(parts[i]!, f.type, s);
      });
      return row;
    } catch (e) {
      if (s.ignoreParseErrors) return null;
      throw new FormatError(`Failed to deserialize CSV row '${text}'.`, { cause: e });
    }
  };
}

export function createCsvEncoder(fields: readonly RowField[], options: OptionReader): RowEncoder {
  const s = settings(options);
  return (row) =>
    Buffer.from(
      fields.map((f) => quoteCsv(formatField(row[f.name], f.type, s), s)).join(s.delimiter),
      'utf8',
    );
}

export const csvFormat: FormatFactory = {
  identifier: 'csv',
  options: [
    { key: 'field-delimiter', type: 'string' },
    { key: 'disable-quote-character', type: 'boolean' },
    { key: 'quote-character', type: 'string' },
    { key: 'allow-comments', type: 'boolean' },
    { key: 'ignore-parse-errors', type: 'boolean' },
    { key: 'array-element-delimiter', type: 'string' },
    { key: 'escape-character', type: 'string' },
    { key: 'null-literal', type: 'string' },
    { key: 'write-bigdecimal-in-scientific-notation', type: 'boolean' },
  ],
  createDecoder: createCsvDecoder,
  createEncoder: createCsvEncoder,
};

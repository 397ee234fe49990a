/**
 * The `raw` format (Flink's `RawFormatFactory`): the whole record is the value of the table's
 * single physical column, a STRING (decoded with `raw.charset`) or BYTES. A null value is written
 * as an empty record.
 */
import { ValidationError } from '../../errors.js';
import { formatType } from '../../types.js';
import type { RowField } from '../../types.js';
import type { OptionReader } from '../options.js';
import type { FormatFactory, RowDecoder, RowEncoder } from './format.js';

const CHARSETS: Record<string, BufferEncoding> = {
  'utf-8': 'utf8',
  utf8: 'utf8',
  'us-ascii': 'ascii',
  'iso-8859-1': 'latin1',
  'utf-16le': 'utf16le',
};

function charset(options: OptionReader): BufferEncoding {
  const name = options.string('charset') ?? 'UTF-8';
  const enc = CHARSETS[name.toLowerCase()];
  if (!enc) {
    throw new ValidationError(
      `Unsupported 'raw.charset' '${name}'; supported: UTF-8, US-ASCII, ISO-8859-1, UTF-16LE.`,
    );
  }
  return enc;
}

function isText(field: RowField): boolean {
  return field.type.name === 'VARCHAR' || field.type.name === 'CHAR';
}

export const rawFormat: FormatFactory = {
  identifier: 'raw',
  options: [
    { key: 'charset', type: 'string' },
    { key: 'endianness', type: 'enum', values: ['big-endian', 'little-endian'] },
  ],
  validate(fields) {
    if (fields.length !== 1) {
      throw new ValidationError(
        `The 'raw' format only supports single physical column. However the defined schema contains multiple physical columns: [${fields.map((f) => `\`${f.name}\` ${formatType(f.type)}`).join(', ')}]`,
      );
    }
    const f = fields[0]!;
    if (!isText(f) && f.type.name !== 'VARBINARY' && f.type.name !== 'BINARY') {
      throw new ValidationError(
        `The 'raw' format doesn't supports '${formatType(f.type)}' as column type (Nimble reads STRING and BYTES).`,
      );
    }
  },
  createDecoder(fields, options): RowDecoder {
    rawFormat.validate!(fields);
    const f = fields[0]!;
    const enc = charset(options);
    return isText(f)
      ? (bytes) => ({ [f.name]: bytes.toString(enc) })
      : (bytes) => ({ [f.name]: new Uint8Array(bytes) });
  },
  createEncoder(fields, options): RowEncoder {
    rawFormat.validate!(fields);
    const f = fields[0]!;
    const enc = charset(options);
    return (row) => {
      const v = row[f.name];
      if (v === null || v === undefined) return Buffer.alloc(0);
      return typeof v === 'string' ? Buffer.from(v, enc) : Buffer.from(v as Uint8Array);
    };
  },
};

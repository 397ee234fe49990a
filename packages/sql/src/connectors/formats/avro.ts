/**
 * The `avro` and `avro-confluent` formats (Flink's `AvroFormatFactory` and
 * `RegistryAvroFormatFactory`), on @nimble/format-avro. `avro`: each record is one Avro datum of
 * the schema derived from the table's columns (Flink's `AvroSchemaConverter`: a record named
 * `record`, nested rows `record_<field>`, a nullable column a union with null, DECIMAL as bytes
 * with the decimal logical type, DATE/TIME/TIMESTAMP as int/long with their logical types).
 * `avro-confluent`: Confluent's wire format, the writer schema of each record fetched from the
 * registry (never per record: once per fetched batch, before it is read) and resolved into the
 * table's schema; the sink registers the table's schema under `avro-confluent.subject`
 * (`<topic>-value` by default) before its first record.
 */
import {
  AvroDeserializationSchema,
  AvroSerializationSchema,
  ConfluentRegistryAvroDeserializationSchema,
  ConfluentRegistryAvroSerializationSchema,
} from '@nimble/format-avro';
import type { SchemaRegistryConfigs } from '@nimble/format-avro';
import { ValidationError } from '../../errors.js';
import type { Row } from '../../row.js';
import type { RowField, SqlType } from '../../types.js';
import { formatType } from '../../types.js';
import type { OptionReader } from '../options.js';
import type { FormatFactory, RowDecoder, RowEncoder } from './format.js';
import { FormatError } from './format.js';

type AvroJson = string | Record<string, unknown> | AvroJson[];

/** The Avro schema of a column type (not null: the caller wraps nullable ones in a union). */
function avroOf(type: SqlType, name: string): AvroJson {
  switch (type.name) {
    case 'BOOLEAN':
      return 'boolean';
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
      return 'int';
    case 'BIGINT':
      return 'long';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    case 'CHAR':
    case 'VARCHAR':
      return 'string';
    case 'BINARY':
    case 'VARBINARY':
      return 'bytes';
    case 'DECIMAL':
      return {
        type: 'bytes',
        logicalType: 'decimal',
        precision: type.precision,
        scale: type.scale,
      };
    case 'DATE':
      return { type: 'int', logicalType: 'date' };
    case 'TIME':
      return { type: 'int', logicalType: 'time-millis' };
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return { type: 'long', logicalType: 'timestamp-millis' };
    case 'ARRAY':
      return { type: 'array', items: nullableAvro(type.element, name) };
    case 'MAP':
      if (type.key.name !== 'VARCHAR' && type.key.name !== 'CHAR') break;
      return { type: 'map', values: nullableAvro(type.value, name) };
    case 'ROW':
      return recordSchema(type.fields, `${name}_`, name);
    default:
      break;
  }
  throw new ValidationError(
    `Unsupported type ${formatType(type)} in the avro formats (supported: BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL, STRING, BYTES, DATE, TIME, TIMESTAMP, TIMESTAMP_LTZ, ARRAY, MAP with STRING keys, ROW).`,
  );
}

function nullableAvro(type: SqlType, name: string): AvroJson {
  const t = avroOf(type, name);
  return type.nullable ? ['null', t] : t;
}

function recordSchema(
  fields: readonly RowField[],
  prefix: string,
  name: string,
): Record<string, unknown> {
  return {
    type: 'record',
    name,
    ...(prefix === '' ? { namespace: 'org.apache.flink.avro.generated' } : {}),
    fields: fields.map((f) => ({
      name: f.name,
      type: nullableAvro(f.type, `${prefix === '' ? name : prefix.slice(0, -1)}_${f.name}`),
      ...(f.type.nullable ? { default: null } : {}),
    })),
  };
}

/** The Avro schema Flink derives from the table's columns (`AvroSchemaConverter.convertToSchema`). */
export function avroSchemaOf(fields: readonly RowField[]): Record<string, unknown> {
  return recordSchema(fields, '', 'record');
}

// ---- values ----

function decimalBytes(v: number, scale: number): Buffer {
  let unscaled = BigInt(Math.round(v * 10 ** scale));
  const bytes: number[] = [];
  const negative = unscaled < 0n;
  // Two's complement, big-endian, as few bytes as keep the sign.
  for (;;) {
    bytes.unshift(Number(unscaled & 0xffn));
    unscaled >>= 8n;
    const top = bytes[0]! & 0x80;
    if ((!negative && unscaled === 0n && top === 0) || (negative && unscaled === -1n && top !== 0))
      break;
  }
  return Buffer.from(bytes);
}

function decimalOf(b: Buffer, scale: number): number {
  if (b.length === 0) return 0;
  let n = 0n;
  for (const byte of b) n = (n << 8n) | BigInt(byte);
  if (b[0]! & 0x80) n -= 1n << BigInt(8 * b.length);
  return Number(n) / 10 ** scale;
}

function toAvro(v: unknown, type: SqlType): unknown {
  if (v === null || v === undefined) return null;
  switch (type.name) {
    case 'CHAR':
    case 'VARCHAR':
      return typeof v === 'string' ? v : String(v);
    case 'BINARY':
    case 'VARBINARY':
      return Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array);
    case 'DECIMAL':
      return decimalBytes(v as number, type.scale);
    case 'ARRAY':
      return (v as unknown[]).map((e) => toAvro(e, type.element));
    case 'MAP': {
      const out: Record<string, unknown> = {};
      const entries = v instanceof Map ? [...v] : Object.entries(v as Record<string, unknown>);
      for (const [k, e] of entries) out[String(k)] = toAvro(e, type.value);
      return out;
    }
    case 'ROW':
      return toAvroRecord(v as Row, type.fields);
    default:
      return v;
  }
}

function toAvroRecord(row: Row, fields: readonly RowField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f.name] = toAvro(row[f.name], f.type);
  return out;
}

function fromAvro(v: unknown, type: SqlType): unknown {
  if (v === null || v === undefined) return null;
  switch (type.name) {
    case 'BINARY':
    case 'VARBINARY':
      return new Uint8Array(v as Buffer);
    case 'DECIMAL':
      return decimalOf(v as Buffer, type.scale);
    case 'ARRAY':
      return (v as unknown[]).map((e) => fromAvro(e, type.element));
    case 'MAP': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v as Record<string, unknown>))
        out[k] = fromAvro(e, type.value);
      return out;
    }
    case 'ROW':
      return fromAvroRecord(v as Record<string, unknown>, type.fields);
    default:
      return v;
  }
}

function fromAvroRecord(record: Record<string, unknown>, fields: readonly RowField[]): Row {
  const row: Row = {};
  for (const f of fields) row[f.name] = fromAvro(record[f.name], f.type);
  return row;
}

function readError(e: unknown): FormatError {
  return new FormatError((e as Error).message, { cause: e });
}

// ---- factories ----

export const avroFormat: FormatFactory = {
  identifier: 'avro',
  options: [],
  validate(fields) {
    avroSchemaOf(fields);
  },
  createDecoder(fields): RowDecoder {
    const schema = AvroDeserializationSchema.forGeneric(avroSchemaOf(fields));
    return (bytes) => {
      let record: Record<string, unknown>;
      try {
        record = schema.deserialize(bytes);
      } catch (e) {
        throw readError(e);
      }
      return fromAvroRecord(record, fields);
    };
  },
  createEncoder(fields): RowEncoder {
    const schema = AvroSerializationSchema.forGeneric(avroSchemaOf(fields));
    return (row) => {
      try {
        return schema.serialize(toAvroRecord(row, fields));
      } catch (e) {
        throw readError(e);
      }
    };
  },
};

function registryConfigs(options: OptionReader): SchemaRegistryConfigs {
  const configs: Record<string, string> = {};
  const userInfo = options.string('basic-auth.user-info');
  if (userInfo !== undefined) configs['basic.auth.user.info'] = userInfo;
  const source = options.string('basic-auth.credentials-source');
  if (source !== undefined) configs['basic.auth.credentials.source'] = source;
  const token = options.string('bearer-auth.token');
  if (token !== undefined) configs['bearer.auth.token'] = token;
  return configs;
}

function url(options: OptionReader): string {
  const u = options.string('url');
  if (u === undefined) {
    throw new ValidationError(
      "One or more required options are missing.\n\nMissing required options are:\n\nurl (set 'avro-confluent.url' to the schema registry's URL)",
    );
  }
  return u;
}

function schemaOption(options: OptionReader, fields: readonly RowField[]): Record<string, unknown> {
  const text = options.string('schema');
  if (text === undefined) return avroSchemaOf(fields);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ValidationError(`'avro-confluent.schema' is not valid JSON: ${(e as Error).message}`);
  }
}

export const avroConfluentFormat: FormatFactory = {
  identifier: 'avro-confluent',
  options: [
    { key: 'url', type: 'string' },
    { key: 'subject', type: 'string' },
    { key: 'schema', type: 'string' },
    { key: 'basic-auth.credentials-source', type: 'string' },
    { key: 'basic-auth.user-info', type: 'string' },
    { key: 'bearer-auth.credentials-source', type: 'string' },
    { key: 'bearer-auth.token', type: 'string' },
  ],
  validate(fields) {
    avroSchemaOf(fields);
  },
  createDecoder(fields, options): RowDecoder {
    const schema = ConfluentRegistryAvroDeserializationSchema.forGeneric(
      schemaOption(options, fields),
      url(options),
      registryConfigs(options),
    );
    const decode: RowDecoder = (bytes) => {
      let record: Record<string, unknown>;
      try {
        record = schema.deserialize(bytes);
      } catch (e) {
        throw readError(e);
      }
      return fromAvroRecord(record, fields);
    };
    decode.prepare = (values) => schema.prepare(values);
    return decode;
  },
  createEncoder(fields, options, context): RowEncoder {
    const subject = options.string('subject') ?? context?.defaultSubject;
    if (subject === undefined) {
      throw new ValidationError(
        "Option 'avro-confluent.subject' is required for writing with the 'avro-confluent' format outside the kafka and upsert-kafka connectors.",
      );
    }
    const schema = ConfluentRegistryAvroSerializationSchema.forGeneric(
      subject,
      schemaOption(options, fields),
      url(options),
      registryConfigs(options),
    );
    const encode: RowEncoder = (row) => {
      try {
        return schema.serialize(toAvroRecord(row, fields));
      } catch (e) {
        throw readError(e);
      }
    };
    encode.open = () => schema.open();
    return encode;
  },
};

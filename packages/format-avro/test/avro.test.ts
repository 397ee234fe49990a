import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AvroDeserializationSchema,
  AvroSerializationSchema,
  ConfluentRegistryAvroDeserializationSchema,
  ConfluentRegistryAvroSerializationSchema,
  confluentSchemaId,
  SchemaRegistryClient,
} from '../src/index.js';

const USER = {
  type: 'record',
  name: 'User',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
    { name: 'score', type: ['null', 'double'], default: null },
  ],
};

describe('Avro without a registry', () => {
  it('writes and reads generic records', () => {
    const out = AvroSerializationSchema.forGeneric(USER);
    const back = AvroDeserializationSchema.forGeneric(JSON.stringify(USER));
    const bytes = out.serialize({ id: 7, name: 'ann', score: 1.5 });
    // Avro binary: zig-zag long 7 = 0x0e, string length 3 (0x06) "ann", union branch 1, double.
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0x0e, 0x06, 0x61, 0x6e, 0x6e]));
    expect({ ...back.deserialize(bytes) }).toEqual({ id: 7, name: 'ann', score: 1.5 });
  });

  it('an element that does not fit names the field and the type', () => {
    const out = AvroSerializationSchema.forGeneric(USER);
    expect(() => out.serialize({ id: 'x', name: 'ann', score: null } as never)).toThrow(
      'cannot write the element as Avro User: field id is "x", not a "long"',
    );
  });

  it('an invalid schema is refused with avsc reason', () => {
    expect(() => AvroSerializationSchema.forGeneric({ type: 'record', name: 'X' })).toThrow(
      /Avro schema is not valid: .*fields/,
    );
  });

  it('truncated bytes name the schema', () => {
    const back = AvroDeserializationSchema.forGeneric(USER);
    expect(() => back.deserialize(Buffer.from([0x0e, 0x06, 0x61]))).toThrow(
      /cannot read 3 bytes as a datum of Avro schema User/,
    );
  });
});

describe('Confluent wire format without a registry round trip', () => {
  it('a record not in the wire format is refused with its first byte', () => {
    const d = ConfluentRegistryAvroDeserializationSchema.forGeneric(null, 'http://127.0.0.1:1');
    expect(() => d.deserialize(Buffer.from([1, 0, 0, 0, 1, 2]))).toThrow(
      'the record is not in the Confluent wire format: it starts with byte 1, not the magic byte 0, or is shorter than 5 bytes',
    );
    expect(() => d.deserialize(Buffer.alloc(0))).toThrow(/the record is empty/);
  });

  it('reads the schema id of a record', () => {
    expect(confluentSchemaId(Buffer.from([0, 0, 0, 1, 2, 9]))).toBe(258);
    expect(confluentSchemaId(Buffer.from([0, 0, 1]))).toBeUndefined();
    expect(confluentSchemaId(null)).toBeUndefined();
  });

  it('serialize before open says what to do', () => {
    const s = ConfluentRegistryAvroSerializationSchema.forGeneric(
      'users-value',
      USER,
      'http://127.0.0.1:1',
    );
    expect(() => s.serialize({ id: 1, name: 'a', score: null })).toThrow(
      "ConfluentRegistryAvroSerializationSchema for subject 'users-value' is not open",
    );
  });

  it('an unreachable registry is named by its URL, in open() and in prepare()', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    const s = ConfluentRegistryAvroSerializationSchema.forGeneric('users-value', USER, url);
    await expect(s.open()).rejects.toThrow(
      `schema registry ${url} is unreachable (POST /subjects/users-value: ECONNREFUSED): check the registry URL and that the registry runs`,
    );
    const d = ConfluentRegistryAvroDeserializationSchema.forGeneric(USER, url);
    await expect(d.prepare([Buffer.from([0, 0, 0, 0, 42, 0])])).rejects.toThrow(
      `schema registry ${url} is unreachable (GET /schemas/ids/42: ECONNREFUSED)`,
    );
    // Nothing to fetch: nothing to wait for.
    expect(d.prepare([null, Buffer.from('{}')])).toBeUndefined();
  });

  it('basic.auth.user.info becomes a basic Authorization header; bad settings are named', () => {
    expect(() => new SchemaRegistryClient('')).toThrow('schema registry: a URL is required');
    expect(() => new SchemaRegistryClient('not a url')).toThrow(
      "schema registry: 'not a url' is not a URL",
    );
    expect(
      () =>
        new SchemaRegistryClient('http://r:8081', {
          'basic.auth.credentials.source': 'SASL_INHERIT',
        }),
    ).toThrow("basic.auth.credentials.source 'SASL_INHERIT' is not supported");
    const c = new SchemaRegistryClient('http://u:p@r:8081/', {
      'basic.auth.credentials.source': 'URL',
    });
    expect(c.url).toBe('http://r:8081');
  });
});

describe('schema text', () => {
  it('keeps defaults and logical types, which compatibility checks need', async () => {
    const { schemaText, avroType } = await import('../src/index.js');
    const text = schemaText(
      avroType({
        type: 'record',
        name: 'P',
        fields: [
          { name: 'region', type: 'string', default: 'eu' },
          { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
        ],
      }),
    );
    expect(JSON.parse(text)).toEqual({
      type: 'record',
      name: 'P',
      fields: [
        { name: 'region', type: 'string', default: 'eu' },
        { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
      ],
    });
  });
});

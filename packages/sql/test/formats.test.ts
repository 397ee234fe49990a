import { describe, expect, it } from 'vitest';
import { FormatError } from '../src/connectors/formats/format.js';
import { discoverFormat, formatFactory } from '../src/connectors/formats/registry.js';
import { OptionReader, validateOptions } from '../src/connectors/options.js';
import type { RowField } from '../src/types.js';
import { Types } from '../src/types.js';

const fields: RowField[] = [
  { name: 'id', type: Types.INT() },
  { name: 'name', type: Types.STRING() },
  { name: 'amount', type: Types.DECIMAL(10, 2) },
  { name: 'ts', type: Types.TIMESTAMP(3) },
  { name: 'lts', type: Types.TIMESTAMP_LTZ(3) },
  { name: 'd', type: { name: 'DATE', nullable: true } },
  { name: 'tags', type: { name: 'ARRAY', element: Types.STRING(), nullable: true } },
  {
    name: 'nested',
    type: { name: 'ROW', fields: [{ name: 'x', type: Types.DOUBLE() }], nullable: true },
  },
];

const TS = Date.UTC(2024, 0, 1, 0, 5, 0, 120);
const row = {
  id: 7,
  name: 'a "quoted", name',
  amount: 12.5,
  ts: TS,
  lts: TS,
  d: 19723,
  tags: ['x', 'y'],
  nested: { x: 1.5 },
};

function codec(id: string, opts: Record<string, string> = {}, f: RowField[] = fields) {
  const factory = formatFactory(id);
  const o = new OptionReader(new Map(Object.entries(opts)));
  return { decode: factory.createDecoder(f, o), encode: factory.createEncoder(f, o) };
}

describe('json format', () => {
  it('writes timestamps in the SQL standard by default and reads them back', () => {
    const { encode, decode } = codec('json');
    const text = encode(row).toString();
    expect(text).toBe(
      '{"id":7,"name":"a \\"quoted\\", name","amount":12.50,"ts":"2024-01-01 00:05:00.12","lts":"2024-01-01 00:05:00.12Z","d":"2024-01-01","tags":["x","y"],"nested":{"x":1.5}}',
    );
    expect(decode(Buffer.from(text))).toEqual(row);
  });

  it('writes and reads the ISO-8601 standard', () => {
    const { encode, decode } = codec('json', { 'timestamp-format.standard': 'ISO-8601' });
    const text = encode(row).toString();
    expect(text).toContain('"ts":"2024-01-01T00:05:00.12"');
    expect(text).toContain('"lts":"2024-01-01T00:05:00.12Z"');
    expect(decode(Buffer.from(text))).toEqual(row);
    // Lenient fraction digits and optional seconds in ISO.
    const r = decode(Buffer.from('{"ts":"2024-01-01T00:05","lts":"2024-01-01T00:05:00.123456Z"}'));
    expect(r).toMatchObject({
      ts: Date.UTC(2024, 0, 1, 0, 5),
      lts: Date.UTC(2024, 0, 1, 0, 5, 0, 123),
    });
  });

  it('fails on a timestamp of the other standard', () => {
    const { decode } = codec('json');
    expect(() => decode(Buffer.from('{"ts":"2024-01-01T00:05:00"}'))).toThrow(
      `Failed to deserialize JSON '{"ts":"2024-01-01T00:05:00"}'.`,
    );
  });

  it('reads missing fields as null, or fails with fail-on-missing-field', () => {
    expect(codec('json').decode(Buffer.from('{"id":1}'))).toMatchObject({ id: 1, name: null });
    const strict = codec('json', { 'fail-on-missing-field': 'true' });
    let error: unknown;
    try {
      strict.decode(Buffer.from('{"id":1}'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FormatError);
    expect(String((error as Error).cause)).toContain("Could not find field with name 'name'.");
  });

  it('treats a value of the wrong type as a parse error, skipped with ignore-parse-errors', () => {
    expect(() => codec('json').decode(Buffer.from('{"id":"abc"}'))).toThrow(
      `Failed to deserialize JSON '{"id":"abc"}'.`,
    );
    expect(() => codec('json').decode(Buffer.from('not json'))).toThrow(FormatError);
    const lenient = codec('json', { 'ignore-parse-errors': 'true' });
    expect(lenient.decode(Buffer.from('{"id":"abc"}'))).toBeNull();
    expect(lenient.decode(Buffer.from('not json'))).toBeNull();
    // Numeric strings are numbers, as in Flink.
    expect(codec('json').decode(Buffer.from('{"id":"12"}'))).toMatchObject({ id: 12 });
  });

  it('writes nulls as null fields', () => {
    expect(codec('json', {}, fields.slice(0, 2)).encode({ id: null, name: null }).toString()).toBe(
      '{"id":null,"name":null}',
    );
  });

  it('validates its options under the format prefix', () => {
    const options = new Map([
      ['connector', 'filesystem'],
      ['format', 'json'],
      ['json.foo', 'x'],
    ]);
    const f = discoverFormat(options, 'format')!;
    expect(f.prefix).toBe('json.');
    expect(() =>
      validateOptions('filesystem', options, [{ key: 'format', type: 'string' }, ...f.specs]),
    ).toThrow(
      "Unsupported options found for 'filesystem'.\n\nUnsupported options:\n\njson.foo\n\nSupported options:\n\nconnector\nformat\njson.decode.json-parser.enabled\njson.encode.decimal-as-plain-number\njson.encode.ignore-null-fields\njson.fail-on-missing-field\njson.ignore-parse-errors\njson.map-null-key.literal\njson.map-null-key.mode\njson.timestamp-format.standard\nproperty-version",
    );
    expect(discoverFormat(new Map([['value.format', 'json']]), 'value.format')!.prefix).toBe(
      'value.json.',
    );
  });

  it('names the available formats for an unknown one', () => {
    expect(() => formatFactory('xml')).toThrow(
      "Could not find any factory for identifier 'xml' that implements 'SerializationFormatFactory' / 'DeserializationFormatFactory'.\n\nAvailable factory identifiers are:\n\navro\navro-confluent\ncsv\njson\nraw",
    );
  });
});

describe('csv format', () => {
  const flat = fields.slice(0, 6);
  it('round-trips with RFC 4180 quoting and SQL timestamps', () => {
    const { encode, decode } = codec('csv', {}, flat);
    const text = encode(row).toString();
    expect(text).toBe(
      '7,"a ""quoted"", name",12.50,2024-01-01 00:05:00.12,2024-01-01 00:05:00.12,2024-01-01',
    );
    expect(decode(Buffer.from(text))).toEqual({
      id: 7,
      name: 'a "quoted", name',
      amount: 12.5,
      ts: TS,
      lts: TS,
      d: 19723,
    });
  });

  it('honours field-delimiter, null-literal, allow-comments and ignore-parse-errors', () => {
    const two = flat.slice(0, 2);
    const c = codec(
      'csv',
      { 'field-delimiter': ';', 'null-literal': 'N/A', 'allow-comments': 'true' },
      two,
    );
    expect(c.decode(Buffer.from('1;N/A'))).toEqual({ id: 1, name: null });
    expect(c.encode({ id: null, name: 'x;y' }).toString()).toBe('N/A;"x;y"');
    expect(c.decode(Buffer.from('# a comment'))).toBeNull();
    expect(() => codec('csv', {}, two).decode(Buffer.from('abc,x'))).toThrow(
      "Failed to deserialize CSV row 'abc,x'.",
    );
    expect(
      codec('csv', { 'ignore-parse-errors': 'true' }, two).decode(Buffer.from('abc,x')),
    ).toBeNull();
    expect(codec('csv', {}, two).decode(Buffer.from(',x'))).toEqual({ id: null, name: 'x' });
  });
});

describe('raw format', () => {
  it('reads and writes one STRING column', () => {
    const f = [{ name: 'line', type: Types.STRING() }];
    const { encode, decode } = codec('raw', {}, f);
    expect(decode(Buffer.from('héllo'))).toEqual({ line: 'héllo' });
    expect(encode({ line: 'héllo' }).toString()).toBe('héllo');
  });

  it('rejects more than one physical column', () => {
    expect(() => formatFactory('raw').validate!(fields.slice(0, 2))).toThrow(
      "The 'raw' format only supports single physical column. However the defined schema contains multiple physical columns: [`id` INT, `name` STRING]",
    );
  });
});

describe('avro format', () => {
  it('round-trips every supported type, nulls included', () => {
    const { encode, decode } = codec('avro');
    expect(decode(encode(row))).toEqual(row);
    const nulls = Object.fromEntries(fields.map((f) => [f.name, null]));
    expect(decode(encode(nulls))).toEqual(nulls);
    // A negative decimal and a map of string keys.
    const f: RowField[] = [
      { name: 'a', type: Types.DECIMAL(10, 2, false) },
      {
        name: 'm',
        type: { name: 'MAP', key: Types.STRING(false), value: Types.BIGINT(), nullable: true },
      },
    ];
    const c = codec('avro', {}, f);
    expect(c.decode(c.encode({ a: -1234.56, m: { x: 1, y: null } }))).toEqual({
      a: -1234.56,
      m: { x: 1, y: null },
    });
  });

  it("derives Flink's schema from the columns", async () => {
    const { avroSchemaOf } = await import('../src/connectors/formats/avro.js');
    expect(avroSchemaOf(fields.slice(0, 3))).toEqual({
      type: 'record',
      name: 'record',
      namespace: 'org.apache.flink.avro.generated',
      fields: [
        { name: 'id', type: ['null', 'int'], default: null },
        { name: 'name', type: ['null', 'string'], default: null },
        {
          name: 'amount',
          type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }],
          default: null,
        },
      ],
    });
  });

  it('a record it cannot read is a FormatError; avro-confluent needs its url', () => {
    const { decode } = codec('avro');
    expect(() => decode(Buffer.from([0x02]))).toThrow(FormatError);
    expect(() => codec('avro-confluent')).toThrow(/avro-confluent\.url/);
  });
});

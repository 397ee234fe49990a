/**
 * The `kafka` and `upsert-kafka` connectors (Flink's `KafkaDynamicTableFactory` and
 * `UpsertKafkaDynamicTableFactory`) on @nimble/connector-kafka, with Flink's option names.
 *
 * Source rows take their physical columns from the value format (and the key format for
 * `key.fields`) and the metadata columns `topic`, `partition`, `offset`, `timestamp`,
 * `timestamp-type`, `headers`, `leader-epoch` from the record. A record the format cannot read
 * fails the job, naming the table, topic, partition and offset, unless the format skips it
 * (`json.ignore-parse-errors`). Tombstones (null values) are skipped, as in Flink.
 *
 * The upsert-kafka sink takes an upsert changelog: +I/+U write key = the primary key columns,
 * value = the row; -D writes a tombstone (null value); -U is dropped.
 *
 * The upsert-kafka source reads a keyed topic as a changelog, as Flink's does (its source and
 * ChangelogNormalize): the latest value per primary key in keyed state; the first value of a key
 * is +I, a changed one -U (the old row) and +U (the new), a tombstone -D (the deleted row).
 */
import type { DataStream } from '@nimble/api';
import { WatermarkStrategy } from '@nimble/api';
import type {
  KafkaConsumerRecord,
  KafkaOffsetsInitializer as Initializer,
  KafkaProducerRecord,
  KafkaRecordDeserializationSchema,
  KafkaRecordSerializationSchema,
} from '@nimble/connector-kafka';
import {
  DeliveryGuarantee,
  KafkaOffsetResetStrategy,
  KafkaOffsetsInitializer,
  KafkaSink,
  KafkaSource,
  securityOptions,
  UpsertKafkaNormalizer,
} from '@nimble/connector-kafka';
import type { KafkaUpsert } from '@nimble/connector-kafka';
import type { CatalogTable } from '../catalog/catalog-table.js';
import { TableError, ValidationError } from '../errors.js';
import type { Change, Row } from '../row.js';
import type { RowField, SqlType } from '../types.js';
import { MAX_LENGTH } from '../types.js';
import type { RowDecoder, RowEncoder } from './formats/format.js';
import type { DiscoveredFormat } from './formats/registry.js';
import { discoverFormat } from './formats/registry.js';
import type { OptionSpec } from './options.js';
import { OptionReader, tableIdentifier, validateOptions, withTableContext } from './options.js';
import type {
  SinkContext,
  SourceContext,
  TableSinkFactory,
  TableSourceFactory,
} from './table-factory.js';

const STARTUP_MODES = ['earliest-offset', 'latest-offset', 'group-offsets', 'timestamp'] as const;
const BOUNDED_MODES = ['unbounded', 'latest-offset', 'group-offsets', 'timestamp'] as const;
const GUARANTEES = ['none', 'at-least-once', 'exactly-once'] as const;

const COMMON: readonly OptionSpec[] = [
  { key: 'properties.bootstrap.servers', type: 'string', required: true },
  { key: 'properties.group.id', type: 'string' },
  { key: 'key.format', type: 'string' },
  { key: 'key.fields-prefix', type: 'string' },
  { key: 'value.format', type: 'string' },
  { key: 'value.fields-include', type: 'enum', values: ['ALL', 'EXCEPT_KEY'] },
  { key: 'sink.parallelism', type: 'int' },
  { key: 'sink.delivery-guarantee', type: 'enum', values: GUARANTEES },
  { key: 'sink.transactional-id-prefix', type: 'string' },
];

const KAFKA_OPTIONS: readonly OptionSpec[] = [
  ...COMMON,
  { key: 'topic', type: 'string' },
  { key: 'topic-pattern', type: 'string' },
  { key: 'format', type: 'string' },
  { key: 'key.fields', type: 'string' },
  { key: 'scan.startup.mode', type: 'enum', values: STARTUP_MODES },
  { key: 'scan.startup.timestamp-millis', type: 'long' },
  { key: 'scan.bounded.mode', type: 'enum', values: BOUNDED_MODES },
  { key: 'scan.bounded.timestamp-millis', type: 'long' },
  { key: 'scan.topic-partition-discovery.interval', type: 'duration' },
  { key: 'sink.partitioner', type: 'enum', values: ['default', 'round-robin'] },
];

const UPSERT_OPTIONS: readonly OptionSpec[] = [
  ...COMMON,
  { key: 'topic', type: 'string', required: true },
  { key: 'key.format', type: 'string', required: true },
  { key: 'value.format', type: 'string', required: true },
  { key: 'sink.buffer-flush.max-rows', type: 'int' },
  { key: 'scan.bounded.mode', type: 'enum', values: BOUNDED_MODES },
  { key: 'scan.bounded.timestamp-millis', type: 'long' },
  { key: 'sink.buffer-flush.interval', type: 'duration' },
];

/** The metadata a Kafka source can read (Flink's `KafkaDynamicSource.ReadableMetadata`). */
export const KAFKA_METADATA: ReadonlyMap<string, SqlType> = new Map<string, SqlType>([
  ['topic', { name: 'VARCHAR', length: MAX_LENGTH, nullable: false }],
  ['partition', { name: 'INT', nullable: false }],
  [
    'headers',
    {
      name: 'MAP',
      key: { name: 'VARCHAR', length: MAX_LENGTH, nullable: true },
      value: { name: 'VARBINARY', length: MAX_LENGTH, nullable: true },
      nullable: false,
    },
  ],
  ['leader-epoch', { name: 'INT', nullable: true }],
  ['offset', { name: 'BIGINT', nullable: false }],
  ['timestamp', { name: 'TIMESTAMP_LTZ', precision: 3, nullable: false }],
  ['timestamp-type', { name: 'VARCHAR', length: MAX_LENGTH, nullable: false }],
]);

/** Everything a Kafka table's options resolve to. */
interface KafkaPlan {
  readonly topics: readonly string[] | undefined;
  readonly topicPattern: RegExp | undefined;
  readonly bootstrapServers: string;
  readonly groupId: string | undefined;
  readonly properties: ReadonlyMap<string, string>;
  readonly value: DiscoveredFormat;
  readonly key: DiscoveredFormat | undefined;
  readonly keyFields: readonly RowField[];
  readonly valueFields: readonly RowField[];
  readonly startup: Initializer;
  readonly bounded: Initializer | undefined;
  readonly guarantee: DeliveryGuarantee;
  readonly transactionalIdPrefix: string | undefined;
  readonly parallelism: number | undefined;
  readonly discoveryIntervalMs: number | undefined;
}

function physicalOf(table: CatalogTable): RowField[] {
  return table.columns
    .filter((c) => c.kind === 'physical')
    .map((c) => ({ name: c.name, type: c.type }));
}

function planFor(upsert: boolean, table: CatalogTable, physical: readonly RowField[]): KafkaPlan {
  const opts = table.options;
  const identifier = upsert ? 'upsert-kafka' : 'kafka';
  if (upsert && (!table.primaryKey || table.primaryKey.length === 0)) {
    throw new ValidationError(
      "'upsert-kafka' tables require to define a PRIMARY KEY constraint. The PRIMARY KEY specifies which columns should be read from or write to the Kafka message key. The PRIMARY KEY also defines records in the 'upsert-kafka' table should update or delete on which keys.",
    );
  }
  if (!upsert && opts.get('topic') === undefined && opts.get('topic-pattern') === undefined) {
    throw new ValidationError(
      'One or more required options are missing.\n\nMissing required options are:\n\ntopic',
    );
  }
  if (!upsert && opts.get('format') !== undefined && opts.get('value.format') !== undefined) {
    throw new ValidationError(
      "Option 'format' and 'value.format' are mutually exclusive: set only one of them.",
    );
  }
  if (!upsert && opts.get('format') === undefined && opts.get('value.format') === undefined) {
    throw new ValidationError(
      'One or more required options are missing.\n\nMissing required options are:\n\nformat',
    );
  }
  const value = discoverFormat(
    opts,
    upsert || opts.get('format') === undefined ? 'value.format' : 'format',
  )!;
  const key = opts.get('key.format') === undefined ? undefined : discoverFormat(opts, 'key.format');
  validateOptions(
    identifier,
    opts,
    [...(upsert ? UPSERT_OPTIONS : KAFKA_OPTIONS), ...value.specs, ...(key?.specs ?? [])],
    ['properties.'],
  );
  const o = new OptionReader(opts);

  const prefix = o.string('key.fields-prefix') ?? '';
  let keyNames: string[];
  if (upsert) keyNames = [...table.primaryKey!];
  else {
    const list = o.string('key.fields');
    keyNames =
      list === undefined
        ? []
        : list
            .split(';')
            .map((s) => s.trim())
            .filter((s) => s !== '');
    if (key && keyNames.length === 0) {
      throw new ValidationError(
        "A key format 'key.format' requires the declaration of one or more of key fields using 'key.fields'.",
      );
    }
    if (!key && keyNames.length > 0) {
      throw new ValidationError("The 'key.fields' option requires a key format: set 'key.format'.");
    }
  }
  const keyFields = keyNames.map((n) => {
    const f = physical.find((p) => p.name === n);
    if (!f) {
      throw new ValidationError(
        `Could not find the field '${n}' in the table schema for usage in the key format. A key field must be a regular, physical column. The following columns can be selected in the 'key.fields' option:\n[${physical.map((p) => p.name).join(', ')}]`,
      );
    }
    if (prefix !== '' && !n.startsWith(prefix)) {
      throw new ValidationError(
        `All fields in 'key.fields' must be prefixed with '${prefix}' when option 'key.fields-prefix' is set but field '${n}' is not prefixed.`,
      );
    }
    return f;
  });
  const exceptKey = o.enum('value.fields-include', ['ALL', 'EXCEPT_KEY'] as const) === 'EXCEPT_KEY';
  const valueFields = exceptKey
    ? physical.filter((p) => !keyNames.includes(p.name))
    : [...physical];
  value.factory.validate?.(valueFields);
  // The key format sees the key columns under their names without the prefix, as in Flink.
  key?.factory.validate?.(keyFields);

  const properties = new Map<string, string>();
  for (const [k, v] of opts) {
    if (k.startsWith('properties.')) properties.set(k.slice('properties.'.length), v);
  }
  // 'properties.security.protocol', 'properties.sasl.*', 'properties.ssl.*': checked here; the
  // PEM files are read where the job runs.
  try {
    securityOptions(Object.fromEntries(properties), 'Kafka', { readFiles: false });
  } catch (e) {
    throw new ValidationError(
      `Invalid Kafka security options ('properties.*'): ${(e as Error).message.replace(/^Kafka: /, '')}`,
    );
  }
  const groupId = properties.get('group.id');
  const reset = (properties.get('auto.offset.reset') ?? 'none').toLowerCase();
  const resetStrategy =
    reset === 'earliest'
      ? KafkaOffsetResetStrategy.EARLIEST
      : reset === 'latest'
        ? KafkaOffsetResetStrategy.LATEST
        : KafkaOffsetResetStrategy.NONE;

  const startupMode = upsert
    ? 'earliest-offset'
    : (o.enum('scan.startup.mode', STARTUP_MODES) ?? 'group-offsets');
  let startup: Initializer;
  switch (startupMode) {
    case 'earliest-offset':
      startup = KafkaOffsetsInitializer.earliest();
      break;
    case 'latest-offset':
      startup = KafkaOffsetsInitializer.latest();
      break;
    case 'group-offsets':
      startup = KafkaOffsetsInitializer.committedOffsets(resetStrategy);
      break;
    case 'timestamp': {
      const ts = o.int('scan.startup.timestamp-millis', 'long');
      if (ts === undefined) {
        throw new ValidationError(
          "'scan.startup.timestamp-millis' is required in 'timestamp' startup mode but missing.",
        );
      }
      startup = KafkaOffsetsInitializer.timestamp(ts);
      break;
    }
  }
  if (startupMode === 'group-offsets' && groupId === undefined && opts.has('scan.startup.mode')) {
    throw new ValidationError(
      "'properties.group.id' is required in 'group-offsets' startup mode but missing.",
    );
  }
  let bounded: Initializer | undefined;
  switch (o.enum('scan.bounded.mode', BOUNDED_MODES) ?? 'unbounded') {
    case 'latest-offset':
      bounded = KafkaOffsetsInitializer.latest();
      break;
    case 'group-offsets':
      bounded = KafkaOffsetsInitializer.committedOffsets(KafkaOffsetResetStrategy.NONE);
      break;
    case 'timestamp': {
      const ts = o.int('scan.bounded.timestamp-millis', 'long');
      if (ts === undefined) {
        throw new ValidationError(
          "'scan.bounded.timestamp-millis' is required in 'timestamp' bounded mode but missing.",
        );
      }
      bounded = KafkaOffsetsInitializer.timestamp(ts);
      break;
    }
    default:
      bounded = undefined;
  }

  const guaranteeName = o.enum('sink.delivery-guarantee', GUARANTEES) ?? 'at-least-once';
  const guarantee =
    guaranteeName === 'none'
      ? DeliveryGuarantee.NONE
      : guaranteeName === 'exactly-once'
        ? DeliveryGuarantee.EXACTLY_ONCE
        : DeliveryGuarantee.AT_LEAST_ONCE;
  const transactionalIdPrefix = o.string('sink.transactional-id-prefix');
  if (guarantee === DeliveryGuarantee.EXACTLY_ONCE && transactionalIdPrefix === undefined) {
    throw new ValidationError(
      'sink.transactional-id-prefix must be specified when using DeliveryGuarantee.EXACTLY_ONCE.',
    );
  }
  if (o.string('sink.partitioner') === 'round-robin' && keyFields.length > 0) {
    throw new ValidationError(
      "'sink.partitioner' = 'round-robin' cannot be combined with key fields: records with a key are partitioned by their key.",
    );
  }
  const topic = o.string('topic');
  const pattern = o.string('topic-pattern');
  return {
    topics: topic === undefined ? undefined : topic.split(';').map((t) => t.trim()),
    topicPattern: topic === undefined && pattern !== undefined ? new RegExp(pattern) : undefined,
    bootstrapServers: properties.get('bootstrap.servers')!,
    groupId,
    properties,
    value,
    key,
    keyFields,
    valueFields,
    startup,
    bounded,
    guarantee,
    transactionalIdPrefix,
    parallelism: o.int('sink.parallelism'),
    discoveryIntervalMs: o.duration('scan.topic-partition-discovery.interval'),
  };
}

function plan(
  upsert: boolean,
  role: 'source' | 'sink',
  table: CatalogTable,
  physical: readonly RowField[],
): KafkaPlan {
  return withTableContext(role, table, () => planFor(upsert, table, physical));
}

/** Properties the builders take through their own setters, not setProperty. */
const OWN_PROPERTIES = new Set(['bootstrap.servers', 'group.id', 'auto.offset.reset']);

function metadataValue(key: string, r: KafkaConsumerRecord): unknown {
  switch (key) {
    case 'topic':
      return r.topic;
    case 'partition':
      return r.partition;
    case 'offset':
      return r.offset;
    case 'timestamp':
      return r.timestamp;
    case 'timestamp-type':
      // kafkajs does not expose the batch's timestamp type; producers set CreateTime by default.
      return 'CreateTime';
    case 'leader-epoch':
      return null;
    case 'headers': {
      const out: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(r.headers)) {
        const one = Array.isArray(v) ? v[v.length - 1] : v;
        if (one !== undefined)
          out[k] = new Uint8Array(typeof one === 'string' ? Buffer.from(one) : one);
      }
      return out;
    }
    default:
      return null;
  }
}

/** Rows from whole records: key columns, value columns and metadata columns. */
class RowDeserializer implements KafkaRecordDeserializationSchema<Row> {
  constructor(
    private readonly table: string,
    private readonly value: RowDecoder,
    private readonly key: RowDecoder | undefined,
    private readonly keyFields: readonly RowField[],
    private readonly metadata: readonly { readonly name: string; readonly key: string }[],
  ) {}

  /** The value format's lookups for a fetched batch (avro-confluent's writer schemas). */
  prepare(values: readonly (Buffer | null)[]): Promise<void> | void {
    return this.value.prepare?.(values);
  }

  deserialize(record: KafkaConsumerRecord, out: { collect(element: Row): void }): void {
    if (record.value === null) return; // A tombstone: nothing to read, as in Flink.
    let row: Row | null;
    let keyRow: Row | null = null;
    try {
      row = this.value(record.value);
      if (row !== null && this.key) keyRow = record.key === null ? null : this.key(record.key);
    } catch (e) {
      throw new TableError(
        `Table '${this.table}': cannot read the record at offset ${record.offset} of partition ${record.partition} of topic '${record.topic}': ${(e as Error).message}. Fix or skip the record (e.g. 'json.ignore-parse-errors' = 'true').`,
        { cause: e },
      );
    }
    if (row === null) return; // Skipped by the format (ignore-parse-errors).
    for (const f of this.keyFields) row[f.name] = keyRow === null ? null : (keyRow[f.name] ?? null);
    for (const m of this.metadata) row[m.name] = metadataValue(m.key, record);
    out.collect(row);
  }
}

/**
 * Upserts from whole records of an upsert-kafka table: the row (key columns from the key,
 * metadata columns from the record) by the key's bytes, or a null row for a tombstone.
 */
class UpsertRowDeserializer implements KafkaRecordDeserializationSchema<KafkaUpsert<string, Row>> {
  constructor(
    private readonly table: string,
    private readonly rows: RowDeserializer,
  ) {}

  prepare(values: readonly (Buffer | null)[]): Promise<void> | void {
    return this.rows.prepare(values);
  }

  deserialize(
    record: KafkaConsumerRecord,
    out: { collect(element: KafkaUpsert<string, Row>): void },
  ): void {
    if (record.key === null) {
      throw new TableError(
        `Table '${this.table}': the record at offset ${record.offset} of partition ${record.partition} of topic '${record.topic}' has no key; an 'upsert-kafka' table needs its primary key in every record's key.`,
      );
    }
    const key = record.key.toString('base64');
    if (record.value === null) {
      out.collect({ key, value: null });
      return;
    }
    this.rows.deserialize(record, { collect: (row) => out.collect({ key, value: row }) });
  }
}

function pick(row: Row, fields: readonly RowField[]): Row {
  const out: Row = {};
  for (const f of fields) out[f.name] = row[f.name];
  return out;
}

function createSource(ctx: SourceContext): DataStream<Row> {
  return createKafkaSource(false, ctx) as DataStream<Row>;
}

function createKafkaSource(
  upsert: boolean,
  ctx: SourceContext,
): DataStream<Row> | DataStream<Change> {
  const p = plan(upsert, 'source', ctx.table, ctx.physical);
  for (const m of ctx.metadata) {
    if (!KAFKA_METADATA.has(m.key)) {
      throw new ValidationError(
        `Invalid metadata key '${m.key}' in column '${m.name}' of table '${tableIdentifier(ctx.table)}'. The Kafka table source supports the following metadata keys for reading:\n${[...KAFKA_METADATA.keys()].join('\n')}`,
      );
    }
  }
  // With value.fields-include = ALL the value carries the key columns too, and (as in Flink's
  // output projection) the value's wins: only key columns missing from the value come from the key.
  const valueFields = p.valueFields;
  const deserializer = new RowDeserializer(
    tableIdentifier(ctx.table),
    p.value.factory.createDecoder(valueFields, p.value.options),
    p.key?.factory.createDecoder(p.keyFields, p.key.options),
    p.keyFields.filter((f) => !valueFields.some((v) => v.name === f.name)),
    ctx.metadata,
  );
  const table = tableIdentifier(ctx.table);
  const builder = KafkaSource.builder<unknown>()
    .setBootstrapServers(p.bootstrapServers)
    .setStartingOffsets(p.startup)
    .setDeserializer(upsert ? new UpsertRowDeserializer(table, deserializer) : deserializer);
  if (p.topics) builder.setTopics(p.topics);
  else builder.setTopicPattern(p.topicPattern!);
  if (p.groupId !== undefined) builder.setGroupId(p.groupId);
  if (p.bounded) builder.setBounded(p.bounded);
  if (p.discoveryIntervalMs !== undefined)
    builder.setProperty('partition.discovery.interval.ms', p.discoveryIntervalMs);
  for (const [k, v] of p.properties) if (!OWN_PROPERTIES.has(k)) builder.setProperty(k, v);
  if (!upsert) {
    return ctx.env
      .fromSource(builder.build() as KafkaSource<Row>, ctx.watermarks, ctx.name)
      .uid(ctx.uid);
  }
  const key = ctx.table.primaryKey!.join(', ');
  return ctx.env
    .fromSource(
      builder.build() as KafkaSource<KafkaUpsert<string, Row>>,
      WatermarkStrategy.noWatermarks(),
      ctx.name,
    )
    .uid(ctx.uid)
    .keyBy((u) => u.key)
    .process(new UpsertKafkaNormalizer<string, Row>())
    .name(`ChangelogNormalize(key=[${key}])`)
    .uid(`${ctx.uid}-normalize`) as DataStream<Change>;
}

/** Records of an upsert changelog, or of plain rows (`upsert` false). */
class RowSerializer implements KafkaRecordSerializationSchema<Row | Change> {
  constructor(
    private readonly topic: string,
    private readonly value: RowEncoder,
    private readonly valueFields: readonly RowField[],
    private readonly key: RowEncoder | undefined,
    private readonly keyFields: readonly RowField[],
    private readonly changes: boolean,
  ) {}
  /** The formats' setup before the first record (avro-confluent registers its schema). */
  async open(): Promise<void> {
    await Promise.all([this.value.open?.(), this.key?.open?.()]);
  }
  serialize(element: Row | Change): KafkaProducerRecord {
    const change = this.changes ? (element as Change) : undefined;
    const row = change ? change.row : (element as Row);
    const key = this.key ? this.key(pick(row, this.keyFields)) : undefined;
    const value = change?.kind === '-D' ? null : this.value(pick(row, this.valueFields));
    return { topic: this.topic, value, ...(key !== undefined ? { key } : {}) };
  }
}

function createSink(upsert: boolean, ctx: SinkContext): void {
  const p = plan(upsert, 'sink', ctx.table, ctx.physical);
  if (!p.topics || p.topics.length !== 1) {
    throw new ValidationError(
      `Unable to create a sink for writing table '${tableIdentifier(ctx.table)}': the Kafka sink writes to exactly one topic; set 'topic' to a single topic (not 'topic-pattern').`,
    );
  }
  const changes = ctx.inputMode === 'updates';
  const serializer = new RowSerializer(
    p.topics[0]!,
    p.value.factory.createEncoder(p.valueFields, p.value.options, {
      defaultSubject: `${p.topics[0]}-value`,
    }),
    p.valueFields,
    p.key?.factory.createEncoder(p.keyFields, p.key.options, {
      defaultSubject: `${p.topics[0]}-key`,
    }),
    p.keyFields,
    changes,
  );
  const builder = KafkaSink.builder<Row | Change>()
    .setBootstrapServers(p.bootstrapServers)
    .setRecordSerializer(serializer)
    .setDeliveryGuarantee(p.guarantee);
  if (p.transactionalIdPrefix !== undefined)
    builder.setTransactionalIdPrefix(p.transactionalIdPrefix);
  for (const [k, v] of p.properties) if (!OWN_PROPERTIES.has(k)) builder.setProperty(k, v);
  let input = ctx.input as DataStream<Row | Change>;
  // An upsert sink keeps the latest row per key: -U adds nothing a following +U does not overwrite.
  if (changes)
    input = (ctx.input as DataStream<Change>).filter((c) => c.kind !== '-U') as DataStream<
      Row | Change
    >;
  const sink = input.sinkTo(builder.build(), ctx.name).uid(ctx.uid);
  if (p.parallelism !== undefined) sink.setParallelism(p.parallelism);
}

export const kafkaFactory: TableSourceFactory & TableSinkFactory = {
  identifier: 'kafka',
  metadata: KAFKA_METADATA,
  validateSource(table) {
    plan(false, 'source', table, physicalOf(table));
  },
  isBounded(table) {
    return plan(false, 'source', table, physicalOf(table)).bounded !== undefined;
  },
  createSource,
  validateSink(table) {
    plan(false, 'sink', table, physicalOf(table));
  },
  changelogMode: () => 'insert-only',
  createSink: (ctx) => createSink(false, ctx),
};

export const upsertKafkaFactory: TableSourceFactory & TableSinkFactory = {
  identifier: 'upsert-kafka',
  metadata: KAFKA_METADATA,
  validateSource(table) {
    plan(true, 'source', table, physicalOf(table));
    if (table.watermark !== undefined) {
      throw new ValidationError(
        `Table '${tableIdentifier(table)}': a WATERMARK on an 'upsert-kafka' table is not supported; read the table without one, or use the 'kafka' connector.`,
      );
    }
  },
  isBounded(table) {
    return plan(true, 'source', table, physicalOf(table)).bounded !== undefined;
  },
  createSource() {
    throw new ValidationError(
      "The 'upsert-kafka' source produces changes: it is read through createChangelogSource",
    );
  },
  createChangelogSource: (ctx) => createKafkaSource(true, ctx) as DataStream<Change>,
  validateSink(table) {
    plan(true, 'sink', table, physicalOf(table));
  },
  changelogMode: () => 'upsert',
  createSink: (ctx) => createSink(true, ctx),
};

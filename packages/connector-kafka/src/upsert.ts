/**
 * Upsert semantics for keyed topics in the DataStream API, as Flink's `upsert-kafka` connector
 * has them in SQL: a topic holds the latest value per key, and a tombstone (a null value)
 * deletes the key.
 *
 * - Writing: {@link UpsertKafkaRecordSerializationSchema} turns a changelog (+I, +U, -D; -U is
 *   dropped) into keyed records, a -D into a tombstone.
 * - Reading: {@link UpsertKafkaDeserializationSchema} turns records into upserts (+U with the
 *   value, -D for a tombstone), and {@link UpsertKafkaNormalizer} (Flink's ChangelogNormalize),
 *   on the stream keyed by the record key, turns those into a full changelog: +I for a new key,
 *   -U/+U for a changed value, -D (with the deleted value) for a tombstone.
 */
import type { Collector, KeyedProcessContext, RuntimeContext, ValueState } from '@nimble/api';
import { KeyedProcessFunction, ValueStateDescriptor } from '@nimble/api';
import type { HeaderProvider, KafkaHeaders, KafkaRecordSerializationSchema } from './kafka-sink.js';
import type {
  DeserializationSchema,
  KafkaConsumerRecord,
  KafkaRecordDeserializationSchema,
  SerializationSchema,
} from './schemas.js';
import { isDeserializationSchema, isSerializationSchema } from './schemas.js';
import { isDeepStrictEqual } from 'node:util';

/** Flink's `RowKind`, as it prints it. */
export type KafkaRowKind = '+I' | '-U' | '+U' | '-D';

/** One change of a changelog: its kind and the row (the same shape as a SQL table's changes). */
export interface KafkaChange<T> {
  readonly kind: KafkaRowKind;
  readonly row: T;
}

/** A keyed record read from an upsert topic: the value is null for a tombstone. */
export interface KafkaUpsert<K, V> {
  readonly key: K;
  readonly value: V | null;
}

/**
 * Writes a changelog to a keyed topic (Flink's upsert-kafka sink): +I and +U write the key and
 * the value, -D writes the key with a null value (a tombstone), -U writes nothing (the +U after
 * it overwrites the key).
 */
export class UpsertKafkaRecordSerializationSchema {
  static builder<T>(): UpsertKafkaRecordSerializationSchemaBuilder<T> {
    return new UpsertKafkaRecordSerializationSchemaBuilder<T>();
  }
}

/** Builds an {@link UpsertKafkaRecordSerializationSchema}. */
export class UpsertKafkaRecordSerializationSchemaBuilder<T> {
  private topic: string | undefined;
  private keySchema: SerializationSchema<T> | undefined;
  private valueSchema: SerializationSchema<T> | undefined;
  private headerProvider: HeaderProvider<T> | undefined;

  setTopic(topic: string): this {
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new TypeError('UpsertKafkaRecordSerializationSchema.setTopic: a non-empty topic name');
    }
    this.topic = topic;
    return this;
  }

  /** The key of each row: the primary key, which the topic keeps the latest value of. */
  setKeySerializationSchema(schema: SerializationSchema<T>): this {
    if (!isSerializationSchema(schema)) {
      throw new TypeError(
        'UpsertKafkaRecordSerializationSchema.setKeySerializationSchema: expected a SerializationSchema',
      );
    }
    this.keySchema = schema;
    return this;
  }

  setValueSerializationSchema(schema: SerializationSchema<T>): this {
    if (!isSerializationSchema(schema)) {
      throw new TypeError(
        'UpsertKafkaRecordSerializationSchema.setValueSerializationSchema: expected a SerializationSchema',
      );
    }
    this.valueSchema = schema;
    return this;
  }

  /** Headers of each record (tombstones included). */
  setHeaderProvider(provider: HeaderProvider<T> | ((row: T) => KafkaHeaders)): this {
    this.headerProvider = typeof provider === 'function' ? { getHeaders: provider } : provider;
    return this;
  }

  build(): KafkaRecordSerializationSchema<KafkaChange<T>> {
    const { topic, keySchema: key, valueSchema: value, headerProvider: headers } = this;
    if (topic === undefined) {
      throw new Error('UpsertKafkaRecordSerializationSchema: a topic is required (setTopic)');
    }
    if (key === undefined) {
      throw new Error(
        'UpsertKafkaRecordSerializationSchema: a key schema is required (setKeySerializationSchema): tombstones delete by key',
      );
    }
    if (value === undefined) {
      throw new Error(
        'UpsertKafkaRecordSerializationSchema: a value schema is required (setValueSerializationSchema)',
      );
    }
    return {
      ...(key.open || value.open
        ? { open: async () => void (await Promise.all([key.open?.(), value.open?.()])) }
        : {}),
      serialize(change, timestamp) {
        if (change.kind === '-U') return null;
        if (change.kind !== '+I' && change.kind !== '+U' && change.kind !== '-D') {
          throw new TypeError(
            `UpsertKafkaRecordSerializationSchema: a change kind must be +I, -U, +U or -D; got ${String(change.kind)}`,
          );
        }
        return {
          topic,
          key: key.serialize(change.row),
          value: change.kind === '-D' ? null : value.serialize(change.row),
          ...(timestamp !== undefined && timestamp >= 0 ? { timestamp } : {}),
          ...(headers ? { headers: headers.getHeaders(change.row) } : {}),
        };
      },
    };
  }
}

/**
 * Reads a keyed topic as upserts (what Flink's upsert-kafka source emits before its
 * ChangelogNormalize): `{ key, value }` for a record, `{ key, value: null }` for a tombstone. A
 * record without a key fails the job, naming it: an upsert topic keys every record.
 */
export class UpsertKafkaDeserializationSchema<K, V> implements KafkaRecordDeserializationSchema<
  KafkaUpsert<K, V>
> {
  constructor(
    private readonly keySchema: DeserializationSchema<K>,
    private readonly valueSchema: DeserializationSchema<V>,
  ) {
    if (!isDeserializationSchema(keySchema) || !isDeserializationSchema(valueSchema)) {
      throw new TypeError(
        'UpsertKafkaDeserializationSchema: expected a key and a value DeserializationSchema',
      );
    }
    // The value schema's lookups for a fetched batch (a schema registry's), when it has any.
    if (valueSchema.prepare) this.prepare = (values) => valueSchema.prepare!(values);
  }

  prepare?: (values: readonly (Buffer | null)[]) => Promise<void> | void;

  deserialize(record: KafkaConsumerRecord, out: { collect(element: KafkaUpsert<K, V>): void }) {
    if (record.key === null) {
      throw new Error(
        `UpsertKafkaDeserializationSchema: the record at offset ${record.offset} of partition ${record.partition} of topic ${record.topic} has no key; an upsert topic needs a key on every record`,
      );
    }
    const key = this.keySchema.deserialize(record.key);
    out.collect({
      key,
      value: record.value === null ? null : this.valueSchema.deserialize(record.value),
    });
  }
}

/**
 * Turns upserts into a changelog with the latest value per key in keyed state (Flink's
 * ChangelogNormalize). Apply it on the upserts keyed by their key:
 *
 * ```ts
 * env.fromSource(source, WatermarkStrategy.noWatermarks(), 'users')
 *   .keyBy((u) => u.key)
 *   .process(new UpsertKafkaNormalizer<string, User>());
 * ```
 *
 * A new key emits +I, a changed value -U (the old) and +U (the new), a tombstone -D (with the
 * deleted value); a value equal to the current one and a tombstone for a key not present emit
 * nothing. Rows are the values.
 */
export class UpsertKafkaNormalizer<K, V> extends KeyedProcessFunction<
  K,
  KafkaUpsert<K, V>,
  KafkaChange<V>
> {
  private latest!: ValueState<V>;

  override open(ctx: RuntimeContext): void {
    this.latest = ctx.getState(new ValueStateDescriptor<V>('upsert-kafka-latest'));
  }

  processElement(
    upsert: KafkaUpsert<K, V>,
    _ctx: KeyedProcessContext<K>,
    out: Collector<KafkaChange<V>>,
  ): void {
    const previous = this.latest.value();
    if (upsert.value === null) {
      if (previous === undefined) return;
      this.latest.update(undefined);
      out.collect({ kind: '-D', row: previous });
      return;
    }
    if (previous === undefined) {
      this.latest.update(upsert.value);
      out.collect({ kind: '+I', row: upsert.value });
      return;
    }
    if (isDeepStrictEqual(previous, upsert.value)) return;
    this.latest.update(upsert.value);
    out.collect({ kind: '-U', row: previous });
    out.collect({ kind: '+U', row: upsert.value });
  }
}

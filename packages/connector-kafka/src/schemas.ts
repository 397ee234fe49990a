/**
 * Serialization schemas of record values and keys (Flink's `DeserializationSchema` and
 * `SerializationSchema`): plain objects, so a job can pass its own.
 */

/** Turns a record's bytes into an element; throws on a record it cannot read. */
export interface DeserializationSchema<T> {
  deserialize(bytes: Buffer): T;
  /**
   * Optional: called by the Kafka source once per fetched batch, with the batch's values, before
   * any of them is deserialized; the source waits for the promise. For lookups that must not wait
   * per record (a schema registry's writer schemas). A rejection fails the source.
   */
  prepare?(values: readonly (Buffer | null)[]): Promise<void> | void;
}

/**
 * Turns an element into a record's bytes (or a string, written as UTF-8). As a value schema of
 * the Kafka sink it may return null: the record is then a tombstone (a null value), which a
 * compacted topic takes as the deletion of its key.
 */
export interface SerializationSchema<T> {
  serialize(element: T): Buffer | string | null;
  /**
   * Optional: called by the Kafka sink's writer when it is created; no element is written before
   * the promise resolves (registering a schema with a registry). A rejection fails the sink.
   */
  open?(): Promise<void> | void;
}

/** UTF-8 strings both ways (Flink's `SimpleStringSchema`). */
export class SimpleStringSchema
  implements DeserializationSchema<string>, SerializationSchema<string>
{
  deserialize(bytes: Buffer): string {
    return bytes.toString('utf8');
  }
  serialize(element: string): string {
    if (typeof element !== 'string') {
      throw new TypeError(
        `SimpleStringSchema serializes strings; got ${typeof element}. Map the stream to strings first, or use JsonSerializationSchema.`,
      );
    }
    return element;
  }
}

/**
 * JSON documents both ways (Flink's `JsonDeserializationSchema`/`JsonSerializationSchema`). A
 * record that is not valid JSON makes `deserialize` throw: the Kafka source then sends it to its
 * malformed-records side output ({@link KafkaSource.MALFORMED_RECORDS}) instead of failing.
 */
export class JsonDeserializationSchema<T = unknown> implements DeserializationSchema<T> {
  deserialize(bytes: Buffer): T {
    return JSON.parse(bytes.toString('utf8')) as T;
  }
}

/** Writes elements as JSON documents. */
export class JsonSerializationSchema<T = unknown> implements SerializationSchema<T> {
  serialize(element: T): string {
    const json = JSON.stringify(element);
    if (json === undefined)
      throw new TypeError(`JsonSerializationSchema cannot write ${typeof element}`);
    return json;
  }
}

/**
 * A record as a {@link KafkaRecordDeserializationSchema} sees it: key, value (null for a
 * tombstone), where it came from and its timestamp.
 */
export interface KafkaConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Header values as Buffers; a header key the record repeats has the array of its values. */
  readonly headers: Readonly<Record<string, Buffer | Buffer[]>>;
}

/**
 * Turns whole Kafka records into elements (Flink's `KafkaRecordDeserializationSchema`): it sees
 * the key, the headers and the record's position, and emits zero or more elements. Unlike a
 * value-only {@link DeserializationSchema}, an error it throws fails the job (as in Flink): to
 * skip a record, emit nothing.
 */
export interface KafkaRecordDeserializationSchema<T> {
  deserialize(record: KafkaConsumerRecord, out: { collect(element: T): void }): void;
  /** Optional, as {@link DeserializationSchema.prepare}: once per fetched batch, with its values. */
  prepare?(values: readonly (Buffer | null)[]): Promise<void> | void;
}

/**
 * A deserializer of whole records that returns one element per record (Flink's legacy
 * `KafkaDeserializationSchema`); null or undefined skips the record.
 */
export interface KafkaDeserializationSchema<T> {
  deserialize(record: KafkaConsumerRecord): T | null | undefined;
}

/**
 * Flink's `KafkaRecordDeserializationSchema.of(...)` and `.valueOnly(...)`: record deserializers
 * made from simpler schemas.
 */
export const KafkaRecordDeserializationSchema = {
  /** Wraps a deserializer (or its function) returning one element per record; null skips it. */
  of<T>(
    schema: KafkaDeserializationSchema<T> | KafkaDeserializationSchema<T>['deserialize'],
  ): KafkaRecordDeserializationSchema<T> {
    if (typeof schema === 'function') schema = { deserialize: schema };
    if (typeof (schema as { deserialize?: unknown } | null)?.deserialize !== 'function') {
      throw new TypeError(
        'KafkaRecordDeserializationSchema.of: expected a KafkaDeserializationSchema (an object with deserialize(record), or that function)',
      );
    }
    const wrapped = schema;
    return {
      deserialize(record, out) {
        const element = wrapped.deserialize(record);
        if (element !== null && element !== undefined) out.collect(element);
      },
    };
  },
  /**
   * Reads the value only (keys and headers are ignored). Unlike `setValueOnlyDeserializer`, a
   * record the schema cannot read fails the job, and a tombstone is skipped.
   */
  valueOnly<T>(schema: DeserializationSchema<T>): KafkaRecordDeserializationSchema<T> {
    if (!isDeserializationSchema(schema)) {
      throw new TypeError(
        'KafkaRecordDeserializationSchema.valueOnly: expected a DeserializationSchema (e.g. new SimpleStringSchema())',
      );
    }
    return {
      deserialize(record, out) {
        if (record.value !== null) out.collect(schema.deserialize(record.value));
      },
      ...(schema.prepare ? { prepare: (values) => schema.prepare!(values) } : {}),
    };
  },
} as const;

/** Whether `schema` can deserialize whole records. */
export function isRecordDeserializationSchema(
  schema: unknown,
): schema is KafkaRecordDeserializationSchema<unknown> {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    typeof (schema as KafkaRecordDeserializationSchema<unknown>).deserialize === 'function'
  );
}

/** Whether `schema` can deserialize. */
export function isDeserializationSchema(schema: unknown): schema is DeserializationSchema<unknown> {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    typeof (schema as DeserializationSchema<unknown>).deserialize === 'function'
  );
}

/** Whether `schema` can serialize. */
export function isSerializationSchema(schema: unknown): schema is SerializationSchema<unknown> {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    typeof (schema as SerializationSchema<unknown>).serialize === 'function'
  );
}

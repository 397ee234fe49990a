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

/** Turns an element into a record's bytes (or a string, written as UTF-8). */
export interface SerializationSchema<T> {
  serialize(element: T): Buffer | string;
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
  /** Header values as the broker returned them (a repeated header is an array). */
  readonly headers: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
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

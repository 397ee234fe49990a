/**
 * Serialization schemas of record values and keys (Flink's `DeserializationSchema` and
 * `SerializationSchema`): plain objects, so a job can pass its own.
 */

/** Turns a record's bytes into an element; throws on a record it cannot read. */
export interface DeserializationSchema<T> {
  deserialize(bytes: Buffer): T;
}

/** Turns an element into a record's bytes (or a string, written as UTF-8). */
export interface SerializationSchema<T> {
  serialize(element: T): Buffer | string;
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

/**
 * Avro's binary encoding without a registry (Flink's `AvroDeserializationSchema` and
 * `AvroSerializationSchema` of flink-avro): every record is one datum of a schema both sides
 * know. Records read as plain objects by field name (avsc's record instances), `long` as a number
 * (exact to 2^53), `bytes` and `fixed` as Buffers, logical types as their underlying type.
 */
import avro from 'avsc';
import type { Schema, Type } from 'avsc';

/** An Avro schema: its JSON text, the parsed JSON (an avsc `Schema`), or an avsc `Type`. */
export type AvroSchema = string | Schema | Type | Readonly<Record<string, unknown>>;

/** The avsc type of `schema`; throws an error naming what is wrong with it. */
export function avroType(schema: AvroSchema, what = 'Avro schema'): Type {
  if (schema instanceof avro.Type) return schema;
  let json: unknown = schema;
  if (typeof schema === 'string') {
    try {
      json = JSON.parse(schema);
    } catch {
      // A primitive type's name ("string") is a schema too.
      json = schema;
    }
  }
  try {
    const type = avro.Type.forSchema(json as Schema);
    // avsc forgets logical types it has no implementation for: the registry gets the original.
    sources.set(type, JSON.stringify(json));
    return type;
  } catch (e) {
    throw new Error(`${what} is not valid: ${(e as Error).message}`, { cause: e });
  }
}

/** The JSON text of the schemas `avroType` parsed. */
const sources = new WeakMap<Type, string>();

/** The schema's JSON text as a registry stores it: with defaults, aliases and logical types. */
export function schemaText(type: Type): string {
  return sources.get(type) ?? JSON.stringify(type.schema({ exportAttrs: true }));
}

/**
 * Why `element` is not a datum of `type`: the path of the first field that does not fit, with
 * its value and the type it must have.
 */
export function invalidDatum(type: Type, element: unknown): string {
  let found = '';
  type.isValid(element, {
    errorHook(path: string[], value: unknown, t: Type) {
      if (found !== '') return;
      const where = path.length === 0 ? 'the element' : `field ${path.join('.')}`;
      let shown: string;
      try {
        shown = JSON.stringify(value) ?? String(value);
      } catch {
        shown = String(value);
      }
      found = `${where} is ${shown.length > 80 ? `${shown.slice(0, 80)}...` : shown}, not a ${JSON.stringify(t.schema())}`;
    },
  });
  return found || 'it does not match the schema';
}

/** Reads records that are one Avro datum each, of a schema known in advance. */
export class AvroDeserializationSchema<T = Record<string, unknown>> {
  private constructor(readonly type: Type) {}

  /** Records as generic objects by field name (Flink's `forGeneric(Schema)`). */
  static forGeneric<T = Record<string, unknown>>(schema: AvroSchema): AvroDeserializationSchema<T> {
    return new AvroDeserializationSchema<T>(avroType(schema));
  }

  /**
   * Records of a type `T` the caller declares for the schema (Flink's `forSpecific(Class)`:
   * TypeScript has no generated record classes, so the type parameter names the shape).
   */
  static forSpecific<T>(schema: AvroSchema): AvroDeserializationSchema<T> {
    return new AvroDeserializationSchema<T>(avroType(schema));
  }

  deserialize(bytes: Buffer): T {
    try {
      return this.type.fromBuffer(bytes) as T;
    } catch (e) {
      throw new Error(
        `cannot read ${bytes.length} bytes as a datum of Avro schema ${this.name()}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  private name(): string {
    return this.type.name ?? this.type.typeName;
  }
}

/** Writes each element as one Avro datum of a schema known in advance. */
export class AvroSerializationSchema<T = Record<string, unknown>> {
  private constructor(readonly type: Type) {}

  /** Generic objects by field name (Flink's `forGeneric(Schema)`). */
  static forGeneric<T = Record<string, unknown>>(schema: AvroSchema): AvroSerializationSchema<T> {
    return new AvroSerializationSchema<T>(avroType(schema));
  }

  /** Elements of a type `T` the caller declares for the schema (Flink's `forSpecific`). */
  static forSpecific<T>(schema: AvroSchema): AvroSerializationSchema<T> {
    return new AvroSerializationSchema<T>(avroType(schema));
  }

  serialize(element: T): Buffer {
    try {
      return this.type.toBuffer(element);
    } catch (e) {
      throw new Error(
        `cannot write the element as Avro ${this.type.name ?? this.type.typeName}: ${invalidDatum(this.type, element)}`,
        { cause: e },
      );
    }
  }
}

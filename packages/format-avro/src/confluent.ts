/**
 * Avro with a schema registry (Flink's flink-avro-confluent-registry:
 * `ConfluentRegistryAvroDeserializationSchema` and `ConfluentRegistryAvroSerializationSchema`),
 * in Confluent's wire format: a zero magic byte, the schema id (4 bytes, big-endian), then the
 * Avro datum.
 *
 * Registry lookups never wait per record. The serializer registers (or looks up) its schema in
 * `open()`, which the Kafka sink awaits before the first record; the deserializer fetches the
 * writer schemas of unknown ids in `prepare(values)`, which the Kafka source awaits once per
 * fetched batch before the batch is read. `serialize` and `deserialize` are synchronous and read
 * the caches. A record written with an older schema is read with the reader schema by Avro's
 * schema resolution (a field the writer lacks takes its default).
 */
import type { Resolver, Type } from 'avsc';
import type { AvroSchema } from './avro.js';
import { avroType, invalidDatum, schemaText } from './avro.js';
import type { SchemaRegistryConfigs } from './registry-client.js';
import { SchemaRegistryClient, SchemaRegistryError } from './registry-client.js';

/** The magic byte that starts a record in Confluent's wire format. */
export const CONFLUENT_MAGIC_BYTE = 0;
/** Magic byte and schema id. */
const HEADER_BYTES = 5;
/** How long an id the registry did not know stays unknown before it is asked again. */
const UNKNOWN_ID_RETRY_MS = 10_000;

interface WriterSchema {
  readonly type: Type;
  /** The reader schema for this writer's records (with the writer's name as an alias if needed). */
  readonly reader: Type | undefined;
  /** Set with a reader schema: resolves the writer's datum into the reader's shape. */
  readonly resolver: Resolver | undefined;
}

/** The schema id of a record in the wire format, or undefined when it is not in it. */
export function confluentSchemaId(bytes: Buffer | null | undefined): number | undefined {
  if (!bytes || bytes.length < HEADER_BYTES || bytes[0] !== CONFLUENT_MAGIC_BYTE) return undefined;
  return bytes.readInt32BE(1);
}

/** Reads records in Confluent's wire format, with the writer schema from the registry. */
export class ConfluentRegistryAvroDeserializationSchema<T = Record<string, unknown>> {
  private readonly writers = new Map<number, WriterSchema | Error>();
  /** When ids the registry did not know were asked. */
  private readonly unknownSince = new Map<number, number>();

  private constructor(
    private readonly reader: Type | undefined,
    readonly client: SchemaRegistryClient,
  ) {}

  /**
   * Generic records (Flink's `forGeneric(Schema, String url, Map registryConfigs)`). With a
   * reader schema, records are resolved into it; without one (null/undefined), each reads as
   * its writer schema has it.
   */
  static forGeneric<T = Record<string, unknown>>(
    readerSchema: AvroSchema | null | undefined,
    url: string,
    registryConfigs: SchemaRegistryConfigs = {},
  ): ConfluentRegistryAvroDeserializationSchema<T> {
    return new ConfluentRegistryAvroDeserializationSchema<T>(
      readerSchema === null || readerSchema === undefined
        ? undefined
        : avroType(readerSchema, 'the reader schema'),
      new SchemaRegistryClient(url, registryConfigs),
    );
  }

  /** Records of a type `T` the caller declares for the reader schema (Flink's `forSpecific`). */
  static forSpecific<T>(
    readerSchema: AvroSchema,
    url: string,
    registryConfigs: SchemaRegistryConfigs = {},
  ): ConfluentRegistryAvroDeserializationSchema<T> {
    return ConfluentRegistryAvroDeserializationSchema.forGeneric<T>(
      readerSchema,
      url,
      registryConfigs,
    );
  }

  /**
   * Fetches the writer schemas of the ids among `values` not seen yet, in parallel. An id the
   * registry does not know is remembered as unknown (its records fail in `deserialize`); an
   * unreachable registry rejects, naming its URL.
   */
  prepare(values: readonly (Buffer | null | undefined)[]): Promise<void> | undefined {
    let missing: Set<number> | undefined;
    const now = Date.now();
    for (const v of values) {
      const id = confluentSchemaId(v);
      if (id === undefined) continue;
      const known = this.writers.get(id);
      if (known !== undefined) {
        if (
          !(known instanceof UnknownSchemaId) ||
          now - this.unknownSince.get(id)! < UNKNOWN_ID_RETRY_MS
        )
          continue;
      }
      (missing ??= new Set()).add(id);
    }
    if (missing === undefined) return undefined;
    return Promise.all([...missing].map((id) => this.fetchWriter(id))).then(() => undefined);
  }

  private async fetchWriter(id: number): Promise<void> {
    let text: string;
    try {
      text = await this.client.getSchemaById(id);
    } catch (e) {
      if (e instanceof SchemaRegistryError && e.status === 404) {
        this.writers.set(
          id,
          new UnknownSchemaId(
            `unknown schema id ${id}: the schema registry ${this.client.url} has no schema with this id`,
          ),
        );
        this.unknownSince.set(id, Date.now());
        return;
      }
      throw e;
    }
    this.unknownSince.delete(id);
    let type: Type;
    try {
      type = avroType(text, `the writer schema of id ${id}`);
    } catch (e) {
      this.writers.set(id, e as Error);
      return;
    }
    let resolver: Resolver | undefined;
    let reader = this.reader;
    if (reader !== undefined) {
      try {
        // A top-level record of another name (the SQL formats' reader schema is named `record`)
        // is read as the writer's: as Avro's Java implementation does, not by the spec's letter.
        if (
          reader.typeName === 'record' &&
          type.typeName === 'record' &&
          reader.name !== type.name
        ) {
          const schema = reader.schema({ exportAttrs: true }) as unknown as Record<string, unknown>;
          const aliases = [...((schema.aliases as string[] | undefined) ?? []), type.name!];
          reader = avroType({ ...schema, aliases });
        }
        resolver = reader.createResolver(type);
      } catch (e) {
        this.writers.set(
          id,
          new Error(
            `records of schema id ${id} cannot be read with the reader schema: ${(e as Error).message}`,
          ),
        );
        return;
      }
    }
    this.writers.set(id, { type, reader, resolver });
  }

  deserialize(bytes: Buffer): T {
    const id = confluentSchemaId(bytes);
    if (id === undefined) {
      throw new Error(
        bytes.length === 0
          ? 'the record is empty, not in the Confluent wire format (magic byte 0, schema id, Avro datum)'
          : `the record is not in the Confluent wire format: it starts with byte ${bytes[0]}, not the magic byte 0, or is shorter than 5 bytes`,
      );
    }
    const writer = this.writers.get(id);
    if (writer === undefined) {
      throw new Error(
        `schema id ${id} was not fetched from the schema registry ${this.client.url}: prepare(values) fetches it before deserialize (the Kafka source calls it per fetched batch)`,
      );
    }
    if (writer instanceof Error) throw new Error(writer.message);
    const datum = bytes.subarray(HEADER_BYTES);
    try {
      return (
        writer.reader !== undefined
          ? writer.reader.fromBuffer(datum, writer.resolver)
          : writer.type.fromBuffer(datum)
      ) as T;
    } catch (e) {
      throw new Error(
        `cannot read the Avro datum of schema id ${id} (${datum.length} bytes): ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}

class UnknownSchemaId extends Error {}

/** Writes records in Confluent's wire format, with the schema registered under a subject. */
export class ConfluentRegistryAvroSerializationSchema<T = Record<string, unknown>> {
  private header: Buffer | undefined;
  private schemaId: number | undefined;
  private opening: Promise<void> | undefined;
  private readonly autoRegister: boolean;

  private constructor(
    readonly subject: string,
    readonly type: Type,
    readonly client: SchemaRegistryClient,
    registryConfigs: SchemaRegistryConfigs,
  ) {
    const auto = String(registryConfigs['auto.register.schemas'] ?? 'true').toLowerCase();
    if (auto !== 'true' && auto !== 'false') {
      throw new Error(`schema registry: auto.register.schemas must be true or false; got ${auto}`);
    }
    this.autoRegister = auto === 'true';
  }

  /**
   * Generic records (Flink's `forGeneric(String subject, Schema, String url, Map registryConfigs)`).
   * The schema is registered under `subject` at `open()` (with `auto.register.schemas` =
   * `false`, only looked up).
   */
  static forGeneric<T = Record<string, unknown>>(
    subject: string,
    schema: AvroSchema,
    url: string,
    registryConfigs: SchemaRegistryConfigs = {},
  ): ConfluentRegistryAvroSerializationSchema<T> {
    if (typeof subject !== 'string' || subject === '') {
      throw new Error(
        'ConfluentRegistryAvroSerializationSchema: a subject is required (e.g. <topic>-value)',
      );
    }
    return new ConfluentRegistryAvroSerializationSchema<T>(
      subject,
      avroType(schema),
      new SchemaRegistryClient(url, registryConfigs),
      registryConfigs,
    );
  }

  /** Elements of a type `T` the caller declares for the schema (Flink's `forSpecific`). */
  static forSpecific<T>(
    subject: string,
    schema: AvroSchema,
    url: string,
    registryConfigs: SchemaRegistryConfigs = {},
  ): ConfluentRegistryAvroSerializationSchema<T> {
    return ConfluentRegistryAvroSerializationSchema.forGeneric<T>(
      subject,
      schema,
      url,
      registryConfigs,
    );
  }

  /** The schema's id, once `open()` resolved. */
  get id(): number | undefined {
    return this.schemaId;
  }

  /**
   * Registers the schema under the subject (or looks it up), once: the registry refuses a schema
   * its compatibility rule does not allow, with a message naming the subject.
   */
  open(): Promise<void> {
    this.opening ??= (async () => {
      const text = schemaText(this.type);
      // A lookup first (a read): writers restarted after a failure find the schema registered
      // and do not write to the registry again.
      let id: number;
      try {
        id = await this.client.lookup(this.subject, text);
      } catch (e) {
        if (!this.autoRegister || !(e instanceof SchemaRegistryError) || e.status !== 404) throw e;
        id = await this.client.register(this.subject, text);
      }
      const header = Buffer.alloc(HEADER_BYTES);
      header[0] = CONFLUENT_MAGIC_BYTE;
      header.writeInt32BE(id, 1);
      this.header = header;
      this.schemaId = id;
    })().catch((e: unknown) => {
      this.opening = undefined; // A later open() tries again.
      throw e;
    });
    return this.opening;
  }

  serialize(element: T): Buffer {
    const header = this.header;
    if (header === undefined) {
      throw new Error(
        `ConfluentRegistryAvroSerializationSchema for subject '${this.subject}' is not open: open() registers the schema before the first record (the Kafka sink calls it)`,
      );
    }
    let datum: Buffer;
    try {
      datum = this.type.toBuffer(element);
    } catch (e) {
      throw new Error(
        `cannot write the element as Avro ${this.type.name ?? this.type.typeName} (subject '${this.subject}'): ${invalidDatum(this.type, element)}`,
        { cause: e },
      );
    }
    const out = Buffer.allocUnsafe(HEADER_BYTES + datum.length);
    header.copy(out, 0);
    datum.copy(out, HEADER_BYTES);
    return out;
  }
}

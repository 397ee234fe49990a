/**
 * Avro serialization schemas and the Confluent schema-registry wire format for Nimble (avsc).
 *
 * @packageDocumentation
 * @module @nimble/format-avro
 */
export type { AvroSchema } from './avro.js';
export {
  AvroDeserializationSchema,
  AvroSerializationSchema,
  avroType,
  schemaText,
} from './avro.js';
export {
  CONFLUENT_MAGIC_BYTE,
  ConfluentRegistryAvroDeserializationSchema,
  ConfluentRegistryAvroSerializationSchema,
  confluentSchemaId,
} from './confluent.js';
export type { SchemaRegistryConfigs } from './registry-client.js';
export { SchemaRegistryClient, SchemaRegistryError } from './registry-client.js';

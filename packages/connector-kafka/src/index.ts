/**
 * Kafka source and exactly-once sink for Nimble (kafkajs).
 *
 * @packageDocumentation
 * @module @nimble/connector-kafka
 */
export { createKafkaClient } from './client.js';
export type { KafkaProperties } from './client.js';
export { fixKafkajsReadCommitted } from './kafka-internals.js';
export { KafkaSource, KafkaSourceBuilder, splitOwner } from './kafka-source.js';
export type { KafkaSourceEnumState } from './kafka-source.js';
export type { KafkaSourceConfig } from './kafka-source-config.js';
export type { KafkaPartitionSplit } from './kafka-partition-split.js';
export type { MalformedKafkaRecord } from './kafka-source-reader.js';
export { KafkaOffsetResetStrategy, KafkaOffsetsInitializer } from './offsets-initializer.js';
// Flink's Java names for the same (PyFlink's are the Kafka-prefixed ones above).
export {
  KafkaOffsetResetStrategy as OffsetResetStrategy,
  KafkaOffsetsInitializer as OffsetsInitializer,
} from './offsets-initializer.js';
export {
  DeliveryGuarantee,
  KafkaRecordSerializationSchema,
  KafkaRecordSerializationSchemaBuilder,
  KafkaSink,
  KafkaSinkBuilder,
} from './kafka-sink.js';
export type {
  HeaderProvider,
  KafkaCommittable,
  KafkaHeaders,
  KafkaProducerRecord,
} from './kafka-sink.js';
export {
  JsonDeserializationSchema,
  JsonSerializationSchema,
  KafkaRecordDeserializationSchema,
  SimpleStringSchema,
} from './schemas.js';
export type {
  DeserializationSchema,
  KafkaConsumerRecord,
  KafkaDeserializationSchema,
  SerializationSchema,
} from './schemas.js';
export {
  parseJaasConfig,
  SASL_MECHANISMS,
  SECURITY_PROTOCOLS,
  securityOptions,
} from './security.js';
export type { JaasConfig, SaslMechanism, SecurityOptions, SecurityProtocol } from './security.js';
export {
  UpsertKafkaDeserializationSchema,
  UpsertKafkaNormalizer,
  UpsertKafkaRecordSerializationSchema,
  UpsertKafkaRecordSerializationSchemaBuilder,
} from './upsert.js';
export type { KafkaChange, KafkaRowKind, KafkaUpsert } from './upsert.js';

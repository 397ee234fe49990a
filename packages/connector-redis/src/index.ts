/**
 * Redis feature-serving sink and async lookup for Nimble (ioredis).
 *
 * @packageDocumentation
 * @module @nimble/connector-redis
 */
// The public surface of @nimble/connector-redis: every export is named here.
export { RedisConnectorError } from './errors.js';
export {
  RedisConnectionConfig,
  RedisConnectionConfigBuilder,
  RedisConnection,
  serverOf,
} from './redis-connection-config.js';
export { RedisCommand, RedisCommandDescription, dataTypeOf } from './redis-mapper.js';
export type {
  RedisDataType,
  RedisHashValue,
  RedisMapper,
  RedisSortedSetValue,
  RedisTtl,
} from './redis-mapper.js';
export { RedisSink, RedisSinkWriter } from './redis-sink.js';
export type { RedisSinkOptions } from './redis-sink.js';
export { DefaultLookupCache, DefaultLookupCacheBuilder } from './lookup-cache.js';
export type { LookupCacheOptions } from './lookup-cache.js';
export { RedisLookupFunction, RedisLookupFunctionBuilder } from './redis-lookup-function.js';
export type {
  RedisLookupDataType,
  RedisLookupOptions,
  RedisLookupValue,
} from './redis-lookup-function.js';

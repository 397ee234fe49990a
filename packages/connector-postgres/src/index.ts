/**
 * PostgreSQL sink (batched upserts, two-phase commit) and async lookup for Nimble (pg).
 *
 * @packageDocumentation
 * @module @nimble/connector-postgres
 */
export {
  JdbcConnectionOptions,
  JdbcConnectionOptionsBuilder,
  parseUrl,
} from './connection-options.js';
export { isTransient, JdbcConnectorError } from './errors.js';
export {
  JdbcExactlyOnceOptions,
  JdbcExactlyOnceOptionsBuilder,
  JdbcExecutionOptions,
  JdbcExecutionOptionsBuilder,
} from './execution-options.js';
export {
  JdbcLookupFunction,
  JdbcLookupFunctionBuilder,
  JdbcLookupOptions,
  JdbcLookupOptionsBuilder,
} from './jdbc-lookup-function.js';
export type { LookupRow } from './jdbc-lookup-function.js';
export { JdbcExactlyOnceSink, JdbcSink } from './jdbc-sink.js';
export type { JdbcCommittable, JdbcSinkConfig } from './jdbc-sink.js';
export { compileDml, compileSql, JdbcDmlOptions, JdbcDmlOptionsBuilder } from './statements.js';
export type { CompiledStatement, JdbcStatementBuilder, WriteOp } from './statements.js';
export { JdbcSource, JdbcSourceBuilder, numericBetweenParameters } from './jdbc-source.js';
export type { JdbcSourceSplit } from './jdbc-source.js';

/**
 * Flink SQL and the Table API for Nimble: parser, catalog, planner.
 *
 * @packageDocumentation
 * @module @nimble/sql
 */
// The public surface of @nimble/sql: every export is named here.
export { StreamTableEnvironment, StatementSet, TableConfig } from './table/table-environment.js';
export { Table, GroupedTable, WindowedTable, WindowGroupedTable } from './table/table.js';
export { Tumble, Slide, Session } from './table/group-windows.js';
export type { GroupWindow, WindowOn } from './table/group-windows.js';
export { TableResult } from './table/table-result.js';
export type { ResultKind } from './table/table-result.js';
export { Schema, SchemaBuilder } from './table/schema.js';
export type { SchemaColumn } from './table/schema.js';
export { SqlParseError, ValidationError, TableError } from './errors.js';
export { parseScript, parseStatement, parseExpression, parseType } from './parser/parser.js';
export type * as Ast from './parser/ast.js';
export type { ScriptStatement, Statement } from './parser/ast.js';
export { formatType, Types, MAX_LENGTH } from './types.js';
export type { SqlType, SqlTypeName, RowField, TimeAttribute } from './types.js';
export type { Row, RowKind, Change } from './row.js';

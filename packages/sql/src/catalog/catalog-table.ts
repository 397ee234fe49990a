import type { Expr, Pos } from '../parser/ast.js';
import type { SqlType } from '../types.js';

/** A column of a table as the catalog holds it (Flink's `Column`). */
export type CatalogColumn =
  | { readonly kind: 'physical'; readonly name: string; readonly type: SqlType }
  | {
      readonly kind: 'computed';
      readonly name: string;
      /** The type the expression has, resolved at CREATE TABLE. */
      readonly type: SqlType;
      readonly expr: Expr;
      /** The expression's text as written (DESCRIBE shows it). */
      readonly exprText: string;
    }
  | {
      readonly kind: 'metadata';
      readonly name: string;
      readonly type: SqlType;
      /** The connector's metadata key (`timestamp`, `partition`, `offset`). */
      readonly key: string;
      readonly virtual: boolean;
    };

/** A table defined by CREATE TABLE (Flink's `ResolvedCatalogTable`). */
export interface CatalogTable {
  readonly kind: 'table';
  /** As written in CREATE TABLE (the last part of the path). */
  readonly name: string;
  readonly columns: readonly CatalogColumn[];
  /** The rowtime column and its watermark expression (`WATERMARK FOR col AS expr`). */
  readonly watermark?: { readonly column: string; readonly expr: Expr; readonly exprText: string };
  readonly primaryKey?: readonly string[];
  readonly partitionKeys: readonly string[];
  /** `WITH` options, keys as written. */
  readonly options: ReadonlyMap<string, string>;
  readonly temporary: boolean;
  readonly pos?: Pos;
}

import { parseExpression, parseType } from '../parser/parser.js';
import type { Expr } from '../parser/ast.js';
import type { SqlType } from '../types.js';

/** A column of a {@link Schema}. */
export type SchemaColumn =
  | { readonly kind: 'physical'; readonly name: string; readonly type: SqlType }
  | { readonly kind: 'computed'; readonly name: string; readonly expr: Expr; readonly text: string }
  /** `rowtime`: the stream record's timestamp (Flink's `columnByMetadata("rowtime", ...)`). */
  | {
      readonly kind: 'metadata';
      readonly name: string;
      readonly type: SqlType;
      readonly key: string;
    };

/**
 * The columns of a table made from a DataStream (Flink's `Schema`): physical columns read from
 * the stream's objects by name, computed columns, the record timestamp as a metadata column, and
 * a watermark.
 *
 * ```ts
 * Schema.newBuilder()
 *   .column('user_id', 'STRING')
 *   .column('amount', 'DOUBLE')
 *   .columnByExpression('event_time', 'TO_TIMESTAMP_LTZ(ts_ms, 3)')
 *   .watermark('event_time', "event_time - INTERVAL '5' SECOND")
 *   .build();
 * ```
 */
export class Schema {
  private constructor(
    readonly columns: readonly SchemaColumn[],
    readonly watermark:
      { readonly column: string; readonly expr: Expr; readonly text: string } | undefined,
  ) {}

  static newBuilder(): SchemaBuilder {
    return new SchemaBuilder();
  }

  /** @internal */
  static of(
    columns: readonly SchemaColumn[],
    watermark: { column: string; expr: Expr; text: string } | undefined,
  ): Schema {
    return new Schema(columns, watermark);
  }
}

export class SchemaBuilder {
  private readonly columns: SchemaColumn[] = [];
  private watermarkSpec: { column: string; expr: Expr; text: string } | undefined;

  /** A physical column: the stream object's property of that name, of a SQL type ('STRING', 'DECIMAL(10, 2)'). */
  column(name: string, type: string | SqlType): this {
    this.columns.push({
      kind: 'physical',
      name,
      type: typeof type === 'string' ? parseType(type) : type,
    });
    return this;
  }

  /** A column computed from others by a SQL expression. */
  columnByExpression(name: string, expression: string): this {
    this.columns.push({
      kind: 'computed',
      name,
      expr: parseExpression(expression),
      text: expression,
    });
    return this;
  }

  /** A metadata column; `rowtime` is the stream record's timestamp (TIMESTAMP_LTZ(3)). */
  columnByMetadata(name: string, type: string | SqlType, key: string = name): this {
    if (key !== 'rowtime') {
      throw new Error(
        `columnByMetadata(${JSON.stringify(name)}): a DataStream has only the 'rowtime' metadata key; got '${key}'`,
      );
    }
    this.columns.push({
      kind: 'metadata',
      name,
      type: typeof type === 'string' ? parseType(type) : type,
      key,
    });
    return this;
  }

  /** The watermark: an expression (`ts - INTERVAL '5' SECOND`) or `SOURCE_WATERMARK()` (the stream's own). */
  watermark(column: string, expression: string): this {
    this.watermarkSpec = { column, expr: parseExpression(expression), text: expression };
    return this;
  }

  build(): Schema {
    return Schema.of([...this.columns], this.watermarkSpec);
  }
}

/**
 * How tables reach their systems (Flink's `DynamicTableSourceFactory` /
 * `DynamicTableSinkFactory`): one factory per `'connector' = '...'`, one per `'format' = '...'`.
 */
import type { DataStream, StreamExecutionEnvironment, WatermarkStrategy } from '@nimble/api';
import type { CatalogTable } from '../catalog/catalog-table.js';
import type { Change, Row } from '../row.js';
import type { RowField, SqlType } from '../types.js';

/**
 * What a sink accepts (Flink's `ChangelogMode`): `insert-only` (append), `upsert` (+I, +U, -D
 * by primary key), `all` (+I, -U, +U, -D).
 */
export type ChangelogMode = 'insert-only' | 'upsert' | 'all';

/** Options a factory reads, with the validation Flink's `FactoryUtil` gives. */
export interface TableOptions {
  /** The table the options belong to, for messages ("Table options of `t`: ..."). */
  readonly tableName: string;
  readonly raw: ReadonlyMap<string, string>;
}

/** What a source factory is given to build its stream. */
export interface SourceContext {
  readonly env: StreamExecutionEnvironment;
  readonly table: CatalogTable;
  /** Columns to produce from the record value (and key), in order. */
  readonly physical: readonly RowField[];
  /** Metadata columns to produce: row field name, connector metadata key, type. */
  readonly metadata: readonly {
    readonly name: string;
    readonly key: string;
    readonly type: SqlType;
  }[];
  /**
   * The watermark strategy of the table (from its WATERMARK clause), to pass to
   * `env.fromSource` so sources with splits keep per-split watermarks; `noWatermarks` without one.
   */
  readonly watermarks: WatermarkStrategy<Row>;
  /** The uid the source operator must take (stable across upgrades). */
  readonly uid: string;
  /** Display name of the source operator. */
  readonly name: string;
  /** Job configuration (SET), e.g. `table.exec.source.idle-timeout`. */
  readonly configuration: ReadonlyMap<string, string>;
}

/** What a sink factory is given to attach itself. */
export interface SinkContext {
  readonly table: CatalogTable;
  /** The columns written, in order (all physical columns of the table). */
  readonly physical: readonly RowField[];
  /** Insert-only input: rows; updating input: changes (only when the factory's mode allows). */
  readonly input: DataStream<Row> | DataStream<Change>;
  readonly inputMode: 'insert-only' | 'updates';
  readonly uid: string;
  readonly name: string;
  readonly configuration: ReadonlyMap<string, string>;
}

export interface TableSourceFactory {
  /** The value of `'connector'`. */
  readonly identifier: string;
  /** Metadata keys this connector can read, with their types (Kafka: timestamp, partition, offset...). */
  readonly metadata?: ReadonlyMap<string, SqlType>;
  /** Throws a {@link ValidationError} naming the table and option when options are wrong. */
  validateSource(table: CatalogTable): void;
  /** Whether the source ends (bounded), as configured. */
  isBounded(table: CatalogTable): boolean;
  createSource(ctx: SourceContext): DataStream<Row>;
  /**
   * For a source of an updating table (Flink's upsert-kafka): its changes (+I, -U, +U, -D) by
   * the table's primary key. The planner calls this instead of `createSource` when present.
   */
  createChangelogSource?(ctx: SourceContext): DataStream<Change>;
}

export interface TableSinkFactory {
  readonly identifier: string;
  validateSink(table: CatalogTable): void;
  /** What the sink accepts, as configured. */
  changelogMode(table: CatalogTable): ChangelogMode;
  createSink(ctx: SinkContext): void;
}

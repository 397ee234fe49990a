/**
 * The `filesystem` connector (Flink's `FileSystemTableFactory`) over @nimble/connector-files, on
 * local paths (`file:///dir` or a plain path) and `s3://bucket/prefix`.
 *
 * Source: `path` is a file or a directory; the files under it (not hidden: no leading `.` or
 * `_`, as in Flink) are read with the table's format: a line format (json, csv, raw) one split
 * per file, `parquet` one split per row group with only the table's columns read. Bounded, or
 * continuous with `source.monitor-interval`. Partition columns (PARTITIONED BY) are read from the
 * `col=value` directories of a file's path.
 *
 * Sink: Flink's FileSink part-file lifecycle (in-progress, pending at each checkpoint, finished
 * when the checkpoint completes), rolling by `sink.rolling-policy.*`, one directory per
 * partition (`col=value/...`, the partition columns not repeated in the files). Exactly once.
 *
 * S3 settings come from the job configuration (`SET 's3.endpoint' = '...'`, the same keys as
 * s3:// checkpoint storage: `s3.endpoint`, `s3.region`, `s3.access-key`, `s3.secret-key`,
 * `s3.path.style.access`) or else from the AWS SDK's environment.
 */
import type { DataStream } from '@nimble/api';
import type {
  BucketAssigner,
  Encoder,
  ParquetColumn,
  PartOutput,
  RollingPolicy,
  S3Options,
  StreamFormat,
  StreamRecordReader,
} from '@nimble/connector-files';
import {
  BasePathBucketAssigner,
  CheckpointRollingPolicy,
  DefaultRollingPolicy,
  FieldBucketAssigner,
  FileSink,
  FileSource,
  LineFormat,
  ParquetBulkFormat,
  ParquetWriterFactory,
  s3OptionsFromConfig,
} from '@nimble/connector-files';
import type { CatalogTable } from '../catalog/catalog-table.js';
import { TableError, ValidationError } from '../errors.js';
import type { Row } from '../row.js';
import type { RowField, SqlType } from '../types.js';
import type { RowDecoder, RowEncoder } from './formats/format.js';
import { discoverFormat } from './formats/registry.js';
import type { DiscoveredFormat } from './formats/registry.js';
import type { OptionSpec } from './options.js';
import { OptionReader, tableIdentifier, validateOptions, withTableContext } from './options.js';
import type {
  SinkContext,
  SourceContext,
  TableSinkFactory,
  TableSourceFactory,
} from './table-factory.js';

const OPTIONS: readonly OptionSpec[] = [
  { key: 'path', type: 'string', required: true },
  { key: 'format', type: 'string', required: true },
  { key: 'source.monitor-interval', type: 'duration' },
  { key: 'sink.parallelism', type: 'int' },
  { key: 'sink.rolling-policy.file-size', type: 'string' },
  { key: 'sink.rolling-policy.rollover-interval', type: 'duration' },
  { key: 'sink.rolling-policy.inactivity-interval', type: 'duration' },
  { key: 'sink.rolling-policy.check-interval', type: 'duration' },
  { key: 'partition.default-name', type: 'string' },
];

/** Flink SQL's default `sink.rolling-policy.rollover-interval` and `inactivity-interval`. */
const SQL_DEFAULT_INTERVAL = 30 * 60_000;

/** Flink's `partition.default-name` default. */
const DEFAULT_PARTITION_NAME = '__DEFAULT_PARTITION__';

function physicalOf(table: CatalogTable): RowField[] {
  return table.columns
    .filter((c) => c.kind === 'physical')
    .map((c) => ({ name: c.name, type: c.type }));
}

/** Parses a memory size as Flink writes it: `128mb`, `1 kb`, `1048576` (bytes). */
function memorySize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const units: Record<string, number> = {
    '': 1,
    b: 1,
    bytes: 1,
    k: 1024,
    kb: 1024,
    kibibytes: 1024,
    m: 1024 ** 2,
    mb: 1024 ** 2,
    mebibytes: 1024 ** 2,
    g: 1024 ** 3,
    gb: 1024 ** 3,
    gibibytes: 1024 ** 3,
  };
  const unit = units[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** A format: a line format of the SQL format registry, or Parquet (a bulk format). */
type TableFormat = { kind: 'lines'; format: DiscoveredFormat } | { kind: 'parquet' };

interface Resolved {
  readonly path: string;
  readonly format: TableFormat;
  readonly parallelism: number | undefined;
  readonly options: OptionReader;
  /** Columns stored in the files: the physical columns but the partition columns. */
  readonly stored: readonly RowField[];
  readonly partitions: readonly RowField[];
}

function resolve(
  role: 'source' | 'sink',
  table: CatalogTable,
  fields: readonly RowField[],
): Resolved {
  return withTableContext(role, table, () => {
    const formatName = table.options.get('format');
    // Format discovery first: an unknown format is the error to report, not its options.
    const format: TableFormat | undefined =
      formatName === undefined
        ? undefined
        : formatName === 'parquet'
          ? { kind: 'parquet' }
          : { kind: 'lines', format: discoverFormat(table.options, 'format')! };
    validateOptions('filesystem', table.options, [
      ...OPTIONS,
      ...(format?.kind === 'lines' ? format.format.specs : []),
    ]);
    const options = new OptionReader(table.options);
    const size = options.string('sink.rolling-policy.file-size');
    if (size !== undefined && !(memorySize(size)! > 0)) {
      throw new ValidationError(
        `Invalid value for option 'sink.rolling-policy.file-size': '${size}' is not a memory size such as '128mb'.`,
      );
    }
    for (const k of table.partitionKeys) {
      if (!fields.some((f) => f.name === k)) {
        throw new ValidationError(`Partition column '${k}' is not a physical column of the table.`);
      }
    }
    const stored = fields.filter((f) => !table.partitionKeys.includes(f.name));
    if (format?.kind === 'lines') format.format.factory.validate?.(stored);
    const p = table.options.get('sink.parallelism');
    return {
      path: table.options.get('path')!,
      format: format!,
      parallelism: p === undefined ? undefined : Number(p),
      options,
      stored,
      partitions: table.partitionKeys.map((k) => fields.find((f) => f.name === k)!),
    };
  });
}

/** S3 settings from the job configuration (`SET 's3.endpoint' = ...`). */
function s3Of(configuration: ReadonlyMap<string, string>): S3Options {
  return s3OptionsFromConfig(Object.fromEntries(configuration));
}

/** A partition value from a path segment, typed as its column. */
function partitionValue(text: string, type: SqlType, defaultName: string): unknown {
  if (text === defaultName) return null;
  const decoded = decodeURIComponent(text);
  switch (type.name) {
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL':
      return Number(decoded);
    case 'BOOLEAN':
      return decoded === 'true';
    default:
      return decoded;
  }
}

/** The partition values of a file from its path's `col=value` segments. */
function partitionsOf(path: string, partitions: readonly RowField[], defaultName: string): Row {
  const row: Row = {};
  const segments = path.split('/');
  for (const f of partitions) {
    const seg = segments.find((s) => s.startsWith(`${f.name}=`));
    row[f.name] =
      seg === undefined ? null : partitionValue(seg.slice(f.name.length + 1), f.type, defaultName);
  }
  return row;
}

/** A line format of the SQL registry as a stream format, adding partition values from the path. */
function lineFormat(
  decode: RowDecoder,
  partitions: readonly RowField[],
  defaultName: string,
): StreamFormat<Row> {
  return {
    createReader(bytes: Uint8Array, offset: number, path: string): StreamRecordReader<Row> {
      const parts = partitions.length > 0 ? partitionsOf(path, partitions, defaultName) : undefined;
      const lines = new LineFormat<Row>((line) => {
        const row = decode(Buffer.from(line, 'utf8'));
        if (row === null) return undefined;
        return parts ? Object.assign(row, parts) : row;
      });
      return lines.createReader(bytes, offset, path);
    },
  };
}

/** The Parquet type a SQL type is written as. */
function parquetType(type: SqlType): ParquetColumn['type'] {
  switch (type.name) {
    case 'BOOLEAN':
      return 'BOOLEAN';
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'DATE':
    case 'TIME':
      return 'INT32';
    case 'BIGINT':
    case 'INTERVAL_DAY_TIME':
    case 'INTERVAL_YEAR_MONTH':
      return 'INT64';
    case 'FLOAT':
      return 'FLOAT';
    case 'DOUBLE':
    case 'DECIMAL':
      return 'DOUBLE';
    case 'CHAR':
    case 'VARCHAR':
      return 'STRING';
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return 'TIMESTAMP';
    case 'BINARY':
    case 'VARBINARY':
      return 'BYTE_ARRAY';
    default:
      return 'JSON';
  }
}

const DAY_MS = 86_400_000;

/** A value read from Parquet as the SQL type's run-time value (types.ts). */
function fromParquet(v: unknown, type: SqlType): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date)
    return type.name === 'DATE' ? Math.floor(v.getTime() / DAY_MS) : v.getTime();
  if (typeof v === 'bigint') return Number(v);
  return v;
}

class RowLineEncoder implements Encoder<Row> {
  constructor(private readonly toBytes: RowEncoder) {}
  encode(row: Row, out: PartOutput): void {
    out.write(this.toBytes(row));
    out.writeString('\n');
  }
}

function source(ctx: SourceContext): DataStream<Row> {
  const r = resolve('source', ctx.table, ctx.physical);
  const table = tableIdentifier(ctx.table);
  const defaultName = r.options.string('partition.default-name') ?? DEFAULT_PARTITION_NAME;
  const interval = r.options.duration('source.monitor-interval');
  const fields = ctx.physical;
  if (r.format.kind === 'parquet' && r.partitions.length > 0) {
    throw new TableError(
      `Table '${table}': partition columns of parquet tables are not read from the path yet; declare the table without PARTITIONED BY to read it.`,
    );
  }
  const builder =
    r.format.kind === 'parquet'
      ? FileSource.forBulkFileFormat(
          ParquetBulkFormat.forColumns(r.stored.map((f) => f.name)),
          r.path,
        )
      : FileSource.forRecordStreamFormat(
          lineFormat(
            r.format.format.factory.createDecoder(r.stored, r.format.format.options),
            r.partitions,
            defaultName,
          ),
          r.path,
        );
  builder.setS3Options(s3Of(ctx.configuration));
  if (interval !== undefined) builder.monitorContinuously(interval);
  const stream = ctx.env
    .fromSource(builder.build() as FileSource<Row>, ctx.watermarks, ctx.name)
    .uid(ctx.uid);
  if (r.format.kind !== 'parquet') return stream;
  return stream
    .map((row: Row) => {
      const out: Row = {};
      for (const f of fields) out[f.name] = fromParquet(row[f.name], f.type);
      return out;
    })
    .name(`${ctx.name}: parquet to rows`)
    .uid(`${ctx.uid}-parquet`);
}

function sinkOf(ctx: SinkContext): FileSink<Row> {
  const r = resolve('sink', ctx.table, ctx.physical);
  const o = r.options;
  const defaultName = o.string('partition.default-name') ?? DEFAULT_PARTITION_NAME;
  const size = o.string('sink.rolling-policy.file-size');
  const maxSize = size === undefined ? undefined : memorySize(size);
  const rollover = o.duration('sink.rolling-policy.rollover-interval');
  const assigner: BucketAssigner<Row> =
    r.partitions.length > 0
      ? new FieldBucketAssigner<Row>(
          r.partitions.map((p) => p.name),
          defaultName,
        )
      : new BasePathBucketAssigner<Row>();
  let builder;
  if (r.format.kind === 'parquet') {
    const columns: ParquetColumn[] = r.stored.map((f) => ({
      name: f.name,
      type: parquetType(f.type),
      nullable: f.type.nullable,
    }));
    const policy: RollingPolicy<Row> = new CheckpointRollingPolicy<Row>(
      maxSize,
      rollover ?? SQL_DEFAULT_INTERVAL,
    );
    builder = FileSink.forBulkFormat(
      r.path,
      ParquetWriterFactory.forColumns<Row>(columns),
    ).withRollingPolicy(policy);
  } else {
    // Flink SQL's defaults: 128MB, 30 min, 30 min (DataStream's DefaultRollingPolicy: 60 s).
    const policy = DefaultRollingPolicy.builder()
      .withRolloverInterval(rollover ?? SQL_DEFAULT_INTERVAL)
      .withInactivityInterval(
        o.duration('sink.rolling-policy.inactivity-interval') ?? SQL_DEFAULT_INTERVAL,
      );
    if (maxSize !== undefined) policy.withMaxPartSize(maxSize);
    const encode = r.format.format.factory.createEncoder(r.stored, r.format.format.options);
    builder = FileSink.forRowFormat(r.path, new RowLineEncoder(encode)).withRollingPolicy(
      policy.build<Row>(),
    );
  }
  const check = o.duration('sink.rolling-policy.check-interval');
  if (check !== undefined) builder.withBucketCheckInterval(check);
  return builder.withBucketAssigner(assigner).withS3Options(s3Of(ctx.configuration)).build();
}

export const filesystemFactory: TableSourceFactory & TableSinkFactory = {
  identifier: 'filesystem',
  validateSource(table) {
    resolve('source', table, physicalOf(table));
  },
  isBounded: (table) => table.options.get('source.monitor-interval') === undefined,
  createSource(ctx: SourceContext) {
    if (ctx.metadata.length > 0) {
      throw new ValidationError(
        `Table '${tableIdentifier(ctx.table)}': the filesystem connector has no metadata columns (found ${ctx.metadata.map((m) => `'${m.key}'`).join(', ')}).`,
      );
    }
    return source(ctx);
  },
  validateSink(table) {
    resolve('sink', table, physicalOf(table));
  },
  changelogMode: () => 'insert-only',
  createSink(ctx: SinkContext) {
    const { parallelism } = resolve('sink', ctx.table, ctx.physical);
    const s = (ctx.input as DataStream<Row>).sinkTo(sinkOf(ctx), ctx.name).uid(ctx.uid);
    if (parallelism !== undefined) s.setParallelism(parallelism);
  },
};

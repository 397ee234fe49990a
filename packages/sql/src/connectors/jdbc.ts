/**
 * The `jdbc` connector (Flink's `JdbcDynamicTableFactory`) on @nimble/connector-postgres, for
 * PostgreSQL URLs, with Flink's option names. The sink upserts by the table's PRIMARY KEY (+I/+U
 * write the row, -D deletes the key, -U is dropped) or, without one, appends; it buffers rows
 * (`sink.buffer-flush.*`), flushes at every checkpoint and retries transient failures
 * (`sink.max-retries`): at least once, and exactly-once results for upserts. The source is a
 * bounded scan of the table (`scan.partition.*` split it into ranges of a numeric column).
 * Lookup joins are not supported by the planner, so the `lookup.*` options are not accepted.
 */
import type { DataStream } from '@nimble/api';
import {
  JdbcConnectionOptions,
  JdbcDmlOptions,
  JdbcExecutionOptions,
  JdbcSink,
  JdbcSource,
  numericBetweenParameters,
  parseUrl,
} from '@nimble/connector-postgres';
import type { CatalogTable } from '../catalog/catalog-table.js';
import { ValidationError } from '../errors.js';
import type { Change, Row } from '../row.js';
import type { RowField, SqlType } from '../types.js';
import type { OptionSpec } from './options.js';
import { OptionReader, tableIdentifier, validateOptions, withTableContext } from './options.js';
import type {
  SinkContext,
  SourceContext,
  TableSinkFactory,
  TableSourceFactory,
} from './table-factory.js';

const OPTIONS: readonly OptionSpec[] = [
  { key: 'url', type: 'string', required: true },
  { key: 'table-name', type: 'string', required: true },
  { key: 'driver', type: 'string' },
  { key: 'username', type: 'string' },
  { key: 'password', type: 'string' },
  { key: 'connection.max-retry-timeout', type: 'duration' },
  { key: 'scan.partition.column', type: 'string' },
  { key: 'scan.partition.num', type: 'int' },
  { key: 'scan.partition.lower-bound', type: 'long' },
  { key: 'scan.partition.upper-bound', type: 'long' },
  { key: 'scan.fetch-size', type: 'int' },
  { key: 'scan.auto-commit', type: 'boolean' },
  { key: 'sink.buffer-flush.max-rows', type: 'int' },
  { key: 'sink.buffer-flush.interval', type: 'duration' },
  { key: 'sink.max-retries', type: 'int' },
  { key: 'sink.parallelism', type: 'int' },
];

const PARTITION_KEYS = [
  'scan.partition.column',
  'scan.partition.num',
  'scan.partition.lower-bound',
  'scan.partition.upper-bound',
];

interface JdbcPlan {
  readonly connection: JdbcConnectionOptions;
  readonly tableName: string;
  readonly partition: { column: string; num: number; lower: number; upper: number } | undefined;
  readonly fetchSize: number;
  readonly execution: JdbcExecutionOptions;
  readonly parallelism: number | undefined;
}

function planFor(table: CatalogTable): JdbcPlan {
  const opts = table.options;
  validateOptions('jdbc', opts, OPTIONS);
  const o = new OptionReader(opts);
  const url = o.string('url')!;
  try {
    parseUrl(url);
  } catch (e) {
    throw new ValidationError(
      `Option 'url' = '${url}': ${(e as Error).message}. Only PostgreSQL is supported.`,
    );
  }
  const username = o.string('username');
  const password = o.string('password');
  if ((username === undefined) !== (password === undefined)) {
    throw new ValidationError(
      'Either all or none of the following options should be provided:\nusername\npassword',
    );
  }
  const set = PARTITION_KEYS.filter((k) => opts.has(k));
  if (set.length > 0 && set.length < PARTITION_KEYS.length) {
    throw new ValidationError(
      `Either all or none of the following options should be provided:\n${PARTITION_KEYS.join('\n')}`,
    );
  }
  let partition: JdbcPlan['partition'];
  if (set.length > 0) {
    const lower = o.int('scan.partition.lower-bound', 'long')!;
    const upper = o.int('scan.partition.upper-bound', 'long')!;
    if (lower > upper) {
      throw new ValidationError(
        `'scan.partition.lower-bound'='${lower}' must not be larger than 'scan.partition.upper-bound'='${upper}'.`,
      );
    }
    partition = {
      column: o.string('scan.partition.column')!,
      num: o.int('scan.partition.num')!,
      lower,
      upper,
    };
    if (partition.num < 1) throw new ValidationError("'scan.partition.num' must be at least 1.");
  }
  const builder = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder().withUrl(url);
  if (username !== undefined) builder.withUsername(username);
  if (password !== undefined) builder.withPassword(password);
  const timeout = o.duration('connection.max-retry-timeout');
  if (timeout !== undefined) {
    if (timeout < 1000) {
      throw new ValidationError(
        `The value of 'connection.max-retry-timeout' option should be in second granularity and shouldn't be smaller than 1 second, but is ${timeout} ms.`,
      );
    }
    builder.withConnectionCheckTimeoutSeconds(timeout / 1000);
  }
  const maxRows = o.int('sink.buffer-flush.max-rows') ?? 100;
  const maxRetries = o.int('sink.max-retries') ?? 3;
  if (maxRetries < 0) {
    throw new ValidationError(
      `The value of 'sink.max-retries' option shouldn't be negative, but is ${maxRetries}.`,
    );
  }
  return {
    connection: builder.build(),
    tableName: o.string('table-name')!,
    partition,
    fetchSize: o.int('scan.fetch-size') ?? 0,
    execution: JdbcExecutionOptions.builder()
      .withBatchSize(Math.max(0, maxRows))
      .withBatchIntervalMs(o.duration('sink.buffer-flush.interval') ?? 1000)
      .withMaxRetries(maxRetries)
      .build(),
    parallelism: o.int('sink.parallelism'),
  };
}

function plan(role: 'source' | 'sink', table: CatalogTable): JdbcPlan {
  return withTableContext(role, table, () => planFor(table));
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteTable(name: string): string {
  return name
    .split('.')
    .map((p) => (/^".*"$/.test(p) ? p : quote(p)))
    .join('.');
}

/** The select-list entry of a column: times come as numbers, the way rows carry them. */
function selectColumn(f: RowField): string {
  const c = quote(f.name);
  switch (f.type.name) {
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
    case 'TIME':
      // Timestamps without time zone: their wall-clock time read as UTC (EXTRACT ignores zones).
      return `(EXTRACT(EPOCH FROM ${c}) * 1000)::float8 AS ${c}`;
    case 'DATE':
      return `(${c} - DATE '1970-01-01') AS ${c}`;
    default:
      return c;
  }
}

/** A column value as rows carry it (types.ts), from what `pg` returned. */
function fromPg(type: SqlType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type.name) {
    case 'BIGINT':
    case 'DECIMAL':
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
    case 'TIME':
    case 'DATE':
    case 'FLOAT':
    case 'DOUBLE':
      return typeof v === 'number' ? v : Number(v);
    case 'BINARY':
    case 'VARBINARY':
      return v instanceof Uint8Array ? new Uint8Array(v) : v;
    default:
      return v;
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A row value as a statement parameter. */
function toPg(type: SqlType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type.name) {
    case 'TIMESTAMP':
      return typeof v === 'number' ? new Date(v).toISOString().replace('Z', '') : v;
    case 'TIMESTAMP_LTZ':
      return typeof v === 'number' ? new Date(v).toISOString() : v;
    case 'DATE':
      return typeof v === 'number' ? new Date(v * 86_400_000).toISOString().slice(0, 10) : v;
    case 'TIME': {
      if (typeof v !== 'number') return v;
      const ms = Math.floor(v);
      return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
    }
    case 'BINARY':
    case 'VARBINARY':
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
    case 'MAP':
    case 'ROW':
    case 'MULTISET':
      return JSON.stringify(v instanceof Map ? Object.fromEntries(v) : v);
    default:
      return v;
  }
}

function createSource(ctx: SourceContext): DataStream<Row> {
  const p = plan('source', ctx.table);
  if (ctx.metadata.length > 0) {
    throw new ValidationError(
      `Table '${tableIdentifier(ctx.table)}': the jdbc connector has no metadata columns (found ${ctx.metadata.map((m) => `'${m.key}'`).join(', ')}).`,
    );
  }
  const fields = ctx.physical;
  let sql = `SELECT ${fields.map(selectColumn).join(', ')} FROM ${quoteTable(p.tableName)}`;
  let values: unknown[][] = [[]];
  if (p.partition) {
    sql += ` WHERE ${quote(p.partition.column)} BETWEEN $1 AND $2`;
    values = numericBetweenParameters(p.partition.lower, p.partition.upper, p.partition.num);
  }
  // An order makes a restored reader's skip of the rows it emitted exact.
  const key = ctx.table.primaryKey;
  if (key && key.length > 0) sql += ` ORDER BY ${key.map(quote).join(', ')}`;
  const source = JdbcSource.builder<Row>()
    .setConnectionOptions(p.connection)
    .setSql(sql)
    .setParameterValues(values)
    .setFetchSize(p.fetchSize)
    .setResultExtractor((r) => {
      const row: Row = {};
      for (const f of fields) row[f.name] = fromPg(f.type, r[f.name]);
      return row;
    })
    .build();
  return ctx.env.fromSource(source, ctx.watermarks, ctx.name).uid(ctx.uid);
}

function createSink(ctx: SinkContext): void {
  const p = plan('sink', ctx.table);
  const fields = ctx.physical;
  const key = ctx.table.primaryKey ?? [];
  const dml = JdbcDmlOptions.builder()
    .withTableName(p.tableName)
    .withFieldNames(...fields.map((f) => f.name))
    .withKeyFields(...key)
    .build();
  const changes = ctx.inputMode === 'updates';
  const encode = (row: Row): unknown[] => fields.map((f) => toPg(f.type, row[f.name]));
  const sink = changes
    ? new JdbcSink<Change>({
        ...JdbcSink.sink<Change>(dml, (c) => encode(c.row), p.execution, p.connection).config,
        isDelete: (c) => c.kind === '-D',
      })
    : JdbcSink.sink<Row>(dml, encode, p.execution, p.connection);
  let input = ctx.input as DataStream<Row | Change>;
  // An upsert sink keeps the latest row per key: -U adds nothing a following +U does not overwrite.
  if (changes) {
    input = (ctx.input as DataStream<Change>).filter((c) => c.kind !== '-U') as DataStream<
      Row | Change
    >;
  }
  const op = input.sinkTo(sink as JdbcSink<Row | Change>, ctx.name).uid(ctx.uid);
  if (p.parallelism !== undefined) op.setParallelism(p.parallelism);
}

export const jdbcFactory: TableSourceFactory & TableSinkFactory = {
  identifier: 'jdbc',
  validateSource(table) {
    plan('source', table);
  },
  isBounded: () => true,
  createSource,
  validateSink(table) {
    plan('sink', table);
  },
  changelogMode: (table) =>
    table.primaryKey && table.primaryKey.length > 0 ? 'upsert' : 'insert-only',
  createSink,
};

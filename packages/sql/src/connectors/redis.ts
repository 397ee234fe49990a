/**
 * The `redis` sink connector on @nimble/connector-redis, for serving features: each row is written
 * under a key made of `key-prefix` and its PRIMARY KEY columns (joined by `key-delimiter`), as a
 * hash of the other columns (`'data-type' = 'hash'`, the default) or as a string holding the row
 * in a format (`'data-type' = 'string'`, `'format' = 'json'` by default), optionally with a time
 * to live (`ttl`). It takes an upsert changelog: +I/+U write the row, -D deletes the key, -U is
 * dropped. Hash fields and key parts are the values as Flink's `Row.toString` prints them; a null
 * column is removed from the hash.
 *
 * Lookup joins (`FOR SYSTEM_TIME AS OF`) are not planned by the SQL planner: the connector is a
 * sink only; the DataStream API's `RedisLookupFunction` does lookups.
 */
import type { DataStream } from '@nimble/api';
import type { RedisHashValue, RedisMapper } from '@nimble/connector-redis';
import {
  RedisCommand,
  RedisCommandDescription,
  RedisConnectionConfig,
  RedisSink,
} from '@nimble/connector-redis';
import type { CatalogTable } from '../catalog/catalog-table.js';
import { ValidationError } from '../errors.js';
import type { Change, Row } from '../row.js';
import type { RowField } from '../types.js';
import type { RowEncoder } from './formats/format.js';
import type { DiscoveredFormat } from './formats/registry.js';
import { discoverFormat } from './formats/registry.js';
import type { OptionSpec } from './options.js';
import { OptionReader, validateOptions, withTableContext } from './options.js';
import { formatValue } from './print.js';
import type { SinkContext, TableSinkFactory } from './table-factory.js';

const DATA_TYPES = ['hash', 'string'] as const;

const OPTIONS: readonly OptionSpec[] = [
  { key: 'host', type: 'string' },
  { key: 'port', type: 'int' },
  { key: 'username', type: 'string' },
  { key: 'password', type: 'string' },
  { key: 'database', type: 'int' },
  { key: 'tls', type: 'boolean' },
  { key: 'timeout', type: 'duration' },
  { key: 'data-type', type: 'enum', values: DATA_TYPES },
  { key: 'key-prefix', type: 'string' },
  { key: 'key-delimiter', type: 'string' },
  { key: 'ttl', type: 'duration' },
  { key: 'format', type: 'string' },
  { key: 'sink.parallelism', type: 'int' },
  { key: 'sink.buffer-flush.max-rows', type: 'int' },
  { key: 'sink.max-retries', type: 'int' },
];

/** Everything a Redis table's options resolve to. */
interface RedisPlan {
  readonly config: RedisConnectionConfig;
  readonly dataType: (typeof DATA_TYPES)[number];
  readonly keyPrefix: string;
  readonly keyDelimiter: string;
  readonly ttlMs: number | undefined;
  readonly keyFields: readonly RowField[];
  readonly valueFields: readonly RowField[];
  readonly format: DiscoveredFormat | undefined;
  readonly parallelism: number | undefined;
  readonly maxBatchSize: number | undefined;
}

function physicalOf(table: CatalogTable): RowField[] {
  return table.columns
    .filter((c) => c.kind === 'physical')
    .map((c) => ({ name: c.name, type: c.type }));
}

function planFor(table: CatalogTable): RedisPlan {
  const opts = table.options;
  const physical = physicalOf(table);
  if (!table.primaryKey || table.primaryKey.length === 0) {
    throw new ValidationError(
      "'redis' tables require to define a PRIMARY KEY constraint. The PRIMARY KEY columns make the Redis key (after 'key-prefix', joined by 'key-delimiter'); a -D change deletes that key.",
    );
  }
  const o = new OptionReader(opts);
  const dataType = o.enum('data-type', DATA_TYPES) ?? 'hash';
  let format: DiscoveredFormat | undefined;
  if (dataType === 'string') {
    format = discoverFormat(
      opts.has('format') ? opts : new Map([...opts, ['format', 'json']]),
      'format',
    );
  } else if (opts.has('format')) {
    throw new ValidationError(
      "Option 'format' applies to 'data-type' = 'string' only: a hash holds each column as a field.",
    );
  }
  validateOptions('redis', opts, [...OPTIONS, ...(format?.specs ?? [])]);
  const keyFields = table.primaryKey.map((n) => physical.find((p) => p.name === n)!);
  const valueFields = physical.filter((p) => !table.primaryKey!.includes(p.name));
  if (dataType === 'hash' && valueFields.length === 0) {
    throw new ValidationError(
      "A 'redis' table of 'data-type' = 'hash' needs a column besides its PRIMARY KEY columns: the hash's fields are those columns.",
    );
  }
  const builder = RedisConnectionConfig.builder()
    .setHost(o.string('host') ?? 'localhost')
    .setPort(o.int('port') ?? 6379)
    .setDatabase(o.int('database') ?? 0)
    .setTls(o.boolean('tls') ?? false);
  const username = o.string('username');
  const password = o.string('password');
  const timeout = o.duration('timeout');
  const retries = o.int('sink.max-retries');
  if (username !== undefined) builder.setUsername(username);
  if (password !== undefined) builder.setPassword(password);
  if (timeout !== undefined) builder.setTimeout(timeout);
  if (retries !== undefined) builder.setMaxRetries(retries);
  const ttlMs = o.duration('ttl');
  if (ttlMs !== undefined && ttlMs <= 0) {
    throw new ValidationError(`Option 'ttl' must be positive; got ${ttlMs} ms.`);
  }
  return {
    config: builder.build(),
    dataType,
    keyPrefix: o.string('key-prefix') ?? '',
    keyDelimiter: o.string('key-delimiter') ?? ':',
    ttlMs,
    keyFields,
    valueFields,
    format,
    parallelism: o.int('sink.parallelism'),
    maxBatchSize: o.int('sink.buffer-flush.max-rows'),
  };
}

function plan(table: CatalogTable): RedisPlan {
  return withTableContext('sink', table, () => planFor(table));
}

/** Rows or changes to keys and values: a hash of the non-key columns, or the encoded row. */
class RowMapper implements RedisMapper<Row | Change> {
  private readonly description: RedisCommandDescription;
  constructor(
    private readonly p: RedisPlan,
    private readonly encoder: RowEncoder | undefined,
    private readonly changes: boolean,
  ) {
    this.description = new RedisCommandDescription(
      p.dataType === 'hash' ? RedisCommand.HSET : RedisCommand.SET,
      p.ttlMs !== undefined ? { mode: 'PX', ttl: p.ttlMs } : undefined,
    );
  }
  getCommandDescription(): RedisCommandDescription {
    return this.description;
  }
  private rowOf(data: Row | Change): Row {
    return this.changes ? (data as Change).row : (data as Row);
  }
  getKeyFromData(data: Row | Change): string {
    const row = this.rowOf(data);
    let key = this.p.keyPrefix;
    this.p.keyFields.forEach((f, i) => {
      if (i > 0) key += this.p.keyDelimiter;
      key += formatValue(row[f.name], f.type);
    });
    return key;
  }
  getValueFromData(data: Row | Change): string | RedisHashValue | null {
    if (this.changes && (data as Change).kind === '-D') return null;
    const row = this.rowOf(data);
    if (this.encoder) return this.encoder(row).toString('utf8');
    const fields: Record<string, string | null> = {};
    for (const f of this.p.valueFields) {
      const v = row[f.name];
      fields[f.name] = v === null || v === undefined ? null : formatValue(v, f.type);
    }
    return fields;
  }
}

function createSink(ctx: SinkContext): void {
  const p = plan(ctx.table);
  const changes = ctx.inputMode === 'updates';
  const encoder = p.format?.factory.createEncoder(ctx.physical, p.format.options);
  const mapper = new RowMapper(p, encoder, changes);
  let input = ctx.input as DataStream<Row | Change>;
  // An upsert sink keeps the latest row per key: -U adds nothing a following +U does not overwrite.
  if (changes) {
    input = (ctx.input as DataStream<Change>).filter((c) => c.kind !== '-U') as DataStream<
      Row | Change
    >;
  }
  // A sink of another parallelism than its input gets each key's changes in one subtask, in order
  // (Flink's keyed shuffle of upsert sinks).
  if (p.parallelism !== undefined) {
    input = input.keyBy((d) => mapper.getKeyFromData(d));
  }
  const sink = input
    .sinkTo(
      new RedisSink(
        p.config,
        mapper,
        p.maxBatchSize !== undefined ? { maxBatchSize: p.maxBatchSize } : {},
      ),
      ctx.name,
    )
    .uid(ctx.uid);
  if (p.parallelism !== undefined) sink.setParallelism(p.parallelism);
}

export const redisFactory: TableSinkFactory = {
  identifier: 'redis',
  validateSink(table) {
    plan(table);
  },
  changelogMode: () => 'upsert',
  createSink,
};

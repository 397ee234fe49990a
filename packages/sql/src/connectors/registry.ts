/**
 * The connectors `'connector' = '...'` can name (Flink's factory discovery), with Flink's
 * messages for a missing or unknown connector and for one used in the wrong role.
 */
import type { CatalogTable } from '../catalog/catalog-table.js';
import { ValidationError } from '../errors.js';
import { blackholeFactory } from './blackhole.js';
import { datagenFactory } from './datagen.js';
import { filesystemFactory } from './filesystem.js';
import { jdbcFactory } from './jdbc.js';
import { kafkaFactory, upsertKafkaFactory } from './kafka.js';
import { tableContextError } from './options.js';
import { printFactory } from './print.js';
import { redisFactory } from './redis.js';
import type { TableSinkFactory, TableSourceFactory } from './table-factory.js';

const SOURCES: ReadonlyMap<string, TableSourceFactory> = new Map(
  [datagenFactory, filesystemFactory, jdbcFactory, kafkaFactory, upsertKafkaFactory].map((f) => [
    f.identifier,
    f,
  ]),
);
const SINKS: ReadonlyMap<string, TableSinkFactory> = new Map(
  [
    blackholeFactory,
    filesystemFactory,
    jdbcFactory,
    kafkaFactory,
    printFactory,
    redisFactory,
    upsertKafkaFactory,
  ].map((f) => [f.identifier, f]),
);

/** Every connector identifier, for the "Available factory identifiers" list. */
const ALL = [...new Set([...SOURCES.keys(), ...SINKS.keys()])].sort();

function connectorOf(role: 'source' | 'sink', table: CatalogTable): string {
  const connector = table.options.get('connector');
  if (connector === undefined) {
    throw tableContextError(
      role,
      table,
      new ValidationError(
        "Table options do not contain an option key 'connector' for discovering a connector.",
      ),
    );
  }
  return connector;
}

function unknown(role: 'source' | 'sink', table: CatalogTable, connector: string): ValidationError {
  let cause: ValidationError;
  if (!ALL.includes(connector)) {
    cause = new ValidationError(
      `Could not find any factory for identifier '${connector}' that implements 'DynamicTableFactory'.\n\nAvailable factory identifiers are:\n\n${ALL.join('\n')}`,
    );
  } else if (role === 'source') {
    cause = new ValidationError(
      `Connector '${connector}' can only be used as a sink. It cannot be used as a source.`,
    );
  } else {
    cause = new ValidationError(
      `Connector '${connector}' can only be used as a source. It cannot be used as a sink.`,
    );
  }
  return tableContextError(role, table, cause);
}

/** The source factory of the table's `'connector'`; throws a ValidationError naming the table. */
export function sourceFactory(table: CatalogTable): TableSourceFactory {
  const connector = connectorOf('source', table);
  const f = SOURCES.get(connector);
  if (!f) throw unknown('source', table, connector);
  return f;
}

/** The sink factory of the table's `'connector'`; throws a ValidationError naming the table. */
export function sinkFactory(table: CatalogTable): TableSinkFactory {
  const connector = connectorOf('sink', table);
  const f = SINKS.get(connector);
  if (!f) throw unknown('sink', table, connector);
  return f;
}

/** Whether the table's `'connector'` is a sink only: its sink's error is the one to show. */
export function isSinkOnly(table: CatalogTable): boolean {
  const connector = table.options.get('connector');
  return connector !== undefined && SINKS.has(connector) && !SOURCES.has(connector);
}

/** The identifiers of all connectors, sorted. */
export function connectorIdentifiers(): readonly string[] {
  return ALL;
}

/**
 * The `print` connector (Flink's `PrintTableSinkFactory`): every change as a line on stdout (or
 * stderr), `+I[user_1, 2024-01-01T00:05, 12.5]`, prefixed `identifier:subtask> ` as Flink's
 * PrintSink does. Values print as Flink's `Row.toString` of their Java external types
 * (LocalDateTime, Instant, LocalDate, BigDecimal, Double).
 */
import type { DataStream } from '@nimble/api';
import type { CatalogTable } from '../catalog/catalog-table.js';
import type { Change, Row, RowKind } from '../row.js';
import type { RowField, SqlType } from '../types.js';
import { formatDate } from './formats/time-format.js';
import { OptionReader, validateOptions, withTableContext } from './options.js';
import type { OptionSpec } from './options.js';
import type { SinkContext, TableSinkFactory } from './table-factory.js';

const OPTIONS: readonly OptionSpec[] = [
  { key: 'print-identifier', type: 'string' },
  { key: 'standard-error', type: 'boolean' },
  { key: 'sink.parallelism', type: 'int' },
];

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** Java's fraction of a second in toString: groups of 3 digits (millis only here). */
function javaTime(msOfDay: number, alwaysSeconds: boolean): string {
  const h = Math.floor(msOfDay / 3_600_000);
  const m = Math.floor((msOfDay % 3_600_000) / 60_000);
  const s = Math.floor((msOfDay % 60_000) / 1000);
  const ms = msOfDay % 1000;
  let out = `${pad(h, 2)}:${pad(m, 2)}`;
  // LocalTime.toString omits zero seconds and nanos; Instant.toString always prints seconds.
  if (alwaysSeconds || s > 0 || ms > 0) out += `:${pad(s, 2)}`;
  if (ms > 0) out += `.${pad(ms, 3)}`;
  return out;
}

function splitEpoch(ms: number): [number, number] {
  const days = Math.floor(ms / 86_400_000);
  return [days, ms - days * 86_400_000];
}

/** Java's `Double.toString`: at least one fraction digit, scientific outside [1e-3, 1e7). */
function javaDouble(v: number, float: boolean): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  let digits = String(v);
  if (float) {
    // The shortest decimal that reads back as the same float32, as Float.toString prints.
    for (let p = 1; p <= 9; p++) {
      const c = Number(v.toPrecision(p));
      if (Math.fround(c) === Math.fround(v)) {
        digits = String(c);
        break;
      }
    }
  }
  const abs = Math.abs(Number(digits));
  if (abs >= 1e-3 && abs < 1e7) {
    const plain = Number(digits).toString();
    return plain.includes('.') || plain.includes('e') ? plain : `${plain}.0`;
  }
  const [mant, exp] = Number(digits).toExponential().split('e') as [string, string];
  const m = mant.includes('.') ? mant : `${mant}.0`;
  return `${m}E${Number(exp)}`;
}

/** One value as Flink's Row.toString prints it (also the Redis sink's hash fields and keys). */
export function formatValue(v: unknown, type: SqlType): string {
  if (v === null || v === undefined) return 'null';
  switch (type.name) {
    case 'FLOAT':
    case 'DOUBLE':
      return javaDouble(v as number, type.name === 'FLOAT');
    case 'DECIMAL':
      return (v as number).toFixed(type.scale);
    case 'DATE':
      return formatDate(v as number);
    case 'TIME':
      return javaTime(v as number, false);
    case 'TIMESTAMP': {
      const [d, t] = splitEpoch(v instanceof Date ? v.getTime() : (v as number));
      return `${formatDate(d)}T${javaTime(t, false)}`;
    }
    case 'TIMESTAMP_LTZ': {
      const [d, t] = splitEpoch(v instanceof Date ? v.getTime() : (v as number));
      return `${formatDate(d)}T${javaTime(t, true)}Z`;
    }
    case 'BINARY':
    case 'VARBINARY':
      return `[${[...(v as Uint8Array)].map((b) => (b > 127 ? b - 256 : b)).join(', ')}]`;
    case 'ARRAY':
    case 'MULTISET':
      return `[${(v as unknown[]).map((e) => formatValue(e, type.element)).join(', ')}]`;
    case 'MAP': {
      const entries: [unknown, unknown][] =
        v instanceof Map ? [...(v as Map<unknown, unknown>)] : Object.entries(v as object);
      return `{${entries.map(([k, e]) => `${formatValue(k, type.key)}=${formatValue(e, type.value)}`).join(', ')}}`;
    }
    case 'ROW':
      return formatRowForPrint('+I', v as Row, type.fields);
    default:
      return String(v);
  }
}

/**
 * A row as Flink prints it (`Row.toString`): `+I[user_1, 2024-01-01T00:05, 12.5]`. Exported for
 * the planner (collect, SQL client output).
 */
export function formatRowForPrint(kind: RowKind, row: Row, fields: readonly RowField[]): string {
  return `${kind}[${fields.map((f) => formatValue(row[f.name], f.type)).join(', ')}]`;
}

function readOptions(table: CatalogTable): {
  identifier: string | undefined;
  stderr: boolean;
  parallelism: number | undefined;
} {
  return withTableContext('sink', table, () => {
    validateOptions('print', table.options, OPTIONS);
    const o = new OptionReader(table.options);
    return {
      identifier: o.string('print-identifier'),
      stderr: o.boolean('standard-error') ?? false,
      parallelism: o.int('sink.parallelism'),
    };
  });
}

export const printFactory: TableSinkFactory = {
  identifier: 'print',
  validateSink(table) {
    readOptions(table);
  },
  changelogMode: () => 'all',
  createSink(ctx: SinkContext) {
    const { identifier, stderr, parallelism } = readOptions(ctx.table);
    const fields = ctx.physical;
    const lines =
      ctx.inputMode === 'updates'
        ? (ctx.input as DataStream<Change>).map((c) => formatRowForPrint(c.kind, c.row, fields))
        : (ctx.input as DataStream<Row>).map((r) => formatRowForPrint('+I', r, fields));
    lines.name(`${ctx.name}: format`).uid(`${ctx.uid}-format`);
    if (parallelism !== undefined) lines.setParallelism(parallelism);
    // The runtime's print sink gives Flink's prefix (`id:subtask> `) and routes the output as the
    // executor says (process stdout, or a test's capture).
    const sink = stderr ? lines.printToErr(identifier) : lines.print(identifier);
    sink.name(ctx.name).uid(ctx.uid);
    if (parallelism !== undefined) sink.setParallelism(parallelism);
  },
};

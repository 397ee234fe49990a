/**
 * The statements a JDBC sink runs: an upsert of a table by its key (Flink's `JdbcDmlOptions`,
 * which its PostgreSQL dialect writes as `INSERT ... ON CONFLICT (key) DO UPDATE`) or the user's
 * own SQL with `$1..$n` placeholders. Rows go out as multi-row statements: one round trip for up
 * to a batch of rows instead of one per row.
 */

/** The values of `$1..$n` for one element (Flink's `JdbcStatementBuilder`, in TS idiom). */
export type JdbcStatementBuilder<T> = (element: T) => readonly unknown[];

/** PostgreSQL's limit of parameters per statement (a 16-bit count in the protocol). */
const MAX_PARAMETERS = 65535;

/** Quotes an identifier, each part of `schema.table` on its own (as Flink's PostgresDialect). */
export function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((p) => (/^".*"$/.test(p) ? p : `"${p.replace(/"/g, '""')}"`))
    .join('.');
}

/** A table upserted by key (Flink's `JdbcDmlOptions`). */
export class JdbcDmlOptions {
  /** @internal Use {@link JdbcDmlOptions.builder}. */
  constructor(
    readonly tableName: string,
    readonly fieldNames: readonly string[],
    /** The primary key (a subset of the fields); none: plain inserts. */
    readonly keyFields: readonly string[],
  ) {}

  static builder(): JdbcDmlOptionsBuilder {
    return new JdbcDmlOptionsBuilder();
  }
}

/** Builds {@link JdbcDmlOptions}. */
export class JdbcDmlOptionsBuilder {
  private table: string | undefined;
  private fields: string[] = [];
  private keys: string[] = [];

  withTableName(table: string): this {
    if (typeof table !== 'string' || table.length === 0) {
      throw new TypeError('JdbcDmlOptions.withTableName: a non-empty table name');
    }
    this.table = table;
    return this;
  }
  withFieldNames(...fields: string[]): this {
    this.fields = fields.flat();
    return this;
  }
  /** The key the upserts conflict on: the table's primary key or a unique index. */
  withKeyFields(...keys: string[]): this {
    this.keys = keys.flat();
    return this;
  }
  build(): JdbcDmlOptions {
    if (this.table === undefined) throw new Error('JdbcDmlOptions: withTableName is required');
    if (this.fields.length === 0) throw new Error('JdbcDmlOptions: withFieldNames is required');
    for (const k of this.keys) {
      if (!this.fields.includes(k)) {
        throw new Error(
          `JdbcDmlOptions: key field '${k}' is not one of the fields [${this.fields.join(', ')}]`,
        );
      }
    }
    return new JdbcDmlOptions(this.table, [...this.fields], [...this.keys]);
  }
}

/** One row to write: upserted (or inserted) or, by key, deleted. */
export interface WriteOp {
  readonly delete: boolean;
  readonly params: readonly unknown[];
  /** What the row was made from, for messages. */
  readonly element: unknown;
}

/** Statements for batches of rows. */
export interface CompiledStatement {
  /** The table written, for messages. */
  readonly table: string;
  /** How many parameters one row takes. */
  readonly arity: number;
  /** The dedup key of a row's params, when rows with one key must not share a statement. */
  keyOf?(params: readonly unknown[]): string;
  /** Statements (text, values) writing `ops`: several when they exceed the parameter limit. */
  statements(ops: readonly WriteOp[]): { text: string; values: unknown[] }[];
}

function keyString(values: readonly unknown[], indexes: readonly number[]): string {
  if (indexes.length === 1) return String(values[indexes[0]!]);
  return JSON.stringify(indexes.map((i) => String(values[i])));
}

/**
 * Keeps the last op per key, in first-seen order (Flink's `TableBufferReducedStatementExecutor`):
 * a multi-row `ON CONFLICT DO UPDATE` must not touch one row twice, and the last write of a key
 * in a batch is the one that counts.
 */
export function reduceByKey(
  ops: readonly WriteOp[],
  keyOf: (params: readonly unknown[]) => string,
): WriteOp[] {
  const byKey = new Map<string, WriteOp>();
  for (const op of ops) {
    const k = keyOf(op.params);
    if (byKey.has(k)) byKey.delete(k);
    byKey.set(k, op);
  }
  return [...byKey.values()];
}

function placeholders(rows: number, arity: number, first = 1): string {
  const out: string[] = [];
  let n = first;
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < arity; c++) cells.push(`$${n++}`);
    out.push(`(${cells.join(',')})`);
  }
  return out.join(',');
}

/** Groups consecutive ops of one kind, so upserts and deletes keep their order. */
function runs(ops: readonly WriteOp[]): WriteOp[][] {
  const out: WriteOp[][] = [];
  for (const op of ops) {
    const last = out[out.length - 1];
    if (last && last[0]!.delete === op.delete) last.push(op);
    else out.push([op]);
  }
  return out;
}

function chunks<X>(xs: readonly X[], size: number): X[][] {
  const out: X[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Upserts (or inserts, without keys) and deletes of a {@link JdbcDmlOptions} table. */
export function compileDml(dml: JdbcDmlOptions): CompiledStatement {
  const table = quoteIdentifier(dml.tableName);
  const fields = dml.fieldNames.map(quoteIdentifier);
  const keyIndexes = dml.keyFields.map((k) => dml.fieldNames.indexOf(k));
  const nonKeys = dml.fieldNames.filter((f) => !dml.keyFields.includes(f)).map(quoteIdentifier);
  const keys = dml.keyFields.map(quoteIdentifier);
  const conflict =
    keys.length === 0
      ? ''
      : nonKeys.length === 0
        ? ` ON CONFLICT (${keys.join(', ')}) DO NOTHING`
        : ` ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${nonKeys.map((f) => `${f}=EXCLUDED.${f}`).join(', ')}`;
  const arity = fields.length;
  const insertRows = Math.max(1, Math.floor(MAX_PARAMETERS / arity));
  const deleteRows = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, keys.length)));
  return {
    table: dml.tableName,
    arity,
    ...(keyIndexes.length > 0
      ? { keyOf: (params: readonly unknown[]) => keyString(params, keyIndexes) }
      : {}),
    statements(ops) {
      const out: { text: string; values: unknown[] }[] = [];
      for (const run of runs(ops)) {
        if (run[0]!.delete) {
          if (keys.length === 0) {
            throw new Error(
              `JdbcSink: cannot delete from table ${dml.tableName} without key fields (withKeyFields)`,
            );
          }
          for (const chunk of chunks(run, deleteRows)) {
            const values = chunk.flatMap((op) => keyIndexes.map((i) => op.params[i]));
            out.push({
              text: `DELETE FROM ${table} WHERE (${keys.join(', ')}) IN (${placeholders(chunk.length, keys.length)})`,
              values,
            });
          }
        } else {
          for (const chunk of chunks(run, insertRows)) {
            out.push({
              text: `INSERT INTO ${table} (${fields.join(', ')}) VALUES ${placeholders(chunk.length, arity)}${conflict}`,
              values: chunk.flatMap((op) => op.params as unknown[]),
            });
          }
        }
      }
      return out;
    },
  };
}

const INSERT =
  /^(\s*INSERT\s+INTO\s+(\S+?)\s*(?:\(([^)]*)\))?\s*VALUES\s*)\(\s*(\$\d+(?:\s*,\s*\$\d+)*)\s*\)(\s*(?:ON\s+CONFLICT\b[\s\S]*)?)$/i;

/**
 * The user's SQL. An `INSERT INTO t (cols) VALUES ($1, ..., $n) [ON CONFLICT (k) ...]` whose
 * values are the placeholders in order becomes multi-row; any other statement runs once per row
 * (in one transaction per batch).
 */
export function compileSql(sql: string): CompiledStatement {
  const tableOf = /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\S+)/i.exec(sql)?.[1] ?? '?';
  const arity = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  const m = INSERT.exec(sql.replace(/;\s*$/, ''));
  const ordered =
    m !== null &&
    m[4]!
      .split(',')
      .map((s) => Number(s.trim().slice(1)))
      .every((n, i) => n === i + 1);
  let keyIndexes: number[] | undefined;
  let multiRow = ordered;
  if (m && ordered) {
    const conflict = /ON\s+CONFLICT\s*\(([^)]*)\)\s*DO\s+UPDATE/i.exec(m[5] ?? '');
    if (conflict) {
      const columns = (m[3] ?? '').split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
      const conflictColumns = conflict[1]!.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
      const idx = conflictColumns.map((c) => columns.indexOf(c));
      if (m[3] === undefined || idx.some((i) => i < 0)) multiRow = false;
      else keyIndexes = idx;
    } else if (/ON\s+CONFLICT/i.test(m[5] ?? '') && !/DO\s+NOTHING/i.test(m[5] ?? '')) {
      multiRow = false;
    }
  }
  const rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, arity)));
  return {
    table: tableOf,
    arity,
    ...(keyIndexes ? { keyOf: (p: readonly unknown[]) => keyString(p, keyIndexes) } : {}),
    statements(ops) {
      if (ops.some((o) => o.delete)) {
        throw new Error('JdbcSink: deletes need an upsert statement (JdbcDmlOptions)');
      }
      if (!m || !multiRow) return ops.map((op) => ({ text: sql, values: [...op.params] }));
      return chunks(ops, rowsPerStatement).map((chunk) => ({
        text: `${m[1]}${placeholders(chunk.length, arity)}${m[5] ?? ''}`,
        values: chunk.flatMap((op) => op.params as unknown[]),
      }));
    },
  };
}

/**
 * The entry point of SQL and the Table API (Flink's `StreamTableEnvironment`): a catalog of
 * tables and views, SQL statements, and conversions between tables and DataStreams.
 */
import type { ConfigValue, DataStream, JobExecutionResult } from '@nimble/api';
import type { Source, Transformation } from '@nimble/api';
import {
  Boundedness,
  SourceTransformation,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import type { CatalogColumn, CatalogTable } from '../catalog/catalog-table.js';
import { Catalog } from '../catalog/catalog.js';
import { isSinkOnly, sinkFactory, sourceFactory } from '../connectors/registry.js';
import { TableError, ValidationError } from '../errors.js';
import type {
  CreateTable,
  Expr,
  Insert,
  Query,
  ScriptStatement,
  Statement,
} from '../parser/ast.js';
import { parseScript, parseStatement } from '../parser/parser.js';
import type { Change, Row } from '../row.js';
import type { RowField, SqlType } from '../types.js';
import { formatType, isAssignable, isTimestamp, MAX_LENGTH } from '../types.js';
import { exprText, ident } from '../planner/ast-utils.js';
import { compileExpr, inferType } from '../planner/expressions.js';
import type { PlanNode, Rel } from '../planner/rel.js';
import { formatPlan } from '../planner/rel.js';
import { operatorUid, Planner, SqlWatermarkGenerator } from '../planner/planner.js';
import { Scope } from '../planner/scope.js';
import type { Schema } from './schema.js';
import { Table } from './table.js';
import { DESCRIBE_COLUMNS, TableResult } from './table-result.js';

const STRING: SqlType = { name: 'VARCHAR', length: MAX_LENGTH, nullable: true };

/**
 * Refuses options whose Flink meaning Nimble does not implement, rather than accepting a value
 * that would do nothing. `table.exec.state.ttl` (idle state retention) is accepted only as 0,
 * Flink's default: the SQL operators keep their state until a window or the job ends.
 */
function checkSupportedOption(key: string, value: string): void {
  if (key === 'table.exec.state.ttl' && !/^\s*0+(\.0*)?\s*[a-z]*\s*$/i.test(value)) {
    throw new TableError(
      `'table.exec.state.ttl' = '${value}' is not supported: the SQL operators keep their ` +
        'state without a time-to-live (the default, 0). Bound the state with a window ' +
        '(TUMBLE, HOP, CUMULATE, SESSION) or an interval join instead of an unbounded ' +
        'GROUP BY or join',
    );
  }
}

/** Options of the SQL layer (SET 'table.*'), with Flink's names. */
export class TableConfig {
  /** @internal */
  readonly options = new Map<string, string>();
  set(key: string, value: string): this {
    checkSupportedOption(key, value);
    this.options.set(key, value);
    return this;
  }
  get(key: string): string | undefined {
    return this.options.get(key);
  }
}

/** A job's worth of INSERTs run together (Flink's `StatementSet`). */
export class StatementSet {
  private readonly inserts: Insert[] = [];
  /** @internal */
  constructor(private readonly tEnv: StreamTableEnvironment) {}

  addInsertSql(sql: string): this {
    const statement = parseStatement(sql);
    if (statement.kind !== 'insert') {
      throw new ValidationError(
        `addInsertSql takes an INSERT statement; got ${statement.kind}`,
        statement.pos,
      );
    }
    this.inserts.push(statement);
    return this;
  }

  /** Adds `INSERT INTO path SELECT * FROM table`. */
  addInsert(path: string, table: Table): this {
    const pos = { line: 1, column: 1, offset: 0 };
    this.inserts.push({
      kind: 'insert',
      table: path.split('.'),
      overwrite: false,
      query: table.query,
      pos,
    });
    return this;
  }

  explain(): string {
    return this.tEnv.explainInserts(this.inserts);
  }

  async execute(): Promise<TableResult> {
    return this.tEnv.executeInserts(this.inserts);
  }
}

/**
 * SQL and the Table API over a {@link StreamExecutionEnvironment}.
 *
 * ```ts
 * const env = StreamExecutionEnvironment.getExecutionEnvironment();
 * const tEnv = StreamTableEnvironment.create(env);
 * await tEnv.executeSql(`CREATE TABLE ... WITH ('connector' = 'kafka', ...)`);
 * const spend = tEnv.sqlQuery('SELECT user_id, SUM(amount) ... GROUP BY ...');
 * tEnv.toDataStream(spend).keyBy((r) => r.user_id).process(new SessionTracker());
 * await env.execute();
 * ```
 */
export class StreamTableEnvironment {
  /** @internal */
  readonly catalog = new Catalog();
  private readonly config = new TableConfig();
  /** @internal Relations of tables made from DataStreams, by table id. */
  readonly streamTables = new Map<number, () => Rel>();
  private nextTableId = 0;
  /** Source scans of the environment's job (so a table read by several queries is read once). */
  private readonly scans = new Map<string, Rel>();

  private constructor(readonly env: StreamExecutionEnvironment) {}

  static create(env: StreamExecutionEnvironment): StreamTableEnvironment {
    return new StreamTableEnvironment(env);
  }

  getConfig(): TableConfig {
    return this.config;
  }

  /** Runs one statement: DDL, SET, SHOW, DESCRIBE, EXPLAIN, an INSERT (a job) or a SELECT (bounded). */
  async executeSql(sql: string): Promise<TableResult> {
    return this.executeStatement(parseStatement(sql));
  }

  /** Parses a script of `;`-separated statements (what `nimble sql -f` runs). */
  static parseScript(sql: string): ScriptStatement[] {
    return parseScript(sql);
  }

  /** Runs a parsed statement. */
  async executeStatement(statement: Statement): Promise<TableResult> {
    switch (statement.kind) {
      case 'createTable':
        this.createTable(statement);
        return TableResult.ok();
      case 'createView':
        this.catalog.create(
          {
            kind: 'view',
            name: Catalog.objectName(statement.name, statement.pos),
            query: statement.query,
            queryText: statement.queryText,
            columns: statement.columns,
            temporary: statement.temporary,
          },
          statement.ifNotExists,
          statement.pos,
        );
        // Validate the view's query now, as Flink does at CREATE VIEW.
        this.plan((p) => p.planQuery(statement.query), true);
        return TableResult.ok();
      case 'drop':
        this.catalog.drop(
          statement.object === 'TABLE' ? 'table' : 'view',
          statement.name,
          statement.ifExists,
          statement.pos,
        );
        return TableResult.ok();
      case 'show': {
        const names =
          statement.what === 'TABLES'
            ? this.catalog.tableNames()
            : statement.what === 'VIEWS'
              ? this.catalog.viewNames()
              : statement.what === 'CATALOGS'
                ? ['default_catalog']
                : statement.what === 'DATABASES'
                  ? ['default_database']
                  : undefined;
        if (names === undefined) throw new TableError(`SHOW ${statement.what} is not supported`);
        const column = {
          TABLES: 'table name',
          VIEWS: 'view name',
          CATALOGS: 'catalog name',
          DATABASES: 'database name',
        }[statement.what as 'TABLES'];
        return new TableResult(
          'SUCCESS_WITH_CONTENT',
          [{ name: column, type: STRING }],
          names.map((n) => [n]),
        );
      }
      case 'showCreate': {
        const object = this.catalog.lookup(statement.name, statement.pos);
        const text =
          object.kind === 'view'
            ? `CREATE VIEW \`${Catalog.fullName(object.name)}\` AS\n${object.queryText ?? ''}`
            : showCreateTable(object);
        return new TableResult(
          'SUCCESS_WITH_CONTENT',
          [{ name: 'result', type: STRING }],
          [[text]],
        );
      }
      case 'describe':
        return this.describe(statement.name, statement.pos);
      case 'explain': {
        const s = statement.statement;
        const text =
          s.kind === 'query'
            ? this.explainQuery(s.query)
            : this.explainInserts(s.kind === 'insert' ? [s] : s.inserts);
        return new TableResult(
          'SUCCESS_WITH_CONTENT',
          [{ name: 'result', type: STRING }],
          [[text]],
        );
      }
      case 'set':
        if (statement.key === undefined) {
          const entries = [...this.allOptions()].sort(([a], [b]) => a.localeCompare(b));
          return new TableResult(
            'SUCCESS_WITH_CONTENT',
            [
              { name: 'key', type: STRING },
              { name: 'value', type: STRING },
            ],
            entries,
          );
        }
        this.set(statement.key, statement.value ?? '');
        return TableResult.ok();
      case 'reset':
        if (statement.key === undefined) this.config.options.clear();
        else this.config.options.delete(statement.key);
        return TableResult.ok();
      case 'insert':
        return this.executeInserts([statement]);
      case 'statementSet':
        return this.executeInserts(statement.inserts);
      case 'query': {
        const rows = await this.collect(new Table(this, statement.query));
        const table = new Table(this, statement.query);
        const columns = table.getResolvedSchema();
        return new TableResult(
          'SUCCESS_WITH_CONTENT',
          columns,
          rows.map((r) => columns.map((c) => r[c.name] ?? null)),
        );
      }
    }
  }

  /** `SET 'key' = 'value'`: table options stay here; others configure the job (Flink's keys). */
  set(key: string, value: string): void {
    this.config.set(key, value);
  }

  private allOptions(): Map<string, string> {
    const options = new Map<string, string>();
    for (const [k, v] of Object.entries(this.env.getPipeline().configuration))
      options.set(k, String(v));
    for (const [k, v] of this.config.options) options.set(k, v);
    return options;
  }

  /** A query as a Table (not run until converted or inserted). */
  sqlQuery(sql: string): Table {
    const statement = parseStatement(sql);
    if (statement.kind !== 'query') {
      throw new ValidationError(
        `sqlQuery takes a SELECT query; use executeSql for ${statement.kind} statements`,
        statement.pos,
      );
    }
    const table = new Table(this, statement.query);
    table.getResolvedSchema(); // validates now, as Flink does
    return table;
  }

  /** @internal Registers a Table under a generated name (window TVFs need a named table). */
  registerHiddenView(table: Table): string {
    const name = `UnnamedTable$${this.nextTableId++}`;
    this.catalog.create(
      { kind: 'view', name, query: table.query, queryText: '', temporary: true },
      false,
    );
    return name;
  }

  /** The table or view at `path` as a Table. */
  from(path: string): Table {
    const pos = { line: 1, column: 1, offset: 0 };
    this.catalog.lookup(path.split('.'), pos);
    return new Table(this, selectAllFrom(path.split('.')));
  }

  /** Registers a Table or a DataStream (with a schema) as a temporary view. */
  createTemporaryView<T>(name: string, table: Table | DataStream<T>, schema?: Schema): void {
    const t = table instanceof Table ? table : this.fromDataStream(table, schema);
    this.catalog.create(
      { kind: 'view', name, query: t.query, queryText: '', temporary: true },
      false,
    );
  }

  /**
   * A table over a DataStream of objects. TypeScript types do not exist at run time, so the
   * columns come from the `schema` (Flink derives them from the stream's type).
   */
  fromDataStream<T>(stream: DataStream<T>, schema?: Schema): Table {
    if (schema === undefined) {
      throw new ValidationError(
        'fromDataStream needs a Schema in Nimble: TypeScript types are not known at run time. ' +
          "Pass Schema.newBuilder().column('name', 'STRING')...build()",
      );
    }
    const id = this.nextTableId++;
    const name = `UnnamedTable$${id}`;
    let cached: Rel | undefined;
    this.streamTables.set(
      id,
      () =>
        (cached ??= streamRel(
          stream as DataStream<unknown>,
          schema,
          name,
          this.env.getConfig().getAutoWatermarkInterval(),
        )),
    );
    this.catalog.create({ kind: 'view', name, tableId: id, temporary: true }, false);
    return new Table(this, selectAllFrom([name]));
  }

  /**
   * The rows of an insert-only table as a DataStream of plain objects keyed by column name;
   * TIMESTAMP and TIMESTAMP_LTZ values are `Date`s. The record timestamps are the rowtime.
   */
  toDataStream<T = Row>(table: Table): DataStream<T> {
    const rel = this.plan((p) => p.planQuery(table.query));
    if (rel.mode !== 'insert-only') {
      throw new TableError(
        `Table sink '*anonymous_datastream_sink$${this.nextTableId++}*' doesn't support consuming update changes which is produced by node ${updatingNode(rel.plan).description}. ` +
          'Use toChangelogStream for a table that updates.',
      );
    }
    const convert = externalConverter(rel);
    const stream = rel.stream as DataStream<Row>;
    return (convert
      ? stream
          .map(convert)
          .name('TableToDataSteam')
          .uid(operatorUid('to-datastream', 'TableToDataStream', [rel.plan]))
      : stream) as unknown as DataStream<T>;
  }

  /** The changes of a table (`{kind: '+I' | '-U' | '+U' | '-D', row}`), for updating tables too. */
  toChangelogStream<T = Row>(table: Table): DataStream<Change<T>> {
    const rel = this.plan((p) => p.planQuery(table.query));
    const convert = externalConverter(rel);
    const uid = operatorUid('to-changelog', 'TableToChangelogStream', [rel.plan]);
    if (rel.mode === 'insert-only') {
      const stream = rel.stream as DataStream<Row>;
      return stream
        .map((row: Row): Change => ({ kind: '+I', row: convert ? convert(row) : row }))
        .name('TableToChangelogStream')
        .uid(uid) as unknown as DataStream<Change<T>>;
    }
    const stream = rel.stream as DataStream<Change>;
    return (convert
      ? stream
          .map((c: Change): Change => ({ kind: c.kind, row: convert(c.row) }))
          .name('TableToChangelogStream')
          .uid(uid)
      : stream) as unknown as DataStream<Change<T>>;
  }

  createStatementSet(): StatementSet {
    return new StatementSet(this);
  }

  /** EXPLAIN of a query or INSERT. */
  explainSql(sql: string): string {
    const s = parseStatement(sql);
    if (s.kind === 'query') return this.explainQuery(s.query);
    if (s.kind === 'insert') return this.explainInserts([s]);
    if (s.kind === 'statementSet') return this.explainInserts(s.inserts);
    throw new ValidationError(
      `EXPLAIN takes a query, an INSERT or a statement set; got ${s.kind}`,
      s.pos,
    );
  }

  // ---------------------------------------------------------------------------------------------

  /** @internal Plans with a planner over `env` (a throwaway environment when `dryRun`). */
  plan<R>(
    fn: (planner: Planner) => R,
    dryRun = false,
    env: StreamExecutionEnvironment = this.env,
  ): R {
    const target = dryRun
      ? new StreamExecutionEnvironment(this.env.getPipeline().configuration)
      : env;
    const planner = new Planner({
      env: target,
      catalog: this.catalog,
      configuration: this.config.options,
      tables: dryRun
        ? new Map([...this.streamTables].map(([id]) => [id, () => dryRunRel(this, id)]))
        : this.streamTables,
      scans: dryRun || env !== this.env ? new Map() : this.scans,
    });
    return fn(planner);
  }

  /** @internal */
  explainQuery(query: Query): string {
    const rel = this.plan((p) => p.planQuery(query), true);
    return `== Optimized Execution Plan ==\n${formatPlan(rel.plan)}`;
  }

  /** @internal */
  explainInserts(inserts: readonly Insert[]): string {
    const nodes = this.plan((p) => inserts.map((i) => this.planInsert(p, i)), true);
    return `== Optimized Execution Plan ==\n${nodes.map((n) => formatPlan(n)).join('\n')}`;
  }

  /** @internal Builds the INSERTs into a new job and runs it. */
  async executeInserts(inserts: readonly Insert[]): Promise<TableResult> {
    if (inserts.length === 0)
      throw new ValidationError('A statement set needs at least one INSERT');
    const env = this.jobEnvironment();
    const mark = env.sinkMark();
    this.plan((p) => inserts.forEach((i) => this.planInsert(p, i)), false, env);
    const name =
      this.config.options.get('pipeline.name') ??
      `insert-into_${inserts.map((i) => Catalog.fullName(Catalog.objectName(i.table))).join(',')}`;
    // Only this statement's sinks run: the environment may hold the user's own DataStream sinks
    // (run by env.execute()) and is shared with tables over its streams.
    const result: JobExecutionResult = await env.executeSinksSince(mark, name);
    return new TableResult(
      'SUCCESS_WITH_CONTENT',
      [{ name: 'job id', type: STRING }],
      [[result.jobId]],
      result.jobId,
      result,
    );
  }

  /** A new environment for a SQL job: the environment's configuration and the SET options. */
  private jobEnvironment(): StreamExecutionEnvironment {
    // Tables over DataStreams belong to the environment that built their streams.
    if (this.streamTables.size > 0) return this.env;
    const configuration: Record<string, ConfigValue> = { ...this.env.getPipeline().configuration };
    for (const [k, v] of this.config.options) if (!k.startsWith('table.')) configuration[k] = v;
    return new StreamExecutionEnvironment(configuration);
  }

  /** @internal Runs a bounded query and returns its rows (executeSql of a SELECT). */
  async collect(table: Table): Promise<Row[]> {
    const env = this.jobEnvironment();
    const mark = env.sinkMark();
    const rel = this.plan((p) => p.planQuery(table.query), false, env);
    if (!rel.bounded) {
      throw new TableError(
        'executeSql of a SELECT over an unbounded table would never end; bound the source ' +
          "(e.g. 'scan.bounded.mode' = 'latest-offset', 'number-of-rows') or use toDataStream",
      );
    }
    const convert = externalConverter(rel);
    const name = this.config.options.get('pipeline.name') ?? 'collect';
    const collect = async <T>(stream: DataStream<T>): Promise<T[]> => {
      const id = stream.addCollectSink();
      const result = await env.executeSinksSince(mark, name);
      return (result.collected.get(id) ?? []) as T[];
    };
    if (rel.mode === 'insert-only') {
      const rows = await collect(rel.stream as DataStream<Row>);
      return convert ? rows.map(convert) : rows;
    }
    // An updating result: apply the changes to a table of current rows.
    const changes = await collect(rel.stream as DataStream<Change>);
    const current: Row[] = [];
    for (const c of changes) {
      const row = convert ? convert(c.row) : c.row;
      if (c.kind === '+I' || c.kind === '+U') current.push(row);
      else {
        const i = current.findIndex((r) => JSON.stringify(r) === JSON.stringify(row));
        if (i >= 0) current.splice(i, 1);
      }
    }
    return current;
  }

  /** Plans one INSERT: the query, checked against the sink's columns and changelog mode. */
  private planInsert(planner: Planner, insert: Insert): PlanNode {
    const object = this.catalog.lookup(insert.table, insert.pos);
    if (object.kind !== 'table') {
      throw new ValidationError(
        `'${object.name}' is a view; INSERT INTO needs a table`,
        insert.pos,
      );
    }
    const table = object;
    const factory = sinkFactory(table);
    factory.validateSink(table);
    const rel = planner.planQuery(insert.query);
    const sinkName = Catalog.fullName(table.name);
    const physical = table.columns.filter((c) => c.kind === 'physical');
    let targets = physical;
    if (insert.columns !== undefined) {
      targets = insert.columns.map((n) => {
        const c = physical.find((p) => p.name === n);
        if (c === undefined) throw new ValidationError(`Unknown target column '${n}'`, insert.pos);
        return c;
      });
    }
    const schema = (cols: readonly { name: string; type: SqlType }[]) =>
      `[${cols.map((c) => `${c.name}: ${formatType(c.type)}`).join(', ')}]`;
    if (rel.columns.length !== targets.length) {
      throw new ValidationError(
        `Column types of query result and sink for '${sinkName}' do not match.\n` +
          `Cause: Different number of columns.\n\n` +
          `Query schema: ${schema(rel.columns)}\nSink schema:  ${schema(targets)}`,
      );
    }
    rel.columns.forEach((c, i) => {
      const t = targets[i]!;
      if (!isAssignable(c.type, t.type)) {
        throw new ValidationError(
          `Column types of query result and sink for '${sinkName}' do not match.\n` +
            `Cause: Incompatible types for sink column '${t.name}' at position ${i}.\n\n` +
            `Query schema: ${schema(rel.columns)}\nSink schema:  ${schema(targets)}`,
        );
      }
    });
    const mode = factory.changelogMode(table);
    if (rel.mode === 'updates' && mode === 'insert-only') {
      throw new TableError(
        `Table sink '${sinkName}' doesn't support consuming update changes which is produced by node ${updatingNode(rel.plan).description}`,
      );
    }
    // The row the sink gets: its physical columns by name, in order.
    const pairs = physical.map((p) => {
      const i = targets.indexOf(p);
      return `${JSON.stringify(p.name)}: ${i < 0 ? 'null' : `r[${JSON.stringify(rel.columns[i]!.key)}]`}`;
    });
    const identity =
      physical.length === rel.columns.length &&
      physical.every((p, i) => targets[i] === p && rel.columns[i]!.key === p.name);
    const toSink = identity
      ? undefined
      : (new Function('r', `return {${pairs.join(', ')}};`) as (r: Row) => Row);
    const description = `Sink(table=[${sinkName}], fields=[${rel.columns.map((c) => c.name).join(', ')}])`;
    const sinkNode: PlanNode = {
      description,
      uid: operatorUid(`sink-${table.name}`, description, [rel.plan]),
      inputs: [rel.plan],
    };
    let input: DataStream<Row> | DataStream<Change> = rel.stream;
    if (toSink !== undefined) {
      const uid = operatorUid('calc', `${description}/columns`, [rel.plan]);
      input =
        rel.mode === 'insert-only'
          ? (rel.stream as DataStream<Row>)
              .map(toSink)
              .name(`Calc(select=[${physical.map((p) => p.name).join(', ')}])`)
              .uid(uid)
          : (rel.stream as DataStream<Change>)
              .map((c: Change): Change => ({ kind: c.kind, row: toSink(c.row) }))
              .name('Calc')
              .uid(uid);
    }
    factory.createSink({
      table,
      physical: physical.map((c) => ({ name: c.name, type: c.type })),
      input,
      inputMode: rel.mode,
      uid: sinkNode.uid!,
      name: description,
      configuration: this.config.options,
    });
    return sinkNode;
  }

  private createTable(s: CreateTable): void {
    const name = Catalog.objectName(s.name, s.pos);
    if (s.like !== undefined) throw new TableError('CREATE TABLE ... LIKE is not supported yet');
    const seen = new Set<string>();
    const stored: CatalogColumn[] = [];
    for (const c of s.columns) {
      if (seen.has(c.name))
        throw new ValidationError(`A column named '${c.name}' already exists in the table.`, c.pos);
      seen.add(c.name);
      if (c.kind === 'physical') stored.push({ kind: 'physical', name: c.name, type: c.type });
      else if (c.kind === 'metadata')
        stored.push({
          kind: 'metadata',
          name: c.name,
          type: c.type,
          key: c.from ?? c.name,
          virtual: c.virtual,
        });
    }
    const base = new Scope(stored.map((c) => ({ name: c.name, key: c.name, type: c.type })));
    const columns: CatalogColumn[] = s.columns.map((c): CatalogColumn => {
      if (c.kind !== 'computed') return stored.find((x) => x.name === c.name)!;
      const type = inferType(c.expr, base);
      return { kind: 'computed', name: c.name, type, expr: c.expr, exprText: exprText(c.expr) };
    });
    const options = new Map<string, string>();
    for (const o of s.options) options.set(o.key, o.value);
    const all = new Scope(columns.map((c) => ({ name: c.name, key: c.name, type: c.type })));
    let watermark: CatalogTable['watermark'];
    if (s.watermark !== undefined) {
      const w = s.watermark;
      const column = all.resolve([w.column], w.pos);
      if (
        !isTimestamp(column.type) ||
        (column.type.name === 'TIMESTAMP' || column.type.name === 'TIMESTAMP_LTZ'
          ? column.type.precision > 3
          : false)
      ) {
        throw new ValidationError(
          `Invalid data type of time field for watermark definition. The field must be of type TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the time field type is ${formatType(column.type)}`,
          w.pos,
        );
      }
      const type = inferType(w.expr, all);
      if (!isTimestamp(type)) {
        throw new ValidationError(
          `Watermark strategy ${exprText(w.expr)} must be of type TIMESTAMP or TIMESTAMP_LTZ but is of type '${formatType(type)}'.`,
          w.expr.pos,
        );
      }
      watermark = { column: w.column, expr: w.expr, exprText: exprText(w.expr) };
    }
    if (s.primaryKey !== undefined) {
      if (s.primaryKey.enforced) {
        throw new ValidationError(
          "Flink doesn't support ENFORCED mode for PRIMARY KEY constraint. ENFORCED/NOT ENFORCED controls if the constraint checks are performed on the incoming/outgoing data. Flink does not own the data therefore the only supported mode is the NOT ENFORCED mode",
          s.primaryKey.pos,
        );
      }
      for (const k of s.primaryKey.columns) {
        const c = columns.find((x) => x.name === k);
        if (c === undefined)
          throw new ValidationError(
            `Could not create a PRIMARY KEY '${k}'. Column '${k}' does not exist.`,
            s.primaryKey.pos,
          );
        if (c.kind !== 'physical')
          throw new ValidationError(
            `Could not create a PRIMARY KEY with column '${k}'. It is not a physical column.`,
            s.primaryKey.pos,
          );
      }
    }
    const table: CatalogTable = {
      kind: 'table',
      name,
      columns: columns.map((c) =>
        s.primaryKey?.columns.includes(c.name) && c.kind === 'physical'
          ? { ...c, type: { ...c.type, nullable: false } }
          : c,
      ),
      ...(watermark ? { watermark } : {}),
      ...(s.primaryKey ? { primaryKey: s.primaryKey.columns } : {}),
      partitionKeys: s.partitionedBy,
      options,
      temporary: s.temporary,
      pos: s.pos,
    };
    // Validate the options against the connector now, as Flink does when the table is used: a
    // table that can be neither read nor written is an error here already.
    const errors: unknown[] = [];
    for (const check of [
      () => sourceFactory(table).validateSource(table),
      () => sinkFactory(table).validateSink(table),
    ]) {
      try {
        check();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length === 2) throw errors[isSinkOnly(table) ? 1 : 0];
    this.catalog.create(table, s.ifNotExists, s.pos);
  }

  private describe(path: readonly string[], pos: ScriptStatement['pos']): TableResult {
    const object = this.catalog.lookup(path, pos);
    let rows: unknown[][];
    if (object.kind === 'table') {
      rows = object.columns.map((c) => {
        const type =
          c.name === object.watermark?.column &&
          (c.type.name === 'TIMESTAMP' || c.type.name === 'TIMESTAMP_LTZ')
            ? { ...c.type, timeAttribute: 'ROWTIME' as const }
            : c.type;
        const printed = formatType({ ...type, nullable: true });
        const key = object.primaryKey?.includes(c.name)
          ? `PRI(${object.primaryKey.join(', ')})`
          : null;
        const extras =
          c.kind === 'computed'
            ? `AS ${c.exprText}`
            : c.kind === 'metadata'
              ? `METADATA${c.key !== c.name ? ` FROM '${c.key}'` : ''}${c.virtual ? ' VIRTUAL' : ''}`
              : null;
        const wm = c.name === object.watermark?.column ? object.watermark.exprText : null;
        return [c.name, printed, c.type.nullable, key, extras, wm];
      });
    } else {
      const table = new Table(this, selectAllFrom(path));
      rows = table
        .getResolvedSchema()
        .map((c) => [
          c.name,
          formatType({ ...c.type, nullable: true }),
          c.type.nullable,
          null,
          null,
          null,
        ]);
    }
    return new TableResult('SUCCESS_WITH_CONTENT', DESCRIBE_COLUMNS, rows);
  }
}

function selectAllFrom(name: readonly string[]): Query {
  const pos = { line: 1, column: 1, offset: 0 };
  return {
    kind: 'select',
    distinct: false,
    items: [{ expr: { kind: 'star', pos }, pos }],
    from: { kind: 'table', name, pos },
    groupBy: [],
    windows: [],
    orderBy: [],
    pos,
  };
}

/** A stand-in of a DataStream table for dry runs (EXPLAIN, validation): same columns, no stream. */
function dryRunRel(tEnv: StreamTableEnvironment, id: number): Rel {
  const rel = tEnv.streamTables.get(id)!();
  return rel;
}

/**
 * The node Flink names when a sink cannot take updates: a Calc passes the sink's requirement on
 * to its input, so the node named is the first below the sink that is not a Calc (the
 * GroupAggregate producing the updates).
 */
function updatingNode(plan: PlanNode): PlanNode {
  let node = plan;
  while (node.description.startsWith('Calc(') && node.inputs.length === 1) node = node.inputs[0]!;
  return node;
}

/** Converts a row's TIMESTAMP values (epoch ms) to `Date`s for DataStream users, or undefined when none. */
function externalConverter(rel: Rel): ((row: Row) => Row) | undefined {
  const timestamps = rel.columns.filter((c) => isTimestamp(c.type) || c.type.name === 'DATE');
  if (timestamps.length === 0 && rel.columns.every((c) => c.key === c.name)) return undefined;
  const body = rel.columns
    .map((c) => {
      const v = `r[${JSON.stringify(c.key)}]`;
      const value = isTimestamp(c.type)
        ? `(${v} == null ? null : new Date(${v}))`
        : c.type.name === 'DATE'
          ? `(${v} == null ? null : new Date(${v} * 86400000))`
          : v;
      return `${JSON.stringify(c.name)}: ${value}`;
    })
    .join(', ');
  return new Function('r', `return {${body}};`) as (row: Row) => Row;
}

/** The relation of a DataStream read through a Schema. */
function streamRel(
  stream: DataStream<unknown>,
  schema: Schema,
  name: string,
  watermarkIntervalMs: number,
): Rel {
  const physical = schema.columns.filter((c) => c.kind === 'physical');
  const metadata = schema.columns.filter((c) => c.kind === 'metadata');
  // Objects -> rows: physical columns by property (Dates to epoch ms), the record timestamp.
  const code = new Map<string, string>();
  for (const c of physical) {
    const v = `o[${JSON.stringify(c.name)}]`;
    code.set(
      c.name,
      isTimestamp(c.type)
        ? `(${v} instanceof Date ? ${v}.getTime() : ${v} ?? null)`
        : `(${v} ?? null)`,
    );
  }
  for (const c of metadata) code.set(c.name, '(t ?? null)');
  const convert = new Function(
    'o',
    't',
    `return {${[...code].map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}};`,
  ) as (o: unknown, t: number | undefined) => Row;
  const description = `DataStreamScan(table=[[default_catalog, default_database, ${name}]], fields=[${schema.columns.map((c) => c.name).join(', ')}])`;
  const scanNode: PlanNode = {
    description,
    uid: operatorUid('datastream-scan', description, []),
    inputs: [],
  };
  let rows: DataStream<Row> = (
    metadata.length > 0
      ? stream.process<Row>({
          processElement(
            o: unknown,
            ctx: { timestamp(): number | undefined },
            out: { collect(r: Row): void },
          ) {
            out.collect(convert(o, ctx.timestamp()));
          },
        } as never)
      : stream.map((o: unknown) => convert(o, undefined))
  )
    .name(description)
    .uid(scanNode.uid!);
  const converted = rows;
  const stored = new Scope(
    [...physical, ...metadata].map((c) => ({
      name: c.name,
      key: c.name,
      type: (c as { type: SqlType }).type,
    })),
  );
  const computed = schema.columns.filter((c) => c.kind === 'computed');
  let plan = scanNode;
  const types = new Map<string, SqlType>();
  for (const c of schema.columns) {
    if (c.kind === 'computed') types.set(c.name, inferType(c.expr, stored));
    else types.set(c.name, c.type);
  }
  if (computed.length > 0) {
    const fns = computed.map((c) => ({ name: c.name, fn: compileExpr(c.expr, stored).fn }));
    const description2 = `Calc(select=[${schema.columns.map((c) => (c.kind === 'computed' ? `${c.text} AS ${c.name}` : c.name)).join(', ')}])`;
    plan = {
      description: description2,
      uid: operatorUid('calc', description2, [scanNode]),
      inputs: [scanNode],
    };
    const ctx = { currentWatermark: () => undefined, currentProcessingTime: () => Date.now() };
    rows = rows
      .map((r: Row) => {
        const out: Row = { ...r };
        for (const f of fns) out[f.name] = f.fn(r, ctx);
        return out;
      })
      .name(description2)
      .uid(plan.uid!);
  }
  let rowtimeKey: string | undefined;
  const w = schema.watermark;
  if (w !== undefined) {
    const column = schema.columns.find((c) => c.name === w.column);
    if (column === undefined)
      throw new ValidationError(`Watermark column '${w.column}' is not a column of the schema`);
    rowtimeKey = w.column;
    const sourceWatermark = w.expr.kind === 'call' && w.expr.name === 'SOURCE_WATERMARK';
    if (!sourceWatermark) {
      const all = new Scope(
        schema.columns.map((c) => ({ name: c.name, key: c.name, type: types.get(c.name)! })),
      );
      const wmFn = compileExpr(w.expr, all).fn;
      const tsFn = compileExpr(ident(w.column, w.expr.pos), all).fn;
      const ctx = { currentWatermark: () => undefined, currentProcessingTime: () => Date.now() };
      const description3 = `WatermarkAssigner(rowtime=[${w.column}], watermark=[${w.text}])`;
      plan = {
        description: description3,
        uid: operatorUid('watermark-assigner', description3, [plan]),
        inputs: [plan],
      };
      rows = rows
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forGenerator<Row>(
            () => new SqlWatermarkGenerator(wmFn, watermarkIntervalMs),
          ).withTimestampAssigner((row) => tsFn(row, ctx) as number),
        )
        .name(description3)
        .uid(plan.uid!);
    }
  }
  const columns = schema.columns.map((c) => {
    const type = types.get(c.name)!;
    return {
      qualifier: name,
      name: c.name,
      key: c.name,
      type:
        c.name === rowtimeKey && (type.name === 'TIMESTAMP' || type.name === 'TIMESTAMP_LTZ')
          ? { ...type, timeAttribute: 'ROWTIME' as const }
          : type,
    };
  });
  const source =
    rows === converted
      ? { output: rows, input: stream, usesTimestamp: metadata.length > 0, code }
      : undefined;
  return {
    stream: rows,
    columns,
    mode: 'insert-only',
    rowtimeKey,
    bounded: isBoundedStream(stream),
    plan,
    ...(source ? { source } : {}),
  };
}

/** Whether every source a stream reads ends (Flink's Boundedness of its sources). */
function isBoundedStream(stream: DataStream<unknown>): boolean {
  const seen = new Set<Transformation<unknown>>();
  const visit = (t: Transformation<unknown>): boolean => {
    if (seen.has(t)) return true;
    seen.add(t);
    if (t instanceof SourceTransformation) {
      return (t.source as Source<unknown, never, never>).getBoundedness() === Boundedness.BOUNDED;
    }
    return t.getInputs().every(visit);
  };
  return visit(stream.getTransformation() as Transformation<unknown>);
}

/** SHOW CREATE TABLE's text. */
function showCreateTable(t: CatalogTable): string {
  const cols = t.columns.map((c) =>
    c.kind === 'computed'
      ? `  \`${c.name}\` AS ${c.exprText}`
      : c.kind === 'metadata'
        ? `  \`${c.name}\` ${formatType(c.type)} METADATA FROM '${c.key}'${c.virtual ? ' VIRTUAL' : ''}`
        : `  \`${c.name}\` ${formatType(c.type)}`,
  );
  if (t.watermark)
    cols.push(`  WATERMARK FOR \`${t.watermark.column}\` AS ${t.watermark.exprText}`);
  if (t.primaryKey)
    cols.push(`  PRIMARY KEY (${t.primaryKey.map((k) => `\`${k}\``).join(', ')}) NOT ENFORCED`);
  const options = [...t.options].map(([k, v]) => `  '${k}' = '${v.replace(/'/g, "''")}'`);
  return `CREATE TABLE \`${Catalog.fullName(t.name)}\` (\n${cols.join(',\n')}\n) WITH (\n${options.join(',\n')}\n)\n`;
}

export type { RowField, Expr };

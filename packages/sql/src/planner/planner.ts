/**
 * Plans SQL queries into the transformations the DataStream API builds: projections and filters
 * become map/filter with compiled expressions, window TVF aggregations the window operator with
 * an aggregate function, OVER aggregations and window Top-N keyed process functions, interval
 * joins the interval join operator. Every operator gets a uid derived from what it computes, so
 * the same statement gets the same uids in every version (savepoints restore).
 */
import type {
  Collector,
  ProcessContext,
  DataStream,
  Key,
  KeyedStream,
  StreamExecutionEnvironment,
  WatermarkGenerator,
  WatermarkOutput,
  WindowAssigner,
  Window,
} from '@nimble/api';
import {
  Duration,
  EventTimeSessionWindows,
  ProcessFunction,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  WatermarkStrategy,
} from '@nimble/api';
import { createHash } from 'node:crypto';
import type { CatalogTable } from '../catalog/catalog-table.js';
import type { Catalog } from '../catalog/catalog.js';
import { readOption } from '../connectors/options.js';
import { sourceFactory } from '../connectors/registry.js';
import { TableError, ValidationError } from '../errors.js';
import type {
  CallExpr,
  Expr,
  Identifier,
  OrderItem,
  Pos,
  Query,
  Select,
  SelectItem,
  TableRef,
} from '../parser/ast.js';
import type { Change, Row } from '../row.js';
import type { SqlType } from '../types.js';
import {
  formatType,
  isAssignable,
  isRowtime,
  isTimestamp,
  withNullable,
  withoutTimeAttribute,
} from '../types.js';
import type { AggregateCall } from './aggregates.js';
import { compileAggregates } from './aggregates.js';
import { and, conjuncts, exprKey, exprText, findExprs, ident, replaceExprs } from './ast-utils.js';
import type { EvalContext } from './expressions.js';
import {
  compileExpr,
  compilePredicate,
  compileProjection,
  inferType,
  intervalMillis,
  isAggregateCall,
} from './expressions.js';
import type { PlanNode, Rel } from './rel.js';
import type { ScopeColumn } from './scope.js';
import { Scope } from './scope.js';
import { CumulativeEventTimeWindows } from '../operators/cumulative-windows.js';
import { GroupAggregateFunction } from '../operators/group-aggregate.js';
import { WindowTopNFunction } from '../operators/window-top-n.js';
import {
  procTimeOverAggregateFunction,
  rowTimeOverAggregateFunction,
} from '../operators/over-aggregate.js';
import { windowAggregateFunction, WindowResultFunction } from '../operators/window-aggregate.js';

/** What the planner reads: the job's environment, the catalog, SET options, Table API tables. */
export interface PlannerContext {
  readonly env: StreamExecutionEnvironment;
  readonly catalog: Catalog;
  readonly configuration: ReadonlyMap<string, string>;
  /** Relations of Table API tables and views over streams, by table id. */
  readonly tables: ReadonlyMap<number, () => Rel>;
  /** Source scans of this job by table name: a table read twice is read once (Flink's source reuse). */
  readonly scans: Map<string, Rel>;
}

/** The evaluation context of expressions that read no watermark (projections in map operators). */
const NO_WATERMARK: EvalContext = {
  currentWatermark: () => undefined,
  currentProcessingTime: () => Date.now(),
};

/** A stable uid: the operator kind and a hash of what it computes and of its input's uid. */
export function operatorUid(
  kind: string,
  description: string,
  inputs: readonly PlanNode[],
): string {
  const hash = createHash('sha256')
    .update(description)
    .update(inputs.map((i) => i.uid ?? '').join('|'))
    .digest('hex')
    .slice(0, 16);
  return `${kind}-${hash}`;
}

function node(kind: string, description: string, inputs: readonly PlanNode[]): PlanNode {
  return { description, uid: operatorUid(kind, description, inputs), inputs };
}

/** Calcite's name of a select item without alias: the column's name, else `EXPR$<index>`. */
function itemName(item: SelectItem, index: number): string {
  if (item.alias !== undefined) return item.alias;
  if (item.expr.kind === 'ident') return item.expr.parts[item.expr.parts.length - 1]!;
  return `EXPR$${index}`;
}

/** Unique row keys for output names (Calcite appends a number: `a`, `a0`). */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let name = n;
    for (let i = 0; seen.has(name); i++) name = `${n}${i}`;
    seen.add(name);
    return name;
  });
}

/**
 * The watermark of a table's WATERMARK clause: the largest value of its expression so far.
 *
 * As Flink's `WatermarkAssignerOperator`, it emits the watermark not only periodically but also
 * right after a row that moved it more than `pipeline.auto-watermark-interval` past the last one
 * emitted, so which rows are late does not depend on timing when rows are far apart in event time.
 */
export class SqlWatermarkGenerator implements WatermarkGenerator<Row> {
  private watermark = -Infinity;
  private emitted = -Infinity;
  constructor(
    private readonly expr: (row: Row, ctx: EvalContext) => unknown,
    private readonly intervalMs: number,
  ) {}
  onEvent(event: Row, _timestamp: number, output: WatermarkOutput): void {
    const w = this.expr(event, NO_WATERMARK);
    if (typeof w === 'number' && w > this.watermark) this.watermark = w;
    if (this.watermark - this.emitted > this.intervalMs) this.emit(output);
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.watermark > this.emitted) this.emit(output);
  }
  private emit(output: WatermarkOutput): void {
    this.emitted = this.watermark;
    output.emitWatermark(this.watermark);
  }
}

/** The window a window TVF call assigns. */
interface WindowTvf {
  readonly kind: 'TUMBLE' | 'HOP' | 'SESSION' | 'CUMULATE';
  /** The row key of the time column. */
  readonly timeKey: string;
  readonly timeType: SqlType;
  readonly sizeMillis: number;
  /** HOP: slide; CUMULATE: step. */
  readonly slideMillis?: number;
  readonly offsetMillis: number;
  /** SESSION ... PARTITION BY. */
  readonly partitionBy: readonly Expr[];
  readonly description: string;
}

/** A FROM clause before window TVF columns are materialized: the input and the window. */
interface FromResult {
  readonly rel: Rel;
  readonly window?: WindowTvf;
}

const WINDOW_COLUMNS = ['window_start', 'window_end', 'window_time'] as const;

export class Planner {
  constructor(private readonly ctx: PlannerContext) {}

  // ---------------------------------------------------------------------------------------------
  // Queries

  planQuery(query: Query, outerCtes: ReadonlyMap<string, Query> = new Map()): Rel {
    switch (query.kind) {
      case 'select':
        return this.planSelect(query, outerCtes);
      case 'setOperation': {
        if (query.op !== 'UNION' || !query.all) {
          throw new TableError(
            `${query.op}${query.all ? ' ALL' : ''} is not supported in streaming queries yet; UNION ALL is`,
          );
        }
        if (query.orderBy.length > 0 || query.limit !== undefined) {
          throw new TableError(
            'ORDER BY / LIMIT on a UNION ALL is not supported in streaming mode',
          );
        }
        return this.planUnion(
          this.planQuery(query.left, outerCtes),
          this.planQuery(query.right, outerCtes),
          query.pos,
        );
      }
      case 'values':
        return this.planValues(query.rows, query.pos);
      case 'with': {
        const ctes = new Map(outerCtes);
        for (const cte of query.ctes) ctes.set(cte.name, cte.query);
        return this.planQuery(query.body, ctes);
      }
    }
  }

  private planUnion(left: Rel, right: Rel, pos: Pos): Rel {
    if (left.columns.length !== right.columns.length) {
      throw new ValidationError(
        `Set operator cannot combine the results of queries with different numbers of columns ` +
          `(${left.columns.length} and ${right.columns.length})`,
        pos,
      );
    }
    if (left.mode !== 'insert-only' || right.mode !== 'insert-only') {
      throw new TableError('UNION ALL of updating tables is not supported yet');
    }
    const columns = left.columns.map((c, i) => {
      const r = right.columns[i]!;
      if (!isAssignable(r.type, c.type) && !isAssignable(c.type, r.type)) {
        throw new ValidationError(
          `Type mismatch in column ${i + 1} of UNION ALL: ${formatType(c.type)} and ${formatType(r.type)}`,
          pos,
        );
      }
      const rowtime = isRowtime(c.type) && isRowtime(r.type);
      const type = withNullable(
        rowtime ? c.type : withoutTimeAttribute(c.type),
        c.type.nullable || r.type.nullable,
      );
      return { name: c.name, key: c.key, type };
    });
    let rightStream = right.stream as DataStream<Row>;
    const renamed = right.columns.some((c, i) => c.key !== left.columns[i]!.key);
    if (renamed) {
      const pairs = right.columns.map((c, i) => [left.columns[i]!.key, c.key] as const);
      const rename = new Function(
        'r',
        `return {${pairs.map(([to, from]) => `${JSON.stringify(to)}: r[${JSON.stringify(from)}]`).join(', ')}};`,
      ) as (r: Row) => Row;
      const plan = node(
        'calc',
        `Calc(select=[${pairs.map(([t, f]) => (t === f ? t : `${f} AS ${t}`)).join(', ')}])`,
        [right.plan],
      );
      rightStream = rightStream.map(rename).name(plan.description).uid(plan.uid!);
    }
    const plan: PlanNode = { description: 'Union(all=[true])', inputs: [left.plan, right.plan] };
    const stream = (left.stream as DataStream<Row>).union(rightStream);
    const rowtimeKey =
      left.rowtimeKey !== undefined && left.rowtimeKey === (renamed ? undefined : right.rowtimeKey)
        ? left.rowtimeKey
        : undefined;
    return {
      stream,
      columns,
      mode: 'insert-only',
      rowtimeKey,
      bounded: left.bounded && right.bounded,
      plan,
    };
  }

  private planValues(rows: readonly (readonly Expr[])[], pos: Pos): Rel {
    const empty = new Scope([]);
    if (rows.length === 0) throw new ValidationError('VALUES needs at least one row', pos);
    const width = rows[0]!.length;
    const types: SqlType[] = [];
    const values: Row[] = rows.map((row) => {
      if (row.length !== width) {
        throw new ValidationError(
          'Values passed to VALUES operator must have compatible types',
          pos,
        );
      }
      const out: Row = {};
      row.forEach((e, i) => {
        const compiled = compileExpr(e, empty);
        const t = compiled.type;
        const prev = types[i];
        types[i] =
          prev === undefined || prev.name === 'NULL'
            ? t
            : withNullable(prev, prev.nullable || t.nullable);
        out[`EXPR$${i}`] = compiled.fn({}, NO_WATERMARK);
      });
      return out;
    });
    const columns = types.map((type, i) => ({ name: `EXPR$${i}`, key: `EXPR$${i}`, type }));
    const description = `Values(tuples=[${rows.map((r) => `{ ${r.map(exprText).join(', ')} }`).join(', ')}])`;
    const plan = node('values', description, []);
    const stream = this.ctx.env.fromCollection(values).name(description).uid(plan.uid!);
    return { stream, columns, mode: 'insert-only', bounded: true, plan };
  }

  // ---------------------------------------------------------------------------------------------
  // FROM

  /** Plans a table, view, subquery, TVF or join of a FROM clause. */
  private planFrom(
    ref: TableRef,
    ctes: ReadonlyMap<string, Query>,
    where: WhereConjunct[],
  ): FromResult {
    switch (ref.kind) {
      case 'table': {
        if (ref.forSystemTimeAsOf !== undefined) {
          throw new TableError(
            `Temporal and lookup joins (${ref.name.join('.')} FOR SYSTEM_TIME AS OF ...) are ` +
              'not supported. Enrich a stream from Redis or PostgreSQL with async I/O in the ' +
              'DataStream API (RedisLookupFunction, JdbcLookupFunction), or join two streams ' +
              'with an interval join',
          );
        }
        const alias = ref.alias ?? ref.name[ref.name.length - 1]!;
        const cte = ref.name.length === 1 ? ctes.get(ref.name[0]!) : undefined;
        const rel = cte ? this.planQuery(cte, ctes) : this.planTableRef(ref.name, ref.pos);
        return { rel: requalify(rel, alias, ref.columnAliases, ref.pos) };
      }
      case 'subquery': {
        const rel = this.planQuery(ref.query, ctes);
        return { rel: requalify(rel, ref.alias, ref.columnAliases, ref.pos) };
      }
      case 'tvf':
        return this.planWindowTvf(ref.call, ref.alias, ctes);
      case 'join':
        return { rel: this.planJoin(ref, ctes, where) };
    }
  }

  /** A catalog table (scanned), a view (planned) or a Table API table. */
  planTableRef(path: readonly string[], pos: Pos): Rel {
    const object = this.ctx.catalog.lookup(path, pos);
    if (object.kind === 'table') return this.scan(object);
    if (object.tableId !== undefined) {
      const table = this.ctx.tables.get(object.tableId);
      if (table === undefined)
        throw new TableError(`View '${object.name}' refers to a dropped table`);
      return requalify(table(), object.name, undefined, pos);
    }
    const rel = this.planQuery(object.query!);
    return requalify(rel, object.name, object.columns, pos);
  }

  /** Reads a catalog table through its connector, with its computed columns and watermark. */
  scan(table: CatalogTable): Rel {
    const cached = this.ctx.scans.get(table.name);
    if (cached) return cached;
    const factory = sourceFactory(table);
    factory.validateSource(table);
    const stored = table.columns.filter((c) => c.kind !== 'computed');
    const raw = new Scope(
      stored.map((c) => ({ qualifier: table.name, name: c.name, key: c.name, type: c.type })),
    );
    const computed = new Map<string, Expr>();
    for (const c of table.columns) if (c.kind === 'computed') computed.set(c.name, c.expr);
    // Computed columns the rowtime or watermark read are inlined, so both run on the raw record.
    const inline = (e: Expr): Expr =>
      replaceExprs(
        e,
        new Map([...computed].map(([name, expr]) => [exprKey(ident(name, e.pos)), expr] as const)),
      );
    let watermarks = WatermarkStrategy.noWatermarks<Row>();
    const wm = table.watermark;
    if (wm !== undefined) {
      const rowtime = compileExpr(inline(ident(wm.column, wm.expr.pos)), raw).fn;
      const watermark = compileExpr(inline(wm.expr), raw).fn;
      const tableName = table.name;
      watermarks = WatermarkStrategy.forGenerator<Row>(
        () =>
          new SqlWatermarkGenerator(watermark, this.ctx.env.getConfig().getAutoWatermarkInterval()),
      ).withTimestampAssigner((row) => {
        const t = rowtime(row, NO_WATERMARK);
        if (typeof t !== 'number') {
          throw new TableError(
            `RowTime field should not be null, please convert it to a non-null long value. ` +
              `(table '${tableName}', column '${wm.column}')`,
          );
        }
        return t;
      });
      const idle = readOption(this.ctx.configuration, {
        key: 'table.exec.source.idle-timeout',
        type: 'duration',
      }) as number | undefined;
      if (idle !== undefined && idle > 0) {
        watermarks = watermarks.withIdleness(Duration.ofMillis(idle));
      }
    }
    const physical = table.columns.filter((c) => c.kind === 'physical');
    const metadata = table.columns.flatMap((c) =>
      c.kind === 'metadata' ? [{ name: c.name, key: c.key, type: c.type }] : [],
    );
    const fields = table.columns.map((c) => c.name);
    const description = `TableSourceScan(table=[[default_catalog, default_database, ${table.name}]], fields=[${fields.join(', ')}])`;
    const scanNode: PlanNode = { description, uid: `source-${table.name}`, inputs: [] };
    // An upsert source (upsert-kafka) produces changes keyed by the primary key.
    const upsert = factory.createChangelogSource !== undefined;
    const sourceContext = {
      env: this.ctx.env,
      table,
      physical: physical.map((c) => ({ name: c.name, type: c.type })),
      metadata,
      watermarks,
      uid: scanNode.uid!,
      name: description,
      configuration: this.ctx.configuration,
    };
    let stream = upsert
      ? (factory.createChangelogSource!(sourceContext) as unknown as DataStream<Row>)
      : factory.createSource(sourceContext);
    let plan = scanNode;
    if (computed.size > 0) {
      const items = table.columns.map((c) => ({
        name: c.name,
        expr:
          c.kind === 'computed'
            ? c.expr
            : ident(c.name, table.pos ?? { line: 1, column: 1, offset: 0 }),
      }));
      const projection = compileProjection(items, raw);
      plan = node(
        'calc',
        `Calc(select=[${table.columns.map((c) => (c.kind === 'computed' ? `${c.exprText} AS ${c.name}` : c.name)).join(', ')}])`,
        [scanNode],
      );
      stream = (
        upsert
          ? (stream as unknown as DataStream<Change>).map((c: Change): Change => ({
              kind: c.kind,
              row: projection.fn(c.row, NO_WATERMARK),
            }))
          : stream.map((row: Row) => projection.fn(row, NO_WATERMARK))
      )
        .name(plan.description)
        .uid(plan.uid!) as DataStream<Row>;
    }
    const columns: ScopeColumn[] = table.columns.map((c) => {
      const type =
        c.name === wm?.column && isTimestamp(c.type)
          ? { ...c.type, timeAttribute: 'ROWTIME' as const }
          : c.type;
      return { qualifier: table.name, name: c.name, key: c.name, type };
    });
    const rel: Rel = {
      stream,
      columns,
      mode: upsert ? 'updates' : 'insert-only',
      ...(upsert ? { upsertKey: table.primaryKey } : {}),
      rowtimeKey: wm?.column,
      bounded: factory.isBounded(table),
      plan,
    };
    this.ctx.scans.set(table.name, rel);
    return rel;
  }

  /** `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL ...))` and HOP, SESSION, CUMULATE. */
  private planWindowTvf(
    call: CallExpr,
    alias: string | undefined,
    ctes: ReadonlyMap<string, Query>,
  ): FromResult {
    const kind = call.name;
    if (kind !== 'TUMBLE' && kind !== 'HOP' && kind !== 'SESSION' && kind !== 'CUMULATE') {
      throw new ValidationError(
        `Table function '${kind}' is not supported; the window table functions are TUMBLE, HOP, SESSION and CUMULATE`,
        call.pos,
      );
    }
    const names: Record<string, readonly string[]> = {
      TUMBLE: ['DATA', 'TIMECOL', 'SIZE', 'OFFSET'],
      HOP: ['DATA', 'TIMECOL', 'SLIDE', 'SIZE', 'OFFSET'],
      SESSION: ['DATA', 'TIMECOL', 'GAP'],
      CUMULATE: ['DATA', 'TIMECOL', 'STEP', 'SIZE', 'OFFSET'],
    };
    const params = names[kind]!;
    const args = new Map<string, Expr>();
    call.args.forEach((a, i) => {
      const name = call.argNames?.[i] ?? params[i];
      if (name === undefined || !params.includes(name)) {
        throw new ValidationError(`Invalid number of arguments to function '${kind}'`, a.pos);
      }
      args.set(name, a);
    });
    const data = args.get('DATA');
    const timecol = args.get('TIMECOL');
    if (data?.kind !== 'tableArg') {
      throw new ValidationError(`The first argument of ${kind} must be TABLE <name>`, call.pos);
    }
    if (timecol?.kind !== 'descriptor' || timecol.columns.length !== 1) {
      throw new ValidationError(
        `The second argument of ${kind} must be DESCRIPTOR(<time column>)`,
        call.pos,
      );
    }
    const cte = data.name.length === 1 ? ctes.get(data.name[0]!) : undefined;
    const input = requalify(
      cte ? this.planQuery(cte, ctes) : this.planTableRef(data.name, data.pos),
      alias ?? data.name[data.name.length - 1]!,
      undefined,
      data.pos,
    );
    const timeColumn = new Scope(input.columns).resolve([timecol.columns[0]!], timecol.pos);
    if (!isTimeAttributeColumn(timeColumn)) {
      throw new ValidationError(
        `The window function requires the timecol is a time attribute type, but is ${formatType(timeColumn.type)}.`,
        timecol.pos,
      );
    }
    if (timeColumn.type.name !== 'TIMESTAMP' && timeColumn.type.name !== 'TIMESTAMP_LTZ')
      throw new Error('unreachable');
    if (timeColumn.type.timeAttribute === 'PROCTIME') {
      throw new TableError(
        'Window TVFs on processing time are not supported yet; declare a WATERMARK',
      );
    }
    const interval = (name: string, required: boolean): number | undefined => {
      const e = args.get(name);
      if (e === undefined) {
        if (required) throw new ValidationError(`${kind} needs a ${name} argument`, call.pos);
        return undefined;
      }
      if (e.kind !== 'interval') {
        throw new ValidationError(
          `The ${name} argument of ${kind} must be an INTERVAL literal`,
          e.pos,
        );
      }
      const ms = intervalMillis(e);
      if (!(ms > 0) && name !== 'OFFSET') {
        throw new ValidationError(
          `The ${name} of ${kind} must be positive; got ${exprText(e)}`,
          e.pos,
        );
      }
      return ms;
    };
    let sizeMillis: number;
    let slideMillis: number | undefined;
    if (kind === 'TUMBLE') sizeMillis = interval('SIZE', true)!;
    else if (kind === 'HOP') {
      slideMillis = interval('SLIDE', true)!;
      sizeMillis = interval('SIZE', true)!;
      // Flink slices hopping windows into panes of the slide, so the size must be a multiple.
      if (sizeMillis % slideMillis !== 0) {
        throw new ValidationError(
          `HOP table function based aggregate requires size must be an integral multiple of slide, but got size ${sizeMillis} ms and slide ${slideMillis} ms.`,
          call.pos,
        );
      }
    } else if (kind === 'CUMULATE') {
      slideMillis = interval('STEP', true)!;
      sizeMillis = interval('SIZE', true)!;
      if (sizeMillis % slideMillis !== 0) {
        throw new ValidationError(
          `CUMULATE table function based aggregate requires maxSize must be an integral multiple of step, but got maxSize ${sizeMillis} ms and step ${slideMillis} ms.`,
          call.pos,
        );
      }
    } else sizeMillis = interval('GAP', true)!;
    const offsetMillis = interval('OFFSET', false) ?? 0;
    const description =
      `${kind}(time_col=[${timeColumn.name}], ` +
      (kind === 'HOP'
        ? `size=[${sizeMillis} ms], slide=[${slideMillis} ms]`
        : kind === 'CUMULATE'
          ? `max_size=[${sizeMillis} ms], step=[${slideMillis} ms]`
          : kind === 'SESSION'
            ? `gap=[${sizeMillis} ms]${data.partitionBy.length ? `, partition keys=[${data.partitionBy.map(exprText).join(', ')}]` : ''}`
            : `size=[${sizeMillis} ms]`) +
      (offsetMillis ? `, offset=[${offsetMillis} ms]` : '') +
      ')';
    return {
      rel: input,
      window: {
        kind,
        timeKey: timeColumn.key,
        timeType: timeColumn.type,
        sizeMillis,
        slideMillis,
        offsetMillis,
        partitionBy: data.partitionBy,
        description,
      },
    };
  }

  /** The window assigner of a window TVF, reading the time column of the row. */
  private assigner(w: WindowTvf): WindowAssigner<Row, Window> {
    const size = Duration.ofMillis(w.sizeMillis);
    const offset = Duration.ofMillis(w.offsetMillis);
    switch (w.kind) {
      case 'TUMBLE':
        return TumblingEventTimeWindows.of(size, offset) as unknown as WindowAssigner<Row, Window>;
      case 'HOP':
        return SlidingEventTimeWindows.of(
          size,
          Duration.ofMillis(w.slideMillis!),
          offset,
        ) as unknown as WindowAssigner<Row, Window>;
      case 'CUMULATE':
        return CumulativeEventTimeWindows.of(
          size,
          Duration.ofMillis(w.slideMillis!),
          offset,
        ) as unknown as WindowAssigner<Row, Window>;
      case 'SESSION':
        return EventTimeSessionWindows.withGap(size) as unknown as WindowAssigner<Row, Window>;
    }
  }

  /** Window columns added to a table without aggregating (`SELECT * FROM TABLE(TUMBLE(...))`). */
  private materializeWindow(from: FromResult): Rel {
    const w = from.window;
    const input = from.rel;
    if (w === undefined) return input;
    if (w.kind === 'SESSION') {
      throw new TableError(
        'A SESSION window TVF must be followed by a window aggregation (GROUP BY window_start, window_end)',
      );
    }
    const timeKey = w.timeKey;
    const size = w.sizeMillis;
    const slide = w.slideMillis ?? size;
    const offset = w.offsetMillis;
    const keys = input.columns.map((c) => c.key);
    const build = new Function(
      'r',
      's',
      'e',
      `return {${[...keys.map((k) => `${JSON.stringify(k)}: r[${JSON.stringify(k)}]`), '"window_start": s', '"window_end": e', '"window_time": e - 1'].join(', ')}};`,
    ) as (r: Row, s: number, e: number) => Row;
    const kind = w.kind;
    const plan = node('window-table-function', `WindowTableFunction(window=[${w.description}])`, [
      input.plan,
    ]);
    const stream = (input.stream as DataStream<Row>)
      .flatMap<Row>((row: Row, out) => {
        const t = row[timeKey] as number;
        if (kind === 'TUMBLE') {
          const start = t - ((((t - offset) % size) + size) % size);
          out.collect(build(row, start, start + size));
        } else if (kind === 'HOP') {
          const last = t - ((((t - offset) % slide) + slide) % slide);
          for (let start = last; start > t - size; start -= slide)
            out.collect(build(row, start, start + size));
        } else {
          const start = t - ((((t - offset) % size) + size) % size);
          for (let end = start + slide; end <= start + size; end += slide) {
            if (end > t) out.collect(build(row, start, end));
          }
        }
      })
      .name(plan.description)
      .uid(plan.uid!);
    const tsType = (timeAttribute?: 'ROWTIME'): SqlType => ({
      name: w.timeType.name === 'TIMESTAMP_LTZ' ? 'TIMESTAMP_LTZ' : 'TIMESTAMP',
      precision: 3,
      nullable: false,
      ...(timeAttribute ? { timeAttribute } : {}),
    });
    const columns: ScopeColumn[] = [
      ...input.columns.map((c) => ({ ...c, type: withoutTimeAttribute(c.type) })),
      { name: 'window_start', key: 'window_start', type: tsType() },
      { name: 'window_end', key: 'window_end', type: tsType() },
      { name: 'window_time', key: 'window_time', type: tsType('ROWTIME') },
    ];
    return { ...input, stream, columns, plan, rowtimeKey: undefined };
  }

  // ---------------------------------------------------------------------------------------------
  // SELECT

  private planSelect(select: Select, ctes: ReadonlyMap<string, Query>): Rel {
    if (select.orderBy.length > 0 || select.limit !== undefined) {
      throw new TableError(
        'ORDER BY and LIMIT on a streaming query are not supported: a stream has no end to sort at. ' +
          'Use a window Top-N (ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ...) <= n).',
      );
    }
    const topN = this.detectWindowTopN(select);
    if (topN !== undefined) return this.planWindowTopN(select, topN, ctes);

    const whereConjuncts: WhereConjunct[] = conjuncts(select.where).map((expr) => ({
      expr,
      consumed: false,
    }));
    const from: FromResult = select.from
      ? this.planFrom(select.from, ctes, whereConjuncts)
      : {
          rel: this.planValues(
            [[{ kind: 'literal', type: 'number', value: '0', pos: select.pos }]],
            select.pos,
          ),
        };

    const aggCalls = dedupeCalls(
      [...select.items.map((i) => i.expr), ...(select.having ? [select.having] : [])].flatMap((e) =>
        findExprs(
          e,
          (x): x is CallExpr => x.kind === 'call' && x.over === undefined && isAggregateCall(x),
        ),
      ),
    );
    const isAggregate = select.groupBy.length > 0 || aggCalls.length > 0;

    // A filter that does not read the window columns runs before the window.
    let rel: Rel;
    let window = from.window;
    if (window !== undefined && !isAggregate) {
      rel = this.materializeWindow(from);
      window = undefined;
    } else rel = from.rel;
    const remaining = whereConjuncts.filter((c) => !c.consumed);
    if (remaining.length > 0) {
      rel = this.filter(rel, and(remaining.map((c) => c.expr))!);
    }
    if (select.having !== undefined && !isAggregate) {
      throw new ValidationError(
        'HAVING clause requires GROUP BY or an aggregate',
        select.having.pos,
      );
    }
    if (isAggregate) {
      if (select.distinct)
        throw new TableError('SELECT DISTINCT with GROUP BY is not supported yet');
      return this.planAggregate(select, rel, window, aggCalls);
    }
    if (select.distinct) return this.planDistinct(this.project(rel, select.items, select.windows));
    return this.project(rel, select.items, select.windows);
  }

  private filter(rel: Rel, condition: Expr): Rel {
    if (rel.mode !== 'insert-only') {
      return this.mapChanges(rel, `Calc(where=[${exprText(condition)}])`, (scope) => {
        const p = compilePredicate(condition, scope);
        return { filter: p.fn };
      });
    }
    const scope = new Scope(rel.columns);
    const predicate = compilePredicate(condition, scope);
    const plan = node('calc', `Calc(where=[${exprText(condition)}])`, [rel.plan]);
    const stream = predicate.usesWatermark
      ? (rel.stream as DataStream<Row>)
          .process<Row>(
            new RowProcess((row, ctx, out) => {
              if (predicate.fn(row, ctx)) out.collect(row);
            }),
          )
          .name(plan.description)
          .uid(plan.uid!)
      : (rel.stream as DataStream<Row>)
          .filter((row: Row) => predicate.fn(row, NO_WATERMARK))
          .name(plan.description)
          .uid(plan.uid!);
    return { ...rel, stream, plan };
  }

  /** Expands `*`, compiles the items and maps each row (or change) to the projected row. */
  project(rel: Rel, items: readonly SelectItem[], windows: Select['windows'] = []): Rel {
    const scope = new Scope(rel.columns);
    const expanded: { expr: Expr; name: string }[] = [];
    items.forEach((item, index) => {
      if (item.expr.kind === 'star') {
        const qualifier = item.expr.qualifier?.[item.expr.qualifier.length - 1];
        const columns = scope.expand(qualifier);
        if (columns.length === 0 && qualifier !== undefined) {
          throw new ValidationError(`Unknown identifier '${qualifier}'`, item.pos);
        }
        for (const c of columns) {
          expanded.push({
            expr: {
              kind: 'ident',
              parts: c.qualifier ? [c.qualifier, c.name] : [c.name],
              pos: item.pos,
            },
            name: c.name,
          });
        }
      } else expanded.push({ expr: item.expr, name: itemName(item, index) });
    });
    const overCalls = dedupeCalls(
      expanded.flatMap((i) =>
        findExprs(i.expr, (x): x is CallExpr => x.kind === 'call' && x.over !== undefined),
      ),
    );
    if (overCalls.length > 0) {
      const over = this.planOver(rel, overCalls, windows);
      return this.project(
        over.rel,
        expanded.map((i) => ({
          expr: replaceExprs(i.expr, over.replacements),
          alias: i.name,
          pos: i.expr.pos,
        })),
      );
    }
    const names = uniqueNames(expanded.map((i) => i.name));
    const identity =
      expanded.length === rel.columns.length &&
      expanded.every((e, i) => {
        if (e.expr.kind !== 'ident') return false;
        const c = scope.resolve(e.expr.parts, e.expr.pos);
        return c === rel.columns[i] && c.key === names[i];
      });
    const columnsOut = (types: readonly SqlType[]): ScopeColumn[] =>
      names.map((name, i) => ({ name, key: name, type: types[i]! }));
    if (identity) {
      return {
        ...rel,
        columns: rel.columns.map((c) => ({ name: c.name, key: c.key, type: c.type })),
      };
    }
    const items2 = expanded.map((e, i) => ({ expr: e.expr, name: names[i]! }));
    const description = `Calc(select=[${items2.map((i) => (i.expr.kind === 'ident' && i.expr.parts[i.expr.parts.length - 1] === i.name ? i.name : `${exprText(i.expr)} AS ${i.name}`)).join(', ')}])`;
    // The rowtime survives a projection that keeps its column as it is.
    const rowtimeItem = items2.find(
      (i) =>
        i.expr.kind === 'ident' &&
        rel.rowtimeKey !== undefined &&
        scope.resolve(i.expr.parts, i.expr.pos).key === rel.rowtimeKey,
    );
    if (rel.mode !== 'insert-only') {
      let types: readonly SqlType[] = [];
      const mapped = this.mapChanges(rel, description, (s) => {
        const p = compileProjection(items2, s);
        types = p.fields.map((f) => f.type);
        return { map: p.fn };
      });
      const upsertKey = rel.upsertKey?.every((k) =>
        items2.some(
          (i) =>
            i.expr.kind === 'ident' &&
            scope.resolve(i.expr.parts, i.expr.pos).key === k &&
            i.name === k,
        ),
      )
        ? rel.upsertKey
        : undefined;
      return { ...mapped, columns: columnsOut(types), upsertKey, rowtimeKey: undefined };
    }
    const projection = compileProjection(items2, scope);
    const plan = node('calc', description, [rel.plan]);
    const stream = projection.usesWatermark
      ? (rel.stream as DataStream<Row>)
          .process<Row>(new RowProcess((row, ctx, out) => out.collect(projection.fn(row, ctx))))
          .name(plan.description)
          .uid(plan.uid!)
      : (rel.stream as DataStream<Row>)
          .map((row: Row) => projection.fn(row, NO_WATERMARK))
          .name(plan.description)
          .uid(plan.uid!);
    const types = projection.fields.map((f) => f.type);
    return {
      stream,
      columns: columnsOut(types),
      mode: 'insert-only',
      rowtimeKey: rowtimeItem?.name,
      bounded: rel.bounded,
      plan,
    };
  }

  /** A Calc over an updating table: maps or filters the row of each change. */
  private mapChanges(
    rel: Rel,
    description: string,
    compile: (scope: Scope) => {
      map?: (r: Row, c: EvalContext) => Row;
      filter?: (r: Row, c: EvalContext) => boolean;
    },
  ): Rel {
    const { map, filter } = compile(new Scope(rel.columns));
    const plan = node('calc', description, [rel.plan]);
    const stream = (rel.stream as DataStream<Change>)
      .flatMap<Change>((change: Change, out) => {
        if (filter !== undefined && !filter(change.row, NO_WATERMARK)) return;
        out.collect(
          map === undefined ? change : { kind: change.kind, row: map(change.row, NO_WATERMARK) },
        );
      })
      .name(description)
      .uid(plan.uid!);
    return { ...rel, stream, plan };
  }

  private planDistinct(rel: Rel): Rel {
    const items: SelectItem[] = rel.columns.map((c) => ({
      expr: ident(c.key, { line: 1, column: 1, offset: 0 }),
      pos: { line: 1, column: 1, offset: 0 },
    }));
    const select: Select = {
      kind: 'select',
      distinct: false,
      items,
      groupBy: items.map((i) => i.expr),
      windows: [],
      orderBy: [],
      pos: { line: 1, column: 1, offset: 0 },
    };
    return this.planAggregate(
      select,
      { ...rel, columns: rel.columns.map((c) => ({ name: c.key, key: c.key, type: c.type })) },
      undefined,
      [],
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Aggregation

  private planAggregate(
    select: Select,
    rel: Rel,
    window: WindowTvf | undefined,
    aggCalls: readonly CallExpr[],
  ): Rel {
    const scope = new Scope(rel.columns);
    const pos0 = select.pos;
    // Group keys: window_start/window_end/window_time of a window TVF, other expressions.
    const groupKeys: {
      expr: Expr;
      name: string;
      key: string;
      type: SqlType;
      column?: ScopeColumn;
    }[] = [];
    const windowKeys = new Set<string>();
    for (const g of select.groupBy) {
      if (
        window !== undefined &&
        g.kind === 'ident' &&
        WINDOW_COLUMNS.includes(g.parts[g.parts.length - 1] as never)
      ) {
        windowKeys.add(g.parts[g.parts.length - 1]!);
        continue;
      }
      if (g.kind === 'ident') {
        const c = scope.resolve(g.parts, g.pos);
        groupKeys.push({
          expr: g,
          name: c.name,
          key: c.key,
          type: withoutTimeAttribute(c.type),
          column: c,
        });
      } else {
        const key = `$g${groupKeys.length}`;
        groupKeys.push({ expr: g, name: key, key, type: inferType(g, scope) });
      }
    }
    if (
      window !== undefined &&
      (!windowKeys.has('window_start') || !windowKeys.has('window_end'))
    ) {
      throw new TableError(
        'A window TVF aggregation must GROUP BY window_start and window_end ' +
          '(Flink does not support a window TVF followed by a group aggregation without them)',
      );
    }
    const calls: AggregateCall[] = aggCalls.map((c) => ({
      name: c.name,
      distinct: c.distinct,
      args: c.args,
      ...(c.filter ? { filter: c.filter } : {}),
      pos: c.pos,
    }));
    const aggregates = compileAggregates(calls, scope, { retractable: rel.mode !== 'insert-only' });
    // The row after aggregation: group keys, window columns, `$a<i>` results.
    const replacements = new Map<string, Expr>();
    aggCalls.forEach((c, i) => replacements.set(exprKey(c), ident(`$a${i}`, c.pos)));
    const outColumns: ScopeColumn[] = [];
    for (const g of groupKeys) {
      if (g.column)
        outColumns.push({
          qualifier: g.column.qualifier,
          name: g.column.name,
          key: g.key,
          type: g.type,
        });
      else {
        replacements.set(exprKey(g.expr), ident(g.key, g.expr.pos));
        outColumns.push({ name: g.key, key: g.key, type: g.type });
      }
    }
    const timeType = window?.timeType.name === 'TIMESTAMP_LTZ' ? 'TIMESTAMP_LTZ' : 'TIMESTAMP';
    if (window !== undefined) {
      outColumns.push(
        {
          name: 'window_start',
          key: 'window_start',
          type: { name: timeType, precision: 3, nullable: false },
        },
        {
          name: 'window_end',
          key: 'window_end',
          type: { name: timeType, precision: 3, nullable: false },
        },
        {
          name: 'window_time',
          key: 'window_time',
          type: { name: timeType, precision: 3, nullable: false, timeAttribute: 'ROWTIME' },
        },
      );
    }
    aggregates.resultTypes.forEach((type, i) =>
      outColumns.push({ name: `$a${i}`, key: `$a${i}`, type }),
    );

    const keyFns = groupKeys.map((g) => compileExpr(g.expr, scope).fn);
    const keyNames = groupKeys.map((g) => g.key);
    const keySelector = groupKeySelector(keyFns);
    const groupText = groupKeys.map((g) => exprText(g.expr));
    const selectText = [...groupText, ...aggCalls.map(exprText)].join(', ');
    let out: Rel;
    if (window !== undefined) {
      if (rel.mode !== 'insert-only') {
        throw new TableError(
          'A window aggregation cannot consume updates; its input must be insert-only',
        );
      }
      const partition = window.partitionBy.map((e) => exprText(e));
      if (window.kind === 'SESSION' && partition.some((p) => !groupText.includes(p))) {
        throw new TableError(
          'The PARTITION BY columns of a SESSION window must be in its GROUP BY',
        );
      }
      const description = `WindowAggregate(groupBy=[${groupText.join(', ')}], window=[${window.description}], select=[${selectText}, start('w$) AS window_start, end('w$) AS window_end, rowtime('w$) AS window_time])`;
      const plan = node('window-aggregate', description, [rel.plan]);
      const needed = referencedKeys([...groupKeys.map((g) => g.expr), ...aggCalls], scope).add(
        window.timeKey,
      );
      // Across the exchange rows travel as arrays of the columns the window reads.
      const exchange = exchangeRows(rel, needed, window.timeKey);
      const xScope = exchange.scope;
      const timeKey = xScope.columns.find((c) => c.name === '$time')!.key;
      const xAggregates = compileAggregates(calls, xScope, { retractable: false });
      const xKeySelector = groupKeySelector(groupKeys.map((g) => compileExpr(g.expr, xScope).fn));
      const keyed = exchange.stream.keyBy(xKeySelector as (r: Row) => Key);
      // The window's result row is an array in the order of `outColumns`; the select list
      // after it reads it by index and builds the output object once.
      const result = windowResultBuilder(keyFns.length, aggregates.resultTypes.length);
      const stream = keyed
        .window(rowtimeAssigner(this.assigner(window), timeKey))
        .aggregate(
          windowAggregateFunction(xAggregates),
          new WindowResultFunction<Key>(result) as never,
        )
        .name(description)
        .uid(plan.uid!) as unknown as DataStream<Row>;
      const arrayColumns = outColumns.map((c, i) => ({ ...c, key: String(i) }));
      out = {
        stream,
        columns: arrayColumns,
        mode: 'insert-only',
        rowtimeKey: String(outColumns.findIndex((c) => c.name === 'window_time')),
        bounded: rel.bounded,
        plan,
      };
    } else {
      const description = `GroupAggregate(${groupText.length ? `groupBy=[${groupText.join(', ')}], ` : ''}select=[${selectText}])`;
      const plan = node('group-aggregate', description, [rel.plan]);
      const build = rowBuilder([...keyNames, ...aggregates.resultTypes.map((_, i) => `$a${i}`)]);
      const keyed = (rel.stream as DataStream<Row | Change>).keyBy((x: Row | Change) =>
        keySelector(rel.mode === 'insert-only' ? (x as Row) : (x as Change).row),
      );
      const keyValues = keyDecoder(keyFns.length);
      const fn = new GroupAggregateFunction<Key>({
        aggregates,
        output: (key, values) => build([...keyValues(key), ...values]),
        input: rel.mode === 'insert-only' ? 'insert-only' : 'changelog',
      });
      const stream = (keyed as KeyedStream<Row | Change, Key>)
        .process<Change>(fn as never)
        .name(description)
        .uid(plan.uid!);
      out = {
        stream,
        columns: outColumns,
        mode: 'updates',
        upsertKey: keyNames,
        bounded: rel.bounded,
        plan,
      };
    }
    // HAVING and the select list over the aggregated row.
    const outScope = new Scope(outColumns);
    const rewrite = (e: Expr): Expr => {
      const rewritten = replaceExprs(e, replacements);
      for (const id of findExprs(rewritten, (x): x is Identifier => x.kind === 'ident')) {
        try {
          outScope.resolve(id.parts, id.pos);
        } catch (err) {
          try {
            scope.resolve(id.parts, id.pos);
          } catch {
            throw err;
          }
          throw new ValidationError(
            `Expression '${id.parts.join('.')}' is not being grouped`,
            id.pos,
          );
        }
      }
      return rewritten;
    };
    if (select.having !== undefined) out = this.filter(out, rewrite(select.having));
    const items = select.items.map((item, index): SelectItem => {
      if (item.expr.kind === 'star') {
        throw new ValidationError(
          'SELECT * is not allowed with GROUP BY; name the columns',
          item.pos,
        );
      }
      return { expr: rewrite(item.expr), alias: itemName(item, index), pos: item.pos };
    });
    void pos0;
    return this.project(out, items);
  }

  // ---------------------------------------------------------------------------------------------
  // OVER

  private planOver(
    rel: Rel,
    calls: readonly CallExpr[],
    named: Select['windows'],
  ): { rel: Rel; replacements: Map<string, Expr> } {
    if (rel.mode !== 'insert-only')
      throw new TableError('OVER aggregations on updating tables are not supported');
    const specs = calls.map((c) => {
      const over = c.over!;
      if (over.windowName === undefined) return over;
      const base = named.find((w) => w.name === over.windowName);
      if (base === undefined)
        throw new ValidationError(`Window '${over.windowName}' not found`, over.pos);
      return {
        ...base.spec,
        ...(over.partitionBy.length ? { partitionBy: over.partitionBy } : {}),
        ...(over.orderBy.length ? { orderBy: over.orderBy } : {}),
        ...(over.frame ? { frame: over.frame } : {}),
      };
    });
    const first = specs[0]!;
    const key = (s: typeof first) => exprKey({ p: s.partitionBy, o: s.orderBy, f: s.frame });
    if (specs.some((s) => key(s) !== key(first))) {
      throw new TableError(
        'Over Agg: Unsupported use of OVER windows. All aggregates must be computed on the same window.',
      );
    }
    const scope = new Scope(rel.columns);
    if (first.orderBy.length !== 1) {
      throw new TableError('Over Agg: The window can only be ordered by a single time column.');
    }
    const order = first.orderBy[0]!;
    if (order.direction !== 'ASC') {
      throw new TableError('Over Agg: The window can only be ordered in ASCENDING mode.');
    }
    if (order.expr.kind !== 'ident')
      throw new TableError('Over Agg: The window can only be ordered by a time attribute.');
    const orderColumn = scope.resolve(order.expr.parts, order.expr.pos);
    if (!isTimeAttributeColumn(orderColumn)) {
      throw new TableError(
        `OVER windows' ordering in stream mode must be defined on a time attribute; ${orderColumn.name} is ${formatType(orderColumn.type)}`,
      );
    }
    const proctime =
      orderColumn.type.name !== 'DESCRIPTOR' &&
      'timeAttribute' in orderColumn.type &&
      orderColumn.type.timeAttribute === 'PROCTIME';
    const frame = first.frame ?? {
      unit: 'RANGE' as const,
      start: { kind: 'unboundedPreceding' as const },
      end: { kind: 'currentRow' as const },
    };
    if (frame.end.kind !== 'currentRow') {
      throw new TableError('OVER RANGE FOLLOWING windows are not supported yet.');
    }
    let preceding: number | undefined;
    if (frame.start.kind === 'preceding') {
      const offset = frame.start.offset;
      if (frame.unit === 'RANGE') {
        if (offset.kind !== 'interval')
          throw new ValidationError(
            'A RANGE window needs an INTERVAL ... PRECEDING bound',
            offset.pos,
          );
        preceding = intervalMillis(offset);
      } else {
        if (offset.kind !== 'literal' || offset.type !== 'number' || !/^\d+$/.test(offset.value)) {
          throw new ValidationError(
            'A ROWS window needs a whole number of rows PRECEDING',
            offset.pos,
          );
        }
        preceding = Number(offset.value);
      }
    } else if (frame.start.kind !== 'unboundedPreceding' && frame.start.kind !== 'currentRow') {
      throw new TableError('OVER windows must end at CURRENT ROW and start before it.');
    } else if (frame.start.kind === 'currentRow') preceding = 0;
    const aggCalls: AggregateCall[] = calls.map((c) => {
      if (c.name === 'ROW_NUMBER' || c.name === 'RANK' || c.name === 'DENSE_RANK') {
        throw new TableError(
          `${c.name}() is supported in a window Top-N only: ... WHERE rownum <= N over a window TVF`,
        );
      }
      return {
        name: c.name,
        distinct: c.distinct,
        args: c.args,
        ...(c.filter ? { filter: c.filter } : {}),
        pos: c.pos,
      };
    });
    const aggregates = compileAggregates(aggCalls, scope, { retractable: preceding !== undefined });
    const partFns = first.partitionBy.map((e) => compileExpr(e, scope).fn);
    const keySelector = groupKeySelector(partFns);
    const names = calls.map((_, i) => `$o${i}`);
    const description = `OverAggregate(${first.partitionBy.length ? `partitionBy=[${first.partitionBy.map(exprText).join(', ')}], ` : ''}orderBy=[${orderColumn.name} ASC], window=[${frame.unit} ${frame.start.kind === 'unboundedPreceding' ? 'UNBOUNDED' : String(preceding) + (frame.unit === 'RANGE' ? ' ms' : '')} PRECEDING AND CURRENT ROW], select=[${calls.map(exprText).join(', ')}])`;
    const plan = node('over-aggregate', description, [rel.plan]);
    const keys = rel.columns.map((c) => c.key);
    const build = new Function(
      'r',
      'v',
      `return {${[...keys.map((k) => `${JSON.stringify(k)}: r[${JSON.stringify(k)}]`), ...names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`)].join(', ')}};`,
    ) as (r: Row, v: readonly unknown[]) => Row;
    const timeKey = orderColumn.key;
    const options = {
      aggregates,
      frame: { units: frame.unit, preceding: preceding ?? ('UNBOUNDED' as const) },
      output: build,
    };
    const fn = proctime
      ? procTimeOverAggregateFunction<Key>(options)
      : rowTimeOverAggregateFunction<Key>({
          ...options,
          rowtime: (row: Row) => row[timeKey] as number,
        });
    const stream = (rel.stream as DataStream<Row>)
      .keyBy(keySelector as (r: Row) => Key)
      .process<Row>(fn as never)
      .name(description)
      .uid(plan.uid!);
    const replacements = new Map<string, Expr>();
    calls.forEach((c, i) => replacements.set(exprKey(c), ident(names[i]!, c.pos)));
    const columns: ScopeColumn[] = [
      ...rel.columns,
      ...aggregates.resultTypes.map((type, i) => ({ name: names[i]!, key: names[i]!, type })),
    ];
    return { rel: { ...rel, stream, columns, plan }, replacements };
  }

  // ---------------------------------------------------------------------------------------------
  // Window Top-N

  private detectWindowTopN(select: Select): TopNPattern | undefined {
    if (select.from?.kind !== 'subquery') return undefined;
    const inner = select.from.query;
    if (inner.kind !== 'select') return undefined;
    const rankIndex = inner.items.findIndex(
      (i) =>
        i.expr.kind === 'call' &&
        i.expr.over !== undefined &&
        ['ROW_NUMBER', 'RANK', 'DENSE_RANK'].includes(i.expr.name),
    );
    if (rankIndex < 0) return undefined;
    const rankItem = inner.items[rankIndex]!;
    const call = rankItem.expr as CallExpr;
    const rankName = itemName(rankItem, rankIndex);
    const where = conjuncts(select.where);
    let limit: number | undefined;
    const rest: Expr[] = [];
    for (const c of where) {
      const n = rankBound(c, rankName);
      if (n !== undefined && limit === undefined) limit = n;
      else rest.push(c);
    }
    if (limit === undefined) {
      throw new TableError(
        `${call.name}() OVER needs a filter on its result (WHERE ${rankName} <= N) to be a Top-N`,
      );
    }
    if (call.name !== 'ROW_NUMBER') {
      throw new TableError(
        `Window Top-N supports ROW_NUMBER() only; ${call.name}() is not supported yet`,
      );
    }
    return { inner, rankIndex, rankName, call, limit, rest };
  }

  private planWindowTopN(select: Select, p: TopNPattern, ctes: ReadonlyMap<string, Query>): Rel {
    const innerItems = p.inner.items.filter((_, i) => i !== p.rankIndex);
    const innerSelect: Select = { ...p.inner, items: innerItems };
    const input = this.planSelect(innerSelect, ctes);
    if (input.mode !== 'insert-only')
      throw new TableError('A Top-N over an updating table is not supported yet');
    const scope = new Scope(input.columns);
    const over = p.call.over!;
    const partNames = over.partitionBy.map((e) =>
      e.kind === 'ident' ? e.parts[e.parts.length - 1] : undefined,
    );
    if (!partNames.includes('window_start') || !partNames.includes('window_end')) {
      throw new TableError(
        'Top-N over a stream is supported after a window only: PARTITION BY must have window_start and window_end',
      );
    }
    const endKey = scope.resolve(['window_end'], over.pos).key;
    const partFns = over.partitionBy.map((e) => compileExpr(e, scope).fn);
    const keySelector = groupKeySelector(partFns);
    const comparator = orderComparator(over.orderBy, scope);
    const rankSelected =
      select.items.some(
        (i) =>
          i.expr.kind === 'star' ||
          findExprs(
            i.expr,
            (x): x is Identifier =>
              x.kind === 'ident' && x.parts[x.parts.length - 1] === p.rankName,
          ).length > 0,
      ) ||
      p.rest.some(
        (e) =>
          findExprs(
            e,
            (x): x is Identifier =>
              x.kind === 'ident' && x.parts[x.parts.length - 1] === p.rankName,
          ).length > 0,
      );
    const description = `WindowRank(window=[${endKey}], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=${p.limit}], partitionBy=[${over.partitionBy.map(exprText).join(', ')}], orderBy=[${over.orderBy.map((o) => `${exprText(o.expr)} ${o.direction}`).join(', ')}], select=[${input.columns.map((c) => c.name).join(', ')}${rankSelected ? `, ${p.rankName}` : ''}])`;
    const plan = node('window-rank', description, [input.plan]);
    const fn = new WindowTopNFunction<Key>({
      windowEnd: (row: Row) => row[endKey] as number,
      compare: comparator,
      rankEnd: p.limit,
      ...(rankSelected ? { rankColumn: p.rankName } : {}),
    });
    const stream = (input.stream as DataStream<Row>)
      .keyBy(keySelector as (r: Row) => Key)
      .process<Row>(fn as never)
      .name(description)
      .uid(plan.uid!);
    const columns: ScopeColumn[] = [
      ...input.columns,
      ...(rankSelected
        ? [
            {
              name: p.rankName,
              key: p.rankName,
              type: { name: 'BIGINT', nullable: false } as SqlType,
            },
          ]
        : []),
    ];
    let rel: Rel = { ...input, stream, columns, plan };
    if (p.rest.length > 0) rel = this.filter(rel, and(p.rest)!);
    return this.project(rel, select.items, select.windows);
  }

  // ---------------------------------------------------------------------------------------------
  // Joins

  private planJoin(
    ref: Extract<TableRef, { kind: 'join' }>,
    ctes: ReadonlyMap<string, Query>,
    where: WhereConjunct[],
  ): Rel {
    const left = this.materializeWindow(this.planFrom(ref.left, ctes, where));
    const right = this.materializeWindow(this.planFrom(ref.right, ctes, where));
    if (ref.type !== 'INNER' && ref.type !== 'CROSS') {
      throw new TableError(
        `${ref.type} OUTER interval joins are not supported yet; use an inner interval join`,
      );
    }
    if (left.mode !== 'insert-only' || right.mode !== 'insert-only') {
      throw new TableError('Joins of updating tables are not supported yet');
    }
    // Output columns: left's then right's; keys renamed where both sides use one.
    const leftKeys = new Set(left.columns.map((c) => c.key));
    const rightRename = new Map<string, string>();
    const taken = new Set(leftKeys);
    for (const c of right.columns) {
      let key = c.key;
      for (let i = 0; taken.has(key); i++) key = `${c.key}${i}`;
      taken.add(key);
      rightRename.set(c.key, key);
    }
    const columns: ScopeColumn[] = [
      ...left.columns,
      ...right.columns.map((c) => ({ ...c, key: rightRename.get(c.key)! })),
    ];
    const scope = new Scope(columns);
    const leftSet = new Set(left.columns.map((c) => c.key));
    const side = (e: Expr): 'left' | 'right' | 'both' | 'none' => {
      const ids = findExprs(e, (x): x is Identifier => x.kind === 'ident');
      let l = false;
      let r = false;
      for (const id of ids) {
        const c = scope.resolve(id.parts, id.pos);
        if (leftSet.has(c.key) && left.columns.includes(c)) l = true;
        else r = true;
      }
      return l && r ? 'both' : l ? 'left' : r ? 'right' : 'none';
    };
    // Candidates: ON conjuncts, and WHERE conjuncts over both sides (comma joins).
    const candidates: WhereConjunct[] = [
      ...conjuncts(ref.on).map((expr) => ({ expr, consumed: false })),
      ...where.filter((w) => !w.consumed && safeSide(side, w.expr) === 'both'),
    ];
    const equi: { left: Expr; right: Expr }[] = [];
    let lower = -Infinity;
    let upper = Infinity;
    let lowerInclusive = true;
    let upperInclusive = true;
    const residual: Expr[] = [];
    const leftTime = left.rowtimeKey;
    const rightTime = right.rowtimeKey;
    for (const c of candidates) {
      const e = c.expr;
      if (e.kind === 'binary' && e.op === '=') {
        const ls = side(e.left);
        const rs = side(e.right);
        if (ls === 'left' && rs === 'right') {
          equi.push({ left: e.left, right: e.right });
          c.consumed = true;
          continue;
        }
        if (ls === 'right' && rs === 'left') {
          equi.push({ left: e.right, right: e.left });
          c.consumed = true;
          continue;
        }
      }
      const bounds = timeBounds(
        e,
        scope,
        left.columns,
        leftTime,
        rightTime === undefined ? undefined : rightRename.get(rightTime),
      );
      if (bounds !== undefined) {
        for (const b of bounds) {
          if (b.lower !== undefined && (b.lower > lower || (b.lower === lower && !b.inclusive))) {
            lower = b.lower;
            lowerInclusive = b.inclusive;
          }
          if (b.upper !== undefined && (b.upper < upper || (b.upper === upper && !b.inclusive))) {
            upper = b.upper;
            upperInclusive = b.inclusive;
          }
        }
        c.consumed = true;
        continue;
      }
      if (conjuncts(ref.on).includes(e)) residual.push(e);
    }
    if (lower === -Infinity || upper === Infinity) {
      throw new TableError(
        'Regular joins (without time bounds on both rowtime attributes) are not supported yet. ' +
          'Use an interval join: ON a.k = b.k AND b.rowtime BETWEEN a.rowtime - INTERVAL ... AND a.rowtime + INTERVAL ...',
      );
    }
    if (equi.length === 0)
      throw new TableError(
        'An interval join needs at least one equality condition between the two tables',
      );
    const leftScope = new Scope(left.columns);
    const rightScope = new Scope(right.columns);
    const leftKey = groupKeySelector(equi.map((q) => compileExpr(q.left, leftScope).fn));
    const rightKey = groupKeySelector(
      equi.map(
        (q) =>
          compileExpr(unqualifyForRight(q.right, scope, right.columns, rightRename), rightScope).fn,
      ),
    );
    const pairs = [
      ...left.columns.map((c) => `${JSON.stringify(c.key)}: l[${JSON.stringify(c.key)}]`),
      ...right.columns.map(
        (c) => `${JSON.stringify(rightRename.get(c.key)!)}: r[${JSON.stringify(c.key)}]`,
      ),
    ];
    const merge = new Function('l', 'r', `return {${pairs.join(', ')}};`) as (
      l: Row,
      r: Row,
    ) => Row;
    const lowerMs = lowerInclusive ? lower : lower + 1;
    const upperMs = upperInclusive ? upper : upper - 1;
    const description = `IntervalJoin(joinType=[InnerJoin], windowBounds=[isRowTime=true, leftLowerBound=${-upper}, leftUpperBound=${-lower}, leftTimeIndex=${leftTime}, rightTimeIndex=${rightTime}], where=[${equi.map((q) => `${exprText(q.left)} = ${exprText(q.right)}`).join(' AND ')}])`;
    const plan = node('interval-join', description, [left.plan, right.plan]);
    const stream = (left.stream as DataStream<Row>)
      .keyBy(leftKey as (r: Row) => Key)
      .intervalJoin((right.stream as DataStream<Row>).keyBy(rightKey as (r: Row) => Key))
      .between(Duration.ofMillis(lowerMs), Duration.ofMillis(upperMs))
      .process((l: Row, r: Row, _ctx: unknown, out: { collect(x: Row): void }) =>
        out.collect(merge(l, r)),
      )
      .name(description)
      .uid(plan.uid!) as DataStream<Row>;
    let rel: Rel = {
      stream,
      columns: columns.map((c) =>
        c.key === leftTime ? c : { ...c, type: withoutTimeAttribute(c.type) },
      ),
      mode: 'insert-only',
      rowtimeKey: undefined,
      bounded: left.bounded && right.bounded,
      plan,
    };
    if (residual.length > 0) rel = this.filter(rel, and(residual)!);
    return rel;
  }
}

interface WhereConjunct {
  readonly expr: Expr;
  consumed: boolean;
}

interface TopNPattern {
  readonly inner: Select;
  readonly rankIndex: number;
  readonly rankName: string;
  readonly call: CallExpr;
  readonly limit: number;
  readonly rest: Expr[];
}

function safeSide(side: (e: Expr) => string, e: Expr): string {
  try {
    return side(e);
  } catch {
    return 'none';
  }
}

/** `rownum <= 3`, `rownum < 4`, `rownum = 1`: the largest rank kept. */
function rankBound(e: Expr, rankName: string): number | undefined {
  if (e.kind !== 'binary') return undefined;
  const isRank = (x: Expr) => x.kind === 'ident' && x.parts[x.parts.length - 1] === rankName;
  const num = (x: Expr) =>
    x.kind === 'literal' && x.type === 'number' && /^\d+$/.test(x.value)
      ? Number(x.value)
      : undefined;
  if (isRank(e.left)) {
    const n = num(e.right);
    if (n === undefined) return undefined;
    if (e.op === '<=') return n;
    if (e.op === '<') return n - 1;
    if (e.op === '=' && n === 1) return 1;
  }
  if (isRank(e.right)) {
    const n = num(e.left);
    if (n === undefined) return undefined;
    if (e.op === '>=') return n;
    if (e.op === '>') return n - 1;
  }
  return undefined;
}

/** Rewrites a right-side expression so it resolves against the right table's own columns. */
function unqualifyForRight(
  e: Expr,
  joined: Scope,
  rightColumns: readonly ScopeColumn[],
  rename: ReadonlyMap<string, string>,
): Expr {
  const back = new Map([...rename].map(([from, to]) => [to, from]));
  const replacements = new Map<string, Expr>();
  for (const id of findExprs(e, (x): x is Identifier => x.kind === 'ident')) {
    const c = joined.resolve(id.parts, id.pos);
    const original = rightColumns.find((r) => r.key === back.get(c.key));
    if (original)
      replacements.set(exprKey(id), {
        kind: 'ident',
        parts: original.qualifier ? [original.qualifier, original.name] : [original.name],
        pos: id.pos,
      });
  }
  return replaceExprs(e, replacements);
}

/**
 * Bounds on `right.rowtime - left.rowtime` from a comparison of the two rowtimes (each plus or
 * minus an interval): `l.t BETWEEN r.t - INTERVAL '4' HOUR AND r.t` gives `0 <= r - l <= 4 h`.
 */
function timeBounds(
  e: Expr,
  scope: Scope,
  leftColumns: readonly ScopeColumn[],
  leftTime: string | undefined,
  rightTime: string | undefined,
): { lower?: number; upper?: number; inclusive: boolean }[] | undefined {
  if (leftTime === undefined || rightTime === undefined) return undefined;
  // term: which side's time and the constant added.
  const term = (x: Expr): { side: 'l' | 'r'; add: number } | undefined => {
    if (x.kind === 'ident') {
      let c: ScopeColumn;
      try {
        c = scope.resolve(x.parts, x.pos);
      } catch {
        return undefined;
      }
      if (c.key === leftTime && leftColumns.includes(c)) return { side: 'l', add: 0 };
      if (c.key === rightTime && !leftColumns.includes(c)) return { side: 'r', add: 0 };
      return undefined;
    }
    if (x.kind === 'binary' && (x.op === '+' || x.op === '-') && x.right.kind === 'interval') {
      const t = term(x.left);
      if (t === undefined) return undefined;
      const ms = intervalMillis(x.right);
      return { side: t.side, add: t.add + (x.op === '+' ? ms : -ms) };
    }
    return undefined;
  };
  const compare = (a: Expr, op: string, b: Expr) => {
    const ta = term(a);
    const tb = term(b);
    if (ta === undefined || tb === undefined || ta.side === tb.side) return undefined;
    // Normalise to  l + p  OP  r + q  ->  d = r - l  OP' p - q.
    const [l, r, flipped] = ta.side === 'l' ? [ta, tb, false] : [tb, ta, true];
    const c = l.add - r.add;
    let o = op;
    if (flipped) o = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' }[op] ?? op;
    // l + la o r + ra  <=>  r - l  o'  la - ra, with o' mirrored.
    switch (o) {
      case '<':
        return { lower: c, inclusive: false };
      case '<=':
        return { lower: c, inclusive: true };
      case '>':
        return { upper: c, inclusive: false };
      case '>=':
        return { upper: c, inclusive: true };
      default:
        return undefined;
    }
  };
  if (e.kind === 'between' && !e.not) {
    const a = compare(e.expr, '>=', e.low);
    const b = compare(e.expr, '<=', e.high);
    return a && b ? [a, b] : undefined;
  }
  if (e.kind === 'binary' && ['<', '<=', '>', '>='].includes(e.op)) {
    const a = compare(e.left, e.op, e.right);
    return a ? [a] : undefined;
  }
  return undefined;
}

function isTimeAttributeColumn(c: ScopeColumn): boolean {
  return (
    (c.type.name === 'TIMESTAMP' || c.type.name === 'TIMESTAMP_LTZ') &&
    c.type.timeAttribute !== undefined
  );
}

/** Calls that are structurally equal count once. */
function dedupeCalls(calls: readonly CallExpr[]): CallExpr[] {
  const seen = new Map<string, CallExpr>();
  for (const c of calls) if (!seen.has(exprKey(c))) seen.set(exprKey(c), c);
  return [...seen.values()];
}

/** Keys hold no null (a key must be a value); SQL groups nulls together, so null gets a stand-in. */
const NULL_KEY = '\u0000NULL';

/** The key of a row: the one value, or the tuple of values, of its grouping expressions. */
function groupKeySelector(
  fns: readonly ((row: Row, ctx: EvalContext) => unknown)[],
): (row: Row) => Key {
  if (fns.length === 0) return () => 0;
  if (fns.length === 1) {
    const f = fns[0]!;
    return (row) => {
      const v = f(row, NO_WATERMARK);
      return v === null || v === undefined ? NULL_KEY : (v as Key);
    };
  }
  return (row) =>
    fns.map((f) => {
      const v = f(row, NO_WATERMARK);
      return v === null || v === undefined ? NULL_KEY : (v as Key);
    });
}

/** A function building a row object with these keys from an array of values. */
function rowBuilder(keys: readonly string[]): (values: readonly unknown[]) => Row {
  return new Function(
    'v',
    `return {${keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ')}};`,
  ) as (values: readonly unknown[]) => Row;
}

/** The comparator of an ORDER BY list (nulls first for ASC, last for DESC, as Flink). */
function orderComparator(items: readonly OrderItem[], scope: Scope): (a: Row, b: Row) => number {
  const fns = items.map((o) => ({
    f: compileExpr(o.expr, scope).fn,
    sign: o.direction === 'DESC' ? -1 : 1,
    nullsFirst: o.nulls ? o.nulls === 'FIRST' : o.direction === 'ASC',
  }));
  return (a, b) => {
    for (const { f, sign, nullsFirst } of fns) {
      const x = f(a, NO_WATERMARK) as number | string | null;
      const y = f(b, NO_WATERMARK) as number | string | null;
      if (x === y) continue;
      if (x === null) return nullsFirst ? -1 : 1;
      if (y === null) return nullsFirst ? 1 : -1;
      return x < y ? -sign : sign;
    }
    return 0;
  };
}

/** A map of elements that also reads their timestamps. */
class TimestampedMap extends ProcessFunction<unknown, Row> {
  constructor(private readonly fn: (element: unknown, timestamp: number | undefined) => Row) {
    super();
  }
  processElement(element: unknown, ctx: ProcessContext, out: Collector<Row>): void {
    out.collect(this.fn(element, ctx.timestamp()));
  }
}

/** A process function over rows whose expressions read the watermark (CURRENT_WATERMARK). */
class RowProcess extends ProcessFunction<Row, Row> {
  constructor(private readonly fn: (row: Row, ctx: EvalContext, out: Collector<Row>) => void) {
    super();
  }
  processElement(row: Row, ctx: ProcessContext, out: Collector<Row>): void {
    this.fn(row, watermarkContext(ctx.timerService()), out);
  }
}

/** The evaluation context of an expression in a process function (CURRENT_WATERMARK). */
function watermarkContext(timers: {
  currentWatermark(): number;
  currentProcessingTime(): number;
}): EvalContext {
  return {
    currentWatermark: () => {
      const w = timers.currentWatermark();
      return w === -Infinity || w <= Number.MIN_SAFE_INTEGER ? undefined : w;
    },
    currentProcessingTime: () => timers.currentProcessingTime(),
  };
}

/**
 * Window assignment by the row's time column (as Flink's window operators read the rowtime field),
 * not by the record's timestamp, which after a join or union may be another one.
 */
function rowtimeAssigner(
  inner: WindowAssigner<Row, Window>,
  timeKey: string,
): WindowAssigner<Row, Window> {
  const wrapped = Object.create(inner) as WindowAssigner<Row, Window>;
  wrapped.assignWindows = (element: Row, _timestamp: number, ctx) =>
    inner.assignWindows(element, element[timeKey] as number, ctx);
  return wrapped;
}

/** The row keys of the columns the expressions read. */
function referencedKeys(exprs: readonly Expr[], scope: Scope): Set<string> {
  const keys = new Set<string>();
  for (const id of findExprs(exprs, (x): x is Identifier => x.kind === 'ident')) {
    keys.add(scope.resolve(id.parts, id.pos).key);
  }
  return keys;
}

/**
 * The rows as arrays of the columns an operator after an exchange reads (Flink's projection push
 * down, and a compact wire form: V8 writes an object's property names with every object, an
 * array's values only), with the scope to compile that operator's expressions against. The
 * column with key `timeKey` is also found under the name `$time`.
 */
function exchangeRows(
  rel: Rel,
  needed: ReadonlySet<string>,
  timeKey?: string,
): { stream: DataStream<Row>; scope: Scope } {
  const kept = rel.columns.filter((c) => needed.has(c.key));
  const description = `Calc(select=[${kept.map((c) => c.name).join(', ')}])`;
  const uid = operatorUid('calc', description, [rel.plan]);
  let stream: DataStream<Row>;
  const source = rel.source?.output === rel.stream ? rel.source : undefined;
  if (source !== undefined) {
    // Straight from the DataStream's elements: one operator and one array per row.
    const body = kept.map((c) => source.code.get(c.key)!).join(', ');
    const toArray = new Function('o', 't', `return [${body}];`) as (o: unknown, t?: number) => Row;
    stream = (
      source.usesTimestamp
        ? source.input.process<Row>(new TimestampedMap(toArray))
        : source.input.map((o: unknown) => toArray(o))
    )
      .name(description)
      .uid(uid);
  } else {
    const body = kept.map((c) => `r[${JSON.stringify(c.key)}]`).join(', ');
    const toArray = new Function('r', `return [${body}];`) as (row: Row) => Row;
    stream = (rel.stream as DataStream<Row>).map(toArray).name(description).uid(uid);
  }
  const columns: ScopeColumn[] = kept.map((c, i) => ({ ...c, key: String(i) }));
  const time = rel.columns.find((c) => c.key === timeKey);
  const timeIndex = time === undefined ? -1 : kept.indexOf(time);
  if (timeIndex >= 0) columns.push({ name: '$time', key: String(timeIndex), type: time!.type });
  return { stream, scope: new Scope(columns) };
}

/**
 * The result row of a fired window as an array: the group key values, window_start, window_end,
 * window_time, the aggregate values. Generated for the counts, so no intermediate array is made.
 */
function windowResultBuilder(
  keyCount: number,
  aggCount: number,
): (key: Key, start: number, end: number, values: unknown[]) => Row {
  const keys =
    keyCount === 0
      ? []
      : keyCount === 1
        ? ['(k === N ? null : k)']
        : Array.from({ length: keyCount }, (_, i) => `(k[${i}] === N ? null : k[${i}])`);
  const aggs = Array.from({ length: aggCount }, (_, i) => `v[${i}]`);
  const make = new Function(
    'N',
    `return (k, s, e, v) => [${[...keys, 's', 'e', 'e - 1', ...aggs].join(', ')}];`,
  ) as (n: string) => (key: Key, start: number, end: number, values: unknown[]) => Row;
  return make(NULL_KEY);
}

/** The values of the grouping expressions from the key {@link groupKeySelector} made. */
function keyDecoder(count: number): (key: Key) => unknown[] {
  const value = (k: Key): unknown => (k === NULL_KEY ? null : k);
  if (count === 0) return () => [];
  if (count === 1) return (key) => [value(key)];
  return (key) => (key as readonly Key[]).map(value);
}

/** A relation with its columns qualified by `alias` (and renamed by `AS t (a, b)`). */
function requalify(
  rel: Rel,
  alias: string | undefined,
  names: readonly string[] | undefined,
  pos: Pos,
): Rel {
  if (names !== undefined && names.length !== rel.columns.length) {
    throw new ValidationError(
      `List of column aliases must have same degree as table; table has ${rel.columns.length} columns, whereas alias list has ${names.length} columns`,
      pos,
    );
  }
  return {
    ...rel,
    columns: rel.columns.map((c, i) => ({
      ...c,
      name: names?.[i] ?? c.name,
      ...(alias !== undefined ? { qualifier: alias } : {}),
    })),
  };
}

import { ValidationError } from '../errors.js';
import type { Expr, Query, Select, SelectItem } from '../parser/ast.js';
import { parseExpression, parseSelectList } from '../parser/parser.js';
import { formatPlan } from '../planner/rel.js';
import type { GroupWindow } from './group-windows.js';
import type { RowField } from '../types.js';
import { formatType } from '../types.js';
import type { StreamTableEnvironment } from './table-environment.js';
import type { TableResult } from './table-result.js';

const POS = { line: 1, column: 1, offset: 0 };

/**
 * A table of the Table API (Flink's `Table`): a query, planned when it is converted to a
 * DataStream, inserted or executed. Expressions are SQL text:
 *
 * ```ts
 * tEnv.from('purchases').where('amount > 10').groupBy('user_id').select('user_id, SUM(amount) AS total');
 * ```
 */
export class Table {
  /** @internal */
  constructor(
    private readonly tEnv: StreamTableEnvironment,
    /** @internal */ readonly query: Query,
  ) {}

  /** A projection: `select('a, b * 2 AS c')`. */
  select(fields: string): Table {
    return this.derive({ items: parseSelectList(fields) });
  }

  /** Rows matching a condition: `where("category = 'books'")`. */
  where(condition: string): Table {
    return this.derive({ items: [star()], where: parseExpression(condition) });
  }

  /** Same as {@link where}. */
  filter(condition: string): Table {
    return this.where(condition);
  }

  /** Groups rows for an aggregating {@link GroupedTable.select}. */
  groupBy(fields: string): GroupedTable {
    return new GroupedTable(
      this,
      parseSelectList(fields).map((i) => i.expr),
    );
  }

  /** Groups rows into windows: `window(Tumble.over("INTERVAL '5' MINUTE").on('ts').as('w'))`. */
  window(window: GroupWindow): WindowedTable {
    return new WindowedTable(this.tEnv, this, window);
  }

  /** The same rows with renamed columns: `as('a, b, c')`. */
  as(fields: string): Table {
    const names = fields.split(',').map((s) => s.trim());
    return new Table(this.tEnv, {
      kind: 'select',
      distinct: false,
      items: [star()],
      from: { kind: 'subquery', query: this.query, alias: 't', columnAliases: names, pos: POS },
      groupBy: [],
      windows: [],
      orderBy: [],
      pos: POS,
    });
  }

  /** UNION ALL of this table and another. */
  unionAll(other: Table): Table {
    return new Table(this.tEnv, {
      kind: 'setOperation',
      op: 'UNION',
      all: true,
      left: this.query,
      right: other.query,
      orderBy: [],
      pos: POS,
    });
  }

  /** The columns and their types (validates the query). */
  getResolvedSchema(): RowField[] {
    const rel = this.tEnv.plan((p) => p.planQuery(this.query), true);
    return rel.columns.map((c) => ({ name: c.name, type: c.type }));
  }

  /** The schema as Flink's `printSchema` shows it. */
  printSchema(): void {
    const lines = this.getResolvedSchema().map((c) => `  \`${c.name}\` ${formatType(c.type)}`);
    process.stdout.write(`(\n${lines.join(',\n')}\n)\n`);
  }

  /** The plan with its operators and uids. */
  explain(): string {
    const rel = this.tEnv.plan((p) => p.planQuery(this.query), true);
    return `== Optimized Execution Plan ==\n${formatPlan(rel.plan)}`;
  }

  /** Inserts the rows into a table and runs the job. */
  async executeInsert(path: string): Promise<TableResult> {
    return this.tEnv.createStatementSet().addInsert(path, this).execute();
  }

  /** Runs a bounded table and returns its rows (Flink's `execute().collect()`). */
  async execute(): Promise<Record<string, unknown>[]> {
    return this.tEnv.collect(this);
  }

  /** @internal */
  derive(parts: { items: readonly SelectItem[]; where?: Expr; groupBy?: readonly Expr[] }): Table {
    const select: Select = {
      kind: 'select',
      distinct: false,
      items: parts.items,
      from: { kind: 'subquery', query: this.query, pos: POS },
      ...(parts.where ? { where: parts.where } : {}),
      groupBy: parts.groupBy ?? [],
      windows: [],
      orderBy: [],
      pos: POS,
    };
    return new Table(this.tEnv, select);
  }
}

/** A table grouped by some columns (Flink's `GroupedTable`). */
export class GroupedTable {
  /** @internal */
  constructor(
    private readonly table: Table,
    private readonly keys: readonly Expr[],
  ) {
    if (keys.length === 0) throw new ValidationError('groupBy needs at least one expression');
  }

  /** The aggregates per group: `select('user_id, SUM(amount) AS total')`. */
  select(fields: string): Table {
    return this.table.derive({ items: parseSelectList(fields), groupBy: this.keys });
  }
}

/** A table with a group window, to group by the window alias and more keys. */
export class WindowedTable {
  /** @internal */
  constructor(
    private readonly tEnv: StreamTableEnvironment,
    private readonly table: Table,
    private readonly window: GroupWindow,
  ) {}

  /** The grouping: the window alias and other keys, `groupBy('w, user_id')`. */
  groupBy(fields: string): WindowGroupedTable {
    const keys = parseSelectList(fields).map((i) => i.expr);
    const alias = this.window.alias;
    if (!keys.some((k) => k.kind === 'ident' && k.parts.length === 1 && k.parts[0] === alias)) {
      throw new ValidationError(
        `groupBy of a windowed table must include the window alias '${alias}'`,
      );
    }
    return new WindowGroupedTable(this.tEnv, this.table, this.window, keys);
  }
}

/** A windowed, grouped table: `select('user_id, w.start, SUM(amount) AS total')`. */
export class WindowGroupedTable {
  /** @internal */
  constructor(
    private readonly tEnv: StreamTableEnvironment,
    private readonly table: Table,
    private readonly window: GroupWindow,
    private readonly keys: readonly Expr[],
  ) {}

  select(fields: string): Table {
    const w = this.window;
    const view = this.tEnv.registerHiddenView(this.table);
    // `w.start`, `w.end`, `w.rowtime` (Flink's window properties) are the TVF's columns; `end`
    // is a keyword, so they are renamed in the text, outside string literals, before parsing.
    const properties: Record<string, string> = {
      start: 'window_start',
      end: 'window_end',
      rowtime: 'window_time',
    };
    const alias = w.alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const property = new RegExp(`\\b${alias}\\.(start|end|rowtime)\\b`, 'gi');
    const text = fields
      .split(/('(?:[^']|'')*')/)
      .map((part, i) =>
        i % 2 === 1 ? part : part.replace(property, (_, p: string) => properties[p.toLowerCase()]!),
      )
      .join('');
    const items = parseSelectList(text);
    const groupBy: Expr[] = [
      ...this.keys.filter(
        (k) => !(k.kind === 'ident' && k.parts.length === 1 && k.parts[0] === w.alias),
      ),
      { kind: 'ident', parts: ['window_start'], pos: POS },
      { kind: 'ident', parts: ['window_end'], pos: POS },
    ];
    const select: Select = {
      kind: 'select',
      distinct: false,
      items,
      from: {
        kind: 'tvf',
        call: {
          kind: 'call',
          name: w.kind,
          args: [
            { kind: 'tableArg', name: [view], partitionBy: [], pos: POS },
            { kind: 'descriptor', columns: [w.timeField], pos: POS },
            ...w.intervals,
          ],
          distinct: false,
          pos: POS,
        },
        pos: POS,
      },
      groupBy,
      windows: [],
      orderBy: [],
      pos: POS,
    };
    return new Table(this.tEnv, select);
  }
}

function star(): SelectItem {
  return { expr: { kind: 'star', pos: POS }, pos: POS };
}

/**
 * The syntax tree of Flink's SQL dialect as the parser produces it. Identifiers keep their case
 * (Flink's default: case-sensitive, unquoted identifiers are not upper-cased); keywords and
 * function names are upper-cased. Every node carries the position of its first token.
 */
import type { SqlType } from '../types.js';

/** 1-based line and column of a node's first token, and its character offset. */
export interface Pos {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

// ---------------------------------------------------------------------------------------------
// Expressions

export type IntervalUnit = 'YEAR' | 'MONTH' | 'DAY' | 'HOUR' | 'MINUTE' | 'SECOND' | 'MILLISECOND';

export type Expr =
  | Literal
  | Identifier
  | Star
  | BinaryExpr
  | UnaryExpr
  | CallExpr
  | CaseExpr
  | CastExpr
  | IsExpr
  | BetweenExpr
  | LikeExpr
  | InExpr
  | IntervalExpr
  | DescriptorExpr
  | TableArgExpr
  | SubqueryExpr;

export type Literal =
  | { readonly kind: 'literal'; readonly type: 'string'; readonly value: string; readonly pos: Pos }
  /** Numbers keep their text: `1` is INT, `10000000000` BIGINT, `1.5` DECIMAL, `1.5E0` DOUBLE. */
  | { readonly kind: 'literal'; readonly type: 'number'; readonly value: string; readonly pos: Pos }
  | {
      readonly kind: 'literal';
      readonly type: 'boolean';
      readonly value: boolean;
      readonly pos: Pos;
    }
  | { readonly kind: 'literal'; readonly type: 'null'; readonly value: null; readonly pos: Pos }
  /** TIMESTAMP '2024-01-01 00:00:00', DATE '2024-01-01', TIME '12:00:00': the quoted text. */
  | {
      readonly kind: 'literal';
      readonly type: 'timestamp' | 'date' | 'time';
      readonly value: string;
      readonly pos: Pos;
    };

/** `a`, `t.a`, `` `my col` `` (parts unquoted), `r.nested.field`. */
export interface Identifier {
  readonly kind: 'ident';
  readonly parts: readonly string[];
  readonly pos: Pos;
}

/** `*` or `t.*` in a select list, `COUNT(*)`. */
export interface Star {
  readonly kind: 'star';
  readonly qualifier?: readonly string[];
  readonly pos: Pos;
}

export type BinaryOp =
  '+' | '-' | '*' | '/' | '%' | '||' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly pos: Pos;
}

export interface UnaryExpr {
  readonly kind: 'unary';
  readonly op: '-' | '+' | 'NOT';
  readonly operand: Expr;
  readonly pos: Pos;
}

/**
 * A function call: `UPPER(s)`, `COUNT(DISTINCT x)`, `COUNT(*)` (args `[Star]`), `ROW_NUMBER()
 * OVER (...)`, `SUM(x) OVER w`, `TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTE)`.
 * Special syntax lands here too: `SUBSTRING(s FROM 2 FOR 3)` is `SUBSTRING(s, 2, 3)`,
 * `EXTRACT(HOUR FROM ts)` is `EXTRACT('HOUR', ts)` (the unit as a string literal),
 * `TRIM(BOTH 'x' FROM s)` is `TRIM('BOTH', 'x', s)`, `POSITION(a IN b)` is `POSITION(a, b)`,
 * `CURRENT_TIMESTAMP` / `LOCALTIMESTAMP` / `CURRENT_DATE` / `CURRENT_TIME` are calls without args.
 * Named arguments (`TUMBLE(DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), SIZE => ...)`) set `argNames`.
 */
export interface CallExpr {
  readonly kind: 'call';
  /** Upper-cased. */
  readonly name: string;
  readonly args: readonly Expr[];
  /** Parallel to args when the call uses `name => value`; else absent. Upper-cased. */
  readonly argNames?: readonly string[];
  readonly distinct: boolean;
  /** `FILTER (WHERE ...)` of an aggregate call. */
  readonly filter?: Expr;
  readonly over?: OverSpec;
  readonly pos: Pos;
}

export interface OverSpec {
  /** `OVER w` names a window of the WINDOW clause (it may also refine it). */
  readonly windowName?: string;
  readonly partitionBy: readonly Expr[];
  readonly orderBy: readonly OrderItem[];
  readonly frame?: WindowFrame;
  readonly pos: Pos;
}

export interface WindowFrame {
  readonly unit: 'ROWS' | 'RANGE';
  readonly start: FrameBound;
  /** Absent when written `ROWS n PRECEDING` (end is CURRENT ROW). */
  readonly end: FrameBound;
}

export type FrameBound =
  | { readonly kind: 'unboundedPreceding' }
  | { readonly kind: 'preceding'; readonly offset: Expr }
  | { readonly kind: 'currentRow' }
  | { readonly kind: 'following'; readonly offset: Expr }
  | { readonly kind: 'unboundedFollowing' };

export interface CaseExpr {
  readonly kind: 'case';
  /** `CASE x WHEN 1 THEN ...` (simple form); absent for `CASE WHEN cond THEN ...`. */
  readonly operand?: Expr;
  readonly whens: readonly { readonly when: Expr; readonly then: Expr }[];
  readonly else?: Expr;
  readonly pos: Pos;
}

export interface CastExpr {
  readonly kind: 'cast';
  readonly expr: Expr;
  readonly type: SqlType;
  /** TRY_CAST: null instead of an error. */
  readonly try: boolean;
  readonly pos: Pos;
}

/** `x IS [NOT] NULL`, `x IS [NOT] TRUE|FALSE|UNKNOWN`. */
export interface IsExpr {
  readonly kind: 'is';
  readonly expr: Expr;
  readonly what: 'NULL' | 'TRUE' | 'FALSE' | 'UNKNOWN';
  readonly not: boolean;
  readonly pos: Pos;
}

export interface BetweenExpr {
  readonly kind: 'between';
  readonly expr: Expr;
  readonly low: Expr;
  readonly high: Expr;
  readonly not: boolean;
  readonly symmetric: boolean;
  readonly pos: Pos;
}

export interface LikeExpr {
  readonly kind: 'like';
  readonly op: 'LIKE' | 'SIMILAR TO';
  readonly expr: Expr;
  readonly pattern: Expr;
  readonly escape?: Expr;
  readonly not: boolean;
  readonly pos: Pos;
}

export interface InExpr {
  readonly kind: 'in';
  readonly expr: Expr;
  readonly list: readonly Expr[] | Query;
  readonly not: boolean;
  readonly pos: Pos;
}

/**
 * `INTERVAL '5' MINUTE`, `INTERVAL '1:30' HOUR TO MINUTE`, `INTERVAL '2' DAY`. `value` is the
 * quoted text, `sign` -1 for `INTERVAL -'5' SECOND`.
 */
export interface IntervalExpr {
  readonly kind: 'interval';
  readonly value: string;
  readonly sign: 1 | -1;
  readonly unit: IntervalUnit;
  readonly toUnit?: IntervalUnit;
  readonly pos: Pos;
}

/** `DESCRIPTOR(ts)` (the time column argument of window TVFs). */
export interface DescriptorExpr {
  readonly kind: 'descriptor';
  readonly columns: readonly string[];
  readonly pos: Pos;
}

/** `TABLE t` or `TABLE t PARTITION BY k` (a table argument of a TVF). */
export interface TableArgExpr {
  readonly kind: 'tableArg';
  readonly name: readonly string[];
  readonly partitionBy: readonly Expr[];
  readonly pos: Pos;
}

/** `(SELECT ...)` as a scalar or `EXISTS` operand. */
export interface SubqueryExpr {
  readonly kind: 'subquery';
  readonly query: Query;
  readonly exists: boolean;
  readonly pos: Pos;
}

// ---------------------------------------------------------------------------------------------
// Queries

export type Query = Select | SetOperation | Values | With;

export interface OrderItem {
  readonly expr: Expr;
  readonly direction: 'ASC' | 'DESC';
  readonly nulls?: 'FIRST' | 'LAST';
}

export interface SelectItem {
  /** `Star` for `*` / `t.*`. */
  readonly expr: Expr;
  readonly alias?: string;
  readonly pos: Pos;
}

export interface NamedWindow {
  readonly name: string;
  readonly spec: OverSpec;
}

export interface Select {
  readonly kind: 'select';
  readonly distinct: boolean;
  readonly items: readonly SelectItem[];
  readonly from?: TableRef;
  readonly where?: Expr;
  readonly groupBy: readonly Expr[];
  readonly having?: Expr;
  readonly windows: readonly NamedWindow[];
  readonly orderBy: readonly OrderItem[];
  readonly limit?: Expr;
  readonly pos: Pos;
}

export interface SetOperation {
  readonly kind: 'setOperation';
  readonly op: 'UNION' | 'INTERSECT' | 'EXCEPT';
  readonly all: boolean;
  readonly left: Query;
  readonly right: Query;
  readonly orderBy: readonly OrderItem[];
  readonly limit?: Expr;
  readonly pos: Pos;
}

export interface Values {
  readonly kind: 'values';
  readonly rows: readonly (readonly Expr[])[];
  readonly pos: Pos;
}

export interface With {
  readonly kind: 'with';
  readonly ctes: readonly {
    readonly name: string;
    readonly columns?: readonly string[];
    readonly query: Query;
  }[];
  readonly body: Query;
  readonly pos: Pos;
}

export type TableRef =
  | {
      readonly kind: 'table';
      readonly name: readonly string[];
      /** `FOR SYSTEM_TIME AS OF expr` (temporal join against a versioned table). */
      readonly forSystemTimeAsOf?: Expr;
      readonly alias?: string;
      readonly columnAliases?: readonly string[];
      readonly pos: Pos;
    }
  | {
      readonly kind: 'subquery';
      readonly query: Query;
      readonly alias?: string;
      readonly columnAliases?: readonly string[];
      readonly pos: Pos;
    }
  /** `TABLE(TUMBLE(...))`: a table-valued function call. */
  | {
      readonly kind: 'tvf';
      readonly call: CallExpr;
      readonly alias?: string;
      readonly columnAliases?: readonly string[];
      readonly pos: Pos;
    }
  | {
      readonly kind: 'join';
      readonly type: 'INNER' | 'LEFT' | 'RIGHT' | 'FULL' | 'CROSS';
      readonly left: TableRef;
      readonly right: TableRef;
      readonly on?: Expr;
      readonly using?: readonly string[];
      readonly pos: Pos;
    };

// ---------------------------------------------------------------------------------------------
// Statements

export type ColumnDef =
  | {
      readonly kind: 'physical';
      readonly name: string;
      readonly type: SqlType;
      readonly comment?: string;
      readonly pos: Pos;
    }
  /** `name AS expr`. */
  | {
      readonly kind: 'computed';
      readonly name: string;
      readonly expr: Expr;
      readonly comment?: string;
      readonly pos: Pos;
    }
  /** `name type METADATA [FROM 'key'] [VIRTUAL]`. */
  | {
      readonly kind: 'metadata';
      readonly name: string;
      readonly type: SqlType;
      readonly from?: string;
      readonly virtual: boolean;
      readonly comment?: string;
      readonly pos: Pos;
    };

export interface CreateTable {
  readonly kind: 'createTable';
  readonly name: readonly string[];
  readonly temporary: boolean;
  readonly ifNotExists: boolean;
  readonly columns: readonly ColumnDef[];
  readonly watermark?: { readonly column: string; readonly expr: Expr; readonly pos: Pos };
  /** `PRIMARY KEY (a, b) NOT ENFORCED`, as a table constraint or on one column. */
  readonly primaryKey?: {
    readonly columns: readonly string[];
    readonly enforced: boolean;
    readonly pos: Pos;
  };
  readonly partitionedBy: readonly string[];
  readonly comment?: string;
  /** `WITH ('k' = 'v', ...)` in order. */
  readonly options: readonly { readonly key: string; readonly value: string; readonly pos: Pos }[];
  /** `LIKE other` (options and columns merged by Flink's default strategy). */
  readonly like?: readonly string[];
  readonly pos: Pos;
}

export interface CreateView {
  readonly kind: 'createView';
  readonly name: readonly string[];
  readonly temporary: boolean;
  readonly ifNotExists: boolean;
  readonly columns?: readonly string[];
  readonly query: Query;
  /** The query's text as written (SHOW CREATE VIEW, uids). */
  readonly queryText: string;
  readonly pos: Pos;
}

export interface Drop {
  readonly kind: 'drop';
  readonly object: 'TABLE' | 'VIEW';
  readonly temporary: boolean;
  readonly ifExists: boolean;
  readonly name: readonly string[];
  readonly pos: Pos;
}

export interface Show {
  readonly kind: 'show';
  readonly what: 'TABLES' | 'VIEWS' | 'FUNCTIONS' | 'CATALOGS' | 'DATABASES' | 'JOBS';
  readonly pos: Pos;
}

export interface ShowCreate {
  readonly kind: 'showCreate';
  readonly object: 'TABLE' | 'VIEW';
  readonly name: readonly string[];
  readonly pos: Pos;
}

export interface Describe {
  readonly kind: 'describe';
  readonly name: readonly string[];
  readonly pos: Pos;
}

export interface Explain {
  readonly kind: 'explain';
  readonly statement: Insert | QueryStatement | StatementSet;
  readonly pos: Pos;
}

/** `SET` (list), `SET 'k' = 'v'`. */
export interface SetStatement {
  readonly kind: 'set';
  readonly key?: string;
  readonly value?: string;
  readonly pos: Pos;
}

/** `RESET` (all), `RESET 'k'`. */
export interface ResetStatement {
  readonly kind: 'reset';
  readonly key?: string;
  readonly pos: Pos;
}

export interface Insert {
  readonly kind: 'insert';
  readonly table: readonly string[];
  readonly overwrite: boolean;
  readonly columns?: readonly string[];
  readonly query: Query;
  readonly pos: Pos;
}

/**
 * `EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END` and the SQL client's
 * `BEGIN STATEMENT SET; INSERT ...; END;` (a script parses both to this node).
 */
export interface StatementSet {
  readonly kind: 'statementSet';
  readonly inserts: readonly Insert[];
  readonly pos: Pos;
}

/** A query run on its own (`SELECT ...`, `EXECUTE SELECT ...`). */
export interface QueryStatement {
  readonly kind: 'query';
  readonly query: Query;
  readonly pos: Pos;
}

export type Statement =
  | CreateTable
  | CreateView
  | Drop
  | Show
  | ShowCreate
  | Describe
  | Explain
  | SetStatement
  | ResetStatement
  | Insert
  | StatementSet
  | QueryStatement;

/** One statement of a script with its source text (without the trailing `;`). */
export interface ScriptStatement {
  readonly statement: Statement;
  readonly text: string;
  readonly pos: Pos;
}

/**
 * Expressions compiled to JavaScript functions once per job (never interpreted per row).
 *
 * Each expression becomes statements over local variables inside one generated function (see
 * `codegen.ts`), with SQL's three-valued logic: NULL in gives NULL out for operators and strict
 * functions, AND/OR follow Kleene logic, and a filter treats NULL as false. Types are checked and
 * inferred at compile time with Flink's (Calcite's) rules; type errors are `ValidationError`s with
 * Calcite's wording and the position of the offending node.
 *
 * Session time zone: UTC (see `functions.ts`).
 */
import { ValidationError } from '../errors.js';
import type {
  BinaryExpr,
  CallExpr,
  CaseExpr,
  CastExpr,
  Expr,
  Identifier,
  InExpr,
  IntervalExpr,
  LikeExpr,
  Pos,
} from '../parser/ast.js';
import type { Row } from '../row.js';
import {
  MAX_LENGTH,
  isCharacterString,
  isExactInteger,
  isNumeric,
  isTimestamp,
  withoutTimeAttribute,
} from '../types.js';
import type { RowField, SqlType } from '../types.js';
import { CAST_FAILED, canCast, castConverter, castError, roundHalfUp } from './cast.js';
import { CodeGen, literalCode, nullCheck } from './codegen.js';
import type { Value } from './codegen.js';
import { formOf, inFamily, isNonDeterministic, lookupFunction } from './functions.js';
import { Scope } from './scope.js';
import type { ScopeColumn } from './scope.js';
import {
  MS_PER_DAY,
  addMonths,
  fractionDigits,
  parseDate,
  parseTime,
  parseTimestamp,
} from './time-functions.js';
import {
  calciteFamily,
  calciteTypeName,
  comparable,
  leastRestrictive,
  numericResultType,
} from './type-rules.js';

/** What an expression may read besides its row. */
export interface EvalContext {
  /** The operator's current watermark (CURRENT_WATERMARK), undefined before the first one. */
  currentWatermark(): number | undefined;
  /** Processing time in epoch ms (CURRENT_TIMESTAMP, NOW(), PROCTIME()). */
  currentProcessingTime(): number;
}

export interface CompiledExpr<T = unknown> {
  readonly type: SqlType;
  readonly fn: (row: Row, ctx: EvalContext) => T;
  /** Whether it calls CURRENT_WATERMARK (the planner then runs it where a watermark is known). */
  readonly usesWatermark: boolean;
}

export interface CompiledProjection {
  readonly fields: readonly RowField[];
  /** Builds the output row; one object literal of the fields in order. */
  readonly fn: (row: Row, ctx: EvalContext) => Row;
  readonly usesWatermark: boolean;
}

/** Options of the compile functions. */
export interface CompileOptions {
  /**
   * Lets the planner replace a sub-expression by a column of the input row: an aggregate call
   * (`SUM(x)` after a GROUP BY), an OVER call, a window's `window_start`. Called for every node
   * before it is compiled; return undefined to compile the node normally.
   */
  readonly substitute?: (e: Expr) => ScopeColumn | undefined;
}

/** The aggregate functions (Flink's built-in ones that this engine implements). */
const AGGREGATE_FUNCTIONS: ReadonlySet<string> = new Set([
  'SUM',
  'SUM0',
  'COUNT',
  'AVG',
  'MIN',
  'MAX',
  'FIRST_VALUE',
  'LAST_VALUE',
  'LISTAGG',
]);

/** Whether `e` is an aggregate call (SUM, COUNT, ... without OVER). */
export function isAggregateCall(e: Expr): boolean {
  return e.kind === 'call' && !e.over && AGGREGATE_FUNCTIONS.has(e.name);
}

/** Every sub-expression of `e` (not descending into subqueries). */
function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'binary':
      return [e.left, e.right];
    case 'unary':
      return [e.operand];
    case 'call': {
      const out = [...e.args];
      if (e.filter) out.push(e.filter);
      return out;
    }
    case 'case':
      return [
        ...(e.operand ? [e.operand] : []),
        ...e.whens.flatMap((w) => [w.when, w.then]),
        ...(e.else ? [e.else] : []),
      ];
    case 'cast':
      return [e.expr];
    case 'is':
      return [e.expr];
    case 'between':
      return [e.expr, e.low, e.high];
    case 'like':
      return [e.expr, e.pattern, ...(e.escape ? [e.escape] : [])];
    case 'in':
      return [e.expr, ...(Array.isArray(e.list) ? (e.list as readonly Expr[]) : [])];
    default:
      return [];
  }
}

/** The aggregate calls in `e`, outermost first (their arguments are not searched). */
export function collectAggregateCalls(e: Expr): CallExpr[] {
  const out: CallExpr[] = [];
  const visit = (x: Expr): void => {
    if (isAggregateCall(x)) {
      out.push(x as CallExpr);
      return;
    }
    if (x.kind === 'call' && x.over) return;
    for (const c of children(x)) visit(c);
  };
  visit(e);
  return out;
}

/** Whether `e` contains a call with OVER (an OVER aggregate or ranking function). */
export function containsOver(e: Expr): boolean {
  if (e.kind === 'call' && e.over) return true;
  return children(e).some(containsOver);
}

/** Whether `e` has the same value for every row and call (literals and deterministic functions of them). */
export function isConstant(e: Expr): boolean {
  switch (e.kind) {
    case 'literal':
    case 'interval':
      return true;
    case 'ident':
    case 'star':
    case 'descriptor':
    case 'tableArg':
    case 'subquery':
      return false;
    case 'call':
      if (
        e.over ||
        AGGREGATE_FUNCTIONS.has(e.name) ||
        isNonDeterministic(e.name) ||
        e.name === 'PROCTIME'
      )
        return false;
      return e.args.every(isConstant);
    case 'in':
      return (
        Array.isArray(e.list) && isConstant(e.expr) && (e.list as readonly Expr[]).every(isConstant)
      );
    default:
      return children(e).every(isConstant);
  }
}

const NO_CONTEXT: EvalContext = {
  currentWatermark: () => undefined,
  currentProcessingTime: () => Date.now(),
};

/**
 * The value of a constant expression (`isConstant`), computed at plan time: an interval's ms, a
 * literal, `1 + 2`. Throws ValidationError for expressions that read columns.
 */
export function literalValue(e: Expr, scope?: Scope): unknown {
  if (e.kind === 'literal' && e.type !== 'timestamp' && e.type !== 'date' && e.type !== 'time') {
    return e.type === 'number' ? Number(e.value) : e.value;
  }
  return compileExpr(e, scope ?? new Scope([])).fn({}, NO_CONTEXT);
}

// ---------------------------------------------------------------------------------------------
// Intervals

const INTERVAL_UNITS = ['YEAR', 'MONTH', 'DAY', 'HOUR', 'MINUTE', 'SECOND', 'MILLISECOND'] as const;
const UNIT_MS: Record<string, number> = {
  DAY: MS_PER_DAY,
  HOUR: 3_600_000,
  MINUTE: 60_000,
  SECOND: 1000,
  MILLISECOND: 1,
};

function isYearMonth(e: IntervalExpr): boolean {
  return e.unit === 'YEAR' || e.unit === 'MONTH';
}

function intervalParts(e: IntervalExpr): { units: string[]; values: number[]; negative: boolean } {
  const from = INTERVAL_UNITS.indexOf(e.unit);
  const to = e.toUnit ? INTERVAL_UNITS.indexOf(e.toUnit) : from;
  const units = INTERVAL_UNITS.slice(from, to + 1) as string[];
  let text = e.value.trim();
  let negative = e.sign < 0;
  if (text.startsWith('-') || text.startsWith('+')) {
    if (text.startsWith('-')) negative = !negative;
    text = text.slice(1).trim();
  }
  const pieces = units.length === 1 ? [text] : text.split(/[\s:-]+/);
  const last = units[units.length - 1];
  const ok =
    pieces.length === units.length &&
    pieces.every((p, i) =>
      (i === pieces.length - 1 && last === 'SECOND' ? /^\d+(\.\d+)?$/ : /^\d+$/).test(p),
    );
  if (!ok) {
    const qualifier = e.toUnit ? `${e.unit} TO ${e.toUnit}` : e.unit;
    throw new ValidationError(
      `Illegal interval literal format '${e.value}' for INTERVAL ${qualifier}`,
      e.pos,
    );
  }
  return { units, values: pieces.map(Number), negative };
}

/**
 * The milliseconds of a day-time interval literal (`INTERVAL '5' MINUTE` is 300000). Throws
 * ValidationError for a year-month interval (see {@link intervalMonths}).
 */
export function intervalMillis(e: IntervalExpr): number {
  if (isYearMonth(e)) {
    throw new ValidationError(
      `INTERVAL '${e.value}' ${e.unit}${e.toUnit ? ` TO ${e.toUnit}` : ''} is a year-month interval; a day-time interval (DAY to SECOND) is needed here`,
      e.pos,
    );
  }
  const { units, values, negative } = intervalParts(e);
  let ms = 0;
  units.forEach((u, i) => (ms += values[i]! * UNIT_MS[u]!));
  ms = Math.round(ms);
  return negative ? -ms : ms;
}

/** The months of a year-month interval literal (`INTERVAL '1-6' YEAR TO MONTH` is 18). */
export function intervalMonths(e: IntervalExpr): number {
  if (!isYearMonth(e)) {
    throw new ValidationError(
      `INTERVAL '${e.value}' ${e.unit} is a day-time interval; a year-month interval is needed here`,
      e.pos,
    );
  }
  const { units, values, negative } = intervalParts(e);
  let months = 0;
  units.forEach((u, i) => (months += u === 'YEAR' ? values[i]! * 12 : values[i]!));
  return negative ? -months : months;
}

// ---------------------------------------------------------------------------------------------
// SQL text of expressions (for messages)

/** SQL text of an expression, as in messages (`a + 1`, `UPPER(s)`). */
export function exprToSql(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      if (e.type === 'string') return `'${e.value.replace(/'/g, "''")}'`;
      if (e.type === 'null') return 'NULL';
      if (e.type === 'boolean') return e.value ? 'TRUE' : 'FALSE';
      if (e.type === 'number') return e.value;
      return `${e.type.toUpperCase()} '${e.value}'`;
    case 'ident':
      return e.parts.join('.');
    case 'star':
      return e.qualifier ? `${e.qualifier.join('.')}.*` : '*';
    case 'binary':
      return `${exprToSql(e.left)} ${e.op} ${exprToSql(e.right)}`;
    case 'unary':
      return e.op === 'NOT' ? `NOT ${exprToSql(e.operand)}` : `${e.op}${exprToSql(e.operand)}`;
    case 'call':
      return `${e.name}(${e.distinct ? 'DISTINCT ' : ''}${e.args.map(exprToSql).join(', ')})`;
    case 'case':
      return `CASE${e.operand ? ' ' + exprToSql(e.operand) : ''}${e.whens
        .map((w) => ` WHEN ${exprToSql(w.when)} THEN ${exprToSql(w.then)}`)
        .join('')}${e.else ? ' ELSE ' + exprToSql(e.else) : ''} END`;
    case 'cast':
      return `${e.try ? 'TRY_CAST' : 'CAST'}(${exprToSql(e.expr)} AS ${calciteTypeName(e.type)})`;
    case 'is':
      return `${exprToSql(e.expr)} IS ${e.not ? 'NOT ' : ''}${e.what}`;
    case 'between':
      return `${exprToSql(e.expr)} ${e.not ? 'NOT ' : ''}BETWEEN ${e.symmetric ? 'SYMMETRIC ' : ''}${exprToSql(e.low)} AND ${exprToSql(e.high)}`;
    case 'like':
      return `${exprToSql(e.expr)} ${e.not ? 'NOT ' : ''}${e.op} ${exprToSql(e.pattern)}${e.escape ? ' ESCAPE ' + exprToSql(e.escape) : ''}`;
    case 'in':
      return `${exprToSql(e.expr)} ${e.not ? 'NOT ' : ''}IN (${Array.isArray(e.list) ? (e.list as readonly Expr[]).map(exprToSql).join(', ') : '...'})`;
    case 'interval':
      return `INTERVAL ${e.sign < 0 ? '-' : ''}'${e.value}' ${e.unit}${e.toUnit ? ' TO ' + e.toUnit : ''}`;
    case 'descriptor':
      return `DESCRIPTOR(${e.columns.join(', ')})`;
    case 'tableArg':
      return `TABLE ${e.name.join('.')}`;
    case 'subquery':
      return e.exists ? 'EXISTS (...)' : '(...)';
  }
}

// ---------------------------------------------------------------------------------------------
// The compiler

const BOOLEAN_NN: SqlType = { name: 'BOOLEAN', nullable: false };
const TIME_UNITS: ReadonlySet<string> = new Set([
  'YEAR',
  'QUARTER',
  'MONTH',
  'WEEK',
  'DAY',
  'HOUR',
  'MINUTE',
  'SECOND',
  'MILLISECOND',
  'DOW',
  'DOY',
  'EPOCH',
  'DAYOFWEEK',
  'DAYOFYEAR',
  'DAYOFMONTH',
]);
/** YEAR(ts), HOUR(ts), ...: shorthands of EXTRACT. */
const EXTRACT_SHORTHANDS: ReadonlySet<string> = new Set([
  'YEAR',
  'QUARTER',
  'MONTH',
  'WEEK',
  'DAYOFYEAR',
  'DAYOFMONTH',
  'DAYOFWEEK',
  'HOUR',
  'MINUTE',
  'SECOND',
]);

function withNullable(t: SqlType, nullable: boolean): SqlType {
  return t.nullable === nullable ? t : ({ ...t, nullable } as SqlType);
}

function typeList(values: readonly Value[]): string {
  return values.map((v) => `<${calciteTypeName(v.type)}>`).join(', ');
}

class Compiler {
  /** Sub-expressions compiled already (CASE operands, BETWEEN bounds) behind synthetic nodes. */
  private readonly precompiled = new WeakMap<object, Value>();

  constructor(
    readonly g: CodeGen,
    readonly scope: Scope,
    readonly options: CompileOptions,
  ) {}

  /** A synthetic node standing for an already compiled value (to reuse the operator rules). */
  private wrap(v: Value, pos: Pos): Expr {
    const node: Identifier = { kind: 'ident', parts: ['$precompiled'], pos };
    this.precompiled.set(node, v);
    return node;
  }

  compile(e: Expr): Value {
    const pre = this.precompiled.get(e);
    if (pre) return pre;
    const sub = this.options.substitute?.(e);
    if (sub) return this.column(sub);
    switch (e.kind) {
      case 'literal':
        return this.literal(e);
      case 'ident':
        return this.identifier(e);
      case 'star':
        throw new ValidationError(`'*' is only allowed in a select list or COUNT(*)`, e.pos);
      case 'binary':
        return this.binary(e);
      case 'unary':
        return this.unary(e.op, this.compile(e.operand), e);
      case 'call':
        return this.call(e);
      case 'case':
        return this.caseExpr(e);
      case 'cast':
        return this.cast(e);
      case 'is':
        return this.is(e.what, e.not, this.compile(e.expr), e.pos);
      case 'between': {
        const x = this.wrap(this.compile(e.expr), e.pos);
        const range = (lo: Expr, hi: Expr): Expr => ({
          kind: 'binary',
          op: 'AND',
          left: { kind: 'binary', op: '>=', left: x, right: lo, pos: e.pos },
          right: { kind: 'binary', op: '<=', left: x, right: hi, pos: e.pos },
          pos: e.pos,
        });
        let test: Expr = range(e.low, e.high);
        if (e.symmetric) {
          const lo = this.wrap(this.compile(e.low), e.low.pos);
          const hi = this.wrap(this.compile(e.high), e.high.pos);
          test = {
            kind: 'binary',
            op: 'OR',
            left: range(lo, hi),
            right: range(hi, lo),
            pos: e.pos,
          };
        }
        return e.not
          ? this.compile({ kind: 'unary', op: 'NOT', operand: test, pos: e.pos })
          : this.compile(test);
      }
      case 'like':
        return this.like(e);
      case 'in':
        return this.inList(e);
      case 'interval': {
        const months = isYearMonth(e);
        const value = months ? intervalMonths(e) : intervalMillis(e);
        return {
          code: String(value),
          type: { name: months ? 'INTERVAL_YEAR_MONTH' : 'INTERVAL_DAY_TIME', nullable: false },
          constant: { value },
        };
      }
      case 'descriptor':
        throw new ValidationError(
          'DESCRIPTOR is only allowed as an argument of a window table function',
          e.pos,
        );
      case 'tableArg':
        throw new ValidationError(
          'A TABLE argument is only allowed in a table function call',
          e.pos,
        );
      case 'subquery':
        throw new ValidationError('Subqueries are not supported in this expression', e.pos);
    }
  }

  private constant(value: unknown, type: SqlType): Value {
    const code = literalCode(value) ?? this.g.ref(value);
    return { code, type, constant: { value } };
  }

  private literal(e: Extract<Expr, { kind: 'literal' }>): Value {
    switch (e.type) {
      case 'string':
        return this.constant(e.value, {
          name: 'CHAR',
          length: Math.max(e.value.length, 1),
          nullable: false,
        });
      case 'boolean':
        return this.constant(e.value, BOOLEAN_NN);
      case 'null':
        return { code: 'null', type: { name: 'NULL', nullable: true }, constant: { value: null } };
      case 'number':
        return this.number(e.value, e.pos);
      case 'timestamp': {
        const ms = parseTimestamp(e.value);
        if (ms === null) {
          throw new ValidationError(
            `Illegal TIMESTAMP literal '${e.value}': not in format 'yyyy-MM-dd HH:mm:ss'`,
            e.pos,
          );
        }
        return this.constant(ms, {
          name: 'TIMESTAMP',
          precision: fractionDigits(e.value),
          nullable: false,
        });
      }
      case 'date': {
        const d = parseDate(e.value);
        if (d === null)
          throw new ValidationError(
            `Illegal DATE literal '${e.value}': not in format 'yyyy-MM-dd'`,
            e.pos,
          );
        return this.constant(d, { name: 'DATE', nullable: false });
      }
      case 'time': {
        const t = parseTime(e.value);
        if (t === null)
          throw new ValidationError(
            `Illegal TIME literal '${e.value}': not in format 'HH:mm:ss'`,
            e.pos,
          );
        return this.constant(t, {
          name: 'TIME',
          precision: fractionDigits(e.value),
          nullable: false,
        });
      }
    }
  }

  private number(text: string, pos: Pos): Value {
    const value = Number(text);
    if (Number.isNaN(value)) throw new ValidationError(`Invalid numeric literal ${text}`, pos);
    if (/[eE]/.test(text)) return this.constant(value, { name: 'DOUBLE', nullable: false });
    const dot = text.indexOf('.');
    if (dot >= 0) {
      const intDigits = text.slice(0, dot).replace(/^[+-]?0*/, '').length;
      const scale = text.length - dot - 1;
      const precision = Math.max(intDigits + scale, 1);
      return this.constant(value, { name: 'DECIMAL', precision, scale, nullable: false });
    }
    if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) {
      return this.constant(value, { name: 'INT', nullable: false });
    }
    const digits = text.replace(/^[+-]?0*/, '').length;
    if (
      digits <= 18 ||
      (digits === 19 &&
        BigInt(text) <= 9223372036854775807n &&
        BigInt(text) >= -9223372036854775808n)
    ) {
      return this.constant(value, { name: 'BIGINT', nullable: false });
    }
    return this.constant(value, {
      name: 'DECIMAL',
      precision: Math.min(digits, 38),
      scale: 0,
      nullable: false,
    });
  }

  private column(c: ScopeColumn): Value {
    const read = /^(0|[1-9][0-9]*)$/.test(c.key) ? `r[${c.key}]` : `r[${JSON.stringify(c.key)}]`;
    return { code: this.g.assign(c.type.nullable ? `${read} ?? null` : read), type: c.type };
  }

  private identifier(e: Identifier): Value {
    try {
      return this.column(this.scope.resolve(e.parts, e.pos));
    } catch (err) {
      // `r.nested.field`: a prefix names a column of ROW type, the rest are its fields.
      for (let k = e.parts.length - 1; k >= 1; k--) {
        let base: ScopeColumn;
        try {
          base = this.scope.resolve(e.parts.slice(0, k), e.pos);
        } catch {
          continue;
        }
        let v = this.column(base);
        for (const field of e.parts.slice(k)) v = this.field(v, field, e.pos);
        return v;
      }
      throw err;
    }
  }

  private field(base: Value, name: string, pos: Pos): Value {
    if (base.type.name !== 'ROW') {
      throw new ValidationError(
        `Cannot access field '${name}' of a value of type ${calciteTypeName(base.type)}`,
        pos,
      );
    }
    const f = base.type.fields.find((x) => x.name === name);
    if (!f)
      throw new ValidationError(`Unknown field '${name}' in ${calciteTypeName(base.type)}`, pos);
    const read = `${base.code}[${JSON.stringify(name)}] ?? null`;
    const code = base.type.nullable ? `${base.code} === null ? null : ${read}` : read;
    return {
      code: this.g.assign(code),
      type: withNullable(f.type, f.type.nullable || base.type.nullable),
    };
  }

  /** `code` guarded so that a NULL operand gives NULL. */
  private strict(values: readonly Value[], code: string): string {
    const chk = nullCheck(values);
    return chk ? `(${chk}) ? null : ${code}` : code;
  }

  private applyError(op: string, l: Value, r: Value, forms: string, pos: Pos): ValidationError {
    return new ValidationError(
      `Cannot apply '${op}' to arguments of type '<${calciteTypeName(l.type)}> ${op} <${calciteTypeName(r.type)}>'. Supported form(s): ${forms}`,
      pos,
    );
  }

  private binary(e: BinaryExpr): Value {
    if (e.op === 'AND' || e.op === 'OR') return this.logical(e);
    const l = this.compile(e.left);
    const r = this.compile(e.right);
    switch (e.op) {
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        return this.arithmetic(e.op, l, r, e);
      case '||': {
        if (!inFamily('STRING', l.type) || !inFamily('STRING', r.type)) {
          throw this.applyError('||', l, r, "'<STRING> || <STRING>'", e.pos);
        }
        const nullable = l.type.nullable || r.type.nullable;
        const ll = (l.type as { length?: number }).length ?? 0;
        const rl = (r.type as { length?: number }).length ?? 0;
        const type: SqlType =
          l.type.name === 'CHAR' && r.type.name === 'CHAR'
            ? { name: 'CHAR', length: ll + rl, nullable }
            : { name: 'VARCHAR', length: Math.min(ll + rl, MAX_LENGTH), nullable };
        return { code: this.g.assign(this.strict([l, r], `${l.code} + ${r.code}`)), type };
      }
      default:
        return this.comparison(e.op, l, r, e.pos);
    }
  }

  comparison(op: '=' | '<>' | '<' | '<=' | '>' | '>=', l: Value, r: Value, pos: Pos): Value {
    if (!comparable(l.type, r.type)) {
      throw this.applyError(op, l, r, `'<COMPARABLE_TYPE> ${op} <COMPARABLE_TYPE>'`, pos);
    }
    const nullable = l.type.nullable || r.type.nullable;
    const structured = ['ARRAY', 'ROW', 'MAP', 'MULTISET'].includes(l.type.name);
    let code: string;
    if (structured && (op === '=' || op === '<>')) {
      code = `${op === '<>' ? '!' : ''}${this.g.ref(deepEquals)}(${l.code}, ${r.code})`;
    } else {
      const jsOp = op === '=' ? '===' : op === '<>' ? '!==' : op;
      code = `${l.code} ${jsOp} ${r.code}`;
    }
    return { code: this.g.assign(this.strict([l, r], code)), type: { name: 'BOOLEAN', nullable } };
  }

  private arithmetic(op: '+' | '-' | '*' | '/' | '%', l: Value, r: Value, e: Expr): Value {
    const lt = l.type.name === 'NULL' ? withNullable(r.type, true) : l.type;
    const rt = r.type.name === 'NULL' ? withNullable(l.type, true) : r.type;
    const nullable = lt.nullable || rt.nullable;
    if (isNumeric(lt) && isNumeric(rt)) {
      const type = numericResultType(op, lt, rt);
      return {
        code: this.g.assign(this.strict([l, r], this.numericCode(op, l.code, r.code, type, e))),
        type,
      };
    }
    const li = lt.name === 'INTERVAL_DAY_TIME' || lt.name === 'INTERVAL_YEAR_MONTH';
    const ri = rt.name === 'INTERVAL_DAY_TIME' || rt.name === 'INTERVAL_YEAR_MONTH';
    const datetime = (t: SqlType): boolean =>
      isTimestamp(t) || t.name === 'DATE' || t.name === 'TIME';
    // Datetime +/- interval keeps the datetime type; a time attribute stops being one.
    if ((op === '+' || op === '-') && datetime(lt) && ri) {
      return this.datetimePlus(l, r, op === '-', withNullable(withoutTimeAttribute(lt), nullable));
    }
    if (op === '+' && li && datetime(rt)) {
      return this.datetimePlus(r, l, false, withNullable(withoutTimeAttribute(rt), nullable));
    }
    if ((op === '+' || op === '-') && li && ri && lt.name === rt.name) {
      return {
        code: this.g.assign(this.strict([l, r], `${l.code} ${op} ${r.code}`)),
        type: withNullable(lt, nullable),
      };
    }
    if ((op === '*' || op === '/') && li && isNumeric(rt)) {
      return {
        code: this.g.assign(this.strict([l, r], `Math.trunc(${l.code} ${op} ${r.code})`)),
        type: withNullable(lt, nullable),
      };
    }
    if (op === '*' && isNumeric(lt) && ri) {
      return {
        code: this.g.assign(this.strict([l, r], `Math.trunc(${l.code} * ${r.code})`)),
        type: withNullable(rt, nullable),
      };
    }
    const forms =
      op === '+' || op === '-'
        ? `'<NUMERIC> ${op} <NUMERIC>'\n'<DATETIME_INTERVAL> ${op} <DATETIME_INTERVAL>'\n'<DATETIME> ${op} <DATETIME_INTERVAL>'` +
          (op === '+' ? `\n'<DATETIME_INTERVAL> + <DATETIME>'` : '')
        : op === '%'
          ? `'<EXACT_NUMERIC> % <EXACT_NUMERIC>'`
          : `'<NUMERIC> ${op} <NUMERIC>'\n'<INTERVAL> ${op} <NUMERIC>'` +
            (op === '*' ? `\n'<NUMERIC> * <INTERVAL>'` : '');
    throw this.applyError(op, l, r, forms, e.pos);
  }

  private numericCode(
    op: '+' | '-' | '*' | '/' | '%',
    a: string,
    b: string,
    type: SqlType,
    e: Expr,
  ): string {
    if (type.name === 'INT') {
      // Java int arithmetic: wraps around on overflow, integer division truncates toward zero.
      if (op === '*') return `Math.imul(${a}, ${b})`;
      if (op === '/' || op === '%')
        return `${this.g.ref(divisionHelper(op, true, exprToSql(e)))}(${a}, ${b})`;
      return `(${a} ${op} ${b}) | 0`;
    }
    if (isExactInteger(type)) {
      if (op === '/' || op === '%')
        return `${this.g.ref(divisionHelper(op, false, exprToSql(e)))}(${a}, ${b})`;
      return `${a} ${op} ${b}`;
    }
    if (type.name === 'DECIMAL') {
      const round = this.g.ref(roundHalfUp);
      if (op === '/' || op === '%') {
        return `${round}(${this.g.ref(decimalDivisionHelper(op, exprToSql(e)))}(${a}, ${b}), ${type.scale})`;
      }
      return `${round}(${a} ${op} ${b}, ${type.scale})`;
    }
    return `${a} ${op} ${b}`;
  }

  private datetimePlus(dt: Value, interval: Value, minus: boolean, type: SqlType): Value {
    const sign = minus ? '-' : '+';
    let code: string;
    if (interval.type.name === 'INTERVAL_YEAR_MONTH') {
      const add = this.g.ref(addMonths);
      code =
        dt.type.name === 'DATE'
          ? `Math.floor(${add}(${dt.code} * ${MS_PER_DAY}, ${sign}${interval.code}) / ${MS_PER_DAY})`
          : `${add}(${dt.code}, ${sign}${interval.code})`;
    } else if (dt.type.name === 'DATE') {
      code = `${dt.code} ${sign} Math.trunc(${interval.code} / ${MS_PER_DAY})`;
    } else if (dt.type.name === 'TIME') {
      code = `(((${dt.code} ${sign} ${interval.code}) % ${MS_PER_DAY}) + ${MS_PER_DAY}) % ${MS_PER_DAY}`;
    } else {
      code = `${dt.code} ${sign} ${interval.code}`;
    }
    return { code: this.g.assign(this.strict([dt, interval], code)), type };
  }

  private logical(e: BinaryExpr): Value {
    const l = this.compile(e.left);
    const check = (v: Value): void => {
      if (!inFamily('BOOLEAN', v.type)) {
        throw new ValidationError(
          `Cannot apply '${e.op}' to arguments of type '<${calciteTypeName(l.type)}> ${e.op} <${calciteTypeName(v.type)}>'. Supported form(s): '<BOOLEAN> ${e.op} <BOOLEAN>'`,
          e.pos,
        );
      }
    };
    check(l);
    const out = this.g.fresh();
    this.g.emit(`${out} = ${l.code};`);
    const inner = this.g.block(() => {
      const r = this.compile(e.right);
      check(r);
      return r;
    });
    const r = inner.result;
    check(r);
    const and = e.op === 'AND';
    // Kleene logic: FALSE decides AND, TRUE decides OR; otherwise NULL wins over the other value.
    const decided = and ? 'false' : 'true';
    this.g.emit(
      `if (${out} !== ${decided}) {\n${inner.code}\n${out} = ${r.code} === ${decided} ? ${decided} : (${out} === null || ${r.code} === null) ? null : ${and ? 'true' : 'false'};\n}`,
    );
    return { code: out, type: { name: 'BOOLEAN', nullable: l.type.nullable || r.type.nullable } };
  }

  private unary(op: '-' | '+' | 'NOT', v: Value, e: Expr): Value {
    if (op === 'NOT') {
      if (!inFamily('BOOLEAN', v.type)) {
        throw new ValidationError(
          `Cannot apply 'NOT' to arguments of type 'NOT<${calciteTypeName(v.type)}>'. Supported form(s): 'NOT<BOOLEAN>'`,
          e.pos,
        );
      }
      return {
        code: this.g.assign(this.strict([v], `!${v.code}`)),
        type: { name: 'BOOLEAN', nullable: v.type.nullable },
      };
    }
    const ok =
      isNumeric(v.type) ||
      v.type.name === 'INTERVAL_DAY_TIME' ||
      v.type.name === 'INTERVAL_YEAR_MONTH' ||
      v.type.name === 'NULL';
    if (!ok) {
      throw new ValidationError(
        `Cannot apply '${op}' to arguments of type '${op}<${calciteTypeName(v.type)}>'. Supported form(s): '${op}<NUMERIC>'\n'${op}<DATETIME_INTERVAL>'`,
        e.pos,
      );
    }
    if (op === '+') return v;
    if (v.constant && typeof v.constant.value === 'number')
      return this.constant(-v.constant.value, v.type);
    const code = v.type.name === 'INT' ? `(-${v.code}) | 0` : `-${v.code}`;
    return { code: this.g.assign(this.strict([v], code)), type: v.type };
  }

  private is(what: 'NULL' | 'TRUE' | 'FALSE' | 'UNKNOWN', not: boolean, v: Value, pos: Pos): Value {
    if (what !== 'NULL' && !inFamily('BOOLEAN', v.type)) {
      throw new ValidationError(
        `Cannot apply 'IS ${not ? 'NOT ' : ''}${what}' to arguments of type '<${calciteTypeName(v.type)}> IS ${not ? 'NOT ' : ''}${what}'. Supported form(s): '<BOOLEAN> IS ${not ? 'NOT ' : ''}${what}'`,
        pos,
      );
    }
    const target = what === 'TRUE' ? 'true' : what === 'FALSE' ? 'false' : 'null';
    return { code: this.g.assign(`${v.code} ${not ? '!==' : '==='} ${target}`), type: BOOLEAN_NN };
  }

  private like(e: LikeExpr): Value {
    const x = this.compile(e.expr);
    const p = this.compile(e.pattern);
    const esc = e.escape ? this.compile(e.escape) : undefined;
    const op = e.op;
    for (const v of [x, p, ...(esc ? [esc] : [])]) {
      if (!inFamily('STRING', v.type)) {
        throw new ValidationError(
          `Cannot apply '${op}' to arguments of type '${op}(${typeList([x, p, ...(esc ? [esc] : [])])})'. Supported form(s): '<STRING> ${op} <STRING>'\n'<STRING> ${op} <STRING> ESCAPE <STRING>'`,
          e.pos,
        );
      }
    }
    const toRegExp = op === 'LIKE' ? likeToRegExp : similarToRegExp;
    const values = esc ? [x, p, esc] : [x, p];
    let test: string;
    if (p.constant && (!esc || esc.constant)) {
      const pattern = p.constant.value;
      const escape = esc?.constant?.value;
      if (pattern === null || escape === null) test = 'null';
      else {
        let re: RegExp;
        try {
          re = toRegExp(pattern as string, escape as string | undefined);
        } catch (err) {
          throw new ValidationError((err as Error).message, e.pattern.pos);
        }
        test = `${this.g.ref(re)}.test(${x.code})`;
      }
    } else {
      const cache = new Map<string, RegExp>();
      const matcher = (s: string, pattern: string, escape?: string): boolean => {
        const key = `${escape ?? ''}\u0000${pattern}`;
        let re = cache.get(key);
        if (!re) {
          re = toRegExp(pattern, escape);
          if (cache.size < 1000) cache.set(key, re);
        }
        return re.test(s);
      };
      test = `${this.g.ref(matcher)}(${x.code}, ${p.code}${esc ? ', ' + esc.code : ''})`;
    }
    const code = this.strict(values, e.not ? `!${test}` : test);
    return {
      code: this.g.assign(code),
      type: { name: 'BOOLEAN', nullable: values.some((v) => v.type.nullable) },
    };
  }

  private inList(e: InExpr): Value {
    if (!Array.isArray(e.list))
      throw new ValidationError('IN with a subquery is not supported in this expression', e.pos);
    const list = e.list as readonly Expr[];
    const x = this.compile(e.expr);
    const items = list.map((i) => this.compile(i));
    for (const [i, item] of items.entries()) {
      if (!comparable(x.type, item.type)) {
        throw new ValidationError(
          `Values in expression list must have compatible types: ${calciteTypeName(x.type)} and ${calciteTypeName(item.type)}`,
          list[i]!.pos,
        );
      }
    }
    const nullableItems = items.some((v) => v.type.nullable);
    const type: SqlType = { name: 'BOOLEAN', nullable: x.type.nullable || nullableItems };
    const allConstant = items.every((v) => v.constant);
    const structured = ['ARRAY', 'ROW', 'MAP', 'MULTISET'].includes(x.type.name);
    if (allConstant && !structured) {
      const values = items.map((v) => v.constant!.value);
      const hasNull = values.includes(null);
      const set = this.g.ref(new Set(values.filter((v) => v !== null)));
      const miss = hasNull ? 'null' : e.not ? 'true' : 'false';
      const hit = e.not ? 'false' : 'true';
      const code = this.strict([x], `${set}.has(${x.code}) ? ${hit} : ${miss}`);
      return { code: this.g.assign(code), type };
    }
    // x IN (a, b) is x = a OR x = b with three-valued logic.
    const wrapped = this.wrap(x, e.pos);
    let test: Expr | undefined;
    for (const [i, item] of items.entries()) {
      const eq: Expr = {
        kind: 'binary',
        op: '=',
        left: wrapped,
        right: this.wrap(item, list[i]!.pos),
        pos: e.pos,
      };
      test = test ? { kind: 'binary', op: 'OR', left: test, right: eq, pos: e.pos } : eq;
    }
    if (!test) throw new ValidationError('IN needs at least one value', e.pos);
    return this.compile(e.not ? { kind: 'unary', op: 'NOT', operand: test, pos: e.pos } : test);
  }

  private caseExpr(e: CaseExpr): Value {
    const operand = e.operand ? this.wrap(this.compile(e.operand), e.operand.pos) : undefined;
    const out = this.g.fresh();
    const results: Value[] = [];
    // Compile the branches into nested if/else blocks; the types are checked when all are known.
    const emitFrom = (i: number): string => {
      if (i === e.whens.length) {
        if (!e.else) {
          results.push({ code: 'null', type: { name: 'NULL', nullable: true } });
          return `${out} = null;`;
        }
        const b = this.g.block(() => this.compile(e.else!));
        results.push(b.result);
        return `${b.code}\n${out} = ${b.result.code};`;
      }
      const w = e.whens[i]!;
      const cond = this.g.block(() => {
        const c = operand
          ? this.compile({ kind: 'binary', op: '=', left: operand, right: w.when, pos: w.when.pos })
          : this.compile(w.when);
        if (!inFamily('BOOLEAN', c.type)) {
          throw new ValidationError(
            `Expected a BOOLEAN condition in WHEN, got ${calciteTypeName(c.type)}`,
            w.when.pos,
          );
        }
        return c;
      });
      const then = this.g.block(() => this.compile(w.then));
      results.push(then.result);
      const rest = emitFrom(i + 1);
      return `${cond.code}\nif (${cond.result.code} === true) {\n${then.code}\n${out} = ${then.result.code};\n} else {\n${rest}\n}`;
    };
    this.g.emit(emitFrom(0));
    const type = leastRestrictive(results.map((r) => r.type));
    if (!type) {
      throw new ValidationError(
        `Illegal mixing of types in CASE or COALESCE statement: ${results.map((r) => calciteTypeName(r.type)).join(', ')}`,
        e.pos,
      );
    }
    return { code: out, type };
  }

  private cast(e: CastExpr): Value {
    const v = this.compile(e.expr);
    const to = e.type;
    if (!canCast(v.type, to)) {
      throw new ValidationError(
        `Cast function cannot convert value of type ${calciteTypeName(v.type)} to type ${calciteTypeName(to)}`,
        e.pos,
      );
    }
    const converter = castConverter(v.type, to);
    const nullable = v.type.nullable || e.try || (!!converter && to.name === 'DECIMAL');
    const type = withNullable(withoutTimeAttribute(to), nullable);
    if (!converter) return { code: v.code, type, constant: v.constant };
    if (v.constant) {
      const value = v.constant.value === null ? null : converter(v.constant.value);
      if (value !== CAST_FAILED && literalCode(value) !== undefined)
        return this.constant(value, type);
    }
    const from = v.type;
    const conv = this.g.ref(converter);
    const out = this.g.assign(this.strict([v], `${conv}(${v.code})`));
    const onFail = e.try
      ? 'null'
      : `${this.g.ref((x: unknown) => {
          throw castError(x, from, to);
        })}(${v.code})`;
    this.g.emit(`if (${out} === ${this.g.ref(CAST_FAILED)}) ${out} = ${onFail};`);
    return { code: out, type };
  }

  // --- calls

  private call(e: CallExpr): Value {
    if (e.over) {
      throw new ValidationError(
        `OVER windows are not supported in this expression: ${exprToSql(e)}`,
        e.pos,
      );
    }
    if (AGGREGATE_FUNCTIONS.has(e.name)) {
      throw new ValidationError(
        `Aggregate function ${e.name} is not allowed in this expression: ${exprToSql(e)}`,
        e.pos,
      );
    }
    const args = e.args;
    switch (e.name) {
      case 'COALESCE':
      case 'IFNULL':
      case 'NVL':
        return this.coalesce(e);
      case 'IF':
        return this.ifCall(e);
      case 'NULLIF': {
        this.arity(e, 2, 2);
        const a = this.compile(args[0]!);
        const b = this.compile(args[1]!);
        if (!comparable(a.type, b.type)) throw this.callTypeError(e, [a, b], `'NULLIF(<T>, <T>)'`);
        const code = `${a.code} === null || (${b.code} !== null && ${a.code} === ${b.code}) ? null : ${a.code}`;
        return { code: this.g.assign(code), type: withNullable(a.type, true) };
      }
      case 'MOD': {
        this.arity(e, 2, 2);
        return this.arithmetic('%', this.compile(args[0]!), this.compile(args[1]!), e);
      }
      case 'CURRENT_WATERMARK': {
        this.arity(e, 1, 1);
        const ts = this.compile(args[0]!);
        if (!isTimestamp(ts.type))
          throw this.callTypeError(e, [ts], `'CURRENT_WATERMARK(<TIMESTAMP>)'`);
        this.g.usesWatermark = true;
        return {
          code: this.g.assign('ctx.currentWatermark() ?? null'),
          type: withNullable(withoutTimeAttribute(ts.type), true),
        };
      }
      case 'ROW': {
        const values = args.map((a) => this.compile(a));
        const fields = values.map((v, i) => ({ name: `EXPR$${i}`, type: v.type }));
        const code = `{${fields.map((f, i) => `${JSON.stringify(f.name)}: ${values[i]!.code}`).join(', ')}}`;
        return { code: this.g.assign(code), type: { name: 'ROW', fields, nullable: false } };
      }
      case 'ARRAY': {
        const values = args.map((a) => this.compile(a));
        const element = leastRestrictive(values.map((v) => v.type));
        if (!element || values.length === 0)
          throw this.callTypeError(e, values, `'ARRAY[<T>, ...]'`);
        return {
          code: this.g.assign(`[${values.map((v) => v.code).join(', ')}]`),
          type: { name: 'ARRAY', element, nullable: false },
        };
      }
      case 'MAP': {
        const values = args.map((a) => this.compile(a));
        const keys = values.filter((_, i) => i % 2 === 0);
        const vals = values.filter((_, i) => i % 2 === 1);
        const key = leastRestrictive(keys.map((v) => v.type));
        const value = leastRestrictive(vals.map((v) => v.type));
        if (!key || !value || values.length === 0 || values.length % 2 !== 0) {
          throw this.callTypeError(e, values, `'MAP[<K>, <V>, ...]'`);
        }
        const pairs = keys.map((k, i) => `[${k.code}, ${vals[i]!.code}]`).join(', ');
        const code = isCharacterString(key)
          ? `Object.fromEntries([${pairs}])`
          : `new Map([${pairs}])`;
        return { code: this.g.assign(code), type: { name: 'MAP', key, value, nullable: false } };
      }
      default:
        break;
    }
    if (EXTRACT_SHORTHANDS.has(e.name) && args.length === 1) {
      return this.library(
        { ...e, name: 'EXTRACT', args: [unitLiteral(e.name, e.pos), args[0]!] },
        e.name,
      );
    }
    return this.library(e, e.name);
  }

  private arity(e: CallExpr, min: number, max: number): void {
    if (e.args.length < min || e.args.length > max) {
      const expected =
        min === max ? `${min}` : `${min} to ${max === Infinity ? 'any number of' : max}`;
      throw new ValidationError(
        `Invalid number of arguments to function '${e.name}'. Was expecting ${expected} arguments`,
        e.pos,
      );
    }
  }

  private callTypeError(
    e: CallExpr,
    args: readonly Value[],
    forms: string,
    name = e.name,
  ): ValidationError {
    return new ValidationError(
      `Cannot apply '${name}' to arguments of type '${name}(${typeList(args)})'. Supported form(s): ${forms}`,
      e.pos,
    );
  }

  private coalesce(e: CallExpr): Value {
    if (e.name !== 'COALESCE') this.arity(e, 2, 2);
    else this.arity(e, 1, Infinity);
    const out = this.g.fresh();
    const results: Value[] = [];
    const emitFrom = (i: number): string => {
      const b = this.g.block(() => this.compile(e.args[i]!));
      results.push(b.result);
      const assign = `${b.code}\n${out} = ${b.result.code};`;
      if (i === e.args.length - 1 || !b.result.type.nullable) return assign;
      return `${assign}\nif (${out} === null) {\n${emitFrom(i + 1)}\n}`;
    };
    this.g.emit(emitFrom(0));
    const type = leastRestrictive(results.map((r) => r.type));
    if (!type) {
      throw new ValidationError(
        `Illegal mixing of types in CASE or COALESCE statement: ${results.map((r) => calciteTypeName(r.type)).join(', ')}`,
        e.pos,
      );
    }
    return {
      code: out,
      type: withNullable(
        type,
        results.every((r) => r.type.nullable),
      ),
    };
  }

  private ifCall(e: CallExpr): Value {
    this.arity(e, 3, 3);
    const cond = this.compile(e.args[0]!);
    const a = this.g.block(() => this.compile(e.args[1]!));
    const b = this.g.block(() => this.compile(e.args[2]!));
    if (!inFamily('BOOLEAN', cond.type)) {
      throw this.callTypeError(e, [cond, a.result, b.result], `'IF(<BOOLEAN>, <T>, <T>)'`);
    }
    const type = leastRestrictive([a.result.type, b.result.type]);
    if (!type) throw this.callTypeError(e, [cond, a.result, b.result], `'IF(<BOOLEAN>, <T>, <T>)'`);
    const out = this.g.fresh();
    this.g.emit(
      `if (${cond.code} === true) {\n${a.code}\n${out} = ${a.result.code};\n} else {\n${b.code}\n${out} = ${b.result.code};\n}`,
    );
    return { code: out, type };
  }

  private library(e: CallExpr, shownName: string): Value {
    const def = lookupFunction(e.name);
    if (!def) {
      const args = e.args.map((a) => this.compile(a));
      throw new ValidationError(
        `No match found for function signature ${e.name}(${args.map((a) => `<${calciteFamily(a.type)}>`).join(', ')})`,
        e.pos,
      );
    }
    const max = def.variadic ? Infinity : def.families.length;
    this.arity(e, def.required, max);
    // Unit arguments (EXTRACT(HOUR FROM ts), FLOOR(ts TO DAY)) may arrive as bare identifiers.
    const unitIndex =
      e.name === 'FLOOR' || e.name === 'CEIL' || e.name === 'CEILING'
        ? 1
        : ['EXTRACT', 'TIMESTAMPDIFF', 'TIMESTAMPADD'].includes(e.name)
          ? 0
          : -1;
    const argExprs = e.args.map((a, i) =>
      i === unitIndex &&
      a.kind === 'ident' &&
      a.parts.length === 1 &&
      TIME_UNITS.has(a.parts[0]!.toUpperCase())
        ? unitLiteral(a.parts[0]!.toUpperCase(), a.pos)
        : a,
    );
    const args = argExprs.map((a) => this.compile(a));
    const familyOf = (i: number) => def.families[Math.min(i, def.families.length - 1)]!;
    const fits = args.every((a, i) => inFamily(familyOf(i), a.type));
    const resultType = fits ? def.type(args) : undefined;
    if (!resultType) throw this.callTypeError(e, args, formOf(shownName, def), shownName);
    const strict = def.strict !== false;
    const type = withNullable(
      resultType,
      resultType.nullable || (strict && args.some((a) => a.type.nullable)),
    );
    const generated = def.gen?.(this.g, args, type);
    if (generated !== undefined) return { code: this.g.assign(generated), type };
    const impl = def.make!(args, type) as (...values: unknown[]) => unknown;
    if (def.deterministic !== false && args.every((a) => a.constant)) {
      // Constant folding: computed once at plan time when it succeeds and is a plain value.
      let value: unknown;
      let folded = true;
      try {
        const values = args.map((a) => a.constant!.value);
        value = strict && values.includes(null) ? null : impl(...values);
      } catch {
        folded = false;
      }
      if (folded && literalCode(value) !== undefined) return this.constant(value, type);
    }
    const call = `${this.g.ref(impl)}(${args.map((a) => a.code).join(', ')})`;
    return { code: this.g.assign(strict ? this.strict(args, call) : call), type };
  }
}

function unitLiteral(unit: string, pos: Pos): Expr {
  return { kind: 'literal', type: 'string', value: unit, pos };
}

function divisionHelper(
  op: '/' | '%',
  int32: boolean,
  text: string,
): (a: number, b: number) => number {
  const fail = (): never => {
    // Flink fails the job with java.lang.ArithmeticException: / by zero.
    throw new Error(`Division by zero in '${text}' (java.lang.ArithmeticException: / by zero)`);
  };
  if (op === '%') return (a, b) => (b === 0 ? fail() : a % b);
  return int32
    ? (a, b) => (b === 0 ? fail() : (a / b) | 0)
    : (a, b) => (b === 0 ? fail() : Math.trunc(a / b));
}

function decimalDivisionHelper(op: '/' | '%', text: string): (a: number, b: number) => number {
  return (a, b) => {
    if (b === 0)
      throw new Error(
        `Division by zero in '${text}' (java.lang.ArithmeticException: Division by zero)`,
      );
    return op === '/' ? a / b : a % b;
  };
}

function deepEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEquals(x, b[i]));
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEquals(v, b.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

function escapeRegExpChar(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

/** A LIKE pattern (`%`, `_`, optional escape character) as an anchored RegExp. */
export function likeToRegExp(pattern: string, escape?: string): RegExp {
  if (escape !== undefined && escape.length !== 1) {
    throw new Error(`Invalid escape character '${escape}': it must be exactly one character`);
  }
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (escape !== undefined && c === escape) {
      const next = pattern[i + 1];
      if (next === undefined || (next !== '%' && next !== '_' && next !== escape)) {
        throw new Error(`Invalid escape sequence '${pattern}', ${i}`);
      }
      source += escapeRegExpChar(next);
      i++;
    } else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += escapeRegExpChar(c);
  }
  return new RegExp(`^${source}$`, 'u');
}

/** A SIMILAR TO pattern (SQL regular expression) as an anchored RegExp. */
function similarToRegExp(pattern: string, escape?: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (escape !== undefined && c === escape && i + 1 < pattern.length) {
      source += escapeRegExpChar(pattern[++i]!);
    } else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c;
  }
  return new RegExp(`^(?:${source})$`, 'u');
}

// ---------------------------------------------------------------------------------------------
// Public entry points

/** The type of `expr` in `scope` (Flink's type inference); throws ValidationError on type errors. */
export function inferType(expr: Expr, scope: Scope, options: CompileOptions = {}): SqlType {
  return new Compiler(new CodeGen(), scope, options).compile(expr).type;
}

/** Compiles `expr` to a function of the row; throws ValidationError on type errors. */
export function compileExpr(expr: Expr, scope: Scope, options: CompileOptions = {}): CompiledExpr {
  const g = new CodeGen();
  const v = new Compiler(g, scope, options).compile(expr);
  return { type: v.type, fn: g.build(v.code), usesWatermark: g.usesWatermark };
}

/**
 * Compiles a condition (WHERE, HAVING, ON, FILTER): the function returns strictly true or false,
 * NULL counting as false. Throws ValidationError when `expr` is not BOOLEAN.
 */
export function compilePredicate(
  expr: Expr,
  scope: Scope,
  options: CompileOptions = {},
): CompiledExpr<boolean> {
  const g = new CodeGen();
  const v = new Compiler(g, scope, options).compile(expr);
  if (v.type.name !== 'BOOLEAN' && v.type.name !== 'NULL') {
    throw new ValidationError(
      `A condition must be a BOOLEAN expression, but ${exprToSql(expr)} is ${calciteTypeName(v.type)}`,
      expr.pos,
    );
  }
  return { type: v.type, fn: g.build(`${v.code} === true`), usesWatermark: g.usesWatermark };
}

/**
 * Compiles a select list into one function that builds the output row as a single object
 * literal; each item's value is stored under its `name`.
 */
export function compileProjection(
  items: readonly { readonly expr: Expr; readonly name: string }[],
  scope: Scope,
  options: CompileOptions = {},
): CompiledProjection {
  const g = new CodeGen();
  const compiler = new Compiler(g, scope, options);
  const values = items.map((i) => compiler.compile(i.expr));
  const fields: RowField[] = items.map((i, n) => ({ name: i.name, type: values[n]!.type }));
  const props = items.map((i, n) => {
    // A computed key keeps `__proto__` an own property instead of setting the prototype.
    const key = i.name === '__proto__' ? `[${JSON.stringify(i.name)}]` : JSON.stringify(i.name);
    return `${key}: ${values[n]!.code}`;
  });
  return { fields, fn: g.build(`{${props.join(', ')}}`), usesWatermark: g.usesWatermark };
}

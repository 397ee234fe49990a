/**
 * Aggregate functions (SUM, COUNT, COUNT(DISTINCT), AVG, MIN, MAX, FIRST_VALUE, LAST_VALUE),
 * compiled for a list of calls into one set of accumulators.
 *
 * Semantics follow Flink's built-in aggregate functions: NULL inputs are ignored, SUM/AVG/MIN/
 * MAX of no (non-null) input is NULL, COUNT is BIGINT NOT NULL, SUM and AVG keep the input type
 * (AVG of INT truncates like Java integer division), DECIMAL results widen to precision 38.
 * Accumulators are plain numbers, arrays and (for DISTINCT and retractable MIN/MAX) Maps from
 * value to count, so they survive `v8.serialize` and can be merged (session windows) and
 * retracted (updating inputs, OVER windows).
 */
import { TableError, ValidationError } from '../errors.js';
import type { Expr, Pos } from '../parser/ast.js';
import type { Row } from '../row.js';
import { isCharacterString, isExactInteger, isNumeric, withoutTimeAttribute } from '../types.js';
import type { SqlType } from '../types.js';
import { roundHalfUp } from './cast.js';
import { compileExpr, compilePredicate, literalValue } from './expressions.js';
import type { EvalContext } from './expressions.js';
import type { Scope } from './scope.js';
import { adjustDecimal, calciteTypeName, stringType } from './type-rules.js';

export interface AggregateCall {
  /** Upper-cased function name. */
  readonly name: string;
  readonly distinct: boolean;
  /** `[Star]` for COUNT(*). */
  readonly args: readonly Expr[];
  /** `FILTER (WHERE ...)`. */
  readonly filter?: Expr;
  readonly pos: Pos;
}

/**
 * The accumulators of several aggregate calls over the same input. The accumulator value is an
 * array (one slot per call), mutated in place and small enough for state: plain numbers and
 * strings where it can be.
 */
export interface CompiledAggregates {
  /** The result type of each call, in order. */
  readonly resultTypes: readonly SqlType[];
  createAccumulators(): unknown[];
  accumulate(accs: unknown[], row: Row): void;
  /** Takes a row back out (OVER windows, updating aggregates); throws when not retractable. */
  retract(accs: unknown[], row: Row): void;
  /** Adds `source` into `target` (session window merges). */
  merge(target: unknown[], source: unknown[]): void;
  /** The current result of each call, in order. */
  getValues(accs: unknown[]): unknown[];
  /** Whether every call supports retract. */
  readonly retractable: boolean;
}

/** Options of {@link compileAggregates}. */
export interface AggregateOptions {
  /**
   * Whether rows will be retracted (an updating input, an OVER window with a bounded frame).
   * MIN, MAX, FIRST_VALUE and LAST_VALUE then keep all values instead of just the current one.
   */
  readonly retractable?: boolean;
}

/** One aggregate function's accumulator operations. Accumulators may be mutated in place. */
interface AggFunction {
  create(): unknown;
  add(acc: unknown, value: unknown): unknown;
  remove(acc: unknown, value: unknown): unknown;
  merge(target: unknown, source: unknown): unknown;
  get(acc: unknown): unknown;
}

// Aggregates are evaluated outside any operator's timers: CURRENT_WATERMARK is not available.
const AGG_CONTEXT: EvalContext = {
  currentWatermark: () => undefined,
  currentProcessingTime: () => Date.now(),
};

type Counts = Map<unknown, number>;

function distinctKey(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
}

function countUp(map: Counts, key: unknown, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function countDown(map: Counts, key: unknown): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

function mergeCounts(target: Counts, source: Counts): Counts {
  for (const [k, n] of source) countUp(target, k, n);
  return target;
}

/** Finishes a SUM/AVG value for the result type (Java int overflow, DECIMAL scale). */
function finisher(type: SqlType): (x: number) => number {
  if (type.name === 'INT') return (x) => x | 0;
  if (type.name === 'DECIMAL') return (x) => roundHalfUp(x, type.scale);
  if (isExactInteger(type)) return (x) => Math.trunc(x);
  return (x) => x;
}

function sumFunction(type: SqlType, zeroWhenEmpty: boolean, retractable = true): AggFunction {
  const finish = finisher(type);
  const empty = zeroWhenEmpty ? 0 : null;
  // Without retraction the sum alone is the accumulator, null until a value arrives (Flink's
  // SumAggFunction): the accumulators of a window stay a flat array of numbers, which the
  // level backend stores in its fast JSON form. Retraction needs the count to know when the
  // sum is empty again (Flink's SumWithRetractAggFunction).
  if (!retractable) {
    return {
      create: () => null,
      add: (acc, v) => (acc === null ? (v as number) : (acc as number) + (v as number)),
      remove: () => {
        throw new Error('SUM without retraction cannot remove a value');
      },
      merge: (t, s) => (t === null ? s : s === null ? t : (t as number) + (s as number)),
      get: (acc) => (acc === null ? empty : finish(acc as number)),
    };
  }
  return {
    create: () => [0, 0],
    add: (acc, v) => {
      const a = acc as number[];
      a[0]! += v as number;
      a[1]!++;
      return a;
    },
    remove: (acc, v) => {
      const a = acc as number[];
      a[0]! -= v as number;
      a[1]!--;
      return a;
    },
    merge: (t, s) => {
      const a = t as number[];
      const b = s as number[];
      a[0]! += b[0]!;
      a[1]! += b[1]!;
      return a;
    },
    get: (acc) => {
      const a = acc as number[];
      return a[1] === 0 ? empty : finish(a[0]!);
    },
  };
}

function avgFunction(type: SqlType): AggFunction {
  const exact = isExactInteger(type);
  const finish = finisher(type);
  const sum = sumFunction(type, false);
  return {
    ...sum,
    get: (acc) => {
      const a = acc as number[];
      if (a[1] === 0) return null;
      const avg = a[0]! / a[1]!;
      return finish(exact ? Math.trunc(avg) : avg);
    },
  };
}

/** DISTINCT: a count per distinct value; `result` computes the aggregate from the values. */
function distinctFunction(
  result: (values: Iterable<unknown>, size: number) => unknown,
): AggFunction {
  return {
    create: () => new Map(),
    add: (acc, v) => {
      countUp(acc as Counts, distinctKey(v));
      return acc;
    },
    remove: (acc, v) => {
      countDown(acc as Counts, distinctKey(v));
      return acc;
    },
    merge: (t, s) => mergeCounts(t as Counts, s as Counts),
    get: (acc) => result((acc as Counts).keys(), (acc as Counts).size),
  };
}

const COUNT: AggFunction = {
  create: () => 0,
  add: (acc) => (acc as number) + 1,
  remove: (acc) => (acc as number) - 1,
  merge: (t, s) => (t as number) + (s as number),
  get: (acc) => acc,
};

function better(max: boolean): (a: unknown, b: unknown) => boolean {
  return max ? (a, b) => (a as number) > (b as number) : (a, b) => (a as number) < (b as number);
}

function minMaxFunction(max: boolean, retractable: boolean): AggFunction {
  const wins = better(max);
  if (!retractable) {
    return {
      create: () => null,
      add: (acc, v) => (acc === null || wins(v, acc) ? v : acc),
      remove: () => {
        throw new TableError(`${max ? 'MAX' : 'MIN'} was compiled without retraction support`);
      },
      merge: (t, s) => (t === null ? s : s === null ? t : wins(s, t) ? s : t),
      get: (acc) => acc,
    };
  }
  // [current extreme, Map value -> count]; the extreme is recomputed only when it is retracted.
  const recompute = (map: Counts): unknown => {
    let best: unknown = null;
    for (const k of map.keys()) if (best === null || wins(k, best)) best = k;
    return best;
  };
  return {
    create: () => [null, new Map()],
    add: (acc, v) => {
      const a = acc as [unknown, Counts];
      countUp(a[1], v);
      if (a[0] === null || wins(v, a[0])) a[0] = v;
      return a;
    },
    remove: (acc, v) => {
      const a = acc as [unknown, Counts];
      countDown(a[1], v);
      if (v === a[0] && !a[1].has(v)) a[0] = recompute(a[1]);
      return a;
    },
    merge: (t, s) => {
      const a = t as [unknown, Counts];
      mergeCounts(a[1], (s as [unknown, Counts])[1]);
      a[0] = recompute(a[1]);
      return a;
    },
    get: (acc) => (acc as [unknown, Counts])[0],
  };
}

function firstLastFunction(last: boolean, retractable: boolean): AggFunction {
  if (!retractable) {
    return {
      create: () => null,
      add: (acc, v) => (last || acc === null ? v : acc),
      remove: () => {
        throw new TableError(
          `${last ? 'LAST_VALUE' : 'FIRST_VALUE'} was compiled without retraction support`,
        );
      },
      // The target holds the earlier rows when session windows merge.
      merge: (t, s) => (last ? (s === null ? t : s) : t === null ? s : t),
      get: (acc) => acc,
    };
  }
  return listFunction((list) =>
    list.length === 0 ? null : last ? list[list.length - 1] : list[0],
  );
}

/** Keeps the values in arrival order; retract removes the latest equal one. */
function listFunction(result: (list: unknown[]) => unknown): AggFunction {
  return {
    create: () => [],
    add: (acc, v) => {
      (acc as unknown[]).push(v);
      return acc;
    },
    remove: (acc, v) => {
      const list = acc as unknown[];
      const i = list.lastIndexOf(v);
      if (i >= 0) list.splice(i, 1);
      return list;
    },
    merge: (t, s) => {
      for (const v of s as unknown[]) (t as unknown[]).push(v);
      return t;
    },
    get: (acc) => result(acc as unknown[]),
  };
}

interface CompiledCall {
  readonly fn: AggFunction;
  readonly type: SqlType;
  /** The argument value of a row (`true` for COUNT(*)), NULL meaning "skip". */
  readonly arg: (row: Row) => unknown;
  readonly filter?: (row: Row) => boolean;
}

function typeError(call: AggregateCall, args: readonly SqlType[], form: string): ValidationError {
  return new ValidationError(
    `Cannot apply '${call.name}' to arguments of type '${call.name}(${args.map((t) => `<${calciteTypeName(t)}>`).join(', ')})'. Supported form(s): '${call.name}(${form})'`,
    call.pos,
  );
}

function compileCall(call: AggregateCall, scope: Scope, retractable: boolean): CompiledCall {
  const isStar = call.args.length === 1 && call.args[0]!.kind === 'star';
  const args = isStar ? [] : call.args.map((a) => compileExpr(a, scope));
  const types = args.map((a) => a.type);
  const filter = call.filter ? compilePredicate(call.filter, scope) : undefined;
  const filterFn = filter ? (row: Row) => filter.fn(row, AGG_CONTEXT) : undefined;
  const first = args[0];
  const single = first ? (row: Row) => first.fn(row, AGG_CONTEXT) ?? null : () => true;
  const expectArgs = (n: number): void => {
    if (args.length !== n) {
      throw new ValidationError(
        `Invalid number of arguments to function '${call.name}'. Was expecting ${n} arguments`,
        call.pos,
      );
    }
  };
  switch (call.name) {
    case 'COUNT': {
      // COUNT(a, b) counts rows where every argument is non-null.
      const arg =
        args.length <= 1
          ? single
          : (row: Row) =>
              args.every((a) => (a.fn(row, AGG_CONTEXT) ?? null) !== null) ? true : null;
      const fn = call.distinct && args.length > 0 ? distinctFunction((_v, size) => size) : COUNT;
      const distinctArg =
        call.distinct && args.length > 1
          ? (row: Row) => {
              const values = args.map((a) => a.fn(row, AGG_CONTEXT) ?? null);
              return values.includes(null) ? null : values;
            }
          : arg;
      return { fn, type: { name: 'BIGINT', nullable: false }, arg: distinctArg, filter: filterFn };
    }
    case 'SUM':
    case 'SUM0':
    case 'AVG': {
      expectArgs(1);
      const t = withoutTimeAttribute(types[0]!);
      if (!isNumeric(t)) throw typeError(call, types, '<NUMERIC>');
      const zero = call.name === 'SUM0';
      let type: SqlType;
      if (t.name === 'DECIMAL') {
        type =
          call.name === 'AVG'
            ? adjustDecimal(38, Math.max(6, t.scale), true)
            : { name: 'DECIMAL', precision: 38, scale: t.scale, nullable: !zero };
      } else {
        type = { ...t, nullable: !zero } as SqlType;
      }
      let fn: AggFunction;
      if (call.distinct) {
        const finish = finisher(type);
        const avg = call.name === 'AVG';
        const exact = isExactInteger(type);
        fn = distinctFunction((values, size) => {
          if (size === 0) return zero ? 0 : null;
          let sum = 0;
          for (const v of values) sum += v as number;
          if (!avg) return finish(sum);
          return finish(exact ? Math.trunc(sum / size) : sum / size);
        });
      } else {
        fn = call.name === 'AVG' ? avgFunction(type) : sumFunction(type, zero, retractable);
      }
      return { fn, type, arg: single, filter: filterFn };
    }
    case 'MIN':
    case 'MAX': {
      expectArgs(1);
      const t = withoutTimeAttribute(types[0]!);
      if (t.name === 'ARRAY' || t.name === 'MAP' || t.name === 'ROW' || t.name === 'MULTISET') {
        throw typeError(call, types, '<COMPARABLE_TYPE>');
      }
      return {
        fn: minMaxFunction(call.name === 'MAX', retractable),
        type: { ...t, nullable: true } as SqlType,
        arg: single,
        filter: filterFn,
      };
    }
    case 'FIRST_VALUE':
    case 'LAST_VALUE': {
      expectArgs(1);
      return {
        fn: firstLastFunction(call.name === 'LAST_VALUE', retractable),
        type: { ...withoutTimeAttribute(types[0]!), nullable: true } as SqlType,
        arg: single,
        filter: filterFn,
      };
    }
    case 'LISTAGG': {
      if (args.length < 1 || args.length > 2) expectArgs(1);
      if (!isCharacterString(types[0]!) || (args.length === 2 && !isCharacterString(types[1]!))) {
        throw typeError(call, types, '<STRING>[, <STRING>]');
      }
      // Flink's default separator is ','; the separator must be a literal.
      const separator = args.length === 2 ? String(literalValue(call.args[1]!, scope)) : ',';
      return {
        fn: listFunction((list) => (list.length === 0 ? null : list.join(separator))),
        type: stringType(true),
        arg: single,
        filter: filterFn,
      };
    }
    default:
      throw new ValidationError(
        `No match found for function signature ${call.name}(...)`,
        call.pos,
      );
  }
}

/**
 * Compiles aggregate calls over rows of `scope` into one accumulator array with a slot per
 * call. Throws ValidationError for argument type errors.
 */
export function compileAggregates(
  calls: readonly AggregateCall[],
  scope: Scope,
  options: AggregateOptions = {},
): CompiledAggregates {
  const retractable = options.retractable ?? false;
  const compiled = calls.map((c) => compileCall(c, scope, retractable));
  const n = compiled.length;
  const fns = compiled.map((c) => c.fn);
  const argFns = compiled.map((c) => c.arg);
  const filters = compiled.map((c) => c.filter);
  return {
    resultTypes: compiled.map((c) => c.type),
    retractable,
    createAccumulators: () => fns.map((f) => f.create()),
    accumulate(accs, row) {
      for (let i = 0; i < n; i++) {
        const filter = filters[i];
        if (filter && !filter(row)) continue;
        const v = argFns[i]!(row);
        if (v === null) continue;
        accs[i] = fns[i]!.add(accs[i], v);
      }
    },
    retract(accs, row) {
      if (!retractable) {
        throw new TableError(
          'These aggregates were compiled without retraction support (compileAggregates option retractable)',
        );
      }
      for (let i = 0; i < n; i++) {
        const filter = filters[i];
        if (filter && !filter(row)) continue;
        const v = argFns[i]!(row);
        if (v === null) continue;
        accs[i] = fns[i]!.remove(accs[i], v);
      }
    },
    merge(target, source) {
      for (let i = 0; i < n; i++) target[i] = fns[i]!.merge(target[i], source[i]);
    },
    getValues(accs) {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = fns[i]!.get(accs[i]);
      return out;
    },
  };
}

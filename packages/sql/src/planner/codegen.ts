/**
 * The JavaScript source builder behind compiled expressions. An expression compiles to
 * statements that assign local variables (`v0`, `v1`, ...) and to a final expression; helpers
 * and constants that are not plain literals become parameters (`$0`, `$1`, ...) of an outer
 * function built once with `new Function`, so the per-row function only reads them from its
 * closure. Nothing is interpreted per row.
 */
import type { SqlType } from '../types.js';

/** A compiled sub-expression: JavaScript code that is cheap to repeat (a variable or a literal). */
export interface Value {
  readonly code: string;
  readonly type: SqlType;
  /** Set when the value is known at compile time (literals and folded constants). */
  readonly constant?: { readonly value: unknown };
}

export class CodeGen {
  private readonly paramNames: string[] = [];
  private readonly paramValues: unknown[] = [];
  private readonly paramIndex = new Map<unknown, string>();
  private varCount = 0;
  private lines: string[] = [];
  /** Set when the code reads the watermark (CURRENT_WATERMARK). */
  usesWatermark = false;

  /** A parameter holding `value` (a helper function, a RegExp, a Set), shared when repeated. */
  ref(value: unknown): string {
    const known = this.paramIndex.get(value);
    if (known !== undefined) return known;
    const name = `$${this.paramNames.length}`;
    this.paramNames.push(name);
    this.paramValues.push(value);
    this.paramIndex.set(value, name);
    return name;
  }

  /** A new local variable. */
  fresh(): string {
    return `v${this.varCount++}`;
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  /** Assigns `code` to a new variable and returns it. */
  assign(code: string): string {
    const v = this.fresh();
    this.emit(`${v} = ${code};`);
    return v;
  }

  /** Runs `f` collecting what it emits into a separate block (for conditional evaluation). */
  block<T>(f: () => T): { code: string; result: T } {
    const saved = this.lines;
    this.lines = [];
    try {
      const result = f();
      return { code: this.lines.join('\n'), result };
    } finally {
      this.lines = saved;
    }
  }

  /** Builds `function (r, ctx) { ...; return <result>; }` with the collected parameters. */
  build<F>(result: string): F {
    const decl =
      this.varCount > 0
        ? `let ${Array.from({ length: this.varCount }, (_, i) => `v${i}`).join(', ')};\n`
        : '';
    const body = `"use strict";\nreturn function compiled(r, ctx) {\n${decl}${this.lines.join('\n')}\nreturn ${result};\n};`;
    const outer = new Function(...this.paramNames, body) as (...params: unknown[]) => F;
    return outer(...this.paramValues);
  }

  /** The source of the generated function (for debugging and EXPLAIN-style output). */
  source(result: string): string {
    return `${this.lines.join('\n')}\nreturn ${result};`;
  }
}

/** JavaScript literal code of a constant that can be inlined, else undefined. */
export function literalCode(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  return undefined;
}

/** `a === null || b === null` over the nullable values, or '' when none can be null. */
export function nullCheck(values: readonly Value[]): string {
  return values
    .filter((v) => v.type.nullable)
    .map((v) => `${v.code} === null`)
    .join(' || ');
}

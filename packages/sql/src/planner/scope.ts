import type { Pos } from '../parser/ast.js';
import { ValidationError } from '../errors.js';
import type { SqlType } from '../types.js';

/** A column visible to expressions: where it comes from, and the row property holding it. */
export interface ScopeColumn {
  /** The table name or alias that qualifies it (`t` in `t.a`), if any. */
  readonly qualifier?: string;
  /** The name SQL uses. */
  readonly name: string;
  /** The property of the row object that holds the value (differs from `name` after a join renames). */
  readonly key: string;
  readonly type: SqlType;
}

/** The columns an expression can name: a FROM clause's output, a table, a join's two sides. */
export class Scope {
  constructor(readonly columns: readonly ScopeColumn[]) {}

  /** The column `parts` names (`a` or `t.a`); throws Calcite's message when there is none or several. */
  resolve(parts: readonly string[], pos: Pos): ScopeColumn {
    const name = parts[parts.length - 1]!;
    const qualifier = parts.length > 1 ? parts[parts.length - 2] : undefined;
    const matches = this.columns.filter(
      (c) => c.name === name && (qualifier === undefined || c.qualifier === qualifier),
    );
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new ValidationError(`Column '${name}' is ambiguous`, pos);
    if (qualifier !== undefined) {
      if (!this.columns.some((c) => c.qualifier === qualifier)) {
        throw new ValidationError(`Table '${qualifier}' not found`, pos);
      }
      throw new ValidationError(`Column '${name}' not found in table '${qualifier}'`, pos);
    }
    const other = this.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
    const hint = other ? `; did you mean '${other.name}'? (identifiers are case-sensitive)` : '';
    throw new ValidationError(`Column '${name}' not found in any table${hint}`, pos);
  }

  /** Columns with the given qualifier (all for undefined): what `t.*` / `*` expands to. */
  expand(qualifier?: string): ScopeColumn[] {
    return this.columns.filter((c) => qualifier === undefined || c.qualifier === qualifier);
  }
}

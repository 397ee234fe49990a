import type { BinaryExpr, CallExpr, Expr, Identifier, Pos } from '../parser/ast.js';

/** A key of an expression's structure, positions left out: equal for `SUM(a)` written twice. */
export function exprKey(e: unknown): string {
  return JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : v));
}

/**
 * A copy of `e` with every sub-expression whose {@link exprKey} is in `replacements` replaced
 * (outermost first). Walks the tree generically: the AST is plain data.
 */
export function replaceExprs(e: Expr, replacements: ReadonlyMap<string, Expr>): Expr {
  if (replacements.size === 0) return e;
  return walk(e) as Expr;
  function walk(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const n = node as { kind?: unknown };
    if (typeof n.kind === 'string') {
      const hit = replacements.get(exprKey(node));
      if (hit !== undefined) return hit;
    }
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) copy[k] = k === 'pos' || k === 'type' ? v : walk(v);
    return copy;
  }
}

/** Every sub-expression (depth first, the node itself included) satisfying `test`, not below a match. */
export function findExprs<T extends Expr>(e: unknown, test: (x: Expr) => x is T): T[] {
  const found: T[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as Expr;
    if (typeof (n as { kind?: unknown }).kind === 'string' && test(n)) {
      found.push(n);
      return;
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'pos' && k !== 'type') walk(v);
  };
  walk(e);
  return found;
}

export function ident(name: string, pos: Pos): Identifier {
  return { kind: 'ident', parts: [name], pos };
}

/** The conjuncts of `a AND b AND c`. */
export function conjuncts(e: Expr | undefined): Expr[] {
  if (e === undefined) return [];
  if (e.kind === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

/** `a AND b AND ...` of the given conjuncts, or undefined for none. */
export function and(parts: readonly Expr[]): Expr | undefined {
  if (parts.length === 0) return undefined;
  return parts.reduce((l, r): BinaryExpr => ({
    kind: 'binary',
    op: 'AND',
    left: l,
    right: r,
    pos: l.pos,
  }));
}

export function isCall(e: Expr, ...names: string[]): e is CallExpr {
  return e.kind === 'call' && (names.length === 0 || names.includes(e.name));
}

/** The SQL text of an expression, for EXPLAIN and messages (not for re-parsing). */
export function exprText(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      if (e.type === 'string') return `'${e.value.replace(/'/g, "''")}'`;
      if (e.type === 'timestamp' || e.type === 'date' || e.type === 'time')
        return `${e.type.toUpperCase()} '${e.value}'`;
      return String(e.value).toUpperCase() === 'NULL' ? 'NULL' : String(e.value);
    case 'ident':
      return e.parts.join('.');
    case 'star':
      return e.qualifier ? `${e.qualifier.join('.')}.*` : '*';
    case 'binary':
      return `${exprText(e.left)} ${e.op} ${exprText(e.right)}`;
    case 'unary':
      return e.op === 'NOT' ? `NOT ${exprText(e.operand)}` : `${e.op}${exprText(e.operand)}`;
    case 'call': {
      const args = e.args.map(exprText).join(', ');
      const over = e.over ? ' OVER (...)' : '';
      return `${e.name}(${e.distinct ? 'DISTINCT ' : ''}${args})${over}`;
    }
    case 'case':
      return 'CASE ... END';
    case 'cast':
      return `CAST(${exprText(e.expr)} AS ...)`;
    case 'is':
      return `${exprText(e.expr)} IS ${e.not ? 'NOT ' : ''}${e.what}`;
    case 'between':
      return `${exprText(e.expr)} ${e.not ? 'NOT ' : ''}BETWEEN ${exprText(e.low)} AND ${exprText(e.high)}`;
    case 'like':
      return `${exprText(e.expr)} ${e.not ? 'NOT ' : ''}${e.op} ${exprText(e.pattern)}`;
    case 'in':
      return `${exprText(e.expr)} ${e.not ? 'NOT ' : ''}IN (...)`;
    case 'interval':
      return `INTERVAL '${e.sign < 0 ? '-' : ''}${e.value}' ${e.unit}${e.toUnit ? ` TO ${e.toUnit}` : ''}`;
    case 'descriptor':
      return `DESCRIPTOR(${e.columns.join(', ')})`;
    case 'tableArg':
      return `TABLE ${e.name.join('.')}`;
    case 'subquery':
      return '(SELECT ...)';
  }
}

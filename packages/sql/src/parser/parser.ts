/**
 * The parser of Flink's SQL dialect: statements, scripts, and the string expressions of the
 * Table API. A Chevrotain `EmbeddedActionsParser` builds the AST of `ast.ts` directly.
 *
 * Chevrotain records the grammar by running every rule once with placeholder tokens before any
 * input is parsed, so all node building sits inside `ACTION` (skipped while recording).
 */
import { EmbeddedActionsParser, EOF, tokenMatcher } from 'chevrotain';
import type {
  IParserErrorMessageProvider,
  IRecognitionException,
  IToken,
  TokenType,
} from 'chevrotain';
import { SqlParseError } from '../errors.js';
import { MAX_LENGTH } from '../types.js';
import type { RowField, SqlType } from '../types.js';
import type {
  CallExpr,
  ColumnDef,
  CreateTable,
  Expr,
  FrameBound,
  Insert,
  IntervalUnit,
  NamedWindow,
  OrderItem,
  OverSpec,
  Pos,
  Query,
  ScriptStatement,
  Select,
  SelectItem,
  Statement,
  StatementSet,
  TableRef,
  WindowFrame,
} from './ast.js';
import * as T from './lexer.js';
import { tokenize } from './lexer.js';

interface Name {
  readonly text: string;
  readonly tok: IToken;
}

interface QualifiedName {
  readonly parts: string[];
  readonly tok: IToken;
}

function posOf(tok: IToken): Pos {
  return { line: tok.startLine ?? 1, column: tok.startColumn ?? 1, offset: tok.startOffset };
}

function unquoteString(image: string): string {
  return image.slice(1, -1).replace(/''/g, "'");
}

function unquoteIdent(image: string): string {
  return image.slice(1, -1).replace(/``/g, '`');
}

/** Thrown from actions for input the grammar accepts but the dialect does not (an unknown type). */
class SemanticError extends Error {
  constructor(
    message: string,
    readonly tok: IToken,
  ) {
    super(message);
  }
}

const INTERVAL_UNITS: Record<string, IntervalUnit> = {
  YEAR: 'YEAR',
  YEARS: 'YEAR',
  MONTH: 'MONTH',
  MONTHS: 'MONTH',
  DAY: 'DAY',
  DAYS: 'DAY',
  HOUR: 'HOUR',
  HOURS: 'HOUR',
  MINUTE: 'MINUTE',
  MINUTES: 'MINUTE',
  SECOND: 'SECOND',
  SECONDS: 'SECOND',
  MILLISECOND: 'MILLISECOND',
  MILLISECONDS: 'MILLISECOND',
};

/**
 * Chevrotain's messages are replaced by a small JSON record (what was expected, and how far into
 * the lookahead the input went wrong) that {@link toParseError} turns into the final message.
 */
interface ErrorRecord {
  readonly expected: string[];
  /** Index into the lookahead tokens of the token at fault. */
  readonly at: number;
  readonly endOfStatement?: boolean;
}

function labelOf(type: TokenType): string {
  return type.LABEL ?? type.name;
}

function fromPaths(paths: TokenType[][], actual: IToken[]): ErrorRecord {
  // The token at fault is the first one that no path accepts.
  let at = 0;
  for (const path of paths) {
    let i = 0;
    while (i < path.length && i < actual.length && tokenMatcher(actual[i]!, path[i]!)) i++;
    at = Math.max(at, i);
  }
  const expected: string[] = [];
  for (const path of paths) {
    let ok = true;
    for (let i = 0; i < at; i++) {
      if (!path[i] || !actual[i] || !tokenMatcher(actual[i]!, path[i]!)) ok = false;
    }
    const next = path[at];
    if (ok && next) {
      const label = labelOf(next);
      if (!expected.includes(label)) expected.push(label);
    }
  }
  return { expected, at };
}

const messageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected }) =>
    JSON.stringify({ expected: [labelOf(expected)], at: 0 } satisfies ErrorRecord),
  buildNotAllInputParsedMessage: () =>
    JSON.stringify({ expected: [], at: 0, endOfStatement: true } satisfies ErrorRecord),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual }) =>
    JSON.stringify(fromPaths(expectedPathsPerAlt.flat(), actual)),
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) =>
    JSON.stringify(fromPaths(expectedIterationPaths, actual)),
};

class FlinkSqlParser extends EmbeddedActionsParser {
  /** The text the current tokens were lexed from (for view query text). */
  source = '';

  constructor() {
    super(T.allTokens, {
      maxLookahead: 2,
      recoveryEnabled: false,
      errorMessageProvider: messageProvider,
    });
    this.performSelfAnalysis();
  }

  private textBetween(first: IToken, last: IToken): string {
    return this.source.slice(first.startOffset, (last.endOffset ?? last.startOffset) + 1);
  }

  // -------------------------------------------------------------------------------------------
  // Names

  identifier = this.RULE('identifier', (): Name => {
    let tok!: IToken;
    let quoted = false;
    this.OR([
      { ALT: () => (tok = this.CONSUME(T.Ident)) },
      {
        ALT: () => {
          tok = this.CONSUME(T.QuotedIdent);
          quoted = true;
        },
      },
      { ALT: () => (tok = this.CONSUME(T.NonReserved)) },
    ]);
    return this.ACTION(() => ({ text: quoted ? unquoteIdent(tok.image) : tok.image, tok }));
  });

  qualifiedName = this.RULE('qualifiedName', (): QualifiedName => {
    const first = this.SUBRULE(this.identifier);
    const parts: string[] = [];
    this.ACTION(() => parts.push(first.text));
    this.MANY(() => {
      this.CONSUME(T.Dot);
      const next = this.SUBRULE2(this.identifier);
      this.ACTION(() => parts.push(next.text));
    });
    return this.ACTION(() => ({ parts, tok: first.tok }));
  });

  nameList = this.RULE('nameList', (): string[] => {
    const names: string[] = [];
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        const n = this.SUBRULE(this.identifier);
        this.ACTION(() => names.push(n.text));
      },
    });
    this.CONSUME(T.RParen);
    return names;
  });

  stringValue = this.RULE('stringValue', (): string => {
    const tok = this.CONSUME(T.StringLit);
    return this.ACTION(() => unquoteString(tok.image));
  });

  // -------------------------------------------------------------------------------------------
  // Types

  dataType = this.RULE('dataType', (): SqlType => {
    let type!: SqlType;
    this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.ARRAY);
          this.CONSUME(T.Less);
          const element = this.SUBRULE(this.dataType);
          this.CONSUME(T.Greater);
          this.ACTION(() => (type = { name: 'ARRAY', element, nullable: true }));
          void tok;
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.MAP);
          this.CONSUME2(T.Less);
          const key = this.SUBRULE2(this.dataType);
          this.CONSUME(T.Comma);
          const value = this.SUBRULE3(this.dataType);
          this.CONSUME2(T.Greater);
          this.ACTION(() => (type = { name: 'MAP', key, value, nullable: true }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.ROW);
          const fields: RowField[] = [];
          const field = (): void => {
            const f = this.SUBRULE(this.rowField);
            this.ACTION(() => fields.push(f));
          };
          const field2 = (): void => {
            const f = this.SUBRULE2(this.rowField);
            this.ACTION(() => fields.push(f));
          };
          this.OR2([
            {
              ALT: () => {
                this.CONSUME3(T.Less);
                this.MANY_SEP({ SEP: T.Comma, DEF: field });
                this.CONSUME3(T.Greater);
              },
            },
            {
              ALT: () => {
                this.CONSUME(T.LParen);
                this.MANY_SEP2({ SEP: T.Comma, DEF: field2 });
                this.CONSUME(T.RParen);
              },
            },
          ]);
          this.ACTION(() => (type = { name: 'ROW', fields, nullable: true }));
        },
      },
      {
        ALT: () => {
          const name = this.SUBRULE(this.identifier);
          const params: number[] = [];
          let element: SqlType | undefined;
          let precisionWord = false;
          let zone: 'local' | undefined;
          this.OPTION2(() => {
            this.CONSUME2(T.LParen);
            this.AT_LEAST_ONE_SEP({
              SEP: T.Comma,
              DEF: () => {
                const n = this.CONSUME(T.NumberLit);
                this.ACTION(() => params.push(Number(n.image)));
              },
            });
            this.CONSUME2(T.RParen);
          });
          // MULTISET<T> (ARRAY and MAP are reserved words with their own alternatives).
          this.OPTION3(() => {
            this.CONSUME4(T.Less);
            element = this.SUBRULE5(this.dataType);
            this.CONSUME4(T.Greater);
          });
          // DOUBLE PRECISION
          this.OPTION4({
            GATE: () => this.LA(1).image.toUpperCase() === 'PRECISION',
            DEF: () => {
              this.CONSUME(T.Ident);
              precisionWord = true;
            },
          });
          this.OPTION5(() => {
            this.CONSUME(T.WITH);
            this.CONSUME2(T.Ident); // LOCAL
            this.CONSUME(T.TIME);
            this.CONSUME3(T.Ident); // ZONE
            zone = 'local';
          });
          this.ACTION(() => {
            type = namedType(name, params, element, precisionWord, zone);
          });
        },
      },
    ]);
    let nullable = true;
    this.OPTION(() => {
      this.CONSUME(T.NOT);
      this.CONSUME(T.NULL);
      nullable = false;
    });
    return this.ACTION(() => (nullable ? type : { ...type, nullable }));
  });

  rowField = this.RULE('rowField', (): RowField => {
    const name = this.SUBRULE(this.identifier);
    const type = this.SUBRULE(this.dataType);
    this.OPTION(() => {
      this.CONSUME(T.COMMENT);
      this.CONSUME(T.StringLit);
    });
    return this.ACTION(() => ({ name: name.text, type }));
  });

  // -------------------------------------------------------------------------------------------
  // Expressions

  expr = this.RULE('expr', (): Expr => {
    let left = this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.OR);
      const right = this.SUBRULE2(this.andExpr);
      this.ACTION(() => (left = { kind: 'binary', op: 'OR', left, right, pos: left.pos }));
    });
    return left;
  });

  andExpr = this.RULE('andExpr', (): Expr => {
    let left = this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.AND);
      const right = this.SUBRULE2(this.notExpr);
      this.ACTION(() => (left = { kind: 'binary', op: 'AND', left, right, pos: left.pos }));
    });
    return left;
  });

  notExpr = this.RULE('notExpr', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.NOT);
          const operand = this.SUBRULE(this.notExpr);
          return this.ACTION((): Expr => ({ kind: 'unary', op: 'NOT', operand, pos: posOf(tok) }));
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
  });

  predicate = this.RULE('predicate', (): Expr => {
    let left = this.SUBRULE(this.additive);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            const op = this.SUBRULE(this.comparisonOp);
            const right = this.SUBRULE2(this.additive);
            this.ACTION(() => (left = { kind: 'binary', op, left, right, pos: left.pos }));
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.IS);
            let not = false;
            let what!: 'NULL' | 'TRUE' | 'FALSE' | 'UNKNOWN';
            this.OPTION(() => {
              this.CONSUME(T.NOT);
              not = true;
            });
            this.OR2([
              { ALT: () => (this.CONSUME(T.NULL), (what = 'NULL')) },
              { ALT: () => (this.CONSUME(T.TRUE), (what = 'TRUE')) },
              { ALT: () => (this.CONSUME(T.FALSE), (what = 'FALSE')) },
              { ALT: () => (this.CONSUME(T.UNKNOWN), (what = 'UNKNOWN')) },
            ]);
            this.ACTION(() => (left = { kind: 'is', expr: left, what, not, pos: left.pos }));
          },
        },
        {
          ALT: () => {
            let not = false;
            this.OPTION2(() => {
              this.CONSUME2(T.NOT);
              not = true;
            });
            this.OR3([
              {
                ALT: () => {
                  this.CONSUME(T.BETWEEN);
                  let symmetric = false;
                  this.OPTION3(() => {
                    this.OR4([
                      { ALT: () => (this.CONSUME(T.SYMMETRIC), (symmetric = true)) },
                      { ALT: () => this.CONSUME(T.ASYMMETRIC) },
                    ]);
                  });
                  const low = this.SUBRULE3(this.additive);
                  this.CONSUME(T.AND);
                  const high = this.SUBRULE4(this.additive);
                  this.ACTION(
                    () =>
                      (left = {
                        kind: 'between',
                        expr: left,
                        low,
                        high,
                        not,
                        symmetric,
                        pos: left.pos,
                      }),
                  );
                },
              },
              {
                ALT: () => {
                  let op: 'LIKE' | 'SIMILAR TO' = 'LIKE';
                  this.OR5([
                    { ALT: () => this.CONSUME(T.LIKE) },
                    {
                      ALT: () => {
                        this.CONSUME(T.SIMILAR);
                        this.CONSUME(T.TO);
                        op = 'SIMILAR TO';
                      },
                    },
                  ]);
                  const pattern = this.SUBRULE5(this.additive);
                  let escape: Expr | undefined;
                  this.OPTION4(() => {
                    this.CONSUME(T.ESCAPE);
                    escape = this.SUBRULE6(this.additive);
                  });
                  this.ACTION(
                    () =>
                      (left = {
                        kind: 'like',
                        op,
                        expr: left,
                        pattern,
                        not,
                        pos: left.pos,
                        ...(escape ? { escape } : {}),
                      }),
                  );
                },
              },
              {
                ALT: () => {
                  this.CONSUME(T.IN);
                  this.CONSUME(T.LParen);
                  let list!: Expr[] | Query;
                  // `IN ((SELECT ...))` is read as a subquery, the first alternative.
                  this.OR6({
                    IGNORE_AMBIGUITIES: true,
                    DEF: [
                      { ALT: () => (list = this.SUBRULE(this.query)) },
                      { ALT: () => (list = this.SUBRULE(this.exprList)) },
                    ],
                  });
                  this.CONSUME(T.RParen);
                  this.ACTION(() => (left = { kind: 'in', expr: left, list, not, pos: left.pos }));
                },
              },
            ]);
          },
        },
      ]);
    });
    return left;
  });

  comparisonOp = this.RULE('comparisonOp', (): '=' | '<>' | '<' | '<=' | '>' | '>=' => {
    return this.OR([
      { ALT: () => (this.CONSUME(T.Equals), '=' as const) },
      { ALT: () => (this.CONSUME(T.NotEquals), '<>' as const) },
      { ALT: () => (this.CONSUME(T.BangEquals), '<>' as const) },
      { ALT: () => (this.CONSUME(T.LessEquals), '<=' as const) },
      { ALT: () => (this.CONSUME(T.GreaterEquals), '>=' as const) },
      { ALT: () => (this.CONSUME(T.Less), '<' as const) },
      { ALT: () => (this.CONSUME(T.Greater), '>' as const) },
    ]);
  });

  exprList = this.RULE('exprList', (): Expr[] => {
    const list: Expr[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        const e = this.SUBRULE(this.expr);
        this.ACTION(() => list.push(e));
      },
    });
    return list;
  });

  additive = this.RULE('additive', (): Expr => {
    let left = this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => (this.CONSUME(T.Plus), '+' as const) },
        { ALT: () => (this.CONSUME(T.Minus), '-' as const) },
        { ALT: () => (this.CONSUME(T.Concat), '||' as const) },
      ]);
      const right = this.SUBRULE2(this.multiplicative);
      this.ACTION(() => (left = { kind: 'binary', op, left, right, pos: left.pos }));
    });
    return left;
  });

  multiplicative = this.RULE('multiplicative', (): Expr => {
    let left = this.SUBRULE(this.unary);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => (this.CONSUME(T.Star), '*' as const) },
        { ALT: () => (this.CONSUME(T.Slash), '/' as const) },
        { ALT: () => (this.CONSUME(T.Percent), '%' as const) },
      ]);
      const right = this.SUBRULE2(this.unary);
      this.ACTION(() => (left = { kind: 'binary', op, left, right, pos: left.pos }));
    });
    return left;
  });

  unary = this.RULE('unary', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          let op: '-' | '+' = '-';
          const tok = this.OR2([
            { ALT: () => this.CONSUME(T.Minus) },
            { ALT: () => ((op = '+'), this.CONSUME(T.Plus)) },
          ]);
          const operand = this.SUBRULE(this.unary);
          return this.ACTION((): Expr => ({ kind: 'unary', op, operand, pos: posOf(tok) }));
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  /** `x[1]`, `m['k']` (calls named ITEM) and `.field` of a ROW value (calls named DOT). */
  postfix = this.RULE('postfix', (): Expr => {
    let base = this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.LBracket);
            const index = this.SUBRULE(this.expr);
            this.CONSUME(T.RBracket);
            this.ACTION(() => (base = call('ITEM', [base, index], base.pos)));
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            const field = this.SUBRULE(this.identifier);
            this.ACTION(() => {
              const name: Expr = {
                kind: 'literal',
                type: 'string',
                value: field.text,
                pos: posOf(field.tok),
              };
              base = call('DOT', [base, name], base.pos);
            });
          },
        },
      ]);
    });
    return base;
  });

  primary = this.RULE('primary', (): Expr => {
    return this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { ALT: () => this.SUBRULE(this.literal) },
        { ALT: () => this.SUBRULE(this.interval) },
        { ALT: () => this.SUBRULE(this.caseExpr) },
        { ALT: () => this.SUBRULE(this.castExpr) },
        {
          ALT: () => {
            const tok = this.CONSUME(T.EXISTS);
            this.CONSUME(T.LParen);
            const query = this.SUBRULE(this.query);
            this.CONSUME(T.RParen);
            return this.ACTION((): Expr => ({
              kind: 'subquery',
              query,
              exists: true,
              pos: posOf(tok),
            }));
          },
        },
        {
          ALT: () => {
            const tok = this.CONSUME3(T.LParen);
            const query = this.SUBRULE2(this.query);
            this.CONSUME3(T.RParen);
            return this.ACTION((): Expr => ({
              kind: 'subquery',
              query,
              exists: false,
              pos: posOf(tok),
            }));
          },
        },
        {
          ALT: () => {
            this.CONSUME2(T.LParen);
            const inner = this.SUBRULE(this.expr);
            this.CONSUME2(T.RParen);
            return inner;
          },
        },
        { ALT: () => this.SUBRULE(this.constructorExpr) },
        { ALT: () => this.SUBRULE(this.specialFunction) },
        {
          ALT: () => {
            const tok = this.CONSUME(T.DESCRIPTOR);
            const columns = this.SUBRULE(this.nameList);
            return this.ACTION((): Expr => ({ kind: 'descriptor', columns, pos: posOf(tok) }));
          },
        },
        { ALT: () => this.SUBRULE(this.functionCall) },
        { ALT: () => this.SUBRULE(this.columnRef) },
      ],
    });
  });

  literal = this.RULE('literal', (): Expr => {
    return this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          ALT: () => {
            const tok = this.CONSUME(T.StringLit);
            return this.ACTION((): Expr => ({
              kind: 'literal',
              type: 'string',
              value: unquoteString(tok.image),
              pos: posOf(tok),
            }));
          },
        },
        {
          ALT: () => {
            const tok = this.CONSUME(T.NumberLit);
            return this.ACTION((): Expr => ({
              kind: 'literal',
              type: 'number',
              value: tok.image,
              pos: posOf(tok),
            }));
          },
        },
        {
          ALT: () => {
            const tok = this.CONSUME(T.TRUE);
            return this.ACTION((): Expr => ({
              kind: 'literal',
              type: 'boolean',
              value: true,
              pos: posOf(tok),
            }));
          },
        },
        {
          ALT: () => {
            const tok = this.CONSUME(T.FALSE);
            return this.ACTION((): Expr => ({
              kind: 'literal',
              type: 'boolean',
              value: false,
              pos: posOf(tok),
            }));
          },
        },
        {
          ALT: () => {
            const tok = this.CONSUME(T.NULL);
            return this.ACTION((): Expr => ({
              kind: 'literal',
              type: 'null',
              value: null,
              pos: posOf(tok),
            }));
          },
        },
        {
          ALT: () => {
            let type!: 'timestamp' | 'date' | 'time';
            const tok = this.OR2([
              { ALT: () => ((type = 'timestamp'), this.CONSUME(T.TIMESTAMP)) },
              { ALT: () => ((type = 'date'), this.CONSUME(T.DATE)) },
              { ALT: () => ((type = 'time'), this.CONSUME(T.TIME)) },
            ]);
            const value = this.CONSUME2(T.StringLit);
            return this.ACTION((): Expr => ({
              kind: 'literal',
              type,
              value: unquoteString(value.image),
              pos: posOf(tok),
            }));
          },
        },
      ],
    });
  });

  interval = this.RULE('interval', (): Expr => {
    const tok = this.CONSUME(T.INTERVAL);
    let sign: 1 | -1 = 1;
    this.OPTION(() => {
      this.OR([
        { ALT: () => (this.CONSUME(T.Minus), (sign = -1)) },
        { ALT: () => this.CONSUME(T.Plus) },
      ]);
    });
    const value = this.CONSUME(T.StringLit);
    const unit = this.SUBRULE(this.intervalUnit);
    let toUnit: IntervalUnit | undefined;
    this.OPTION2(() => {
      this.CONSUME(T.TO);
      toUnit = this.SUBRULE2(this.intervalUnit);
    });
    return this.ACTION((): Expr => ({
      kind: 'interval',
      value: unquoteString(value.image),
      sign,
      unit,
      pos: posOf(tok),
      ...(toUnit ? { toUnit } : {}),
    }));
  });

  /** `MINUTE`, `SECOND(3)` (the precision is accepted and ignored: values are milliseconds). */
  intervalUnit = this.RULE('intervalUnit', (): IntervalUnit => {
    const name = this.SUBRULE(this.identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.CONSUME(T.NumberLit);
      this.OPTION2(() => {
        this.CONSUME(T.Comma);
        this.CONSUME2(T.NumberLit);
      });
      this.CONSUME(T.RParen);
    });
    return this.ACTION(() => {
      const unit = INTERVAL_UNITS[name.text.toUpperCase()];
      if (!unit) {
        throw new SemanticError(
          `unknown interval unit '${name.text}'; expected YEAR, MONTH, DAY, HOUR, MINUTE or SECOND`,
          name.tok,
        );
      }
      return unit;
    });
  });

  caseExpr = this.RULE('caseExpr', (): Expr => {
    const tok = this.CONSUME(T.CASE);
    let operand: Expr | undefined;
    let elseExpr: Expr | undefined;
    const whens: { when: Expr; then: Expr }[] = [];
    this.OPTION(() => (operand = this.SUBRULE(this.expr)));
    this.AT_LEAST_ONE(() => {
      this.CONSUME(T.WHEN);
      const when = this.SUBRULE2(this.expr);
      this.CONSUME(T.THEN);
      const then = this.SUBRULE3(this.expr);
      this.ACTION(() => whens.push({ when, then }));
    });
    this.OPTION2(() => {
      this.CONSUME(T.ELSE);
      elseExpr = this.SUBRULE4(this.expr);
    });
    this.CONSUME(T.END);
    return this.ACTION((): Expr => ({
      kind: 'case',
      whens,
      pos: posOf(tok),
      ...(operand ? { operand } : {}),
      ...(elseExpr ? { else: elseExpr } : {}),
    }));
  });

  castExpr = this.RULE('castExpr', (): Expr => {
    let isTry = false;
    const tok = this.OR([
      { ALT: () => this.CONSUME(T.CAST) },
      { ALT: () => ((isTry = true), this.CONSUME(T.TRY_CAST)) },
    ]);
    this.CONSUME(T.LParen);
    const expr = this.SUBRULE(this.expr);
    this.CONSUME(T.AS);
    const type = this.SUBRULE(this.dataType);
    this.CONSUME(T.RParen);
    return this.ACTION((): Expr => ({ kind: 'cast', expr, type, try: isTry, pos: posOf(tok) }));
  });

  /** `ROW(a, b)`, `ARRAY[1, 2]`, `MAP['k', v]`. */
  constructorExpr = this.RULE('constructorExpr', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.ROW);
          this.CONSUME(T.LParen);
          let args: Expr[] = [];
          this.OPTION(() => (args = this.SUBRULE(this.exprList)));
          this.CONSUME(T.RParen);
          return this.ACTION(() => call('ROW', args, posOf(tok)));
        },
      },
      {
        ALT: () => {
          let name = 'ARRAY';
          const tok = this.OR2([
            { ALT: () => this.CONSUME(T.ARRAY) },
            { ALT: () => ((name = 'MAP'), this.CONSUME(T.MAP)) },
          ]);
          this.CONSUME(T.LBracket);
          let args: Expr[] = [];
          this.OPTION2(() => (args = this.SUBRULE2(this.exprList)));
          this.CONSUME(T.RBracket);
          return this.ACTION(() => call(name, args, posOf(tok)));
        },
      },
    ]);
  });

  /** Functions with SQL's keyword-argument syntax, and the niladic date-time functions. */
  specialFunction = this.RULE('specialFunction', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.SUBSTRING);
          this.CONSUME(T.LParen);
          const args: Expr[] = [this.SUBRULE(this.expr)];
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(T.FROM);
                args.push(this.SUBRULE2(this.expr));
                this.OPTION(() => {
                  this.CONSUME(T.FOR);
                  args.push(this.SUBRULE3(this.expr));
                });
              },
            },
            {
              ALT: () => {
                this.MANY(() => {
                  this.CONSUME(T.Comma);
                  args.push(this.SUBRULE4(this.expr));
                });
              },
            },
          ]);
          this.CONSUME(T.RParen);
          return this.ACTION(() => call('SUBSTRING', args, posOf(tok)));
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(T.EXTRACT);
          this.CONSUME2(T.LParen);
          const unit = this.SUBRULE(this.identifier);
          this.CONSUME2(T.FROM);
          const from = this.SUBRULE5(this.expr);
          this.CONSUME2(T.RParen);
          return this.ACTION(() => {
            const unitLit: Expr = {
              kind: 'literal',
              type: 'string',
              value: unit.text.toUpperCase(),
              pos: posOf(unit.tok),
            };
            return call('EXTRACT', [unitLit, from], posOf(tok));
          });
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(T.TRIM);
          this.CONSUME3(T.LParen);
          let mode: IToken | undefined;
          let chars: Expr | undefined;
          let source: Expr | undefined;
          this.OPTION2(() => {
            mode = this.OR3([
              { ALT: () => this.CONSUME(T.BOTH) },
              { ALT: () => this.CONSUME(T.LEADING) },
              { ALT: () => this.CONSUME(T.TRAILING) },
            ]);
          });
          this.OPTION3(() => (chars = this.SUBRULE6(this.expr)));
          this.OPTION4(() => {
            this.CONSUME3(T.FROM);
            source = this.SUBRULE7(this.expr);
          });
          this.CONSUME3(T.RParen);
          return this.ACTION(() => {
            const p = posOf(tok);
            const str = (value: string, at: Pos): Expr => ({
              kind: 'literal',
              type: 'string',
              value,
              pos: at,
            });
            // TRIM(s) trims spaces from both ends; TRIM(BOTH FROM s) likewise.
            const target = source ?? chars;
            if (!target) throw new SemanticError('TRIM needs a string to trim', tok);
            const what = source ? (chars ?? str(' ', p)) : str(' ', p);
            const modeLit = str(mode ? mode.image.toUpperCase() : 'BOTH', mode ? posOf(mode) : p);
            return call('TRIM', [modeLit, what, target], p);
          });
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(T.POSITION);
          this.CONSUME4(T.LParen);
          const needle = this.SUBRULE(this.additive);
          this.CONSUME(T.IN);
          const haystack = this.SUBRULE2(this.additive);
          this.CONSUME4(T.RParen);
          return this.ACTION(() => call('POSITION', [needle, haystack], posOf(tok)));
        },
      },
      {
        ALT: () => {
          const tok = this.OR4([
            { ALT: () => this.CONSUME(T.CURRENT_TIMESTAMP) },
            { ALT: () => this.CONSUME(T.CURRENT_DATE) },
            { ALT: () => this.CONSUME(T.CURRENT_TIME) },
            { ALT: () => this.CONSUME(T.LOCALTIMESTAMP) },
            { ALT: () => this.CONSUME(T.LOCALTIME) },
          ]);
          return this.ACTION(() => call(tok.image.toUpperCase(), [], posOf(tok)));
        },
      },
    ]);
  });

  functionCall = this.RULE('functionCall', (): Expr => {
    let nameTok!: IToken;
    this.OR([
      { ALT: () => (nameTok = this.SUBRULE(this.identifier).tok) },
      // LEFT(s, n) and RIGHT(s, n) are string functions despite being join keywords.
      { ALT: () => (nameTok = this.CONSUME(T.LEFT)) },
      { ALT: () => (nameTok = this.CONSUME(T.RIGHT)) },
    ]);
    this.CONSUME(T.LParen);
    let distinct = false;
    const args: Expr[] = [];
    const argNames: string[] = [];
    this.OPTION(() => {
      this.OR2([
        {
          ALT: () => {
            const star = this.CONSUME(T.Star);
            this.ACTION(() => args.push({ kind: 'star', pos: posOf(star) }));
          },
        },
        {
          ALT: () => {
            this.OPTION2(() => {
              this.OR3([
                { ALT: () => (this.CONSUME(T.DISTINCT), (distinct = true)) },
                { ALT: () => this.CONSUME(T.ALL) },
              ]);
            });
            this.AT_LEAST_ONE_SEP({
              SEP: T.Comma,
              DEF: () => {
                let argName: string | undefined;
                this.OPTION3(() => {
                  const n = this.SUBRULE2(this.identifier);
                  this.CONSUME(T.Arrow);
                  this.ACTION(() => (argName = n.text.toUpperCase()));
                });
                const arg = this.SUBRULE(this.functionArg);
                this.ACTION(() => {
                  args.push(arg);
                  if (argName !== undefined) argNames.push(argName);
                });
              },
            });
          },
        },
      ]);
    });
    this.CONSUME(T.RParen);
    let filter: Expr | undefined;
    let over: OverSpec | undefined;
    this.OPTION4(() => {
      this.CONSUME(T.FILTER);
      this.CONSUME2(T.LParen);
      this.CONSUME(T.WHERE);
      filter = this.SUBRULE(this.expr);
      this.CONSUME2(T.RParen);
    });
    this.OPTION5(() => {
      const overTok = this.CONSUME(T.OVER);
      this.OR4([
        { ALT: () => (over = this.SUBRULE(this.windowSpec)) },
        {
          ALT: () => {
            const w = this.SUBRULE3(this.identifier);
            this.ACTION(
              () =>
                (over = { windowName: w.text, partitionBy: [], orderBy: [], pos: posOf(overTok) }),
            );
          },
        },
      ]);
    });
    return this.ACTION((): Expr => {
      if (argNames.length > 0 && argNames.length !== args.length) {
        throw new SemanticError(
          'mix of named and positional arguments; name every argument (NAME => value) or none',
          nameTok,
        );
      }
      const result: CallExpr = {
        kind: 'call',
        name: nameTok.image.startsWith('`')
          ? unquoteIdent(nameTok.image)
          : nameTok.image.toUpperCase(),
        args,
        distinct,
        pos: posOf(nameTok),
        ...(argNames.length > 0 ? { argNames } : {}),
        ...(filter ? { filter } : {}),
        ...(over ? { over } : {}),
      };
      return result;
    });
  });

  /** An argument: an expression, or `TABLE t [PARTITION BY k]` of a table function. */
  functionArg = this.RULE('functionArg', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.TABLE);
          const name = this.SUBRULE(this.qualifiedName);
          let partitionBy: Expr[] = [];
          // Several keys need parentheses, `PARTITION BY (a, b)`: a comma ends the argument.
          this.OPTION(() => {
            this.CONSUME(T.PARTITION);
            this.CONSUME(T.BY);
            this.OR2({
              IGNORE_AMBIGUITIES: true,
              DEF: [
                {
                  ALT: () => {
                    this.CONSUME(T.LParen);
                    partitionBy = this.SUBRULE(this.exprList);
                    this.CONSUME(T.RParen);
                  },
                },
                {
                  ALT: () => {
                    const key = this.SUBRULE2(this.expr);
                    this.ACTION(() => (partitionBy = [key]));
                  },
                },
              ],
            });
          });
          return this.ACTION((): Expr => ({
            kind: 'tableArg',
            name: name.parts,
            partitionBy,
            pos: posOf(tok),
          }));
        },
      },
      { ALT: () => this.SUBRULE(this.expr) },
    ]);
  });

  /** `a`, `t.a`, `t.*`. */
  columnRef = this.RULE('columnRef', (): Expr => {
    const first = this.SUBRULE(this.identifier);
    const parts: string[] = [];
    let star = false;
    this.ACTION(() => parts.push(first.text));
    this.MANY(() => {
      this.CONSUME(T.Dot);
      const n = this.SUBRULE2(this.identifier);
      this.ACTION(() => parts.push(n.text));
    });
    this.OPTION(() => {
      this.CONSUME2(T.Dot);
      this.CONSUME(T.Star);
      star = true;
    });
    return this.ACTION((): Expr =>
      star
        ? { kind: 'star', qualifier: parts, pos: posOf(first.tok) }
        : { kind: 'ident', parts, pos: posOf(first.tok) },
    );
  });

  /** The parenthesized part of `OVER (...)` and of `WINDOW w AS (...)`. */
  windowSpec = this.RULE('windowSpec', (): OverSpec => {
    const tok = this.CONSUME(T.LParen);
    let windowName: string | undefined;
    let partitionBy: Expr[] = [];
    let orderBy: OrderItem[] = [];
    let frame: WindowFrame | undefined;
    // A base window name; `partition` may be a name too, but not when BY follows.
    this.OPTION({
      GATE: () => !(tokenMatcher(this.LA(1), T.PARTITION) && tokenMatcher(this.LA(2), T.BY)),
      DEF: () => {
        const n = this.SUBRULE(this.identifier);
        this.ACTION(() => (windowName = n.text));
      },
    });
    this.OPTION2(() => {
      this.CONSUME(T.PARTITION);
      this.CONSUME(T.BY);
      partitionBy = this.SUBRULE(this.exprList);
    });
    this.OPTION3(() => (orderBy = this.SUBRULE(this.orderByClause)));
    this.OPTION4(() => {
      let unit: 'ROWS' | 'RANGE' = 'ROWS';
      this.OR([
        { ALT: () => this.CONSUME(T.ROWS) },
        { ALT: () => ((unit = 'RANGE'), this.CONSUME(T.RANGE)) },
      ]);
      this.OR2([
        {
          ALT: () => {
            this.CONSUME(T.BETWEEN);
            const start = this.SUBRULE(this.frameBound);
            this.CONSUME(T.AND);
            const end = this.SUBRULE2(this.frameBound);
            this.ACTION(() => (frame = { unit, start, end }));
          },
        },
        {
          ALT: () => {
            const start = this.SUBRULE3(this.frameBound);
            this.ACTION(() => (frame = { unit, start, end: { kind: 'currentRow' } }));
          },
        },
      ]);
    });
    this.CONSUME(T.RParen);
    return this.ACTION(() => ({
      partitionBy,
      orderBy,
      pos: posOf(tok),
      ...(windowName !== undefined ? { windowName } : {}),
      ...(frame ? { frame } : {}),
    }));
  });

  frameBound = this.RULE('frameBound', (): FrameBound => {
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.UNBOUNDED);
          return this.OR2([
            {
              ALT: () => (this.CONSUME(T.PRECEDING), { kind: 'unboundedPreceding' as const }),
            },
            {
              ALT: () => (this.CONSUME(T.FOLLOWING), { kind: 'unboundedFollowing' as const }),
            },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.CURRENT);
          this.CONSUME(T.ROW);
          return { kind: 'currentRow' as const };
        },
      },
      {
        ALT: () => {
          const offset = this.SUBRULE(this.additive);
          return this.OR3([
            {
              ALT: () => (this.CONSUME2(T.PRECEDING), { kind: 'preceding' as const, offset }),
            },
            {
              ALT: () => (this.CONSUME2(T.FOLLOWING), { kind: 'following' as const, offset }),
            },
          ]);
        },
      },
    ]);
  });

  orderByClause = this.RULE('orderByClause', (): OrderItem[] => {
    this.CONSUME(T.ORDER);
    this.CONSUME(T.BY);
    const items: OrderItem[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        const expr = this.SUBRULE(this.expr);
        let direction: 'ASC' | 'DESC' = 'ASC';
        let nulls: 'FIRST' | 'LAST' | undefined;
        this.OPTION(() => {
          this.OR([
            { ALT: () => this.CONSUME(T.ASC) },
            { ALT: () => ((direction = 'DESC'), this.CONSUME(T.DESC)) },
          ]);
        });
        this.OPTION2(() => {
          this.CONSUME(T.NULLS);
          this.OR2([
            { ALT: () => ((nulls = 'FIRST'), this.CONSUME(T.FIRST)) },
            { ALT: () => ((nulls = 'LAST'), this.CONSUME(T.LAST)) },
          ]);
        });
        this.ACTION(() => items.push({ expr, direction, ...(nulls ? { nulls } : {}) }));
      },
    });
    return items;
  });

  // -------------------------------------------------------------------------------------------
  // Queries

  query = this.RULE('query', (): Query => {
    return this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.WITH);
          const ctes: { name: string; columns?: string[]; query: Query }[] = [];
          this.AT_LEAST_ONE_SEP({
            SEP: T.Comma,
            DEF: () => {
              const name = this.SUBRULE(this.identifier);
              let columns: string[] | undefined;
              this.OPTION(() => (columns = this.SUBRULE(this.nameList)));
              this.CONSUME(T.AS);
              this.CONSUME(T.LParen);
              const query = this.SUBRULE(this.query);
              this.CONSUME(T.RParen);
              this.ACTION(() =>
                ctes.push({ name: name.text, query, ...(columns ? { columns } : {}) }),
              );
            },
          });
          const body = this.SUBRULE(this.orderedQuery);
          return this.ACTION((): Query => ({ kind: 'with', ctes, body, pos: posOf(tok) }));
        },
      },
      { ALT: () => this.SUBRULE2(this.orderedQuery) },
    ]);
  });

  /** Set operations, then ORDER BY and LIMIT of the whole. */
  orderedQuery = this.RULE('orderedQuery', (): Query => {
    let left = this.SUBRULE(this.intersectTerm);
    this.MANY(() => {
      let op: 'UNION' | 'EXCEPT' = 'UNION';
      this.OR([
        { ALT: () => this.CONSUME(T.UNION) },
        { ALT: () => ((op = 'EXCEPT'), this.CONSUME(T.EXCEPT)) },
      ]);
      const all = this.SUBRULE(this.setQuantifier);
      const right = this.SUBRULE2(this.intersectTerm);
      this.ACTION(
        () => (left = { kind: 'setOperation', op, all, left, right, orderBy: [], pos: left.pos }),
      );
    });
    let orderBy: OrderItem[] = [];
    let limit: Expr | undefined;
    this.OPTION(() => (orderBy = this.SUBRULE(this.orderByClause)));
    this.OPTION2(() => {
      this.CONSUME(T.LIMIT);
      limit = this.SUBRULE(this.additive);
    });
    return this.ACTION((): Query => {
      if (orderBy.length === 0 && !limit) return left;
      const extra = { orderBy, ...(limit ? { limit } : {}) };
      if (left.kind === 'select' || left.kind === 'setOperation') return { ...left, ...extra };
      // ORDER BY over VALUES: sort a SELECT * over it.
      return {
        kind: 'select',
        distinct: false,
        items: [{ expr: { kind: 'star', pos: left.pos }, pos: left.pos }],
        from: { kind: 'subquery', query: left, pos: left.pos },
        groupBy: [],
        windows: [],
        pos: left.pos,
        ...extra,
      };
    });
  });

  setQuantifier = this.RULE('setQuantifier', (): boolean => {
    let all = false;
    this.OPTION(() => {
      this.OR([
        { ALT: () => ((all = true), this.CONSUME(T.ALL)) },
        { ALT: () => this.CONSUME(T.DISTINCT) },
      ]);
    });
    return all;
  });

  intersectTerm = this.RULE('intersectTerm', (): Query => {
    let left = this.SUBRULE(this.queryPrimary);
    this.MANY(() => {
      this.CONSUME(T.INTERSECT);
      const all = this.SUBRULE(this.setQuantifier);
      const right = this.SUBRULE2(this.queryPrimary);
      this.ACTION(
        () =>
          (left = {
            kind: 'setOperation',
            op: 'INTERSECT',
            all,
            left,
            right,
            orderBy: [],
            pos: left.pos,
          }),
      );
    });
    return left;
  });

  queryPrimary = this.RULE('queryPrimary', (): Query => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.select) },
      { ALT: () => this.SUBRULE(this.values) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          const q = this.SUBRULE(this.query);
          this.CONSUME(T.RParen);
          return q;
        },
      },
    ]);
  });

  values = this.RULE('values', (): Query => {
    const tok = this.CONSUME(T.VALUES);
    const rows: Expr[][] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              this.CONSUME(T.ROW);
              this.CONSUME(T.LParen);
              const row = this.SUBRULE(this.exprList);
              this.CONSUME(T.RParen);
              this.ACTION(() => rows.push(row));
            },
          },
          {
            ALT: () => {
              this.CONSUME2(T.LParen);
              const row = this.SUBRULE2(this.exprList);
              this.CONSUME2(T.RParen);
              this.ACTION(() => rows.push(row));
            },
          },
        ]);
      },
    });
    return this.ACTION((): Query => ({ kind: 'values', rows, pos: posOf(tok) }));
  });

  select = this.RULE('select', (): Select => {
    const tok = this.CONSUME(T.SELECT);
    let distinct = false;
    this.OPTION(() => {
      this.OR([
        { ALT: () => (this.CONSUME(T.DISTINCT), (distinct = true)) },
        { ALT: () => this.CONSUME(T.ALL) },
      ]);
    });
    const items = this.SUBRULE(this.selectItems);
    let from: TableRef | undefined;
    let where: Expr | undefined;
    let groupBy: Expr[] = [];
    let having: Expr | undefined;
    const windows: NamedWindow[] = [];
    this.OPTION2(() => {
      this.CONSUME(T.FROM);
      from = this.SUBRULE(this.fromClause);
    });
    this.OPTION3(() => {
      this.CONSUME(T.WHERE);
      where = this.SUBRULE(this.expr);
    });
    this.OPTION4(() => {
      this.CONSUME(T.GROUP);
      this.CONSUME(T.BY);
      groupBy = this.SUBRULE(this.exprList);
    });
    this.OPTION5(() => {
      this.CONSUME(T.HAVING);
      having = this.SUBRULE2(this.expr);
    });
    this.OPTION6(() => {
      this.CONSUME(T.WINDOW);
      this.AT_LEAST_ONE_SEP({
        SEP: T.Comma,
        DEF: () => {
          const name = this.SUBRULE(this.identifier);
          this.CONSUME(T.AS);
          const spec = this.SUBRULE(this.windowSpec);
          this.ACTION(() => windows.push({ name: name.text, spec }));
        },
      });
    });
    return this.ACTION((): Select => ({
      kind: 'select',
      distinct,
      items,
      groupBy,
      windows,
      orderBy: [],
      pos: posOf(tok),
      ...(from ? { from } : {}),
      ...(where ? { where } : {}),
      ...(having ? { having } : {}),
    }));
  });

  selectItems = this.RULE('selectItems', (): SelectItem[] => {
    const items: SelectItem[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              const star = this.CONSUME(T.Star);
              this.ACTION(() =>
                items.push({ expr: { kind: 'star', pos: posOf(star) }, pos: posOf(star) }),
              );
            },
          },
          {
            ALT: () => {
              const expr = this.SUBRULE(this.expr);
              let alias: string | undefined;
              this.OPTION(() => (alias = this.SUBRULE(this.alias)));
              this.ACTION(() =>
                items.push({ expr, pos: expr.pos, ...(alias !== undefined ? { alias } : {}) }),
              );
            },
          },
        ]);
      },
    });
    return items;
  });

  alias = this.RULE('alias', (): string => {
    this.OPTION(() => this.CONSUME(T.AS));
    const name = this.SUBRULE(this.identifier);
    return this.ACTION(() => name.text);
  });

  fromClause = this.RULE('fromClause', (): TableRef => {
    let left = this.SUBRULE(this.joinedTable);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      const right = this.SUBRULE2(this.joinedTable);
      this.ACTION(() => (left = { kind: 'join', type: 'CROSS', left, right, pos: left.pos }));
    });
    return left;
  });

  joinedTable = this.RULE('joinedTable', (): TableRef => {
    let left = this.SUBRULE(this.tablePrimary);
    this.MANY(() => {
      let type: 'INNER' | 'LEFT' | 'RIGHT' | 'FULL' | 'CROSS' = 'INNER';
      this.OPTION(() => {
        this.OR([
          { ALT: () => this.CONSUME(T.INNER) },
          { ALT: () => ((type = 'CROSS'), this.CONSUME(T.CROSS)) },
          {
            ALT: () => {
              this.OR2([
                { ALT: () => ((type = 'LEFT'), this.CONSUME(T.LEFT)) },
                { ALT: () => ((type = 'RIGHT'), this.CONSUME(T.RIGHT)) },
                { ALT: () => ((type = 'FULL'), this.CONSUME(T.FULL)) },
              ]);
              this.OPTION2(() => this.CONSUME(T.OUTER));
            },
          },
        ]);
      });
      this.CONSUME(T.JOIN);
      const right = this.SUBRULE2(this.tablePrimary);
      let on: Expr | undefined;
      let using: string[] | undefined;
      this.OPTION3(() => {
        this.OR3([
          {
            ALT: () => {
              this.CONSUME(T.ON);
              on = this.SUBRULE(this.expr);
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.USING);
              using = this.SUBRULE(this.nameList);
            },
          },
        ]);
      });
      this.ACTION(
        () =>
          (left = {
            kind: 'join',
            type,
            left,
            right,
            pos: left.pos,
            ...(on ? { on } : {}),
            ...(using ? { using } : {}),
          }),
      );
    });
    return left;
  });

  tablePrimary = this.RULE('tablePrimary', (): TableRef => {
    let ref!: TableRef;
    this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.TABLE);
          this.CONSUME(T.LParen);
          const fn = this.SUBRULE(this.functionCall);
          this.CONSUME(T.RParen);
          this.ACTION(() => {
            if (fn.kind !== 'call') throw new SemanticError('expected a table function call', tok);
            ref = { kind: 'tvf', call: fn, pos: posOf(tok) };
          });
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME2(T.LParen);
          const query = this.SUBRULE(this.query);
          this.CONSUME2(T.RParen);
          this.ACTION(() => (ref = { kind: 'subquery', query, pos: posOf(tok) }));
        },
      },
      {
        ALT: () => {
          const name = this.SUBRULE(this.qualifiedName);
          let asOf: Expr | undefined;
          // Temporal join: `FOR SYSTEM_TIME AS OF o.order_time`.
          this.OPTION(() => {
            this.CONSUME(T.FOR);
            this.CONSUME(T.SYSTEM_TIME);
            this.CONSUME(T.AS);
            this.CONSUME(T.OF);
            asOf = this.SUBRULE(this.additive);
          });
          this.ACTION(
            () =>
              (ref = {
                kind: 'table',
                name: name.parts,
                pos: posOf(name.tok),
                ...(asOf ? { forSystemTimeAsOf: asOf } : {}),
              }),
          );
        },
      },
    ]);
    let alias: string | undefined;
    let columnAliases: string[] | undefined;
    this.OPTION2(() => {
      alias = this.SUBRULE(this.alias);
      this.OPTION3(() => (columnAliases = this.SUBRULE(this.nameList)));
    });
    return this.ACTION((): TableRef =>
      ref.kind === 'join'
        ? ref
        : {
            ...ref,
            ...(alias !== undefined ? { alias } : {}),
            ...(columnAliases ? { columnAliases } : {}),
          },
    );
  });

  // -------------------------------------------------------------------------------------------
  // Statements

  statement = this.RULE('statement', (): Statement => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.createStatement) },
      { ALT: () => this.SUBRULE(this.dropStatement) },
      { ALT: () => this.SUBRULE(this.insert) },
      { ALT: () => this.SUBRULE(this.queryStatement) },
      { ALT: () => this.SUBRULE(this.showStatement) },
      {
        ALT: () => {
          let tok!: IToken;
          this.OR2([
            { ALT: () => (tok = this.CONSUME(T.DESCRIBE)) },
            { ALT: () => (tok = this.CONSUME(T.DESC)) },
          ]);
          const name = this.SUBRULE(this.qualifiedName);
          return this.ACTION((): Statement => ({
            kind: 'describe',
            name: name.parts,
            pos: posOf(tok),
          }));
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(T.EXPLAIN);
          this.OPTION(() => {
            this.CONSUME(T.PLAN);
            this.CONSUME(T.FOR);
          });
          const statement = this.OR3([
            { ALT: () => this.SUBRULE2(this.insert) },
            { ALT: () => this.SUBRULE2(this.queryStatement) },
            { ALT: () => this.SUBRULE(this.executeStatement) },
            { ALT: () => this.SUBRULE(this.statementSetBlock) },
          ]);
          return this.ACTION((): Statement => {
            if (
              statement.kind === 'insert' ||
              statement.kind === 'query' ||
              statement.kind === 'statementSet'
            ) {
              return { kind: 'explain', statement, pos: posOf(tok) };
            }
            throw new SemanticError('EXPLAIN takes a query, an INSERT or a statement set', tok);
          });
        },
      },
      { ALT: () => this.SUBRULE2(this.executeStatement) },
      {
        ALT: () => {
          const tok = this.CONSUME(T.SET);
          let key: string | undefined;
          let value: string | undefined;
          this.OPTION2(() => {
            key = this.SUBRULE(this.stringValue);
            this.CONSUME(T.Equals);
            value = this.SUBRULE2(this.stringValue);
          });
          return this.ACTION((): Statement => ({
            kind: 'set',
            pos: posOf(tok),
            ...(key !== undefined ? { key, value } : {}),
          }));
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(T.RESET);
          let key: string | undefined;
          this.OPTION3(() => (key = this.SUBRULE3(this.stringValue)));
          return this.ACTION((): Statement => ({
            kind: 'reset',
            pos: posOf(tok),
            ...(key !== undefined ? { key } : {}),
          }));
        },
      },
    ]);
  });

  queryStatement = this.RULE('queryStatement', (): Statement => {
    const query = this.SUBRULE(this.query);
    return this.ACTION((): Statement => ({ kind: 'query', query, pos: query.pos }));
  });

  /** `EXECUTE STATEMENT SET BEGIN ... END`, `EXECUTE INSERT ...`, `EXECUTE SELECT ...`. */
  executeStatement = this.RULE('executeStatement', (): Statement => {
    const tok = this.CONSUME(T.EXECUTE);
    const inner = this.OR([
      { ALT: () => this.SUBRULE(this.statementSetBlock) },
      { ALT: () => this.SUBRULE(this.insert) },
      { ALT: () => this.SUBRULE(this.queryStatement) },
    ]);
    return this.ACTION((): Statement => ({ ...inner, pos: posOf(tok) }));
  });

  statementSetBlock = this.RULE('statementSetBlock', (): StatementSet => {
    const tok = this.CONSUME(T.STATEMENT);
    this.CONSUME(T.SET);
    this.CONSUME(T.BEGIN);
    const inserts: Insert[] = [];
    this.AT_LEAST_ONE(() => {
      const insert = this.SUBRULE(this.insert);
      this.CONSUME(T.Semicolon);
      this.ACTION(() => inserts.push(insert));
    });
    this.CONSUME(T.END);
    return this.ACTION((): StatementSet => ({ kind: 'statementSet', inserts, pos: posOf(tok) }));
  });

  insert = this.RULE('insert', (): Insert => {
    const tok = this.CONSUME(T.INSERT);
    let overwrite = false;
    this.OR([
      { ALT: () => this.CONSUME(T.INTO) },
      { ALT: () => ((overwrite = true), this.CONSUME(T.OVERWRITE)) },
    ]);
    const table = this.SUBRULE(this.qualifiedName);
    let columns: string[] | undefined;
    this.OPTION(() => (columns = this.SUBRULE(this.nameList)));
    const query = this.SUBRULE(this.query);
    return this.ACTION((): Insert => ({
      kind: 'insert',
      table: table.parts,
      overwrite,
      query,
      pos: posOf(tok),
      ...(columns ? { columns } : {}),
    }));
  });

  showStatement = this.RULE('showStatement', (): Statement => {
    const tok = this.CONSUME(T.SHOW);
    return this.OR([
      {
        ALT: () => {
          let what!: 'TABLES' | 'VIEWS' | 'FUNCTIONS' | 'CATALOGS' | 'DATABASES' | 'JOBS';
          this.OR2([
            { ALT: () => ((what = 'TABLES'), this.CONSUME(T.TABLES)) },
            { ALT: () => ((what = 'VIEWS'), this.CONSUME(T.VIEWS)) },
            { ALT: () => ((what = 'FUNCTIONS'), this.CONSUME(T.FUNCTIONS)) },
            { ALT: () => ((what = 'CATALOGS'), this.CONSUME(T.CATALOGS)) },
            { ALT: () => ((what = 'DATABASES'), this.CONSUME(T.DATABASES)) },
            { ALT: () => ((what = 'JOBS'), this.CONSUME(T.JOBS)) },
          ]);
          return this.ACTION((): Statement => ({ kind: 'show', what, pos: posOf(tok) }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.CREATE);
          let object: 'TABLE' | 'VIEW' = 'TABLE';
          this.OR3([
            { ALT: () => this.CONSUME(T.TABLE) },
            { ALT: () => ((object = 'VIEW'), this.CONSUME(T.VIEW)) },
          ]);
          const name = this.SUBRULE(this.qualifiedName);
          return this.ACTION((): Statement => ({
            kind: 'showCreate',
            object,
            name: name.parts,
            pos: posOf(tok),
          }));
        },
      },
    ]);
  });

  dropStatement = this.RULE('dropStatement', (): Statement => {
    const tok = this.CONSUME(T.DROP);
    let temporary = false;
    let ifExists = false;
    let object: 'TABLE' | 'VIEW' = 'TABLE';
    this.OPTION(() => (this.CONSUME(T.TEMPORARY), (temporary = true)));
    this.OR([
      { ALT: () => this.CONSUME(T.TABLE) },
      { ALT: () => ((object = 'VIEW'), this.CONSUME(T.VIEW)) },
    ]);
    this.OPTION2(() => {
      this.CONSUME(T.IF);
      this.CONSUME(T.EXISTS);
      ifExists = true;
    });
    const name = this.SUBRULE(this.qualifiedName);
    return this.ACTION((): Statement => ({
      kind: 'drop',
      object,
      temporary,
      ifExists,
      name: name.parts,
      pos: posOf(tok),
    }));
  });

  createStatement = this.RULE('createStatement', (): Statement => {
    const tok = this.CONSUME(T.CREATE);
    let temporary = false;
    let ifNotExists = false;
    this.OPTION(() => (this.CONSUME(T.TEMPORARY), (temporary = true)));
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.TABLE);
          this.OPTION2(() => {
            this.CONSUME(T.IF);
            this.CONSUME(T.NOT);
            this.CONSUME(T.EXISTS);
            ifNotExists = true;
          });
          const name = this.SUBRULE(this.qualifiedName);
          const table = this.SUBRULE(this.createTableBody);
          return this.ACTION((): Statement => ({
            ...table,
            name: name.parts,
            temporary,
            ifNotExists,
            pos: posOf(tok),
          }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.VIEW);
          this.OPTION3(() => {
            this.CONSUME2(T.IF);
            this.CONSUME2(T.NOT);
            this.CONSUME2(T.EXISTS);
            ifNotExists = true;
          });
          const name = this.SUBRULE2(this.qualifiedName);
          let columns: string[] | undefined;
          this.OPTION4(() => (columns = this.SUBRULE(this.nameList)));
          this.OPTION5(() => {
            this.CONSUME(T.COMMENT);
            this.CONSUME(T.StringLit);
          });
          this.CONSUME(T.AS);
          const first = this.LA(1);
          const query = this.SUBRULE(this.query);
          return this.ACTION((): Statement => ({
            kind: 'createView',
            name: name.parts,
            temporary,
            ifNotExists,
            query,
            queryText: this.textBetween(first, this.LA(0)),
            pos: posOf(tok),
            ...(columns ? { columns } : {}),
          }));
        },
      },
    ]);
  });

  /** Everything of CREATE TABLE after the name. */
  createTableBody = this.RULE(
    'createTableBody',
    (): Omit<CreateTable, 'name' | 'temporary' | 'ifNotExists' | 'pos'> => {
      const columns: ColumnDef[] = [];
      let watermark: CreateTable['watermark'];
      let primaryKey: { columns: readonly string[]; enforced: boolean; pos: Pos } | undefined;
      let partitionedBy: string[] = [];
      let comment: string | undefined;
      const options: { key: string; value: string; pos: Pos }[] = [];
      let like: string[] | undefined;
      let duplicateKey: IToken | undefined;
      const setKey = (key: typeof primaryKey, at: IToken): void => {
        if (primaryKey) duplicateKey = at;
        primaryKey = key;
      };
      this.OPTION(() => {
        this.CONSUME(T.LParen);
        this.AT_LEAST_ONE_SEP({
          SEP: T.Comma,
          DEF: () => {
            this.OR({
              IGNORE_AMBIGUITIES: true,
              DEF: [
                {
                  ALT: () => {
                    const wm = this.CONSUME(T.WATERMARK);
                    this.CONSUME(T.FOR);
                    const column = this.SUBRULE(this.identifier);
                    this.CONSUME(T.AS);
                    const expr = this.SUBRULE(this.expr);
                    this.ACTION(() => (watermark = { column: column.text, expr, pos: posOf(wm) }));
                  },
                },
                {
                  ALT: () => {
                    let start: IToken | undefined;
                    this.OPTION2(() => {
                      start = this.CONSUME(T.CONSTRAINT);
                      this.SUBRULE2(this.identifier);
                    });
                    const pk = this.CONSUME(T.PRIMARY);
                    this.CONSUME(T.KEY);
                    const keyColumns = this.SUBRULE(this.nameList);
                    const enforced = this.SUBRULE(this.enforcement);
                    this.ACTION(() =>
                      setKey(
                        { columns: keyColumns, enforced, pos: posOf(start ?? pk) },
                        start ?? pk,
                      ),
                    );
                  },
                },
                {
                  ALT: () => {
                    const column = this.SUBRULE(this.columnDef);
                    this.ACTION(() => {
                      columns.push(column.def);
                      if (column.primaryKey) setKey(column.primaryKey, column.primaryKeyTok!);
                    });
                  },
                },
              ],
            });
          },
        });
        this.CONSUME(T.RParen);
      });
      this.OPTION3(() => {
        this.CONSUME(T.COMMENT);
        comment = this.SUBRULE(this.stringValue);
      });
      this.OPTION4(() => {
        this.CONSUME(T.PARTITIONED);
        this.CONSUME(T.BY);
        partitionedBy = this.SUBRULE2(this.nameList);
      });
      this.OPTION5(() => {
        this.CONSUME(T.WITH);
        this.CONSUME2(T.LParen);
        this.MANY_SEP({
          SEP: T.Comma,
          DEF: () => {
            const keyTok = this.LA(1);
            const key = this.SUBRULE2(this.stringValue);
            this.CONSUME(T.Equals);
            const value = this.SUBRULE3(this.stringValue);
            this.ACTION(() => options.push({ key, value, pos: posOf(keyTok) }));
          },
        });
        this.CONSUME2(T.RParen);
      });
      this.OPTION6(() => {
        this.CONSUME(T.LIKE);
        const source = this.SUBRULE(this.qualifiedName);
        this.ACTION(() => (like = source.parts));
        // LIKE options (INCLUDING ALL, EXCLUDING OPTIONS, ...) are accepted; the planner merges
        // with Flink's default strategy.
        this.OPTION7(() => {
          this.CONSUME3(T.LParen);
          this.MANY(() => {
            this.SUBRULE3(this.identifier);
            this.OR2([
              { ALT: () => this.CONSUME(T.ALL) },
              { ALT: () => this.SUBRULE4(this.identifier) },
            ]);
          });
          this.CONSUME3(T.RParen);
        });
      });
      return this.ACTION(() => {
        if (duplicateKey) {
          throw new SemanticError('a table can have only one PRIMARY KEY', duplicateKey);
        }
        return {
          kind: 'createTable' as const,
          columns,
          partitionedBy,
          options,
          ...(watermark ? { watermark } : {}),
          ...(primaryKey ? { primaryKey } : {}),
          ...(comment !== undefined ? { comment } : {}),
          ...(like ? { like } : {}),
        };
      });
    },
  );

  /** `NOT ENFORCED` (Flink requires it; without it the key counts as enforced, which it rejects). */
  enforcement = this.RULE('enforcement', (): boolean => {
    let enforced = true;
    this.OPTION(() => {
      this.OPTION2(() => (this.CONSUME(T.NOT), (enforced = false)));
      this.CONSUME(T.ENFORCED);
    });
    return enforced;
  });

  columnDef = this.RULE(
    'columnDef',
    (): {
      def: ColumnDef;
      primaryKey?: { columns: readonly string[]; enforced: boolean; pos: Pos };
      primaryKeyTok?: IToken;
    } => {
      const name = this.SUBRULE(this.identifier);
      let def!: ColumnDef;
      let primaryKey: { columns: readonly string[]; enforced: boolean; pos: Pos } | undefined;
      let primaryKeyTok: IToken | undefined;
      let comment: string | undefined;
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.AS);
            const expr = this.SUBRULE(this.expr);
            this.ACTION(
              () => (def = { kind: 'computed', name: name.text, expr, pos: posOf(name.tok) }),
            );
          },
        },
        {
          ALT: () => {
            const type = this.SUBRULE(this.dataType);
            let metadata = false;
            let from: string | undefined;
            let virtual = false;
            this.OPTION(() => {
              this.CONSUME(T.METADATA);
              metadata = true;
              this.OPTION2(() => {
                this.CONSUME(T.FROM);
                from = this.SUBRULE(this.stringValue);
              });
              this.OPTION3(() => (this.CONSUME(T.VIRTUAL), (virtual = true)));
            });
            this.OPTION4(() => {
              let start: IToken | undefined;
              this.OPTION5(() => {
                start = this.CONSUME(T.CONSTRAINT);
                this.SUBRULE2(this.identifier);
              });
              const pk = this.CONSUME(T.PRIMARY);
              this.CONSUME(T.KEY);
              const enforced = this.SUBRULE(this.enforcement);
              this.ACTION(() => {
                primaryKeyTok = start ?? pk;
                primaryKey = { columns: [name.text], enforced, pos: posOf(primaryKeyTok) };
              });
            });
            this.ACTION(() => {
              const pos = posOf(name.tok);
              def = metadata
                ? {
                    kind: 'metadata',
                    name: name.text,
                    type,
                    virtual,
                    pos,
                    ...(from !== undefined ? { from } : {}),
                  }
                : { kind: 'physical', name: name.text, type, pos };
            });
          },
        },
      ]);
      this.OPTION6(() => {
        this.CONSUME(T.COMMENT);
        comment = this.SUBRULE2(this.stringValue);
      });
      return this.ACTION(() => ({
        def: comment !== undefined ? { ...def, comment } : def,
        ...(primaryKey ? { primaryKey, primaryKeyTok } : {}),
      }));
    },
  );

  // -------------------------------------------------------------------------------------------
  // Entry points (each followed by the end of input)

  singleStatement = this.RULE('singleStatement', (): Statement => {
    const s = this.SUBRULE(this.statement);
    this.OPTION(() => this.CONSUME(T.Semicolon));
    return s;
  });
}

function call(name: string, args: Expr[], pos: Pos): CallExpr {
  return { kind: 'call', name, args, distinct: false, pos };
}

function namedType(
  name: Name,
  params: number[],
  element: SqlType | undefined,
  precisionWord: boolean,
  zone: 'local' | undefined,
): SqlType {
  const upper = name.text.toUpperCase();
  const fail = (message: string): never => {
    throw new SemanticError(message, name.tok);
  };
  const at = (n: number, max: number, what: string): number => {
    if (params.length > max) fail(`${upper} takes at most ${max} parameter(s): ${what}`);
    return params[n] as number;
  };
  if (precisionWord && upper !== 'DOUBLE') fail(`PRECISION only follows DOUBLE`);
  if (element && upper !== 'MULTISET') fail(`type ${upper} takes no <...> parameter`);
  if (zone && upper !== 'TIMESTAMP') fail(`WITH LOCAL TIME ZONE only follows TIMESTAMP`);
  switch (upper) {
    case 'STRING':
      at(0, 0, '');
      return { name: 'VARCHAR', length: MAX_LENGTH, nullable: true };
    case 'VARCHAR':
    case 'CHAR':
    case 'BINARY':
    case 'VARBINARY':
      return { name: upper, length: at(0, 1, 'the length') ?? 1, nullable: true };
    case 'BYTES':
      at(0, 0, '');
      return { name: 'VARBINARY', length: MAX_LENGTH, nullable: true };
    case 'BOOLEAN':
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
    case 'DOUBLE':
    case 'DATE':
      at(0, 0, '');
      return { name: upper, nullable: true };
    case 'INTEGER':
      at(0, 0, '');
      return { name: 'INT', nullable: true };
    case 'FLOAT':
    case 'REAL':
      at(0, 0, '');
      return { name: 'FLOAT', nullable: true };
    case 'DECIMAL':
    case 'DEC':
    case 'NUMERIC':
      return {
        name: 'DECIMAL',
        precision: at(0, 2, 'precision and scale') ?? 10,
        scale: params[1] ?? 0,
        nullable: true,
      };
    case 'TIME':
      return { name: 'TIME', precision: at(0, 1, 'the precision') ?? 0, nullable: true };
    case 'TIMESTAMP':
      return {
        name: zone === 'local' ? 'TIMESTAMP_LTZ' : 'TIMESTAMP',
        precision: at(0, 1, 'the precision') ?? 6,
        nullable: true,
      };
    case 'TIMESTAMP_LTZ':
      return { name: 'TIMESTAMP_LTZ', precision: at(0, 1, 'the precision') ?? 6, nullable: true };
    case 'MULTISET':
      if (!element) fail('MULTISET needs an element type: MULTISET<T>');
      return { name: 'MULTISET', element: element as SqlType, nullable: true };
    default:
      return fail(
        `unknown type '${name.text}'; Flink's types include STRING, INT, BIGINT, DOUBLE, DECIMAL(p, s), BOOLEAN, TIMESTAMP(p), TIMESTAMP_LTZ(p), DATE, ARRAY<T>, MAP<K, V>, ROW<...>`,
      );
  }
}

const parser = new FlinkSqlParser();

// ---------------------------------------------------------------------------------------------
// Errors

/** Optimal string alignment distance (a swap of two letters counts as one edit). */
function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function closestKeyword(word: string, candidates: readonly string[]): string | undefined {
  const upper = word.toUpperCase();
  if (upper.length < 3) return undefined;
  const limit = upper.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (!/^[A-Z_]+$/.test(candidate) || candidate === upper) continue;
    const distance = editDistance(upper, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Keywords that start a clause: a near miss of one is usually taken for an alias. */
const CLAUSE_KEYWORDS = [
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'LIMIT',
  'WINDOW',
  'UNION',
  'JOIN',
  'WITH',
];

/** Labels of the tokens that can start an expression: listed together as "an expression". */
const EXPRESSION_START = new Set(
  [
    T.NOT,
    T.Minus,
    T.Plus,
    T.StringLit,
    T.NumberLit,
    T.TRUE,
    T.FALSE,
    T.NULL,
    T.TIMESTAMP,
    T.DATE,
    T.TIME,
    T.INTERVAL,
    T.CASE,
    T.CAST,
    T.TRY_CAST,
    T.EXISTS,
    T.LParen,
    T.ROW,
    T.ARRAY,
    T.MAP,
    T.SUBSTRING,
    T.EXTRACT,
    T.TRIM,
    T.POSITION,
    T.CURRENT_TIMESTAMP,
    T.CURRENT_DATE,
    T.CURRENT_TIME,
    T.LOCALTIMESTAMP,
    T.LOCALTIME,
    T.DESCRIPTOR,
    T.LEFT,
    T.RIGHT,
    T.Ident,
  ].map(labelOf),
);

function summarize(expected: readonly string[]): string[] {
  if (!expected.includes(labelOf(T.NumberLit)) || !expected.includes(labelOf(T.Ident))) {
    return [...expected];
  }
  const out: string[] = [];
  for (const label of expected) {
    if (!EXPRESSION_START.has(label)) out.push(label);
    else if (!out.includes('an expression')) out.push('an expression');
  }
  return out;
}

function describeExpected(all: readonly string[]): string {
  const expected = summarize(all);
  if (expected.length === 0) return 'expected end of statement';
  if (expected.length === 1) return `expected ${expected[0]}`;
  const shown = expected.slice(0, 12);
  return `expected one of: ${shown.join(', ')}${expected.length > shown.length ? ', ...' : ''}`;
}

function endPosition(tokens: readonly IToken[], source: string): { line: number; column: number } {
  const last = tokens[tokens.length - 1];
  if (!last) {
    const lines = source.split('\n');
    return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
  }
  return { line: last.endLine ?? 1, column: (last.endColumn ?? 0) + 1 };
}

function followingTokens(ruleName: string, prefix: IToken[]): string[] {
  const labels: string[] = [];
  try {
    for (const s of parser.computeContentAssist(ruleName, prefix)) {
      const label = labelOf(s.nextTokenType);
      if (!labels.includes(label)) labels.push(label);
    }
  } catch {
    // Content assist is a best effort for the message only.
  }
  return labels;
}

function toParseError(
  error: IRecognitionException,
  tokens: readonly IToken[],
  source: string,
  ruleName: string,
): SqlParseError {
  let record: ErrorRecord;
  try {
    record = JSON.parse(error.message) as ErrorRecord;
  } catch {
    record = { expected: [], at: 0 };
  }
  // For multi-token lookahead failures, point at the first token no alternative accepts.
  const start = tokens.indexOf(error.token);
  const index = start >= 0 ? start + record.at : -1;
  const tok = index >= 0 ? tokens[index] : undefined;
  if (!tok || tokenMatcher(tok, EOF)) {
    const expected = describeExpected(record.expected);
    const { line, column } = endPosition(tokens, source);
    return new SqlParseError(
      `SQL parse error at line ${line}, column ${column}: Encountered "<EOF>"; ${expected}`,
      line,
      column,
      '<EOF>',
    );
  }
  if (record.endOfStatement) {
    // Chevrotain knows only that input was left over; ask the grammar what could follow.
    record = { ...record, expected: followingTokens(ruleName, tokens.slice(0, index)) };
  }
  const expected = describeExpected(record.expected);
  const candidates = record.expected;
  const isWord = tokenMatcher(tok, T.Ident);
  let hintWord = isWord ? closestKeyword(tok.image, candidates) : undefined;
  let at = tok;
  let message: string;
  if (hintWord) {
    message = `unexpected '${tok.image}'; ${expected} (did you mean '${hintWord}'?)`;
  } else {
    // `SELECT a FORM t`: FORM parsed as an alias of `a`, so `t` is the first bad token.
    const previous = index > 0 ? tokens[index - 1] : undefined;
    const near =
      previous && tokenMatcher(previous, T.Ident)
        ? closestKeyword(previous.image, CLAUSE_KEYWORDS)
        : undefined;
    if (previous && near) {
      hintWord = near;
      at = previous;
      message = `unexpected '${previous.image}'; did you mean '${near}'?`;
    } else {
      message = `unexpected '${tok.image}'; ${expected}`;
    }
  }
  const line = at.startLine ?? 1;
  const column = at.startColumn ?? 1;
  return new SqlParseError(
    `SQL parse error at line ${line}, column ${column}: ${message}`,
    line,
    column,
    at.image,
    hintWord ? `did you mean '${hintWord}'?` : record.expected.length > 0 ? expected : undefined,
  );
}

function semanticToParseError(error: SemanticError): SqlParseError {
  const line = error.tok.startLine ?? 1;
  const column = error.tok.startColumn ?? 1;
  return new SqlParseError(
    `SQL parse error at line ${line}, column ${column}: ${error.message}`,
    line,
    column,
    error.tok.image,
  );
}

/** Runs one entry rule over `tokens`, which must all be consumed. */
function run<R>(tokens: IToken[], source: string, ruleName: string, rule: () => R): R {
  parser.source = source;
  parser.input = tokens;
  let result: R;
  try {
    result = rule();
  } catch (e) {
    if (e instanceof SemanticError) throw semanticToParseError(e);
    throw e;
  }
  const error = parser.errors[0];
  if (error) throw toParseError(error, tokens, source, ruleName);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Public entry points

/** Parses one statement (an optional trailing `;` is allowed). Throws {@link SqlParseError}. */
export function parseStatement(sql: string): Statement {
  const tokens = tokenize(sql);
  return run(tokens, sql, 'singleStatement', () => parser.singleStatement());
}

/** Parses a Table API expression such as `a + 1` or `CAST(x AS INT)`. */
export function parseExpression(text: string): Expr {
  return run(tokenize(text), text, 'expr', () => parser.expr());
}

/** Parses a Table API select list such as `a, b * 2 AS c, *`. */
export function parseSelectList(text: string): SelectItem[] {
  return run(tokenize(text), text, 'selectItems', () => parser.selectItems());
}

/** Parses a type such as `DECIMAL(10, 2) NOT NULL` or `ROW<a INT, b STRING>`. */
export function parseType(text: string): SqlType {
  return run(tokenize(text), text, 'dataType', () => parser.dataType());
}

/**
 * Parses a script: statements separated by `;`, with `--` and `/* *\/` comments. Both
 * `EXECUTE STATEMENT SET BEGIN ... END;` and the SQL client's `BEGIN STATEMENT SET; INSERT ...;
 * END;` become one statement set. Each statement keeps its text (without the `;`).
 */
export function parseScript(sql: string): ScriptStatement[] {
  const tokens = tokenize(sql);
  const chunks = splitStatements(tokens);
  const result: ScriptStatement[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    const first = chunk[0]!;
    if (isBeginStatementSet(chunk)) {
      const inserts: Insert[] = [];
      let end: IToken | undefined;
      for (i++; i < chunks.length; i++) {
        const inner = chunks[i]!;
        if (inner.length === 1 && tokenMatcher(inner[0]!, T.END)) {
          end = inner[0]!;
          break;
        }
        const statement = run(inner, sql, 'singleStatement', () => parser.singleStatement());
        if (statement.kind !== 'insert') {
          throw new SqlParseError(
            `SQL parse error at line ${first.startLine}, column ${first.startColumn}: a statement set may only contain INSERT statements; found ${statement.kind} at line ${statement.pos.line}, column ${statement.pos.column}`,
            statement.pos.line,
            statement.pos.column,
            inner[0]!.image,
          );
        }
        inserts.push(statement);
      }
      if (!end) {
        const { line, column } = endPosition(tokens, sql);
        throw new SqlParseError(
          `SQL parse error at line ${line}, column ${column}: Encountered "<EOF>"; expected END to close BEGIN STATEMENT SET at line ${first.startLine}, column ${first.startColumn}`,
          line,
          column,
          '<EOF>',
        );
      }
      const pos = posOf(first);
      result.push({
        statement: { kind: 'statementSet', inserts, pos },
        text: sql.slice(first.startOffset, (end.endOffset ?? end.startOffset) + 1),
        pos,
      });
      continue;
    }
    const statement = run(chunk, sql, 'singleStatement', () => parser.singleStatement());
    const last = chunk[chunk.length - 1]!;
    result.push({
      statement,
      text: sql.slice(first.startOffset, (last.endOffset ?? last.startOffset) + 1),
      pos: posOf(first),
    });
  }
  return result;
}

function isBeginStatementSet(chunk: readonly IToken[]): boolean {
  return (
    chunk.length === 3 &&
    tokenMatcher(chunk[0]!, T.BEGIN) &&
    tokenMatcher(chunk[1]!, T.STATEMENT) &&
    tokenMatcher(chunk[2]!, T.SET)
  );
}

/**
 * Splits at top-level `;`. Inside `STATEMENT SET BEGIN ... END` the `;`s belong to the block,
 * whose END is told from a CASE's END by counting CASEs.
 */
function splitStatements(tokens: readonly IToken[]): IToken[][] {
  const chunks: IToken[][] = [];
  let current: IToken[] = [];
  let inBlock = false;
  let caseDepth = 0;
  for (const tok of tokens) {
    if (tokenMatcher(tok, T.Semicolon) && !inBlock) {
      if (current.length > 0) chunks.push(current);
      current = [];
      continue;
    }
    if (!inBlock && tokenMatcher(tok, T.BEGIN)) {
      const prev = current[current.length - 1];
      if (current.length >= 2 && prev && tokenMatcher(prev, T.SET)) inBlock = true;
    } else if (inBlock && tokenMatcher(tok, T.CASE)) {
      caseDepth++;
    } else if (inBlock && tokenMatcher(tok, T.END)) {
      if (caseDepth > 0) caseDepth--;
      else inBlock = false;
    }
    current.push(tok);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

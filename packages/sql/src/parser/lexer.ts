/**
 * Tokens of Flink's SQL dialect. Keywords are case-insensitive; identifiers keep their case.
 *
 * Keywords come in two kinds. Reserved ones (SELECT, FROM, JOIN, ...) can only be used as names
 * when quoted with backticks, as in Flink. Non-reserved ones carry the {@link NonReserved}
 * category, so the parser's `identifier` rule accepts them as names too: `timestamp`,
 * `partition`, `watermark` or `comment` are common column names and Flink users expect them to
 * work where the grammar is not ambiguous.
 */
import { createToken, Lexer } from 'chevrotain';
import type { ILexingError, IToken, TokenType } from 'chevrotain';
import { SqlParseError } from '../errors.js';

/** Unquoted identifier: letters, digits, `_` and `$`, not starting with a digit. */
export const Ident = createToken({
  name: 'Ident',
  pattern: /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/,
  label: 'identifier',
});

/** Category of the keywords that may also be used as names. */
export const NonReserved = createToken({
  name: 'NonReserved',
  pattern: Lexer.NA,
  label: 'identifier',
});

const keywordTokens: TokenType[] = [];

function keyword(word: string, reserved: boolean): TokenType {
  const token = createToken({
    name: word,
    // Whole-word match; `longer_alt` hands `selected` or `from_ts` to Ident.
    pattern: new RegExp(word, 'i'),
    longer_alt: Ident,
    label: word,
    ...(reserved ? {} : { categories: [NonReserved] }),
  });
  keywordTokens.push(token);
  return token;
}
const reserved = (word: string): TokenType => keyword(word, true);
const nonReserved = (word: string): TokenType => keyword(word, false);

// Reserved: these start or end clauses, so an unquoted name spelled like them would be ambiguous.
export const SELECT = reserved('SELECT');
export const FROM = reserved('FROM');
export const WHERE = reserved('WHERE');
export const GROUP = reserved('GROUP');
export const BY = reserved('BY');
export const HAVING = reserved('HAVING');
export const WINDOW = reserved('WINDOW');
export const ORDER = reserved('ORDER');
export const LIMIT = reserved('LIMIT');
export const UNION = reserved('UNION');
export const INTERSECT = reserved('INTERSECT');
export const EXCEPT = reserved('EXCEPT');
export const JOIN = reserved('JOIN');
export const INNER = reserved('INNER');
export const LEFT = reserved('LEFT');
export const RIGHT = reserved('RIGHT');
export const FULL = reserved('FULL');
export const CROSS = reserved('CROSS');
export const OUTER = reserved('OUTER');
export const ON = reserved('ON');
export const USING = reserved('USING');
export const AS = reserved('AS');
export const AND = reserved('AND');
export const OR = reserved('OR');
export const NOT = reserved('NOT');
export const IN = reserved('IN');
export const IS = reserved('IS');
export const NULL = reserved('NULL');
export const TRUE = reserved('TRUE');
export const FALSE = reserved('FALSE');
export const UNKNOWN = reserved('UNKNOWN');
export const CASE = reserved('CASE');
export const WHEN = reserved('WHEN');
export const THEN = reserved('THEN');
export const ELSE = reserved('ELSE');
export const END = reserved('END');
export const CAST = reserved('CAST');
export const TRY_CAST = reserved('TRY_CAST');
export const BETWEEN = reserved('BETWEEN');
export const SYMMETRIC = reserved('SYMMETRIC');
export const ASYMMETRIC = reserved('ASYMMETRIC');
export const LIKE = reserved('LIKE');
export const SIMILAR = reserved('SIMILAR');
export const ESCAPE = reserved('ESCAPE');
export const WITH = reserved('WITH');
export const INSERT = reserved('INSERT');
export const INTO = reserved('INTO');
export const OVERWRITE = reserved('OVERWRITE');
export const VALUES = reserved('VALUES');
export const CREATE = reserved('CREATE');
export const DROP = reserved('DROP');
export const TABLE = reserved('TABLE');
export const DISTINCT = reserved('DISTINCT');
export const ALL = reserved('ALL');
export const OVER = reserved('OVER');
export const INTERVAL = reserved('INTERVAL');
export const EXISTS = reserved('EXISTS');
export const FILTER = reserved('FILTER');
export const ROWS = reserved('ROWS');
export const RANGE = reserved('RANGE');
export const PRECEDING = reserved('PRECEDING');
export const FOLLOWING = reserved('FOLLOWING');
export const UNBOUNDED = reserved('UNBOUNDED');
export const CURRENT = reserved('CURRENT');
export const ROW = reserved('ROW');
export const ARRAY = reserved('ARRAY');
export const MAP = reserved('MAP');
export const ASC = reserved('ASC');
export const DESC = reserved('DESC');
export const BOTH = reserved('BOTH');
export const LEADING = reserved('LEADING');
export const TRAILING = reserved('TRAILING');
export const FOR = reserved('FOR');
export const TO = reserved('TO');
export const SET = reserved('SET');
export const CURRENT_TIMESTAMP = reserved('CURRENT_TIMESTAMP');
export const CURRENT_DATE = reserved('CURRENT_DATE');
export const CURRENT_TIME = reserved('CURRENT_TIME');
export const LOCALTIMESTAMP = reserved('LOCALTIMESTAMP');
export const LOCALTIME = reserved('LOCALTIME');

// Non-reserved: usable as names.
export const TEMPORARY = nonReserved('TEMPORARY');
export const VIEW = nonReserved('VIEW');
export const IF = nonReserved('IF');
export const SHOW = nonReserved('SHOW');
export const TABLES = nonReserved('TABLES');
export const VIEWS = nonReserved('VIEWS');
export const FUNCTIONS = nonReserved('FUNCTIONS');
export const CATALOGS = nonReserved('CATALOGS');
export const DATABASES = nonReserved('DATABASES');
export const JOBS = nonReserved('JOBS');
export const DESCRIBE = nonReserved('DESCRIBE');
export const EXPLAIN = nonReserved('EXPLAIN');
export const PLAN = nonReserved('PLAN');
export const RESET = nonReserved('RESET');
export const EXECUTE = nonReserved('EXECUTE');
export const STATEMENT = nonReserved('STATEMENT');
export const BEGIN = nonReserved('BEGIN');
export const COMMENT = nonReserved('COMMENT');
export const PARTITIONED = nonReserved('PARTITIONED');
export const PARTITION = nonReserved('PARTITION');
export const WATERMARK = nonReserved('WATERMARK');
export const PRIMARY = nonReserved('PRIMARY');
export const KEY = nonReserved('KEY');
export const ENFORCED = nonReserved('ENFORCED');
export const CONSTRAINT = nonReserved('CONSTRAINT');
export const METADATA = nonReserved('METADATA');
export const VIRTUAL = nonReserved('VIRTUAL');
export const NULLS = nonReserved('NULLS');
export const FIRST = nonReserved('FIRST');
export const LAST = nonReserved('LAST');
export const TIMESTAMP = nonReserved('TIMESTAMP');
export const DATE = nonReserved('DATE');
export const TIME = nonReserved('TIME');
export const SUBSTRING = nonReserved('SUBSTRING');
export const EXTRACT = nonReserved('EXTRACT');
export const TRIM = nonReserved('TRIM');
export const POSITION = nonReserved('POSITION');
export const DESCRIPTOR = nonReserved('DESCRIPTOR');
export const SYSTEM_TIME = nonReserved('SYSTEM_TIME');
export const OF = nonReserved('OF');

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /\s+/,
  group: Lexer.SKIPPED,
});
export const LineComment = createToken({
  name: 'LineComment',
  pattern: /--[^\n\r]*/,
  group: Lexer.SKIPPED,
});
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
/** Matches only where BlockComment did not: a comment that never ends (reported by tokenize). */
export const UnterminatedComment = createToken({
  name: 'UnterminatedComment',
  pattern: /\/\*/,
});
/** `'it''s'`: a doubled quote stands for one. */
export const StringLit = createToken({
  name: 'StringLit',
  pattern: /'(?:[^']|'')*'/,
  line_breaks: true,
  label: 'string literal',
});
/** `` `my col` ``: a doubled backtick stands for one. */
export const QuotedIdent = createToken({
  name: 'QuotedIdent',
  pattern: /`(?:[^`]|``)+`/,
  label: 'identifier',
});
export const NumberLit = createToken({
  name: 'NumberLit',
  pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/,
  label: 'number',
});

function punct(name: string, pattern: string): TokenType {
  return createToken({ name, pattern, label: `'${pattern}'` });
}
export const NotEquals = punct('NotEquals', '<>');
export const BangEquals = punct('BangEquals', '!=');
export const LessEquals = punct('LessEquals', '<=');
export const GreaterEquals = punct('GreaterEquals', '>=');
export const Concat = punct('Concat', '||');
export const Arrow = punct('Arrow', '=>');
export const Equals = punct('Equals', '=');
export const Less = punct('Less', '<');
export const Greater = punct('Greater', '>');
export const Plus = punct('Plus', '+');
export const Minus = punct('Minus', '-');
export const Star = punct('Star', '*');
export const Slash = punct('Slash', '/');
export const Percent = punct('Percent', '%');
export const Comma = punct('Comma', ',');
export const Dot = punct('Dot', '.');
export const Semicolon = punct('Semicolon', ';');
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');

/** Every token type, in the order the lexer tries them. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLit,
  QuotedIdent,
  NumberLit,
  NotEquals,
  BangEquals,
  LessEquals,
  GreaterEquals,
  Concat,
  Arrow,
  Equals,
  Less,
  Greater,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Comma,
  Dot,
  Semicolon,
  LParen,
  RParen,
  LBracket,
  RBracket,
  NonReserved,
  // Longest first: with `longer_alt: Ident`, `IN` would otherwise turn `INTO` into an identifier.
  ...[...keywordTokens].sort((a, b) => b.name.length - a.name.length),
  Ident,
];

/** The keywords, upper-cased, for "did you mean" hints. */
export const KEYWORDS: readonly string[] = keywordTokens.map((t) => t.name);

const sqlLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: true });

/** Splits `text` into tokens (comments and whitespace dropped); throws SqlParseError on bad input. */
export function tokenize(text: string): IToken[] {
  const result = sqlLexer.tokenize(text);
  const first = result.errors[0];
  const comment = result.tokens.find((t) => t.tokenType === UnterminatedComment);
  if (comment && (!first || comment.startOffset < first.offset)) {
    throw lexerError(text, {
      offset: comment.startOffset,
      line: comment.startLine,
      column: comment.startColumn,
      length: 2,
      message: '',
    });
  }
  if (first) throw lexerError(text, first);
  return result.tokens;
}

function lexerError(text: string, error: ILexingError): SqlParseError {
  const line = error.line ?? 1;
  const column = error.column ?? 1;
  const rest = text.slice(error.offset);
  const where = `SQL parse error at line ${line}, column ${column}`;
  if (rest.startsWith("'")) {
    return new SqlParseError(
      `${where}: unterminated string literal; close it with ' (write '' for a quote inside it)`,
      line,
      column,
      "'",
      "close the string with '",
    );
  }
  if (rest.startsWith('`')) {
    return new SqlParseError(
      `${where}: unterminated quoted identifier; close it with \``,
      line,
      column,
      '`',
      'close the identifier with `',
    );
  }
  if (rest.startsWith('/*')) {
    return new SqlParseError(
      `${where}: unterminated comment; close it with */`,
      line,
      column,
      '/*',
      'close the comment with */',
    );
  }
  const char = rest.charAt(0);
  const hint =
    char === '"'
      ? 'Flink quotes identifiers with backticks (`name`) and strings with single quotes'
      : undefined;
  return new SqlParseError(
    `${where}: unexpected character '${char}'${hint ? `; ${hint}` : ''}`,
    line,
    column,
    char,
    hint,
  );
}

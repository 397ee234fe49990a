import type { Pos } from './parser/ast.js';

/**
 * A statement that is not valid SQL (Flink's `SqlParserException`). The message names the line
 * and column, the token at fault and, where it can, what was expected.
 */
export class SqlParseError extends Error {
  override name = 'SqlParseError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    /** The text of the token at fault ('<EOF>' at the end of input). */
    readonly token: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * A statement that parses but does not make sense against the catalog: an unknown table or
 * column, a type mismatch, an unsupported option (Flink's `ValidationException`). With a
 * position, the message starts as Calcite's do: `From line 1, column 8 to line 1, column 10: `.
 */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly pos?: Pos,
    options?: { cause?: unknown },
  ) {
    super(pos ? `From line ${pos.line}, column ${pos.column}: ${message}` : message, options);
  }
}

/**
 * A valid statement that Nimble cannot execute: a query producing updates into a sink that
 * cannot take them, an unsupported construct (Flink's `TableException`).
 */
export class TableError extends Error {
  override name = 'TableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

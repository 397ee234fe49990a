/**
 * Splits what the user types into the SQL client into statements: a statement ends at a `;` that
 * is not inside a string, a quoted identifier or a comment (Flink's SQL client rule), and inside
 * `EXECUTE STATEMENT SET BEGIN ... END` the `;`s belong to the block.
 */
export class StatementSplitter {
  private buffer = '';

  /** Adds input (a line with its newline). */
  push(text: string): void {
    this.buffer += text;
  }

  /** Whether a statement has been started and not yet ended (the client shows `> `). */
  get pending(): boolean {
    return !isBlank(this.buffer);
  }

  /** Drops the unfinished statement (Ctrl-C at a continuation prompt). */
  reset(): void {
    this.buffer = '';
  }

  /** The statements completed so far, without their `;`; blank ones are skipped. */
  take(): string[] {
    const statements: string[] = [];
    for (;;) {
      const end = statementEnd(this.buffer);
      if (end < 0) break;
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      if (!isBlank(text)) statements.push(text.trim());
    }
    if (isBlank(this.buffer)) this.buffer = '';
    return statements;
  }
}

/** Index of the `;` that ends the first statement of `text`, or -1 when it has not ended. */
function statementEnd(text: string): number {
  // Words outside strings and comments, to recognise `[EXECUTE] STATEMENT SET BEGIN ... END`,
  // whose END is told from a CASE's END by counting CASEs (as the parser does).
  const words: string[] = [];
  let inBlock = false;
  let caseDepth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(text, i, c);
      if (i < 0) return -1;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return -1;
      i = nl + 1;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return -1;
      i = close + 2;
      continue;
    }
    if (c === ';' && !inBlock) return i;
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
      const word = text.slice(i, j).toUpperCase();
      if (!inBlock && word === 'BEGIN' && words.length >= 2 && words.at(-1) === 'SET') {
        inBlock = words.at(-2) === 'STATEMENT';
      } else if (inBlock && word === 'CASE') {
        caseDepth++;
      } else if (inBlock && word === 'END') {
        if (caseDepth > 0) caseDepth--;
        else inBlock = false;
      }
      words.push(word);
      i = j;
      continue;
    }
    i++;
  }
  return -1;
}

/** The index after the quoted text starting at `start`; a doubled quote escapes it. */
function skipQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const close = text.indexOf(quote, i);
    if (close < 0) return -1;
    if (text[close + 1] === quote) {
      i = close + 2;
      continue;
    }
    return close + 1;
  }
}

/** Whether `text` holds only whitespace and comments. */
function isBlank(text: string): boolean {
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return true;
      i = nl + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return false;
      i = close + 2;
    } else {
      return false;
    }
  }
  return true;
}

/**
 * A client command (HELP, QUIT, ...) when the statement is one, ignoring case and spaces, as
 * Flink's client matches them.
 */
export function clientCommand(
  text: string,
): 'HELP' | 'QUIT' | 'CLEAR' | 'BEGIN STATEMENT SET' | 'END' | undefined {
  const normalized = text.replace(/\s+/g, ' ').trim().toUpperCase();
  switch (normalized) {
    case 'HELP':
      return 'HELP';
    case 'QUIT':
    case 'EXIT':
      return 'QUIT';
    case 'CLEAR':
      return 'CLEAR';
    case 'BEGIN STATEMENT SET':
      return 'BEGIN STATEMENT SET';
    case 'END':
      return 'END';
    default:
      return undefined;
  }
}

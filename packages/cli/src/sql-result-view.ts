/**
 * Shows the result of a SELECT in the SQL client: the current table, kept from the query's
 * changes (+I/+U add a row, -U/-D remove one), as a live table redrawn in place on a terminal,
 * or, on a pipe, the changes as `+I[...]` lines and the final table in tableau format.
 */
import type { Sink, SinkWriter } from '@nimble/api';
import type { Change, RowField, SqlType } from '@nimble/sql';

/** A sink that hands each change to a callback in this process (a query run in-thread). */
export class ChangeCallbackSink implements Sink<Change> {
  constructor(private readonly onChange: (change: Change) => void) {}

  createWriter(): SinkWriter<Change> {
    const onChange = this.onChange;
    return {
      write: (change) => onChange(change),
      flush: () => undefined,
      close: () => undefined,
    };
  }
}

/** A value as Flink's SQL client prints it (tableau mode). */
export function formatValue(value: unknown, type?: SqlType): string {
  if (value === null || value === undefined) return '<NULL>';
  if (value instanceof Date) {
    const iso = value.toISOString();
    return type?.name === 'DATE' ? iso.slice(0, 10) : iso.replace('T', ' ').replace('Z', '');
  }
  if (typeof value === 'number' && type?.name === 'TIME') {
    return new Date(value).toISOString().slice(11, 23);
  }
  if (value instanceof Uint8Array) return `x'${Buffer.from(value).toString('hex')}'`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The rows of a table in Flink's tableau format, with the row count ("Empty set" when none). */
export function tableau(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return 'Empty set\n';
  const widths = columns.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const row = (values: readonly string[]): string =>
    `| ${values.map((v, i) => v.padStart(widths[i]!)).join(' | ')} |`;
  const count = `${rows.length} row${rows.length === 1 ? '' : 's'} in set`;
  return [line, row(columns), line, ...rows.map(row), line, count, ''].join('\n');
}

/** The current rows of an updating result, as formatted cells. */
export class ResultTable {
  readonly rows: string[][] = [];
  changes = 0;

  constructor(readonly columns: readonly RowField[]) {}

  /** The change as Flink prints a `Row`: `+I[1, Alice]`. */
  changeLine(change: Change): string {
    return `${change.kind}[${this.cells(change).join(', ')}]`;
  }

  apply(change: Change): void {
    this.changes++;
    const cells = this.cells(change);
    if (change.kind === '+I' || change.kind === '+U') {
      this.rows.push(cells);
      return;
    }
    // A retraction removes an equal row; the latest one, as an update usually follows it.
    const key = cells.join('\u0000');
    for (let i = this.rows.length - 1; i >= 0; i--) {
      if (this.rows[i]!.join('\u0000') === key) {
        this.rows.splice(i, 1);
        return;
      }
    }
  }

  private cells(change: Change): string[] {
    return this.columns.map((c) => formatValue(change.row[c.name], c.type));
  }
}

/** The terminal the live view draws on. */
export interface Screen {
  write(text: string): void;
  readonly rows: number;
  readonly columns: number;
}

/**
 * Redraws a {@link ResultTable} in place with ANSI cursor movement, at most ten times a second:
 * the last rows that fit the terminal (the newest of an appending result) and a status line.
 */
export class LiveTableView {
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private rate = 0;
  private lastRateAt = Date.now();
  private lastRateChanges = 0;
  private status = 'Press Ctrl-C to stop.';

  constructor(
    private readonly table: ResultTable,
    private readonly screen: Screen,
  ) {}

  start(): void {
    this.screen.write('\x1b[?25l'); // hide the cursor while redrawing
    this.draw();
    this.timer = setInterval(() => this.draw(), 100);
  }

  /** Draws the final state with `status` and gives the terminal back. */
  stop(status: string): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.status = status;
    this.draw();
    this.screen.write('\x1b[?25h');
  }

  private draw(): void {
    const now = Date.now();
    if (now - this.lastRateAt >= 1000) {
      this.rate = Math.round(
        ((this.table.changes - this.lastRateChanges) * 1000) / (now - this.lastRateAt),
      );
      this.lastRateAt = now;
      this.lastRateChanges = this.table.changes;
    }
    // Header (3 lines), bottom border, status line and the prompt line after it.
    const room = Math.max(1, this.screen.rows - 6);
    const rows = this.table.rows;
    const visible = rows.slice(Math.max(0, rows.length - room));
    const header = this.table.columns.map((c) => c.name);
    const widths = header.map((h, i) => Math.max(h.length, ...visible.map((r) => r[i]!.length)));
    const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
    const row = (values: readonly string[]): string =>
      `| ${values.map((v, i) => v.padStart(widths[i]!)).join(' | ')} |`;
    const hidden = rows.length - visible.length;
    const lines = [
      border,
      row(header),
      border,
      ...visible.map(row),
      border,
      `${rows.length} row${rows.length === 1 ? '' : 's'}${hidden > 0 ? ` (last ${visible.length} shown)` : ''}, ` +
        `${this.rate} changes/s. ${this.status}`,
    ];
    // A line wider than the terminal would wrap and spoil the cursor arithmetic: cut it.
    const width = Math.max(10, this.screen.columns - 1);
    const text = lines.map((l) => (l.length > width ? l.slice(0, width) : l));
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    this.screen.write(`${up}\r\x1b[J${text.join('\n')}\n`);
    this.drawnLines = text.length;
  }
}

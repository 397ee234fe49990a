import type { JobExecutionResult } from '@nimble/api';
import type { RowField } from '../types.js';
import { formatType } from '../types.js';

/** Flink's `ResultKind`: a statement that only succeeded, or one that has rows to show. */
export type ResultKind = 'SUCCESS' | 'SUCCESS_WITH_CONTENT';

/**
 * The result of {@link StreamTableEnvironment.executeSql} (Flink's `TableResult`): the rows of
 * SHOW / DESCRIBE / EXPLAIN / SET, the job id of an INSERT, or the rows of a bounded SELECT.
 */
export class TableResult {
  constructor(
    readonly resultKind: ResultKind,
    /** The columns of `rows`. */
    readonly columns: readonly RowField[],
    /** Rows, as arrays in column order. */
    readonly rows: readonly (readonly unknown[])[],
    /** The job an INSERT or statement set submitted. */
    readonly jobId?: string,
    /**
     * What the job's executor returned (Flink's `JobClient.getJobExecutionResult()`): its run
     * time, once the job has ended (not for a detached submission).
     */
    readonly jobExecutionResult?: JobExecutionResult,
  ) {}

  static ok(): TableResult {
    return new TableResult(
      'SUCCESS',
      [{ name: 'result', type: { name: 'VARCHAR', length: 2, nullable: false } }],
      [['OK']],
    );
  }

  /** The rows as Flink's SQL client prints them in tableau mode. */
  toString(): string {
    const header = this.columns.map((c) => c.name);
    const cells = this.rows.map((r) => r.map((v, i) => formatCell(v, this.columns[i]?.type.name)));
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
    const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
    const row = (values: readonly string[]) =>
      `| ${values.map((v, i) => v.padStart(widths[i]!)).join(' | ')} |`;
    const count = `${this.rows.length} row${this.rows.length === 1 ? '' : 's'} in set`;
    return [line, row(header), line, ...cells.map(row), line, count, ''].join('\n');
  }

  /** Prints the result to stdout (Flink's `TableResult.print()`). */
  print(): void {
    process.stdout.write(this.toString());
  }
}

function formatCell(v: unknown, type: string | undefined): string {
  if (v === null || v === undefined) return '<NULL>';
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  if (typeof v === 'number' && (type === 'TIMESTAMP' || type === 'TIMESTAMP_LTZ')) {
    return new Date(v).toISOString().replace('T', ' ').replace('Z', '');
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The columns of DESCRIBE, as Flink's. */
export const DESCRIBE_COLUMNS: readonly RowField[] = [
  'name',
  'type',
  'null',
  'key',
  'extras',
  'watermark',
].map((name) => ({ name, type: { name: 'VARCHAR', length: 2147483647, nullable: true } }));

export { formatType };

import type { StreamExecutionEnvironment } from '@nimble/api';
import type { ScriptStatement } from '../parser/ast.js';
import { parseScript } from '../parser/parser.js';
import { StreamTableEnvironment } from './table-environment.js';
import type { TableResult } from './table-result.js';

/** Whether a statement of a script runs as a job (an INSERT, a statement set, a query). */
export function isJobStatement(s: ScriptStatement): boolean {
  const k = s.statement.kind;
  return k === 'insert' || k === 'statementSet' || k === 'query';
}

/**
 * Runs a script's statements up to its job number `job` (0-based, counting INSERTs, statement
 * sets and queries) and runs that job: what the cluster does to rebuild a SQL job. The
 * statements that change the catalog or the configuration before it run too; other jobs are
 * skipped, and statements that only show something (SHOW, DESCRIBE, EXPLAIN) are not run.
 */
export async function runScriptJob(
  env: StreamExecutionEnvironment,
  script: string,
  job: number,
): Promise<TableResult> {
  const tEnv = StreamTableEnvironment.create(env);
  let n = 0;
  for (const s of parseScript(script)) {
    const kind = s.statement.kind;
    if (isJobStatement(s)) {
      if (n++ === job) return tEnv.executeStatement(s.statement);
      continue;
    }
    if (kind === 'show' || kind === 'showCreate' || kind === 'describe' || kind === 'explain')
      continue;
    await tEnv.executeStatement(s.statement);
  }
  throw new Error(`The script has ${n} job(s); there is no job ${job}`);
}

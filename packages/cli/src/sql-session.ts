/**
 * A session of the SQL client (`nimble sql`): one StreamTableEnvironment whose catalog and
 * options the statements build, jobs submitted to the cluster, and queries run in this process.
 */
import type { JobExecutionResult, Pipeline, PipelineExecutor } from '@nimble/api';
import { installPipelineExecutor, StreamExecutionEnvironment } from '@nimble/api';
import { bundleJob, ClusterExecutor } from '@nimble/client';
import type { RpcSecurity } from '@nimble/proto';
import { LocalExecutor } from '@nimble/runtime';
import type { Change, RowField, ScriptStatement, TableResult } from '@nimble/sql';
import { StreamTableEnvironment } from '@nimble/sql';
import { fileURLToPath } from 'node:url';
import { ChangeCallbackSink, formatValue, tableau } from './sql-result-view.js';

/**
 * The job module of SQL jobs: the cluster re-runs it with `--script <statements> --job <n>` to
 * rebuild the job on every TaskManager.
 */
const SCRIPT_JOB = fileURLToPath(import.meta.resolve('@nimble/sql/script-job'));

/** How INSERTs wait: Flink's `table.dml-sync`, or forced one way. */
export type DmlMode = 'session' | 'sync' | 'async';

export interface SqlSessionOptions {
  /** host:port of the JobManager; asked for only when a statement submits a job. */
  readonly jobManagerAddress: () => string;
  /** The cluster's credentials (docs/security.md); asked for with the address. */
  readonly security?: () => RpcSecurity;
  /** Session properties from the command line (-D, -p): as if SET before the first statement. */
  readonly defaults: ReadonlyMap<string, string>;
  /** Start every submitted job from this savepoint (`-s`). */
  readonly savepointPath?: string;
  readonly allowNonRestoredState?: boolean;
  /** `sync` waits for each job (`nimble local job.sql`); `async` never does (`-d`). */
  readonly dml: DmlMode;
  readonly out: (text: string) => void;
}

/** A query prepared to run in this process: its columns, and how to run it. */
export interface LocalQuery {
  readonly columns: readonly RowField[];
  /** Runs the query, handing each change to `onChange`, until it ends or `signal` aborts. */
  run(signal: AbortSignal, onChange: (change: Change) => void): Promise<void>;
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Kinds of statements that only show something: not needed to rebuild a job. */
const SHOWING = new Set(['show', 'showCreate', 'describe', 'explain']);

export class SqlSession {
  readonly tEnv: StreamTableEnvironment;
  /**
   * The statements that built the catalog and options so far, re-run on the cluster before a
   * job's own statement (the job module rebuilds the job from them).
   */
  private readonly script: string[] = [];
  private executor: PipelineExecutor | undefined;
  private bundle: Promise<Uint8Array> | undefined;

  constructor(private readonly options: SqlSessionOptions) {
    this.tEnv = StreamTableEnvironment.create(StreamExecutionEnvironment.getExecutionEnvironment());
    // Jobs reach the executor through env.execute(); this one sends each to the executor the
    // statement being run chose (the cluster for INSERTs, this process for queries).
    installPipelineExecutor({
      execute: (pipeline: Pipeline): Promise<JobExecutionResult> => {
        if (this.executor === undefined) {
          throw new Error('The SQL client runs no job outside of a statement');
        }
        return this.executor.execute(pipeline);
      },
    });
    this.applyDefaults();
  }

  private applyDefaults(): void {
    for (const [key, value] of this.options.defaults) {
      this.tEnv.set(key, value);
      this.script.push(`SET ${quote(key)} = ${quote(value)}`);
    }
  }

  private write(text: string): void {
    this.options.out(text);
  }

  private info(message: string): void {
    this.write(`[INFO] ${message}\n`);
  }

  /**
   * Runs a statement that is not a query (queries: {@link prepareQuery} in the interactive
   * client, {@link runQueryOnCluster} for scripts) and prints its outcome as Flink's client does.
   */
  async execute(s: ScriptStatement): Promise<void> {
    const st = s.statement;
    switch (st.kind) {
      case 'insert':
      case 'statementSet':
        await this.submit(s);
        return;
      case 'query':
        await this.runQueryOnCluster(s);
        return;
      case 'set': {
        const result = await this.tEnv.executeStatement(st);
        if (st.key === undefined) {
          this.printResult(result);
          return;
        }
        this.script.push(s.text);
        this.info('Session property has been set.');
        return;
      }
      case 'reset':
        await this.tEnv.executeStatement(st);
        this.script.push(s.text);
        if (st.key !== undefined) {
          this.info('Session property has been reset.');
          return;
        }
        // Flink resets to the defaults the client started with, not to nothing.
        this.applyDefaults();
        this.info('All session properties have been set to their default values.');
        return;
      case 'explain':
      case 'showCreate': {
        // Plans and DDL text print as they are, not boxed in a table.
        const result = await this.tEnv.executeStatement(st);
        this.write(`${result.rows.map((r) => String(r[0])).join('\n')}\n`);
        return;
      }
      default: {
        const result = await this.tEnv.executeStatement(st);
        if (!SHOWING.has(st.kind)) this.script.push(s.text);
        if (result.resultKind === 'SUCCESS') this.info('Execute statement succeeded.');
        else this.printResult(result);
      }
    }
  }

  /** Prints a result with content in tableau format. */
  private printResult(result: TableResult): void {
    const rows = result.rows.map((r) => r.map((v, i) => formatValue(v, result.columns[i]?.type)));
    this.write(
      tableau(
        result.columns.map((c) => c.name),
        rows,
      ),
    );
  }

  private dmlSync(): boolean {
    if (this.options.dml !== 'session') return this.options.dml === 'sync';
    return this.tEnv.getConfig().get('table.dml-sync')?.trim().toLowerCase() === 'true';
  }

  /** The script the cluster runs for `s`: the session's statements, then `s` as job 0. */
  private clusterScript(s: ScriptStatement): string {
    // Each text on its own lines, so a trailing `--` comment cannot swallow the `;`.
    return [...this.script, s.text].map((t) => `${t}\n;\n`).join('');
  }

  /**
   * The bundle of the script job, made once per session: it holds `@nimble/sql` and every
   * connector (megabytes, seconds to bundle), and each statement only changes its arguments.
   */
  private scriptBundle(): Promise<Uint8Array> {
    if (!this.bundle) {
      const bundle = bundleJob(SCRIPT_JOB);
      // The statement awaiting it reports a failure; the next statement bundles again.
      bundle.catch(() => {
        if (this.bundle === bundle) this.bundle = undefined;
      });
      this.bundle = bundle;
    }
    return this.bundle;
  }

  private clusterExecutor(s: ScriptStatement, detached: boolean): ClusterExecutor {
    return new ClusterExecutor({
      jobManagerAddress: this.options.jobManagerAddress(),
      security: this.options.security?.(),
      jobModule: SCRIPT_JOB,
      bundle: this.scriptBundle(),
      programArgs: ['--script', this.clusterScript(s), '--job', '0'],
      savepointPath: this.options.savepointPath,
      allowNonRestoredState: this.options.allowNonRestoredState ?? false,
      detached,
    });
  }

  private async withExecutor<R>(executor: PipelineExecutor, fn: () => Promise<R>): Promise<R> {
    this.executor = executor;
    try {
      return await fn();
    } finally {
      this.executor = undefined;
    }
  }

  /** An INSERT or statement set: a job on the cluster. */
  private async submit(s: ScriptStatement): Promise<void> {
    const sync = this.dmlSync();
    this.info('Submitting SQL update statement to the cluster...');
    if (sync) this.info('Execute statement in sync mode. Please wait for the execution finish...');
    const result = await this.withExecutor(this.clusterExecutor(s, !sync), () =>
      this.tEnv.executeStatement(s.statement),
    );
    if (sync) {
      this.info('Complete execution of the SQL update statement.');
    } else {
      this.info('SQL update statement has been successfully submitted to the cluster:');
      this.write(`Job ID: ${result.jobId ?? String(result.rows[0]?.[0])}\n\n`);
    }
  }

  /** A query of a script: a bounded job on the cluster whose rows come back to print. */
  async runQueryOnCluster(s: ScriptStatement): Promise<void> {
    const result = await this.withExecutor(this.clusterExecutor(s, false), () =>
      this.tEnv.executeStatement(s.statement),
    );
    this.printResult(result);
  }

  /** Prepares a query to run in this process (the interactive client's SELECT). */
  async prepareQuery(text: string): Promise<LocalQuery> {
    const table = this.tEnv.sqlQuery(text);
    const columns = table.getResolvedSchema();
    const configuration = await this.jobConfiguration();
    return {
      columns,
      run: async (signal, onChange) => {
        const env = this.tEnv.env;
        // The environment keeps the sinks of earlier queries; this job runs only its own.
        const first = env.getPipeline().sinks.length;
        this.tEnv
          .toChangelogStream(table)
          .sinkTo(new ChangeCallbackSink(onChange), 'SQL Client Result')
          .setParallelism(1);
        const local = new LocalExecutor({ threads: false, configuration, signal });
        await this.withExecutor(
          { execute: (p) => local.execute({ ...p, sinks: p.sinks.slice(first) }) },
          () => env.execute(this.tEnv.getConfig().get('pipeline.name') ?? 'collect'),
        );
      },
    };
  }

  /** The session's job options (not the `table.*` ones, which the planner reads). */
  private async jobConfiguration(): Promise<Record<string, string>> {
    const all = await this.tEnv.executeSql('SET');
    const configuration: Record<string, string> = {};
    for (const [k, v] of all.rows) {
      const key = String(k);
      if (!key.startsWith('table.')) configuration[key] = String(v);
    }
    return configuration;
  }
}

/**
 * `nimble sql`: Flink's SQL client. With `-f job.sql` it runs a script (DDL and SET here, each
 * INSERT or statement set submitted as a job); without, it is an interactive shell whose SELECTs
 * run in this process and show their result as a live table.
 */
import type { Change } from '@nimble/sql';
import { parseScript, SqlParseError } from '@nimble/sql';
import { RpcError } from '@nimble/proto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Interface } from 'node:readline';
import { createInterface } from 'node:readline';
import type { ClientFlags } from './commands.js';
import {
  CommandError,
  dynamicConfiguration,
  clientSecurity,
  jobManagerAddress,
  savepointRestore,
} from './commands.js';
import { ExitCode } from './exit-codes.js';
import { clientCommand, StatementSplitter } from './sql-input.js';
import { LiveTableView, ResultTable, tableau } from './sql-result-view.js';
import type { DmlMode } from './sql-session.js';
import { SqlSession } from './sql-session.js';

export interface SqlFlags extends ClientFlags {
  readonly file?: string;
  readonly parallelism?: string;
  readonly detached?: boolean;
  readonly fromSavepoint?: string;
  readonly allowNonRestoredState?: boolean;
  readonly history?: string;
}

const PROMPT = 'Nimble SQL> ';
const CONTINUATION = '> ';
const HISTORY_SIZE = 1000;

const HELP = `The following commands are available:

HELP                 Prints the available commands.
QUIT/EXIT            Quits the SQL CLI client.
CLEAR                Clears the current terminal.
SET                  Sets a session configuration property. Syntax: "SET '<key>'='<value>';". Use "SET;" for listing all properties.
RESET                Resets a session configuration property. Syntax: "RESET '<key>';". Use "RESET;" for reset all session properties.
INSERT INTO          Inserts the results of a SQL SELECT query into a declared table sink.
SELECT               Executes a SQL SELECT query in the client and shows its result as it updates.
EXPLAIN              Describes the execution plan of a query or table with the given name.
BEGIN STATEMENT SET  Begins a statement set. Syntax: "BEGIN STATEMENT SET;"
END                  Ends a statement set. Syntax: "END;"

Hint: Make sure that a statement ends with ";" for finalizing (multi-line) statements.
You can also type any SQL statement that docs/sql.md describes.
`;

const write = (text: string): void => void process.stdout.write(text);

/** The message Flink's client prints for a failed statement: the deepest cause with a message. */
export function errorMessage(e: unknown): string {
  let error = e instanceof Error ? e : new Error(String(e));
  // An RpcError names the call and the JobManager; its cause is the bare gRPC error.
  while (!(error instanceof RpcError) && error.cause instanceof Error && error.cause.message) {
    error = error.cause;
  }
  return `[ERROR] Could not execute SQL statement. Reason:\n${error.name}: ${error.message}\n`;
}

function createSession(flags: SqlFlags, dml: DmlMode): SqlSession {
  const { savepointPath } = savepointRestore(flags);
  // -D key=value and -p become session properties, in the order given.
  const defaults = new Map(Object.entries(dynamicConfiguration(flags)));
  // A malformed -m is bad usage, found before any statement runs.
  let address = flags.jobmanager === undefined ? undefined : jobManagerAddress(flags);
  return new SqlSession({
    // -D sets session properties, not where the JobManager is (as for `nimble run`).
    jobManagerAddress: () => (address ??= jobManagerAddress({ ...flags, D: [] })),
    security: () => clientSecurity({ ...flags, D: [] }),
    defaults,
    savepointPath,
    allowNonRestoredState: flags.allowNonRestoredState,
    dml: flags.detached ? 'async' : dml,
    out: write,
  });
}

/**
 * `nimble sql -f job.sql` (and `nimble local job.sql` with `dml` = 'sync'): runs the script's
 * statements in order and stops at the first that fails, as Flink's client does with -f.
 */
export async function runSqlFile(
  file: string,
  flags: SqlFlags,
  dml: DmlMode = 'session',
): Promise<number> {
  if (!existsSync(file)) throw new CommandError(`SQL file ${file} does not exist`, ExitCode.USAGE);
  const text = readFileSync(file, 'utf8');
  let statements;
  try {
    statements = parseScript(text);
  } catch (e) {
    // Nothing runs when the script does not parse: the error names the line and column.
    if (e instanceof SqlParseError) {
      write(errorMessage(e));
      return ExitCode.USAGE;
    }
    throw e;
  }
  const session = createSession(flags, dml);
  for (const s of statements) {
    try {
      await session.execute(s);
    } catch (e) {
      write(errorMessage(e));
      return ExitCode.FAILURE;
    }
  }
  return ExitCode.OK;
}

/** The client's history: readline keeps the newest first, the file the oldest first. */
function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

function saveHistory(path: string, history: readonly string[]): void {
  try {
    writeFileSync(path, [...history.slice(0, HISTORY_SIZE)].reverse().join('\n') + '\n');
  } catch {
    // History is a convenience: an unwritable home directory must not stop the client.
  }
}

/**
 * Takes the terminal's keys from readline while a query shows its live result, so typing does
 * not echo into the table; returns the function that gives them back.
 */
function captureKeys(onInterrupt: () => void): () => void {
  const stdin = process.stdin;
  const saved = stdin.listeners('keypress') as ((...args: unknown[]) => void)[];
  stdin.removeAllListeners('keypress');
  const onKey = (_s: string, key: { ctrl?: boolean; name?: string } | undefined): void => {
    if ((key?.ctrl && key.name === 'c') || key?.name === 'q') onInterrupt();
  };
  stdin.on('keypress', onKey);
  return () => {
    stdin.off('keypress', onKey);
    for (const l of saved) stdin.on('keypress', l);
  };
}

/** `nimble sql`: the interactive client. Returns when the user quits or the input ends. */
export async function runSqlShell(flags: SqlFlags): Promise<number> {
  const session = createSession(flags, 'session');
  const interactive = process.stdin.isTTY === true;
  const live = interactive && process.stdout.isTTY === true;
  const historyPath = flags.history ?? join(homedir(), '.nimble_sql_history');
  const rl: Interface = createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    history: interactive ? loadHistory(historyPath) : [],
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    prompt: PROMPT,
  });
  if (interactive) {
    rl.on('history', (h: string[]) => saveHistory(historyPath, h));
    write(
      "Welcome to Nimble SQL! Enter 'HELP;' to list all available commands. 'QUIT;' to exit.\n\n",
    );
  }
  const splitter = new StatementSplitter();
  let statementSet: string[] | undefined;
  let running: AbortController | undefined;
  let lastInterrupt = 0;

  const prompt = (): void => {
    if (!interactive) return;
    rl.setPrompt(splitter.pending ? CONTINUATION : PROMPT);
    rl.prompt();
  };

  // Ctrl-C clears what was typed; at an empty prompt it tells how to leave, and a second one
  // leaves (Flink's client ignores it; Node's REPL works this way).
  const quit = new Promise<void>((resolve) => {
    rl.on('SIGINT', () => {
      if (running) {
        running.abort();
        return;
      }
      if (splitter.pending || rl.line.length > 0) {
        splitter.reset();
        lastInterrupt = 0;
        write('^C');
        // Ends the typed line where it is and empties it (what Node's REPL does on Ctrl-C; the
        // method is not in @types/node).
        (rl as unknown as { clearLine(): void }).clearLine();
        prompt();
        return;
      }
      if (Date.now() - lastInterrupt < 2000) {
        write('\n');
        resolve();
        return;
      }
      lastInterrupt = Date.now();
      write('\n(To exit, press Ctrl-C again or Ctrl-D, or type QUIT;)\n');
      prompt();
    });
  });

  /** Runs a SELECT here, showing its changes; Ctrl-C cancels it. */
  const runQuery = async (text: string): Promise<void> => {
    const query = await session.prepareQuery(text);
    const table = new ResultTable(query.columns);
    const controller = new AbortController();
    running = controller;
    const view = live
      ? new LiveTableView(table, {
          write,
          // A terminal that does not tell its size (0) gets the classic 24x80.
          rows: process.stdout.rows || 24,
          columns: process.stdout.columns || 80,
        })
      : undefined;
    const onChange = live
      ? (c: Change): void => table.apply(c)
      : (c: Change): void => {
          table.apply(c);
          write(`${table.changeLine(c)}\n`);
        };
    // Without a terminal, Ctrl-C arrives as a signal; it cancels the query, not the client.
    const onSignal = (): void => controller.abort();
    const release = interactive ? captureKeys(() => controller.abort()) : undefined;
    if (!interactive) process.on('SIGINT', onSignal);
    view?.start();
    try {
      await query.run(controller.signal, onChange);
      view?.stop('Finished.');
      if (!view) {
        write(
          tableau(
            query.columns.map((c) => c.name),
            table.rows,
          ),
        );
      }
    } catch (e) {
      if (!controller.signal.aborted) {
        view?.stop('Failed.');
        throw e;
      }
      view?.stop('Cancelled.');
      write('[INFO] Result retrieval cancelled.\n');
    } finally {
      running = undefined;
      release?.();
      if (!interactive) process.off('SIGINT', onSignal);
    }
  };

  /** One statement the user ended with `;`. Returns false when the client should quit. */
  const handle = async (text: string): Promise<boolean> => {
    const command = clientCommand(text);
    if (command === 'QUIT') return false;
    if (command === 'HELP') {
      write(HELP);
      return true;
    }
    if (command === 'CLEAR') {
      if (process.stdout.isTTY) write('\x1b[H\x1b[2J');
      return true;
    }
    try {
      if (command === 'BEGIN STATEMENT SET') {
        if (statementSet) throw new Error('A statement set has already begun; end it with END;');
        statementSet = [];
        write('[INFO] Begin a statement set.\n');
        return true;
      }
      if (command === 'END') {
        if (!statementSet) {
          write(
            '[ERROR] No Statement Set to submit, "END;" command should be used after "BEGIN STATEMENT SET;".\n',
          );
          return true;
        }
        const inserts = statementSet;
        statementSet = undefined;
        if (inserts.length === 0) {
          write('[INFO] No statement in the statement set, skip submit.\n');
          return true;
        }
        const [set] = parseScript(`BEGIN STATEMENT SET;\n${inserts.join('\n;\n')}\n;\nEND;`);
        await session.execute(set!);
        return true;
      }
      const parsed = parseScript(text);
      for (const s of parsed) {
        if (statementSet) {
          if (s.statement.kind !== 'insert') {
            write('[ERROR] Only INSERT statement is allowed in Statement Set.\n');
            continue;
          }
          statementSet.push(s.text);
          write('[INFO] Add SQL update statement to the statement set.\n');
        } else if (s.statement.kind === 'query') {
          await runQuery(s.text);
        } else {
          await session.execute(s);
        }
      }
    } catch (e) {
      write(errorMessage(e));
    }
    return true;
  };

  const loop = (async (): Promise<void> => {
    prompt();
    // The lines of the statement being typed that readline put in its history.
    let historyLines = 0;
    for await (const line of rl) {
      splitter.push(`${line}\n`);
      if (line.trim().length > 0) historyLines++;
      const statements = splitter.take();
      if (!splitter.pending) {
        // A statement typed over several lines comes back from history as one line.
        // (readline's `history` array, newest first, is not in @types/node.)
        const history = (rl as unknown as { history?: string[] }).history;
        if (interactive && history && historyLines > 1 && history.length >= historyLines) {
          const joined = history.slice(0, historyLines).reverse().join(' ');
          history.splice(0, historyLines, joined);
          saveHistory(historyPath, history);
        }
        historyLines = 0;
      }
      for (const text of statements) {
        if (!(await handle(text))) return;
      }
      prompt();
    }
  })();
  await Promise.race([loop, quit]);
  if (interactive) write('Exiting Nimble SQL CLI Client...\n');
  rl.close();
  return ExitCode.OK;
}

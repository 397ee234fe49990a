// The SQL client (`nimble sql`), as a user runs it: scripts with -f against a cluster of real
// daemons, `nimble local job.sql`, and the interactive client fed statements on stdin.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimble, NIMBLE_BIN, TestCluster } from './fixtures/cluster.js';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'nimble-sql-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The interactive client with stdin on a pipe (not a TTY). */
class Shell {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(args: string[] = []) {
    this.child = spawn(process.execPath, [NIMBLE_BIN, 'sql', ...args]);
    this.child.stdout.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  send(text: string): void {
    this.child.stdin.write(text);
  }

  end(text = ''): Promise<number | null> {
    this.child.stdin.end(text);
    return this.exited;
  }

  /** Resolves once stdout contains `text`. */
  async waitFor(text: string): Promise<void> {
    while (!this.stdout.includes(text)) {
      const more = new Promise<void>((r) => this.waiters.push(r));
      const code = await Promise.race([more.then(() => undefined), this.exited]);
      if (code !== undefined && !this.stdout.includes(text)) {
        throw new Error(
          `nimble sql exited (${code}) before printing ${JSON.stringify(text)}:\n${this.stdout}\n${this.stderr}`,
        );
      }
    }
  }
}

/** The lines of the committed part files of a filesystem sink directory, in order. */
function committed(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.startsWith('_'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
}

const SEQUENCE_TABLE = `CREATE TABLE seq (
  id INT,
  label STRING
) WITH (
  'connector' = 'datagen',
  'number-of-rows' = '3',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3',
  'fields.label.kind' = 'sequence', 'fields.label.start' = '10', 'fields.label.end' = '12'
);`;

describe('nimble sql -f', () => {
  it('does not run a script that does not parse: the error names line and column, exit code 2', async () => {
    const file = join(work, 'bad.sql');
    writeFileSync(
      file,
      "CREATE TABLE t (a INT) WITH ('connector' = 'datagen');\nSHOW TABLES;\nSELECT a,, FROM t;\n",
    );
    const run = await nimble(['sql', '-f', file, '-m', '127.0.0.1:1']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe(
      '[ERROR] Could not execute SQL statement. Reason:\n' +
        "SqlParseError: SQL parse error at line 3, column 10: unexpected ','; expected one of: '*', an expression\n",
    );
  });

  describe('against a cluster', () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await TestCluster.start({ taskManagers: 1, slots: 2 });
    });
    afterAll(() => cluster?.stop());

    it('submits an INSERT detached and prints its job id; a SELECT prints its rows; an error stops the script', async () => {
      const input = join(work, 'cluster-in');
      const out = join(work, 'cluster-out');
      mkdirSync(input);
      writeFileSync(
        join(input, 'orders.json'),
        '{"id":1,"name":"a","amount":10}\n{"id":2,"name":"b","amount":20}\n{"id":3,"name":"a","amount":5}\n',
      );
      const file = join(work, 'cluster.sql');
      writeFileSync(
        file,
        `CREATE TABLE orders (id INT, name STRING, amount INT)
  WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE totals (name STRING, amount INT)
  WITH ('connector' = 'filesystem', 'path' = '${out}', 'format' = 'json');
INSERT INTO totals SELECT name, amount * 2 FROM orders WHERE amount > 6;
SELECT name, SUM(amount) AS total FROM orders GROUP BY name;
SELECT missing FROM orders;
SHOW TABLES;
`,
      );
      const run = await nimble(['sql', '-f', file, '-m', cluster.address, '-p', '1']);
      expect(run.code, run.stderr).toBe(1);
      const jobId = /Job ID: ([0-9a-f]+)\n/.exec(run.stdout)?.[1];
      expect(jobId, run.stdout).toBeDefined();
      expect(run.stdout).toBe(
        '[INFO] Execute statement succeeded.\n' +
          '[INFO] Execute statement succeeded.\n' +
          '[INFO] Submitting SQL update statement to the cluster...\n' +
          '[INFO] SQL update statement has been successfully submitted to the cluster:\n' +
          `Job ID: ${jobId}\n\n` +
          '+------+-------+\n' +
          '| name | total |\n' +
          '+------+-------+\n' +
          // The current rows of the updating result: a's row was updated last.
          '|    b |    20 |\n' +
          '|    a |    15 |\n' +
          '+------+-------+\n' +
          '2 rows in set\n' +
          '[ERROR] Could not execute SQL statement. Reason:\n' +
          // Positions in a script are the file's.
          "ValidationError: From line 7, column 8: Column 'missing' not found in any table\n",
      );
      // Detached: the client returned at submission; the job ends on its own.
      await cluster.waitFor(
        async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'FINISHED',
      );
      expect(committed(out)).toEqual(['{"name":"a","amount":20}', '{"name":"b","amount":40}']);
    }, 120_000);
  });
});

describe('nimble local job.sql', () => {
  it('runs each INSERT of the script on a local cluster, waits for them, and stops', async () => {
    const input = join(work, 'local-in');
    const fromFiles = join(work, 'local-out-files');
    const fromDatagen = join(work, 'local-out-datagen');
    mkdirSync(input);
    writeFileSync(
      join(input, 'a.json'),
      '{"user":"ann","amount":3}\n{"user":"bob","amount":7}\n{"user":"cid","amount":11}\n',
    );
    const file = join(work, 'local.sql');
    writeFileSync(
      file,
      `-- two jobs, one after the other
CREATE TABLE purchases (\`user\` STRING, amount INT)
  WITH ('connector' = 'filesystem', 'path' = '${input}', 'format' = 'json');
CREATE TABLE big (\`user\` STRING, amount INT, tax DOUBLE)
  WITH ('connector' = 'filesystem', 'path' = '${fromFiles}', 'format' = 'json');
${SEQUENCE_TABLE}
CREATE TABLE labels (id INT, label STRING)
  WITH ('connector' = 'filesystem', 'path' = '${fromDatagen}', 'format' = 'csv');
SET 'pipeline.name' = 'big-purchases';
INSERT INTO big SELECT \`user\`, amount, amount * 0.5 FROM purchases WHERE amount > 5;
RESET 'pipeline.name';
INSERT INTO labels SELECT id * 100, CONCAT('L', label) FROM seq;
`,
    );
    const run = await nimble([
      'local',
      '-n',
      '1',
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
      '-D',
      `blob.storage.directory=${join(work, 'local-blobs')}`,
      file,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const job =
      '[INFO] Submitting SQL update statement to the cluster...\n' +
      '[INFO] Execute statement in sync mode. Please wait for the execution finish...\n' +
      '[INFO] Complete execution of the SQL update statement.\n';
    expect(run.stdout).toBe(
      '[INFO] Execute statement succeeded.\n'.repeat(4) +
        '[INFO] Session property has been set.\n' +
        job +
        '[INFO] Session property has been reset.\n' +
        job,
    );
    expect(run.stderr).toContain('"job_name":"big-purchases"');
    expect(committed(fromFiles)).toEqual([
      '{"user":"bob","amount":7,"tax":3.5}',
      '{"user":"cid","amount":11,"tax":5.5}',
    ]);
    expect(committed(fromDatagen)).toEqual(['100,L10', '200,L11', '300,L12']);
  }, 120_000);
});

describe('nimble sql (interactive, stdin not a terminal)', () => {
  it('runs DDL, SHOW, DESCRIBE and a bounded SELECT; a bad statement prints [ERROR] and the session goes on', async () => {
    const shell = new Shell();
    const code = await shell.end(
      `${SEQUENCE_TABLE}
SHOW TABLES;
DESCRIBE seq;
SELECT id, label, id * 10 AS x
  FROM seq -- a comment; not the end
  WHERE label <> 'a;b';
SELECT nope FROM seq;
SELECT COUNT(*) AS n FROM seq; SET 'parallelism.default' = '1';
HELP;
QUIT;
SHOW TABLES;
`,
    );
    expect(code, shell.stderr).toBe(0);
    const help = shell.stdout.slice(shell.stdout.indexOf('The following commands are available:'));
    expect(help).toContain('QUIT/EXIT');
    expect(shell.stdout.slice(0, shell.stdout.length - help.length)).toBe(
      '[INFO] Execute statement succeeded.\n' +
        '+------------+\n' +
        '| table name |\n' +
        '+------------+\n' +
        '|        seq |\n' +
        '+------------+\n' +
        '1 row in set\n' +
        '+-------+--------+------+--------+--------+-----------+\n' +
        '|  name |   type | null |    key | extras | watermark |\n' +
        '+-------+--------+------+--------+--------+-----------+\n' +
        '|    id |    INT | true | <NULL> | <NULL> |    <NULL> |\n' +
        '| label | STRING | true | <NULL> | <NULL> |    <NULL> |\n' +
        '+-------+--------+------+--------+--------+-----------+\n' +
        '2 rows in set\n' +
        '+I[1, 10, 10]\n' +
        '+I[2, 11, 20]\n' +
        '+I[3, 12, 30]\n' +
        '+----+-------+----+\n' +
        '| id | label |  x |\n' +
        '+----+-------+----+\n' +
        '|  1 |    10 | 10 |\n' +
        '|  2 |    11 | 20 |\n' +
        '|  3 |    12 | 30 |\n' +
        '+----+-------+----+\n' +
        '3 rows in set\n' +
        '[ERROR] Could not execute SQL statement. Reason:\n' +
        "ValidationError: From line 1, column 8: Column 'nope' not found in any table\n" +
        '+I[1]\n' +
        '-U[1]\n' +
        '+U[2]\n' +
        '-U[2]\n' +
        '+U[3]\n' +
        '+---+\n' +
        '| n |\n' +
        '+---+\n' +
        '| 3 |\n' +
        '+---+\n' +
        '1 row in set\n' +
        '[INFO] Session property has been set.\n',
    );
    // Nothing after QUIT runs.
    expect(help).not.toContain('table name');
  });

  it('Ctrl-C cancels a running unbounded query and the session goes on', async () => {
    const shell = new Shell();
    shell.send(
      "CREATE TABLE ticks (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', " +
        "'fields.n.min' = '1', 'fields.n.max' = '9');\n" +
        'SELECT n FROM ticks;\n',
    );
    await shell.waitFor('+I[');
    shell.child.kill('SIGINT');
    await shell.waitFor('[INFO] Result retrieval cancelled.\n');
    const code = await shell.end('SHOW TABLES;\n');
    expect(code, shell.stderr).toBe(0);
    expect(shell.stdout).toMatch(
      /\+I\[\d\]\n\[INFO\] Result retrieval cancelled\.\n\+-+\+\n\| table name \|/,
    );
  });

  it('keeps INSERTs of a statement set until END and submits them as one job', async () => {
    const cluster = await TestCluster.start({ taskManagers: 1, slots: 2 });
    try {
      const a = join(work, 'set-a');
      const b = join(work, 'set-b');
      const shell = new Shell(['-m', cluster.address]);
      const code = await shell.end(
        `${SEQUENCE_TABLE}
CREATE TABLE a (id INT) WITH ('connector' = 'filesystem', 'path' = '${a}', 'format' = 'csv');
CREATE TABLE b (label STRING) WITH ('connector' = 'filesystem', 'path' = '${b}', 'format' = 'csv');
SET 'table.dml-sync' = 'true';
BEGIN STATEMENT SET;
INSERT INTO a SELECT id FROM seq;
SELECT 1;
INSERT INTO b SELECT label FROM seq;
END;
EXECUTE STATEMENT SET BEGIN
  INSERT INTO a SELECT id + 10 FROM seq;
  INSERT INTO b SELECT CONCAT(label, ';') FROM seq;
END;
`,
      );
      expect(code, shell.stderr).toBe(0);
      expect(shell.stdout).toBe(
        '[INFO] Execute statement succeeded.\n'.repeat(3) +
          '[INFO] Session property has been set.\n' +
          '[INFO] Begin a statement set.\n' +
          '[INFO] Add SQL update statement to the statement set.\n' +
          '[ERROR] Only INSERT statement is allowed in Statement Set.\n' +
          '[INFO] Add SQL update statement to the statement set.\n' +
          '[INFO] Submitting SQL update statement to the cluster...\n' +
          '[INFO] Execute statement in sync mode. Please wait for the execution finish...\n' +
          '[INFO] Complete execution of the SQL update statement.\n' +
          '[INFO] Submitting SQL update statement to the cluster...\n' +
          '[INFO] Execute statement in sync mode. Please wait for the execution finish...\n' +
          '[INFO] Complete execution of the SQL update statement.\n',
      );
      // Two jobs appended to each table (their files in no particular order).
      expect(committed(a).sort()).toEqual(['1', '11', '12', '13', '2', '3']);
      expect(committed(b).sort()).toEqual(['10', '10;', '11', '11;', '12', '12;']);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});

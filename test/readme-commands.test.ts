/**
 * README.md's commands, run: every command of its fenced `sh` blocks (continuation lines joined,
 * comments stripped) falls under exactly one rule of RULES below, which runs it against real
 * daemons and asserts what it does, or says why it is not run here and which test checks the same
 * thing. A README command that no rule covers fails the first test, naming the command: a new
 * command must be classified (add a rule; see the comment on RULES).
 *
 * Commands run as written, through bash from the repository's root, in README order, with
 * placeholders replaced (PLACEHOLDERS: job ids and savepoint paths printed by earlier commands,
 * temporary paths for `file:///var/...`), and with the ports of this test: clients and daemons
 * read them from NIMBLE_PROPERTIES (as Flink's FLINK_PROPERTIES), and a port written in a
 * command is replaced by a free one. `s3://bucket/...` is a bucket of a moto server; the Kafka
 * commands run a broker of their own.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystemFor } from '../packages/runtime/src/checkpoint/storage/index.js';
import { TestCluster } from './fixtures/cluster.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';
import { TEMPLATE_JOB_OUTPUT, userEnv } from './fixtures/template-project.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// README's commands

export interface ReadmeCommand {
  /** The command as README shows it: continuation lines joined, the comment stripped. */
  readonly text: string;
  /** README's line where it starts (for messages). */
  readonly line: number;
}

/** Strips a shell comment: a `#` that starts a word, outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** The commands of the fenced `sh` blocks of a Markdown text. */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  let inSh = false;
  let pending: { text: string; line: number } | undefined;
  markdown.split('\n').forEach((raw, i) => {
    if (/^```/.test(raw)) {
      inSh = !inSh && /^```sh\s*$/.test(raw);
      return;
    }
    if (!inSh) return;
    const line = stripComment(raw).trimEnd();
    const continued = line.endsWith('\\');
    const part = (continued ? line.slice(0, -1) : line).trim();
    pending = pending
      ? { text: `${pending.text} ${part}`.trim(), line: pending.line }
      : { text: part, line: i + 1 };
    if (continued) return;
    if (pending.text !== '')
      commands.push({ text: pending.text.replace(/\s+/g, ' '), line: pending.line });
    pending = undefined;
  });
  return commands;
}

// ---------------------------------------------------------------------------------------------
// Processes

const PIDS = new Set<number>();

/** A command run by bash in a process group of its own (so Ctrl-C and stop reach all of it). */
class Shell {
  private out = '';
  private err = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly command: string,
    env: NodeJS.ProcessEnv,
    input?: string,
  ) {
    this.child = spawn('bash', ['-c', command], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    PIDS.add(this.child.pid!);
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    if (input !== undefined) this.child.stdin!.end(input);
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code) => {
        PIDS.delete(this.child.pid!);
        resolve(code);
      }),
    );
  }

  get stdout(): string {
    return this.out;
  }
  get stderr(): string {
    return this.err;
  }
  get output(): string {
    return `${this.command}\n--- stdout:\n${this.out}\n--- stderr:\n${this.err}`;
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until stdout or stderr matches `pattern`; fails if the command ends first. */
  async waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await until(
      () => {
        match = pattern.exec(this.out) ?? pattern.exec(this.err);
        if (!match && !this.running) throw new Error(`ended before ${pattern}:\n${this.output}`);
        return match !== null;
      },
      `${pattern} in the output of ${this.command}`,
      timeoutMs,
    );
    return match!;
  }

  /** Sends `signal` to the whole process group. */
  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // The group has ended already.
    }
  }

  /** Signals the group and waits for the command to end (SIGKILL after 30 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), 30_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Waits for the command to end and returns its exit code. */
  async done(timeoutMs = 180_000): Promise<number | null> {
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** GET a URL, JSON; undefined while nothing answers there. */
async function getJson(url: string): Promise<any> {
  try {
    const res = await fetch(url);
    return res.ok ? await res.json() : { status: res.status };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// What the commands share

interface Context {
  cluster: TestCluster;
  s3: S3Server;
  tmp: string;
  /** The job the latest command started (README's `<jobId>`). */
  jobId?: string;
  /** An attached `nimble run` of jobId still following it. */
  attached?: Shell;
  /** The job of `nimble run late-data.ts`, FINISHED. */
  finishedJobId?: string;
  /** The latest savepoint (README's `<savepoint path>`, `<path>`). */
  savepointPath?: string;
  /** Shell variable assignments of earlier commands (README's `HA=...`), by variable. */
  assignments: Map<string, string>;
  /** Daemons started by commands and still running. */
  daemons: Shell[];
  kafka?: { port: number; controllerPort: number; dir: string };
  /** Commands started by one rule and awaited by a later one. */
  pending: Map<string, Shell>;
  /** README's ports, each replaced by a free one (6123 and 8081: the shared cluster's). */
  ports: Map<number, number>;
  /** The REST ports of the high-availability JobManagers. */
  haRestPorts: number[];
}

let ctx: Context;

/** YAML for NIMBLE_PROPERTIES. */
const properties = (entries: Record<string, string | number>): string =>
  Object.entries(entries)
    .map(([k, v]) => `${k}: ${JSON.stringify(String(v))}`)
    .join('\n');

/** The S3 settings of the moto server. */
function s3Properties(): Record<string, string> {
  return {
    's3.endpoint': ctx.s3.endpoint,
    's3.access-key': ctx.s3.accessKey,
    's3.secret-key': ctx.s3.secretKey,
    's3.path.style.access': 'true',
  };
}

/** The environment of a command: the client reaches the shared cluster's JobManager. */
function clientEnv(extra: Record<string, string | number> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NIMBLE_PROPERTIES: properties({
      'jobmanager.rpc.port': ctx.cluster.jobManager.ready.rpcPort,
      ...extra,
    }),
  };
}

/** The environment of `nimble local`: its JobManager on free ports (it reports them). */
function localEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NIMBLE_PROPERTIES: properties({ 'jobmanager.rpc.port': 0, 'rest.port': 0 }),
  };
}

/** A daemon's environment: its own ports, the moto server. */
async function daemonEnv(
  role: 'jobmanager' | 'taskmanager',
  extra: Record<string, string | number> = {},
): Promise<{ env: NodeJS.ProcessEnv; restPort: number }> {
  const restPort = await freePort();
  const own: Record<string, string | number> =
    role === 'jobmanager'
      ? {
          'jobmanager.rpc.port': await freePort(),
          'rest.port': restPort,
          'blob.storage.directory': mkdtempSync(join(ctx.tmp, 'blobs-')),
        }
      : { 'taskmanager.rpc.port': 0, 'metrics.reporter.prom.port': 0 };
  return {
    env: { ...process.env, NIMBLE_PROPERTIES: properties({ ...s3Properties(), ...own, ...extra }) },
    restPort,
  };
}

/**
 * README's placeholders and what replaces them, in order. Each replacement is a function of the
 * context, so that a placeholder names what an earlier command printed.
 */
const PLACEHOLDERS: readonly [RegExp, (match: string) => string][] = [
  [/<jobId>/g, () => need(ctx.jobId, '<jobId>: no command started a job before')],
  [
    /<savepoint path>|<path>|file:\/\/\/var\/nimble\/savepoints\/savepoint-[\w-]+/g,
    () => need(ctx.savepointPath, '<savepoint path>: no command took a savepoint before'),
  ],
  [/file:\/\/\/var\/nimble\/savepoints/g, () => pathToFileURL(join(ctx.tmp, 'savepoints')).href],
  [/(?<=\s)job\.ts(?=\s|$)/g, () => 'packages/examples/src/user-features.ts'],
  [/(?<=\s)conf\.yaml(?=\s|$)/g, () => join(ctx.tmp, 'conf.yaml')],
  [/(?<=\s)spend\.jsonl(?=\s|$)/g, () => join(ctx.tmp, 'spend.jsonl')],
  [/deploy\/k8s\/overlays\/dev\/secrets/g, () => join(ctx.tmp, 'secrets')],
  [/\.\.\/my-pipeline/g, () => join(ctx.tmp, 'my-pipeline')],
  // README's ports: 6123 and 8081 are the shared cluster's, the others free ones.
  [/(?<=[:=])(6123|6124|8081|8082|9092)\b/g, (port) => String(ctx.ports.get(Number(port)) ?? port)],
];

function need<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}

/** The command with its placeholders and ports replaced, after the assignments before it. */
function substitute(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PLACEHOLDERS) out = out.replace(pattern, replacement);
  const assignments = [...ctx.assignments]
    .filter(([name]) => out.includes(`$${name}`))
    .map(([, assignment]) => assignment);
  return [...assignments, out].join('\n');
}

/** Runs a command to its end; fails on a nonzero exit unless `code` says otherwise. */
async function run(
  text: string,
  options: { env?: NodeJS.ProcessEnv; input?: string; code?: number; timeoutMs?: number } = {},
): Promise<Shell> {
  const shell = new Shell(substitute(text), options.env ?? clientEnv(), options.input);
  const code = await shell.done(options.timeoutMs);
  expect(code, shell.output).toBe(options.code ?? 0);
  return shell;
}

/** Starts a command that keeps running. */
function start(text: string, env: NodeJS.ProcessEnv = clientEnv()): Shell {
  return new Shell(substitute(text), env);
}

const rest = (path: string): Promise<any> => ctx.cluster.rest(path);

async function jobState(jobId: string): Promise<string> {
  return (await rest(`/jobs/${jobId}`)).state as string;
}

async function waitForState(jobId: string, state: string, timeoutMs = 120_000): Promise<void> {
  await until(async () => (await jobState(jobId)) === state, `job ${jobId} ${state}`, timeoutMs);
}

const JOB_ID = /JobID ([0-9a-f]{32})/;

/** Starts an attached `nimble run` of an unbounded job; returns once the job is RUNNING. */
async function startAttached(text: string): Promise<void> {
  const shell = start(text);
  ctx.attached = shell;
  ctx.jobId = (await shell.waitFor(JOB_ID))[1]!;
  await waitForState(ctx.jobId, 'RUNNING');
}

/** Cancels the attached run's job over REST; the run ends with exit code 1 (CANCELED). */
async function cancelAttached(): Promise<void> {
  const shell = need(ctx.attached, 'no attached run');
  await fetch(`${ctx.cluster.restUrl}/jobs/${ctx.jobId}?mode=cancel`, { method: 'PATCH' });
  expect(await shell.done(), shell.output).toBe(1);
  expect(shell.stderr).toContain('CANCELED');
  ctx.attached = undefined;
}

/** Starts a daemon command and waits until its REST API (or, for a TaskManager, `ready`) answers. */
async function startDaemon(text: string, env: NodeJS.ProcessEnv, restPort: number): Promise<Shell> {
  const shell = start(text, env);
  ctx.daemons.push(shell);
  await until(async () => {
    if (!shell.running) throw new Error(`ended before it answered:\n${shell.output}`);
    return (await getJson(`http://127.0.0.1:${restPort}/overview`)) !== undefined;
  }, `REST of ${text} on port ${restPort}`);
  return shell;
}

/**
 * Stops a daemon command as a terminal would (SIGTERM to its process group) and waits for it to
 * end. pnpm itself ends by the signal, so its exit code says nothing: with `restPort`, the
 * daemon's REST API must have gone.
 */
async function stopDaemon(shell: Shell, restPort?: number): Promise<void> {
  await shell.stop();
  ctx.daemons = ctx.daemons.filter((d) => d !== shell);
  if (restPort !== undefined) {
    await until(
      async () => (await getJson(`http://127.0.0.1:${restPort}/overview`)) === undefined,
      `${shell.command}: REST on ${restPort} gone`,
    );
  }
}

async function taskManagerIds(restPort = ctx.cluster.jobManager.ready.httpPort): Promise<string[]> {
  const body = await getJson(`http://127.0.0.1:${restPort}/taskmanagers`);
  return ((body?.taskmanagers ?? []) as { id: string }[]).map((t) => t.id);
}

/** The `<path>: ...` a checkpoint or savepoint command printed. */
const printedPath = (shell: Shell): string => /Path: (\S+)/.exec(shell.stdout)![1]!;

// ---------------------------------------------------------------------------------------------
// The rules

interface RunRule {
  readonly match: RegExp;
  /** Run here: against the shared cluster, or processes of its own, with its effect asserted. */
  readonly run: (command: string) => Promise<void>;
  /**
   * Needs nothing of the shared cluster's commands: run in the background from the start, one
   * such command after the other in README order, while the others run; its test awaits it.
   */
  readonly early?: true;
}
interface NotRunRule {
  readonly match: RegExp;
  /** Why the command does not run here. */
  readonly notRun: string;
  /** The test files that check the same thing another way (they must exist). */
  readonly checkedBy: readonly string[];
}
type Rule = RunRule | NotRunRule;

const HA_BLOBS = () => ({ 'blob.storage.directory': join(ctx.tmp, 'ha-blobs') });

/** A `pnpm bench...` command: not run, but its script and file must exist. */
const BENCH: NotRunRule = {
  match: /^pnpm bench(:[\w-]+)?( -- .*)?$/,
  notRun:
    'a benchmark: minutes on a loaded machine, and its figures are read by a person ' +
    '(docs/benchmarks.md); the test checks that the script and its file exist',
  checkedBy: [],
};

/**
 * Every README command falls under exactly one of these. To add one: a `match` for the command
 * as README shows it (comment stripped, continuations joined; anchor it, so that a changed
 * command is classified again), and either `run` (run it with `run`/`start`/`startDaemon`, whose
 * commands go through PLACEHOLDERS, and assert what it did; `early: true` when it needs nothing
 * of the shared cluster's commands, so it runs in the background from the start) or `notRun`
 * with the reason and the tests that check the same thing otherwise (`checkedBy`, which must
 * exist). A new placeholder goes into PLACEHOLDERS, a new README port into `ctx.ports`. Rules run
 * in README order and share `ctx`; a rule that no README command matches any more fails too.
 */
const RULES: readonly Rule[] = [
  // --- Quick start: the two set-up commands.
  {
    match: /^npm install --global pnpm@[\d.]+ && pnpm install && pnpm quickstart$/,
    // The front door, run for real: `npm install --global pnpm` and `pnpm install` are this
    // machine's set-up, done before any test runs, so only `pnpm quickstart` runs here.
    early: true,
    run: async () => {
      const shell = await run('pnpm quickstart', { env: localEnv(), timeoutMs: 300_000 });
      const features = shell.stdout
        .split('\n')
        .filter((l) =>
          /^[12]> \{"user_id":"user-\d+","spend_5min_usd":[\d.]+,"category_id":\d+,"window_end_ts":\d+\}$/.test(
            l,
          ),
        );
      // 600,000 purchases of 1,000 users over 10 minutes of event time: two windows per user.
      expect(features.length, shell.output).toBeGreaterThan(1000);
      expect(features.some((l) => l.startsWith('1> '))).toBe(true);
      expect(features.some((l) => l.startsWith('2> '))).toBe(true);
      expect(shell.stdout).toMatch(/Job with JobID [0-9a-f]{32} has finished/);
    },
  },
  {
    match: /^pnpm test$/,
    notRun: 'the whole test suite, this file included: it runs this test, not the other way round',
    checkedBy: [],
  },

  // --- A cluster and the `nimble` CLI.
  {
    match: /^pnpm nimble local$/,
    early: true,
    run: async (command) => {
      const shell = start(command, localEnv());
      const restUrl = (await shell.waitFor(/REST (http:\/\/\S+),/))[1]!;
      await until(
        async () => (await getJson(`${restUrl}/overview`))?.taskmanagers === 2,
        'two TaskManagers',
      );
      // Ctrl-C: SIGINT to the terminal's process group; the cluster stops with it.
      await shell.stop('SIGINT');
      expect(await getJson(`${restUrl}/overview`)).toBeUndefined();
      expect(shell.stderr).not.toMatch(/nimble: /);
    },
  },
  {
    match: /^pnpm nimble run packages\/examples\/src\/late-data\.ts$/,
    run: async (command) => {
      const shell = await run(command);
      const jobId = /Job with JobID ([0-9a-f]{32}) has finished/.exec(shell.stdout)![1]!;
      expect(await jobState(jobId)).toBe('FINISHED');
      ctx.finishedJobId = jobId;
    },
  },
  {
    match: /^pnpm nimble run -d packages\/examples\/src\/user-spend\.ts --events Infinity$/,
    run: async (command) => {
      const shell = await run(command);
      ctx.jobId = JOB_ID.exec(shell.stdout)![1]!;
      await waitForState(ctx.jobId, 'RUNNING');
    },
  },
  {
    match: /^pnpm nimble info packages\/examples\/src\/late-data\.ts$/,
    early: true,
    run: async (command) => {
      const shell = await run(command, { timeoutMs: 300_000 });
      const json = /-+ Execution Plan -+\n([\s\S]*)\n-+\n/.exec(shell.stdout)![1]!;
      const plan = JSON.parse(json) as { nodes: unknown[] };
      expect(plan.nodes.length).toBeGreaterThan(1);
    },
  },
  {
    match: /^pnpm nimble list -a$/,
    run: async (command) => {
      const shell = await run(command);
      expect(shell.stdout).toMatch(
        new RegExp(`: ${ctx.jobId} : user-5min-spend-feature \\(RUNNING\\)`),
      );
      expect(shell.stdout).toMatch(new RegExp(`: ${ctx.finishedJobId} : .* \\(FINISHED\\)`));
    },
  },
  {
    match: /^pnpm nimble cancel <jobId>$/,
    run: async (command) => {
      const shell = await run(command);
      expect(shell.stdout).toContain(`Cancelled job ${ctx.jobId}.`);
      await waitForState(ctx.jobId!, 'CANCELED');
    },
  },
  {
    match: /^pnpm nimble cluster$/,
    run: async (command) => {
      const shell = await run(command);
      expect(shell.stdout).toMatch(/^TaskManagers: 2 /m);
      for (const id of await taskManagerIds()) expect(shell.stdout).toContain(id);
    },
  },
  {
    match: /^pnpm nimble jobmanager -c conf\.yaml$/,
    run: async (command) => {
      const restPort = await freePort();
      writeFileSync(
        join(ctx.tmp, 'conf.yaml'),
        'jobmanager:\n' +
          `  rpc:\n    port: ${await freePort()}\n` +
          `rest:\n  port: ${restPort}\n` +
          `blob:\n  storage:\n    directory: ${join(ctx.tmp, 'conf-blobs')}\n`,
      );
      const jm = await startDaemon(command, { ...process.env, NIMBLE_PROPERTIES: '' }, restPort);
      expect((await getJson(`http://127.0.0.1:${restPort}/overview`)).taskmanagers).toBe(0);
      await stopDaemon(jm, restPort);
    },
  },
  {
    match: /^pnpm nimble taskmanager -D taskmanager\.numberOfTaskSlots=2$/,
    run: async (command) => {
      const before = await taskManagerIds();
      const { env } = await daemonEnv('taskmanager', {
        'jobmanager.rpc.port': ctx.cluster.jobManager.ready.rpcPort,
      });
      const tm = start(command, env);
      ctx.daemons.push(tm);
      let joined: any;
      await until(async () => {
        const body = await rest('/taskmanagers');
        joined = body.taskmanagers.find((t: { id: string }) => !before.includes(t.id));
        return joined !== undefined;
      }, 'the TaskManager registered');
      expect(joined.slotsNumber).toBe(2);
      await stopDaemon(tm);
      // Gone before the next command schedules anything.
      await until(async () => (await taskManagerIds()).length === before.length, 'it left');
    },
  },

  // --- Checkpoints and savepoints.
  {
    match:
      /^pnpm nimble run -D execution\.checkpointing\.interval=10s -D state\.checkpoints\.dir=s3:\/\/bucket\/chk job\.ts$/,
    run: async (command) => {
      await startAttached(command);
      const config = await rest(`/jobs/${ctx.jobId}/checkpoints/config`);
      expect(config.interval).toBe(10_000);
    },
  },
  {
    match: /^pnpm nimble checkpoint <jobId>$/,
    run: async (command) => {
      const path = printedPath(await run(command));
      expect(path).toMatch(/^s3:\/\/bucket\/chk\//);
      const storage = fileSystemFor(path, ctx.s3.s3Options);
      expect(await storage.exists(`${path.replace(/\/$/, '')}/_metadata`), path).toBe(true);
    },
  },
  {
    match: /^pnpm nimble savepoint <jobId> file:\/\/\/var\/nimble\/savepoints$/,
    run: async (command) => {
      const path = printedPath(await run(command));
      expect(path.startsWith(pathToFileURL(join(ctx.tmp, 'savepoints')).href)).toBe(true);
      expect(existsSync(join(fileURLToPath(path), '_metadata'))).toBe(true);
    },
  },
  {
    match: /^pnpm nimble stop <jobId> --savepointPath file:\/\/\/var\/nimble\/savepoints$/,
    run: async (command) => {
      const path = printedPath(await run(command));
      expect(existsSync(join(fileURLToPath(path), '_metadata'))).toBe(true);
      ctx.savepointPath = path;
      // The attached run follows the job to its end: FINISHED, exit code 0.
      const attached = need(ctx.attached, 'no attached run');
      expect(await attached.done(), attached.output).toBe(0);
      expect(attached.stdout).toContain(`Job with JobID ${ctx.jobId} has finished.`);
      expect(await jobState(ctx.jobId!)).toBe('FINISHED');
      ctx.attached = undefined;
    },
  },
  {
    match:
      /^pnpm nimble run -s <savepoint path> -p 3 -D execution\.checkpointing\.interval=10s job\.ts$/,
    run: async (command) => {
      await startAttached(command);
      const job = await rest(`/jobs/${ctx.jobId}`);
      expect(job.vertices.map((v: { parallelism: number }) => v.parallelism)).toContain(3);
    },
  },

  // --- State as a feature store (on the job resumed above: packages/examples/src/user-features.ts).
  {
    match: /^curl 'localhost:8081\/jobs\/<jobId>\/state\/user-spend-cents\?key=user-42'$/,
    run: async (command) => {
      let answer: any;
      await until(async () => {
        answer = JSON.parse((await run(command)).stdout);
        return answer.found === true;
      }, 'user-42 has a value');
      expect(answer).toMatchObject({ name: 'user-spend-cents', mode: 'live', key: 'user-42' });
      expect(answer.value).toBeGreaterThan(0);
    },
  },
  {
    match:
      /^curl 'localhost:8081\/jobs\/<jobId>\/state\/user-spend-cents\?key=user-42&mode=committed'$/,
    run: async (command) => {
      let answer: any;
      // The resumed job's first checkpoint comes 10 s after it started.
      await until(async () => {
        answer = JSON.parse((await run(command)).stdout);
        return answer.found === true;
      }, 'user-42 has a committed value');
      expect(answer).toMatchObject({ name: 'user-spend-cents', mode: 'committed' });
      expect(answer.value).toBeGreaterThan(0);
    },
  },
  {
    match: /^pnpm nimble savepoint inspect file:\/\/\/var\/nimble\/savepoints\/savepoint-[\w-]+$/,
    run: async (command) => {
      const shell = await run(command);
      expect(shell.stdout).toContain('user-spend-cents');
    },
  },
  {
    match: /^pnpm nimble savepoint inspect <path> --state user-spend-cents --key user-42$/,
    run: async (command) => {
      const shell = await run(command);
      // pnpm's banner, then the value (cents).
      expect(shell.stdout.trim().split('\n').at(-1)).toMatch(/^\d+$/);
    },
  },
  {
    match:
      /^pnpm nimble savepoint inspect <path> --dump --state user-spend-cents --output spend\.jsonl$/,
    run: async (command) => {
      await run(command);
      const entries = readFileSync(join(ctx.tmp, 'spend.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string; value: number });
      expect(entries.length).toBeGreaterThan(100);
      expect(entries.find((e) => e.key === 'user-42')?.value).toBeGreaterThan(0);
    },
  },

  // --- Scale out and stay up.
  {
    match: /^pnpm nimble rescale <jobId> -p 4$/,
    run: async (command) => {
      const shell = await run(command);
      expect(shell.stdout).toContain(`Job ${ctx.jobId} runs at parallelism 4`);
      const job = await rest(`/jobs/${ctx.jobId}`);
      expect(job.vertices.map((v: { parallelism: number }) => v.parallelism)).toContain(4);
      // Its slots are needed next; a canceled job's attached run ends with exit code 1.
      await cancelAttached();
    },
  },
  {
    match: /^pnpm nimble jobmanager -D scheduler-mode=reactive$/,
    run: async (command) => {
      const { env, restPort } = await daemonEnv('jobmanager');
      const jm = await startDaemon(command, env, restPort);
      const config = (await getJson(`http://127.0.0.1:${restPort}/jobmanager/config`)) as {
        key: string;
        value: string;
      }[];
      expect(config.find((e) => e.key === 'scheduler-mode')?.value).toBe('reactive');
      await stopDaemon(jm, restPort);
    },
  },
  {
    match: /^HA="[^"]*"$/,
    // A shell variable of the commands after it: they run after this assignment.
    run: async (command) => {
      ctx.assignments.set(/^(\w+)=/.exec(command)![1]!, command);
      const shell = await run('echo $HA');
      expect(shell.stdout).toContain('-D high-availability.type=storage');
    },
  },
  {
    match: /^pnpm nimble jobmanager \$HA$/,
    run: async (command) => {
      // Both JobManagers on one host share its blob directory, as they would by default.
      const { env, restPort } = await daemonEnv('jobmanager', HA_BLOBS());
      ctx.haRestPorts.push(restPort);
      await startDaemon(command, env, restPort);
    },
  },
  {
    match: /^pnpm nimble jobmanager \$HA -D jobmanager\.rpc\.port=6124 -D rest\.port=8082$/,
    run: async (command) => {
      const { env } = await daemonEnv('jobmanager', HA_BLOBS());
      ctx.haRestPorts.push(ctx.ports.get(8082)!);
      await startDaemon(command, env, ctx.ports.get(8082)!);
    },
  },
  {
    match: /^pnpm nimble taskmanager \$HA$/,
    run: async (command) => {
      const { env } = await daemonEnv('taskmanager');
      const tm = start(command, env);
      ctx.daemons.push(tm);
      // It finds whichever JobManager leads in the store and registers there.
      await until(
        async () =>
          (await Promise.all(ctx.haRestPorts.map((p) => taskManagerIds(p)))).some(
            (ids) => ids.length === 1,
          ),
        'the TaskManager registered at the leader',
      );
      for (const d of [...ctx.daemons].reverse()) await stopDaemon(d);
    },
  },
  {
    match:
      /^pnpm nimble run -D execution\.checkpointing\.interval=10s -D execution\.checkpointing\.unaligned\.enabled=true job\.ts$/,
    run: async (command) => {
      await startAttached(command);
      const config = await rest(`/jobs/${ctx.jobId}/checkpoints/config`);
      expect(config.unaligned_checkpoints).toBe(true);
      await cancelAttached();
    },
  },
  {
    match:
      /^pnpm nimble security init deploy\/k8s\/overlays\/dev\/secrets --host nimble-jobmanager$/,
    early: true,
    run: async (command) => {
      const shell = await run(command, { timeoutMs: 300_000 });
      for (const f of ['ca.pem', 'ca-key.pem', 'node.pem', 'node-key.pem', 'token'])
        expect(existsSync(join(ctx.tmp, 'secrets', f)), f).toBe(true);
      expect(shell.stdout).toContain('security.ssl.internal.cert');
    },
  },
  {
    match: /^kubectl (create namespace nimble-dev && kubectl apply|-n nimble-dev scale) .*$/,
    notRun:
      'no Kubernetes cluster here; the manifests are rendered with kustomize and checked, and ' +
      'their containers run as processes with their probes',
    checkedBy: ['test/kubernetes.test.ts', 'test/kubernetes-processes.test.ts'],
  },

  // --- Kafka.
  {
    match: /^deploy\/kafka\/kafka\.sh start$/,
    early: true,
    run: async (command) => {
      const k = {
        port: await freePort(),
        controllerPort: await freePort(),
        dir: join(ctx.tmp, 'kafka-data'),
      };
      ctx.kafka = k;
      ctx.ports.set(9092, k.port);
      // README's broker on this test's ports, stopped should this process die (--owner-pid).
      const shell = await run(
        `${command} --port ${k.port} --controller-port ${k.controllerPort} --dir ${k.dir} ` +
          `--owner-pid ${process.pid}`,
        { timeoutMs: 600_000 },
      );
      expect(existsSync(join(k.dir, 'kafka.pid')), shell.output).toBe(true);
    },
  },
  {
    match: /^pnpm --filter @nimble\/examples produce-purchases$/,
    // It writes for 30 s; the job of the next command reads meanwhile and awaits it.
    early: true,
    run: async (command) => {
      const port = need(ctx.kafka, 'no broker').port;
      ctx.pending.set(
        'produce-purchases',
        start(`${command} -- --bootstrap-servers 127.0.0.1:${port}`),
      );
      const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      try {
        await until(
          async () => (await admin.listTopics()).includes('features.user_5min_spend'),
          'the topics created',
        );
      } finally {
        await admin.disconnect();
      }
    },
  },
  {
    match:
      /^pnpm nimble local -n 2 -D execution\.checkpointing\.interval=10s packages\/examples\/src\/kafka-user-spend\.ts$/,
    early: true,
    run: async (command) => {
      const port = need(ctx.kafka, 'no broker').port;
      const job = start(`${command} --bootstrap-servers 127.0.0.1:${port}`, localEnv());
      const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: 'readme-test', readUncommitted: false });
      const features: { user_id: string; spend_5min_usd: number }[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: 'features.user_5min_spend', fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            features.push(JSON.parse(message.value!.toString()));
          },
        });
        // Committed at a checkpoint, after the first windows closed.
        await until(() => features.length > 0 || !job.running, 'features committed', 180_000);
      } finally {
        await consumer.disconnect();
      }
      expect(job.running, job.output).toBe(true);
      expect(features[0]).toMatchObject({ user_id: expect.stringMatching(/^user-\d+$/) });
      const producer = need(ctx.pending.get('produce-purchases'), 'no producer');
      expect(await producer.done(), producer.output).toBe(0);
      expect(producer.stdout).toMatch(/Wrote 600000 purchases to raw\.purchases/);
      // The job reads Kafka until stopped: Ctrl-C.
      await job.stop('SIGINT');
    },
  },
  {
    match: /^deploy\/kafka\/kafka\.sh stop$/,
    early: true,
    run: async (command) => {
      const k = need(ctx.kafka, 'no broker');
      const pid = Number(readFileSync(join(k.dir, 'kafka.pid'), 'utf8'));
      await run(`${command} --dir ${k.dir}`);
      // Gone, or a zombie its (re-)parent has not reaped yet.
      const stat = `/proc/${pid}/stat`;
      expect(!existsSync(stat) || / Z /.test(readFileSync(stat, 'utf8'))).toBe(true);
      ctx.kafka = undefined;
    },
  },

  // --- Connectors.
  {
    match:
      /^deploy\/kafka\/kafka\.sh start --sasl-ssl-port 9094 --ssl-port 9095 --user app:app-secret$/,
    notRun:
      'a second broker, with TLS listeners, would add half a minute here; the connector tests ' +
      'start kafka.sh with these options (test/fixtures/kafka-broker.ts, startKafka({ secure }))',
    checkedBy: ['test/kafka-secure-cluster.test.ts', 'test/kafka-broker.test.ts'],
  },
  {
    match: /^deploy\/schema-registry\/registry\.sh start --port 8085$/,
    notRun:
      'the registry is started by the Avro tests through the same script ' +
      '(test/fixtures/schema-registry.ts)',
    checkedBy: ['test/avro-kafka.test.ts'],
  },

  // --- The other examples, in-process.
  {
    match:
      /^pnpm --filter @nimble\/examples user-spend -- --users 1000 --events 600000 --rate 50000 --backend level$/,
    early: true,
    run: async (command) => {
      const shell = await run(command, { timeoutMs: 300_000 });
      expect(shell.stdout).toMatch(/^\d+> \{"user_id":"user-\d+"/m);
    },
  },
  {
    match:
      /^pnpm --filter @nimble\/examples (session-tracker|late-data|delayed-label-join|model-hot-reload|async-enrichment)$/,
    early: true,
    run: async (command) => {
      const shell = await run(command, { timeoutMs: 300_000 });
      // What each prints (examples.test.ts checks the exact results of their functions).
      const printed: Record<string, RegExp> = {
        'session-tracker': /^\d+> \{"user_id":"user-\d+","session_start_ts":\d+,/m,
        'late-data':
          /^feature> spend_5min alice 30\n[\s\S]*^investigate> late alice 100 at 120000$/m,
        'delayed-label-join': /^training-example> \{"prediction_id":"pred-\d+",.*"label":1,/m,
        'model-hot-reload': /^scored:\d+> \{.*"model_version":1,/m,
        'async-enrichment': /^\d+> \{"user_id":"user-\d+","segment":"\w+","country":"\w+",/m,
      };
      expect(shell.stdout, shell.output).toMatch(printed[command.split(' ').at(-1)!]!);
    },
  },

  // --- A project of your own, on the packed packages (test/project-template.test.ts checks the
  // same project through create-nimble, tsc and `npm run submit`).
  {
    match: /^pnpm pack:packages$/,
    early: true,
    run: async (command) => {
      await run(command, { timeoutMs: 900_000 });
      const tarballs = readdirSync(join(ROOT, 'build', 'packages'));
      expect(tarballs).toContain('nimble-api-0.1.0.tgz');
      expect(tarballs).toContain('create-nimble-0.1.0.tgz');
    },
  },
  {
    match: /^pnpm nimble init \.\.\/my-pipeline --packages build\/packages$/,
    early: true,
    run: async (command) => {
      await run(command);
      const manifest = JSON.parse(
        readFileSync(join(ctx.tmp, 'my-pipeline', 'package.json'), 'utf8'),
      ) as { dependencies: Record<string, string> };
      expect(manifest.dependencies['@nimble/api']).toBe(
        `file:${join(ROOT, 'build', 'packages', 'nimble-api-0.1.0.tgz')}`,
      );
    },
  },
  {
    match: /^cd \.\.\/my-pipeline && npm install && npm test && npm run dev$/,
    early: true,
    run: async (command) => {
      // The user's environment: not the workspace's pnpm and vitest variables.
      const env = userEnv({
        NIMBLE_PROPERTIES: properties({ 'jobmanager.rpc.port': 0, 'rest.port': 0 }),
      });
      const shell = await run(command, { env, timeoutMs: 900_000 });
      expect(shell.stdout).toMatch(/Tests {2}2 passed \(2\)/);
      const printed = shell.stdout
        .split('\n')
        .map((l) => l.replace(/^\d+> /, ''))
        .filter((l) => l.startsWith('{"user_id"'));
      expect(printed.sort()).toEqual([...TEMPLATE_JOB_OUTPUT].sort());
    },
  },

  // --- SQL.
  {
    match: /^pnpm nimble local -n 2 packages\/examples\/sql\/datagen-rolling-spend\.sql$/,
    early: true,
    run: async (command) => {
      const shell = await run(command, { env: localEnv(), timeoutMs: 300_000 });
      const rows = shell.stdout.split('\n').filter((l) => /^(\d+> )?\+I\[user_\d, /.test(l));
      expect(rows, shell.output).toHaveLength(30);
    },
  },
  {
    match:
      /^pnpm nimble sql -f packages\/examples\/sql\/seed-user-spend\.sql -m 127\.0\.0\.1:6123$/,
    notRun:
      "the script's tables name the compose cluster's broker, kafka:9092 (no Docker engine " +
      'here); the SQL tests run it with the broker address replaced by a test broker',
    checkedBy: ['test/sql-examples.test.ts', 'test/sql-kafka.test.ts'],
  },
  {
    match: /^pnpm nimble sql$/,
    run: async (command) => {
      const shell = await run(command, {
        input: "CREATE TABLE t (id BIGINT) WITH ('connector' = 'datagen');\nSHOW TABLES;\n",
      });
      expect(shell.stdout).toMatch(/\| table name \|\n\+-+\+\n\| +t \|\n\+-+\+\n1 row in set/);
    },
  },

  // --- Benchmarks.
  BENCH,
];

const isRun = (rule: Rule): rule is RunRule => 'run' in rule;
/** The early commands' runs, by command, started one after the other in beforeAll. */
const early = new Map<string, Promise<void>>();

function startEarly(): void {
  let previous: Promise<unknown> = Promise.resolve();
  for (const command of COMMANDS) {
    const rules = rulesOf(command);
    const rule = rules[0];
    if (rules.length !== 1 || !rule || !isRun(rule) || !rule.early) continue;
    const done = previous.then(() => rule.run(command.text));
    // A failure is its command's test's to report (and the test awaits it).
    done.catch(() => undefined);
    early.set(command.text, done);
    previous = done.catch(() => undefined);
  }
}

/** The rules a command falls under (exactly one, or README has a command to classify). */
const rulesOf = (command: ReadmeCommand): Rule[] => RULES.filter((r) => r.match.test(command.text));

const COMMANDS = readmeCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));

describe('README commands', () => {
  beforeAll(async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'nimble-readme-'));
    mkdirSync(join(tmp, 'savepoints'));
    const s3 = await startS3Server();
    // README's bucket.
    const created = await fetch(`${s3.endpoint}/bucket`, { method: 'PUT' });
    expect(created.ok).toBe(true);
    const cluster = await TestCluster.start({
      taskManagers: 2,
      slots: 2,
      jm: s3.flags,
      tm: s3.flags,
    });
    const ports = new Map<number, number>([
      [6123, cluster.jobManager.ready.rpcPort],
      [8081, cluster.jobManager.ready.httpPort],
      [6124, await freePort()],
      [8082, await freePort()],
    ]);
    ctx = {
      cluster,
      s3,
      tmp,
      assignments: new Map(),
      daemons: [],
      pending: new Map(),
      ports,
      haRestPorts: [],
    };
    startEarly();
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(early.values());
    for (const pid of PIDS) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Ended.
      }
    }
    if (ctx?.kafka) {
      const pidFile = join(ctx.kafka.dir, 'kafka.pid');
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
        } catch {
          // Ended.
        }
      }
    }
    await ctx?.cluster.stop();
    await ctx?.s3.stop();
    if (ctx?.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
  }, 120_000);

  it('finds every command under exactly one rule', () => {
    expect(COMMANDS.length).toBeGreaterThan(40);
    const problems = COMMANDS.flatMap((c) => {
      const rules = rulesOf(c);
      if (rules.length === 1) return [];
      return rules.length === 0
        ? [`README.md:${c.line}: no rule of test/readme-commands.test.ts covers: ${c.text}`]
        : [
            `README.md:${c.line}: ${rules.length} rules (${rules.map((r) => r.match).join(', ')}) cover: ${c.text}`,
          ];
    });
    expect(problems).toEqual([]);
    // A rule no command needs any more is stale.
    const stale = RULES.filter((r) => !COMMANDS.some((c) => r.match.test(c.text)));
    expect(stale.map((r) => String(r.match))).toEqual([]);
  });

  for (const command of COMMANDS) {
    const rules = rulesOf(command);
    if (rules.length !== 1) continue;
    const rule = rules[0]!;
    if (isRun(rule) && rule.early) {
      it(
        `runs (in the background from the start): ${command.text}`,
        () => early.get(command.text)!,
        600_000,
      );
    } else if (isRun(rule)) {
      it(`runs: ${command.text}`, () => rule.run(command.text), 600_000);
    } else if (rule === BENCH) {
      it(`does not run, checks the script of: ${command.text}`, () => {
        const script = /^pnpm (bench(:[\w-]+)?)/.exec(command.text)![1]!;
        const scripts = (
          JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
            scripts: Record<string, string>;
          }
        ).scripts;
        expect(scripts[script], `package.json has no script ${script}`).toBeDefined();
        const file = /^tsx (\S+)/.exec(scripts[script]!)![1]!;
        expect(existsSync(join(ROOT, file)), file).toBe(true);
      });
    } else {
      it(`does not run (${rule.notRun}): ${command.text}`, () => {
        for (const f of rule.checkedBy) expect(existsSync(join(ROOT, f)), f).toBe(true);
      });
    }
  }
});

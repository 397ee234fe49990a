import { progress } from './progress.js';
import { installPipelineExecutor } from '@nimble/api';
import type { JobDetails__Output } from '@nimble/proto';
import { RpcError, status } from '@nimble/proto';
import { ClusterExecutor, JobManagerClient, TERMINAL_STATES } from '@nimble/client';
import type { RpcSecurity } from '@nimble/proto';
import type { JsonPlan } from '@nimble/runtime';
import {
  buildJobGraph,
  describeJobGraph,
  ensureError,
  jsonPlanOf,
  loadSecurityMaterial,
  parseExecutionConfiguration,
  parseStorageUri,
} from '@nimble/runtime';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConfigFlags } from './daemons.js';
import { loadClusterConfiguration } from './daemons.js';
import { ExitCode } from './exit-codes.js';
import { formatTypeErrors, typeCheckJob } from './typecheck.js';

/** Raised by a command to end with a message and an exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.FAILURE,
  ) {
    super(message);
  }
}

export interface ClientFlags extends ConfigFlags {
  readonly jobmanager?: string;
}

/** host:port of the JobManager: -m, else the configuration's jobmanager.rpc.address:port. */
export function jobManagerAddress(flags: ClientFlags): string {
  if (flags.jobmanager) {
    if (!/^[^\s:]+:\d+$/.test(flags.jobmanager)) {
      throw new CommandError(
        `-m/--jobmanager ${JSON.stringify(flags.jobmanager)} is not host:port`,
        ExitCode.USAGE,
      );
    }
    return flags.jobmanager;
  }
  const { config } = loadClusterConfiguration(flags);
  return `${config.jobManagerRpcAddress}:${config.jobManagerRpcPort}`;
}

/**
 * How the CLI authenticates to the JobManager: the cluster's mutual TLS
 * (security.ssl.internal.*) and the token, from NIMBLE_TOKEN or else the configuration
 * (security.rest.token-file, security.rest.token).
 */
export function clientSecurity(flags: ConfigFlags): RpcSecurity {
  const { config } = loadClusterConfiguration(flags);
  // The REST server's certificate and key are the JobManager's business, not the client's.
  const material = loadSecurityMaterial({ ...config, restSslEnabled: false });
  const token = process.env['NIMBLE_TOKEN']?.trim() || material.token;
  return { tls: material.internal, token };
}

/** A client of the JobManager the flags name, with the configured credentials. */
export function jobManagerClient(flags: ClientFlags): JobManagerClient {
  return new JobManagerClient(jobManagerAddress(flags), clientSecurity(flags));
}

/**
 * Checks a savepoint path or directory given on the command line. The JobManager reads and
 * writes it, so a path relative to the client's directory would name something else there.
 */
function storagePath(option: string, path: string): string {
  try {
    parseStorageUri(path);
  } catch {
    throw new CommandError(
      `${option} ${JSON.stringify(path)}: expected file:///absolute/path, /absolute/path or s3://bucket/key ` +
        '(the JobManager resolves it, not this shell)',
      ExitCode.USAGE,
    );
  }
  return path;
}

/** Status codes with which the JobManager answers a request it refuses (not an outage). */
const REFUSALS: ReadonlySet<number> = new Set([
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.INVALID_ARGUMENT,
]);

/** Rethrows a refusal of the JobManager as `<what>: <its reason>` (exit 1); anything else as is. */
function refused(e: unknown, what: string): never {
  if (e instanceof RpcError && REFUSALS.has(e.code)) {
    throw new CommandError(`${what}: ${e.details}`, ExitCode.FAILURE);
  }
  throw e;
}

export interface RunFlags extends ClientFlags {
  readonly parallelism?: string;
  readonly detached?: boolean;
  readonly fromSavepoint?: string;
  readonly allowNonRestoredState?: boolean;
  /** false with --no-typecheck: submit without type-checking the job. */
  readonly typecheck?: boolean;
}

const write = (text: string): void => void process.stdout.write(text);

/** `nimble run`: loads the job in plan mode and submits it; follows it unless detached. */
/** The job configuration of `-D key=value` (in order) and `-p n` (as parallelism.default). */
export function dynamicConfiguration(flags: {
  readonly D?: readonly string[];
  readonly parallelism?: string;
}): Record<string, string> {
  const configuration: Record<string, string> = {};
  for (const d of flags.D ?? []) {
    const eq = d.indexOf('=');
    if (eq <= 0) throw new CommandError(`-D ${d}: expected key=value`, ExitCode.USAGE);
    configuration[d.slice(0, eq).trim()] = d.slice(eq + 1).trim();
  }
  if (flags.parallelism !== undefined) {
    const p = Number(flags.parallelism);
    if (!Number.isInteger(p) || p < 1)
      throw new CommandError(`-p ${flags.parallelism}: expected an integer >= 1`, ExitCode.USAGE);
    configuration['parallelism.default'] = String(p);
  }
  return configuration;
}

/** `-s` checked as a path the JobManager can read, and `-n`, which needs it. */
export function savepointRestore(flags: {
  readonly fromSavepoint?: string;
  readonly allowNonRestoredState?: boolean;
}): { savepointPath: string | undefined; allowNonRestoredState: boolean } {
  const savepointPath =
    flags.fromSavepoint === undefined
      ? undefined
      : storagePath('-s/--fromSavepoint', flags.fromSavepoint);
  if (flags.allowNonRestoredState && savepointPath === undefined) {
    throw new CommandError(
      '-n/--allowNonRestoredState only applies with -s/--fromSavepoint',
      ExitCode.USAGE,
    );
  }
  return { savepointPath, allowNonRestoredState: flags.allowNonRestoredState ?? false };
}

/**
 * Refuses a job that does not type-check, printing its errors as tsc does, before anything of it
 * runs or is bundled: a type error found on the cluster costs a failed job, here a second.
 */
async function typeCheck(job: string, jobModule: string): Promise<void> {
  // The check blocks the event loop: let the progress line show before it starts.
  const checked = await progress(
    `Type-checking ${job}`,
    new Promise<void>((r) => setImmediate(r)).then(() => typeCheckJob(jobModule)),
  );
  if (checked.errors.length === 0) return;
  process.stderr.write(formatTypeErrors(checked.errors, process.stderr.isTTY === true));
  const n = checked.errors.length;
  throw new CommandError(
    `${job} has ${n} type error${n === 1 ? '' : 's'} ` +
      `(checked with ${checked.configFile ?? 'the default compiler options'}): not submitted. ` +
      'Fix them, or submit without the check with --no-typecheck.',
    ExitCode.USAGE,
  );
}

export async function runJob(job: string, args: string[], flags: RunFlags): Promise<number> {
  const jobModule = resolve(job);
  if (!existsSync(jobModule))
    throw new CommandError(`Job file ${job} does not exist`, ExitCode.USAGE);
  const configuration = dynamicConfiguration(flags);
  const { savepointPath } = savepointRestore(flags);
  const address = jobManagerAddress({ ...flags, D: [] });
  if (flags.typecheck !== false) await typeCheck(job, jobModule);
  let lastState = '';
  const executor = new ClusterExecutor({
    jobManagerAddress: address,
    security: clientSecurity({ ...flags, D: [] }),
    jobModule,
    programArgs: args,
    configuration,
    savepointPath,
    allowNonRestoredState: flags.allowNonRestoredState ?? false,
    detached: flags.detached ?? false,
    progress: (label, work) => progress(label, work),
    onSubmitted: (id) => write(`Job has been submitted with JobID ${id}\n`),
    onStatus: (j) => {
      if (j.state !== lastState) {
        lastState = j.state;
        process.stderr.write(
          `Job ${j.jobId} is ${j.state}${j.statusMessage ? `: ${j.statusMessage}` : ''}\n`,
        );
      }
    },
  });
  let executed = false;
  installPipelineExecutor({
    async execute(pipeline) {
      executed = true;
      const result = await executor.execute(pipeline);
      if (!flags.detached) {
        write(
          `Job with JobID ${result.jobId} has finished.\nJob Runtime: ${result.netRuntimeMs} ms\n`,
        );
      }
      return result;
    },
  });
  // The job sees its own arguments, as when it runs with tsx.
  process.argv = [process.argv[0]!, jobModule, ...args];
  await import(pathToFileURL(jobModule).href);
  if (!executed) {
    throw new CommandError(
      `${job} did not call execute(): there was no job to submit`,
      ExitCode.USAGE,
    );
  }
  return ExitCode.OK;
}

function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getDate())}.${p(d.getMonth() + 1)}.${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function line(j: JobDetails__Output): string {
  return `${formatTime(j.startTime)} : ${j.jobId} : ${j.name} (${j.state})\n`;
}

/** `nimble list`: Flink's layout; running and scheduled jobs by default. */
export async function listJobs(
  flags: ClientFlags & { running?: boolean; all?: boolean },
): Promise<number> {
  const client = jobManagerClient(flags);
  try {
    const jobs = (await client.listJobs(false)).sort((a, b) => a.startTime - b.startTime);
    const running = jobs.filter(
      (j) =>
        j.state === 'RUNNING' ||
        j.state === 'RESTARTING' ||
        j.state === 'FAILING' ||
        j.state === 'CANCELLING',
    );
    const scheduled = jobs.filter((j) => j.state === 'CREATED');
    const ended = jobs.filter((j) => TERMINAL_STATES.has(j.state));
    const section = (title: string, list: JobDetails__Output[]): void => {
      if (list.length === 0) {
        write(`No ${title.toLowerCase()}.\n`);
        return;
      }
      write(`------------------ ${title} -------------------\n`);
      for (const j of list) write(line(j));
      write('--------------------------------------------------------------\n');
    };
    section('Running/Restarting Jobs', running);
    if (!flags.running) section('Scheduled Jobs', scheduled);
    if (flags.all) section('Terminated Jobs', ended);
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

export async function cancelJob(jobId: string, flags: ClientFlags): Promise<number> {
  const client = jobManagerClient(flags);
  try {
    await client.cancelJob(jobId);
    write(`Cancelled job ${jobId}.\n`);
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

/**
 * `nimble rescale <jobId> -p N`: runs a running job at parallelism N (non-parallel operators stay
 * at 1), through a checkpoint and a restart from it; returns once the job runs at N.
 */
export async function rescaleJob(
  jobId: string,
  flags: ClientFlags & { readonly parallelism?: string },
): Promise<number> {
  const p = Number(flags.parallelism);
  if (flags.parallelism === undefined || !Number.isInteger(p) || p < 1)
    throw new CommandError(
      `-p ${flags.parallelism ?? '(missing)'}: expected the new parallelism, an integer >= 1`,
      ExitCode.USAGE,
    );
  const client = jobManagerClient(flags);
  try {
    const job = await client.rescaleJob(jobId, p);
    const vertices = job.vertices.map((v) => `${v.name}: ${v.parallelism}`).join(', ');
    write(`Job ${jobId} runs at parallelism ${p} (${vertices}).\n`);
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

export interface SavepointFlags extends ClientFlags {
  readonly dispose?: string;
}

/**
 * `nimble savepoint <jobId> [targetDirectory]` takes a savepoint of a running job;
 * `nimble savepoint -d <path>` disposes of one. Flink's messages, so scripts carry over.
 */
export async function savepoint(
  jobId: string | undefined,
  targetDirectory: string | undefined,
  flags: SavepointFlags,
): Promise<number> {
  if (flags.dispose !== undefined) {
    if (targetDirectory !== undefined)
      throw new CommandError('-d/--dispose takes no target directory', ExitCode.USAGE);
    return disposeSavepoint(storagePath('-d/--dispose', flags.dispose), flags);
  }
  if (jobId === undefined)
    throw new CommandError(
      'savepoint: give the id of the job, or -d <path> to dispose of a savepoint',
      ExitCode.USAGE,
    );
  const target =
    targetDirectory === undefined ? '' : storagePath('targetDirectory', targetDirectory);
  const client = jobManagerClient(flags);
  try {
    write(`Triggering savepoint for job ${jobId}.\nWaiting for response...\n`);
    const path = await progress(
      'Taking the savepoint',
      client.triggerSavepoint(jobId, target),
    ).catch((e: unknown) => refused(e, `Triggering a savepoint for the job ${jobId} failed`));
    write(
      `Savepoint completed. Path: ${path}\n` +
        'You can resume your program from this savepoint with the run command.\n',
    );
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

async function disposeSavepoint(path: string, flags: ClientFlags): Promise<number> {
  const client = jobManagerClient(flags);
  try {
    write(`Disposing savepoint '${path}'.\n`);
    await progress('Disposing', client.disposeSavepoint(path)).catch((e: unknown) =>
      refused(e, `Disposing the savepoint '${path}' failed`),
    );
    write(`Savepoint '${path}' disposed.\n`);
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

/**
 * `nimble checkpoint <jobId>` (Flink's `flink checkpoint`): takes a checkpoint of a running job
 * and prints its id and directory once it is complete.
 */
export async function checkpoint(
  jobId: string,
  flags: ClientFlags & { readonly full?: boolean },
): Promise<number> {
  const client = jobManagerClient(flags);
  try {
    write(`Triggering checkpoint for job ${jobId}.\nWaiting for response...\n`);
    const { checkpointId, path } = await client
      .triggerCheckpoint(jobId, flags.full ?? false)
      .catch((e: unknown) => refused(e, `Triggering a checkpoint for the job ${jobId} failed`));
    const type = flags.full ? 'FULL' : 'CONFIGURED';
    write(`Checkpoint(${type}) ${checkpointId} for job ${jobId} completed.\nPath: ${path}\n`);
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

/**
 * `nimble info <job>` (Flink's `flink info`): loads the job in plan mode, as `run` does, and
 * prints its plan in Flink's JSON shape without submitting it.
 */
export async function infoJob(
  job: string,
  args: string[],
  flags: { readonly parallelism?: string; readonly D?: readonly string[] },
): Promise<number> {
  const jobModule = resolve(job);
  if (!existsSync(jobModule))
    throw new CommandError(`Job file ${job} does not exist`, ExitCode.USAGE);
  const overrides = dynamicConfiguration(flags);
  let planned!: (plan: JsonPlan) => void;
  const described = new Promise<JsonPlan>((resolve) => (planned = resolve));
  installPipelineExecutor({
    execute(pipeline) {
      const configuration: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...pipeline.configuration, ...overrides }))
        configuration[k] = String(v);
      try {
        parseExecutionConfiguration(configuration);
      } catch (e) {
        throw new CommandError(ensureError(e).message, ExitCode.USAGE);
      }
      const description = describeJobGraph(buildJobGraph({ ...pipeline, configuration }));
      // A plan has a job id in Flink too: the one the job would get (random), not a submitted one.
      planned(jsonPlanOf(description, randomBytes(16).toString('hex')));
      // The module's code after execute() does not run: there is no result.
      return new Promise(() => {});
    },
  });
  process.argv = [process.argv[0]!, jobModule, ...args];
  // The module awaits execute(), which never settles here: its import ends only without one.
  const plan = await Promise.race([
    described,
    import(pathToFileURL(jobModule).href).then(() => undefined),
  ]);
  if (!plan) {
    throw new CommandError(
      `${job} did not call execute(): there was no job to describe`,
      ExitCode.USAGE,
    );
  }
  write(
    '----------------------- Execution Plan -----------------------\n' +
      `${JSON.stringify(plan, null, 2)}\n` +
      '--------------------------------------------------------------\n',
  );
  return ExitCode.OK;
}

export interface StopFlags extends ClientFlags {
  readonly savepointPath?: string;
  readonly drain?: boolean;
}

/** `nimble stop <jobId>`: takes a savepoint, then the job ends FINISHED (Flink's stop). */
export async function stopJob(jobId: string, flags: StopFlags): Promise<number> {
  const target =
    flags.savepointPath === undefined ? '' : storagePath('-p/--savepointPath', flags.savepointPath);
  const client = jobManagerClient(flags);
  try {
    write(`${flags.drain ? 'Draining' : 'Suspending'} job "${jobId}" with a savepoint.\n`);
    const path = await progress(
      'Taking the savepoint and stopping',
      client.triggerSavepoint(jobId, target, { stop: true, drain: flags.drain ?? false }),
    ).catch((e: unknown) => refused(e, `Could not stop with a savepoint job "${jobId}"`));
    write(`Savepoint completed. Path: ${path}\n`);
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

export async function showCluster(flags: ClientFlags): Promise<number> {
  const client = jobManagerClient(flags);
  try {
    const o = await client.clusterOverview();
    write(
      `TaskManagers: ${o.taskManagers.length}  slots: ${o.slotsAvailable} free of ${o.slotsTotal}  jobs running: ${o.jobsRunning}\n`,
    );
    const rows = o.taskManagers.map((tm) => [
      tm.resourceId,
      tm.address,
      `${tm.slotsFree}/${tm.slotsTotal}`,
      tm.metricsAddress,
    ]);
    const header = ['RESOURCE ID', 'ADDRESS', 'FREE/SLOTS', 'METRICS'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows])
      write(
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd() + '\n',
      );
    return ExitCode.OK;
  } finally {
    client.close();
  }
}

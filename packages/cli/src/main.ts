import { ConfigurationError, ensureError, parseLogFormat } from '@nimble/runtime';
import { RpcError, status } from '@nimble/proto';
import { JobFailedError } from '@nimble/client';
import { Command, CommanderError, Option } from 'commander';
import {
  cancelJob,
  checkpoint,
  rescaleJob,
  CommandError,
  infoJob,
  listJobs,
  runJob,
  savepoint,
  showCluster,
  stopJob,
} from './commands.js';
import type { ClientFlags, RunFlags, SavepointFlags, StopFlags } from './commands.js';
import type { ConfigFlags } from './daemons.js';
import { loadClusterConfiguration, runJobManager, runTaskManager } from './daemons.js';
import { ExitCode } from './exit-codes.js';
import { addInitCommand } from './init.js';
import { startLocalCluster } from './local-cluster.js';
import { inspectSavepoint } from './savepoint-inspect.js';
import type { InspectFlags } from './savepoint-inspect.js';
import { securityInit } from './security-init.js';
import type { SecurityInitFlags } from './security-init.js';
import type * as SqlClient from './sql-client.js';
import type { SqlFlags } from './sql-client.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The SQL client, loaded when used: the SQL parser is not for the daemons to load. */
const sqlClient = (): Promise<typeof SqlClient> => import('./sql-client.js');

function configOptions(cmd: Command): Command {
  return cmd
    .option(
      '--log-format <format>',
      'log lines as json or text (default: text on a terminal, json otherwise)',
    )
    .option(
      '-c, --config <file>',
      'YAML configuration file (default: $NIMBLE_CONF_DIR/config.yaml)',
    )
    .option(
      '-D <key=value>',
      'set a configuration key (repeatable); overrides the file and NIMBLE_PROPERTIES',
      collect,
      [],
    );
}

function clientOptions(cmd: Command): Command {
  return configOptions(cmd).option(
    '-m, --jobmanager <host:port>',
    'JobManager to talk to (default: jobmanager.rpc.address:jobmanager.rpc.port)',
  );
}

/** Builds the `nimble` program; `exit` receives each command's exit code. */
export function createProgram(exit: (code: number) => void): Command {
  const program = new Command('nimble')
    .description('Nimble: a Flink-style distributed stream processor for TypeScript')
    .version('0.1.0')
    .showHelpAfterError()
    .enablePositionalOptions()
    .exitOverride()
    .hook('preAction', (_program, action) => {
      // Before anything logs: the daemons' loggers, and those of child daemons (nimble local),
      // read it from the environment.
      const format = (action.opts() as { logFormat?: string }).logFormat;
      if (format !== undefined)
        process.env['NIMBLE_LOG_FORMAT'] = parseLogFormat(format, '--log-format');
    });

  configOptions(program.command('jobmanager'))
    .description('run the JobManager daemon (gRPC 6123, REST and /metrics 8081)')
    .action(async (flags: ConfigFlags) => {
      await runJobManager(flags);
    });

  configOptions(program.command('taskmanager'))
    .description(
      'run a TaskManager daemon (gRPC 6122, /metrics 9249) that offers taskmanager.numberOfTaskSlots slots',
    )
    .action(async (flags: ConfigFlags) => {
      await runTaskManager(flags);
    });

  configOptions(program.command('local'))
    .description(
      'start a JobManager and N TaskManagers as local processes; with a job, run it on them and stop',
    )
    .argument(
      '[job]',
      'job to run on the local cluster: a module (.ts or .js) or a SQL script (.sql)',
    )
    .argument('[args...]', "the job's own arguments")
    .option('-n, --taskmanagers <n>', 'TaskManagers to start', '2')
    .option('-s, --slots <n>', 'task slots per TaskManager', '1')
    .option('-p, --parallelism <n>', 'default parallelism of the job')
    .option('--no-typecheck', 'submit the job without type-checking it first')
    // Everything after the job file belongs to the job, as with `flink run job.jar args`.
    .passThroughOptions()
    .action(
      async (
        job: string | undefined,
        args: string[],
        flags: ConfigFlags & {
          taskmanagers: string;
          slots: string;
          parallelism?: string;
          typecheck: boolean;
        },
      ) => {
        const n = Number(flags.taskmanagers);
        const slots = Number(flags.slots);
        if (!Number.isInteger(n) || n < 1)
          throw new CommandError(
            `--taskmanagers ${flags.taskmanagers}: expected an integer >= 1`,
            ExitCode.USAGE,
          );
        if (!Number.isInteger(slots) || slots < 1)
          throw new CommandError(
            `--slots ${flags.slots}: expected an integer >= 1`,
            ExitCode.USAGE,
          );
        const daemonArgs = [
          ...(flags.config ? ['-c', flags.config] : []),
          ...(flags.D ?? []).flatMap((d) => ['-D', d]),
        ];
        const cluster = await startLocalCluster({
          taskManagers: n,
          slots,
          args: daemonArgs,
          keepJobStore: loadClusterConfiguration(flags).config.blobStorageDirectory !== '',
        });
        process.stderr.write(
          `Local cluster: JobManager ${cluster.jobManagerAddress}, REST ${cluster.restUrl}, ` +
            `${n} TaskManager(s) with ${slots} slot(s) each\n`,
        );
        if (!job) {
          process.stderr.write('Submit jobs with: nimble run <job.ts>. Stop with Ctrl-C.\n');
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await cluster.stop();
          exit(ExitCode.OK);
          return;
        }
        try {
          const clientFlags = {
            jobmanager: cluster.jobManagerAddress,
            // The client's credentials come from the daemons' configuration file.
            config: flags.config,
            parallelism: flags.parallelism,
            typecheck: flags.typecheck,
            D: [],
          };
          // A SQL script runs as `nimble sql -f` does, waiting for each job: the cluster stops after.
          const code = job.endsWith('.sql')
            ? await (await sqlClient()).runSqlFile(job, clientFlags, 'sync')
            : await runJob(job, args, clientFlags);
          await cluster.stop();
          exit(code);
        } catch (e) {
          await cluster.stop();
          throw e;
        }
      },
    );

  clientOptions(program.command('run'))
    .description(
      'type-check and bundle a job, submit it and follow it until it ends (or return at once with -d)',
    )
    .argument('<job>', 'job module (.ts or .js) that builds a pipeline and calls execute()')
    .argument('[args...]', "the job's own arguments (everything after the job file)")
    .option('-p, --parallelism <n>', 'default parallelism (parallelism.default)')
    .option('-d, --detached', 'return once the job is submitted')
    .option(
      '--no-typecheck',
      'submit without type-checking the job first (by default, type errors stop it, as tsc reports them)',
    )
    .option(
      '-s, --fromSavepoint <path>',
      'start from this savepoint or retained checkpoint: its directory or _metadata, as the JobManager sees it',
    )
    .option(
      '-n, --allowNonRestoredState',
      'with -s: skip state of operators the job no longer has (also --allow-non-restored-state)',
    )
    // Both spellings set the same flag: Flink's, and the kebab-case the other options use.
    .addOption(new Option('--allow-non-restored-state').hideHelp())
    .passThroughOptions()
    .action(async (job: string, args: string[], flags: RunFlags) =>
      exit(await runJob(job, args, flags)),
    );

  clientOptions(program.command('sql'))
    .description(
      'the SQL client: run a script with -f (INSERTs become jobs), or type statements interactively',
    )
    .option('-f, --file <file>', 'run the statements of this SQL script, then exit')
    .option('-p, --parallelism <n>', 'default parallelism of the jobs (parallelism.default)')
    .option('-d, --detached', 'never wait for INSERT jobs to end, even with table.dml-sync')
    .option(
      '-s, --fromSavepoint <path>',
      'start the jobs from this savepoint or retained checkpoint, as the JobManager sees it',
    )
    .option(
      '-n, --allowNonRestoredState',
      'with -s: skip state of operators the job no longer has (also --allow-non-restored-state)',
    )
    .addOption(new Option('--allow-non-restored-state').hideHelp())
    .option(
      '--history <file>',
      'history of the interactive client (default: ~/.nimble_sql_history)',
    )
    .action(async (flags: SqlFlags) => {
      const { runSqlFile, runSqlShell } = await sqlClient();
      exit(flags.file ? await runSqlFile(flags.file, flags) : await runSqlShell(flags));
    });

  clientOptions(program.command('list'))
    .description('list jobs: running and scheduled by default')
    .addOption(new Option('-r, --running', 'only running jobs'))
    .addOption(new Option('-a, --all', 'also jobs that ended'))
    .action(async (flags: ClientFlags & { running?: boolean; all?: boolean }) =>
      exit(await listJobs(flags)),
    );

  clientOptions(program.command('cancel'))
    .description('cancel a job')
    .argument('<jobId>', 'id of the job, as printed by run or list')
    .action(async (jobId: string, flags: ClientFlags) => exit(await cancelJob(jobId, flags)));

  const savepointCommand = clientOptions(program.command('savepoint'))
    .description(
      'take a savepoint of a running job (state.savepoints.dir unless a directory is given), or dispose of one with -d',
    )
    .argument('[jobId]', 'id of the job, as printed by run or list')
    .argument('[targetDirectory]', 'where to write it: file:///path, /path or s3://bucket/key')
    .option('-d, --dispose <path>', 'delete the savepoint at <path> (its directory or _metadata)')
    .action(
      async (
        jobId: string | undefined,
        targetDirectory: string | undefined,
        flags: SavepointFlags,
      ) => exit(await savepoint(jobId, targetDirectory, flags)),
    );
  configOptions(savepointCommand.command('inspect'))
    .description(
      'show what a savepoint or retained checkpoint holds: operators, keyed states, key groups, ' +
        'timers, source splits, committables; one key with --state --key; all entries with --dump',
    )
    .argument(
      '<path>',
      'savepoint or checkpoint directory (or its _metadata), or a job checkpoint directory ' +
        '(its newest chk-N): /path, file:///path or s3://bucket/key',
    )
    .option('--state <name>', 'a keyed state, for --key or --dump')
    .option('--key <key>', 'print the value of this key in --state (default namespace)')
    .option('--key-type <type>', 'how to read --key: string, number, bigint, boolean or json')
    .option('--operator <uid>', 'the operator of --state, when several have a state of that name')
    .option('--dump', 'write every entry of --state as JSON lines {"key","namespace","value"}')
    .option('--output <file>', 'with --dump: write to this file instead of stdout')
    .option('--key-groups', 'list every key group with its size and entries')
    .option('--json', 'print the listing as JSON')
    .action(async (path: string, flags: InspectFlags) => exit(await inspectSavepoint(path, flags)));

  clientOptions(program.command('rescale'))
    .description(
      'run a running job at another parallelism: a checkpoint, then a restart from it (docs/scaling.md)',
    )
    .argument('<jobId>', 'id of the job, as printed by run or list')
    .requiredOption('-p, --parallelism <n>', 'the new parallelism of every parallel operator')
    .action(async (jobId: string, flags: ClientFlags & { parallelism?: string }) =>
      exit(await rescaleJob(jobId, flags)),
    );

  clientOptions(program.command('checkpoint'))
    .description('take a checkpoint of a running job now and print its id and path')
    .argument('<jobId>', 'id of the job, as printed by run or list')
    .option('--full', 'a full checkpoint (refused when the job checkpoints incrementally)')
    .action(async (jobId: string, flags: ClientFlags & { full?: boolean }) =>
      exit(await checkpoint(jobId, flags)),
    );

  configOptions(program.command('info'))
    .description("print a job's plan (Flink's JSON execution plan) without submitting it")
    .argument('<job>', 'job module (.ts or .js) that builds a pipeline and calls execute()')
    .argument('[args...]', "the job's own arguments (everything after the job file)")
    .option('-p, --parallelism <n>', 'default parallelism (parallelism.default)')
    .passThroughOptions()
    .action(async (job: string, args: string[], flags: { parallelism?: string; D?: string[] }) =>
      exit(await infoJob(job, args, flags)),
    );

  clientOptions(program.command('stop'))
    .description('stop a job with a savepoint: it ends FINISHED, and can resume with run -s')
    .argument('<jobId>', 'id of the job, as printed by run or list')
    .option(
      '-p, --savepointPath <dir>',
      'where to write the savepoint (default: state.savepoints.dir; also --savepoint-path)',
    )
    .addOption(new Option('--savepoint-path <dir>').hideHelp())
    .option(
      '-d, --drain',
      'emit MAX_WATERMARK before the savepoint, firing all event-time timers (the job will not resume where it was)',
    )
    .action(async (jobId: string, flags: StopFlags) => exit(await stopJob(jobId, flags)));

  addInitCommand(program, exit);

  clientOptions(program.command('cluster'))
    .description('show the TaskManagers and their slots')
    .action(async (flags: ClientFlags) => exit(await showCluster(flags)));

  program
    .command('security')
    .description('set up authentication and encryption (docs/security.md)')
    .command('init')
    .description(
      'write a cluster CA, a daemon certificate and a client token to <dir>, and print the ' +
        'configuration that uses them',
    )
    .argument('<dir>', 'directory to write to (created; must not hold a CA or token yet)')
    .option(
      '--host <name>',
      'a host name or IP address the daemon certificate is valid for, besides localhost ' +
        '(repeatable): the names clients use to reach the REST API',
      collect,
      [],
    )
    .option('--days <n>', 'validity of the certificates in days', '825')
    .option(
      '--keep-existing',
      'when <dir> already holds a complete set of files, keep them and succeed (for an init step ' +
        'that runs on every start)',
    )
    .action((dir: string, flags: SecurityInitFlags) =>
      exit(securityInit(dir, flags, (text) => void process.stdout.write(text))),
    );

  return program;
}

/** Runs the CLI; sets the exit code for every outcome (scripts rely on them, see exit-codes.ts). */
export async function main(argv: string[]): Promise<void> {
  // A client command ends the process when it is done (gRPC channels would keep it alive);
  // daemon commands never call this and run until signaled.
  const program = createProgram((code) => process.exit(code));
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exit(e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
    }
    const error = ensureError(e);
    let code: number = ExitCode.FAILURE;
    let message = `${error.name}: ${error.message}`;
    if (error instanceof CommandError) {
      code = error.exitCode;
      message = error.message;
    } else if (error instanceof ConfigurationError) {
      code = ExitCode.USAGE;
      message = `Configuration error: ${error.message}`;
    } else if (error instanceof RpcError) {
      message = `The JobManager refused or could not be reached: ${error.message}`;
      if (error.code === status.UNAVAILABLE) {
        message +=
          '\nIs a JobManager listening there? A cluster with TLS refuses clients without its ' +
          'certificate: give this client the security.ssl.internal.* settings of the cluster ' +
          '(docs/security.md).';
      }
    } else if (error instanceof JobFailedError) {
      message = error.stack ?? error.message;
    } else if (error.stack) {
      message = error.stack;
    }
    process.stderr.write(`nimble: ${message}\n`);
    process.exit(code);
  }
}

/**
 * The job module of SQL scripts (`nimble sql -f job.sql`): the cluster runs this module with the
 * script and the index of the job to build, as it runs any job module, so a SQL job is rebuilt on
 * every TaskManager from its statements.
 *
 *   program arguments: --script <the script's text> --job <n>
 *
 * Job `n` is the n-th INSERT, statement set or query of the script (from 0); the statements
 * before it (CREATE, SET, ...) run first to build the catalog it reads.
 */
import { StreamExecutionEnvironment } from '@nimble/api';
import { runScriptJob } from './table/script.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const script = option('--script');
const job = Number(option('--job') ?? '0');
if (script === undefined || !Number.isInteger(job) || job < 0) {
  throw new Error('script-job: expected the program arguments --script <sql> --job <n>');
}
await runScriptJob(StreamExecutionEnvironment.getExecutionEnvironment(), script, job);

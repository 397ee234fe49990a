/**
 * Importing this module makes `env.execute()` run the job locally when nothing else installed an
 * executor: `tsx job.ts` runs the job in this process, with one worker thread per slot.
 * Under `nimble run` or in a TaskManager, their executor is installed first and this does nothing.
 */
import { installedPipelineExecutor, installPipelineExecutor } from '@nimble/api';
import { LocalExecutor } from './executor/local-executor.js';

if (installedPipelineExecutor() === undefined) {
  const entry = process.argv[1];
  const jobModule =
    entry && !entry.includes('node_modules') && /\.(m?[jt]s|cjs|cts|mts)$/.test(entry)
      ? entry
      : undefined;
  installPipelineExecutor(new LocalExecutor({ jobModule, threads: 'auto' }));
}

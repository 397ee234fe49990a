import type { Pipeline } from '@nimble/api';
import { installPipelineExecutor } from '@nimble/api';
import { pathToFileURL } from 'node:url';
import { ensureError } from '../errors.js';

/**
 * Loads a job module to obtain its pipeline (the user's functions with the plan): installs an
 * executor that captures what the module passes to `execute()`. The module's code after
 * `execute()` never runs here — it ran (or runs) where the job was submitted.
 *
 * @param where names the loading thread in errors, e.g. "slot 1's worker".
 */
export async function loadPipeline(jobModule: string, where: string): Promise<Pipeline> {
  let captured!: (p: Pipeline) => void;
  const pipeline = new Promise<Pipeline>((resolve) => (captured = resolve));
  installPipelineExecutor({
    execute(p) {
      captured(p);
      return new Promise(() => {});
    },
  });
  const loaded = import(pathToFileURL(jobModule).href);
  const failed = loaded.then(
    () =>
      Promise.reject(
        new Error(
          `${jobModule} finished loading in ${where} without calling execute(): ` +
            'a job module must build and execute its job whenever it is loaded, not only as the main module',
        ),
      ),
    (e: unknown) => Promise.reject(ensureError(e)),
  );
  return Promise.race([pipeline, failed]);
}

import { build } from 'esbuild';

/**
 * Bundles a job module and everything it imports into one ES module, except `@nimble/*`
 * (the cluster provides those, so the job's classes are the runtime's own) and Node's
 * built-in modules.
 */
export async function bundleJob(entry: string): Promise<Uint8Array> {
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: ['@nimble/*'],
      write: false,
      logLevel: 'silent',
      // Bundled CommonJS dependencies may call require(): give the module one.
      banner: {
        js: "import { createRequire as __nimbleCreateRequire } from 'node:module'; const require = __nimbleCreateRequire(import.meta.url);",
      },
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } }[] })
      .errors;
    const detail = errors
      ?.map((x) => (x.location ? `${x.location.file}:${x.location.line}: ${x.text}` : x.text))
      .join('\n');
    throw new Error(`Cannot bundle the job ${entry}:\n${detail ?? String(e)}`, { cause: e });
  }
  return result.outputFiles[0]!.contents;
}

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * The packages a job bundle leaves external: the cluster provides them, so the job's classes are
 * the runtime's own. Everything else the job imports (connectors, `@nimble/sql`, formats, their
 * libraries) goes into the bundle.
 */
const EXTERNAL = ['@nimble/api', '@nimble/api/*', '@nimble/runtime', '@nimble/runtime/*'];

/** Where `@nimble/*` imports fall back to: this installation of Nimble. */
const NIMBLE_INSTALLATION = dirname(fileURLToPath(import.meta.url));

/**
 * Resolves the `@nimble/*` imports of a job that its own directory does not provide (a job
 * outside any project, as in a temporary directory) from this installation of Nimble, as the
 * `nimble` command does when it loads the job module.
 */
const nimbleFallback: Plugin = {
  name: 'nimble-fallback',
  setup(build) {
    build.onResolve({ filter: /^@nimble\// }, async (args) => {
      if (args.pluginData === nimbleFallback) return undefined;
      const options = { kind: args.kind, importer: args.importer, pluginData: nimbleFallback };
      const own = await build.resolve(args.path, { ...options, resolveDir: args.resolveDir });
      if (own.errors.length === 0) return own;
      const installed = await build.resolve(args.path, {
        ...options,
        resolveDir: NIMBLE_INSTALLATION,
      });
      return installed.errors.length === 0 ? installed : { errors: own.errors };
    });
  },
};

/**
 * Bundles a job module and everything it imports into one ES module, except `@nimble/api`,
 * `@nimble/runtime` and Node's built-in modules. Optional native add-ons a library requires
 * inside a try (pg's `pg-native`, the AWS SDK's `@aws-sdk/signature-v4-crt`) stay require()
 * calls, which fail in the cluster as if they were not installed: the libraries then use their
 * JavaScript implementation.
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
      external: EXTERNAL,
      plugins: [nimbleFallback],
      write: false,
      logLevel: 'silent',
      // Bundled CommonJS dependencies may call require() and read __dirname/__filename: give
      // the module its own (the bundle's file). Defines replace only unbound identifiers, so a
      // bundled module that declares its own __dirname keeps it.
      banner: {
        js: [
          "import { createRequire as __nimbleCreateRequire } from 'node:module';",
          "import { fileURLToPath as __nimbleFileURLToPath } from 'node:url';",
          'const require = __nimbleCreateRequire(import.meta.url);',
          'const __nimbleFilename = __nimbleFileURLToPath(import.meta.url);',
          "const __nimbleDirname = __nimbleFileURLToPath(new URL('.', import.meta.url));",
        ].join(' '),
      },
      define: { __dirname: '__nimbleDirname', __filename: '__nimbleFilename' },
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

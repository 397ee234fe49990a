// Plain-JS entry of Nimble's worker threads (slot, split-enumerator and plan workers). Loader
// hooks of the parent thread do not reach a worker on Node 20, so the TypeScript loader is
// registered here before the worker's module is imported, with a resolver that makes
// `@nimble/*` imports of a job bundle (stored outside the workspace) resolve to this
// installation's packages.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { URL } from 'node:url';
import { workerData } from 'node:worker_threads';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./nimble-resolve-hooks.mjs', import.meta.url, {
  data: { parentURL: import.meta.url },
});
const entries = {
  enumerator: './enumerator-worker',
  plan: './plan-worker',
  slot: './slot-worker',
};
// Beside the TypeScript source in the workspace; beside the built .js in a package's dist/.
const entry = entries[workerData.role] ?? entries.slot;
const source = new URL(`${entry}.ts`, import.meta.url);
await import(existsSync(source) ? source.href : new URL(`${entry}.js`, import.meta.url).href);

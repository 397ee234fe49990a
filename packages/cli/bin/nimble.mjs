#!/usr/bin/env node
// The `nimble` command: register the TypeScript loader (jobs are TypeScript; in the workspace so
// is Nimble itself) and the resolver that lets job modules anywhere import `@nimble/*`, then run
// the CLI: from its sources in the workspace, from dist/ in an installed package (no src/).
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register(import.meta.resolve('@nimble/runtime/resolve-hooks'), import.meta.url, {
  data: { parentURL: import.meta.url },
});
const source = new URL('../src/main.ts', import.meta.url);
const { main } = await import(
  existsSync(source) ? source.href : new URL('../dist/main.js', import.meta.url).href
);
await main(process.argv);

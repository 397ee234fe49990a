#!/usr/bin/env node
// The `nimble` command. Nimble's packages are TypeScript sources: register the TypeScript loader
// and the resolver that lets job modules anywhere import `@nimble/*`, then run the CLI.
import { register } from 'node:module';
import process from 'node:process';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register(import.meta.resolve('@nimble/runtime/resolve-hooks'), import.meta.url, {
  data: { parentURL: import.meta.url },
});
const { main } = await import('../src/main.ts');
await main(process.argv);

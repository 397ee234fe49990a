#!/usr/bin/env node
// `npm create nimble@latest <directory>` runs this: writes a new Nimble project. From the
// TypeScript sources in the workspace (through tsx), from dist/ in the installed package (no src/).
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const source = new URL('../src/main.ts', import.meta.url);
let entry = new URL('../dist/main.js', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
}
const { main } = await import(entry.href);
process.exitCode = main(process.argv.slice(2));

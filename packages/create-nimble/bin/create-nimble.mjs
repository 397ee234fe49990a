#!/usr/bin/env node
// `npm create nimble@latest <directory>` runs this: writes a new Nimble project.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = main(process.argv.slice(2));

// `postpack` of every public package: after `npm pack`, puts back the workspace's package.json
// that scripts/prepack.mjs replaced by the publish manifest (nothing to do after `pnpm pack`).
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const backup = join(process.cwd(), 'package.json.before-pack');
if (existsSync(backup)) renameSync(backup, join(process.cwd(), 'package.json'));

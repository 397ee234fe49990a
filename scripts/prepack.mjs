// `prepack` of every public package: builds the package's dist/ before its tarball is made, so a
// stale dist/ is never packed. Only `pnpm pack` makes a correct tarball: it applies the
// package's publishConfig (exports into dist/) and replaces `workspace:*` by the version; npm
// pack would do neither, and its tarball would not install, so it is refused here.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const pkgDir = process.cwd();
const { name } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const agent = process.env.npm_config_user_agent ?? '';
if (!agent.startsWith('pnpm/')) {
  process.stderr.write(
    `${name}: pack it with \`pnpm pack\` (or \`pnpm pack:packages\` at the repository root for ` +
      `every package). ${agent.split(' ')[0] || 'This tool'} would pack the workspace manifest as ` +
      `it is (exports into src/, workspace:* dependencies): its tarball would not install.\n`,
  );
  process.exit(1);
}
// pack:packages (scripts/pack-packages.ts) builds every package once before packing them all.
if (process.env.NIMBLE_PACKAGES_BUILT === '1') process.exit(0);

const root = fileURLToPath(new URL('..', import.meta.url));
const run = spawnSync(
  join(root, 'node_modules', '.bin', 'tsx'),
  [join(root, 'scripts', 'build-packages.ts'), basename(pkgDir)],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);

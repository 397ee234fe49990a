// `prepack` of every public package: builds the package's dist/ before its tarball is made, so a
// stale dist/ is never packed.
//
// `pnpm pack` writes the tarball's manifest itself: it applies the package's publishConfig
// (exports into dist/) and replaces `workspace:*` by the version. `npm pack` does neither, but it
// packs package.json as prepack leaves it: under npm this script writes that publish manifest in
// place of package.json, keeping the workspace's in package.json.before-pack, and the package's
// postpack (scripts/postpack.mjs) puts it back. A backup left by a pack that died is restored
// first, so the workspace manifest is never lost.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const pkgDir = process.cwd();
const manifestPath = join(pkgDir, 'package.json');
const BACKUP = 'package.json.before-pack';
const backupPath = join(pkgDir, BACKUP);
const root = fileURLToPath(new URL('..', import.meta.url));
const byNpm = !(process.env.npm_config_user_agent ?? '').startsWith('pnpm/');

if (byNpm && existsSync(backupPath)) renameSync(backupPath, manifestPath);

// pack:packages (scripts/pack-packages.ts) builds every package once before packing them all.
if (process.env.NIMBLE_PACKAGES_BUILT !== '1') {
  const run = spawnSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'scripts', 'build-packages.ts'), basename(pkgDir)],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) process.exit(run.status ?? 1);
}

if (byNpm) {
  const text = readFileSync(manifestPath, 'utf8');
  writeFileSync(backupPath, text);
  writeFileSync(manifestPath, `${JSON.stringify(publishManifest(JSON.parse(text)), null, 2)}\n`);
}

/** The manifest as `pnpm pack` writes it into the tarball. */
function publishManifest(manifest) {
  const out = { ...manifest };
  const { publishConfig = {} } = out;
  delete out.publishConfig;
  for (const [field, value] of Object.entries(publishConfig)) {
    if (!['access', 'registry', 'tag', 'directory'].includes(field)) out[field] = value;
  }
  // The pack scripts run from the workspace (../../scripts): a tarball has none to run.
  if (out.scripts !== undefined) {
    out.scripts = Object.fromEntries(
      Object.entries(out.scripts).filter(([script]) => !['prepack', 'postpack'].includes(script)),
    );
  }
  const versions = workspaceVersions();
  for (const section of [
    'dependencies',
    'devDependencies',
    'optionalDependencies',
    'peerDependencies',
  ]) {
    if (out[section] === undefined) continue;
    out[section] = Object.fromEntries(
      Object.entries(out[section]).map(([dep, spec]) => {
        if (!spec.startsWith('workspace:')) return [dep, spec];
        const version = versions.get(dep);
        if (version === undefined) {
          throw new Error(`${out.name}: ${dep}@${spec} names no package of the workspace`);
        }
        const range = spec.slice('workspace:'.length);
        return [
          dep,
          range === '*' ? version : range === '^' || range === '~' ? range + version : range,
        ];
      }),
    );
  }
  return out;
}

/** Name -> version of every package under packages/. */
function workspaceVersions() {
  const versions = new Map();
  for (const dir of readdirSync(join(root, 'packages'))) {
    const file = join(root, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const { name, version } = JSON.parse(readFileSync(file, 'utf8'));
    versions.set(name, version);
  }
  return versions;
}

// The web dashboard: static files (packages/jobmanager/web) and the browser libraries it uses,
// served from this package's own dependencies so the page works offline (no CDN).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));
const requireHere = createRequire(import.meta.url);

/** A file of a dependency, from its root (not every package exports its package.json). */
function packageFile(pkg: string, file: string): string {
  let dir = dirname(requireHere.resolve(pkg));
  while (!dir.endsWith(join('node_modules', pkg))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the directory of package ${pkg}`);
    dir = parent;
  }
  return join(dir, file);
}

/** URL path -> file on disk. Only these are served: no path from the request reaches the disk. */
const FILES: ReadonlyMap<string, () => string> = new Map([
  ['/', () => join(WEB_DIR, 'index.html')],
  ['/web/app.js', () => join(WEB_DIR, 'app.js')],
  ['/web/style.css', () => join(WEB_DIR, 'style.css')],
  ['/web/lib/preact.js', () => packageFile('preact', 'dist/preact.module.js')],
  ['/web/lib/preact-hooks.js', () => packageFile('preact', 'hooks/dist/hooks.module.js')],
  ['/web/lib/htm.js', () => packageFile('htm', 'dist/htm.module.js')],
  ['/web/lib/dagre.js', () => packageFile('@dagrejs/dagre', 'dist/dagre.min.js')],
  ['/web/lib/uplot.js', () => packageFile('uplot', 'dist/uPlot.esm.js')],
  ['/web/lib/uplot.css', () => packageFile('uplot', 'dist/uPlot.min.css')],
]);

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

const cache = new Map<string, string>();

/** Whether `GET path` is one of the dashboard's files, open without the token (rest-auth.ts). */
export function isDashboardPath(path: string): boolean {
  return FILES.has(path) || path === '/index.html';
}

/** The dashboard file for `path` as [body, content type], or undefined when it is not one. */
export function dashboardFile(path: string): [string, string] | undefined {
  const key = path === '/index.html' ? '/' : path;
  const locate = FILES.get(key);
  if (!locate) return undefined;
  let body = cache.get(key);
  if (body === undefined) {
    body = readFileSync(locate(), 'utf8');
    cache.set(key, body);
  }
  const ext = key === '/' ? 'html' : key.slice(key.lastIndexOf('.') + 1);
  return [body, TYPES[ext] ?? 'application/octet-stream'];
}

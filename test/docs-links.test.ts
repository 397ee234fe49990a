import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every relative link in README.md and docs/**/*.md points to a file of the repository, and every
// `#anchor` to a heading of the file it names, as GitHub renders them. The generated API reference
// (docs/api/html/, built by `pnpm docs:api`) is not in the repository: links into it are checked
// by TypeDoc's own validation, not here.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const generated = join(root, 'docs', 'api', 'html');

function markdownFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (path === generated) continue;
    if (statSync(path).isDirectory()) files.push(...markdownFiles(path));
    else if (name.endsWith('.md')) files.push(path);
  }
  return files;
}

/** The lines of a page with fenced code blocks blanked, so line numbers stay. */
function outsideFences(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      lines.push('');
      continue;
    }
    lines.push(fence === undefined ? line : '');
  }
  return lines;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link keeps its text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[*_~`]/g, (c) => (c === '_' ? '_' : '')); // emphasis and code marks, not underscores
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

const anchorCache = new Map<string, Set<string>>();

function anchorsOf(file: string): Set<string> {
  const cached = anchorCache.get(file);
  if (cached !== undefined) return cached;
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of outsideFences(readFileSync(file, 'utf8'))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function linksOf(file: string): Link[] {
  const links: Link[] = [];
  outsideFences(readFileSync(file, 'utf8')).forEach((line, index) => {
    const text = line.replace(/(`+)[^`]*?\1/g, ''); // inline code holds no links
    const targets = [
      ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
      ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/g)].map((m) => m[1]!),
      ...[...text.matchAll(/<a\s+href="([^"]+)"/g)].map((m) => m[1]!),
    ];
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
      links.push({ file, line: index + 1, target });
    }
  });
  return links;
}

function problem(link: Link): string | undefined {
  const [pathPart, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(pathPart);
  const target = path === '' ? link.file : resolve(dirname(link.file), path);
  if (target === generated || target.startsWith(generated + '/')) return undefined;
  if (!existsSync(target)) return `no such file: ${path}`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!target.endsWith('.md')) return undefined; // line anchors (#L10) of source files
  if (!anchorsOf(target).has(decodeURIComponent(anchor))) {
    return `no heading with anchor #${anchor} in ${relative(root, target)}`;
  }
  return undefined;
}

const files = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    expect(githubSlug('Turns end between records')).toBe('turns-end-between-records');
    expect(githubSlug('`nimble run`: submit a job')).toBe('nimble-run-submit-a-job');
    expect(githubSlug('Kafka 3.x / Redpanda (exactly-once)')).toBe(
      'kafka-3x--redpanda-exactly-once',
    );
    expect(githubSlug('state_backend and [links](x.md)')).toBe('state_backend-and-links');
  });

  it('finds the pages and their links', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap(linksOf).length).toBeGreaterThan(50);
  });

  it('points every relative link at an existing file and heading', () => {
    const broken = files
      .flatMap(linksOf)
      .map((link) => ({ link, problem: problem(link) }))
      .filter((entry) => entry.problem !== undefined)
      .map(
        ({ link, problem }) =>
          `${relative(root, link.file)}:${link.line}: ${link.target}: ${problem}`,
      );
    expect(broken).toEqual([]);
  });
});

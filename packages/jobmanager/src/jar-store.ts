import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** A job bundle uploaded over REST (Flink's uploaded jar). */
export interface UploadedJar {
  /** `<uuid>_<name>`: the file's name in the store, and the id clients name it by. */
  readonly id: string;
  readonly name: string;
  /** Upload time (epoch ms). */
  readonly uploaded: number;
}

/** What an id must look like: a UUID, `_`, and a name of safe characters (never a path). */
const ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_[A-Za-z0-9._-]{1,100}\.mjs$/;

/**
 * Job bundles uploaded over REST (`/jars/upload`), each a file in one directory under the blob
 * store. Names are made from the upload's file name reduced to safe characters behind a random
 * UUID, and ids are checked against that form before use, so no request names a file outside.
 * A bundle is an ES module: it is stored as `.mjs` whatever its extension was.
 */
export class JarStore {
  constructor(readonly dir: string) {}

  put(fileName: string, content: Buffer): UploadedJar {
    const base = basename(fileName.replace(/\\/g, '/'))
      .replace(/\.(m?js)$/, '')
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 96);
    const id = `${randomUUID()}_${base || 'job'}.mjs`;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(this.dir, id), content, { mode: 0o600, flag: 'wx' });
    return { id, name: id.slice(37), uploaded: Date.now() };
  }

  list(): UploadedJar[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => ID.test(n))
      .map((id) => ({ id, name: id.slice(37), uploaded: statSync(join(this.dir, id)).mtimeMs }))
      .sort((a, b) => b.uploaded - a.uploaded);
  }

  /** The file of jar `id`, or undefined when there is none (or `id` is not an id). */
  path(id: string): string | undefined {
    if (!ID.test(id)) return undefined;
    const file = join(this.dir, id);
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  }

  delete(id: string): boolean {
    const file = this.path(id);
    if (!file) return false;
    rmSync(file, { force: true });
    return true;
  }
}

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Job bundles on local disk, by content hash: fetched once from the JobManager's blob server
 * and checked against their hash before any worker loads them.
 */
export class BlobCache {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    private readonly fetchBlob: (hash: string) => Promise<Uint8Array>,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The local path of bundle `hash`, fetching it when absent. */
  path(hash: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(hash)) {
      return Promise.reject(
        new Error(`Bad bundle hash ${JSON.stringify(hash)}: expected sha256 hex`),
      );
    }
    const file = join(this.dir, `${hash}.mjs`);
    if (existsSync(file)) return Promise.resolve(file);
    let pending = this.inFlight.get(hash);
    if (!pending) {
      pending = this.fetchBlob(hash)
        .then((content) => {
          const actual = createHash('sha256').update(content).digest('hex');
          if (actual !== hash) {
            throw new Error(
              `Bundle ${hash} arrived with content hash ${actual}: refusing to load it`,
            );
          }
          // Write then rename: a concurrent reader never sees a partial file.
          const tmp = `${file}.${process.pid}.tmp`;
          writeFileSync(tmp, content);
          renameSync(tmp, file);
          return file;
        })
        .finally(() => this.inFlight.delete(hash));
      this.inFlight.set(hash, pending);
    }
    return pending;
  }
}

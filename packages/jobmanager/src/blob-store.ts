import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Job bundles stored by their sha256, so a bundle is stored once and can be verified. */
export class BlobStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** The hash a blob is stored under. */
  static hashOf(content: Uint8Array): string {
    return createHash('sha256').update(content).digest('hex');
  }

  put(content: Uint8Array): string {
    const hash = BlobStore.hashOf(content);
    const file = this.path(hash);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, content);
        renameSync(tmp, file);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    }
    return hash;
  }

  /** The content of blob `hash`, or undefined when it is not stored. */
  get(hash: string): Buffer | undefined {
    if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
    const file = this.path(hash);
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  path(hash: string): string {
    return join(this.dir, `${hash}.mjs`);
  }
}

import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import {
  link,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IllegalStateError } from '../../errors.js';
import type { ByteRange, StateFileSystem } from './state-file-system.js';
import {
  checkRange,
  parseStorageUri,
  StateFileNotFoundError,
  StateStorageError,
} from './state-file-system.js';

// writeAtomic's temp files: hidden, and never listed, so a reader never picks up a half-written
// object while the rename is pending (nor one a crash left behind).
const IN_PROGRESS = /^\..+\.[0-9a-f-]{36}\.inprogress$/;

function inProgressPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomUUID()}.inprogress`);
}

function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Creates directory `path` and its missing parents, one level at a time. Node's recursive mkdir
 * retries forever where a parent exists but a child can never be created (under /proc), which
 * would hold the call, and a libuv thread, for good; this fails instead.
 */
async function makeDirectories(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (e) {
    const code = errorCode(e);
    if (code === 'EEXIST') {
      if ((await stat(path)).isDirectory()) return;
      throw e;
    }
    if (code !== 'ENOENT' || dirname(path) === path) throw e;
  }
  await makeDirectories(dirname(path));
  try {
    await mkdir(path);
  } catch (e) {
    if (errorCode(e) !== 'EEXIST' || !(await stat(path)).isDirectory()) throw e;
  }
}

/**
 * Writes `data` to `temp`, next to `path` (whose directories it makes), and syncs it: without the
 * sync a crash after the rename or link to `path` can leave an empty file under that name.
 */
async function writeSynced(path: string, temp: string, data: Uint8Array): Promise<void> {
  await makeDirectories(dirname(path));
  const file = await open(temp, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Checkpoint storage in a local (or mounted shared) directory: file:///abs/path. */
export class LocalFileSystem implements StateFileSystem {
  private closed = false;

  async write(uri: string, data: Uint8Array): Promise<void> {
    const path = this.pathOf(uri);
    try {
      await makeDirectories(dirname(path));
      await writeFile(path, data);
    } catch (e) {
      // A full or failing disk leaves a partial (or empty) file behind: remove it, if it is a
      // regular file (never a device such as /dev/full).
      if ((await lstat(path).catch(() => undefined))?.isFile()) {
        await rm(path, { force: true }).catch(() => undefined);
      }
      throw new StateStorageError('write', uri, e);
    }
  }

  async writeAtomic(uri: string, data: Uint8Array): Promise<void> {
    const path = this.pathOf(uri);
    const temp = inProgressPath(path);
    try {
      await writeSynced(path, temp, data);
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new StateStorageError('write', uri, e);
    }
  }

  async createExclusive(uri: string, data: Uint8Array): Promise<boolean> {
    const path = this.pathOf(uri);
    const temp = inProgressPath(path);
    try {
      await writeSynced(path, temp, data);
      // link(2) fails with EEXIST on an existing name, also on NFS, where O_EXCL is not atomic
      // on every version; a reader never sees the object half written.
      await link(temp, path);
      return true;
    } catch (e) {
      if (errorCode(e) === 'EEXIST') return false;
      throw new StateStorageError('create', uri, e);
    } finally {
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async read(uri: string, range?: ByteRange): Promise<Uint8Array> {
    const path = this.pathOf(uri);
    if (range !== undefined) checkRange(uri, range);
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (e) {
      if (errorCode(e) === 'ENOENT') throw new StateFileNotFoundError(uri);
      throw new StateStorageError('read', uri, e);
    }
    try {
      if (range === undefined) return await file.readFile();
      const buffer = Buffer.alloc(range.end - range.start);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await file.read(
          buffer,
          filled,
          buffer.length - filled,
          range.start + filled,
        );
        if (bytesRead === 0) {
          const { size } = await file.stat();
          throw new Error(
            `range [${range.start}, ${range.end}) ends past the object's ${size} bytes`,
          );
        }
        filled += bytesRead;
      }
      return buffer;
    } catch (e) {
      throw new StateStorageError('read', uri, e);
    } finally {
      await file.close();
    }
  }

  async exists(uri: string): Promise<boolean> {
    const path = this.pathOf(uri);
    try {
      await stat(path);
      return true;
    } catch (e) {
      if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return false;
      throw new StateStorageError('check for', uri, e);
    }
  }

  async list(uri: string): Promise<string[]> {
    const path = this.pathOf(uri);
    try {
      const names = await readdir(path);
      return names.filter((name) => !IN_PROGRESS.test(name)).sort();
    } catch (e) {
      // A file is no directory: nothing is under it, as on S3.
      if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return [];
      throw new StateStorageError('list', uri, e);
    }
  }

  async delete(uri: string): Promise<void> {
    const path = this.pathOf(uri);
    try {
      await unlink(path);
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') throw new StateStorageError('delete', uri, e);
    }
  }

  async deleteRecursive(uri: string): Promise<void> {
    const path = this.pathOf(uri);
    if (path === '/') {
      throw new StateStorageError('delete everything under', uri, 'refusing to delete /');
    }
    try {
      await rm(path, { recursive: true, force: true });
    } catch (e) {
      throw new StateStorageError('delete everything under', uri, e);
    }
  }

  close(): void {
    this.closed = true;
  }

  private pathOf(uri: string): string {
    if (this.closed) throw new IllegalStateError(`The file system for ${uri} is closed`);
    const location = parseStorageUri(uri);
    if (location.scheme !== 'file') {
      throw new IllegalStateError(`The local file system cannot access ${uri}`);
    }
    return location.path;
  }
}

// Guards around checkpoint storage: a target is checked before a checkpoint or savepoint goes
// there, and every call has a deadline, so storage that never answers fails one checkpoint
// instead of holding a task, a cancellation or a shutdown.
import { randomUUID } from 'node:crypto';
import { realpath, statfs } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { NimbleError } from '../../errors.js';
import type { ByteRange, StateFileSystem } from './state-file-system.js';
import { joinUri, parseStorageUri, StateStorageError } from './state-file-system.js';

/** The config key of the per-call deadline, named in the errors it causes. */
export const STORAGE_TIMEOUT_KEY = 'state.storage.timeout';

/** A checkpoint or savepoint target that cannot be used: the message says why and what to do. */
export class StorageTargetError extends NimbleError {
  override name = 'StorageTargetError';
  constructor(
    readonly uri: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    // `user`: the target was given by the user (a path or configuration) and must change.
    super(`Cannot use ${uri} for checkpoints or savepoints: ${reason}`, 'user', options);
  }
}

// Pseudo file systems of the kernel: writes there never create files, and a recursive mkdir
// under /proc can loop forever.
const SPECIAL_ROOTS = ['/proc', '/sys', '/dev'];
// statfs magic numbers of proc, sysfs, devpts, debugfs, tracefs, securityfs, cgroup, cgroup2,
// bpf, configfs, pstore, efivarfs: refused wherever they are mounted.
const SPECIAL_MAGIC = new Set([
  0x9fa0, 0x62656572, 0x1cd1, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0xcafe4a11,
  0x62656570, 0x6165676c, 0xde5e81e4,
]);

function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

/**
 * `path` with symlinks resolved as far as it exists (`real`), and its nearest existing ancestor
 * with symlinks resolved (`existing`).
 */
async function resolveExisting(path: string): Promise<{ real: string; existing: string }> {
  let probe = path;
  for (;;) {
    try {
      const existing = await realpath(probe);
      return { real: posix.join(existing, posix.relative(probe, path)), existing };
    } catch {
      const parent = dirname(probe);
      if (parent === probe) return { real: path, existing: '/' };
      probe = parent;
    }
  }
}

/** Rejects `promise` with a StateStorageError naming `operation` and `uri` after `timeoutMs`. */
function deadline<T>(promise: Promise<T>, operation: string, uri: string, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StateStorageError(
            operation,
            uri,
            `no answer within ${timeoutMs} ms (${STORAGE_TIMEOUT_KEY}); the storage is hanging or unreachable`,
          ),
        ),
      timeoutMs,
    );
    timer.unref();
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * `fs` with a deadline on every call. A call that does not answer in time rejects; what it
 * started may still finish in the background, but nobody waits for it.
 */
export function withStorageTimeout(fs: StateFileSystem, timeoutMs: number): StateFileSystem {
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return fs;
  return {
    write: (uri: string, data: Uint8Array) =>
      deadline(fs.write(uri, data), 'write', uri, timeoutMs),
    writeAtomic: (uri: string, data: Uint8Array) =>
      deadline(fs.writeAtomic(uri, data), 'write', uri, timeoutMs),
    createExclusive: (uri: string, data: Uint8Array) =>
      deadline(fs.createExclusive(uri, data), 'create', uri, timeoutMs),
    read: (uri: string, range?: ByteRange) => deadline(fs.read(uri, range), 'read', uri, timeoutMs),
    exists: (uri: string) => deadline(fs.exists(uri), 'check for', uri, timeoutMs),
    list: (uri: string) => deadline(fs.list(uri), 'list', uri, timeoutMs),
    delete: (uri: string) => deadline(fs.delete(uri), 'delete', uri, timeoutMs),
    deleteRecursive: (uri: string) =>
      deadline(fs.deleteRecursive(uri), 'delete everything under', uri, timeoutMs),
    close: () => fs.close(),
  };
}

/**
 * Checks a checkpoint or savepoint directory before anything is written there: a supported
 * scheme (file://, a plain absolute path, s3://), no kernel pseudo file system (/proc, /sys,
 * /dev, also behind a symlink), and writable (a probe object is written and deleted, under the
 * deadline of `fs`). `probeRemote: false` probes local directories only: an unreachable object
 * store is a passing outage that fails checkpoints (counted against the tolerable failures),
 * not a wrong target. Returns the canonical URI; throws a {@link StorageTargetError}.
 */
export async function checkStorageTarget(
  uri: string,
  fs: StateFileSystem,
  options: { readonly probeRemote?: boolean } = {},
): Promise<string> {
  let canonical: string;
  try {
    canonical = joinUri(uri);
  } catch (e) {
    throw new StorageTargetError(uri, (e as Error).message, { cause: e });
  }
  const location = parseStorageUri(canonical);
  if (location.scheme === 'file') {
    const { real, existing } = await resolveExisting(location.path);
    for (const path of [location.path, real]) {
      const root = SPECIAL_ROOTS.find((r) => isUnder(path, r));
      if (root !== undefined) {
        throw new StorageTargetError(
          uri,
          `${path} is under ${root}, a kernel pseudo file system; give a directory on a disk or an s3:// URI`,
        );
      }
    }
    const stats = await statfs(existing).catch(() => undefined);
    if (stats && SPECIAL_MAGIC.has(stats.type)) {
      throw new StorageTargetError(
        uri,
        `${existing} is on a kernel pseudo file system (type 0x${stats.type.toString(16)}); give a directory on a disk or an s3:// URI`,
      );
    }
  }
  if (location.scheme !== 'file' && options.probeRemote === false) return canonical;
  const probe = joinUri(canonical, `.nimble-probe-${randomUUID()}`);
  try {
    await fs.write(probe, new Uint8Array(0));
  } catch (e) {
    throw new StorageTargetError(uri, `it is not writable: ${(e as Error).message}`, { cause: e });
  }
  await fs.delete(probe).catch(() => undefined);
  return canonical;
}

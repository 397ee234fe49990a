// The contract of checkpoint storage: the file system interface, its errors and the URIs that
// name checkpoint and savepoint files. The implementations and `fileSystemFor` import this
// module, never the other way round.
import { posix } from 'node:path';
import { NimbleError } from '../../errors.js';

/** A byte range [start, end) of an object. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Where checkpoint and savepoint files live: a local directory (file://) or an S3 bucket (s3://).
 * URIs are absolute: file:///abs/path or s3://bucket/key/prefix.
 */
export interface StateFileSystem {
  /** Writes a whole object (creates parent directories on disk). */
  write(uri: string, data: Uint8Array): Promise<void>;
  /**
   * Writes so that readers see the old state or the whole new object, never a part: on disk a
   * temp file in the same directory is renamed over the target; on S3 one PUT.
   */
  writeAtomic(uri: string, data: Uint8Array): Promise<void>;
  /**
   * Creates a whole object only if nothing is at `uri`, atomically against other writers:
   * resolves true when this call created it, false when an object was there already. On disk a
   * temp file hard-linked to the target (link(2) fails on an existing name); on S3 a PUT with
   * `If-None-Match: *` (412 when the key exists). High availability elects its leader with it.
   */
  createExclusive(uri: string, data: Uint8Array): Promise<boolean>;
  /**
   * Reads an object, or only `range` of it (ranged GET on S3). A missing object throws
   * {@link StateFileNotFoundError}; a range reaching past the object's end throws
   * {@link StateStorageError} rather than returning fewer bytes.
   */
  read(uri: string, range?: ByteRange): Promise<Uint8Array>;
  /** Whether an object, or a directory (on S3: a prefix with objects under it), is at `uri`. */
  exists(uri: string): Promise<boolean>;
  /**
   * Names (not full URIs) of the entries directly under directory `uri`, sorted (S3: common
   * prefixes and objects under `uri/` with delimiter '/'); [] when missing.
   */
  list(uri: string): Promise<string[]>;
  /** Deletes an object; no error when missing. */
  delete(uri: string): Promise<void>;
  /** Deletes everything under directory `uri` (S3: list + DeleteObjects in batches of 1000). */
  deleteRecursive(uri: string): Promise<void>;
  /** Releases clients; later calls throw an `IllegalStateError`. */
  close(): void;
}

/** Reading an object that does not exist, e.g. a savepoint path that names nothing. */
export class StateFileNotFoundError extends NimbleError {
  override name = 'StateFileNotFoundError';
  /** Restoring a checkpoint that names it fails the same way (see FailureRecord.restorable). */
  readonly restorable = false;
  // `user`: a restart does not bring the file back; the path given (or the storage) must change.
  constructor(readonly uri: string) {
    super(`State file ${uri} does not exist`, 'user');
  }
}

/**
 * The storage failed: a disk error, an unreachable or refusing S3 endpoint, a missing bucket. The
 * message names the operation, the URI and the cause, plus the endpoint for S3.
 */
export class StateStorageError extends NimbleError {
  override name = 'StateStorageError';
  constructor(
    /** What failed, as a verb: "write", "read", "list", ... */
    readonly operation: string,
    readonly uri: string,
    cause: unknown,
    /** Where the request went, e.g. "s3.endpoint http://127.0.0.1:9". */
    context?: string,
  ) {
    const where = context ? ` (${context})` : '';
    super(`Could not ${operation} ${uri}: ${describeCause(cause)}${where}`, 'external', { cause });
  }
}

// What a full or read-only disk means for the user; the errno stays in the message as Node
// reports it (ENOSPC, EROFS, EDQUOT), so logs and alerts can match on it.
const ERRNO_HINTS: Record<string, string> = {
  ENOSPC: 'the storage is full: free space or point the directory at a larger volume',
  EDQUOT: 'the disk quota is exhausted: free space or raise the quota',
  EROFS: 'the file system is read-only: remount it read-write or use another directory',
  EACCES: 'permission denied: give the daemon write access or use another directory',
};

/** The cause's message, prefixed with its name when that says more than "Error". */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const hint = ERRNO_HINTS[(cause as NodeJS.ErrnoException).code ?? ''];
  if (hint !== undefined) return `${cause.message} (${hint})`;
  // Node reports a connection to a host with several addresses as an AggregateError whose own
  // message is empty.
  const message =
    cause.message ||
    (cause instanceof AggregateError ? cause.errors.map(describeCause).join('; ') : '') ||
    'no message';
  return cause.name && cause.name !== 'Error' && !message.startsWith(cause.name)
    ? `${cause.name}: ${message}`
    : message;
}

/** Refuses a range that is no [start, end) of byte offsets: a caller's bug, not the storage's. */
export function checkRange(uri: string, range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`Invalid byte range [${start}, ${end}) for ${uri}`);
  }
}

/** A storage URI taken apart: a local absolute path, or an S3 bucket and key (no leading '/'). */
export type StorageLocation =
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 's3'; readonly bucket: string; readonly key: string };

const SUPPORTED = 'supported are file:///absolute/path (or /absolute/path) and s3://bucket/key';

/**
 * Takes a storage URI apart. A plain absolute path is accepted as a file URI. Paths are
 * normalized and lose trailing slashes; S3 keys lose empty segments. URIs are not
 * percent-decoded: `file:///a%20b` names the directory `a%20b`.
 */
export function parseStorageUri(uri: string): StorageLocation {
  if (uri.startsWith('s3://')) {
    const [bucket = '', ...segments] = uri.slice('s3://'.length).split('/');
    if (bucket === '') throw new Error(`State storage URI '${uri}' names no bucket: ${SUPPORTED}`);
    return { scheme: 's3', bucket, key: segments.filter(Boolean).join('/') };
  }
  const path = uri.startsWith('file://') ? uri.slice('file://'.length) : uri;
  // `file://host/x` (a remote host) and relative paths are refused rather than guessed at.
  if (!path.startsWith('/')) {
    throw new Error(`Unsupported state storage URI '${uri}': ${SUPPORTED}`);
  }
  const normalized = posix.normalize(path);
  return { scheme: 'file', path: normalized.length > 1 ? normalized.replace(/\/+$/, '') : '/' };
}

/** The URI of `location`: file:///path or s3://bucket/key (s3://bucket for the bucket root). */
export function formatStorageUri(location: StorageLocation): string {
  if (location.scheme === 'file') return `file://${location.path}`;
  return location.key === ''
    ? `s3://${location.bucket}`
    : `s3://${location.bucket}/${location.key}`;
}

/**
 * `base` with `parts` appended as path segments, in canonical form (a plain path becomes a
 * file:// URI). Slashes around parts are dropped; a part may hold several segments ("chk-1/x"),
 * but never "." or "..", so a joined URI stays under `base`.
 */
export function joinUri(base: string, ...parts: string[]): string {
  const segments = parts.flatMap((part) => part.split('/')).filter(Boolean);
  const escaping = segments.find((s) => s === '.' || s === '..');
  if (escaping !== undefined) {
    throw new Error(`Cannot join '${parts.join("', '")}' to ${base}: '${escaping}' is not allowed`);
  }
  const location = parseStorageUri(base);
  if (segments.length === 0) return formatStorageUri(location);
  if (location.scheme === 'file') {
    return formatStorageUri({ scheme: 'file', path: posix.join(location.path, ...segments) });
  }
  const key = [location.key, ...segments].filter(Boolean).join('/');
  return formatStorageUri({ scheme: 's3', bucket: location.bucket, key });
}

/** The path of `uri` below `base` ("chk-1/_metadata"), '' when they are equal. */
export function relativeUri(base: string, uri: string): string {
  const from = parseStorageUri(base);
  const to = parseStorageUri(uri);
  let basePath: string;
  let path: string;
  if (from.scheme === 'file' && to.scheme === 'file') {
    basePath = from.path === '/' ? '' : from.path;
    path = to.path;
  } else if (from.scheme === 's3' && to.scheme === 's3' && from.bucket === to.bucket) {
    basePath = from.key === '' ? '' : `/${from.key}`;
    path = `/${to.key}`;
  } else {
    throw new Error(`${uri} is not under ${base}`);
  }
  if (path === basePath || (basePath === '' && path === '/')) return '';
  if (!path.startsWith(`${basePath}/`)) throw new Error(`${uri} is not under ${base}`);
  return path.slice(basePath.length + 1);
}

// Picks the file system of a storage URI. Kept apart from state-file-system.ts, which the
// implementations import, so that no module imports itself through them.
import { LocalFileSystem } from './local-file-system.js';
import { S3FileSystem } from './s3-file-system.js';
import type { S3Options } from './s3-options.js';
import type { StateFileSystem } from './state-file-system.js';
import { parseStorageUri } from './state-file-system.js';

/**
 * The file system for `uri`'s scheme: file:// (or a plain absolute path) or s3://. S3 clients are
 * shared by the file systems opened with equal `s3` options, until the last one is closed.
 * Throws for an unsupported or relative URI.
 */
export function fileSystemFor(uri: string, s3: S3Options): StateFileSystem {
  const { scheme } = parseStorageUri(uri);
  return scheme === 's3' ? S3FileSystem.open(s3) : new LocalFileSystem();
}

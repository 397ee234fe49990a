/**
 * Where a savepoint is and how to reach its storage from a job's environment: the `_metadata`
 * directory of a path, the file system of its scheme with the environment's `s3.*` options.
 */
import type { ConfigValue, StreamExecutionEnvironment } from '@nimble/api';
import type { CheckpointMetadata, S3Options, StateFileSystem } from '@nimble/runtime';
import {
  decodeMetadata,
  fileSystemFor,
  METADATA_FILE,
  parseStorageUri,
  formatStorageUri,
  s3OptionsFrom,
  StateFileNotFoundError,
} from '@nimble/runtime';
import { StateProcessorError } from './errors.js';

/** The environment's `s3.*` settings (endpoint, keys, path style), as the job would use them. */
export function s3OptionsOfEnvironment(env: StreamExecutionEnvironment): S3Options {
  const conf: Readonly<Record<string, ConfigValue>> = env.getPipeline().configuration;
  return s3OptionsFrom((option) => {
    const value = conf[option.key];
    return value === undefined ? option.defaultValue : option.parse(value);
  });
}

/**
 * The directory URI of a savepoint path: `file:///dir`, `/dir`, `s3://bucket/prefix`, or any of
 * them ending in `/_metadata`. Throws a {@link StateProcessorError} naming the path when it is
 * not an absolute file path or s3:// URI.
 */
export function savepointDirectoryOf(path: string, what: string): string {
  if (typeof path !== 'string' || path === '') {
    throw new StateProcessorError(`${what}: the savepoint path must be a non-empty string`);
  }
  const trimmed = path.replace(/\/+$/, '');
  const dir = trimmed.endsWith(`/${METADATA_FILE}`)
    ? trimmed.slice(0, -METADATA_FILE.length - 1)
    : trimmed;
  try {
    return formatStorageUri(parseStorageUri(dir)).replace(/\/+$/, '');
  } catch (e) {
    throw new StateProcessorError(
      `${what}: ${JSON.stringify(path)} is not a savepoint path: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Reads and checks `_metadata` of the savepoint in `dir`, with errors a user can act on. */
export async function readSavepointMetadata(
  fs: StateFileSystem,
  dir: string,
): Promise<CheckpointMetadata> {
  const uri = `${dir}/${METADATA_FILE}`;
  let bytes: Uint8Array;
  try {
    bytes = await fs.read(uri);
  } catch (e) {
    if (e instanceof StateFileNotFoundError) {
      throw new StateProcessorError(
        `There is no savepoint at ${dir}: ${uri} does not exist. Give the directory a savepoint ` +
          'was written to (as `nimble savepoint` or `nimble stop --savepointPath` printed it)',
        { cause: e },
      );
    }
    throw e;
  }
  return decodeMetadata(bytes, uri);
}

/** The file system of `dir` with the environment's S3 settings. */
export function fileSystemOf(dir: string, s3: S3Options): StateFileSystem {
  return fileSystemFor(dir, s3);
}

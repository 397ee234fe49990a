// The public surface of checkpoint storage (file:// and s3://): every export is named here.
export { fileSystemFor } from './file-system-for.js';
export { S3ConfigOptions, s3OptionsFrom } from './s3-options.js';
export type { S3Options } from './s3-options.js';
export {
  StateFileNotFoundError,
  StateStorageError,
  formatStorageUri,
  joinUri,
  parseStorageUri,
  relativeUri,
} from './state-file-system.js';
export {
  checkStorageTarget,
  STORAGE_TIMEOUT_KEY,
  StorageTargetError,
  withStorageTimeout,
} from './storage-guard.js';
export type { ByteRange, StateFileSystem, StorageLocation } from './state-file-system.js';

/**
 * Files on file:// and s3://: Flink's FileSource and FileSink, with JSON lines, CSV and Parquet.
 *
 * @packageDocumentation
 * @module @nimble/connector-files
 */
export type { BucketAssigner, BucketAssignerContext } from './bucket-assigners.js';
export {
  BasePathBucketAssigner,
  DateTimeBucketAssigner,
  DateTimePattern,
  FieldBucketAssigner,
} from './bucket-assigners.js';
export type { BulkFormat, BulkSplitInfo, BulkWriter, BulkWriterFactory } from './bulk.js';
export type {
  FileStatus,
  FileSystem,
  PendingFile,
  RecoverableOutput,
  S3Options,
} from './file-system.js';
export {
  FileSystemError,
  fileSystemFor,
  isHidden,
  LocalFileSystem,
  S3FileSystem,
  s3OptionsFromConfig,
} from './file-system.js';
export type { FileSinkCommittable } from './file-sink.js';
export {
  FileSink,
  FileSinkBuilder,
  OutputFileConfig,
  OutputFileConfigBuilder,
} from './file-sink.js';
export type { FileSourceSplit, PendingSplitsCheckpoint } from './file-source.js';
export { FileSource, FileSourceBuilder } from './file-source.js';
export type {
  CsvColumn,
  CsvSettings,
  Encoder,
  PartOutput,
  StreamFormat,
  StreamRecordReader,
} from './formats.js';
export {
  CsvEncoder,
  CsvReaderFormat,
  DEFAULT_CSV,
  FileFormatError,
  JsonLinesEncoder,
  jsonLinesFormat,
  LineFormat,
  quoteCsv,
  SimpleStringEncoder,
  splitCsv,
  textLineFormat,
} from './formats.js';
export type { ParquetColumn } from './parquet.js';
export { ParquetBulkFormat, ParquetWriterFactory } from './parquet.js';
export type { PartFileInfo, RollingPolicy } from './rolling-policies.js';
export {
  CheckpointRollingPolicy,
  DefaultRollingPolicy,
  DefaultRollingPolicyBuilder,
  OnCheckpointRollingPolicy,
} from './rolling-policies.js';

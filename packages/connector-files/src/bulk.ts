/**
 * Bulk formats (Flink's `BulkFormat` for reading and `BulkWriter` for writing): formats that read
 * and write files in blocks, such as Parquet's row groups, rather than record by record.
 */
import type { FileStatus, FileSystem } from './file-system.js';
import type { PartOutput } from './formats.js';

/** A block of a file that is a split of its own: rows `[rowStart, rowEnd)` of block `block`. */
export interface BulkSplitInfo {
  readonly block: number;
  readonly rowStart: number;
  readonly rowEnd: number;
}

/** Reads a file in blocks; each block is a split, read as a whole. */
export interface BulkFormat<T> {
  /** The blocks of a file (read from its footer or header). */
  splitsOf(fs: FileSystem, file: FileStatus): Promise<BulkSplitInfo[]>;
  /** The records of a block (of the whole file without one) after the first `skip` of them. */
  read(
    fs: FileSystem,
    file: FileStatus,
    block: BulkSplitInfo | undefined,
    skip: number,
  ): Promise<T[]>;
}

/** Writes the elements of one part file (Flink's `BulkWriter`). */
export interface BulkWriter<T> {
  addElement(element: T): void;
  /** Writes what is buffered so far. */
  flush(): void;
  /** Writes the rest and the file's footer: the part file is complete. */
  finish(): void;
}

/** Creates a bulk writer per part file (Flink's `BulkWriter.Factory`). */
export interface BulkWriterFactory<T> {
  create(out: PartOutput): BulkWriter<T>;
}

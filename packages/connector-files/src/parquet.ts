/**
 * Parquet, read and written with hyparquet / hyparquet-writer (pure JavaScript, no native code).
 * Reading: one split per row group, with column projection (only the chosen columns' chunks are
 * fetched, with ranged reads on S3). Writing: a bulk writer (Flink's `ParquetWriterFactory`)
 * that buffers a row group's rows column-wise and streams each finished row group to the part
 * file; the footer is written when the part file rolls (at each checkpoint, as Flink's bulk
 * formats do).
 */
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { BasicType, ColumnSource } from 'hyparquet-writer';
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import type { BulkFormat, BulkSplitInfo, BulkWriter, BulkWriterFactory } from './bulk.js';
import type { FileStatus, FileSystem } from './file-system.js';
import { FileFormatError } from './formats.js';
import type { PartOutput } from './formats.js';

/** An AsyncBuffer over ranged reads of a file system. */
function asyncBufferOf(fs: FileSystem, path: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    slice: async (start: number, end?: number) => {
      const b = await fs.read(path, start, end ?? size);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

async function metadataOf(fs: FileSystem, path: string, size: number): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(asyncBufferOf(fs, path, size));
  } catch (e) {
    throw new FileFormatError(
      `File '${path}' is not a valid Parquet file: ${(e as Error).message}. Remove or replace it.`,
      { cause: e },
    );
  }
}

/** INT64 values come as bigint; as numbers when they fit (JavaScript's usual numbers). */
function normalize(row: Record<string, unknown>): Record<string, unknown> {
  for (const k in row) {
    const v = row[k];
    if (
      typeof v === 'bigint' &&
      v <= BigInt(Number.MAX_SAFE_INTEGER) &&
      v >= -BigInt(Number.MAX_SAFE_INTEGER)
    ) {
      row[k] = Number(v);
    }
  }
  return row;
}

/**
 * Reads Parquet files as objects, one split per row group (Flink's `ParquetColumnarRowInputFormat`
 * / `AvroParquetReaders`). `columns` projects: only those columns are read.
 */
export class ParquetBulkFormat<T = Record<string, unknown>> implements BulkFormat<T> {
  private constructor(
    private readonly columns: readonly string[] | undefined,
    private readonly bigIntAsNumber: boolean,
  ) {}

  /**
   * All columns, or only `columns` (projection). INT64 values that fit a safe integer are
   * numbers unless `bigIntAsNumber` is false; timestamps are `Date`s.
   */
  static forColumns<T = Record<string, unknown>>(
    columns?: readonly string[],
    options: { bigIntAsNumber?: boolean } = {},
  ): ParquetBulkFormat<T> {
    return new ParquetBulkFormat<T>(columns, options.bigIntAsNumber ?? true);
  }

  async splitsOf(fs: FileSystem, file: FileStatus): Promise<BulkSplitInfo[]> {
    const meta = await metadataOf(fs, file.path, file.size);
    const out: BulkSplitInfo[] = [];
    let row = 0;
    meta.row_groups.forEach((g, i) => {
      const rows = Number(g.num_rows);
      out.push({ block: i, rowStart: row, rowEnd: row + rows });
      row += rows;
    });
    return out;
  }

  async read(
    fs: FileSystem,
    file: FileStatus,
    block: BulkSplitInfo | undefined,
    skip: number,
  ): Promise<T[]> {
    const meta = await metadataOf(fs, file.path, file.size);
    if (this.columns) {
      const names = new Set(meta.schema.slice(1).map((s) => s.name));
      const missing = this.columns.filter((c) => !names.has(c));
      if (missing.length > 0) {
        throw new FileFormatError(
          `Parquet file '${file.path}' has no column ${missing.map((c) => `'${c}'`).join(', ')} (it has ${[...names].join(', ')}).`,
        );
      }
    }
    try {
      const rows = await parquetReadObjects({
        file: asyncBufferOf(fs, file.path, file.size),
        metadata: meta,
        columns: this.columns ? [...this.columns] : undefined,
        rowStart: (block?.rowStart ?? 0) + skip,
        rowEnd: block?.rowEnd ?? Number(meta.num_rows),
      });
      if (this.bigIntAsNumber) for (const r of rows) normalize(r);
      return rows as T[];
    } catch (e) {
      throw new FileFormatError(
        `Could not read ${block ? `row group ${block.block}` : 'the rows'} of Parquet file '${file.path}': ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}

/** A Parquet column to write: Parquet's types as hyparquet-writer names them. */
export interface ParquetColumn {
  readonly name: string;
  /** BOOLEAN, INT32, INT64, FLOAT, DOUBLE, STRING, JSON, TIMESTAMP (ms, UTC) or BYTE_ARRAY. */
  readonly type: BasicType;
  /** Whether the column may hold nulls (default true). */
  readonly nullable?: boolean;
}

/** A ByteWriter that hands each finished row group to the part file and starts again. */
class StreamingByteWriter extends ByteWriter {
  constructor(private readonly out: PartOutput) {
    super(1 << 16);
  }
  flush(): void {
    if (this.index === 0) return;
    this.out.write(new Uint8Array(this.buffer.slice(0, this.index)));
    this.index = 0;
  }
  override finish(): void {
    this.flush();
  }
}

class ParquetBulkWriter<T extends Record<string, unknown>> implements BulkWriter<T> {
  private readonly writer: ParquetWriter;
  private cols: unknown[][];
  private rows = 0;

  constructor(
    out: PartOutput,
    private readonly columns: readonly ParquetColumn[],
    private readonly rowGroupSize: number,
  ) {
    const columnData = columns.map((c) => ({
      name: c.name,
      data: [],
      type: c.type,
      nullable: c.nullable ?? true,
    }));
    this.writer = new ParquetWriter({
      writer: new StreamingByteWriter(out),
      schema: schemaFromColumnData({ columnData }),
      createdBy: 'nimble',
    });
    this.cols = columns.map(() => []);
  }

  addElement(element: T): void {
    const { columns, cols } = this;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      let v = element[c.name];
      if (v === undefined) v = null;
      else if (c.type === 'TIMESTAMP' && typeof v === 'number') v = new Date(v);
      else if (c.type === 'INT64' && typeof v === 'number') v = BigInt(v);
      else if (c.type === 'JSON' && v !== null && typeof v !== 'string') v = v as object;
      cols[i]!.push(v);
    }
    if (++this.rows >= this.rowGroupSize) this.flush();
  }

  flush(): void {
    if (this.rows === 0) return;
    const columnData: ColumnSource[] = this.columns.map((c, i) => ({
      name: c.name,
      data: this.cols[i]! as ColumnSource['data'],
      type: c.type,
      nullable: c.nullable ?? true,
    }));
    try {
      void this.writer.write({ columnData, rowGroupSize: this.rows });
    } catch (e) {
      throw new FileFormatError(`Could not write a Parquet row group: ${(e as Error).message}`, {
        cause: e,
      });
    }
    this.cols = this.columns.map(() => []);
    this.rows = 0;
  }

  finish(): void {
    this.flush();
    void this.writer.finish();
  }
}

/** Writes objects as Parquet (Flink's `ParquetWriterFactory`), `rowGroupSize` rows per row group. */
export class ParquetWriterFactory<
  T extends Record<string, unknown>,
> implements BulkWriterFactory<T> {
  private constructor(
    private readonly columns: readonly ParquetColumn[],
    private readonly rowGroupSize: number,
  ) {}

  static forColumns<T extends Record<string, unknown>>(
    columns: readonly ParquetColumn[],
    options: { rowGroupSize?: number } = {},
  ): ParquetWriterFactory<T> {
    if (columns.length === 0)
      throw new FileFormatError('A Parquet file needs at least one column.');
    return new ParquetWriterFactory<T>(columns, options.rowGroupSize ?? 100_000);
  }

  create(out: PartOutput): BulkWriter<T> {
    return new ParquetBulkWriter<T>(out, this.columns, this.rowGroupSize);
  }
}

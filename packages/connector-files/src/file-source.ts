/**
 * Flink's `FileSource`: reads the files under one or more paths on file:// or s3://, bounded by
 * default or continuously with {@link FileSourceBuilder.monitorContinuously}.
 *
 * The enumerator lists the paths (skipping hidden names, `.` and `_` prefixes, as Flink does),
 * makes one split per file (one per block, e.g. Parquet row group, for bulk formats) and assigns
 * them round-robin. In continuous mode it lists the paths again every interval and remembers the
 * paths it has seen in its checkpointed state, so a file is read once. A reader checkpoints each
 * split's position (byte offset of the next record for stream formats, records of the block
 * already emitted for bulk formats), so a restore neither reads a record twice nor skips one.
 */
import type {
  ReaderOutput,
  Source,
  SourceReader,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '@nimble/api';
import { Boundedness, InputStatus } from '@nimble/api';
import type { BulkFormat, BulkSplitInfo } from './bulk.js';
import type { FileStatus, FileSystem, S3Options } from './file-system.js';
import { checkScheme, fileSystemFor } from './file-system.js';
import type { StreamFormat, StreamRecordReader } from './formats.js';

/** A file, or one block of a file, and how far it has been read. */
export interface FileSourceSplit extends SourceSplit {
  readonly path: string;
  readonly size: number;
  /** Stream formats: the byte offset of the next record. */
  readonly offset: number;
  /** Bulk formats: the block (row group) of the file this split reads. */
  readonly block?: BulkSplitInfo;
  /** Bulk formats: records of the block already emitted. */
  readonly recordsToSkip: number;
}

/** The enumerator's checkpointed state (Flink's `PendingSplitsCheckpoint`). */
export interface PendingSplitsCheckpoint {
  /** Splits not assigned yet, with the subtask each is meant for. */
  readonly pending: readonly { readonly split: FileSourceSplit; readonly target: number }[];
  /** Paths already turned into splits (continuous mode). */
  readonly processed: readonly string[];
}

type Format<T> =
  { kind: 'stream'; format: StreamFormat<T> } | { kind: 'bulk'; format: BulkFormat<T> };

/** Builds a {@link FileSource} (Flink's `FileSource.FileSourceBuilder`). */
export class FileSourceBuilder<T> {
  private interval: number | undefined;
  private s3: S3Options | undefined;

  /** @internal */
  constructor(
    private readonly format: Format<T>,
    private readonly paths: readonly string[],
  ) {
    if (paths.length === 0) throw new Error('FileSource needs at least one path.');
    for (const p of paths) checkScheme(p);
  }

  /**
   * Makes the source continuous: the paths are listed again every `intervalMs` and new files are
   * read (Flink's `monitorContinuously(Duration)`).
   */
  monitorContinuously(intervalMs: number): this {
    if (!(intervalMs > 0))
      throw new Error(`monitorContinuously: interval must be > 0 ms, got ${intervalMs}`);
    this.interval = intervalMs;
    return this;
  }

  /** Reads once what the paths hold when the job starts (the default). */
  processStaticFileSet(): this {
    this.interval = undefined;
    return this;
  }

  /** How to reach s3:// paths (the keys of Nimble's `s3.*` configuration). */
  setS3Options(options: S3Options): this {
    this.s3 = options;
    return this;
  }

  build(): FileSource<T> {
    return new FileSource(this.format, this.paths, this.interval, this.s3);
  }
}

/** Flink's `FileSource`. */
export class FileSource<T> implements Source<T, FileSourceSplit, PendingSplitsCheckpoint> {
  /** Reads files record by record with a {@link StreamFormat} (JSON lines, CSV, text). */
  static forRecordStreamFormat<T>(
    format: StreamFormat<T>,
    ...paths: string[]
  ): FileSourceBuilder<T> {
    return new FileSourceBuilder<T>({ kind: 'stream', format }, paths);
  }

  /** Reads files block by block with a {@link BulkFormat} (Parquet). */
  static forBulkFileFormat<T>(format: BulkFormat<T>, ...paths: string[]): FileSourceBuilder<T> {
    return new FileSourceBuilder<T>({ kind: 'bulk', format }, paths);
  }

  /** @internal */
  constructor(
    private readonly format: Format<T>,
    private readonly paths: readonly string[],
    private readonly monitorInterval: number | undefined,
    private readonly s3: S3Options | undefined,
  ) {}

  getBoundedness(): Boundedness {
    return this.monitorInterval === undefined
      ? Boundedness.BOUNDED
      : Boundedness.CONTINUOUS_UNBOUNDED;
  }

  createReader(): SourceReader<T, FileSourceSplit> {
    return new FileSourceReader(this.format, this.s3);
  }

  createEnumerator(
    context: SplitEnumeratorContext<FileSourceSplit>,
  ): SplitEnumerator<FileSourceSplit, PendingSplitsCheckpoint> {
    return new FileEnumerator(context, this, { pending: [], processed: [] }, false);
  }

  restoreEnumerator(
    context: SplitEnumeratorContext<FileSourceSplit>,
    state: PendingSplitsCheckpoint,
  ): SplitEnumerator<FileSourceSplit, PendingSplitsCheckpoint> {
    return new FileEnumerator(context, this, state, true);
  }

  /** @internal The splits of the files under the paths not in `seen`. */
  async discover(seen: ReadonlySet<string>): Promise<FileSourceSplit[]> {
    const out: FileSourceSplit[] = [];
    for (const root of this.paths) {
      const fs = fileSystemFor(root, this.s3);
      for (const file of await fs.listFiles(root)) {
        if (seen.has(file.path)) continue;
        if (this.format.kind === 'stream') {
          out.push({
            splitId: file.path,
            path: file.path,
            size: file.size,
            offset: 0,
            recordsToSkip: 0,
          });
        } else {
          let blocks: BulkSplitInfo[];
          try {
            blocks = await this.format.format.splitsOf(fs, file);
          } catch {
            // A file whose blocks cannot be listed (a corrupt footer) is one split: its reader
            // fails on it, naming it, and the job follows its restart strategy; once the file is
            // replaced, the restarted reader reads it whole.
            out.push({
              splitId: file.path,
              path: file.path,
              size: file.size,
              offset: 0,
              recordsToSkip: 0,
            });
            continue;
          }
          for (const block of blocks) {
            out.push({
              splitId: `${file.path}#${block.block}`,
              path: file.path,
              size: file.size,
              offset: 0,
              block,
              recordsToSkip: 0,
            });
          }
        }
      }
    }
    return out;
  }

  /** @internal */
  get interval(): number | undefined {
    return this.monitorInterval;
  }
}

class FileEnumerator<T> implements SplitEnumerator<FileSourceSplit, PendingSplitsCheckpoint> {
  private pending: { split: FileSourceSplit; target: number }[];
  private readonly processed: Set<string>;
  private readonly readers = new Set<number>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private discovering = false;

  constructor(
    private readonly context: SplitEnumeratorContext<FileSourceSplit>,
    private readonly source: FileSource<T>,
    state: PendingSplitsCheckpoint,
    private readonly restored: boolean,
  ) {
    this.pending = state.pending.map((p) => ({ ...p }));
    this.processed = new Set(state.processed);
    this.next = this.pending.length;
  }

  async start(): Promise<void> {
    if (!this.restored) await this.discoverOnce();
    const interval = this.source.interval;
    if (interval !== undefined) {
      this.timer = setInterval(() => {
        if (this.discovering) return;
        this.discovering = true;
        // A failed listing (S3 unreachable for a moment) is retried at the next interval.
        this.discoverOnce()
          .then(() => this.assignPending())
          .catch(() => {})
          .finally(() => {
            this.discovering = false;
          });
      }, interval);
      this.timer.unref();
    }
  }

  private async discoverOnce(): Promise<void> {
    const splits = await this.source.discover(this.processed);
    for (const s of splits) {
      this.processed.add(s.path);
      this.pending.push({ split: s, target: this.next++ });
    }
  }

  /** Hands each pending split to its subtask if that subtask's reader is registered. */
  private assignPending(): void {
    const p = this.context.currentParallelism();
    const bySubtask = new Map<number, FileSourceSplit[]>();
    const keep: { split: FileSourceSplit; target: number }[] = [];
    for (const e of this.pending) {
      const t = e.target % p;
      if (this.readers.has(t)) {
        let l = bySubtask.get(t);
        if (!l) bySubtask.set(t, (l = []));
        l.push(e.split);
      } else keep.push(e);
    }
    this.pending = keep;
    for (const [t, splits] of bySubtask) this.context.assignSplits(t, splits);
  }

  addReader(subtask: number): void {
    this.readers.add(subtask);
    this.assignPending();
    if (this.source.interval === undefined) this.context.signalNoMoreSplits(subtask);
  }

  addSplitsBack(splits: FileSourceSplit[], subtask: number): void {
    for (const s of splits) this.pending.push({ split: s, target: subtask });
  }

  snapshotState(): PendingSplitsCheckpoint {
    return { pending: this.pending.map((p) => ({ ...p })), processed: [...this.processed] };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Records emitted per poll at most. */
const RECORDS_PER_POLL = 1024;

interface ActiveSplit<T> {
  split: FileSourceSplit;
  /** Stream formats. */
  stream?: StreamRecordReader<T>;
  /** Bulk formats: the block's records left to emit and how many were emitted. */
  records?: T[];
  index: number;
}

class FileSourceReader<T> implements SourceReader<T, FileSourceSplit> {
  private readonly queue: FileSourceSplit[] = [];
  private current: ActiveSplit<T> | undefined;
  private fetching: Promise<void> | undefined;
  private failure: unknown;
  private noMoreSplits = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly format: Format<T>,
    private readonly s3: S3Options | undefined,
  ) {}

  start(): void {}

  private fs(path: string): FileSystem {
    return fileSystemFor(path, this.s3);
  }

  /** Loads the next queued split's bytes or block in the background. */
  private fetchNext(): void {
    const split = this.queue[0];
    if (!split || this.fetching) return;
    const fs = this.fs(split.path);
    const file: FileStatus = { path: split.path, size: split.size };
    const { format } = this;
    const load: Promise<ActiveSplit<T>> =
      format.kind === 'stream'
        ? fs.read(split.path).then((bytes) => ({
            split,
            stream: format.format.createReader(bytes, split.offset, split.path),
            index: 0,
          }))
        : format.format
            .read(fs, file, split.block, split.recordsToSkip)
            .then((records) => ({ split, records, index: 0 }));
    this.fetching = load
      .then(
        (active) => {
          this.queue.shift();
          this.current = active;
        },
        (e: unknown) => {
          this.failure = e;
        },
      )
      .finally(() => {
        this.fetching = undefined;
        this.notify();
      });
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.failure !== undefined) throw this.failure;
    const cur = this.current;
    if (!cur) {
      if (this.queue.length > 0) {
        this.fetchNext();
        return InputStatus.NOTHING_AVAILABLE;
      }
      return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }
    let done = false;
    if (cur.stream) {
      for (let i = 0; i < RECORDS_PER_POLL; i++) {
        const r = cur.stream.read();
        if (r === undefined) {
          done = true;
          break;
        }
        output.collect(r);
      }
    } else {
      const recs = cur.records!;
      const end = Math.min(recs.length, cur.index + RECORDS_PER_POLL);
      for (let i = cur.index; i < end; i++) output.collect(recs[i]!);
      cur.index = end;
      done = end >= recs.length;
    }
    if (done) {
      this.current = undefined;
      // Prefetch the next split so the task rarely waits on I/O.
      this.fetchNext();
    }
    if (this.current || (this.queue.length > 0 && !this.fetching))
      return InputStatus.MORE_AVAILABLE;
    if (this.queue.length === 0 && this.noMoreSplits && !this.current)
      return InputStatus.END_OF_INPUT;
    return InputStatus.NOTHING_AVAILABLE;
  }

  isAvailable(): Promise<void> {
    if (this.failure !== undefined || this.current) return Promise.resolve();
    if (this.queue.length > 0 && !this.fetching) {
      this.fetchNext();
    }
    if (this.queue.length === 0 && this.noMoreSplits) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => {
        prev?.();
        resolve();
      };
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  addSplits(splits: FileSourceSplit[]): void {
    this.queue.push(...splits);
    this.fetchNext();
    this.notify();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.notify();
  }

  snapshotState(): FileSourceSplit[] {
    const out: FileSourceSplit[] = [];
    const cur = this.current;
    if (cur) {
      if (cur.stream) out.push({ ...cur.split, offset: cur.stream.position() });
      else out.push({ ...cur.split, recordsToSkip: cur.split.recordsToSkip + cur.index });
    }
    out.push(...this.queue);
    return out;
  }

  close(): void {}
}

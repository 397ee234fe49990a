/**
 * The `filesystem` connector (Flink's `FileSystemTableFactory`) on local paths.
 *
 * Source: `path` is a file or a directory; a directory's files (not hidden: no leading `.` or `_`,
 * as in Flink) are read in name order, one split per file, line by line with the table's format.
 * The source is bounded.
 *
 * Sink: each subtask writes lines into an in-progress file `.part-<uuid>-<subtask>-<n>.inprogress.<uuid>`
 * and, as Flink's FileSink does with checkpoints, hands the file over at each checkpoint (and at
 * the end of a bounded input); the committer renames it to `part-<uuid>-<subtask>-<n>` once the
 * checkpoint completes. Renaming is idempotent, so the committed files hold each row exactly once.
 */
import type {
  CommittingSinkWriter,
  Committer,
  DataStream,
  ReaderOutput,
  Source,
  SourceReader,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
  TwoPhaseCommittingSink,
} from '@nimble/api';
import { Boundedness, InputStatus } from '@nimble/api';
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import type { CatalogTable } from '../catalog/catalog-table.js';
import { TableError, ValidationError } from '../errors.js';
import type { Row } from '../row.js';
import type { RowField } from '../types.js';
import type { RowDecoder, RowEncoder } from './formats/format.js';
import { discoverFormat } from './formats/registry.js';
import type { DiscoveredFormat } from './formats/registry.js';
import type { OptionSpec } from './options.js';
import { tableIdentifier, validateOptions, withTableContext } from './options.js';
import type {
  SinkContext,
  SourceContext,
  TableSinkFactory,
  TableSourceFactory,
} from './table-factory.js';

const OPTIONS: readonly OptionSpec[] = [
  { key: 'path', type: 'string', required: true },
  { key: 'format', type: 'string', required: true },
  { key: 'source.monitor-interval', type: 'duration' },
  { key: 'sink.parallelism', type: 'int' },
  { key: 'sink.rolling-policy.file-size', type: 'string' },
  { key: 'sink.rolling-policy.rollover-interval', type: 'duration' },
  { key: 'sink.rolling-policy.check-interval', type: 'duration' },
  { key: 'partition.default-name', type: 'string' },
];

function physicalOf(table: CatalogTable): RowField[] {
  return table.columns
    .filter((c) => c.kind === 'physical')
    .map((c) => ({ name: c.name, type: c.type }));
}

function localPath(path: string): string {
  return path.startsWith('file://') ? path.slice('file://'.length) : path;
}

function resolve(
  role: 'source' | 'sink',
  table: CatalogTable,
  fields: readonly RowField[],
): { path: string; format: DiscoveredFormat; parallelism: number | undefined } {
  return withTableContext(role, table, () => {
    // Format discovery first: an unknown format is the error to report, not its options.
    const format =
      table.options.get('format') === undefined
        ? undefined
        : discoverFormat(table.options, 'format');
    validateOptions('filesystem', table.options, [...OPTIONS, ...(format?.specs ?? [])]);
    format!.factory.validate?.(fields);
    const p = table.options.get('sink.parallelism');
    return {
      path: localPath(table.options.get('path')!),
      format: format!,
      parallelism: p === undefined ? undefined : Number(p),
    };
  });
}

interface FileSplit extends SourceSplit {
  readonly path: string;
  /** Lines of the file already emitted. */
  readonly line: number;
}

/** The files to read under `path`, in name order. */
function listFiles(path: string): string[] {
  if (!existsSync(path)) {
    throw new TableError(
      `The filesystem source path '${path}' does not exist. Create it or correct the 'path' option.`,
    );
  }
  if (statSync(path).isFile()) return [path];
  return readdirSync(path)
    .filter((n) => !n.startsWith('.') && !n.startsWith('_'))
    .sort()
    .map((n) => join(path, n))
    .filter((p) => statSync(p).isFile());
}

class FileSource implements Source<Row, FileSplit, FileSplit[]> {
  constructor(
    private readonly path: string,
    private readonly decoder: () => RowDecoder,
    private readonly table: string,
  ) {}
  getBoundedness(): Boundedness {
    return Boundedness.BOUNDED;
  }
  createReader(): SourceReader<Row, FileSplit> {
    return new FileReader(this.decoder(), this.table);
  }
  createEnumerator(
    context: SplitEnumeratorContext<FileSplit>,
  ): SplitEnumerator<FileSplit, FileSplit[]> {
    const splits = listFiles(this.path).map((p, i) => ({ splitId: String(i), path: p, line: 0 }));
    return new FileEnumerator(context, splits);
  }
  restoreEnumerator(
    context: SplitEnumeratorContext<FileSplit>,
    state: FileSplit[],
  ): SplitEnumerator<FileSplit, FileSplit[]> {
    return new FileEnumerator(context, state);
  }
}

class FileEnumerator implements SplitEnumerator<FileSplit, FileSplit[]> {
  constructor(
    private readonly context: SplitEnumeratorContext<FileSplit>,
    private unassigned: FileSplit[],
  ) {}
  start(): void {}
  addReader(subtask: number): void {
    const p = this.context.currentParallelism();
    const mine = this.unassigned.filter((s) => Number(s.splitId) % p === subtask);
    this.unassigned = this.unassigned.filter((s) => Number(s.splitId) % p !== subtask);
    if (mine.length > 0) this.context.assignSplits(subtask, mine);
    this.context.signalNoMoreSplits(subtask);
  }
  addSplitsBack(splits: FileSplit[]): void {
    this.unassigned.push(...splits);
  }
  snapshotState(): FileSplit[] {
    return [...this.unassigned];
  }
  close(): void {}
}

/** Lines emitted per poll at most. */
const LINES_PER_POLL = 1024;

class FileReader implements SourceReader<Row, FileSplit> {
  private readonly splits: { splitId: string; path: string; line: number; lines?: string[] }[] = [];
  private noMoreSplits = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly decode: RowDecoder,
    private readonly table: string,
  ) {}
  start(): void {}
  pollNext(output: ReaderOutput<Row>): InputStatus {
    const split = this.splits[0];
    if (!split) return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    if (!split.lines) {
      const text = readFileSync(split.path, 'utf8');
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      split.lines = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    }
    const end = Math.min(split.lines.length, split.line + LINES_PER_POLL);
    for (let i = split.line; i < end; i++) {
      let row: Row | null;
      try {
        row = this.decode(Buffer.from(split.lines[i]!, 'utf8'));
      } catch (e) {
        throw new TableError(
          `Failed to read line ${i + 1} of file '${split.path}' of table '${this.table}': ${(e as Error).message}`,
          { cause: e },
        );
      }
      split.line = i + 1;
      if (row !== null) output.collect(row);
    }
    if (split.line >= split.lines.length) this.splits.shift();
    if (this.splits.length > 0) return InputStatus.MORE_AVAILABLE;
    return this.noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
  }
  isAvailable(): Promise<void> {
    if (this.splits.length > 0 || this.noMoreSplits) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  addSplits(splits: FileSplit[]): void {
    for (const s of splits) this.splits.push({ splitId: s.splitId, path: s.path, line: s.line });
    this.notify();
  }
  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.notify();
  }
  snapshotState(): FileSplit[] {
    return this.splits.map((s) => ({ splitId: s.splitId, path: s.path, line: s.line }));
  }
  close(): void {}
}

/** A finished in-progress file, to be renamed into place when its checkpoint completes. */
interface PendingFile {
  readonly inProgress: string;
  readonly final: string;
}

class FileSink implements TwoPhaseCommittingSink<Row, PendingFile> {
  constructor(
    private readonly dir: string,
    private readonly encoder: () => RowEncoder,
  ) {}
  createWriter(ctx: { getSubtaskId(): number }): CommittingSinkWriter<Row, PendingFile> {
    const { dir } = this;
    mkdirSync(dir, { recursive: true });
    const encode = this.encoder();
    const uuid = randomUUID();
    const subtask = ctx.getSubtaskId();
    let counter = 0;
    let current: PendingFile | undefined;
    let buffer: string[] = [];
    const flush = (): void => {
      if (buffer.length === 0) return;
      if (!current) {
        const name = `part-${uuid}-${subtask}-${counter++}`;
        current = {
          inProgress: join(dir, `.${name}.inprogress.${randomUUID()}`),
          final: join(dir, name),
        };
      }
      appendFileSync(current.inProgress, buffer.join('\n') + '\n');
      buffer = [];
    };
    return {
      write: (row) => {
        buffer.push(encode(row).toString('utf8'));
        if (buffer.length >= 1024) flush();
      },
      flush: () => flush(),
      prepareCommit: () => {
        flush();
        const done = current;
        current = undefined;
        return done ? [done] : [];
      },
      close: () => {},
    };
  }
  createCommitter(): Committer<PendingFile> {
    return {
      commit: (files) => {
        for (const f of files) if (existsSync(f.inProgress)) renameSync(f.inProgress, f.final);
        return Promise.resolve();
      },
      close: () => {},
    };
  }
}

export const filesystemFactory: TableSourceFactory & TableSinkFactory = {
  identifier: 'filesystem',
  validateSource(table) {
    resolve('source', table, physicalOf(table));
  },
  isBounded: () => true,
  createSource(ctx: SourceContext) {
    if (ctx.metadata.length > 0) {
      throw new ValidationError(
        `Table '${tableIdentifier(ctx.table)}': the filesystem connector has no metadata columns (found ${ctx.metadata.map((m) => `'${m.key}'`).join(', ')}).`,
      );
    }
    const { path, format } = resolve('source', ctx.table, ctx.physical);
    const fields = ctx.physical;
    const source = new FileSource(
      path,
      () => format.factory.createDecoder(fields, format.options),
      tableIdentifier(ctx.table),
    );
    return ctx.env.fromSource(source, ctx.watermarks, ctx.name).uid(ctx.uid);
  },
  validateSink(table) {
    resolve('sink', table, physicalOf(table));
  },
  changelogMode: () => 'insert-only',
  createSink(ctx: SinkContext) {
    const { path, format, parallelism } = resolve('sink', ctx.table, ctx.physical);
    const fields = ctx.physical;
    const sink = new FileSink(path, () => format.factory.createEncoder(fields, format.options));
    const s = (ctx.input as DataStream<Row>).sinkTo(sink, ctx.name).uid(ctx.uid);
    if (parallelism !== undefined) s.setParallelism(parallelism);
  },
};

/**
 * Flink's `FileSink`: writes elements into part files under bucket directories of a base path on
 * file:// or s3://, exactly once.
 *
 * A part file's lifecycle is Flink's: in-progress while it is written (a hidden
 * `.part-<uuid>-<subtask>-<n>.inprogress.<uuid>` file locally, an incomplete multipart upload on
 * S3), pending once rolled (at the latest at the next checkpoint's pre-commit), finished when the
 * checkpoint completes and the committer publishes it (a rename locally, CompleteMultipartUpload
 * on S3). Publishing is idempotent, so committables replayed after a restore are harmless; part
 * files in progress at a failure are never published (their data is replayed from the source).
 */
import type {
  CommittingSinkWriter,
  Committer,
  SinkInitContext,
  SinkWriterContext,
  TwoPhaseCommittingSink,
} from '@nimble/api';
import { randomUUID } from 'node:crypto';
import type { BucketAssigner } from './bucket-assigners.js';
import { DateTimeBucketAssigner, MutableBucketContext } from './bucket-assigners.js';
import type { BulkWriter, BulkWriterFactory } from './bulk.js';
import type { PendingFile, RecoverableOutput, S3Options } from './file-system.js';
import { checkScheme, fileSystemFor, joinPath } from './file-system.js';
import type { Encoder, PartOutput } from './formats.js';
import type { PartFileInfo, RollingPolicy } from './rolling-policies.js';
import { DefaultRollingPolicy, OnCheckpointRollingPolicy } from './rolling-policies.js';

/** Part file names: `<prefix>-<uuid>-<subtask>-<counter><suffix>` (Flink's `OutputFileConfig`). */
export class OutputFileConfig {
  private constructor(
    readonly partPrefix: string,
    readonly partSuffix: string,
  ) {}
  static builder(): OutputFileConfigBuilder {
    return new OutputFileConfigBuilder();
  }
  /** @internal */
  static of(prefix: string, suffix: string): OutputFileConfig {
    return new OutputFileConfig(prefix, suffix);
  }
}

/** Builds an {@link OutputFileConfig}. */
export class OutputFileConfigBuilder {
  private prefix = 'part';
  private suffix = '';
  withPartPrefix(prefix: string): this {
    this.prefix = prefix;
    return this;
  }
  withPartSuffix(suffix: string): this {
    this.suffix = suffix;
    return this;
  }
  build(): OutputFileConfig {
    return OutputFileConfig.of(this.prefix, this.suffix);
  }
}

/** What the committer publishes: a pending part file. */
export interface FileSinkCommittable {
  readonly bucketId: string;
  readonly pending: PendingFile;
}

type Writing<T> =
  { kind: 'row'; encoder: Encoder<T> } | { kind: 'bulk'; factory: BulkWriterFactory<T> };

/** Flink's default bucket check interval: 60 s. */
const DEFAULT_BUCKET_CHECK_INTERVAL = 60_000;

interface Settings<T> {
  readonly basePath: string;
  readonly writing: Writing<T>;
  bucketAssigner: BucketAssigner<T>;
  rollingPolicy: RollingPolicy<T>;
  outputFileConfig: OutputFileConfig;
  bucketCheckInterval: number;
  s3: S3Options | undefined;
}

/** Builds a {@link FileSink} (Flink's `RowFormatBuilder` / `BulkFormatBuilder`). */
export class FileSinkBuilder<T> {
  /** @internal */
  constructor(private readonly settings: Settings<T>) {}

  /** Which bucket (sub-directory) each element goes to; default `DateTimeBucketAssigner`. */
  withBucketAssigner(assigner: BucketAssigner<T>): this {
    this.settings.bucketAssigner = assigner;
    return this;
  }
  /** When part files roll; default `DefaultRollingPolicy` (row) or `OnCheckpointRollingPolicy` (bulk). */
  withRollingPolicy(policy: RollingPolicy<T>): this {
    this.settings.rollingPolicy = policy;
    return this;
  }
  /** The prefix and suffix of part file names. */
  withOutputFileConfig(config: OutputFileConfig): this {
    this.settings.outputFileConfig = config;
    return this;
  }
  /** How often time-based rolling is checked, in ms (default 60 s). */
  withBucketCheckInterval(ms: number): this {
    if (!(ms > 0)) throw new Error(`withBucketCheckInterval: must be > 0, got ${ms}`);
    this.settings.bucketCheckInterval = ms;
    return this;
  }
  /** How to reach an s3:// base path (the keys of Nimble's `s3.*` configuration). */
  withS3Options(options: S3Options): this {
    this.settings.s3 = options;
    return this;
  }
  build(): FileSink<T> {
    return new FileSink({ ...this.settings });
  }
}

/** Flink's `FileSink`. */
export class FileSink<T> implements TwoPhaseCommittingSink<T, FileSinkCommittable> {
  /** Writes elements one by one with an {@link Encoder} (JSON lines, CSV, text). */
  static forRowFormat<T>(basePath: string, encoder: Encoder<T>): FileSinkBuilder<T> {
    return new FileSinkBuilder<T>({
      basePath,
      writing: { kind: 'row', encoder },
      bucketAssigner: new DateTimeBucketAssigner<T>(),
      rollingPolicy: DefaultRollingPolicy.builder().build<T>(),
      outputFileConfig: OutputFileConfig.builder().build(),
      bucketCheckInterval: DEFAULT_BUCKET_CHECK_INTERVAL,
      s3: undefined,
    });
  }

  /** Writes elements with a {@link BulkWriterFactory} (Parquet); files roll at checkpoints. */
  static forBulkFormat<T>(basePath: string, factory: BulkWriterFactory<T>): FileSinkBuilder<T> {
    return new FileSinkBuilder<T>({
      basePath,
      writing: { kind: 'bulk', factory },
      bucketAssigner: new DateTimeBucketAssigner<T>(),
      rollingPolicy: OnCheckpointRollingPolicy.build<T>(),
      outputFileConfig: OutputFileConfig.builder().build(),
      bucketCheckInterval: DEFAULT_BUCKET_CHECK_INTERVAL,
      s3: undefined,
    });
  }

  /** @internal */
  constructor(private readonly settings: Settings<T>) {
    // Fail at build time, not in the TaskManager, on a scheme no file system serves (without
    // creating an S3 client in the process that builds the job).
    checkScheme(settings.basePath);
  }

  createWriter(context: SinkInitContext): CommittingSinkWriter<T, FileSinkCommittable> {
    return new FileWriter(this.settings, context.getSubtaskId());
  }

  createCommitter(): Committer<FileSinkCommittable> {
    const { s3, basePath } = this.settings;
    return {
      async commit(committables) {
        const fs = fileSystemFor(basePath, s3);
        for (const c of committables) await fs.commit(c.pending);
      },
      close: () => {},
    };
  }
}

/** Buffer of a part file's bytes before they go to the file system. */
const CHUNK = 64 * 1024;

/** Collects small writes into chunks: one file system write per 64 KiB, not per record. */
class BufferedPartOutput implements PartOutput {
  private chunk = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private flushed = 0;
  constructor(readonly target: RecoverableOutput) {}

  write(bytes: Uint8Array): void {
    if (bytes.length > CHUNK - this.used) {
      this.flush();
      if (bytes.length >= CHUNK) {
        this.target.write(bytes);
        this.flushed += bytes.length;
        return;
      }
    }
    this.chunk.set(bytes, this.used);
    this.used += bytes.length;
  }

  writeString(text: string): void {
    // Fast path: encode straight into the chunk.
    if (text.length * 3 <= CHUNK - this.used) {
      this.used += this.chunk.write(text, this.used, 'utf8');
      return;
    }
    this.write(Buffer.from(text, 'utf8'));
  }

  getPos(): number {
    return this.flushed + this.used;
  }

  flush(): void {
    if (this.used === 0) return;
    // Hand the filled part over and start a new chunk: no copy.
    this.target.write(this.chunk.subarray(0, this.used));
    this.flushed += this.used;
    this.chunk = Buffer.allocUnsafe(CHUNK);
    this.used = 0;
  }
}

interface InProgressPart<T> extends PartFileInfo {
  out: BufferedPartOutput;
  bulk: BulkWriter<T> | undefined;
  creationTime: number;
  lastUpdateTime: number;
  size: number;
}

class FileWriter<T> implements CommittingSinkWriter<T, FileSinkCommittable> {
  private readonly uuid = randomUUID();
  private counter = 0;
  private readonly parts = new Map<string, InProgressPart<T>>();
  /** Part files rolled since the last pre-commit, being closed (S3 uploads may be in flight). */
  private closing: Promise<FileSinkCommittable>[] = [];
  private readonly timer: NodeJS.Timeout;
  private failure: unknown;
  private readonly context = new MutableBucketContext();

  constructor(
    private readonly settings: Settings<T>,
    private readonly subtask: number,
  ) {
    this.timer = setInterval(() => this.onProcessingTime(), settings.bucketCheckInterval);
    this.timer.unref();
  }

  private open(bucketId: string): InProgressPart<T> {
    const { basePath, outputFileConfig: names, writing, s3 } = this.settings;
    const name = `${names.partPrefix}-${this.uuid}-${this.subtask}-${this.counter++}${names.partSuffix}`;
    const dir = joinPath(basePath, bucketId);
    const target = joinPath(dir, name);
    const fs = fileSystemFor(basePath, s3);
    const out = new BufferedPartOutput(
      fs.createRecoverable(target, `.${name}.inprogress.${randomUUID()}`),
    );
    const now = Date.now();
    const part: InProgressPart<T> = {
      bucketId,
      creationTime: now,
      lastUpdateTime: now,
      size: 0,
      out,
      bulk: writing.kind === 'bulk' ? writing.factory.create(out) : undefined,
    };
    this.parts.set(bucketId, part);
    return part;
  }

  private roll(part: InProgressPart<T>): void {
    this.parts.delete(part.bucketId);
    part.bulk?.finish();
    part.out.flush();
    const bucketId = part.bucketId;
    const p = part.out.target.closeForCommit().then((pending) => ({ bucketId, pending }));
    // Kept for the pre-commit, which reports a failure; never left unhandled meanwhile.
    p.catch((e: unknown) => {
      this.failure ??= e;
    });
    this.closing.push(p);
  }

  write(element: T, context: SinkWriterContext): void {
    const { bucketAssigner, rollingPolicy, writing } = this.settings;
    this.context.current = context;
    const bucketId = bucketAssigner.getBucketId(element, this.context);
    let part = this.parts.get(bucketId);
    if (part && rollingPolicy.shouldRollOnEvent(part, element)) {
      this.roll(part);
      part = undefined;
    }
    part ??= this.open(bucketId);
    if (writing.kind === 'row') writing.encoder.encode(element, part.out);
    else part.bulk!.addElement(element);
    part.size = part.out.getPos();
    part.lastUpdateTime = Date.now();
  }

  private onProcessingTime(): void {
    const now = Date.now();
    for (const part of [...this.parts.values()]) {
      if (this.settings.rollingPolicy.shouldRollOnProcessingTime(part, now)) this.roll(part);
    }
  }

  flush(): void {
    for (const part of this.parts.values()) {
      if (!part.bulk) part.out.flush();
    }
  }

  async prepareCommit(): Promise<FileSinkCommittable[]> {
    // Every in-progress file becomes pending at a checkpoint (see rolling-policies.ts).
    for (const part of [...this.parts.values()]) this.roll(part);
    const closing = this.closing;
    this.closing = [];
    const done = await Promise.all(closing);
    if (this.failure !== undefined) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
    return done;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

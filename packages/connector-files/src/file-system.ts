/**
 * The file systems the file connectors read and write: local paths (`file:///dir` or a plain
 * path) and S3 (`s3://bucket/prefix`). A connector never depends on a daemon, so the S3 settings
 * come with the source or sink ({@link S3Options}, with the configuration keys of s3://
 * checkpoint storage: `s3.endpoint`, `s3.region`, `s3.access-key`, `s3.secret-key`,
 * `s3.path.style.access`), or else from the AWS SDK's environment (`AWS_ACCESS_KEY_ID`,
 * `AWS_ENDPOINT_URL_S3`, ...).
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** How to reach S3 or an S3-compatible store (MinIO, moto, ...). */
export interface S3Options {
  /** An http(s) URL (`s3.endpoint`); undefined: AWS S3, or `AWS_ENDPOINT_URL_S3`. */
  readonly endpoint?: string;
  /** `s3.region`; default `AWS_REGION` or us-east-1. */
  readonly region?: string;
  /** `s3.access-key`, with `secretKey`; undefined: the AWS SDK's default credential chain. */
  readonly accessKey?: string;
  /** `s3.secret-key`. */
  readonly secretKey?: string;
  /** `s3.path.style.access`: address buckets as endpoint/bucket. */
  readonly pathStyleAccess?: boolean;
}

/**
 * S3 options from configuration keys as written in Nimble's configuration (`s3.endpoint`,
 * `s3.region`, `s3.access-key`, `s3.secret-key`, `s3.path.style.access`); other keys are ignored.
 */
export function s3OptionsFromConfig(config: Readonly<Record<string, string>>): S3Options {
  const v = (k: string): string | undefined => (config[k] === '' ? undefined : config[k]);
  const path = v('s3.path.style.access');
  return {
    endpoint: v('s3.endpoint'),
    region: v('s3.region'),
    accessKey: v('s3.access-key'),
    secretKey: v('s3.secret-key'),
    pathStyleAccess: path === undefined ? undefined : path.toLowerCase() === 'true',
  };
}

/** A file seen by a listing. */
export interface FileStatus {
  /** The file's URI or path, as the listing's directory was given plus the name. */
  readonly path: string;
  readonly size: number;
}

/** A file system error naming the path at fault. */
export class FileSystemError extends Error {
  override name = 'FileSystemError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A part file being written; `close` makes its bytes durable and returns how to commit them. */
export interface RecoverableOutput {
  write(bytes: Uint8Array): void;
  /** Bytes written so far. */
  getPos(): number;
  /** Finishes the in-progress file: resolves to the committable that publishes it. */
  closeForCommit(): Promise<PendingFile>;
}

/** A finished in-progress file, published by {@link FileSystem.commit} (idempotent). */
export type PendingFile =
  | { readonly kind: 'local'; readonly inProgress: string; readonly target: string }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly uploadId: string;
      readonly parts: readonly { readonly PartNumber: number; readonly ETag: string }[];
    };

/** What the connectors need of a file system. */
export interface FileSystem {
  /** The files (not directories) under `dir`, recursively, skipping hidden names (`.`, `_`). */
  listFiles(dir: string): Promise<FileStatus[]>;
  /** Bytes `[start, end)` of a file (to its end without `end`). */
  read(path: string, start?: number, end?: number): Promise<Uint8Array>;
  /** A new in-progress file that becomes `target` when committed. */
  createRecoverable(target: string, inProgressName: string): RecoverableOutput;
  /** Publishes a pending file; a second commit of the same file is a no-op. */
  commit(file: PendingFile): Promise<void>;
}

/** Flink skips files whose name starts with `.` or `_` (in-progress files, `_SUCCESS`, ...). */
export function isHidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

/** Joins a directory URI or path and a relative path. */
export function joinPath(dir: string, rel: string): string {
  if (rel === '') return dir;
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}

function localPathOf(path: string): string {
  return path.startsWith('file://') ? path.slice('file://'.length) : path;
}

/** Local files: in-progress files in the target's directory, committed by an atomic rename. */
export class LocalFileSystem implements FileSystem {
  listFiles(dir: string): Promise<FileStatus[]> {
    const root = localPathOf(dir);
    if (!existsSync(root)) {
      return Promise.reject(
        new FileSystemError(`The path '${dir}' does not exist. Create it or correct the path.`),
      );
    }
    if (statSync(root).isFile()) return Promise.resolve([{ path: dir, size: statSync(root).size }]);
    const out: FileStatus[] = [];
    const walk = (abs: string, rel: string): void => {
      for (const name of readdirSync(abs).sort()) {
        if (isHidden(name)) continue;
        const child = join(abs, name);
        const st = statSync(child, { throwIfNoEntry: false });
        if (!st) continue;
        const r = rel === '' ? name : `${rel}/${name}`;
        if (st.isDirectory()) walk(child, r);
        else if (st.isFile()) out.push({ path: joinPath(dir, r), size: st.size });
      }
    };
    walk(root, '');
    return Promise.resolve(out);
  }

  // Asynchronous, so a large file does not stall the task thread while it is read.
  async read(path: string, start = 0, end?: number): Promise<Uint8Array> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(localPathOf(path), 'r');
      const stop = end ?? (await handle.stat()).size;
      const buf = Buffer.allocUnsafe(Math.max(0, stop - start));
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await handle.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } catch (e) {
      throw new FileSystemError(`Could not read file '${path}': ${(e as Error).message}`, {
        cause: e,
      });
    } finally {
      await handle?.close();
    }
  }

  createRecoverable(target: string, inProgressName: string): RecoverableOutput {
    const final = localPathOf(target);
    const dir = dirname(final);
    mkdirSync(dir, { recursive: true });
    const inProgress = join(dir, inProgressName);
    const fd = openSync(inProgress, 'w');
    let pos = 0;
    let closed = false;
    return {
      write(bytes) {
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        pos += bytes.length;
      },
      getPos: () => pos,
      closeForCommit() {
        if (!closed) {
          closed = true;
          closeSync(fd);
        }
        return Promise.resolve({ kind: 'local', inProgress, target: final });
      },
    };
  }

  commit(file: PendingFile): Promise<void> {
    if (file.kind !== 'local') return Promise.reject(new FileSystemError('not a local file'));
    if (existsSync(file.inProgress)) renameSync(file.inProgress, file.target);
    else if (!existsSync(file.target)) {
      return Promise.reject(
        new FileSystemError(
          `Cannot commit '${file.target}': its in-progress file '${file.inProgress}' is gone. ` +
            'Was the output directory cleaned while the job ran?',
        ),
      );
    }
    return Promise.resolve();
  }
}

// An unreachable endpoint fails within seconds (as s3:// checkpoint storage does).
const MAX_ATTEMPTS = 3;
const CONNECTION_TIMEOUT_MS = 3_000;
const SOCKET_IDLE_TIMEOUT_MS = 60_000;
/** S3's smallest part of a multipart upload but the last (Flink's `s3.upload.min.part.size`). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

function parseS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new FileSystemError(`'${uri}' is not an s3:// URI (s3://bucket/key).`);
  return { bucket: m[1]!, key: m[2]! };
}

/**
 * S3: part files are multipart uploads (Flink's S3RecoverableWriter): parts of at least 5 MiB are
 * uploaded while the file is written, the last part when it is closed for commit, and the upload
 * is completed by the committer once the checkpoint completes, so nothing is visible before. An
 * upload a crash leaves incomplete stays invisible (a bucket lifecycle rule aborts it).
 */
export class S3FileSystem implements FileSystem {
  readonly client: S3Client;
  private readonly target: string;

  constructor(options: S3Options = {}) {
    const { accessKey, secretKey } = options;
    if ((accessKey === undefined) !== (secretKey === undefined)) {
      throw new FileSystemError(
        `${accessKey === undefined ? 's3.access-key' : 's3.secret-key'} is not set: set ` +
          's3.access-key and s3.secret-key together, or neither to use the AWS SDK default chain.',
      );
    }
    this.target = options.endpoint ?? 'AWS S3';
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
      forcePathStyle: options.pathStyleAccess ?? false,
      credentials:
        accessKey !== undefined && secretKey !== undefined
          ? { accessKeyId: accessKey, secretAccessKey: secretKey }
          : undefined,
      maxAttempts: MAX_ATTEMPTS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
      },
    });
  }

  private fail(what: string, uri: string, e: unknown): FileSystemError {
    return new FileSystemError(
      `Could not ${what} '${uri}' at ${this.target}: ${(e as Error).message}`,
      { cause: e },
    );
  }

  async listFiles(dir: string): Promise<FileStatus[]> {
    const { bucket, key } = parseS3(dir);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const out: FileStatus[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          const rel = o.Key!.slice(prefix.length);
          if (rel === '' || rel.split('/').some(isHidden)) continue;
          out.push({ path: `s3://${bucket}/${prefix}${rel}`, size: o.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw this.fail('list', dir, e);
    }
    // A key that is a file itself (s3://bucket/file.csv).
    if (out.length === 0 && key !== '' && !key.endsWith('/')) {
      try {
        const head = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return [{ path: dir, size: head.ContentLength ?? 0 }];
      } catch {
        // not a file either: an empty directory
      }
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async read(path: string, start = 0, end?: number): Promise<Uint8Array> {
    const { bucket, key } = parseS3(path);
    if (end !== undefined && end <= start) return new Uint8Array(0);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range:
            start === 0 && end === undefined
              ? undefined
              : `bytes=${start}-${end === undefined ? '' : end - 1}`,
        }),
      );
      return await res.Body!.transformToByteArray();
    } catch (e) {
      throw this.fail('read', path, e);
    }
  }

  createRecoverable(target: string): RecoverableOutput {
    const { bucket, key } = parseS3(target);
    const parts: { PartNumber: number; ETag: string }[] = [];
    const uploads: Promise<void>[] = [];
    let uploadId: Promise<string> | undefined;
    let buffer: Uint8Array[] = [];
    let buffered = 0;
    let pos = 0;
    let failure: unknown;
    const startUpload = (): Promise<string> =>
      (uploadId ??= this.client
        .send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
        .then((r) => r.UploadId!));
    const uploadPart = (): void => {
      const body = Buffer.concat(buffer);
      const partNumber = parts.length + uploads.length + 1;
      buffer = [];
      buffered = 0;
      const p = startUpload()
        .then((id) =>
          this.client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: id,
              PartNumber: partNumber,
              Body: body,
            }),
          ),
        )
        .then((r) => {
          parts.push({ PartNumber: partNumber, ETag: r.ETag! });
        })
        .catch((e: unknown) => {
          failure ??= e;
        });
      uploads.push(p);
    };
    return {
      write(bytes) {
        buffer.push(bytes);
        buffered += bytes.length;
        pos += bytes.length;
        if (buffered >= MIN_PART_SIZE) uploadPart();
      },
      getPos: () => pos,
      closeForCommit: async () => {
        if (buffered > 0 || uploads.length === 0) uploadPart();
        await Promise.all(uploads);
        if (failure !== undefined) throw this.fail('upload', target, failure);
        parts.sort((a, b) => a.PartNumber - b.PartNumber);
        return { kind: 's3', bucket, key, uploadId: await startUpload(), parts };
      },
    };
  }

  async commit(file: PendingFile): Promise<void> {
    if (file.kind !== 's3') throw new FileSystemError('not an S3 file');
    const uri = `s3://${file.bucket}/${file.key}`;
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: file.bucket,
          Key: file.key,
          UploadId: file.uploadId,
          MultipartUpload: { Parts: file.parts.map((p) => ({ ...p })) },
        }),
      );
    } catch (e) {
      // Committed before (a replay after a restore): the upload is gone, the object is there.
      if (e instanceof S3ServiceException && e.name === 'NoSuchUpload') {
        try {
          await this.client.send(new HeadObjectCommand({ Bucket: file.bucket, Key: file.key }));
          return;
        } catch (head) {
          throw this.fail('commit (upload gone and object missing)', uri, head);
        }
      }
      throw this.fail('commit', uri, e);
    }
  }
}

const local = new LocalFileSystem();
const s3Clients = new Map<string, S3FileSystem>();

/** Throws unless a file system serves `uri`'s scheme (file://, a plain path or s3://). */
export function checkScheme(uri: string): void {
  if (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) &&
    !uri.startsWith('file://') &&
    !uri.startsWith('s3://')
  ) {
    throw new FileSystemError(
      `Unsupported file system scheme in '${uri}': use file:// (or a plain path) or s3://.`,
    );
  }
}

/** The file system of a URI or path; S3 file systems are shared per options. */
export function fileSystemFor(uri: string, s3?: S3Options): FileSystem {
  checkScheme(uri);
  if (uri.startsWith('s3://')) {
    const k = JSON.stringify(s3 ?? {});
    let fs = s3Clients.get(k);
    if (!fs) {
      fs = new S3FileSystem(s3);
      s3Clients.set(k, fs);
    }
    return fs;
  }
  return local;
}

import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ConfigurationError, IllegalStateError } from '../../errors.js';
import type { S3Options } from './s3-options.js';
import type { ByteRange, StateFileSystem } from './state-file-system.js';
import {
  checkRange,
  parseStorageUri,
  StateFileNotFoundError,
  StateStorageError,
} from './state-file-system.js';

// An unreachable endpoint must fail a checkpoint within seconds, not after the OS's connect
// timeout (minutes): 3 attempts of at most 3 s each. There is no limit on a whole request, as
// uploading a large state file may take minutes; a socket idle for a minute fails it instead.
const MAX_ATTEMPTS = 3;
const CONNECTION_TIMEOUT_MS = 3_000;
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

/** S3's limit of keys per DeleteObjects request, and of keys per ListObjectsV2 page. */
const BATCH_SIZE = 1000;

/** One client per distinct options, shared by the file systems opened with them. */
interface SharedClient {
  readonly client: S3Client;
  users: number;
}

const sharedClients = new Map<string, SharedClient>();

function createClient(options: S3Options): S3Client {
  const { accessKey, secretKey } = options;
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    const missing = accessKey === undefined ? 's3.access-key' : 's3.secret-key';
    throw new ConfigurationError(
      `${missing} is not set: set s3.access-key and s3.secret-key together, or neither to use ` +
        'the AWS SDK default credential chain',
      { key: missing },
    );
  }
  return new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.pathStyleAccess,
    credentials:
      accessKey !== undefined && secretKey !== undefined
        ? { accessKeyId: accessKey, secretAccessKey: secretKey }
        : undefined,
    maxAttempts: MAX_ATTEMPTS,
    // No CRC32 of every state file (the SDK's default since 3.729; a third of the upload's CPU on
    // the slot thread in a profile of bench/checkpoint-bench.ts): S3 does not require it for
    // PutObject, and a state file that reads back damaged fails its restore by name.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
    },
  });
}

/** The key prefix of the entries under directory `key` ('' for the bucket's root). */
function directoryPrefix(key: string): string {
  return key === '' ? '' : `${key}/`;
}

/** Checkpoint storage in S3 or an S3-compatible store: s3://bucket/key. */
export class S3FileSystem implements StateFileSystem {
  private shared: SharedClient | undefined;
  /** Says in error messages where requests went. */
  private readonly target: string;

  private constructor(
    shared: SharedClient,
    private readonly clientKey: string,
    options: S3Options,
  ) {
    this.shared = shared;
    this.target =
      options.endpoint !== undefined
        ? `s3.endpoint ${options.endpoint}`
        : `AWS S3, s3.region ${options.region}`;
  }

  /** A file system on the client for `options`, created on first use and shared after that. */
  static open(options: S3Options): S3FileSystem {
    const key = JSON.stringify([
      options.endpoint,
      options.region,
      options.accessKey,
      options.secretKey,
      options.pathStyleAccess,
    ]);
    let shared = sharedClients.get(key);
    if (shared === undefined) {
      shared = { client: createClient(options), users: 0 };
      sharedClients.set(key, shared);
    }
    shared.users++;
    return new S3FileSystem(shared, key, options);
  }

  async write(uri: string, data: Uint8Array): Promise<void> {
    const { client, bucket, key } = this.object(uri);
    try {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length }),
      );
    } catch (e) {
      throw this.failure('write', uri, e);
    }
  }

  /** One PUT: S3 never shows a partly written object. */
  writeAtomic(uri: string, data: Uint8Array): Promise<void> {
    return this.write(uri, data);
  }

  async createExclusive(uri: string, data: Uint8Array): Promise<boolean> {
    const { client, bucket, key } = this.object(uri);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: data,
          ContentLength: data.length,
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (e) {
      // 412: the key exists. 409 (ConditionalRequestConflict): a concurrent conditional write on
      // the same key is in flight, which will create it.
      const status = (e as S3ServiceException).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw this.failure('create', uri, e);
    }
  }

  async read(uri: string, range?: ByteRange): Promise<Uint8Array> {
    const { client, bucket, key } = this.object(uri);
    if (range !== undefined) {
      checkRange(uri, range);
      // HTTP cannot ask for zero bytes.
      if (range.start === range.end) {
        if (!(await this.exists(uri))) throw new StateFileNotFoundError(uri);
        return new Uint8Array(0);
      }
    }
    try {
      const response = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range: range && `bytes=${range.start}-${range.end - 1}`,
        }),
      );
      const bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array(0);
      if (range !== undefined && bytes.length !== range.end - range.start) {
        const size = response.ContentRange?.split('/')[1] ?? 'unknown number of';
        throw new Error(
          `range [${range.start}, ${range.end}) ends past the object's ${size} bytes`,
        );
      }
      return bytes;
    } catch (e) {
      if (e instanceof NoSuchKey) throw new StateFileNotFoundError(uri);
      if (range !== undefined && e instanceof S3ServiceException && e.name === 'InvalidRange') {
        const reason = `range [${range.start}, ${range.end}) starts past the object's end`;
        throw this.failure('read', uri, new Error(reason, { cause: e }));
      }
      throw this.failure('read', uri, e);
    }
  }

  async exists(uri: string): Promise<boolean> {
    const { client, bucket, key } = this.location(uri);
    try {
      if (key !== '') {
        try {
          await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          return true;
        } catch (e) {
          if (!(e instanceof NotFound)) throw e;
        }
      }
      // No object: a "directory" exists while an object is under it, as on disk.
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: directoryPrefix(key), MaxKeys: 1 }),
      );
      return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
    } catch (e) {
      throw this.failure('check for', uri, e);
    }
  }

  async list(uri: string): Promise<string[]> {
    const { client, bucket, key } = this.location(uri);
    const prefix = directoryPrefix(key);
    const names = new Set<string>();
    try {
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
        for (const { Prefix } of page.CommonPrefixes ?? []) {
          if (Prefix !== undefined) names.add(Prefix.slice(prefix.length, -1));
        }
        for (const { Key } of page.Contents ?? []) {
          if (Key !== undefined) names.add(Key.slice(prefix.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (e) {
      throw this.failure('list', uri, e);
    }
    // An object named like the directory itself ("dir/", a console's folder marker) is no entry.
    names.delete('');
    return [...names].sort();
  }

  async delete(uri: string): Promise<void> {
    const { client, bucket, key } = this.object(uri);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      throw this.failure('delete', uri, e);
    }
  }

  async deleteRecursive(uri: string): Promise<void> {
    const { client, bucket, key } = this.location(uri);
    try {
      let token: string | undefined;
      do {
        // Each page holds at most BATCH_SIZE keys: one DeleteObjects request per page.
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: directoryPrefix(key),
            MaxKeys: BATCH_SIZE,
            ContinuationToken: token,
          }),
        );
        const objects = (page.Contents ?? []).flatMap(({ Key }) => (Key ? [{ Key }] : []));
        if (objects.length > 0) {
          const result = await client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
          );
          const [first] = result.Errors ?? [];
          if (first !== undefined) {
            throw new Error(
              `${result.Errors?.length} of ${objects.length} objects were not deleted, e.g. ` +
                `${first.Key}: ${first.Code} ${first.Message}`,
            );
          }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (e) {
      throw this.failure('delete everything under', uri, e);
    }
  }

  /** Releases this file system's use of the shared client; the last user destroys it. */
  close(): void {
    const shared = this.shared;
    if (shared === undefined) return;
    this.shared = undefined;
    if (--shared.users === 0) {
      sharedClients.delete(this.clientKey);
      shared.client.destroy();
    }
  }

  private location(uri: string): { client: S3Client; bucket: string; key: string } {
    if (this.shared === undefined) {
      throw new IllegalStateError(`The file system for ${uri} is closed`);
    }
    const location = parseStorageUri(uri);
    if (location.scheme !== 's3') {
      throw new IllegalStateError(`The S3 file system cannot access ${uri}`);
    }
    return { client: this.shared.client, bucket: location.bucket, key: location.key };
  }

  /** Like location(), for operations on one object: the bucket's root is none. */
  private object(uri: string): { client: S3Client; bucket: string; key: string } {
    const location = this.location(uri);
    if (location.key === '') throw new Error(`${uri} names a bucket, not an object`);
    return location;
  }

  private failure(operation: string, uri: string, cause: unknown): StateStorageError {
    return new StateStorageError(operation, uri, cause, this.target);
  }
}

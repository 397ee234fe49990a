// Checkpoint storage: one behavioural suite run against a temp directory (file://) and against a
// real S3-protocol server process (s3://), plus the URI helpers and the S3 options.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  S3Options,
  StateFileSystem,
} from '../packages/runtime/src/checkpoint/storage/index.js';
import {
  S3ConfigOptions,
  StateFileNotFoundError,
  StateStorageError,
  fileSystemFor,
  joinUri,
  parseStorageUri,
  relativeUri,
  s3OptionsFrom,
} from '../packages/runtime/src/checkpoint/storage/index.js';
import { IllegalStateError } from '../packages/runtime/src/errors.js';
import type { S3Server } from './fixtures/s3-server.js';
import { startS3Server } from './fixtures/s3-server.js';

const AWS_DEFAULTS: S3Options = {
  endpoint: undefined,
  region: 'us-east-1',
  accessKey: undefined,
  secretKey: undefined,
  pathStyleAccess: false,
};

/** `length` bytes of a pattern that differs per `seed`, so a wrong offset shows. */
function pattern(length: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return bytes;
}

/** Compares with Buffer.equals: vitest's toEqual walks megabytes element by element. */
function expectBytes(actual: Uint8Array, expected: Uint8Array, what = 'the bytes read'): void {
  const bytes = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  if (bytes.equals(expected)) return;
  let i = 0;
  while (i < bytes.length && bytes[i] === expected[i]) i++;
  expect.fail(
    `${what}: ${bytes.length} bytes, expected ${expected.length}; they differ from offset ${i}`,
  );
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Writes `count` small objects `<dir>/<prefix>-<i>`, `batch` at a time. */
async function writeMany(
  fs: StateFileSystem,
  dir: string,
  prefix: string,
  count: number,
  batch = 100,
): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    await Promise.all(
      Array.from({ length: n }, (_, j) =>
        fs.write(joinUri(dir, `${prefix}-${i + j}`), pattern(8, i + j)),
      ),
    );
  }
}

interface Backend {
  /** The directory URI every case works under (in a directory of its own). */
  readonly root: string;
  /** A new file system for `root` from fileSystemFor. */
  open(): StateFileSystem;
  stop(): Promise<void>;
}

/** The behaviour both schemes share. */
function describeStorage(name: string, start: () => Promise<Backend>): void {
  describe(name, () => {
    let backend: Backend;
    let fs: StateFileSystem;
    let cases = 0;
    /** A fresh directory for one case. */
    const caseDir = () => joinUri(backend.root, `case-${++cases}`);

    beforeAll(async () => {
      backend = await start();
      fs = backend.open();
    });
    afterAll(async () => {
      fs?.close();
      await backend?.stop();
    });

    it('reads back what it wrote, creating parent directories, and overwrites', async () => {
      const uri = joinUri(caseDir(), 'a', 'b', 'state.bin');
      const first = pattern(100_000, 1);
      await fs.write(uri, first);
      expectBytes(await fs.read(uri), first);

      const second = pattern(10, 2);
      await fs.write(uri, second);
      expectBytes(await fs.read(uri), second);

      const empty = joinUri(caseDir(), 'empty');
      await fs.write(empty, new Uint8Array(0));
      expect((await fs.read(empty)).length).toBe(0);
    });

    it('creates an object exclusively: of racing creators exactly one wins', async () => {
      // High availability's leader election stands on this (If-None-Match: * on S3).
      const uri = joinUri(caseDir(), 'leader', 'epoch-0000000001');
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) => fs.createExclusive(uri, pattern(100, n))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true) + 1;
      expectBytes(await fs.read(uri), pattern(100, winner));
      expect(await fs.createExclusive(uri, pattern(100, 9))).toBe(false);
      expectBytes(await fs.read(uri), pattern(100, winner));
    });

    it('a ranged read returns exactly bytes [start, end)', async () => {
      const uri = joinUri(caseDir(), 'keyed-state');
      const data = pattern(5000, 3);
      await fs.write(uri, data);
      for (const [start, end] of [
        [0, 1],
        [10, 20],
        [1234, 4321],
        [4999, 5000],
        [0, 5000],
        [7, 7],
      ] as const) {
        const bytes = await fs.read(uri, { start, end });
        expectBytes(bytes, data.subarray(start, end), `[${start}, ${end})`);
      }
    });

    it('a ranged read past the end of the object fails instead of returning fewer bytes', async () => {
      const uri = joinUri(caseDir(), 'short');
      await fs.write(uri, pattern(100));
      const partly = await rejection(fs.read(uri, { start: 90, end: 110 }));
      expect(partly).toBeInstanceOf(StateStorageError);
      expect(partly.message).toMatch(/range \[90, 110\) ends past the object's 100 bytes/);
      const wholly = await rejection(fs.read(uri, { start: 200, end: 210 }));
      expect(wholly).toBeInstanceOf(StateStorageError);
      expect(wholly.message).toContain(uri);
      await expect(fs.read(uri, { start: 5, end: 4 })).rejects.toThrow(RangeError);
    });

    it('writeAtomic replaces an object; readers and list() never see a partial write', async () => {
      const dir = caseDir();
      const uri = joinUri(dir, '_metadata');
      const before = Buffer.alloc(1 << 20, 1);
      const after = Buffer.alloc(4 << 20, 2);
      await fs.writeAtomic(uri, before);
      expectBytes(await fs.read(uri), before);

      let done = false;
      const writing = fs.writeAtomic(uri, after).finally(() => (done = true));
      const listings: string[][] = [];
      while (!done) {
        const [names, bytes] = await Promise.all([fs.list(dir), fs.read(uri)]);
        listings.push(names);
        const whole =
          (bytes.length === before.length && bytes.every((b) => b === 1)) ||
          (bytes.length === after.length && bytes.every((b) => b === 2));
        expect(whole, `a read of ${bytes.length} bytes is neither the old nor the new object`).toBe(
          true,
        );
      }
      await writing;
      expect(listings.length).toBeGreaterThan(0);
      for (const names of listings) expect(names).toEqual(['_metadata']);
      expectBytes(await fs.read(uri), after);
      expect(await fs.list(dir)).toEqual(['_metadata']);
    });

    it('list names the entries directly under a directory, sub-directories included', async () => {
      const dir = caseDir();
      for (const path of ['b', 'a', 'sub/c', 'sub/deeper/d', 'zzz/e']) {
        await fs.write(joinUri(dir, path), pattern(4));
      }
      // Shares the directory's name as a prefix, but is not under it.
      await fs.write(`${dir}-sibling`, pattern(4));

      expect(await fs.list(dir)).toEqual(['a', 'b', 'sub', 'zzz']);
      expect(await fs.list(`${dir}/`)).toEqual(['a', 'b', 'sub', 'zzz']);
      expect(await fs.list(joinUri(dir, 'sub'))).toEqual(['c', 'deeper']);
      expect(await fs.list(joinUri(dir, 'missing'))).toEqual([]);
      expect(await fs.list(joinUri(dir, 'a'))).toEqual([]);
    });

    it('reading a missing object throws StateFileNotFoundError naming the uri', async () => {
      const uri = joinUri(caseDir(), 'chk-7', '_metadata');
      for (const read of [
        () => fs.read(uri),
        () => fs.read(uri, { start: 0, end: 10 }),
        () => fs.read(uri, { start: 3, end: 3 }),
      ]) {
        const e = await rejection(read());
        expect(e).toBeInstanceOf(StateFileNotFoundError);
        expect(e.name).toBe('StateFileNotFoundError');
        expect(e.message).toBe(`State file ${uri} does not exist`);
      }
    });

    it('exists: objects and non-empty directories do, missing paths do not', async () => {
      const dir = caseDir();
      const uri = joinUri(dir, 'sub', 'object');
      expect(await fs.exists(uri)).toBe(false);
      expect(await fs.exists(dir)).toBe(false);
      await fs.write(uri, pattern(3));
      expect(await fs.exists(uri)).toBe(true);
      expect(await fs.exists(joinUri(dir, 'sub'))).toBe(true);
      expect(await fs.exists(joinUri(dir, 'sub', 'obj'))).toBe(false);
    });

    it('delete removes one object; deleting a missing one is no error', async () => {
      const dir = caseDir();
      const uri = joinUri(dir, 'old');
      await fs.write(uri, pattern(3));
      await fs.write(joinUri(dir, 'kept'), pattern(3));
      await fs.delete(uri);
      expect(await fs.exists(uri)).toBe(false);
      await expect(fs.read(uri)).rejects.toBeInstanceOf(StateFileNotFoundError);
      await fs.delete(uri);
      await fs.delete(joinUri(dir, 'never', 'written'));
      expect(await fs.list(dir)).toEqual(['kept']);
    });

    it('deleteRecursive removes more than 1000 objects and nothing beside them', async () => {
      const parent = caseDir();
      const dir = joinUri(parent, 'chk-1');
      await writeMany(fs, dir, 'part', 1050);
      await writeMany(fs, joinUri(dir, 'nested', 'deeper'), 'part', 60);
      await fs.write(joinUri(parent, 'chk-2', 'kept'), pattern(3));
      await fs.write(`${dir}0`, pattern(3));
      expect((await fs.list(dir)).length).toBe(1051);

      await fs.deleteRecursive(dir);
      expect(await fs.list(dir)).toEqual([]);
      expect(await fs.exists(dir)).toBe(false);
      expect(await fs.exists(joinUri(dir, 'part-1049'))).toBe(false);
      expect(await fs.list(parent)).toEqual(['chk-10', 'chk-2']);

      await fs.deleteRecursive(joinUri(parent, 'missing'));
    });

    it('a closed file system refuses calls; others opened alike keep working', async () => {
      const other = backend.open();
      const uri = joinUri(caseDir(), 'x');
      await other.write(uri, pattern(3));
      other.close();
      other.close();
      await expect(other.read(uri)).rejects.toBeInstanceOf(IllegalStateError);
      expectBytes(await fs.read(uri), pattern(3));
    });
  });
}

describeStorage('file:// storage', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'nimble-state-fs-'));
  return {
    root: `file://${directory}`,
    open: () => fileSystemFor(`file://${directory}`, AWS_DEFAULTS),
    stop: () => rm(directory, { recursive: true, force: true }),
  };
});

describeStorage('s3:// storage', async () => {
  const server = await startS3Server();
  const root = `s3://${server.bucket}/checkpoints`;
  return { root, open: () => fileSystemFor(root, server.s3Options), stop: server.stop };
});

describe('file:// storage on disk', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nimble-state-fs-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('writeAtomic leaves no temp file behind, also when the rename fails', async () => {
    const fs = fileSystemFor(directory, AWS_DEFAULTS);
    await fs.writeAtomic(`${directory}/_metadata`, pattern(10));
    // A directory where the object should go: the rename fails after the temp file is written.
    await mkdir(join(directory, 'taken'));
    const e = await rejection(fs.writeAtomic(`file://${directory}/taken`, pattern(10)));
    expect(e).toBeInstanceOf(StateStorageError);
    expect(e.message).toMatch(new RegExp(`^Could not write file://${directory}/taken: `));
    expect((await readdir(directory)).sort()).toEqual(['_metadata', 'taken']);
  });
});

describe('s3:// storage failures', () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(() => s3?.stop());

  it('an unreachable endpoint fails a write within 15 s with a StateStorageError', async () => {
    const endpoint = 'http://127.0.0.1:9';
    const fs = fileSystemFor('s3://bucket/x', { ...s3.s3Options, endpoint });
    const uri = 's3://bucket/x/_metadata';
    const started = Date.now();
    const e = await rejection(fs.write(uri, pattern(10)));
    fs.close();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(e).toBeInstanceOf(StateStorageError);
    expect(e.message).toBe(
      `Could not write ${uri}: connect ECONNREFUSED 127.0.0.1:9 (s3.endpoint ${endpoint})`,
    );
    expect((e as StateStorageError).domain).toBe('external');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('a missing bucket is a StateStorageError, not a missing file nor an empty directory', async () => {
    const fs = fileSystemFor('s3://no-such-bucket', s3.s3Options);
    const uri = 's3://no-such-bucket/chk-1/_metadata';
    const read = await rejection(fs.read(uri));
    expect(read).toBeInstanceOf(StateStorageError);
    expect(read.message).toBe(
      `Could not read ${uri}: NoSuchBucket: The specified bucket does not exist ` +
        `(s3.endpoint ${s3.endpoint})`,
    );
    await expect(fs.list('s3://no-such-bucket/chk-1')).rejects.toBeInstanceOf(StateStorageError);
    fs.close();
  });

  it('refuses an access key without a secret key', () => {
    expect(() =>
      fileSystemFor(`s3://${s3.bucket}`, { ...s3.s3Options, secretKey: undefined }),
    ).toThrow(/s3\.secret-key is not set/);
  });
});

describe('storage URIs', () => {
  it('parseStorageUri takes file:// URIs, absolute paths and s3:// URIs apart', () => {
    expect(parseStorageUri('file:///tmp/checkpoints/')).toEqual({
      scheme: 'file',
      path: '/tmp/checkpoints',
    });
    expect(parseStorageUri('/tmp/checkpoints')).toEqual({
      scheme: 'file',
      path: '/tmp/checkpoints',
    });
    expect(parseStorageUri('file:///a/./b/../c')).toEqual({ scheme: 'file', path: '/a/c' });
    expect(parseStorageUri('file:///')).toEqual({ scheme: 'file', path: '/' });
    expect(parseStorageUri('s3://bucket/jobs/chk-1/')).toEqual({
      scheme: 's3',
      bucket: 'bucket',
      key: 'jobs/chk-1',
    });
    expect(parseStorageUri('s3://bucket')).toEqual({ scheme: 's3', bucket: 'bucket', key: '' });
  });

  it('parseStorageUri refuses other schemes and relative paths, naming the supported ones', () => {
    const supported = 'supported are file:///absolute/path (or /absolute/path) and s3://bucket/key';
    expect(() => parseStorageUri('hdfs://namenode/checkpoints')).toThrow(
      `Unsupported state storage URI 'hdfs://namenode/checkpoints': ${supported}`,
    );
    expect(() => parseStorageUri('checkpoints')).toThrow(
      `Unsupported state storage URI 'checkpoints': ${supported}`,
    );
    expect(() => parseStorageUri('file://host/checkpoints')).toThrow(supported);
    expect(() => parseStorageUri('s3://')).toThrow(`State storage URI 's3://' names no bucket`);
    expect(() => fileSystemFor('gs://bucket/x', AWS_DEFAULTS)).toThrow(supported);
  });

  it('joinUri appends segments, whatever the slashes', () => {
    expect(joinUri('s3://bucket/x/', 'chk-1', '_metadata')).toBe('s3://bucket/x/chk-1/_metadata');
    expect(joinUri('s3://bucket', 'chk-1')).toBe('s3://bucket/chk-1');
    expect(joinUri('s3://bucket/x', '/chk-1/', '', 'shared/f')).toBe(
      's3://bucket/x/chk-1/shared/f',
    );
    expect(joinUri('file:///tmp/c/', '/chk-1/', 'f')).toBe('file:///tmp/c/chk-1/f');
    expect(joinUri('/tmp/c', 'a/b')).toBe('file:///tmp/c/a/b');
    expect(joinUri('file:///', 'x')).toBe('file:///x');
    expect(joinUri('s3://bucket/x/')).toBe('s3://bucket/x');
  });

  it('joinUri refuses segments that would leave the base', () => {
    expect(() => joinUri('s3://bucket/x', '../y')).toThrow(
      `Cannot join '../y' to s3://bucket/x: '..' is not allowed`,
    );
    expect(() => joinUri('file:///tmp/x', 'a', '.')).toThrow(`'.' is not allowed`);
  });

  it('relativeUri gives the path below the base, and refuses a uri outside it', () => {
    expect(relativeUri('s3://bucket/x/', 's3://bucket/x/chk-1/_metadata')).toBe('chk-1/_metadata');
    expect(relativeUri('s3://bucket', 's3://bucket/a/b')).toBe('a/b');
    expect(relativeUri('file:///tmp/c', '/tmp/c/a')).toBe('a');
    expect(relativeUri('file:///', 'file:///a/b')).toBe('a/b');
    expect(relativeUri('s3://bucket/x', 's3://bucket/x/')).toBe('');
    expect(() => relativeUri('s3://bucket/x', 's3://bucket/xy/z')).toThrow(
      's3://bucket/xy/z is not under s3://bucket/x',
    );
    expect(() => relativeUri('s3://bucket/x', 's3://other/x/z')).toThrow('is not under');
    expect(() => relativeUri('file:///x', 's3://x/z')).toThrow('is not under');
    expect(() => relativeUri('file:///tmp/c', 'file:///tmp/c/../d')).toThrow('is not under');
  });
});

describe('S3 options', () => {
  it('have the keys and defaults of Flink', () => {
    const keys = Object.values(S3ConfigOptions).map((o) => [o.key, o.defaultValue]);
    expect(keys).toEqual([
      ['s3.endpoint', ''],
      ['s3.region', 'us-east-1'],
      ['s3.access-key', ''],
      ['s3.secret-key', ''],
      ['s3.path.style.access', false],
    ]);
  });

  it('s3OptionsFrom turns empty strings into unset options', () => {
    const defaults = s3OptionsFrom((option) => option.defaultValue);
    expect(defaults).toEqual(AWS_DEFAULTS);
    const values = new Map<string, unknown>([
      ['s3.endpoint', 'http://minio:9000'],
      ['s3.access-key', 'ak'],
      ['s3.secret-key', 'sk'],
      ['s3.path.style.access', true],
    ]);
    const configured = s3OptionsFrom(<T>(o: { key: string; defaultValue: T }) =>
      values.has(o.key) ? (values.get(o.key) as T) : o.defaultValue,
    );
    expect(configured).toEqual({
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      accessKey: 'ak',
      secretKey: 'sk',
      pathStyleAccess: true,
    });
  });

  it('s3.endpoint must be an http(s) URL', () => {
    expect(S3ConfigOptions.endpoint.parse(' https://s3.example.com ')).toBe(
      'https://s3.example.com',
    );
    expect(S3ConfigOptions.endpoint.parse('')).toBe('');
    expect(() => S3ConfigOptions.endpoint.parse('minio:9000')).toThrow(
      'must be empty or an http:// or https:// URL',
    );
    expect(S3ConfigOptions.pathStyleAccess.parse('true')).toBe(true);
  });
});

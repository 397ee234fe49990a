import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateFileSystem } from '../src/index.js';
import {
  checkStorageTarget,
  fileSystemFor,
  s3OptionsFrom,
  StateStorageError,
  StorageTargetError,
  withStorageTimeout,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nimble-storage-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const local = () =>
  fileSystemFor(
    `file://${dir}`,
    s3OptionsFrom((o) => o.defaultValue),
  );

describe('checkStorageTarget', () => {
  it.each([
    ['/proc/self', /under \/proc, a kernel pseudo file system/],
    ['file:///proc/self/savepoints', /under \/proc/],
    ['/sys/kernel', /under \/sys/],
    ['/dev/shm/../null', /\/dev\/null is under \/dev/],
    ['ftp://host/dir', /Unsupported state storage URI/],
    ['relative/dir', /Unsupported state storage URI/],
  ])('refuses %s', async (target, reason) => {
    const error = await checkStorageTarget(target, local()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageTargetError);
    expect((error as Error).message).toMatch(reason);
    expect((error as StorageTargetError).domain).toBe('user');
  });

  it('refuses a path that reaches /proc through a symlink', async () => {
    symlinkSync('/proc/self', join(dir, 'proc-link'));
    await expect(checkStorageTarget(join(dir, 'proc-link', 'savepoints'), local())).rejects.toThrow(
      /under \/proc/,
    );
  });

  it('refuses a directory it cannot write to, saying so', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'a-file'), '');
    await expect(checkStorageTarget(join(dir, 'a-file', 'sp'), local())).rejects.toThrow(
      /is not writable: Could not write/,
    );
  });

  it('probeRemote: false checks an s3:// target without reaching the store', async () => {
    const s3 = fileSystemFor('s3://nowhere/chk', {
      ...s3OptionsFrom((o) => o.defaultValue),
      endpoint: 'http://127.0.0.1:9',
      accessKey: 'a',
      secretKey: 'b',
    });
    expect(await checkStorageTarget('s3://nowhere//chk/', s3, { probeRemote: false })).toBe(
      's3://nowhere/chk',
    );
    await expect(checkStorageTarget('s3://nowhere/chk', s3)).rejects.toThrow(
      /not writable: .*ECONNREFUSED/,
    );
    s3.close();
  });

  it('accepts a fresh directory, creates it and leaves no probe behind', async () => {
    const target = join(dir, 'savepoints', 'nested');
    expect(await checkStorageTarget(target, local())).toBe(`file://${target}`);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('LocalFileSystem faults', () => {
  it('a write under /proc fails instead of retrying its mkdir forever', async () => {
    await expect(
      local().write('file:///proc/self/nimble-x/y/state', new Uint8Array(1)),
    ).rejects.toThrow(StateStorageError);
  });

  it('a full disk is named ENOSPC, with what to do', async () => {
    const error = await local()
      .write('file:///dev/full', new Uint8Array(1024))
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/ENOSPC.*the storage is full/);
    expect(readdirSync('/dev')).toContain('full');
  });
});

describe('withStorageTimeout', () => {
  const hanging: StateFileSystem = {
    write: () => new Promise(() => {}),
    writeAtomic: () => new Promise(() => {}),
    createExclusive: () => new Promise(() => {}),
    read: () => new Promise(() => {}),
    exists: () => new Promise(() => {}),
    list: () => new Promise(() => {}),
    delete: () => new Promise(() => {}),
    deleteRecursive: () => new Promise(() => {}),
    close: () => {},
  };

  it('fails a call that never answers, naming the call and the key', async () => {
    const fs = withStorageTimeout(hanging, 20);
    await expect(fs.write('s3://b/chk-1/state', new Uint8Array(1))).rejects.toThrow(
      /Could not write s3:\/\/b\/chk-1\/state: no answer within 20 ms \(state\.storage\.timeout\)/,
    );
    await expect(fs.list('s3://b/chk-1')).rejects.toThrow(StateStorageError);
    await expect(fs.deleteRecursive('s3://b/chk-1')).rejects.toThrow(/delete everything under/);
  });

  it('passes answers through', async () => {
    const fs = withStorageTimeout(local(), 60_000);
    await fs.write(`file://${dir}/x`, new Uint8Array([1, 2]));
    expect([...(await fs.read(`file://${dir}/x`))]).toEqual([1, 2]);
  });
});

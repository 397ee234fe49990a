import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListStateDescriptor, ValueStateDescriptor } from '@nimble/api';
import type { Key } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExecutionConfiguration } from '../src/config.js';
import { JobDefinitionError } from '../src/errors.js';
import { assignToKeyGroup, KeyGroupRange } from '../src/keys/index.js';
import { createKeyedStateBackend } from '../src/state/index.js';
import type { KeyedStateBackend, KeyedStateBackendOptions } from '../src/state/index.js';
import { compileKeyedStateBackendOptions } from '../src/state/keyed-state-backend-options.js';
import type { LevelKeyedStateBackend } from '../src/state/level-keyed-state-backend.js';

const MAX_PARALLELISM = 128;
const OPERATOR = 'KeyedProcess(level-cache) (1/1)';
const MIB = 1024 * 1024;

const backends: KeyedStateBackend[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-level-cache-'));
  dirs.push(dir);
  return dir;
}

async function openLevel(
  options: Partial<KeyedStateBackendOptions> & { localDir?: string } = {},
): Promise<LevelKeyedStateBackend> {
  const backend = createKeyedStateBackend({
    kind: 'level',
    operatorName: OPERATOR,
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
    localDir: options.localDir ?? tempDir(),
    ...options,
  });
  await backend.open();
  backends.push(backend);
  return backend as LevelKeyedStateBackend;
}

async function closeLevel(backend: KeyedStateBackend): Promise<void> {
  backends.splice(backends.indexOf(backend), 1);
  await backend.close();
}

function setKey(backend: KeyedStateBackend, key: Key): void {
  backend.setCurrentKey(key, assignToKeyGroup(key, MAX_PARALLELISM));
}

const count = (): ValueStateDescriptor<number> => new ValueStateDescriptor<number>('count');

function writeAll(
  backend: KeyedStateBackend,
  keys: readonly Key[],
  valueOf: (i: number) => number,
) {
  const state = backend.getState(count());
  keys.forEach((key, i) => {
    setKey(backend, key);
    state.update(valueOf(i));
  });
}

function readAll(backend: KeyedStateBackend, keys: readonly Key[]): (number | undefined)[] {
  const state = backend.getState(count());
  return keys.map((key) => {
    setKey(backend, key);
    return state.value();
  });
}

/** LevelDB reads and filter answers made by `fn`. */
function readsOf(
  backend: LevelKeyedStateBackend,
  fn: () => void,
): { db: number; filtered: number } {
  const before = backend.readStats();
  fn();
  const after = backend.readStats();
  return { db: after.dbReads - before.dbReads, filtered: after.filtered - before.filtered };
}

const KEYS = Array.from({ length: 300 }, (_, i) => `user-${i}`);
const NEW_KEYS = Array.from({ length: 300 }, (_, i) => `new-${i}`);

describe('state.backend.level.cache-size', () => {
  it('is a memory size, 256 MiB unless configured', () => {
    expect(parseExecutionConfiguration({}).levelCacheSize).toBe(256 * MIB);
    expect(
      parseExecutionConfiguration({ 'state.backend.level.cache-size': '64mb' }).levelCacheSize,
    ).toBe(64 * MIB);
    expect(
      parseExecutionConfiguration({ 'state.backend.level.cache-size': '1g' }).levelCacheSize,
    ).toBe(1024 * MIB);
    expect(
      parseExecutionConfiguration({ 'state.backend.level.cache-size': 0 }).levelCacheSize,
    ).toBe(0);
  });

  it('a bad value is an error naming the key', () => {
    for (const bad of ['lots', '-1', '1.5mb', -5]) {
      expect(() => parseExecutionConfiguration({ 'state.backend.level.cache-size': bad })).toThrow(
        /configuration key "state\.backend\.level\.cache-size": must be a size/,
      );
    }
  });

  it('the backend refuses a bad size, naming the key', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() =>
        compileKeyedStateBackendOptions({
          kind: 'level',
          operatorName: OPERATOR,
          maxParallelism: MAX_PARALLELISM,
          keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
          localDir: '/tmp/unused',
          readCacheSize: bad,
        }),
      ).toThrow(JobDefinitionError);
      expect(() =>
        compileKeyedStateBackendOptions({
          kind: 'level',
          operatorName: OPERATOR,
          maxParallelism: MAX_PARALLELISM,
          keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
          localDir: '/tmp/unused',
          readCacheSize: bad,
        }),
      ).toThrow(`${OPERATOR}: keyed state backend: state.backend.level.cache-size`);
    }
  });

  it('bounds the bytes held; what was evicted is read back from LevelDB', async () => {
    const budget = 64 * 1024;
    const backend = await openLevel({ readCacheSize: budget, writeBatchSize: 50 });
    const list = backend.getState(new ListStateDescriptor<string>('events'));
    const big = 'x'.repeat(1000);
    for (const key of KEYS) {
      setKey(backend, key);
      list.add(big + key);
    }
    await backend.flush();
    expect(backend.readStats().cacheBytes).toBeLessThanOrEqual(budget);
    const reads = readsOf(backend, () => {
      for (const key of KEYS) {
        setKey(backend, key);
        expect([...list.get()]).toEqual([big + key]);
      }
    });
    // 300 KB of values do not fit 64 KB: most reads go to LevelDB.
    expect(reads.db).toBeGreaterThan(200);
    expect(backend.readStats().cacheBytes).toBeLessThanOrEqual(budget);
  });

  it('keeps hot keys in memory while cold ones stream through', async () => {
    // Room for about 100 entries of 1 KB: 20 hot keys read between every cold one.
    const backend = await openLevel({ readCacheSize: 128 * 1024, writeBatchSize: 50 });
    const state = backend.getState(new ValueStateDescriptor<string>('profile'));
    const big = 'y'.repeat(1000);
    const hot = KEYS.slice(0, 20);
    const cold = Array.from({ length: 2000 }, (_, i) => `cold-${i}`);
    for (const key of [...hot, ...cold]) {
      setKey(backend, key);
      state.update(big + key);
    }
    await backend.flush();
    const readAllHot = () => {
      for (const key of hot) {
        setKey(backend, key);
        expect(state.value()).toBe(big + key);
      }
    };
    readAllHot(); // may read LevelDB: the cold keys were written after the hot ones
    const reads = readsOf(backend, () => {
      for (const key of cold) {
        setKey(backend, key);
        expect(state.value()).toBe(big + key);
        readAllHot();
      }
    });
    // Every cold key is read from LevelDB; the hot keys stay cached.
    expect(reads.db).toBe(cold.length);
  });
});

describe('level key filters (negative lookups)', () => {
  it('a key never written is answered without reading LevelDB', async () => {
    const backend = await openLevel();
    writeAll(backend, KEYS, (i) => i);
    await backend.flush();
    const reads = readsOf(backend, () =>
      expect(readAll(backend, NEW_KEYS)).toEqual(NEW_KEYS.map(() => undefined)),
    );
    // A Bloom filter may answer "maybe" for a few (false positives, about 1 %).
    expect(reads.filtered).toBeGreaterThan(NEW_KEYS.length * 0.9);
    expect(reads.db + reads.filtered).toBe(NEW_KEYS.length);
  });

  it('stays correct across writes, deletes and rewrites with nothing cached', async () => {
    const backend = await openLevel({ readCacheSize: 0, writeBatchSize: 20 });
    const state = backend.getState(count());
    writeAll(backend, KEYS, (i) => i);
    await backend.flush();
    expect(readAll(backend, KEYS)).toEqual(KEYS.map((_, i) => i));
    // Delete every other key, rewrite every third, then read all back from LevelDB.
    KEYS.forEach((key, i) => {
      setKey(backend, key);
      if (i % 2 === 0) state.clear();
      if (i % 3 === 0) state.update(-i);
    });
    const expected = KEYS.map((_, i) => (i % 3 === 0 ? -i : i % 2 === 0 ? undefined : i));
    expect(readAll(backend, KEYS)).toEqual(expected); // through the write-back cache
    await backend.flush();
    expect(readAll(backend, KEYS)).toEqual(expected); // through LevelDB
    // A key read as absent (filtered) and then written is found once evicted.
    setKey(backend, 'late');
    expect(state.value()).toBeUndefined();
    state.update(1);
    await backend.flush();
    setKey(backend, 'late');
    expect(state.value()).toBe(1);
  });

  it('a reopened LevelDB builds its filters from the keys it holds', async () => {
    const dir = tempDir();
    let backend = await openLevel({ localDir: dir });
    writeAll(backend, KEYS, (i) => i);
    await closeLevel(backend);
    backend = await openLevel({ localDir: dir, readCacheSize: 0 });
    expect(readAll(backend, KEYS)).toEqual(KEYS.map((_, i) => i));
    const reads = readsOf(backend, () => readAll(backend, NEW_KEYS));
    expect(reads.filtered).toBeGreaterThan(NEW_KEYS.length * 0.9);
  });

  it('restored keys are found after a canonical restore, also into narrower ranges (rescaling)', async () => {
    const source = await openLevel();
    writeAll(source, KEYS, (i) => i);
    const snapshot = source.snapshot(1, 'canonical');
    const blocks = await snapshot.materialize();
    snapshot.release();
    for (const range of [new KeyGroupRange(0, 63), new KeyGroupRange(64, 127)]) {
      const restored = await openLevel({ keyGroupRange: range, readCacheSize: 0 });
      await restored.restore(
        'canonical',
        blocks
          .map((bytes, keyGroup) => ({ keyGroup, bytes }))
          .filter(({ keyGroup }) => range.contains(keyGroup)),
      );
      const mine = KEYS.filter((key) => range.contains(assignToKeyGroup(key, MAX_PARALLELISM)));
      expect(mine.length).toBeGreaterThan(100);
      expect(readAll(restored, mine)).toEqual(mine.map((key) => KEYS.indexOf(key)));
      const others = NEW_KEYS.filter((key) =>
        range.contains(assignToKeyGroup(key, MAX_PARALLELISM)),
      );
      const reads = readsOf(restored, () => readAll(restored, others));
      expect(reads.filtered).toBeGreaterThan(others.length * 0.9);
    }
  });

  it('restored keys are found after restoring a native full snapshot and a delta', async () => {
    const source = await openLevel({ incremental: true });
    const state = source.getState(count());
    writeAll(source, KEYS, (i) => i);
    const full = source.snapshot(1, 'native');
    expect(full.kind).toBe('level-full');
    const fullBlocks = await full.materialize();
    full.release();
    source.notifyCheckpointComplete(1);
    // The delta adds new keys, deletes some and changes others.
    writeAll(source, NEW_KEYS.slice(0, 100), (i) => 1000 + i);
    for (const key of KEYS.slice(0, 50)) {
      setKey(source, key);
      state.clear();
    }
    const delta = source.snapshot(2, 'native');
    expect(delta.kind).toBe('level-delta');
    const deltaBlocks = await delta.materialize();
    delta.release();

    const restored = await openLevel({ readCacheSize: 0 });
    await restored.restore(
      'level-full',
      fullBlocks.map((bytes, keyGroup) => ({ keyGroup, bytes })),
    );
    await restored.restore(
      'level-delta',
      deltaBlocks.map((bytes, keyGroup) => ({ keyGroup, bytes })),
    );
    expect(readAll(restored, KEYS)).toEqual(KEYS.map((_, i) => (i < 50 ? undefined : i)));
    expect(readAll(restored, NEW_KEYS)).toEqual(
      NEW_KEYS.map((_, i) => (i < 100 ? 1000 + i : undefined)),
    );
  });

  it('rebuilds an overfull filter without losing keys written while it scans', async () => {
    // 2,048 key groups: each empty filter has room for 64 keys, so key group 0 overflows.
    const backend = await openLevel({
      maxParallelism: 2048,
      keyGroupRange: new KeyGroupRange(0, 2047),
      readCacheSize: 0,
      writeBatchSize: 500,
    });
    const state = backend.getState(count());
    const setKey1 = (key: Key) => backend.setCurrentKey(key, 0);
    const many = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    many.forEach((key, i) => {
      setKey1(key);
      state.update(i);
    });
    // Most are deleted again: the rebuilt filter holds only the live ones.
    many.forEach((key, i) => {
      setKey1(key);
      if (i >= 100) state.clear();
    });
    await backend.flush();
    backend.maintain(); // starts the rebuild
    // Written while the rebuild scans: must be found afterwards.
    const during = Array.from({ length: 50 }, (_, i) => `during-${i}`);
    during.forEach((key, i) => {
      setKey1(key);
      state.update(-i);
    });
    await backend.flush(); // waits for the rebuild
    const read = (keys: readonly string[]) =>
      keys.map((key) => {
        setKey1(key);
        return state.value();
      });
    expect(read(many)).toEqual(many.map((_, i) => (i < 100 ? i : undefined)));
    expect(read(during)).toEqual(during.map((_, i) => -i));
    // The deleted keys left the filter: most reads of them do not reach LevelDB any more.
    const reads = readsOf(backend, () => read(many.slice(100)));
    expect(reads.filtered).toBeGreaterThan(2900 * 0.9);
    expect(backend.readStats().filterRebuilds).toBe(1);
  });

  it('keys deleted and written again never make a filter overfull', async () => {
    // As a window's state per key: written, deleted when the window fires, written again.
    const backend = await openLevel({
      maxParallelism: 2048,
      keyGroupRange: new KeyGroupRange(0, 2047),
      readCacheSize: 0,
      writeBatchSize: 10,
    });
    const state = backend.getState(count());
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`); // room for 64
    for (let round = 0; round < 20; round++) {
      for (const key of keys) {
        backend.setCurrentKey(key, 0);
        state.update(round);
      }
      await backend.flush();
      for (const key of keys) {
        backend.setCurrentKey(key, 0);
        state.clear();
      }
      await backend.flush();
      backend.maintain();
    }
    // 800 writes of 40 keys: nothing to rebuild, and keys never written are still filtered.
    expect(backend.readStats().filterRebuilds).toBe(0);
    const reads = readsOf(backend, () =>
      NEW_KEYS.slice(0, 40).forEach((key) => {
        backend.setCurrentKey(key, 0);
        expect(state.value()).toBeUndefined();
      }),
    );
    expect(reads.filtered).toBeGreaterThan(40 * 0.9);
  });
});

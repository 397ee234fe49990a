import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serialize } from 'node:v8';
import { ValueStateDescriptor } from '@nimble/api';
import type { Key } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import { assignToKeyGroup, KeyGroupRange } from '../src/keys/index.js';
import { createKeyedStateBackend } from '../src/state/index.js';
import type { KeyedStateBackend } from '../src/state/index.js';
import type { LevelKeyedStateBackend } from '../src/state/level-keyed-state-backend.js';

const MAX_PARALLELISM = 128;
const backends: KeyedStateBackend[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function open(kind: 'hashmap' | 'level'): Promise<KeyedStateBackend> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-backend-metrics-'));
  dirs.push(dir);
  const backend = createKeyedStateBackend({
    kind,
    operatorName: 'KeyedProcess(metrics) (1/1)',
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
    localDir: dir,
  });
  await backend.open();
  backends.push(backend);
  return backend;
}

function setKey(backend: KeyedStateBackend, key: Key): void {
  backend.setCurrentKey(key, assignToKeyGroup(key, MAX_PARALLELISM));
}

describe('state backend figures for metrics', () => {
  it('level: every read is a cache hit or a miss; files, write buffer and level 0 are reported', async () => {
    const backend = (await open('level')) as LevelKeyedStateBackend;
    const state = backend.getState(new ValueStateDescriptor<number>('count'));
    expect(backend.levelMetrics()).toMatchObject({ cacheHits: 0, cacheMisses: 0 });
    // 20 keys, each read and written 5 times: the first read of a key misses, the others hit.
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 20; k++) {
        setKey(backend, `k${k}`);
        state.update((state.value() ?? 0) + 1);
      }
    }
    let m = backend.levelMetrics();
    expect(m.cacheMisses).toBe(20);
    expect(m.cacheHits).toBe(80);
    expect(m.numFilesAtLevel0).toBe(0);
    // Not yet in LevelDB: the write-back cache holds the 20 entries.
    expect(m.writeBufferBytes).toBeGreaterThan(0);
    await backend.flush();
    m = backend.levelMetrics();
    expect(m.liveDataSize).toBeGreaterThan(0);
    expect(backend.stateSizeBytes()).toBe(m.liveDataSize);
  });

  it('hashmap: entries times the mean serialized size of key and value', async () => {
    const backend = await open('hashmap');
    const state = backend.getState(new ValueStateDescriptor<number>('count'));
    expect(backend.stateSizeBytes()).toBe(0);
    for (let k = 10; k < 60; k++) {
      setKey(backend, `k${k}`);
      state.update(1000 + k);
    }
    // 50 keys of 3 characters with values of equal serialized size.
    expect(backend.stateSizeBytes()).toBe(50 * (serialize(1010).byteLength + 3));
  });
});

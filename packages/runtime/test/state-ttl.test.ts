import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AggregatingStateDescriptor,
  Duration,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
} from '@nimble/api';
import type { AggregateFunction, Key, StateTtlConfigBuilder } from '@nimble/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assignToKeyGroup, KeyGroupRange } from '../src/keys/index.js';
import { createKeyedStateBackend } from '../src/state/index.js';
import type { KeyedStateBackend, StateBackendKind } from '../src/state/index.js';

const MAX_PARALLELISM = 128;
const TTL = 100;
const T0 = 1_000_000;

const sum = (a: number, b: number): number => a + b;
const average: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (value, acc) => ({ sum: acc.sum + value, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};

function ttl(): StateTtlConfigBuilder {
  return StateTtlConfig.newBuilder(Duration.ofMillis(TTL));
}

describe.each(['hashmap', 'level'] as const)('%s state TTL', (kind: StateBackendKind) => {
  let now = T0;
  let backend: KeyedStateBackend;
  let dir: string | undefined;

  beforeEach(async () => {
    now = T0;
    dir = kind === 'level' ? fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-ttl-')) : undefined;
    backend = createKeyedStateBackend({
      kind,
      operatorName: 'KeyedProcess(ttl) (1/1)',
      maxParallelism: MAX_PARALLELISM,
      keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
      localDir: dir,
      ttlTimeProvider: () => now,
    });
    await backend.open();
  });

  afterEach(async () => {
    await backend.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  function setKey(key: Key): void {
    backend.setCurrentKey(key, assignToKeyGroup(key, MAX_PARALLELISM));
  }

  /** One maintenance tick; flush makes the level backend's cleanup step and its deletes land. */
  async function maintainAndFlush(): Promise<void> {
    backend.maintain();
    await backend.flush();
  }

  it('OnCreateAndWrite: reads do not extend the TTL, writes do; expiry at lastAccess + ttl', async () => {
    const state = backend.getState(
      new ValueStateDescriptor<string>('v').enableTimeToLive(ttl().build()),
    );
    setKey('k');
    state.update('a');
    now = T0 + 50;
    expect(state.value()).toBe('a');
    now = T0 + TTL - 1;
    expect(state.value()).toBe('a');
    now = T0 + TTL;
    expect(state.value()).toBeUndefined();

    state.update('b'); // at T0 + 100
    now = T0 + 150;
    state.update('c'); // a write refreshes
    now = T0 + 249;
    expect(state.value()).toBe('c');
    now = T0 + 250;
    expect(state.value()).toBeUndefined();
  });

  it('OnReadAndWrite: a read refreshes the TTL', async () => {
    const state = backend.getState(
      new ValueStateDescriptor<string>('v').enableTimeToLive(
        ttl().updateTtlOnReadAndWrite().build(),
      ),
    );
    setKey('k');
    state.update('a');
    now = T0 + 60;
    expect(state.value()).toBe('a'); // refreshed to T0 + 60
    now = T0 + 159;
    expect(state.value()).toBe('a'); // refreshed to T0 + 159
    now = T0 + 258;
    expect(state.value()).toBe('a');
    now = T0 + 358;
    expect(state.value()).toBeUndefined();
  });

  it('NeverReturnExpired returns nothing (or the default) and removes the entry on read', async () => {
    const state = backend.getState(
      new ValueStateDescriptor<string>('v').enableTimeToLive(ttl().neverReturnExpired().build()),
    );
    const withDefault = backend.getState(
      new ValueStateDescriptor<string>('d', 'default').enableTimeToLive(ttl().build()),
    );
    for (const key of ['a', 'b', 'c']) {
      setKey(key);
      state.update(`value-${key}`);
      withDefault.update(`value-${key}`);
    }
    expect(await backend.numStoredEntries!('v')).toBe(3);
    now = T0 + TTL;
    setKey('a');
    expect(state.value()).toBeUndefined();
    expect(withDefault.value()).toBe('default');
    expect(await backend.numStoredEntries!('v')).toBe(2);
    expect(await backend.numStoredEntries!('d')).toBe(2);
  });

  it('ReturnExpiredIfNotCleanedUp returns the expired value once, then nothing', async () => {
    const state = backend.getState(
      new ValueStateDescriptor<string>('v').enableTimeToLive(
        ttl().returnExpiredIfNotCleanedUp().build(),
      ),
    );
    setKey('k');
    state.update('stale');
    now = T0 + TTL + 500;
    expect(state.value()).toBe('stale');
    expect(state.value()).toBeUndefined();
    expect(await backend.numStoredEntries!('v')).toBe(0);
  });

  it('list state: TTL per element', async () => {
    const list = backend.getState(
      new ListStateDescriptor<string>('l').enableTimeToLive(ttl().build()),
    );
    setKey('k');
    list.add('a'); // T0
    now = T0 + 60;
    list.addAll(['b', 'c']); // T0 + 60
    now = T0 + TTL;
    expect([...list.get()]).toEqual(['b', 'c']);
    list.add('d'); // T0 + 100
    now = T0 + 160;
    expect([...list.get()]).toEqual(['d']);
    now = T0 + 200;
    expect([...list.get()]).toEqual([]);
    expect(await backend.numStoredEntries!('l')).toBe(0);

    list.update(['x', 'y']);
    now = T0 + 299;
    expect([...list.get()]).toEqual(['x', 'y']);
    now = T0 + 300;
    expect([...list.get()]).toEqual([]);
  });

  // Flink's TtlListState: a read returns the live elements, and the expired ones too with
  // ReturnExpiredIfNotCleanedUp; it clears the list when no element is live; OnReadAndWrite writes
  // back only the live elements, refreshed. Otherwise expired elements stay until cleaned up.
  it('list state, OnCreateAndWrite: expired elements are returned until cleaned up when visible', async () => {
    const visible = backend.getState(
      new ListStateDescriptor<string>('visible').enableTimeToLive(
        ttl().returnExpiredIfNotCleanedUp().build(),
      ),
    );
    const hidden = backend.getState(
      new ListStateDescriptor<string>('hidden').enableTimeToLive(
        ttl().neverReturnExpired().build(),
      ),
    );
    setKey('k');
    for (const list of [visible, hidden]) list.add('old'); // T0
    now = T0 + 50;
    for (const list of [visible, hidden]) list.add('new'); // T0 + 50
    now = T0 + TTL; // 'old' expired, 'new' live
    expect([...visible.get()]).toEqual(['old', 'new']);
    expect([...visible.get()]).toEqual(['old', 'new']); // not cleaned up by the read
    expect([...hidden.get()]).toEqual(['new']);
    expect([...hidden.get()]).toEqual(['new']);
    now = T0 + 149;
    expect([...visible.get()]).toEqual(['old', 'new']);
    now = T0 + 150; // all expired: returned by the read that clears the list
    expect([...visible.get()]).toEqual(['old', 'new']);
    expect([...visible.get()]).toEqual([]);
    expect([...hidden.get()]).toEqual([]);
    expect(await backend.numStoredEntries!('visible')).toBe(0);
    expect(await backend.numStoredEntries!('hidden')).toBe(0);
  });

  it('list state, OnCreateAndWrite: background cleanup ends the visibility of expired elements', async () => {
    const list = backend.getState(
      new ListStateDescriptor<string>('l').enableTimeToLive(
        ttl().returnExpiredIfNotCleanedUp().cleanupIncrementally(5).build(),
      ),
    );
    setKey('k');
    list.add('old'); // T0
    now = T0 + 50;
    list.add('new'); // T0 + 50
    await backend.flush();
    now = T0 + TTL;
    expect([...list.get()]).toEqual(['old', 'new']);
    await maintainAndFlush();
    expect([...list.get()]).toEqual(['new']);
  });

  it('list state, OnReadAndWrite: a read refreshes the live elements and removes the expired ones', async () => {
    const visible = backend.getState(
      new ListStateDescriptor<string>('visible').enableTimeToLive(
        ttl().updateTtlOnReadAndWrite().returnExpiredIfNotCleanedUp().build(),
      ),
    );
    const hidden = backend.getState(
      new ListStateDescriptor<string>('hidden').enableTimeToLive(
        ttl().updateTtlOnReadAndWrite().neverReturnExpired().build(),
      ),
    );
    setKey('k');
    for (const list of [visible, hidden]) list.add('r1'); // T0
    now = T0 + 50;
    for (const list of [visible, hidden]) list.add('r2'); // T0 + 50
    now = T0 + 120; // r1 expired at T0 + 100
    expect([...visible.get()]).toEqual(['r1', 'r2']); // r2 refreshed to T0 + 120, r1 removed
    expect([...visible.get()]).toEqual(['r2']);
    expect([...hidden.get()]).toEqual(['r2']);
    now = T0 + 219;
    expect([...visible.get()]).toEqual(['r2']); // refreshed to T0 + 219
    expect([...hidden.get()]).toEqual(['r2']);
    now = T0 + 319;
    expect([...visible.get()]).toEqual(['r2']); // expired: returned by the read that clears it
    expect([...visible.get()]).toEqual([]);
    expect([...hidden.get()]).toEqual([]);
    expect(await backend.numStoredEntries!('visible')).toBe(0);
    expect(await backend.numStoredEntries!('hidden')).toBe(0);
  });

  it('map state: TTL per entry', async () => {
    const map = backend.getState(
      new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl().build()),
    );
    setKey('k');
    map.put('x', 1); // T0
    now = T0 + 60;
    map.put('y', 2); // T0 + 60
    now = T0 + TTL;
    expect(map.get('x')).toBeUndefined();
    expect(map.contains('x')).toBe(false);
    expect(map.get('y')).toBe(2);
    expect(map.contains('y')).toBe(true);
    expect([...map.entries()]).toEqual([['y', 2]]);
    expect([...map.keys()]).toEqual(['y']);
    expect([...map.values()]).toEqual([2]);
    expect(map.isEmpty()).toBe(false);
    map.putAll([['z', 3]]); // T0 + 100
    now = T0 + 160;
    expect([...map.entries()]).toEqual([['z', 3]]);
    now = T0 + 200;
    expect(map.isEmpty()).toBe(true);
    expect(await backend.numStoredEntries!('m')).toBe(0);
  });

  it('map state: ReturnExpiredIfNotCleanedUp returns an expired entry once; OnReadAndWrite refreshes on get', async () => {
    const map = backend.getState(
      new MapStateDescriptor<string, number>('m').enableTimeToLive(
        ttl().returnExpiredIfNotCleanedUp().updateTtlOnReadAndWrite().build(),
      ),
    );
    setKey('k');
    map.put('x', 1);
    map.put('y', 2);
    now = T0 + 90;
    expect(map.get('y')).toBe(2); // refreshed to T0 + 90
    now = T0 + 150;
    expect(map.get('x')).toBe(1); // expired: returned once and removed
    expect(map.get('x')).toBeUndefined();
    expect(map.contains('x')).toBe(false);
    expect([...map.entries()]).toEqual([['y', 2]]);
  });

  it('reducing and aggregating state: an expired accumulator starts over, unless expired values are visible', async () => {
    const total = backend.getState(
      new ReducingStateDescriptor('total', sum).enableTimeToLive(ttl().build()),
    );
    const totalStale = backend.getState(
      new ReducingStateDescriptor('totalStale', sum).enableTimeToLive(
        ttl().returnExpiredIfNotCleanedUp().build(),
      ),
    );
    const avg = backend.getState(
      new AggregatingStateDescriptor('avg', average).enableTimeToLive(ttl().build()),
    );
    setKey('k');
    for (const v of [1, 2, 3]) {
      total.add(v);
      totalStale.add(v);
      avg.add(v);
    }
    now = T0 + 50;
    expect(total.get()).toBe(6);
    expect(avg.get()).toBe(2);
    now = T0 + TTL;
    total.add(10);
    totalStale.add(10); // Flink's TtlReduceFunction folds into the expired value when it is visible
    avg.add(10);
    expect(total.get()).toBe(10);
    expect(totalStale.get()).toBe(16);
    expect(avg.get()).toBe(10);
    now = T0 + 2 * TTL;
    expect(total.get()).toBeUndefined();
    expect(totalStale.get()).toBe(16);
    expect(totalStale.get()).toBeUndefined();
    expect(avg.get()).toBeUndefined();
  });

  it('mergeNamespaces drops expired accumulators and keeps expired list elements, which reads hide', async () => {
    const total = backend.getState(
      new ReducingStateDescriptor('total', sum).enableTimeToLive(ttl().build()),
    );
    const list = backend.getState(
      new ListStateDescriptor<number>('list').enableTimeToLive(ttl().build()),
    );
    setKey('k');
    for (const s of [total, list]) s.setCurrentNamespace('w1');
    total.add(1);
    list.add(1);
    now = T0 + 60;
    for (const s of [total, list]) s.setCurrentNamespace('w2');
    total.add(2);
    list.add(2);
    now = T0 + TTL;
    total.mergeNamespaces('w3', ['w1', 'w2']);
    list.mergeNamespaces('w3', ['w1', 'w2']);
    for (const s of [total, list]) s.setCurrentNamespace('w3');
    expect(total.get()).toBe(2);
    expect([...list.get()]).toEqual([2]);
  });

  it('background cleanup removes expired entries that are never read, cleanupBatchSize per tick', async () => {
    const state = backend.getState(
      new ValueStateDescriptor<number>('v').enableTimeToLive(
        ttl().cleanupIncrementally(10).build(),
      ),
    );
    for (let i = 0; i < 50; i++) {
      setKey(`key-${i}`);
      state.update(i);
    }
    await backend.flush();
    now = T0 + TTL;
    expect(await backend.numStoredEntries!('v')).toBe(50);

    // A tick checks 10 entries, all expired.
    await maintainAndFlush();
    expect(await backend.numStoredEntries!('v')).toBe(40);
    await maintainAndFlush();
    expect(await backend.numStoredEntries!('v')).toBe(30);

    // Entries written now are not expired and stay.
    for (let i = 0; i < 5; i++) {
      setKey(`fresh-${i}`);
      state.update(i);
    }
    await backend.flush();
    for (let tick = 0; tick < 10; tick++) await maintainAndFlush();
    expect(await backend.numStoredEntries!('v')).toBe(5);
    for (let i = 0; i < 5; i++) {
      setKey(`fresh-${i}`);
      expect(state.value()).toBe(i);
    }
    setKey('key-0');
    expect(state.value()).toBeUndefined();
  });

  it('background cleanup drops expired list elements and map entries of entries that stay', async () => {
    const list = backend.getState(
      new ListStateDescriptor<string>('l').enableTimeToLive(
        ttl().returnExpiredIfNotCleanedUp().cleanupIncrementally(5).build(),
      ),
    );
    const map = backend.getState(
      new MapStateDescriptor<string, string>('m').enableTimeToLive(
        ttl().returnExpiredIfNotCleanedUp().cleanupIncrementally(5).build(),
      ),
    );
    setKey('k');
    list.add('old');
    map.put('old', 'o');
    now = T0 + 50;
    list.add('new');
    map.put('new', 'n');
    await backend.flush();
    now = T0 + TTL;
    await maintainAndFlush();
    // Without the cleanup the first read would still return the expired element.
    expect([...list.get()]).toEqual(['new']);
    expect([...map.entries()]).toEqual([['new', 'n']]);
    expect(await backend.numStoredEntries!('l')).toBe(1);
  });

  it('disableCleanupInBackground leaves expired entries that are never read', async () => {
    const state = backend.getState(
      new ValueStateDescriptor<number>('v').enableTimeToLive(
        ttl().disableCleanupInBackground().build(),
      ),
    );
    for (let i = 0; i < 20; i++) {
      setKey(i);
      state.update(i);
    }
    await backend.flush();
    now = T0 + 10 * TTL;
    for (let tick = 0; tick < 5; tick++) await maintainAndFlush();
    expect(await backend.numStoredEntries!('v')).toBe(20);
    setKey(3);
    expect(state.value()).toBeUndefined(); // cleanup on read still applies
    expect(await backend.numStoredEntries!('v')).toBe(19);
  });

  it('background cleanup does not remove an entry rewritten since it expired', async () => {
    const state = backend.getState(
      new ValueStateDescriptor<string>('v').enableTimeToLive(
        ttl().cleanupIncrementally(100).build(),
      ),
    );
    setKey('k');
    state.update('old');
    await backend.flush();
    now = T0 + TTL;
    state.update('new'); // not flushed: the level sweep sees 'old' in LevelDB
    await maintainAndFlush();
    expect(state.value()).toBe('new');
    expect(await backend.numStoredEntries!('v')).toBe(1);
  });
});

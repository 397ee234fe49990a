// The keyed state backends' read-only lookup for queryable state (queryState), on both backends:
// values as the state reads them, copies, the current key untouched, no TTL refresh, expired
// entries absent, keys of another subtask refused as retryable, and a pending snapshot unchanged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AggregatingStateDescriptor,
  Duration,
  ListStateDescriptor,
  MapStateDescriptor,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
} from '@nimble/api';
import type { AggregateFunction, Key } from '@nimble/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildJobGraph, describeJobGraph } from '../src/graph/job-graph.js';
import { assignToKeyGroup, KeyGroupRange } from '../src/keys/index.js';
import {
  createKeyedStateBackend,
  QueryableStateUnavailableError,
  UnknownQueryableStateError,
} from '../src/state/index.js';
import type {
  KeyedStateBackend,
  QueryableStateRegistration,
  StateBackendKind,
} from '../src/state/index.js';

const MAX_PARALLELISM = 128;
const T0 = 1_000_000;

const average: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (value, acc) => ({ sum: acc.sum + value, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};

describe.each(['hashmap', 'level'] as const)('%s queryState', (kind: StateBackendKind) => {
  let now = T0;
  let backend: KeyedStateBackend;
  let dir: string | undefined;
  let registered: QueryableStateRegistration[];

  async function open(range = new KeyGroupRange(0, MAX_PARALLELISM - 1)): Promise<void> {
    dir = kind === 'level' ? fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-query-')) : undefined;
    registered = [];
    backend = createKeyedStateBackend({
      kind,
      operatorName: 'KeyedProcess (1/1)',
      maxParallelism: MAX_PARALLELISM,
      keyGroupRange: range,
      localDir: dir,
      ttlTimeProvider: () => now,
      // Every write goes to LevelDB at once, so lookups read through getSync as well as the cache.
      writeBatchSize: 1,
      readCacheSize: 0,
      onQueryableState: (r) => registered.push(r),
    });
    await backend.open();
  }

  beforeEach(() => {
    now = T0;
  });

  afterEach(async () => {
    await backend.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  function setKey(key: Key): void {
    backend.setCurrentKey(key, assignToKeyGroup(key, MAX_PARALLELISM));
  }

  it('reads values, lists, maps and aggregates of any key without changing the current key', async () => {
    await open();
    const value = backend.getState(
      new ValueStateDescriptor<{ n: number }>('v').setQueryable('q-v'),
    );
    const list = backend.getState(new ListStateDescriptor<string>('l').setQueryable('q-l'));
    const map = backend.getState(new MapStateDescriptor<string, number>('m').setQueryable('q-m'));
    const agg = backend.getState(new AggregatingStateDescriptor('a', average).setQueryable('q-a'));
    backend.getState(new ValueStateDescriptor<number>('private'));
    expect(registered).toEqual([
      { queryableStateName: 'q-v', stateName: 'v', kind: 'value', ttl: false },
      { queryableStateName: 'q-l', stateName: 'l', kind: 'list', ttl: false },
      { queryableStateName: 'q-m', stateName: 'm', kind: 'map', ttl: false },
      { queryableStateName: 'q-a', stateName: 'a', kind: 'aggregating', ttl: false },
    ]);
    for (const key of ['a', 7, ['t', 1n]] as Key[]) {
      setKey(key);
      value.update({ n: String(key).length });
      list.addAll(['x', 'y']);
      map.put('k', 1);
      agg.add(2);
      agg.add(4);
    }
    await backend.flush();
    setKey('a');
    expect(backend.queryState('q-v', [7, ['t', 1n], 'none'])).toEqual([
      { found: true, value: { n: 1 } },
      { found: true, value: { n: 3 } },
      { found: false, value: undefined },
    ]);
    expect(backend.queryState('q-l', [7])).toEqual([{ found: true, value: ['x', 'y'] }]);
    expect(backend.queryState('q-m', [7])).toEqual([{ found: true, value: new Map([['k', 1]]) }]);
    expect(backend.queryState('q-a', [7])).toEqual([{ found: true, value: 3 }]);
    // The current key is still 'a': the state calls of the record in progress are unaffected.
    expect(backend.getCurrentKey()).toBe('a');
    expect(value.value()).toEqual({ n: 1 });
  });

  it('returns copies: changing a result does not change the state', async () => {
    await open();
    const value = backend.getState(new ValueStateDescriptor<{ n: number }>('v').setQueryable('q'));
    setKey('k');
    value.update({ n: 1 });
    const [r] = backend.queryState('q', ['k']);
    (r!.value as { n: number }).n = 99;
    expect(backend.queryState('q', ['k'])[0]!.value).toEqual({ n: 1 });
    expect(value.value()).toEqual({ n: 1 });
  });

  it('with TTL: no refresh on lookup, an expired entry is absent (and not cleaned up)', async () => {
    await open();
    const config = StateTtlConfig.newBuilder(Duration.ofMillis(100))
      .updateTtlOnReadAndWrite()
      .returnExpiredIfNotCleanedUp()
      .disableCleanupInBackground()
      .build();
    const value = backend.getState(
      new ValueStateDescriptor<string>('v').enableTimeToLive(config).setQueryable('q'),
    );
    const list = backend.getState(
      new ListStateDescriptor<string>('l').enableTimeToLive(config).setQueryable('ql'),
    );
    expect(registered.map((r) => r.ttl)).toEqual([true, true]);
    setKey('k');
    value.update('a');
    list.add('old');
    now = T0 + 60;
    list.add('new');
    // Lookups at T0 + 99 would refresh an OnReadAndWrite TTL if they counted as reads.
    now = T0 + 99;
    expect(backend.queryState('q', ['k'])).toEqual([{ found: true, value: 'a' }]);
    now = T0 + 100;
    expect(backend.queryState('q', ['k'])).toEqual([{ found: false, value: undefined }]);
    expect(backend.queryState('ql', ['k'])).toEqual([{ found: true, value: ['new'] }]);
    now = T0 + 160;
    expect(backend.queryState('ql', ['k'])).toEqual([{ found: false, value: undefined }]);
    await backend.flush();
    // Nothing was cleaned up by the lookups: ReturnExpiredIfNotCleanedUp still returns it once.
    expect(await backend.numStoredEntries!('v')).toBe(1);
    expect(value.value()).toBe('a');
  });

  it('leaves a pending snapshot as it was', async () => {
    await open();
    const value = backend.getState(new ValueStateDescriptor<number[]>('v').setQueryable('q'));
    for (let i = 0; i < 50; i++) {
      setKey(`k${i}`);
      value.update([i]);
    }
    const snapshot = backend.snapshot(1, 'canonical');
    const looked = backend.queryState(
      'q',
      Array.from({ length: 50 }, (_, i) => `k${i}`),
    );
    expect(looked.map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => [i]));
    (looked[0]!.value as number[]).push(1000);
    setKey('k0');
    value.update([-1]);
    const blocks = await snapshot.materialize();
    snapshot.release();
    // Restored elsewhere, the snapshot holds the values of the snapshot() call.
    const restoredDir =
      kind === 'level' ? fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-query-r-')) : undefined;
    const restored = createKeyedStateBackend({
      kind,
      operatorName: 'restored (1/1)',
      maxParallelism: MAX_PARALLELISM,
      keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
      localDir: restoredDir,
    });
    await restored.open();
    try {
      await restored.restore(
        'canonical',
        blocks.map((bytes, keyGroup) => ({ keyGroup, bytes })),
      );
      restored.getState(new ValueStateDescriptor<number[]>('v').setQueryable('q'));
      expect(restored.queryState('q', ['k0', 'k49'])).toEqual([
        { found: true, value: [0] },
        { found: true, value: [49] },
      ]);
    } finally {
      await restored.close();
      if (restoredDir !== undefined) fs.rmSync(restoredDir, { recursive: true, force: true });
    }
  });

  it('refuses keys of another subtask as retryable, and unknown names', async () => {
    await open(KeyGroupRange.forOperatorIndex(MAX_PARALLELISM, 2, 0));
    backend.getState(new ValueStateDescriptor<number>('v').setQueryable('q'));
    const foreign = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => assignToKeyGroup(k, MAX_PARALLELISM) >= 64,
    )!;
    expect(() => backend.queryState('q', [foreign])).toThrow(QueryableStateUnavailableError);
    expect(() => backend.queryState('q', [foreign])).toThrow(/does not own.*retry/);
    const foreignTuple = Array.from({ length: 100 }, (_, i) => ['t', BigInt(i)] as Key).find(
      (k) => assignToKeyGroup(k, MAX_PARALLELISM) >= 64,
    )!;
    expect(() => backend.queryState('q', [foreignTuple])).toThrow(
      /^KeyedProcess \(1\/1\): key \["t", \d+n\] is in key group/,
    );
    expect(() => backend.queryState('other', ['k'])).toThrow(UnknownQueryableStateError);
  });

  it('refuses two states of one operator under one queryable name', async () => {
    await open();
    backend.getState(new ValueStateDescriptor<number>('a').setQueryable('q'));
    expect(() => backend.getState(new ValueStateDescriptor<number>('b').setQueryable('q'))).toThrow(
      'KeyedProcess (1/1): Registration name clash: states "a" and "b" are both queryable as "q"',
    );
  });
});

describe('setQueryable and asQueryableState', () => {
  it('a descriptor is queryable under the name it is given', () => {
    const d = new ValueStateDescriptor<number>('count');
    expect(d.isQueryable()).toBe(false);
    expect(d.getQueryableStateName()).toBeUndefined();
    expect(d.setQueryable('counts')).toBe(d);
    expect(d.isQueryable()).toBe(true);
    expect(d.getQueryableStateName()).toBe('counts');
    expect(() => d.setQueryable('')).toThrow('State "count": setQueryable needs a non-empty name');
  });

  it('asQueryableState adds a keyed terminal operator named after the state', () => {
    const env = new StreamExecutionEnvironment();
    const stream = env
      .fromElements(1, 2, 3)
      .keyBy((x) => x % 2)
      .asQueryableState('latest')
      .uid('latest-uid')
      .setParallelism(3);
    expect(stream.getQueryableStateName()).toBe('latest');
    const plan = describeJobGraph(buildJobGraph(env.getPipeline('plan')));
    const vertex = plan.vertices.find((v) => v.operators[0]!.uid === 'latest-uid')!;
    expect(vertex).toMatchObject({ name: 'Queryable state: latest', parallelism: 3 });
    expect(vertex.operators[0]!.keyed).toBe(true);
  });
});

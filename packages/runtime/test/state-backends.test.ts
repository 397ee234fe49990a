import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '@nimble/api';
import type { AggregateFunction, Key } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import { assignToKeyGroup, KeyGroupRange } from '../src/keys/index.js';
import { createKeyedStateBackend, StateBackendError } from '../src/state/index.js';
import type {
  KeyedStateBackend,
  KeyedStateBackendOptions,
  StateBackendKind,
} from '../src/state/index.js';
import type { LevelKeyedStateBackend } from '../src/state/level-keyed-state-backend.js';

const MAX_PARALLELISM = 128;
const OPERATOR = 'KeyedProcess(test) (1/1)';

/** Average of numbers: a non-trivial accumulator ({ sum, count }). */
const average: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (value, acc) => ({ sum: acc.sum + value, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};

const sum = (a: number, b: number): number => a + b;

/** Keys chosen to land in several key groups (checked below). */
const KEYS: Key[] = [
  'alice',
  'bob',
  'carol',
  42,
  -7,
  3.5,
  12345678901234567890n,
  true,
  ['tenant-1', 9],
];

function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-state-'));
}

describe.each(['hashmap', 'level'] as const)('%s keyed state backend', (kind: StateBackendKind) => {
  const backends: KeyedStateBackend[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const backend of backends.splice(0)) await backend.close();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function openBackend(
    options: Partial<KeyedStateBackendOptions> = {},
  ): Promise<KeyedStateBackend> {
    let localDir = options.localDir;
    if (kind === 'level' && localDir === undefined) {
      localDir = makeTempDir();
      dirs.push(localDir);
    }
    const backend = createKeyedStateBackend({
      kind,
      operatorName: OPERATOR,
      maxParallelism: MAX_PARALLELISM,
      keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
      ...options,
      localDir,
    });
    await backend.open();
    backends.push(backend);
    return backend;
  }

  function setKey(backend: KeyedStateBackend, key: Key): void {
    backend.setCurrentKey(key, assignToKeyGroup(key, MAX_PARALLELISM));
  }

  it('has the requested kind and tracks the current key and key group', async () => {
    const backend = await openBackend();
    expect(backend.kind).toBe(kind);
    setKey(backend, 'alice');
    expect(backend.getCurrentKey()).toBe('alice');
    expect(backend.getCurrentKeyGroup()).toBe(assignToKeyGroup('alice', MAX_PARALLELISM));
    expect(new Set(KEYS.map((key) => assignToKeyGroup(key, MAX_PARALLELISM))).size).toBeGreaterThan(
      4,
    );
  });

  it('value state: default value, update, clear, per key', async () => {
    const backend = await openBackend();
    const count = backend.getState(new ValueStateDescriptor<number>('count'));
    const withDefault = backend.getState(new ValueStateDescriptor('withDefault', { n: 0 }));

    KEYS.forEach((key, i) => {
      setKey(backend, key);
      expect(count.value()).toBeUndefined();
      expect(withDefault.value()).toEqual({ n: 0 });
      count.update(i * 10);
    });
    KEYS.forEach((key, i) => {
      setKey(backend, key);
      expect(count.value()).toBe(i * 10);
    });

    setKey(backend, 'bob');
    count.update(undefined);
    expect(count.value()).toBeUndefined();
    setKey(backend, 'carol');
    count.clear();
    expect(count.value()).toBeUndefined();
    setKey(backend, 'alice');
    expect(count.value()).toBe(0);

    // The default is a copy per read: changing it does not change it for other keys.
    const value = withDefault.value()!;
    value.n = 99;
    setKey(backend, 'bob');
    expect(withDefault.value()).toEqual({ n: 0 });
  });

  it('value state keeps rich values (Map, Set, Date, bigint, undefined fields)', async () => {
    const backend = await openBackend();
    const state = backend.getState(new ValueStateDescriptor<Record<string, unknown>>('rich'));
    const value = {
      map: new Map<string, number>([['a', 1]]),
      set: new Set([1, 2]),
      date: new Date(1_700_000_000_000),
      big: 2n ** 70n,
      missing: undefined,
      nested: [{ x: 1 }, null],
    };
    setKey(backend, 'k');
    state.update(value);
    await backend.flush();
    setKey(backend, 'other');
    setKey(backend, 'k');
    const read = state.value()!;
    expect(read).toEqual(value);
    expect(read['map']).toBeInstanceOf(Map);
    expect(read['date']).toBeInstanceOf(Date);
    expect('missing' in read).toBe(true);
  });

  it(`value state ${kind === 'hashmap' ? 'stores references' : 'stores copies'}`, async () => {
    const backend = await openBackend();
    const state = backend.getState(new ValueStateDescriptor<{ n: number }>('ref'));
    setKey(backend, 'k');
    const value = { n: 1 };
    state.update(value);
    value.n = 2;
    // hashmap: as Flink's heap backend, the stored object is the user's object.
    expect(state.value()).toEqual({ n: kind === 'hashmap' ? 2 : 1 });
    expect(state.value() === value).toBe(kind === 'hashmap');
  });

  it('distinguishes keys of different types with the same text', async () => {
    const backend = await openBackend();
    const state = backend.getState(new ValueStateDescriptor<string>('typed'));
    const keys: Key[] = [1, '1', 1n, true, 'true', [1], ['1'], [1, 2], [[1], 2]];
    for (const key of keys) {
      setKey(backend, key);
      state.update(
        JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) + typeof key,
      );
    }
    for (const key of keys) {
      setKey(backend, key);
      expect(state.value()).toBe(
        JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) + typeof key,
      );
    }
  });

  it('namespaces isolate state of the same key', async () => {
    const backend = await openBackend();
    const state = backend.getState(new ValueStateDescriptor<string>('windowed'));
    setKey(backend, 'alice');
    state.update('default');
    state.setCurrentNamespace('1000');
    expect(state.value()).toBeUndefined();
    state.update('w1000');
    state.setCurrentNamespace('2000');
    state.update('w2000');
    // A namespace and key whose concatenations are equal must not collide.
    state.setCurrentNamespace('a');
    setKey(backend, 'sx');
    state.update('a|sx');
    state.setCurrentNamespace('as');
    setKey(backend, 'x');
    expect(state.value()).toBeUndefined();
    state.update('as|x');

    setKey(backend, 'alice');
    state.setCurrentNamespace('');
    expect(state.value()).toBe('default');
    state.setCurrentNamespace('1000');
    expect(state.value()).toBe('w1000');
    state.clear();
    expect(state.value()).toBeUndefined();
    state.setCurrentNamespace('2000');
    expect(state.value()).toBe('w2000');
    setKey(backend, 'sx');
    state.setCurrentNamespace('a');
    expect(state.value()).toBe('a|sx');
    setKey(backend, 'bob');
    state.setCurrentNamespace('2000');
    expect(state.value()).toBeUndefined();
  });

  it('list state: add, addAll, update, get, clear, per key and namespace', async () => {
    const backend = await openBackend();
    const list = backend.getState(new ListStateDescriptor<string>('events'));
    KEYS.forEach((key, i) => {
      setKey(backend, key);
      expect([...list.get()]).toEqual([]);
      list.add(`a${i}`);
      list.addAll([`b${i}`, `c${i}`]);
      list.add(`d${i}`);
    });
    KEYS.forEach((key, i) => {
      setKey(backend, key);
      expect([...list.get()]).toEqual([`a${i}`, `b${i}`, `c${i}`, `d${i}`]);
    });

    setKey(backend, 'alice');
    const replacement = ['x', 'y'];
    list.update(replacement);
    replacement.push('z'); // update copies the list
    expect([...list.get()]).toEqual(['x', 'y']);
    list.addAll([]);
    expect([...list.get()]).toEqual(['x', 'y']);
    list.update([]);
    expect([...list.get()]).toEqual([]);

    setKey(backend, 'bob');
    list.setCurrentNamespace('w');
    expect([...list.get()]).toEqual([]);
    list.add('in-window');
    expect([...list.get()]).toEqual(['in-window']);
    list.setCurrentNamespace('');
    expect([...list.get()]).toEqual(['a1', 'b1', 'c1', 'd1']);
    list.clear();
    expect([...list.get()]).toEqual([]);
    list.setCurrentNamespace('w');
    expect([...list.get()]).toEqual(['in-window']);
  });

  it('list state keeps elements of any type across adds and flushes', async () => {
    const backend = await openBackend();
    const list = backend.getState(new ListStateDescriptor<unknown>('mixed'));
    const elements: unknown[] = [
      1.5,
      'text',
      '\ud800',
      { flat: true, n: 2 },
      { nested: { deep: [1, 2] } },
      new Map([['k', 1n]]),
      undefined,
      null,
      -0,
      'x'.repeat(300),
    ];
    setKey(backend, 'k');
    list.add(elements[0]);
    list.addAll(elements.slice(1, 4));
    await backend.flush();
    for (const element of elements.slice(4)) list.add(element);
    expect([...list.get()]).toEqual(elements);
    expect(Object.is([...list.get()][8], -0)).toBe(true);
    list.update(['only']);
    list.add('more');
    expect([...list.get()]).toEqual(['only', 'more']);
  });

  it('value state keeps tuples exactly: flat ones, and ones with holes, -0, bigints or extra properties', async () => {
    const backend = await openBackend();
    const value = backend.getState(new ValueStateDescriptor<unknown[]>('tuple'));
    // eslint-disable-next-line no-sparse-arrays
    const holey = [1, , 3];
    const extra = Object.assign(['a'], { note: 'kept' });
    const cases: unknown[][] = [
      ['user-1', 1.5, null, true, 7],
      holey,
      [-0],
      [1n, 'x'],
      extra,
      [[1, 2]],
    ];
    for (const [i, tuple] of cases.entries()) {
      setKey(backend, `k${i}`);
      value.update(tuple);
    }
    await backend.flush();
    for (const [i, tuple] of cases.entries()) {
      setKey(backend, `k${i}`);
      expect(value.value()).toStrictEqual(tuple);
    }
    setKey(backend, 'k1');
    expect(1 in value.value()!).toBe(false);
    setKey(backend, 'k2');
    expect(Object.is(value.value()![0], -0)).toBe(true);
    setKey(backend, 'k4');
    expect((value.value() as unknown as { note: string }).note).toBe('kept');
  });

  it('map state: put, get, contains, remove, entries, keys, values, isEmpty', async () => {
    const backend = await openBackend();
    const map = backend.getState(
      new MapStateDescriptor<string | number | bigint | boolean, string>('attrs'),
    );

    setKey(backend, 'alice');
    expect(map.isEmpty()).toBe(true);
    expect([...map.entries()]).toEqual([]);
    expect(map.get('color')).toBeUndefined();
    map.put('color', 'red');
    map.put(1, 'number one');
    map.put('1', 'string one');
    map.put(1n, 'bigint one');
    map.put(true, 'yes');
    map.putAll([
      ['size', 'L'],
      ['color', 'blue'],
    ]);

    setKey(backend, 'bob');
    expect(map.isEmpty()).toBe(true);
    map.put('color', 'green');

    setKey(backend, 'alice');
    expect(map.isEmpty()).toBe(false);
    expect(map.get('color')).toBe('blue');
    expect(map.get(1)).toBe('number one');
    expect(map.get('1')).toBe('string one');
    expect(map.get(1n)).toBe('bigint one');
    expect(map.get(true)).toBe('yes');
    expect(map.contains('size')).toBe(true);
    expect(map.contains('weight')).toBe(false);
    const entries = map.entries();
    const expected: [unknown, string][] = [
      ['color', 'blue'],
      [1, 'number one'],
      ['1', 'string one'],
      [1n, 'bigint one'],
      [true, 'yes'],
      ['size', 'L'],
    ];
    expect([...entries]).toEqual(expected);
    expect([...entries]).toEqual(expected); // iterable more than once
    expect([...map.keys()]).toEqual(['color', 1, '1', 1n, true, 'size']);
    expect([...map.values()]).toEqual([
      'blue',
      'number one',
      'string one',
      'bigint one',
      'yes',
      'L',
    ]);

    map.remove('color');
    map.remove('not there');
    expect(map.contains('color')).toBe(false);
    expect([...map.keys()]).toEqual([1, '1', 1n, true, 'size']);
    for (const key of [1, '1', 1n, true, 'size']) map.remove(key);
    expect(map.isEmpty()).toBe(true);
    expect(await backend.numStoredEntries!('attrs')).toBe(1); // only bob's map is left

    setKey(backend, 'bob');
    expect([...map.entries()]).toEqual([['color', 'green']]);
    map.clear();
    expect(map.isEmpty()).toBe(true);

    expect(() => map.put({} as unknown as string, 'x')).toThrow(
      /map key must be a string, number, bigint or boolean/,
    );
  });

  it('reducing state folds with the reduce function', async () => {
    const backend = await openBackend();
    const total = backend.getState(new ReducingStateDescriptor('total', sum));
    KEYS.forEach((key, i) => {
      setKey(backend, key);
      expect(total.get()).toBeUndefined();
      for (let n = 0; n <= i; n++) total.add(n);
    });
    KEYS.forEach((key, i) => {
      setKey(backend, key);
      expect(total.get()).toBe((i * (i + 1)) / 2);
    });
    setKey(backend, 'bob');
    total.clear();
    expect(total.get()).toBeUndefined();
    total.add(5);
    expect(total.get()).toBe(5);

    // The first add stores the value without calling the function.
    const calls: [string, string][] = [];
    const concat = backend.getState(
      new ReducingStateDescriptor<string>('concat', (a, b) => {
        calls.push([a, b]);
        return a + b;
      }),
    );
    concat.add('x');
    expect(calls).toEqual([]);
    concat.add('y');
    expect(calls).toEqual([['x', 'y']]);
    expect(concat.get()).toBe('xy');
  });

  it('aggregating state adds through an accumulator', async () => {
    const backend = await openBackend();
    const avg = backend.getState(new AggregatingStateDescriptor('avg', average));
    setKey(backend, 'alice');
    expect(avg.get()).toBeUndefined();
    avg.add(1);
    avg.add(2);
    avg.add(6);
    setKey(backend, 'bob');
    avg.add(10);
    setKey(backend, 'alice');
    expect(avg.get()).toBe(3);
    setKey(backend, 'bob');
    expect(avg.get()).toBe(10);
    avg.clear();
    expect(avg.get()).toBeUndefined();
  });

  it('mergeNamespaces merges list, reducing and aggregating state and clears the sources', async () => {
    const backend = await openBackend();
    const list = backend.getState(new ListStateDescriptor<number>('list'));
    const total = backend.getState(new ReducingStateDescriptor('total', sum));
    const avg = backend.getState(new AggregatingStateDescriptor('avg', average));
    setKey(backend, 'alice');
    const fill = (namespace: string, values: number[]): void => {
      for (const state of [list, total, avg]) state.setCurrentNamespace(namespace);
      for (const v of values) {
        list.add(v);
        total.add(v);
        avg.add(v);
      }
    };
    fill('w1', [1, 2]);
    fill('w2', [3]);
    fill('w3', [10, 20]);
    setKey(backend, 'bob');
    fill('w2', [100]);

    setKey(backend, 'alice');
    for (const state of [list, total, avg]) state.mergeNamespaces('w3', ['w1', 'w2', 'missing']);
    for (const state of [list, total, avg]) state.setCurrentNamespace('w3');
    expect([...list.get()]).toEqual([10, 20, 1, 2, 3]);
    expect(total.get()).toBe(36);
    expect(avg.get()).toBe(36 / 5);
    for (const state of [list, total, avg]) state.setCurrentNamespace('w1');
    expect([...list.get()]).toEqual([]);
    expect(total.get()).toBeUndefined();
    expect(avg.get()).toBeUndefined();

    // Into an empty target; the target may be among the sources.
    for (const state of [list, total, avg]) state.mergeNamespaces('new', ['w3', 'new']);
    for (const state of [list, total, avg]) state.setCurrentNamespace('new');
    expect([...list.get()]).toEqual([10, 20, 1, 2, 3]);
    expect(total.get()).toBe(36);
    expect(avg.get()).toBe(36 / 5);

    // Other keys are untouched.
    setKey(backend, 'bob');
    for (const state of [list, total, avg]) state.setCurrentNamespace('w2');
    expect([...list.get()]).toEqual([100]);
    expect(total.get()).toBe(100);

    const value = backend.getState(new ValueStateDescriptor<number>('value'));
    const map = backend.getState(new MapStateDescriptor<string, number>('map'));
    expect(() => value.mergeNamespaces('a', ['b'])).toThrow(/value state "value" cannot be merged/);
    expect(() => map.mergeNamespaces('a', ['b'])).toThrow(/map state "map" cannot be merged/);
  });

  it('returns the same state object per name and refuses another kind under that name', async () => {
    const backend = await openBackend();
    const first = backend.getState(new ValueStateDescriptor<number>('seen'));
    expect(backend.getState(new ValueStateDescriptor<number>('seen'))).toBe(first);
    expect(() => backend.getState(new ListStateDescriptor<number>('seen'))).toThrow(
      `${OPERATOR}: state "seen" is registered as value state and cannot be obtained as list state`,
    );
    expect(() => backend.getState(new ReducingStateDescriptor<number>('seen', sum))).toThrow(
      /state "seen"/,
    );
  });

  it('refuses a key outside its key-group range and state before open', async () => {
    const backend = await openBackend({ keyGroupRange: new KeyGroupRange(0, 63) });
    const outside = KEYS.find((key) => assignToKeyGroup(key, MAX_PARALLELISM) >= 64)!;
    const inside = KEYS.find((key) => assignToKeyGroup(key, MAX_PARALLELISM) < 64)!;
    expect(() => setKey(backend, outside)).toThrow(
      /not in this subtask's KeyGroupRange\{0\.\.63\}/,
    );
    const state = backend.getState(new ValueStateDescriptor<number>('v'));
    setKey(backend, inside);
    state.update(1);
    expect(state.value()).toBe(1);

    const unopened = createKeyedStateBackend({
      kind: 'hashmap',
      operatorName: OPERATOR,
      maxParallelism: MAX_PARALLELISM,
      keyGroupRange: new KeyGroupRange(0, 127),
    });
    expect(() => unopened.getState(new ValueStateDescriptor<number>('v'))).toThrow(
      /await open\(\) first/,
    );
  });

  it('counts stored entries per key and namespace', async () => {
    const backend = await openBackend();
    const list = backend.getState(new ListStateDescriptor<number>('list'));
    for (const key of KEYS) {
      setKey(backend, key);
      list.add(1);
      list.add(2);
      list.setCurrentNamespace('w');
      list.add(3);
      list.setCurrentNamespace('');
    }
    expect(await backend.numStoredEntries!('list')).toBe(KEYS.length * 2);
    setKey(backend, KEYS[0]!);
    list.clear();
    expect(await backend.numStoredEntries!('list')).toBe(KEYS.length * 2 - 1);
    expect(await backend.numStoredEntries!('unknown')).toBe(0);
  });
});

describe('level keyed state backend on disk', () => {
  const dirs: string[] = [];
  const open: KeyedStateBackend[] = [];

  afterEach(async () => {
    for (const backend of open.splice(0)) await backend.close().catch(() => undefined);
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  function tempDir(): string {
    const dir = makeTempDir();
    dirs.push(dir);
    return dir;
  }

  async function openLevel(
    localDir: string,
    options: Partial<KeyedStateBackendOptions> = {},
  ): Promise<LevelKeyedStateBackend> {
    const backend = createKeyedStateBackend({
      kind: 'level',
      operatorName: OPERATOR,
      maxParallelism: MAX_PARALLELISM,
      keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
      localDir,
      ...options,
    });
    await backend.open();
    open.push(backend);
    return backend as LevelKeyedStateBackend;
  }

  function setKey(backend: KeyedStateBackend, key: Key): void {
    backend.setCurrentKey(key, assignToKeyGroup(key, MAX_PARALLELISM));
  }

  it('writes more than writeBatchSize entries in batches and reads them back after reopening', async () => {
    const dir = tempDir();
    const n = 5000;
    let backend = await openLevel(dir, { writeBatchSize: 100, readCacheSize: 500 });
    let count = backend.getState(new ValueStateDescriptor<number>('count'));
    let events = backend.getState(new ListStateDescriptor<string>('events'));
    let attrs = backend.getState(new MapStateDescriptor<string, number>('attrs'));
    for (let i = 0; i < n; i++) {
      setKey(backend, `user-${i}`);
      count.update(i);
      events.add(`e${i}`);
      if (i % 10 === 0) attrs.put('i', i);
    }
    // Two batches of 101 entries started on their own; with both in flight, the rest waits
    // (3 state-name entries, n counts, n lists, n / 10 maps) and availability() pushes back.
    expect(backend.pendingWrites()).toEqual({ dirty: 3 + 2 * n + n / 10 - 202, inFlight: 202 });
    expect(backend.availability()).toBeInstanceOf(Promise);
    setKey(backend, 'user-0');
    expect(count.value()).toBe(0); // read back through the caches and LevelDB
    await backend.flush();
    expect(backend.pendingWrites()).toEqual({ dirty: 0, inFlight: 0 });
    await backend.close();

    // Registration order differs: ids come from the names persisted in the database.
    backend = await openLevel(dir, { writeBatchSize: 100, readCacheSize: 500 });
    const added = backend.getState(new ValueStateDescriptor<string>('added-later'));
    attrs = backend.getState(new MapStateDescriptor<string, number>('attrs'));
    events = backend.getState(new ListStateDescriptor<string>('events'));
    count = backend.getState(new ValueStateDescriptor<number>('count'));
    for (let i = 0; i < n; i++) {
      setKey(backend, `user-${i}`);
      expect(count.value()).toBe(i);
      expect([...events.get()]).toEqual([`e${i}`]);
      expect(attrs.get('i')).toBe(i % 10 === 0 ? i : undefined);
      expect(added.value()).toBeUndefined();
    }
    expect(await backend.numStoredEntries('count')).toBe(n);
    expect(await backend.numStoredEntries('attrs')).toBe(n / 10);
  });

  it('refuses to read a stored state as another kind after reopening', async () => {
    const dir = tempDir();
    let backend = await openLevel(dir);
    backend.getState(new ValueStateDescriptor<number>('s'));
    await backend.close();
    backend = await openLevel(dir);
    expect(() => backend.getState(new ListStateDescriptor<number>('s'))).toThrow(
      `${OPERATOR}: state "s" is registered as value state and cannot be obtained as list state`,
    );
  });

  it('reads see writes in the write-back cache and in batches being written', async () => {
    const backend = await openLevel(tempDir(), { writeBatchSize: 100 });
    const state = backend.getState(new ValueStateDescriptor<number>('v'));
    const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
    // Read first, so the read cache knows each key as absent: only the write path can answer.
    for (const key of keys) {
      setKey(backend, key);
      expect(state.value()).toBeUndefined();
    }
    keys.forEach((key, i) => {
      setKey(backend, key);
      state.update(i);
    });
    // The state's name entry and 100 values are in flight, the other 50 values wait.
    expect(backend.pendingWrites()).toEqual({ dirty: 50, inFlight: 101 });
    keys.forEach((key, i) => {
      setKey(backend, key);
      expect(state.value()).toBe(i);
    });
    // Newer writes of in-flight entries win: an update and a delete.
    setKey(backend, 'k0');
    state.update(1000);
    setKey(backend, 'k1');
    state.clear();
    setKey(backend, 'k0');
    expect(state.value()).toBe(1000);
    setKey(backend, 'k1');
    expect(state.value()).toBeUndefined();

    await backend.flush();
    setKey(backend, 'k0');
    expect(state.value()).toBe(1000);
    setKey(backend, 'k1');
    expect(state.value()).toBeUndefined();
    setKey(backend, 'k2');
    expect(state.value()).toBe(2);
    expect(await backend.numStoredEntries('v')).toBe(149);
  });

  it('pushes back through availability() when two batches are in flight', async () => {
    const backend = await openLevel(tempDir(), { writeBatchSize: 10 });
    const state = backend.getState(new ValueStateDescriptor<number>('v'));
    expect(backend.availability()).toBeUndefined();
    for (let i = 0; i < 100; i++) {
      setKey(backend, i);
      state.update(i);
    }
    // Synchronous code: no batch could finish; two of 11 entries (the first with the state's
    // name entry) are in flight and the rest waits.
    expect(backend.pendingWrites()).toEqual({ dirty: 79, inFlight: 22 });
    const blocked = backend.availability();
    expect(blocked).toBeInstanceOf(Promise);
    expect(backend.availability()).toBe(blocked);
    // Key 5 is in the first batch; its newer value must outlive that batch's completion.
    setKey(backend, 5);
    state.update(500);
    await blocked;
    // A batch finished and the next one started at once.
    expect(backend.pendingWrites().inFlight).toBeGreaterThan(0);
    setKey(backend, 5);
    expect(state.value()).toBe(500);
    setKey(backend, 6);
    expect(state.value()).toBe(6);
    await backend.flush();
    expect(backend.availability()).toBeUndefined();
    expect(await backend.numStoredEntries('v')).toBe(100);
  });

  it('reports a LevelDB failure with the operator and the directory', async () => {
    const dir = tempDir();
    await openLevel(dir);
    // LevelDB locks its directory: a second open of the same directory fails.
    const second = createKeyedStateBackend({
      kind: 'level',
      operatorName: OPERATOR,
      maxParallelism: MAX_PARALLELISM,
      keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
      localDir: dir,
    });
    const error = await second.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StateBackendError);
    const failure = error as StateBackendError;
    expect(failure.name).toBe('StateBackendError');
    expect(failure.domain).toBe('external');
    expect(failure.message).toContain(OPERATOR);
    expect(failure.message).toContain(dir);
    expect(failure.cause).toBeInstanceOf(Error);
  });

  it('refuses a value it cannot serialize, naming the state', async () => {
    const backend = await openLevel(tempDir());
    const state = backend.getState(new ValueStateDescriptor<unknown>('fn'));
    setKey(backend, 'k');
    expect(() => state.update({ f: () => 1 })).toThrow(
      /value state "fn" cannot be stored by the level state backend/,
    );
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deserialize } from 'node:v8';
import {
  AggregatingStateDescriptor,
  Duration,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
} from '@nimble/api';
import type { AggregateFunction, Key } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assignToKeyGroup,
  decodeKey,
  encodeKey,
  InvalidKeyError,
  KeyGroupRange,
  keyId,
} from '../src/keys/index.js';
import { IllegalStateError, JobDefinitionError } from '../src/errors.js';
import { CorruptedSnapshotError, createKeyedStateBackend } from '../src/state/index.js';
import type {
  KeyedSnapshotKind,
  KeyedStateBackend,
  KeyedStateBackendOptions,
  StateBackendKind,
} from '../src/state/index.js';
import { parseNativeBlock } from '../src/state/level-snapshot.js';

const MAX_PARALLELISM = 128;
const OPERATOR = 'KeyedProcess(snapshot) (1/1)';
const TTL_MS = 60_000;
const T0 = 1_000_000;
const FULL_RANGE = new KeyGroupRange(0, MAX_PARALLELISM - 1);

const sum = (a: number, b: number): number => a + b;
const average: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (value, acc) => ({ sum: acc.sum + value, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};

/** Keys of every type, spread over both halves of the key groups (checked below). */
const KEYS: Key[] = [
  'alice',
  'bob',
  '',
  'ünïcødé',
  '\u0000 starts with NUL',
  42,
  -7,
  0,
  3.5,
  12345678901234567890n,
  -5n,
  true,
  false,
  ['tenant-1', 9],
  [['nested'], 2n, 1.25],
];

function keyGroupOf(key: Key): number {
  return assignToKeyGroup(key, MAX_PARALLELISM);
}

let now = T0;

function ttl(): StateTtlConfig {
  return StateTtlConfig.newBuilder(Duration.ofMillis(TTL_MS)).build();
}

/** The states every round-trip test uses; new descriptors per backend. */
function descriptors() {
  return {
    count: new ValueStateDescriptor<number>('count'),
    events: new ListStateDescriptor<unknown>('events'),
    seen: new MapStateDescriptor<string | number | bigint, number>('seen'),
    total: new ReducingStateDescriptor<number>('total', sum),
    avg: new AggregatingStateDescriptor('avg', average),
    session: new ValueStateDescriptor<string>('session').enableTimeToLive(ttl()),
    recent: new ListStateDescriptor<number>('recent').enableTimeToLive(ttl()),
  };
}

function statesOf(backend: KeyedStateBackend) {
  const d = descriptors();
  return {
    count: backend.getState(d.count),
    events: backend.getState(d.events),
    seen: backend.getState(d.seen),
    total: backend.getState(d.total),
    avg: backend.getState(d.avg),
    session: backend.getState(d.session),
    recent: backend.getState(d.recent),
  };
}

function setKey(backend: KeyedStateBackend, key: Key): void {
  backend.setCurrentKey(key, keyGroupOf(key));
}

/** Writes the state `expected(i)` describes for every key. */
function populate(backend: KeyedStateBackend): void {
  const s = statesOf(backend);
  KEYS.forEach((key, i) => {
    setKey(backend, key);
    s.count.update(i * 10 + 1);
    s.events.add(`e${i}`);
    s.events.add({ n: i });
    s.seen.put('a', i);
    s.seen.put(i, i + 0.5);
    s.seen.put(5n, -i);
    s.total.add(i);
    s.total.add(100);
    s.avg.add(i);
    s.avg.add(i + 2);
    s.session.update(`s${i}`);
    s.recent.add(i);
    if (i % 2 === 0) {
      s.count.setCurrentNamespace('w1');
      s.count.update(i * 100);
      s.count.setCurrentNamespace('');
      s.total.setCurrentNamespace('w1');
      s.total.add(1);
      s.total.setCurrentNamespace('');
    }
    if (i % 3 === 0) {
      s.events.setCurrentNamespace('w2');
      s.events.addAll([i, [i]]);
      s.events.setCurrentNamespace('');
    }
  });
}

/** What populate() stored for KEYS[i], read through the state API. */
function expected(i: number) {
  return {
    count: [i * 10 + 1, i % 2 === 0 ? i * 100 : undefined],
    events: [[`e${i}`, { n: i }], i % 3 === 0 ? [i, [i]] : []],
    seen: [
      ['a', i],
      [i, i + 0.5],
      [5n, -i],
    ],
    total: [i + 100, i % 2 === 0 ? 1 : undefined],
    avg: i + 1,
    session: `s${i}`,
    recent: [i],
  };
}

/** Reads every state of `key` through the state API (no state changes: TTL is OnCreateAndWrite). */
function read(backend: KeyedStateBackend, key: Key) {
  const s = statesOf(backend);
  setKey(backend, key);
  const inNamespace = <T>(
    state: { setCurrentNamespace(ns: string): void },
    ns: string,
    f: () => T,
  ): T => {
    state.setCurrentNamespace(ns);
    const result = f();
    state.setCurrentNamespace('');
    return result;
  };
  return {
    count: [s.count.value(), inNamespace(s.count, 'w1', () => s.count.value())],
    events: [[...s.events.get()], inNamespace(s.events, 'w2', () => [...s.events.get()])],
    seen: [...s.seen.entries()],
    total: [s.total.get(), inNamespace(s.total, 'w1', () => s.total.get())],
    avg: s.avg.get(),
    session: s.session.value(),
    recent: [...s.recent.get()],
  };
}

/** Changes every state of every key (in place where hashmap hands out the stored object). */
function mutate(backend: KeyedStateBackend): void {
  const s = statesOf(backend);
  for (const key of KEYS) {
    setKey(backend, key);
    s.count.update(-1);
    (s.events.get() as unknown[]).push('in place');
    s.events.add('late');
    s.seen.put('a', -1);
    s.total.add(1000);
    s.avg.add(1000);
    s.session.update('changed');
    s.recent.clear();
  }
  setKey(backend, 'newcomer');
  s.count.update(7);
}

function blocksOf(
  blocks: readonly Uint8Array[],
  first = 0,
): { keyGroup: number; bytes: Uint8Array }[] {
  return blocks.map((bytes, i) => ({ keyGroup: first + i, bytes }));
}

/** Entries and tombstones of native blocks. */
function countNative(blocks: readonly Uint8Array[]): { entries: number; tombstones: number } {
  let entries = 0;
  let tombstones = 0;
  for (const bytes of blocks) {
    if (bytes.length === 0) continue;
    parseNativeBlock(bytes).forEachEntry((_state, _key, value) => {
      entries++;
      if (value === null) tombstones++;
    });
  }
  return { entries, tombstones };
}

const backends: KeyedStateBackend[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  now = T0;
});

async function openBackend(
  kind: StateBackendKind,
  options: Partial<KeyedStateBackendOptions> = {},
): Promise<KeyedStateBackend> {
  let localDir: string | undefined;
  if (kind === 'level') {
    localDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-snapshot-'));
    dirs.push(localDir);
  }
  const backend = createKeyedStateBackend({
    kind,
    operatorName: OPERATOR,
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: FULL_RANGE,
    localDir,
    ttlTimeProvider: () => now,
    ...options,
  });
  await backend.open();
  backends.push(backend);
  return backend;
}

const OTHER: Record<StateBackendKind, StateBackendKind> = { hashmap: 'level', level: 'hashmap' };

describe('decodeKey and keyId', () => {
  it('decodeKey inverts encodeKey for every kind of key; -0 comes back as 0', () => {
    const keys: Key[] = [
      'alice',
      '',
      'ünïcødé 😀',
      '\u0000x',
      0,
      42,
      -7,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 53,
      3.5,
      -1e-300,
      1e300,
      0n,
      -5n,
      12345678901234567890n,
      true,
      false,
      [],
      ['a', 1],
      [['x', [true]], 2n, -0.5, ''],
    ];
    for (const key of keys) expect(decodeKey(encodeKey(key))).toEqual(key);
    expect(Object.is(decodeKey(encodeKey(-0)), 0)).toBe(true);
    expect(typeof decodeKey(encodeKey(2 ** 53))).toBe('number');
  });

  it('decodeKey refuses bytes encodeKey does not write', () => {
    expect(() => decodeKey(Uint8Array.of(0x09, 1))).toThrow(InvalidKeyError);
    expect(() => decodeKey(new Uint8Array(0))).toThrow(InvalidKeyError);
    expect(() => decodeKey(encodeKey(42).subarray(0, 5))).toThrow(InvalidKeyError);
    expect(() => decodeKey(Uint8Array.of(...encodeKey(['a']), 0))).toThrow(
      /after the last element/,
    );
    expect(() => decodeKey(Uint8Array.of(0x04, 0x30, 0x37))).toThrow(/bigint/);
  });

  it('keyId keeps a string starting with NUL apart from the array with the same bytes', () => {
    const array: Key = ['x'];
    const lookalike = '\u0000' + Buffer.from(encodeKey(array)).toString('latin1');
    expect(keyId(lookalike)).not.toBe(keyId(array));
    expect(keyId('plain')).toBe('plain');
  });

  it('hashmap keeps such a string and the array apart, through a snapshot too', async () => {
    const array: Key = ['x'];
    const lookalike = '\u0000' + Buffer.from(encodeKey(array)).toString('latin1');
    const backend = await openBackend('hashmap');
    const state = backend.getState(new ValueStateDescriptor<string>('v'));
    setKey(backend, array);
    state.update('array');
    setKey(backend, lookalike);
    state.update('string');
    const snapshot = backend.snapshot(1, 'canonical');
    const blocks = await snapshot.materialize();
    const restored = await openBackend('hashmap');
    await restored.restore('canonical', blocksOf(blocks));
    const again = restored.getState(new ValueStateDescriptor<string>('v'));
    setKey(restored, array);
    expect(again.value()).toBe('array');
    setKey(restored, lookalike);
    expect(again.value()).toBe('string');
  });
});

describe.each(['hashmap', 'level'] as const)('%s snapshots', (kind: StateBackendKind) => {
  it('the keys used cover both halves of the key groups', () => {
    const low = KEYS.filter((key) => keyGroupOf(key) < 64).length;
    expect(low).toBeGreaterThan(2);
    expect(KEYS.length - low).toBeGreaterThan(2);
  });

  it.each(['canonical', 'native'] as const)(
    '%s: blocks hold the state as of snapshot(), not later changes; restore reads every value back',
    async (format) => {
      const backend = await openBackend(kind);
      populate(backend);
      const snapshot = backend.snapshot(1, format);
      expect(snapshot.kind).toBe(
        format === 'native' && kind === 'level' ? 'level-full' : 'canonical',
      );
      mutate(backend);
      await backend.flush(); // the later changes are in LevelDB before materialize reads it
      const blocks = await snapshot.materialize();
      snapshot.release();
      snapshot.release();
      await expect(snapshot.materialize()).rejects.toThrow(/released/);
      expect(blocks).toHaveLength(MAX_PARALLELISM);
      const used = new Set(KEYS.map(keyGroupOf));
      blocks.forEach((block, keyGroup) => expect(block.length > 0).toBe(used.has(keyGroup)));

      // The live state has the changes.
      expect(read(backend, 'alice').count).toEqual([-1, 0]);
      expect(read(backend, 'newcomer').count).toEqual([7, undefined]);

      const targets = snapshot.kind === 'canonical' ? [kind, OTHER[kind]] : [kind];
      for (const target of targets) {
        const restored = await openBackend(target);
        await restored.restore(snapshot.kind, blocksOf(blocks));
        KEYS.forEach((key, i) => expect(read(restored, key)).toEqual(expected(i)));
        expect(read(restored, 'newcomer').count).toEqual([undefined, undefined]);
        expect(await restored.numStoredEntries!('count')).toBe(
          KEYS.length + Math.ceil(KEYS.length / 2),
        );
        // TTL timestamps are restored: the entries expire TTL_MS after they were written.
        now = T0 + TTL_MS - 1;
        expect(read(restored, 'bob').session).toBe('s1');
        now = T0 + TTL_MS;
        expect(read(restored, 'bob').session).toBeUndefined();
        expect(read(restored, 'bob').recent).toEqual([]);
        now = T0;
      }
    },
  );

  it('restoring a narrower range: each subtask gets only the keys of its key groups', async () => {
    const backend = await openBackend(kind);
    populate(backend);
    const snapshot = backend.snapshot(3, 'native');
    const blocks = await snapshot.materialize();
    snapshot.release();
    for (const range of [new KeyGroupRange(0, 63), new KeyGroupRange(64, 127)]) {
      const restored = await openBackend(kind, { keyGroupRange: range });
      const mine = blocksOf(blocks).filter(({ keyGroup }) => range.contains(keyGroup));
      await restored.restore(snapshot.kind, mine);
      const ownKeys = KEYS.map((key, i) => ({ key, i })).filter(({ key }) =>
        range.contains(keyGroupOf(key)),
      );
      for (const { key, i } of ownKeys) expect(read(restored, key)).toEqual(expected(i));
      const evenOwn = ownKeys.filter(({ i }) => i % 2 === 0).length;
      expect(await restored.numStoredEntries!('count')).toBe(ownKeys.length + evenOwn);
      expect(await restored.numStoredEntries!('session')).toBe(ownKeys.length);
      const other = KEYS.find((key) => !range.contains(keyGroupOf(key)))!;
      expect(() => setKey(restored, other)).toThrow(/routed to the wrong subtask/);
    }
    const narrow = await openBackend(kind, { keyGroupRange: new KeyGroupRange(0, 63) });
    await expect(
      narrow.restore(snapshot.kind, [{ keyGroup: 64, bytes: blocks[64]! }]),
    ).rejects.toThrow(IllegalStateError);
  });

  it('a restored state asked for as another kind, or without its TTL, is refused by name', async () => {
    const source = await openBackend('hashmap');
    populate(source);
    const snapshot = source.snapshot(1, 'canonical');
    const blocks = await snapshot.materialize();
    const restored = await openBackend(kind);
    await restored.restore('canonical', blocksOf(blocks));
    expect(() => restored.getState(new ValueStateDescriptor('events'))).toThrow(
      `${OPERATOR}: state "events" is registered as list state and cannot be obtained as value state`,
    );
    expect(() => restored.getState(new ValueStateDescriptor('session'))).toThrow(
      `state "session" is registered as value (with TTL) state and cannot be obtained as value state`,
    );
    expect(() =>
      restored.getState(new ListStateDescriptor('events').enableTimeToLive(ttl())),
    ).toThrow(JobDefinitionError);
    // The right kind still works.
    setKey(restored, 'alice');
    expect([...restored.getState(new ListStateDescriptor('events')).get()]).toEqual([
      'e0',
      { n: 0 },
    ]);
  });

  it('a restored state that this run never registers is in its next snapshot', async () => {
    const source = await openBackend(kind);
    populate(source);
    const first = source.snapshot(1, 'native');
    const blocks = await first.materialize();
    first.release();
    const middle = await openBackend(kind);
    await middle.restore(first.kind, blocksOf(blocks));
    // Only 'count' is registered and changed; the other states are carried as restored.
    const count = middle.getState(descriptors().count);
    setKey(middle, 'alice');
    count.update(-5);
    const second = middle.snapshot(2, 'canonical');
    const again = await second.materialize();
    second.release();
    const last = await openBackend(OTHER[kind]);
    await last.restore('canonical', blocksOf(again));
    KEYS.forEach((key, i) =>
      expect(read(last, key)).toEqual(
        key === 'alice' ? { ...expected(i), count: [-5, 0] } : expected(i),
      ),
    );
  });

  it('restore is refused after getState, and for damaged blocks', async () => {
    const backend = await openBackend(kind);
    backend.getState(new ValueStateDescriptor('v'));
    await expect(backend.restore('canonical', [])).rejects.toThrow(/after getState \("v"\)/);
    const fresh = await openBackend(kind);
    await expect(
      fresh.restore('canonical', [{ keyGroup: 3, bytes: Uint8Array.of(1, 2, 3) }]),
    ).rejects.toThrow(CorruptedSnapshotError);
  });

  it('TTL background cleanup goes on during and after a snapshot', async () => {
    const backend = await openBackend(kind);
    const state = backend.getState(
      new ValueStateDescriptor<number>('t').enableTimeToLive(
        StateTtlConfig.newBuilder(Duration.ofMillis(TTL_MS)).cleanupIncrementally(1000).build(),
      ),
    );
    for (let i = 0; i < 100; i++) {
      setKey(backend, `k${i}`);
      state.update(i);
    }
    await backend.flush();
    const snapshot = backend.snapshot(1, 'native');
    now = T0 + TTL_MS;
    backend.maintain();
    await backend.flush();
    backend.maintain(); // level: the first step may have scanned part of the key groups
    await backend.flush();
    expect(await backend.numStoredEntries!('t')).toBe(0);
    const restored = await openBackend(kind);
    await restored.restore(snapshot.kind, blocksOf(await snapshot.materialize()));
    snapshot.release();
    expect(await restored.numStoredEntries!('t')).toBe(100);
  });
});

describe('canonical snapshots across backends', () => {
  it('hashmap and level write the same content for the same state', async () => {
    const heap = await openBackend('hashmap');
    const level = await openBackend('level', { writeBatchSize: 7 });
    for (const backend of [heap, level]) {
      populate(backend);
      // Many keys per key group, written in an order that is not the key bytes' order.
      const many = backend.getState(new ValueStateDescriptor<number>('many'));
      for (let i = 999; i >= 0; i--) {
        setKey(backend, i % 2 === 0 ? i : `m${i}`);
        many.setCurrentNamespace(i % 3 === 0 ? `w${i % 7}` : '');
        many.update(i);
      }
    }
    const heapBlocks = await heap.snapshot(1, 'canonical').materialize();
    const levelSnapshot = level.snapshot(1, 'canonical');
    const levelBlocks = await levelSnapshot.materialize();
    levelSnapshot.release();
    expect(levelBlocks.map((b) => b.length > 0)).toEqual(heapBlocks.map((b) => b.length > 0));
    const decode = (blocks: Uint8Array[]) =>
      blocks.map((b) => (b.length === 0 ? [] : deserialize(b)));
    const decoded = decode(heapBlocks);
    expect(decode(levelBlocks)).toEqual(decoded);

    // Entries are in key-bytes order, then namespace order.
    for (const block of decoded as { name: string; entries: unknown[] }[][]) {
      for (const { entries } of block) {
        for (let i = 3; i < entries.length; i += 3) {
          const order = Buffer.compare(entries[i - 3] as Uint8Array, entries[i] as Uint8Array);
          expect(
            order < 0 || (order === 0 && (entries[i - 2] as string) < (entries[i + 1] as string)),
          ).toBe(true);
        }
      }
    }
    expect(decoded.flat().filter((s) => (s as { name: string }).name === 'many').length).toBe(
      MAX_PARALLELISM,
    );

    // The documented layout: states by name, flat [keyBytes, namespace, value] entries.
    const alice = decoded[keyGroupOf('alice')] as {
      name: string;
      kind: string;
      entries: unknown[];
    }[];
    expect(alice.map((s) => [s.name, s.kind])).toEqual([
      ['avg', 'aggregating'],
      ['count', 'value'],
      ['events', 'list'],
      ['many', 'value'],
      ['recent', 'list+ttl'],
      ['seen', 'map'],
      ['session', 'value+ttl'],
      ['total', 'reducing'],
    ]);
    const count = alice.find((s) => s.name === 'count')!;
    const at = count.entries.findIndex(
      (e) => e instanceof Uint8Array && Buffer.from(e).equals(Buffer.from(encodeKey('alice'))),
    );
    expect(count.entries.slice(at, at + 6)).toEqual([
      new Uint8Array(encodeKey('alice')),
      '',
      1,
      new Uint8Array(encodeKey('alice')),
      'w1',
      0,
    ]);
    const session = alice.find((s) => s.name === 'session')!;
    const sessionAt = session.entries.findIndex(
      (e) => e instanceof Uint8Array && Buffer.from(e).equals(Buffer.from(encodeKey('alice'))),
    );
    expect(session.entries[sessionAt + 2]).toEqual(['s0', T0]);
  });

  it('a level-full snapshot cannot be restored into hashmap', async () => {
    const level = await openBackend('level');
    populate(level);
    const snapshot = level.snapshot(1, 'native');
    const blocks = await snapshot.materialize();
    snapshot.release();
    const heap = await openBackend('hashmap');
    await expect(heap.restore('level-full', blocksOf(blocks))).rejects.toThrow(
      /native format .* take a savepoint to change the backend/,
    );
  });
});

describe('level incremental snapshots', () => {
  const value = () => new ValueStateDescriptor<number>('v');
  const list = () => new ListStateDescriptor<number>('l');

  it.each(['native', 'canonical'] as const)(
    'close() lets a %s snapshot being read finish before it closes LevelDB',
    async (format) => {
      // A task that ends while a checkpoint of it is still being written closes its backend.
      const backend = await openBackend('level');
      const v = backend.getState(value());
      KEYS_50.forEach((key, i) => {
        setKey(backend, key);
        v.update(i);
      });
      const snapshot = backend.snapshot(1, format);
      const blocks = snapshot.materialize();
      await backend.close();
      const read = await blocks;
      snapshot.release();
      expect(read.filter((b) => b.length > 0).length).toBeGreaterThan(0);
      const restored = await openBackend('level');
      await restored.restore(snapshot.kind, blocksOf(read));
      expect(readKeys(restored, KEYS_50.slice(0, 3))).toEqual([
        ['k0', 0, []],
        ['k1', 1, []],
        ['k2', 2, []],
      ]);
    },
  );

  it('a delta lists an entry once, also when it was evicted from the cache and written again', async () => {
    // No read cache: every batch written evicts its slots, so each write of a key is a new slot.
    const backend = await openBackend('level', { readCacheSize: 0, writeBatchSize: 1 });
    const v = backend.getState(value());
    setKey(backend, 'k0');
    v.update(0);
    const s1 = backend.snapshot(1, 'native');
    await s1.materialize();
    s1.release();
    backend.notifyCheckpointComplete(1);
    for (let round = 1; round <= 5; round++) {
      for (const key of ['k0', 'k1']) {
        setKey(backend, key);
        v.update(round);
      }
      await backend.flush();
    }
    const s2 = backend.snapshot(2, 'native');
    expect(s2.kind).toBe('level-delta');
    expect(countNative(await s2.materialize())).toEqual({ entries: 2, tombstones: 0 });
    s2.release();
  });

  it('with incremental off (state.backend.incremental=false) every native snapshot is full', async () => {
    const backend = await openBackend('level', { incremental: false });
    const v = backend.getState(value());
    for (let id = 1; id <= 3; id++) {
      setKey(backend, `k${id}`);
      v.update(id);
      const snapshot = backend.snapshot(id, 'native');
      await snapshot.materialize();
      snapshot.release();
      backend.notifyCheckpointComplete(id);
      expect([snapshot.kind, snapshot.baseCheckpointId]).toEqual(['level-full', undefined]);
    }
  });

  /** Every key's value and list, as the state API reads them. */
  function readKeys(backend: KeyedStateBackend, keys: readonly string[]) {
    const v = backend.getState(value());
    const l = backend.getState(list());
    return keys.map((key) => {
      setKey(backend, key);
      return [key, v.value(), [...l.get()]];
    });
  }

  async function restoreChain(
    chain: { kind: KeyedSnapshotKind; blocks: Uint8Array[] }[],
  ): Promise<KeyedStateBackend> {
    const restored = await openBackend('level');
    // A completed snapshot before the restore: the next one must still not be a delta against it.
    restored.snapshot(100, 'native').release();
    restored.notifyCheckpointComplete(100);
    for (const { kind, blocks } of chain) await restored.restore(kind, blocksOf(blocks));
    return restored;
  }

  const KEYS_50 = Array.from({ length: 50 }, (_, i) => `k${i}`);
  const ALL_KEYS = [...KEYS_50, 'n0', 'n1', 'n2'];

  it('full, then deltas of the changed entries only; a chain restores the live state; aborted changes are kept', async () => {
    // Tiny batches: snapshots happen with writes in the write-back cache and in flight.
    const backend = await openBackend('level', { writeBatchSize: 4 });
    const v = backend.getState(value());
    const l = backend.getState(list());
    KEYS_50.forEach((key, i) => {
      setKey(backend, key);
      v.update(i);
      l.add(i);
    });

    const s1 = backend.snapshot(1, 'native');
    expect([s1.kind, s1.baseCheckpointId]).toEqual(['level-full', undefined]);
    const full1 = await s1.materialize();
    s1.release();
    expect(countNative(full1)).toEqual({ entries: 100, tombstones: 0 });
    backend.notifyCheckpointComplete(1);

    for (let i = 0; i < 10; i++) {
      setKey(backend, `k${i}`);
      v.update(1000 + i);
      v.update(2000 + i); // twice: one entry in the delta
    }
    for (let i = 10; i < 15; i++) {
      setKey(backend, `k${i}`);
      v.clear(); // existed in the full snapshot: a tombstone
    }
    for (const key of ['n0', 'n1', 'n2']) {
      setKey(backend, key);
      v.update(7);
    }
    const atTwo = readKeys(backend, ALL_KEYS);
    const s2 = backend.snapshot(2, 'native');
    expect([s2.kind, s2.baseCheckpointId]).toEqual(['level-delta', 1]);
    setKey(backend, 'k20');
    v.update(999); // after snapshot(2): in the next delta, not in this one
    setKey(backend, 'k0');
    v.update(5555); // in this delta with its value at snapshot(2), and in the next one
    await backend.flush();
    const delta2 = await s2.materialize();
    s2.release();
    expect(countNative(delta2)).toEqual({ entries: 18, tombstones: 5 });
    backend.notifyCheckpointComplete(2);

    const atTwoRestored = await restoreChain([
      { kind: 'level-full', blocks: full1 },
      { kind: 'level-delta', blocks: delta2 },
    ]);
    expect(readKeys(atTwoRestored, ALL_KEYS)).toEqual(atTwo);
    expect(atTwo.find(([key]) => key === 'k20')).toEqual(['k20', 20, [20]]);
    expect(atTwo.find(([key]) => key === 'k0')).toEqual(['k0', 2000, [0]]);
    expect(atTwo.find(([key]) => key === 'k12')).toEqual(['k12', undefined, [12]]);

    // Checkpoint 3 is taken and never completes (aborted).
    for (let i = 30; i < 35; i++) {
      setKey(backend, `k${i}`);
      v.update(-i);
    }
    const s3 = backend.snapshot(3, 'native');
    expect([s3.kind, s3.baseCheckpointId]).toEqual(['level-delta', 2]);
    expect(countNative(await s3.materialize())).toEqual({ entries: 7, tombstones: 0 });
    s3.release();
    setKey(backend, 'k40');
    v.update(40_000);
    setKey(backend, 'k0');
    l.add(-1);
    setKey(backend, 'n1');
    v.clear(); // created after the full snapshot, deleted before this delta: a tombstone
    const s4 = backend.snapshot(4, 'native');
    expect([s4.kind, s4.baseCheckpointId]).toEqual(['level-delta', 2]);
    const delta4 = await s4.materialize();
    s4.release();
    // k20, k0 and k30..k34 from the aborted checkpoint 3, then k40, k0's list and n1.
    expect(countNative(delta4)).toEqual({ entries: 10, tombstones: 1 });
    backend.notifyCheckpointComplete(4);

    const live = readKeys(backend, ALL_KEYS);
    const restored = await restoreChain([
      { kind: 'level-full', blocks: full1 },
      { kind: 'level-delta', blocks: delta2 },
      { kind: 'level-delta', blocks: delta4 },
    ]);
    expect(readKeys(restored, ALL_KEYS)).toEqual(live);
    expect(live.find(([key]) => key === 'k0')).toEqual(['k0', 5555, [0, -1]]);
    expect(live.find(([key]) => key === 'k33')).toEqual(['k33', -33, [33]]);
    expect(await restored.numStoredEntries!('v')).toBe(50 - 5 + 2);

    // The first native snapshot after a restore is full.
    const afterRestore = restored.snapshot(5, 'native');
    expect(afterRestore.kind).toBe('level-full');
    afterRestore.release();
  });

  it('every 10th snapshot of a chain is full; savepoints and unknown ids do not move the base', async () => {
    const backend = await openBackend('level');
    const v = backend.getState(value());
    const kinds: KeyedSnapshotKind[] = [];
    for (let id = 1; id <= 11; id++) {
      setKey(backend, `k${id}`);
      v.update(id);
      const snapshot = backend.snapshot(id, 'native');
      kinds.push(snapshot.kind);
      snapshot.release();
      backend.notifyCheckpointComplete(id);
    }
    expect(kinds).toEqual(['level-full', ...Array<string>(9).fill('level-delta'), 'level-full']);

    setKey(backend, 'x');
    v.update(1);
    const savepoint = backend.snapshot(12, 'canonical');
    expect(savepoint.kind).toBe('canonical');
    savepoint.release();
    backend.notifyCheckpointComplete(12);
    backend.notifyCheckpointComplete(99);
    const next = backend.snapshot(13, 'native');
    expect([next.kind, next.baseCheckpointId]).toEqual(['level-delta', 11]);
    // The change before the savepoint is in the delta.
    expect(countNative(await next.materialize())).toEqual({ entries: 1, tombstones: 0 });
    next.release();
  });

  it('the native format carries state names: a chain restores into a LevelDB with other state ids', async () => {
    // 'v' gets id 0 and 'l' id 1 here; a key of a lower key group holding only 'l' makes the
    // restoring LevelDB meet 'l' first and give it id 0.
    const [low, high] = ['a', 'b', 'c', 'd'].sort((x, y) => keyGroupOf(x) - keyGroupOf(y));
    expect(keyGroupOf(low!)).toBeLessThan(keyGroupOf(high!));
    const backend = await openBackend('level');
    const v = backend.getState(value());
    const l = backend.getState(list());
    setKey(backend, high!);
    v.update(1);
    setKey(backend, low!);
    l.add(2);
    const s1 = backend.snapshot(1, 'native');
    const full = await s1.materialize();
    s1.release();
    const restored = await openBackend('level');
    await restored.restore('level-full', blocksOf(full));
    expect(readKeys(restored, [low!, high!])).toEqual([
      [low, undefined, [2]],
      [high, 1, []],
    ]);
    expect(() => restored.getState(new MapStateDescriptor('v'))).toThrow(/state "v"/);
  });
});

import {
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '@nimble/api';
import type { Key } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import { assignToKeyGroup, KeyGroupRange } from '../src/keys/index.js';
import { createKeyedStateBackend } from '../src/state/index.js';
import type { KeyedStateBackend, KeyedStateSnapshot } from '../src/state/index.js';

// The hashmap backend's snapshots are copy-on-write per key group (docs/state.md, "Snapshots"):
// snapshot() copies nothing but the current key's group, and a key group is taken for the
// snapshot before the first access after it. Values are held by reference, so what users do in
// place (without update()) after the barrier must not reach the snapshot.

const MAX_PARALLELISM = 128;
const OPERATOR = 'KeyedProcess(cow) (1/1)';

const open: KeyedStateBackend[] = [];

afterEach(async () => {
  for (const backend of open.splice(0)) await backend.close();
});

async function openHashmap(range = new KeyGroupRange(0, MAX_PARALLELISM - 1)) {
  const backend = createKeyedStateBackend({
    kind: 'hashmap',
    operatorName: OPERATOR,
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: range,
  });
  await backend.open();
  open.push(backend);
  return backend;
}

function setKey(backend: KeyedStateBackend, key: Key): void {
  backend.setCurrentKey(key, assignToKeyGroup(key, MAX_PARALLELISM));
}

interface Spend {
  total: number;
  items: string[];
}

const spendDescriptor = () => new ValueStateDescriptor<Spend>('spend');
const windowsDescriptor = () =>
  new ReducingStateDescriptor<number[]>('windows', (a, b) => a.map((x, i) => x + b[i]!));

/** Restores `snapshot` into a fresh hashmap backend. */
async function restored(snapshot: KeyedStateSnapshot): Promise<KeyedStateBackend> {
  const blocks = await snapshot.materialize();
  snapshot.release();
  const backend = await openHashmap();
  await backend.restore(
    snapshot.kind,
    blocks.map((bytes, keyGroup) => ({ keyGroup, bytes })),
  );
  return backend;
}

const USERS = Array.from({ length: 300 }, (_, i) => `user-${i}`);

describe('hashmap copy-on-write snapshots', () => {
  it('values changed in place after snapshot(), without update(), stay as they were in the snapshot', async () => {
    const backend = await openHashmap();
    const spend = backend.getState(spendDescriptor());
    const windows = backend.getState(windowsDescriptor());
    for (const [i, user] of USERS.entries()) {
      setKey(backend, user);
      spend.update({ total: i, items: [`item-${i}`] });
      windows.setCurrentNamespace('w1');
      windows.add([i, 1]);
      windows.setCurrentNamespace('');
    }
    const snapshot = backend.snapshot(1, 'native');
    // What the window fast path and user code do: mutate the stored objects in place.
    for (const user of USERS) {
      setKey(backend, user);
      const value = spend.value()!;
      value.total += 1000;
      value.items.push('after the barrier');
      windows.setCurrentNamespace('w1');
      (windows.get() as number[])[0] = -1;
      windows.setCurrentNamespace('w2');
      windows.add([7, 7]);
      windows.setCurrentNamespace('');
    }
    setKey(backend, 'user-0');
    spend.clear();
    setKey(backend, 'newcomer');
    spend.update({ total: 1, items: [] });

    const copy = await restored(snapshot);
    const spendCopy = copy.getState(spendDescriptor());
    const windowsCopy = copy.getState(windowsDescriptor());
    for (const [i, user] of USERS.entries()) {
      setKey(copy, user);
      expect(spendCopy.value()).toEqual({ total: i, items: [`item-${i}`] });
      windowsCopy.setCurrentNamespace('w1');
      expect(windowsCopy.get()).toEqual([i, 1]);
      windowsCopy.setCurrentNamespace('w2');
      expect(windowsCopy.get()).toBeUndefined();
      windowsCopy.setCurrentNamespace('');
    }
    setKey(copy, 'newcomer');
    expect(spendCopy.value()).toBeUndefined();
    // The live state has every change.
    setKey(backend, 'user-1');
    expect(spend.value()).toEqual({ total: 1001, items: ['item-1', 'after the barrier'] });
    setKey(backend, 'user-0');
    expect(spend.value()).toBeUndefined();
  });

  it('lists appended to and maps changed in place after snapshot() are not in it', async () => {
    const backend = await openHashmap();
    const list = backend.getState(new ListStateDescriptor<number>('list'));
    const map = backend.getState(new MapStateDescriptor<string, number[]>('map'));
    for (const user of USERS) {
      setKey(backend, user);
      list.add(1);
      map.put('a', [1]);
    }
    const snapshot = backend.snapshot(1, 'canonical');
    for (const user of USERS) {
      setKey(backend, user);
      list.add(2);
      map.get('a')!.push(2);
      map.put('b', [3]);
    }
    const copy = await restored(snapshot);
    const listCopy = copy.getState(new ListStateDescriptor<number>('list'));
    const mapCopy = copy.getState(new MapStateDescriptor<string, number[]>('map'));
    for (const user of USERS) {
      setKey(copy, user);
      expect([...listCopy.get()]).toEqual([1]);
      expect([...mapCopy.entries()]).toEqual([['a', [1]]]);
    }
  });

  it('the current key at snapshot() is taken at once: it may be used without setting it again', async () => {
    const backend = await openHashmap();
    const spend = backend.getState(spendDescriptor());
    setKey(backend, 'alice');
    spend.update({ total: 1, items: [] });
    const snapshot = backend.snapshot(1, 'native');
    spend.value()!.total = 2; // no setCurrentKey between the barrier and this change
    const copy = await restored(snapshot);
    setKey(copy, 'alice');
    expect(copy.getState(spendDescriptor()).value()).toEqual({ total: 1, items: [] });
  });

  it('overlapping snapshots each hold the state of their own snapshot() call', async () => {
    const backend = await openHashmap();
    const spend = backend.getState(spendDescriptor());
    const write = (total: number) => {
      for (const user of USERS) {
        setKey(backend, user);
        const value = spend.value();
        if (value === undefined) spend.update({ total, items: [] });
        else value.total = total; // in place, as the window fast path does
      }
    };
    write(1);
    const first = backend.snapshot(1, 'native');
    // Half the key groups are touched between the two snapshots, half only after both.
    for (const user of USERS.slice(0, 150)) {
      setKey(backend, user);
      spend.value()!.total = 2;
    }
    const second = backend.snapshot(2, 'canonical');
    write(3);
    const firstCopy = await restored(first);
    const secondCopy = await restored(second);
    for (const [i, user] of USERS.entries()) {
      setKey(firstCopy, user);
      expect(firstCopy.getState(spendDescriptor()).value()!.total).toBe(1);
      setKey(secondCopy, user);
      expect(secondCopy.getState(spendDescriptor()).value()!.total).toBe(i < 150 ? 2 : 1);
    }
  });

  it('key groups larger than the direct-encode limit are copied on access and encoded later', async () => {
    // Key group 5 holds many entries: the access after the barrier takes a V8 copy of it.
    const keys: string[] = [];
    let other = '';
    for (let i = 0; keys.length < 6000 || other === ''; i++) {
      const key = `k${i}`;
      const group = assignToKeyGroup(key, MAX_PARALLELISM);
      if (group === 5 && keys.length < 6000) keys.push(key);
      if (group === 6) other = key;
    }
    const backend = await openHashmap(new KeyGroupRange(5, 6));
    const spend = backend.getState(spendDescriptor());
    for (const [i, key] of keys.entries()) {
      setKey(backend, key);
      spend.update({ total: i, items: [] });
    }
    setKey(backend, other); // the current key's group is taken by snapshot() itself
    const snapshot = backend.snapshot(1, 'native');
    for (const key of keys) {
      setKey(backend, key);
      spend.value()!.total = -1;
    }
    const blocks = await snapshot.materialize();
    snapshot.release();
    const copy = await openHashmap(new KeyGroupRange(5, 6));
    await copy.restore(
      'canonical',
      blocks.map((bytes, i) => ({ keyGroup: 5 + i, bytes })),
    );
    const spendCopy = copy.getState(spendDescriptor());
    for (const [i, key] of keys.entries()) {
      setKey(copy, key);
      expect(spendCopy.value()!.total).toBe(i);
    }
  });

  it('a released snapshot stops taking key groups; a closed backend fails the snapshots it still owes', async () => {
    const backend = await openHashmap();
    const spend = backend.getState(spendDescriptor());
    for (const user of USERS) {
      setKey(backend, user);
      spend.update({ total: 1, items: [] });
    }
    const released = backend.snapshot(1, 'native');
    released.release();
    await expect(released.materialize()).rejects.toThrow(/released/);
    const pending = backend.snapshot(2, 'native');
    await backend.close();
    await expect(pending.materialize()).rejects.toThrow(/closed/);
  });
});

import type { Key } from '@nimble/api';
import { keyId } from '../keys/index.js';
import { AbstractKeyedStateBackend } from './abstract-keyed-state-backend.js';
import { KEEP } from './state-table.js';
import type { StateInfo, StateTable, TtlCleanupTarget } from './state-table.js';
import type { TtlSettings } from './ttl.js';

type KeyId = ReturnType<typeof keyId>;

/**
 * The entries of one state in one key group. The default namespace ('' — process functions) is
 * one Map lookup; other namespaces (windows) nest under the key. Measured against one nested
 * Map per key and against composite string keys in bench/state-bench.ts (docs/state.md).
 */
class HeapKeyGroup<V> {
  readonly byKey = new Map<KeyId, V>();
  readonly byKeyAndNamespace = new Map<KeyId, Map<string, V>>();
}

/**
 * The `hashmap` backend (Flink's HashMapStateBackend): values are stored by reference, so a
 * value changed after `update` (or a list returned by `get`) is changed in the state too.
 * Per state an array indexed by key group, so a key-group range can be iterated for snapshots.
 */
export class HeapKeyedStateBackend extends AbstractKeyedStateBackend {
  readonly kind = 'hashmap';
  /** `currentKeyGroup - firstKeyGroup`, -1 before the first key. */
  keyGroupIndex = -1;
  currentKeyId: KeyId = '';
  /** Changes with every setCurrentKey (and cleanup), so tables can cache per-key lookups. */
  keyVersion = 0;
  private readonly tables = new Map<string, HeapStateTable<unknown>>();
  private readonly cleanups: HeapTtlCleanup<unknown>[] = [];

  async open(): Promise<void> {
    this.beginOpen();
    this.status = 'open';
  }

  setCurrentKey(key: Key, keyGroup: number): void {
    if (keyGroup < this.firstKeyGroup || keyGroup > this.lastKeyGroup)
      throw this.keyGroupOutOfRange(key, keyGroup);
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
    this.keyGroupIndex = keyGroup - this.firstKeyGroup;
    this.currentKeyId = keyId(key);
    this.keyVersion++;
  }

  availability(): Promise<void> | undefined {
    return undefined;
  }

  maintain(): void {
    for (const cleanup of this.cleanups) cleanup.run();
    // Cleanup may have removed the current key's entries: drop what tables cached for it.
    this.keyVersion++;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this.status !== 'open') return;
    this.status = 'closed';
    this.tables.clear();
    this.cleanups.length = 0;
  }

  async numStoredEntries(stateName: string): Promise<number> {
    return this.tables.get(stateName)?.countEntries() ?? 0;
  }

  protected createTable(info: StateInfo): StateTable<unknown> {
    const table = new HeapStateTable<unknown>(this, this.lastKeyGroup - this.firstKeyGroup + 1);
    this.tables.set(info.name, table);
    return table;
  }

  protected addBackgroundCleanup(
    _info: StateInfo,
    table: StateTable<unknown>,
    target: TtlCleanupTarget<unknown>,
    ttl: TtlSettings,
  ): void {
    this.cleanups.push(new HeapTtlCleanup(table as HeapStateTable<unknown>, target, ttl));
  }
}

class HeapStateTable<V> implements StateTable<V> {
  readonly storesReferences = true;
  /** Indexed by key group - first key group of the range; created on first write. */
  readonly groups: (HeapKeyGroup<V> | undefined)[];

  constructor(
    private readonly backend: HeapKeyedStateBackend,
    numKeyGroups: number,
  ) {
    this.groups = new Array<HeapKeyGroup<V> | undefined>(numKeyGroups).fill(undefined);
  }

  // The current key's namespace map, cached for its key version: a read-modify-write of window
  // state (get, then put) looks the key up once instead of twice.
  private cachedVersion = -1;
  private cachedNamespaces: Map<string, V> | undefined;

  private namespacesOfCurrentKey(group: HeapKeyGroup<V>): Map<string, V> | undefined {
    const version = this.backend.keyVersion;
    if (this.cachedVersion === version) return this.cachedNamespaces;
    this.cachedNamespaces = group.byKeyAndNamespace.get(this.backend.currentKeyId);
    this.cachedVersion = version;
    return this.cachedNamespaces;
  }

  get(namespace: string): V | undefined {
    const group = this.groups[this.backend.keyGroupIndex];
    if (group === undefined) return undefined;
    if (namespace === '') return group.byKey.get(this.backend.currentKeyId);
    return this.namespacesOfCurrentKey(group)?.get(namespace);
  }

  put(namespace: string, value: V): void {
    const index = this.backend.keyGroupIndex;
    let group = this.groups[index];
    if (group === undefined) {
      if (index < 0) this.backend.getCurrentKey(); // throws: no current key
      group = this.groups[index] = new HeapKeyGroup<V>();
    }
    const id = this.backend.currentKeyId;
    if (namespace === '') {
      group.byKey.set(id, value);
      return;
    }
    const namespaces = this.namespacesOfCurrentKey(group);
    if (namespaces === undefined) {
      const created = new Map([[namespace, value]]);
      group.byKeyAndNamespace.set(id, created);
      this.cachedNamespaces = created;
    } else {
      namespaces.set(namespace, value);
    }
  }

  remove(namespace: string): void {
    const group = this.groups[this.backend.keyGroupIndex];
    if (group === undefined) return;
    const id = this.backend.currentKeyId;
    if (namespace === '') {
      group.byKey.delete(id);
      return;
    }
    const namespaces = this.namespacesOfCurrentKey(group);
    if (namespaces !== undefined && namespaces.delete(namespace) && namespaces.size === 0) {
      group.byKeyAndNamespace.delete(id);
      this.cachedNamespaces = undefined;
    }
  }

  /** ListStateTable.append for list states (V is an array): appends to the stored array in place. */
  append(namespace: string, elements: readonly unknown[]): void {
    const list = this.get(namespace) as unknown[] | undefined;
    if (list === undefined) this.put(namespace, elements.slice() as V);
    else for (const element of elements) list.push(element);
  }

  countEntries(): number {
    let count = 0;
    for (const group of this.groups) {
      if (group === undefined) continue;
      count += group.byKey.size;
      for (const namespaces of group.byKeyAndNamespace.values()) count += namespaces.size;
    }
    return count;
  }
}

/**
 * Flink's incremental heap TTL cleanup: each run checks up to cleanupBatchSize entries, resuming
 * from where the last run stopped. JS Map iterators stay valid while entries are added and
 * deleted, so the position survives the writes between runs.
 */
class HeapTtlCleanup<V> {
  private groupIndex = 0;
  /** 0: the default-namespace map of the group; 1: the per-key namespace maps. */
  private phase: 0 | 1 = 0;
  private outer: Iterator<[KeyId, V]> | Iterator<[KeyId, Map<string, V>]> | undefined;
  private inner: Iterator<[string, V]> | undefined;
  private innerKey: KeyId = '';
  private innerMap: Map<string, V> | undefined;

  constructor(
    private readonly table: HeapStateTable<V>,
    private readonly target: TtlCleanupTarget<V>,
    private readonly ttl: TtlSettings,
  ) {}

  run(): void {
    const now = this.ttl.now();
    const budget = this.ttl.cleanupBatchSize;
    const groups = this.table.groups;
    let checked = 0;
    // Stop after one full pass when the state holds fewer entries than the budget.
    let groupsStarted = 0;
    while (checked < budget) {
      if (this.inner !== undefined) {
        const next = this.inner.next();
        if (!next.done) {
          checked++;
          const [namespace, stored] = next.value;
          const result = this.target.expireStored(stored, now);
          if (result === KEEP) continue;
          const namespaces = this.innerMap!;
          if (result === undefined) {
            namespaces.delete(namespace);
            const group = groups[this.groupIndex];
            if (
              namespaces.size === 0 &&
              group?.byKeyAndNamespace.get(this.innerKey) === namespaces
            ) {
              group.byKeyAndNamespace.delete(this.innerKey);
            }
          } else {
            namespaces.set(namespace, result);
          }
          continue;
        }
        this.inner = undefined;
        this.innerMap = undefined;
      }
      const group = groups[this.groupIndex];
      if (this.outer === undefined) {
        if (groupsStarted > groups.length) break;
        if (group === undefined) {
          this.nextGroup();
          groupsStarted++;
          continue;
        }
        this.outer = this.phase === 0 ? group.byKey.entries() : group.byKeyAndNamespace.entries();
        if (this.phase === 0) groupsStarted++;
      }
      const next = this.outer.next();
      if (next.done) {
        this.outer = undefined;
        if (this.phase === 0) this.phase = 1;
        else this.nextGroup();
        continue;
      }
      if (this.phase === 1) {
        const [key, namespaces] = next.value as [KeyId, Map<string, V>];
        this.innerKey = key;
        this.innerMap = namespaces;
        this.inner = namespaces.entries();
        continue;
      }
      checked++;
      const [key, stored] = next.value as [KeyId, V];
      const result = this.target.expireStored(stored, now);
      if (result === undefined) group!.byKey.delete(key);
      else if (result !== KEEP) group!.byKey.set(key, result);
    }
  }

  private nextGroup(): void {
    this.phase = 0;
    this.groupIndex = (this.groupIndex + 1) % this.table.groups.length;
  }
}

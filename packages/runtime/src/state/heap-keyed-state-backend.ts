import { deserialize, serialize } from 'node:v8';
import { setImmediate as turnEventLoop } from 'node:timers/promises';
import type { Key } from '@nimble/api';
import { IllegalStateError, JobDefinitionError, UserCodeError } from '../errors.js';
import { decodeKey, encodedKeyOfId, keyId, keyIdOfEncoded } from '../keys/index.js';
import type { KeyId } from '../keys/index.js';
import { AbstractKeyedStateBackend } from './abstract-keyed-state-backend.js';
import type { StateKeys } from './abstract-keyed-state-backend.js';
import { decodeCanonicalBlock, encodeCanonicalBlock, KeyBytesArena } from './canonical-snapshot.js';
import type { CanonicalEntry, CanonicalState } from './canonical-snapshot.js';
import type {
  KeyedSnapshotKind,
  KeyedStateSnapshot,
  KeyGroupStateBlock,
  SnapshotFormat,
} from './keyed-state-backend.js';
import { CorruptedSnapshotError } from './state-backend-error.js';
import { describeStoredKind, KEEP, storedKindOf } from './state-table.js';
import type { StateInfo, StateTable, StoredKind, TtlCleanupTarget } from './state-table.js';
import type { TtlSettings } from './ttl.js';

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

  /** Copies the keys first, as Flink's heap backend does: the function may remove entries. */
  protected keysOf(stateName: string, namespace: string): StateKeys {
    const keys: Key[] = [];
    const keyGroups: number[] = [];
    const groups = this.tables.get(stateName)?.groups ?? [];
    for (let index = 0; index < groups.length; index++) {
      const group = groups[index];
      if (group === undefined) continue;
      const keyGroup = this.firstKeyGroup + index;
      if (namespace === '') {
        for (const id of group.byKey.keys()) {
          keys.push(keyOfId(id));
          keyGroups.push(keyGroup);
        }
        continue;
      }
      for (const [id, namespaces] of group.byKeyAndNamespace) {
        if (!namespaces.has(namespace)) continue;
        keys.push(keyOfId(id));
        keyGroups.push(keyGroup);
      }
    }
    return { keys, keyGroups };
  }

  protected createTable(info: StateInfo, withTtl: boolean): StateTable<unknown> {
    const storedKind = storedKindOf(info.kind, withTtl);
    const restored = this.tables.get(info.name);
    if (restored !== undefined) {
      if (restored.storedKind !== storedKind)
        throw this.storedKindMismatch(info.name, restored.storedKind, storedKind);
      return restored;
    }
    return this.newTable(info.name, storedKind);
  }

  private newTable(name: string, storedKind: StoredKind): HeapStateTable<unknown> {
    const table = new HeapStateTable<unknown>(
      this,
      storedKind,
      this.lastKeyGroup - this.firstKeyGroup + 1,
    );
    this.tables.set(name, table);
    return table;
  }

  /**
   * Values are held by reference and change after this call, so each key group's entries are
   * copied now with one V8 serialization of its Maps (V8 walks them natively: measured in
   * bench/snapshot-bench.ts). Turning that copy into the canonical block (key bytes, sorting)
   * is left to materialize, off the barrier's path. Both formats are canonical.
   */
  snapshot(_checkpointId: number, _format: SnapshotFormat): KeyedStateSnapshot {
    this.checkOpen('snapshot');
    const numKeyGroups = this.lastKeyGroup - this.firstKeyGroup + 1;
    const copies = new Array<Uint8Array | undefined>(numKeyGroups);
    for (let index = 0; index < numKeyGroups; index++) {
      // [name, stored kind, byKey, byKeyAndNamespace] per state with entries in the key group.
      const states: unknown[] = [];
      for (const [name, table] of this.tables) {
        const group = table.groups[index];
        if (group === undefined || (group.byKey.size === 0 && group.byKeyAndNamespace.size === 0))
          continue;
        states.push(name, table.storedKind, group.byKey, group.byKeyAndNamespace);
      }
      copies[index] = states.length === 0 ? undefined : this.serializeStates(states);
    }
    return new HeapSnapshot(copies, this.operatorName);
  }

  private serializeStates(states: unknown[]): Uint8Array {
    try {
      return serialize(states);
    } catch (e) {
      // Find the state whose value cannot be copied, to name it.
      let name = states[0] as string;
      let kind = states[1] as string;
      for (let i = 0; i < states.length; i += 4) {
        try {
          serialize(states.slice(i, i + 4));
        } catch {
          name = states[i] as string;
          kind = states[i + 1] as string;
          break;
        }
      }
      throw new UserCodeError(
        this.operatorName,
        `a value of ${describeStoredKind(kind)} state "${name}" cannot be snapshotted: snapshots keep what ` +
          'structuredClone keeps (no functions, symbols or class prototypes)',
        e,
      );
    }
  }

  async restore(kind: KeyedSnapshotKind, blocks: Iterable<KeyGroupStateBlock>): Promise<void> {
    this.checkRestore();
    if (kind !== 'canonical') {
      throw new JobDefinitionError(
        `${this.operatorName}: a ${kind} snapshot is the level backend's native format (a checkpoint ` +
          "of a job that ran on state.backend.type 'level'); the hashmap backend restores canonical " +
          'snapshots only. Run with the level backend, or take a savepoint to change the backend.',
      );
    }
    for (const { keyGroup, bytes } of blocks) {
      this.checkRestoredKeyGroup(keyGroup);
      const index = keyGroup - this.firstKeyGroup;
      try {
        for (const state of decodeCanonicalBlock(bytes)) {
          let table = this.tables.get(state.name);
          if (table === undefined) table = this.newTable(state.name, state.kind);
          else if (table.storedKind !== state.kind)
            throw this.storedKindMismatch(state.name, table.storedKind, state.kind);
          const group = (table.groups[index] ??= new HeapKeyGroup());
          const { entries } = state;
          for (let i = 0; i < entries.length; i += 3) {
            const id = keyIdOfEncoded(entries[i] as Uint8Array);
            const namespace = entries[i + 1] as string;
            if (namespace === '') {
              group.byKey.set(id, entries[i + 2]);
              continue;
            }
            let namespaces = group.byKeyAndNamespace.get(id);
            if (namespaces === undefined) group.byKeyAndNamespace.set(id, (namespaces = new Map()));
            namespaces.set(namespace, entries[i + 2]);
          }
        }
      } catch (e) {
        if (e instanceof JobDefinitionError) throw e;
        throw new CorruptedSnapshotError(
          this.operatorName,
          keyGroup,
          `it is not a canonical block (${(e as Error).message})`,
          e,
        );
      }
    }
    this.keyVersion++;
  }

  notifyCheckpointComplete(): void {
    // Every hashmap snapshot is complete in itself.
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
    /** Written into snapshots; a restored table is handed out only to the same kind and TTL-ness. */
    readonly storedKind: StoredKind,
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

/** The key whose keyId is `id`: primitives are their own id, the others are encoded behind a NUL. */
function keyOfId(id: KeyId): Key {
  return typeof id === 'string' && id.charCodeAt(0) === 0 ? decodeKey(encodedKeyOfId(id)) : id;
}

const EMPTY_BLOCK = new Uint8Array(0);

/**
 * A hashmap snapshot: the V8 copies of the key groups taken by snapshot(); materialize turns
 * each into its canonical block, one key group per event-loop turn so records keep flowing.
 */
class HeapSnapshot implements KeyedStateSnapshot {
  readonly kind = 'canonical';
  readonly baseCheckpointId = undefined;

  constructor(
    private copies: (Uint8Array | undefined)[] | undefined,
    private readonly operatorName: string,
  ) {}

  async materialize(): Promise<Uint8Array[]> {
    const blocks: Uint8Array[] = [];
    for (let index = 0; ; index++) {
      if (this.copies === undefined)
        throw new IllegalStateError(`${this.operatorName}: materialize of a released snapshot`);
      if (index === this.copies.length) return blocks;
      const copy = this.copies[index];
      if (copy === undefined) {
        blocks.push(EMPTY_BLOCK);
        continue;
      }
      blocks.push(canonicalBlockOf(copy));
      await turnEventLoop();
    }
  }

  release(): void {
    this.copies = undefined;
  }
}

function canonicalBlockOf(copy: Uint8Array): Uint8Array {
  const raw = deserialize(copy) as unknown[];
  const arena = new KeyBytesArena();
  const entryOf = (id: KeyId, namespace: string, value: unknown): CanonicalEntry =>
    typeof id === 'string' && id.charCodeAt(0) !== 0
      ? arena.stringKey(id, namespace, value)
      : arena.encodedKey(encodedKeyOfId(id), namespace, value);
  const states: CanonicalState[] = [];
  for (let i = 0; i < raw.length; i += 4) {
    const byKey = raw[i + 2] as Map<KeyId, unknown>;
    const byKeyAndNamespace = raw[i + 3] as Map<KeyId, Map<string, unknown>>;
    const entries: CanonicalEntry[] = [];
    for (const [id, value] of byKey) entries.push(entryOf(id, '', value));
    for (const [id, namespaces] of byKeyAndNamespace) {
      for (const [namespace, value] of namespaces) entries.push(entryOf(id, namespace, value));
    }
    states.push({ name: raw[i] as string, kind: raw[i + 1] as StoredKind, entries });
  }
  return encodeCanonicalBlock(states);
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

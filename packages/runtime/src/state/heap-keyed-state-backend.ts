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
/** Entries per state whose serialized size gives the mean of the state size estimate. */
const SIZE_SAMPLE = 32;

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
  /**
   * Copy-on-write of key groups for snapshots (see snapshot()): per key group, how many snapshots
   * still need its content as of their `snapshot()` call; `pendingTotal` is their sum, so the
   * per-record check in setCurrentKey is one comparison while no snapshot is pending.
   */
  private pendingCounts: Uint16Array | undefined;
  private pendingTotal = 0;
  private readonly pendingSnapshots = new Set<HeapSnapshot>();

  async open(): Promise<void> {
    this.beginOpen();
    this.status = 'open';
  }

  setCurrentKey(key: Key, keyGroup: number): void {
    if (keyGroup < this.firstKeyGroup || keyGroup > this.lastKeyGroup)
      throw this.keyGroupOutOfRange(key, keyGroup);
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
    const index = (this.keyGroupIndex = keyGroup - this.firstKeyGroup);
    this.currentKeyId = keyId(key);
    this.keyVersion++;
    // Every state access goes to the current key's group: copy it out for the snapshots that
    // still need it before anything can read a value (and change it in place) or write.
    if (this.pendingTotal !== 0 && this.pendingCounts![index] !== 0) this.copyOnAccess(index);
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

  /**
   * An estimate of the state's bytes: per state, its entries times the mean serialized size
   * (node:v8, as snapshots write values) of a key and value of up to SIZE_SAMPLE entries.
   */
  stateSizeBytes(): number {
    let bytes = 0;
    for (const table of this.tables.values()) bytes += table.estimateBytes();
    return bytes;
  }

  async close(): Promise<void> {
    if (this.status !== 'open') return;
    this.status = 'closed';
    for (const snapshot of [...this.pendingSnapshots]) snapshot.abandon('the backend was closed');
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
   * Copy-on-write at key-group grain (Flink's CopyOnWriteStateMap does it per entry): this call
   * only marks every key group of the range as pending for the new snapshot, so the barrier does
   * not wait for a copy of the state. Values are held by reference and user code may change them
   * in place without `update()`, so a pending key group is taken (copyOnAccess) before the first
   * access after the snapshot can read or write it: setCurrentKey to one of its keys, or TTL
   * cleanup of it. materialize() encodes the key groups still pending straight from the live
   * Maps, one per event-loop turn. Only the current key's group is taken here, as a caller may
   * go on with the current key without setting it again.
   *
   * A value fetched before the snapshot and changed after it without going through the state
   * (held across records, or shared between keys) is seen changed, as with Flink's heap backend.
   */
  snapshot(_checkpointId: number, _format: SnapshotFormat): KeyedStateSnapshot {
    this.checkOpen('snapshot');
    const numKeyGroups = this.lastKeyGroup - this.firstKeyGroup + 1;
    const counts = (this.pendingCounts ??= new Uint16Array(numKeyGroups));
    const snapshot = new HeapSnapshot(this, numKeyGroups, this.operatorName);
    for (let index = 0; index < numKeyGroups; index++) counts[index]!++;
    this.pendingTotal += numKeyGroups;
    this.pendingSnapshots.add(snapshot);
    if (this.keyGroupIndex >= 0) this.copyOnAccess(this.keyGroupIndex);
    return snapshot;
  }

  /** The states with entries in key group `index`, as [name, stored kind, byKey, byKeyAndNamespace, ...]. */
  private statesOf(index: number): unknown[] {
    const states: unknown[] = [];
    for (const [name, table] of this.tables) {
      const group = table.groups[index];
      if (group === undefined || (group.byKey.size === 0 && group.byKeyAndNamespace.size === 0))
        continue;
      states.push(name, table.storedKind, group.byKey, group.byKeyAndNamespace);
    }
    return states;
  }

  /**
   * Key group `index` is about to be used: every snapshot that still needs it gets its content
   * now (unchanged since the oldest of them was taken: nothing touched it since). A key group of
   * up to DIRECT_ENCODE_ENTRIES entries is encoded into its canonical block at once, which costs
   * one V8 serialization in all; a larger one is copied with V8 (a third of the time, so the
   * record that touched it waits less) and encoded by materialize.
   */
  private copyOnAccess(index: number): void {
    const states = this.statesOf(index);
    if (countStateEntries(states) <= DIRECT_ENCODE_ENTRIES) {
      this.materializePending(index, states);
      return;
    }
    const copy = this.serializeStates(states);
    this.handOut(index, (snapshot) => snapshot.setCopy(index, copy));
  }

  /**
   * The canonical block of key group `index` as the snapshots that still need it see it, built
   * from the live Maps (nothing touched them since) and given to all of them.
   */
  materializePending(index: number, states = this.statesOf(index)): void {
    if (this.pendingCounts?.[index] === 0) return;
    let block = EMPTY_BLOCK;
    if (states.length > 0) {
      try {
        block = canonicalBlockOfStates(states);
      } catch (e) {
        this.serializeStates(states); // throws the UserCodeError that names the state
        throw e;
      }
    }
    this.handOut(index, (snapshot) => snapshot.setBlock(index, block));
  }

  private handOut(index: number, give: (snapshot: HeapSnapshot) => void): void {
    for (const snapshot of this.pendingSnapshots) {
      if (snapshot.isPending(index)) {
        give(snapshot);
        if (snapshot.pendingGroups === 0) this.pendingSnapshots.delete(snapshot);
      }
    }
    this.pendingTotal -= this.pendingCounts![index]!;
    this.pendingCounts![index] = 0;
  }

  /** A snapshot released (or failed) before all its key groups were taken: stop copying for it. */
  forgetSnapshot(snapshot: HeapSnapshot): void {
    if (!this.pendingSnapshots.delete(snapshot)) return;
    const counts = this.pendingCounts!;
    for (let index = 0; index < counts.length; index++) {
      if (!snapshot.isPending(index)) continue;
      counts[index]!--;
      this.pendingTotal--;
    }
  }

  /** TTL cleanup is about to change key group `index`. */
  beforeCleanup(index: number): void {
    if (this.pendingTotal !== 0 && this.pendingCounts![index] !== 0) this.copyOnAccess(index);
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

  /**
   * Reads the Maps directly, without setCurrentKey: a read changes nothing, so a key group a
   * pending snapshot still needs is not taken (copied) for it; the caller copies the value out.
   */
  protected peek(
    table: StateTable<unknown>,
    key: Key,
    keyGroup: number,
    namespace: string,
  ): unknown {
    const group = (table as HeapStateTable<unknown>).groups[keyGroup - this.firstKeyGroup];
    if (group === undefined) return undefined;
    const id = keyId(key);
    if (namespace === '') return group.byKey.get(id);
    return group.byKeyAndNamespace.get(id)?.get(namespace);
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
    readonly backend: HeapKeyedStateBackend,
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

  estimateBytes(): number {
    const entries = this.countEntries();
    if (entries === 0) return 0;
    let sampled = 0;
    let sampledBytes = 0;
    const add = (key: KeyId, namespace: string, value: V): void => {
      try {
        sampledBytes += serialize(value).byteLength + String(key).length + namespace.length;
        sampled++;
      } catch {
        // A value v8 cannot serialize is left out of the sample.
      }
    };
    for (const group of this.groups) {
      if (group === undefined) continue;
      for (const [key, value] of group.byKey) {
        if (sampled >= SIZE_SAMPLE) break;
        add(key, '', value);
      }
      for (const [key, namespaces] of group.byKeyAndNamespace) {
        if (sampled >= SIZE_SAMPLE) break;
        for (const [namespace, value] of namespaces) {
          if (sampled >= SIZE_SAMPLE) break;
          add(key, namespace, value);
        }
      }
      if (sampled >= SIZE_SAMPLE) break;
    }
    return sampled === 0 ? 0 : Math.round((entries * sampledBytes) / sampled);
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

const EMPTY_BLOCK: Uint8Array = new Uint8Array(0);

/**
 * The largest key group (in entries) that a first access after a snapshot encodes into its
 * canonical block at once; a larger one is copied, so the record waits less.
 */
const DIRECT_ENCODE_ENTRIES = 4096;

/** Entries of `[name, stored kind, byKey, byKeyAndNamespace, ...]` (a key with windows counts once). */
function countStateEntries(states: unknown[]): number {
  let count = 0;
  for (let i = 0; i < states.length; i += 4) {
    count += (states[i + 2] as Map<unknown, unknown>).size;
    count += (states[i + 3] as Map<unknown, unknown>).size;
  }
  return count;
}

/**
 * A hashmap snapshot. Per key group of the range: pending (the backend still holds its content as
 * of snapshot()), a V8 copy taken when the key group was first used after snapshot(), or the
 * canonical block. materialize turns each key group into its block, one per event-loop turn so
 * records keep flowing between them.
 */
class HeapSnapshot implements KeyedStateSnapshot {
  readonly kind = 'canonical';
  readonly baseCheckpointId = undefined;
  /** Key groups the backend has not handed over yet. */
  pendingGroups: number;
  private readonly pending: Uint8Array;
  private copies: (Uint8Array | undefined)[];
  private blocks: (Uint8Array | undefined)[];
  private failure: string | undefined;

  constructor(
    private readonly backend: HeapKeyedStateBackend,
    numKeyGroups: number,
    private readonly operatorName: string,
  ) {
    this.pendingGroups = numKeyGroups;
    this.pending = new Uint8Array(numKeyGroups).fill(1);
    this.copies = new Array<Uint8Array | undefined>(numKeyGroups);
    this.blocks = new Array<Uint8Array | undefined>(numKeyGroups);
  }

  isPending(index: number): boolean {
    return this.pending[index] === 1;
  }

  setCopy(index: number, copy: Uint8Array): void {
    this.pending[index] = 0;
    this.pendingGroups--;
    this.copies[index] = copy;
  }

  setBlock(index: number, block: Uint8Array): void {
    this.pending[index] = 0;
    this.pendingGroups--;
    this.blocks[index] = block;
  }

  async materialize(): Promise<Uint8Array[]> {
    const blocks = this.blocks;
    for (let index = 0; index < blocks.length; index++) {
      this.checkUsable();
      if (this.pending[index] === 1) {
        this.backend.materializePending(index);
      } else if (blocks[index] === undefined) {
        const copy = this.copies[index]!;
        blocks[index] = copy.length === 0 ? EMPTY_BLOCK : canonicalBlockOf(copy);
        this.copies[index] = undefined;
      } else {
        continue;
      }
      if (blocks[index]!.length > 0) await turnEventLoop();
    }
    this.checkUsable();
    return blocks as Uint8Array[];
  }

  private checkUsable(): void {
    if (this.failure !== undefined)
      throw new IllegalStateError(
        `${this.operatorName}: materialize of a ${this.failure} snapshot`,
      );
  }

  /** The backend can no longer provide the pending key groups. */
  abandon(why: string): void {
    this.failure ??= `snapshot whose backend closed (${why})`;
    this.backend.forgetSnapshot(this);
  }

  release(): void {
    this.failure ??= 'released';
    this.backend.forgetSnapshot(this);
    this.copies = [];
    this.blocks = [];
  }
}

/** The canonical block of `[name, stored kind, byKey, byKeyAndNamespace, ...]`. */
function canonicalBlockOfStates(raw: unknown[]): Uint8Array {
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

function canonicalBlockOf(copy: Uint8Array): Uint8Array {
  return canonicalBlockOfStates(deserialize(copy) as unknown[]);
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
    // Cleanup changes the key group it is in: snapshots that still need it copy it first.
    this.table.backend.beforeCleanup(this.groupIndex);
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
    this.table.backend.beforeCleanup(this.groupIndex);
  }
}

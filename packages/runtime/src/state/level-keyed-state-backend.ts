import { readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Key } from '@nimble/api';
import { ClassicLevel } from 'classic-level';
import type {
  ChainedBatch,
  Iterator as LevelIterator,
  Snapshot as DbSnapshot,
} from 'classic-level';
import { IllegalStateError, NimbleError, UserCodeError } from '../errors.js';
import { decodeKey, keyId, keyIdOfEncoded } from '../keys/index.js';
import type { KeyId } from '../keys/index.js';
import { AbstractKeyedStateBackend } from './abstract-keyed-state-backend.js';
import type { StateKeys } from './abstract-keyed-state-backend.js';
import { decodeCanonicalBlock } from './canonical-snapshot.js';
import type {
  KeyedSnapshotKind,
  KeyedStateSnapshot,
  KeyGroupStateBlock,
  SnapshotFormat,
} from './keyed-state-backend.js';
import type { KeyedStateBackendOptionsWithDefaults } from './keyed-state-backend-options.js';
import {
  cacheKeyOf,
  cacheKeyPrefixes,
  decodeStateNameEntry,
  encodeNamespace,
  encodeStateNameValue,
  hashOfDbKey,
  keyGroupRangeOfEntries,
  keyPartOf,
  keyPartOfEncoded,
  MAX_STATE_ID,
  parseStateEntryKey,
  STATE_NAME_RANGE,
  stateEntryKey,
  stateEntryKeyOfEncoded,
  stateEntryKeyWithSuffix,
  stateNameKey,
  stateRangeStart,
} from './level-key-layout.js';
import {
  checkKeySuffix,
  deltaBuilder,
  LevelChangeLog,
  LevelSnapshot,
  materializeCanonical,
  materializeFull,
  parseNativeBlock,
} from './level-snapshot.js';
import type { LevelSnapshotSource } from './level-snapshot.js';
import { CorruptedSnapshotError, StateBackendError } from './state-backend-error.js';
import { KEEP, parseStoredKind, storedKindOf } from './state-table.js';
import type { StateInfo, StateTable, StoredKind, TtlCleanupTarget } from './state-table.js';
import type { TtlSettings } from './ttl.js';
import { codecOfStoredKind } from './value-codec.js';
import type { ListCodec, ValueCodec } from './value-codec.js';
import type { CacheKeyPrefixes } from './level-key-layout.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type DbIterator = LevelIterator<Db, Uint8Array, Uint8Array>;
type DbBatch = ChainedBatch<Db, Uint8Array, Uint8Array>;

/** See LevelKeyedStateBackend.levelMetrics(). */
export interface LevelBackendMetrics {
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly writeBufferBytes: number;
  readonly liveDataSize: number;
  readonly numFilesAtLevel0: number;
}

/** Gives the LevelDB key of the entry being written, built only if the write needs it. */
interface DbKeySource {
  dbKey(): Uint8Array;
}

/** A slot's `batch` while LevelDB holds its value: no write of it waits. */
const CLEAN = -1;

/**
 * One state entry in memory: its newest bytes (null: absent) and whether they still have to be
 * written. The write-back cache and the read cache are one set of slots, so a read finds a
 * pending write and a clean cached value with the same single Map lookup.
 */
class Slot {
  /** Its LevelDB key while a write of it waits; dropped when clean (the table has it per record). */
  dbKey: Uint8Array | undefined = undefined;
  /** The batch holding its newest write, or CLEAN. */
  batch = CLEAN;
  /** Touched since the eviction hand last passed (CLOCK's reference bit). */
  used = true;
  /** False once evicted: a table must not write into a slot no Map holds. */
  cached = true;
  /** Bytes charged to the cache budget. */
  charge = 0;
  /** The incremental snapshots' change set that lists it (LevelChangeLog); 0 for none. */
  changeSet = 0;

  constructor(
    /** The Map holding it, by `id`; undefined for a metadata entry (written, never cached). */
    readonly map: Map<KeyId, Slot> | undefined,
    readonly id: KeyId,
    public value: Uint8Array | null,
  ) {}
}

/**
 * A Bloom filter of the LevelDB keys of one key group, so reading a key that was never written
 * (every new key, every new window) does not ask LevelDB. It answers "absent" only for keys never
 * added; deletes do not remove keys (conservative), and a filter holding more keys than it was
 * sized for is rebuilt from a scan of its key group (see LevelKeyedStateBackend.rebuildFilter).
 */
class KeyFilter {
  private readonly words: Int32Array;
  private readonly mask: number;
  /**
   * Keys added that set a bit, deleted ones included. A key added again (an entry deleted and
   * written anew, as a key's window state is after each firing) sets none and is not counted, so
   * churn over the same keys never makes a filter look overfull.
   */
  added = 0;
  /** Queued for a rebuild. */
  queued = false;

  constructor(readonly capacity: number) {
    let bits = 512;
    while (bits < capacity * FILTER_BITS_PER_KEY) bits *= 2;
    this.words = new Int32Array(bits >>> 5);
    this.mask = bits - 1;
  }

  /** A filter sized for `hashes` with room to grow (at least `minCapacity`), holding them. */
  static of(hashes: readonly number[], minCapacity: number): KeyFilter {
    const filter = new KeyFilter(Math.max(minCapacity, hashes.length * FILTER_GROWTH));
    for (const hash of hashes) filter.add(hash);
    return filter;
  }

  add(hash: number): void {
    // Double hashing: probe i is h1 + i * h2 (Kirsch and Mitzenmacher).
    const step = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d) | 1;
    let changed = 0;
    for (let i = 0, bit = hash; i < FILTER_PROBES; i++, bit = (bit + step) | 0) {
      const b = bit & this.mask;
      const word = this.words[b >>> 5]!;
      this.words[b >>> 5] = word | (1 << (b & 31));
      changed |= ~word & (1 << (b & 31));
    }
    if (changed !== 0) this.added++;
  }

  mayContain(hash: number): boolean {
    const step = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d) | 1;
    for (let i = 0, bit = hash; i < FILTER_PROBES; i++, bit = (bit + step) | 0) {
      const b = bit & this.mask;
      if ((this.words[b >>> 5]! & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }
}

/** The rebuild of one key group's filter (LevelKeyedStateBackend.rebuildFilter). */
interface FilterRebuild {
  /** The filter's index: key group - first key group of the range. */
  readonly index: number;
  /** Hashes of the keys added since the rebuild began. */
  readonly added: number[];
  done: Promise<void> | undefined;
}

/** 10 bits and 4 probes per key: about 1 % false positives at capacity. */
const FILTER_BITS_PER_KEY = 10;
const FILTER_PROBES = 4;
/**
 * Keys the empty filters of a backend have room for together (160 to 320 KiB of bits: sizes are
 * powers of two), spread over its key groups: 1,024 each with 128 of them, at least 64 each.
 */
const FILTER_INITIAL_CAPACITY = 131_072;
/** A rebuilt filter has room for this many times the keys it found. */
const FILTER_GROWTH = 4;

/**
 * What a cached entry costs beyond its value bytes: the Slot, its Map entry, the Uint8Array and
 * its own backing store (value-codec.ts allocates each unpooled), and the key. Measured: heap +
 * external memory grow by about 300 bytes per entry over 500,000 cached entries (docs/state.md).
 */
const SLOT_OVERHEAD_BYTES = 320;
/** Slots the eviction hand checks per cache insertion; a full turn runs when a batch lands. */
const EVICTION_STEPS_PER_INSERT = 16;

/** Keys read per LevelDB iterator call by applyToAllKeys. */
const KEY_SCAN_BATCH = 1000;
/** One batch being written and at most one waiting behind it; then availability() pushes back. */
const MAX_BATCHES_IN_FLIGHT = 2;
/** Cache keys of metadata entries; state cache keys start with a state id, at most MAX_STATE_ID. */
const META_CACHE_PREFIX = '\uffff';
const NO_NAMESPACE = new Uint8Array(0);

/** LevelDB options (classic-level defaults: 4 MiB write buffer, 8 MiB block cache); docs/state.md. */
export const LEVELDB_OPTIONS = { writeBufferSize: 16 << 20, cacheSize: 32 << 20 } as const;

/**
 * The `level` backend: one LevelDB per operator subtask (the role RocksDB has in Flink). State
 * calls are synchronous: a read is one lookup of the entry's slot (written or clean, see Slot),
 * then on a miss the key group's KeyFilter, then `getSync` only if LevelDB may hold the key;
 * writes change the slot and join the write-back cache, which is written with `db.batch()` in
 * the background once it holds more than `writeBatchSize` entries. Slots are bounded in bytes
 * (`readCacheSize`, `state.backend.level.cache-size`) and evicted by CLOCK. Values are stored as
 * bytes (value-codec.ts), so a value changed after `update` is not changed in the state.
 */
export class LevelKeyedStateBackend extends AbstractKeyedStateBackend {
  readonly kind = 'level';
  /** Incremented by setCurrentKey: tables memoize their slot and LevelDB key per key. */
  keyVersion = 0;
  private keyPart: string | undefined;
  private keyIdOfCurrent: KeyId | undefined;

  private db: Db | undefined;
  private readonly directory: string;
  private readonly writeBatchSize: number;
  /** Budget of the slots' bytes (`state.backend.level.cache-size`). */
  private readonly cacheSize: number;
  private cacheBytes = 0;
  /** Every cached slot once, in CLOCK order from `queueHead`: the eviction hand's circle. */
  private queue: Slot[] = [];
  private queueHead = 0;

  /** The write-back cache: slots written since the last batch, which is number `batchNumber`. */
  private dirty: Slot[] = [];
  private batchNumber = 0;
  /** Batches handed to LevelDB, oldest first; their slots stay cached until written. */
  private readonly inFlight: Slot[][] = [];
  /** Batches are written one after the other: LevelDB applies concurrent batches in any order. */
  private writeChain: Promise<void> = Promise.resolve();
  /** Per key group of the range (index keyGroup - firstKeyGroup): the keys LevelDB may hold. */
  private filters: KeyFilter[] = [];
  /** Indexes of filters past their capacity, rebuilt one at a time by maintain(). */
  private readonly overfullFilters: number[] = [];
  /** Room of a key group's filter when it is built or rebuilt for few keys. */
  private readonly filterMinCapacity: number;
  private rebuild: FilterRebuild | undefined;
  /** For tests: reads that asked LevelDB, and reads a filter answered. */
  private dbReadCount = 0;
  private filteredReadCount = 0;
  /** Reads of state the slots answered (the read cache's hits). */
  cacheHitCount = 0;
  private filterRebuildCount = 0;
  /** Reads of LevelDB snapshots in progress (see reading()). */
  private readonly reads = new Set<Promise<unknown>>();
  private failure: Error | undefined;
  private waiter:
    { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;

  /** State name -> id and stored kind, as persisted under the metadata key group. */
  private readonly stateIds = new Map<string, { id: number; kind: StoredKind }>();
  private nextStateId = 0;
  /** The LevelDB held states when opened: a restore would mix them with the restored ones. */
  private openedWithState = false;
  private readonly sweeps: LevelTtlSweep[] = [];
  /** The keys changed since the last completed native snapshot, for deltas. */
  private readonly changeLog = new LevelChangeLog();

  constructor(options: KeyedStateBackendOptionsWithDefaults) {
    super(options);
    this.directory = options.localDir;
    this.writeBatchSize = options.writeBatchSize;
    this.cacheSize = options.readCacheSize;
    const numKeyGroups = this.lastKeyGroup - this.firstKeyGroup + 1;
    this.filterMinCapacity = Math.max(64, Math.floor(FILTER_INITIAL_CAPACITY / numKeyGroups));
  }

  async open(): Promise<void> {
    this.beginOpen();
    let db: Db | undefined;
    try {
      await mkdir(this.directory, { recursive: true });
      db = new ClassicLevel<Uint8Array, Uint8Array>(this.directory, {
        keyEncoding: 'view',
        valueEncoding: 'view',
        ...LEVELDB_OPTIONS,
      });
      await db.open();
      for (const [key, value] of await db.iterator(STATE_NAME_RANGE).all()) {
        const { name, id, kind } = decodeStateNameEntry(key, value);
        const storedKind = parseStoredKind(kind);
        if (storedKind === undefined)
          throw new TypeError(`state "${name}" is stored with the unknown kind "${kind}"`);
        this.stateIds.set(name, { id, kind: storedKind });
        this.nextStateId = Math.max(this.nextStateId, id + 1);
      }
      this.openedWithState = this.stateIds.size > 0;
      this.filters = await this.scanFilters(db);
    } catch (e) {
      this.status = 'closed';
      await db?.close().catch(() => undefined);
      throw this.dbError('open', e);
    }
    this.db = db;
    this.status = 'open';
  }

  setCurrentKey(key: Key, keyGroup: number): void {
    if (keyGroup < this.firstKeyGroup || keyGroup > this.lastKeyGroup)
      throw this.keyGroupOutOfRange(key, keyGroup);
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
    this.keyVersion++;
    this.keyPart = undefined;
    this.keyIdOfCurrent = undefined;
  }

  /** The cache-key form of the current key, built on first use per key. */
  currentKeyPart(): string {
    return (this.keyPart ??= keyPartOf(this.getCurrentKey()));
  }

  /** The Map id of the current key in the default namespace: the key itself for primitives. */
  currentKeyId(): KeyId {
    return (this.keyIdOfCurrent ??= keyId(this.getCurrentKey()));
  }

  availability(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.dirty.length <= this.writeBatchSize) return undefined;
    if (this.inFlight.length < MAX_BATCHES_IN_FLIGHT) {
      this.startBatch();
      return undefined;
    }
    if (this.waiter === undefined) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.waiter = { promise, resolve, reject };
    }
    return this.waiter.promise;
  }

  maintain(): void {
    if (this.status !== 'open') return;
    if (this.failure !== undefined) throw this.failure;
    if (this.dirty.length > this.writeBatchSize && this.inFlight.length < MAX_BATCHES_IN_FLIGHT)
      this.startBatch();
    for (const sweep of this.sweeps) {
      if (sweep.running === undefined) sweep.running = this.runSweep(sweep);
    }
    if (this.rebuild === undefined && this.overfullFilters.length > 0) {
      const rebuild: FilterRebuild = {
        index: this.overfullFilters.shift()!,
        added: [],
        done: undefined,
      };
      this.rebuild = rebuild;
      this.filterRebuildCount++;
      rebuild.done = this.reading(this.rebuildFilter(rebuild));
    }
  }

  async flush(): Promise<void> {
    this.checkOpen('flush');
    await this.flushPending();
  }

  async close(): Promise<void> {
    if (this.status !== 'open') return;
    this.status = 'closing';
    while (this.reads.size > 0) await Promise.allSettled([...this.reads]);
    let error: unknown;
    try {
      await this.flushPending();
    } catch (e) {
      error = e;
    }
    for (const sweep of this.sweeps) {
      await sweep.iterator?.close().catch(() => undefined);
      sweep.iterator = undefined;
    }
    try {
      await this.db!.close();
    } catch (e) {
      error ??= this.dbError('close', e);
    }
    this.status = 'closed';
    this.queue = [];
    this.queueHead = 0;
    this.cacheBytes = 0;
    if (error !== undefined) throw error;
  }

  async numStoredEntries(stateName: string): Promise<number> {
    await this.flush();
    const state = this.stateIds.get(stateName);
    if (state === undefined) return 0;
    let count = 0;
    try {
      for (let keyGroup = this.firstKeyGroup; keyGroup <= this.lastKeyGroup; keyGroup++) {
        const range = {
          gte: stateRangeStart(keyGroup, state.id),
          lt: stateRangeStart(keyGroup, state.id + 1),
        };
        count += (await this.db!.keys(range).all()).length;
      }
    } catch (e) {
      throw this.dbError(`count the entries of state "${stateName}" in`, e);
    }
    return count;
  }

  /** For tests: entries waiting in the write-back cache and in batches being written. */
  pendingWrites(): { dirty: number; inFlight: number } {
    let inFlight = 0;
    for (const batch of this.inFlight) inFlight += batch.length;
    return { dirty: this.dirty.length, inFlight };
  }

  /**
   * Figures of the `level` backend for metrics, read when they are sampled: the read cache's hits
   * and misses (reads that asked LevelDB or its key filter), the bytes written but not yet in
   * LevelDB's tables (the write-back cache, batches being written, and LevelDB's memtable), the
   * bytes of LevelDB's files, and its level-0 files (compaction starts at 4, writes slow at 8).
   */
  levelMetrics(): LevelBackendMetrics {
    let writeBufferBytes = this.writeBackBytes();
    let numFilesAtLevel0 = 0;
    const db = this.db;
    if (db !== undefined && this.status === 'open') {
      try {
        writeBufferBytes += Number(db.getProperty('leveldb.approximate-memory-usage')) || 0;
        numFilesAtLevel0 = Number(db.getProperty('leveldb.num-files-at-level0')) || 0;
      } catch {
        // A database closing meanwhile has no properties: the figures of this sample stay 0.
      }
    }
    return {
      cacheHits: this.cacheHitCount,
      cacheMisses: this.dbReadCount + this.filteredReadCount,
      writeBufferBytes,
      liveDataSize: this.liveDataSize(),
      numFilesAtLevel0,
    };
  }

  /** Bytes of LevelDB's table files and write-ahead log in the backend's directory. */
  private liveDataSize(): number {
    let bytes = 0;
    let names: string[];
    try {
      names = readdirSync(this.directory);
    } catch {
      return 0;
    }
    for (const name of names) {
      if (!/\.(ldb|sst|log)$/.test(name)) continue;
      try {
        bytes += statSync(join(this.directory, name)).size;
      } catch {
        // Removed by a compaction since it was listed.
      }
    }
    return bytes;
  }

  /** Bytes of the slots written since the last batch and of the batches being written. */
  private writeBackBytes(): number {
    let bytes = 0;
    for (const slot of this.dirty) bytes += slot.charge;
    for (const batch of this.inFlight) for (const slot of batch) bytes += slot.charge;
    return bytes;
  }

  /**
   * LevelDB's files (tables, and the write-ahead log that holds what its memtable holds) plus the
   * write-back cache not handed to LevelDB yet.
   */
  stateSizeBytes(): number {
    return this.liveDataSize() + this.writeBackBytes();
  }

  /**
   * For tests: reads not answered by the cache, split into those that read LevelDB (`getSync`)
   * and those a key filter answered "absent" without it; and the bytes the cache holds.
   */
  readStats(): { dbReads: number; filtered: number; cacheBytes: number; filterRebuilds: number } {
    return {
      dbReads: this.dbReadCount,
      filtered: this.filteredReadCount,
      cacheBytes: this.cacheBytes,
      filterRebuilds: this.filterRebuildCount,
    };
  }

  /**
   * LevelDB iterators are asynchronous, so the keys are read from a LevelDB snapshot taken behind
   * the write-back cache, as snapshot() takes one: it holds exactly the writes made before this
   * call, those still in the cache included, and none of the deletes' keys.
   */
  protected keysOf(stateName: string, namespace: string): Promise<StateKeys> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    // applyToAllKeys registered the state first, so it has an id.
    const stateId = this.stateIds.get(stateName)!.id;
    if (this.dirty.length > 0) this.startBatch();
    return this.reading(this.readKeys(this.snapshotBehindWrites(), stateId, namespace));
  }

  /**
   * Registers an asynchronous read of a LevelDB snapshot (a checkpoint's materialization, a key
   * scan): close() lets it end before it closes the database, which would break it half way.
   */
  private reading<T>(read: Promise<T>): Promise<T> {
    this.reads.add(read);
    void read.then(
      () => this.reads.delete(read),
      () => this.reads.delete(read),
    );
    return read;
  }

  private async readKeys(
    dbSnapshot: Promise<DbSnapshot>,
    stateId: number,
    namespace: string,
  ): Promise<StateKeys> {
    const snapshot = await dbSnapshot;
    const keys: Key[] = [];
    const keyGroups: number[] = [];
    try {
      for (let keyGroup = this.firstKeyGroup; keyGroup <= this.lastKeyGroup; keyGroup++) {
        const iterator = this.db!.keys({
          gte: stateRangeStart(keyGroup, stateId),
          lt: stateRangeStart(keyGroup, stateId + 1),
          snapshot,
        });
        try {
          for (;;) {
            const batch = await iterator.nextv(KEY_SCAN_BATCH);
            if (batch.length === 0) break;
            for (const dbKey of batch) {
              const entry = parseStateEntryKey(dbKey);
              if (entry.namespace !== namespace) continue;
              keys.push(decodeKey(entry.keyBytes));
              keyGroups.push(keyGroup);
            }
          }
        } finally {
          await iterator.close().catch(() => undefined);
        }
      }
    } catch (e) {
      throw this.dbError('read the keys of a state from', e);
    } finally {
      await snapshot.close().catch(() => undefined);
    }
    return { keys, keyGroups };
  }

  protected createTable(info: StateInfo, withTtl: boolean): StateTable<unknown> {
    const storedKind = storedKindOf(info.kind, withTtl);
    const id = this.stateIdOf(info.name, storedKind);
    return new LevelStateTable(this, id, codecOfStoredKind(storedKind), info);
  }

  /** The id of state `name`, assigned and persisted on first use; refuses another stored kind. */
  private stateIdOf(name: string, storedKind: StoredKind): number {
    let state = this.stateIds.get(name);
    if (state !== undefined) {
      if (state.kind !== storedKind) throw this.storedKindMismatch(name, state.kind, storedKind);
      return state.id;
    }
    if (this.nextStateId > MAX_STATE_ID) {
      throw new UserCodeError(
        this.operatorName,
        `too many keyed states (the level backend holds ${MAX_STATE_ID + 1})`,
        undefined,
      );
    }
    state = { id: this.nextStateId++, kind: storedKind };
    this.stateIds.set(name, state);
    // Written with the state's data, in the same ordered batches.
    const slot = new Slot(undefined, META_CACHE_PREFIX + name, null);
    const dbKey = stateNameKey(name);
    this.write(slot, encodeStateNameValue(state.id, storedKind), { dbKey: () => dbKey });
    return state.id;
  }

  // ---- snapshots and restore (level-snapshot.ts) ----

  /**
   * Hands the write-back cache to LevelDB as a batch and chains a LevelDB snapshot behind it,
   * so the snapshot holds exactly the writes made before this call; nothing waits here.
   */
  snapshot(checkpointId: number, format: SnapshotFormat): KeyedStateSnapshot {
    this.checkOpen('snapshot');
    if (this.failure !== undefined) throw this.failure;
    if (this.dirty.length > 0) this.startBatch();
    const states = new Map<number, { name: string; kind: StoredKind }>();
    for (const [name, { id, kind }] of this.stateIds) states.set(id, { name, kind });
    const source: LevelSnapshotSource = {
      db: this.db!,
      operatorName: this.operatorName,
      firstKeyGroup: this.firstKeyGroup,
      lastKeyGroup: this.lastKeyGroup,
      states,
      dbError: (action, cause) => this.dbError(action, cause),
    };
    const dbSnapshot = this.snapshotBehindWrites();
    return this.tracked(this.levelSnapshot(checkpointId, format, source, dbSnapshot));
  }

  private levelSnapshot(
    checkpointId: number,
    format: SnapshotFormat,
    source: LevelSnapshotSource,
    dbSnapshot: Promise<DbSnapshot>,
  ): KeyedStateSnapshot {
    if (format === 'canonical') {
      return new LevelSnapshot('canonical', undefined, source, dbSnapshot, materializeCanonical);
    }
    if (!this.options.incremental)
      return new LevelSnapshot('level-full', undefined, source, dbSnapshot, materializeFull);
    const plan = this.changeLog.beginNativeSnapshot(checkpointId);
    if (plan.kind === 'level-full')
      return new LevelSnapshot('level-full', undefined, source, dbSnapshot, materializeFull);
    return new LevelSnapshot(
      'level-delta',
      plan.baseCheckpointId,
      source,
      dbSnapshot,
      deltaBuilder(plan.changes),
    );
  }

  /** `snapshot` whose materialization close() waits for (see {@link reading}). */
  private tracked(snapshot: KeyedStateSnapshot): KeyedStateSnapshot {
    return {
      kind: snapshot.kind,
      baseCheckpointId: snapshot.baseCheckpointId,
      materialize: () => this.reading(snapshot.materialize()),
      release: () => snapshot.release(),
    };
  }

  /** A LevelDB snapshot taken on the write chain, after the batches handed to it so far. */
  private snapshotBehindWrites(): Promise<DbSnapshot> {
    let resolve!: (snapshot: DbSnapshot) => void;
    let reject!: (e: Error) => void;
    const created = new Promise<DbSnapshot>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Its failure is reported by materialize; a snapshot released unread must not crash the process.
    created.catch(() => undefined);
    this.writeChain = this.writeChain.then(() => {
      // After a failed batch LevelDB lacks writes made before the snapshot.
      if (this.failure !== undefined) return reject(this.failure);
      try {
        resolve(this.db!.snapshot());
      } catch (e) {
        reject(this.dbError('take a snapshot of', e));
      }
    });
    return created;
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.changeLog.complete(checkpointId);
  }

  /**
   * Writes the blocks' entries straight to LevelDB in batches of writeBatchSize (nothing reads
   * before restore returns). Restored state is not in the change log, so the first native
   * snapshot after a restore is full.
   */
  async restore(kind: KeyedSnapshotKind, blocks: Iterable<KeyGroupStateBlock>): Promise<void> {
    this.checkRestore();
    if (kind !== 'canonical' && kind !== 'level-full' && kind !== 'level-delta')
      throw new IllegalStateError(
        `${this.operatorName}: restore of the unknown snapshot kind "${String(kind)}"`,
      );
    if (this.openedWithState) {
      throw new IllegalStateError(
        `${this.operatorName}: restore into the LevelDB at ${this.directory}, which already holds state ` +
          'from an earlier run; a restore needs an empty directory',
      );
    }
    this.changeLog.reset();
    let batch: DbBatch | undefined;
    let size = 0;
    try {
      for (const { keyGroup, bytes } of blocks) {
        this.checkRestoredKeyGroup(keyGroup);
        if (bytes.length === 0) continue;
        batch ??= this.db!.batch();
        const hashes: number[] = [];
        size +=
          kind === 'canonical'
            ? this.addCanonicalBlock(batch, keyGroup, bytes, hashes)
            : this.addNativeBlock(batch, keyGroup, bytes, hashes);
        this.addRestoredKeys(keyGroup, hashes);
        if (size >= this.writeBatchSize) {
          await this.writeRestored(batch, size);
          batch = undefined;
          size = 0;
        }
      }
      if (batch !== undefined) await this.writeRestored(batch, size);
      batch = undefined;
    } finally {
      await batch?.close();
    }
    // The names of the states the restore created.
    await this.flushPending();
  }

  private async writeRestored(batch: DbBatch, size: number): Promise<void> {
    try {
      await batch.write();
    } catch (e) {
      throw this.dbError(`write a batch of ${size} restored entries to`, e);
    }
  }

  /**
   * Adds the entries of a canonical block to `batch`, encoded for their stored kind, and their
   * keys' hashes to `hashes`; returns how many.
   */
  private addCanonicalBlock(
    batch: DbBatch,
    keyGroup: number,
    bytes: Uint8Array,
    hashes: number[],
  ): number {
    let added = 0;
    let stateName = '';
    try {
      for (const state of decodeCanonicalBlock(bytes)) {
        stateName = state.name;
        const id = this.stateIdOf(state.name, state.kind);
        const codec = codecOfStoredKind(state.kind);
        const { entries } = state;
        for (let i = 0; i < entries.length; i += 3) {
          const keyBytes = entries[i] as Uint8Array;
          decodeKey(keyBytes); // refuses bytes that are not a key
          const dbKey = stateEntryKeyOfEncoded(
            keyGroup,
            id,
            keyBytes,
            encodeNamespace(entries[i + 1] as string),
          );
          batch.put(dbKey, codec.encode(entries[i + 2]));
          hashes.push(hashOfDbKey(dbKey));
          added++;
        }
      }
    } catch (e) {
      if (e instanceof NimbleError) throw e;
      throw new CorruptedSnapshotError(
        this.operatorName,
        keyGroup,
        `it is not a canonical block (${stateName === '' ? '' : `state "${stateName}": `}${(e as Error).message})`,
        e,
      );
    }
    return added;
  }

  /**
   * Adds the entries (and tombstones) of a level-full or level-delta block to `batch`, and the
   * hashes of the keys it puts to `hashes`; returns how many.
   */
  private addNativeBlock(
    batch: DbBatch,
    keyGroup: number,
    bytes: Uint8Array,
    hashes: number[],
  ): number {
    let added = 0;
    try {
      const block = parseNativeBlock(bytes);
      const ids = block.states.map(({ name, kind }) => this.stateIdOf(name, kind));
      block.forEachEntry((stateIndex, keySuffix, value) => {
        checkKeySuffix(keySuffix);
        const dbKey = stateEntryKeyWithSuffix(keyGroup, ids[stateIndex]!, keySuffix);
        if (value === null) {
          batch.del(dbKey);
        } else {
          batch.put(dbKey, value);
          hashes.push(hashOfDbKey(dbKey));
        }
        added++;
      });
    } catch (e) {
      if (e instanceof NimbleError) throw e;
      throw new CorruptedSnapshotError(
        this.operatorName,
        keyGroup,
        `it is not a level-full or level-delta block (${(e as Error).message})`,
        e,
      );
    }
    return added;
  }

  protected addBackgroundCleanup(
    _info: StateInfo,
    table: StateTable<unknown>,
    target: TtlCleanupTarget<unknown>,
    ttl: TtlSettings,
  ): void {
    this.sweeps.push(
      new LevelTtlSweep(table as LevelStateTable<unknown>, target, ttl, this.firstKeyGroup),
    );
  }

  // ---- key filters ----

  /** Builds the key filters of the range from the entries LevelDB holds (empty: minimal filters). */
  private async scanFilters(db: Db): Promise<KeyFilter[]> {
    const filters: KeyFilter[] = [];
    for (let keyGroup = this.firstKeyGroup; keyGroup <= this.lastKeyGroup; keyGroup++) {
      const hashes = this.openedWithState ? await this.hashesOfKeyGroup(db, keyGroup) : [];
      filters.push(KeyFilter.of(hashes, this.filterMinCapacity));
    }
    return filters;
  }

  /** The hashes of every state entry key of `keyGroup` (in `snapshot` if given). */
  private async hashesOfKeyGroup(
    db: Db,
    keyGroup: number,
    snapshot?: DbSnapshot,
  ): Promise<number[]> {
    const hashes: number[] = [];
    const iterator = db.keys({ ...keyGroupRangeOfEntries(keyGroup), snapshot });
    try {
      for (;;) {
        const keys = await iterator.nextv(KEY_SCAN_BATCH);
        if (keys.length === 0) break;
        for (const dbKey of keys) hashes.push(hashOfDbKey(dbKey));
      }
    } finally {
      await iterator.close().catch(() => undefined);
    }
    return hashes;
  }

  private addRestoredKeys(keyGroup: number, hashes: readonly number[]): void {
    const index = keyGroup - this.firstKeyGroup;
    const filter = this.filters[index]!;
    if (filter.added === 0) {
      this.filters[index] = KeyFilter.of(hashes, this.filterMinCapacity);
      return;
    }
    // A delta on top of a restored full snapshot: its new keys join the filter.
    for (const hash of hashes) this.addKeyHash(index, hash);
  }

  private addKey(dbKey: Uint8Array): void {
    this.addKeyHash(((dbKey[0]! << 8) | dbKey[1]!) - this.firstKeyGroup, hashOfDbKey(dbKey));
  }

  private addKeyHash(index: number, hash: number): void {
    const filter = this.filters[index]!;
    filter.add(hash);
    if (this.rebuild?.index === index) this.rebuild.added.push(hash);
    if (filter.added > filter.capacity && !filter.queued) {
      filter.queued = true;
      this.overfullFilters.push(index);
    }
  }

  /**
   * Replaces an overfull filter by one sized for the keys its key group holds now, which drops
   * the deleted ones. The scan reads a LevelDB snapshot taken behind every write made so far;
   * keys added while it runs go into the old filter and into `rebuild.added`, so the new filter
   * holds every key the old one had to.
   */
  private async rebuildFilter({ index, added }: FilterRebuild): Promise<void> {
    try {
      if (this.dirty.length > 0) this.startBatch();
      const snapshot = await this.snapshotBehindWrites();
      let hashes: number[];
      try {
        hashes = await this.hashesOfKeyGroup(this.db!, this.firstKeyGroup + index, snapshot);
      } finally {
        await snapshot.close().catch(() => undefined);
      }
      for (const hash of added) hashes.push(hash);
      if (this.status === 'open' || this.status === 'closing')
        this.filters[index] = KeyFilter.of(hashes, this.filterMinCapacity);
    } catch (e) {
      this.fail(e instanceof NimbleError ? e : this.dbError('scan a key group for its keys in', e));
    } finally {
      this.rebuild = undefined;
    }
  }

  // ---- the read and write path, used by LevelStateTable ----

  /**
   * Reads the entry `dbKey` into a new slot of `map` under `id`: from LevelDB, unless its key
   * group's filter says LevelDB never held it.
   */
  load(map: Map<KeyId, Slot>, id: KeyId, dbKey: Uint8Array): Slot {
    let value: Uint8Array | null = null;
    const filter = this.filters[((dbKey[0]! << 8) | dbKey[1]!) - this.firstKeyGroup]!;
    if (filter.mayContain(hashOfDbKey(dbKey))) {
      this.dbReadCount++;
      value = this.getSync(dbKey);
    } else {
      this.filteredReadCount++;
    }
    return this.cache(map, id, value);
  }

  /** A new cached slot of `map` under `id` holding `value`. */
  cache(map: Map<KeyId, Slot>, id: KeyId, value: Uint8Array | null): Slot {
    const slot = new Slot(map, id, value);
    slot.charge = SLOT_OVERHEAD_BYTES + (value === null ? 0 : value.byteLength);
    this.cacheBytes += slot.charge;
    // Before the new slot joins: the caller writes into it next, so it must not be evicted.
    if (this.cacheBytes > this.cacheSize) this.evict(EVICTION_STEPS_PER_INSERT);
    map.set(id, slot);
    this.queue.push(slot);
    return slot;
  }

  /**
   * Reads the entry `dbKey` without caching it (queryable state: a lookup from outside must not
   * evict the records' working set): LevelDB, unless its key group's filter rules it out.
   */
  readUncached(dbKey: Uint8Array): Uint8Array | null {
    const filter = this.filters[((dbKey[0]! << 8) | dbKey[1]!) - this.firstKeyGroup]!;
    return filter.mayContain(hashOfDbKey(dbKey)) ? this.getSync(dbKey) : null;
  }

  protected peek(
    table: StateTable<unknown>,
    key: Key,
    keyGroup: number,
    namespace: string,
  ): unknown {
    return (table as LevelStateTable<unknown>).peek(key, keyGroup, namespace);
  }

  private getSync(dbKey: Uint8Array): Uint8Array | null {
    try {
      return this.db!.getSync(dbKey) ?? null;
    } catch (e) {
      throw this.dbError('read from', e);
    }
  }

  /**
   * Writes `value` (null: a delete) into `slot`; it goes to LevelDB with the next batch. The
   * LevelDB key is asked for only when needed: not for a slot written again in the same batch.
   */
  write(slot: Slot, value: Uint8Array | null, keys: DbKeySource): void {
    // An absent entry becomes present: LevelDB will hold its key. Present ones are in the filter.
    if (value !== null && slot.value === null && slot.map !== undefined) this.addKey(keys.dbKey());
    slot.value = value;
    slot.used = true;
    if (slot.map !== undefined) {
      const charge = SLOT_OVERHEAD_BYTES + (value === null ? 0 : value.byteLength);
      this.cacheBytes += charge - slot.charge;
      slot.charge = charge;
    }
    // A slot whose older version is in a batch being written goes into the next batch too.
    if (slot.batch === this.batchNumber) return;
    slot.batch = this.batchNumber;
    slot.dbKey = keys.dbKey();
    this.dirty.push(slot);
    if (this.dirty.length > this.writeBatchSize && this.inFlight.length < MAX_BATCHES_IN_FLIGHT)
      this.startBatch();
  }

  /**
   * CLOCK: the hand passes at most `steps` slots (and at most once each), dropping clean ones not
   * touched since it last passed, until the cache is a sixteenth below its budget. Slots with a
   * write waiting stay.
   */
  private evict(steps: number): void {
    const target = this.cacheSize - (this.cacheSize >>> 4);
    const queue = this.queue;
    let head = this.queueHead;
    const end = Math.min(queue.length, head + steps);
    while (head < end && this.cacheBytes > target) {
      const slot = queue[head++]!;
      if (slot.used || slot.batch !== CLEAN) {
        slot.used = false;
        queue.push(slot);
        continue;
      }
      slot.cached = false;
      slot.map!.delete(slot.id);
      this.cacheBytes -= slot.charge;
    }
    this.queueHead = head;
    if (head > 4096 && head * 2 > queue.length) {
      this.queue = queue.slice(head);
      this.queueHead = 0;
    }
  }

  /** Hands the write-back cache to LevelDB: the batch is built now, with the slots' bytes of now. */
  private startBatch(): void {
    const slots = this.dirty;
    this.dirty = [];
    const number = this.batchNumber++;
    if (this.changeLog.tracking) this.changeLog.record(slots);
    this.inFlight.push(slots);
    let chained: DbBatch | undefined;
    try {
      chained = this.db!.batch();
      for (const slot of slots) {
        if (slot.value === null) chained.del(slot.dbKey!);
        else chained.put(slot.dbKey!, slot.value);
      }
    } catch (e) {
      void chained?.close().catch(() => undefined);
      chained = undefined;
      this.fail(this.dbError(`prepare a batch of ${slots.length} entries for`, e));
    }
    const batch = chained;
    this.writeChain = this.writeChain.then(() => this.writeBatch(batch, slots, number));
  }

  private async writeBatch(
    chained: DbBatch | undefined,
    slots: Slot[],
    number: number,
  ): Promise<void> {
    // After a failure nothing more is written: a later batch must not land without an earlier one.
    if (this.failure !== undefined || chained === undefined) {
      await chained?.close().catch(() => undefined);
      return;
    }
    try {
      await chained.write();
    } catch (e) {
      this.fail(this.dbError(`write a batch of ${slots.length} entries to`, e));
      return;
    }
    this.inFlight.shift();
    for (const slot of slots) {
      // A slot written again since stays dirty until its own batch is written.
      if (slot.batch !== number) continue;
      slot.batch = CLEAN;
      slot.dbKey = undefined;
    }
    if (this.cacheBytes > this.cacheSize) this.evict(this.queue.length - this.queueHead);
    if (this.dirty.length > this.writeBatchSize && this.inFlight.length < MAX_BATCHES_IN_FLIGHT)
      this.startBatch();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }

  private async flushPending(): Promise<void> {
    // Cleanup steps that maintain() started feed deletes into the write path: include them.
    for (const sweep of this.sweeps) await sweep.running;
    await this.rebuild?.done;
    if (this.dirty.length > 0) this.startBatch();
    await this.writeChain;
    if (this.failure !== undefined) throw this.failure;
  }

  dbError(action: string, cause: unknown): StateBackendError {
    return new StateBackendError(this.operatorName, this.directory, action, cause);
  }

  // ---- TTL background cleanup ----

  /** One cleanup step of a state: an async scan, then the deletes on the current view. */
  private async runSweep(sweep: LevelTtlSweep): Promise<void> {
    try {
      const candidates = await this.scanForExpired(sweep);
      this.expireCandidates(sweep, candidates);
    } catch (e) {
      this.fail(
        e instanceof NimbleError
          ? e
          : this.dbError(`scan state "${sweep.table.info.name}" for expired entries in`, e),
      );
    } finally {
      sweep.running = undefined;
    }
  }

  /**
   * Reads up to cleanupBatchSize entries of the state from where the last step stopped (one
   * LevelDB iterator per key group, kept open between steps) and returns the keys of those with
   * something expired. Reads LevelDB only: entries not written yet are checked after a flush.
   */
  private async scanForExpired(sweep: LevelTtlSweep): Promise<Uint8Array[]> {
    const { table, target, ttl } = sweep;
    const now = ttl.now();
    const candidates: Uint8Array[] = [];
    const numKeyGroups = this.lastKeyGroup - this.firstKeyGroup + 1;
    let checked = 0;
    let keyGroupsStarted = 0;
    while (checked < ttl.cleanupBatchSize && this.status !== 'closed') {
      if (sweep.iterator === undefined) {
        if (keyGroupsStarted === numKeyGroups) break; // a full pass: the state is small
        keyGroupsStarted++;
        sweep.iterator = this.db!.iterator({
          gte: stateRangeStart(sweep.keyGroup, table.stateId),
          lt: stateRangeStart(sweep.keyGroup, table.stateId + 1),
        });
      }
      const entries = await sweep.iterator.nextv(ttl.cleanupBatchSize - checked);
      if (entries.length === 0) {
        await sweep.iterator.close();
        sweep.iterator = undefined;
        sweep.keyGroup =
          sweep.keyGroup === this.lastKeyGroup ? this.firstKeyGroup : sweep.keyGroup + 1;
        continue;
      }
      for (const [key, value] of entries) {
        checked++;
        const mayHaveExpired =
          table.codec.isExpired !== undefined
            ? table.codec.isExpired(value, now, ttl.ttlMillis)
            : target.expireStored(table.decode(value), now) !== KEEP;
        if (mayHaveExpired) candidates.push(key);
      }
    }
    return candidates;
  }

  /**
   * The scan read a snapshot; the entry may have been written since (it may be in the write-back
   * cache, in flight, or newer in LevelDB). So each candidate is checked again on the current view,
   * synchronously, and what expired goes into the write path like any other write.
   */
  private expireCandidates(sweep: LevelTtlSweep, candidates: readonly Uint8Array[]): void {
    if (candidates.length === 0 || this.status === 'closed') return;
    const { table, target, ttl } = sweep;
    const now = ttl.now();
    for (const dbKey of candidates) {
      const slot = table.slotOfStored(dbKey);
      if (slot.value === null) continue;
      const result = target.expireStored(table.decode(slot.value), now);
      if (result === KEEP) continue;
      this.write(slot, result === undefined ? null : table.encode(result), { dbKey: () => dbKey });
    }
  }
}

/** Where the background cleanup of one TTL state is. */
class LevelTtlSweep {
  iterator: DbIterator | undefined;
  running: Promise<void> | undefined;

  constructor(
    readonly table: LevelStateTable<unknown>,
    readonly target: TtlCleanupTarget<unknown>,
    readonly ttl: TtlSettings,
    /** The key group being scanned. */
    public keyGroup: number,
  ) {}
}

class LevelStateTable<V> implements StateTable<V> {
  readonly storesReferences = false;
  readonly prefixes: CacheKeyPrefixes;
  /** Cached entries of the default namespace by key id (keyId): no string is built per record. */
  private readonly byKey = new Map<KeyId, Slot>();
  /** Cached entries of other namespaces (windows) by cache key (cacheKeyOf). */
  private readonly byCacheKey = new Map<KeyId, Slot>();
  // The slot and LevelDB key of the current key and last namespace: a record usually reads and
  // then writes the same entry, with one Map lookup.
  private memoKeyVersion = -1;
  private memoNamespace = '';
  private memoSlot: Slot | undefined;
  private memoDbKey: Uint8Array | undefined;
  private lastNamespace = '';
  private lastNamespaceBytes: Uint8Array = NO_NAMESPACE;

  constructor(
    private readonly backend: LevelKeyedStateBackend,
    readonly stateId: number,
    readonly codec: ValueCodec<V>,
    readonly info: StateInfo,
  ) {
    this.prefixes = cacheKeyPrefixes(stateId);
  }

  get(namespace: string): V | undefined {
    const bytes = this.slot(namespace, true).value;
    return bytes === null ? undefined : this.decode(bytes);
  }

  put(namespace: string, value: V): void {
    const bytes = this.encode(value);
    this.backend.write(this.slot(namespace, false), bytes, this);
  }

  remove(namespace: string): void {
    this.backend.write(this.slot(namespace, false), null, this);
  }

  /** ListStateTable.append for list states: the new elements' bytes go after the stored ones. */
  append(namespace: string, elements: readonly unknown[]): void {
    const slot = this.slot(namespace, true);
    let bytes: Uint8Array;
    try {
      bytes = (this.codec as unknown as ListCodec<unknown>).append(slot.value, elements);
    } catch (e) {
      throw this.unserializable(e);
    }
    this.backend.write(slot, bytes, this);
  }

  /**
   * The value of `key` in `namespace`, decoded (a copy), without touching the current key, the
   * memo or the cache's contents: through the slot if cached (written or clean), else LevelDB.
   */
  peek(key: Key, keyGroup: number, namespace: string): V | undefined {
    const slot =
      namespace === ''
        ? this.byKey.get(keyId(key))
        : this.byCacheKey.get(cacheKeyOf(this.prefixes, namespace, keyPartOf(key)));
    const bytes =
      slot !== undefined
        ? slot.value
        : this.backend.readUncached(
            stateEntryKey(keyGroup, this.stateId, key, encodeNamespace(namespace)),
          );
    return bytes === null ? undefined : this.decode(bytes);
  }

  /** The slot of the entry `dbKey` of this state (TTL cleanup), read from LevelDB if not cached. */
  slotOfStored(dbKey: Uint8Array): Slot {
    const { keyBytes, namespace } = parseStateEntryKey(dbKey);
    const [map, id] =
      namespace === ''
        ? [this.byKey, keyIdOfEncoded(keyBytes)]
        : [this.byCacheKey, cacheKeyOf(this.prefixes, namespace, keyPartOfEncoded(keyBytes))];
    const slot = map.get(id);
    if (slot !== undefined) return slot;
    return this.backend.load(map, id, dbKey);
  }

  encode(value: V): Uint8Array {
    try {
      return this.codec.encode(value);
    } catch (e) {
      throw this.unserializable(e);
    }
  }

  private unserializable(cause: unknown): UserCodeError {
    return new UserCodeError(
      this.info.operatorName,
      `the value of ${this.info.kind} state "${this.info.name}" cannot be stored by the level state backend, ` +
        'which keeps what structuredClone keeps (no functions, symbols or class prototypes)',
      cause,
    );
  }

  decode(bytes: Uint8Array): V {
    try {
      return this.codec.decode(bytes);
    } catch (e) {
      throw this.backend.dbError(`decode a value of state "${this.info.name}" read from`, e);
    }
  }

  /**
   * The slot of the current key in `namespace`, cached if it was not: read from LevelDB when
   * `read`, else created absent (a write follows at once).
   */
  private slot(namespace: string, read: boolean): Slot {
    const backend = this.backend;
    if (backend.keyVersion === this.memoKeyVersion && namespace === this.memoNamespace) {
      const memo = this.memoSlot;
      if (memo !== undefined && memo.cached) {
        memo.used = true;
        if (read) backend.cacheHitCount++;
        return memo;
      }
    } else {
      this.memoKeyVersion = backend.keyVersion;
      this.memoNamespace = namespace;
      this.memoDbKey = undefined;
    }
    let map: Map<KeyId, Slot>;
    let id: KeyId;
    if (namespace === '') {
      map = this.byKey;
      id = backend.currentKeyId();
    } else {
      map = this.byCacheKey;
      id = cacheKeyOf(this.prefixes, namespace, backend.currentKeyPart());
    }
    let slot = map.get(id);
    if (slot !== undefined) {
      slot.used = true;
      if (read) backend.cacheHitCount++;
    } else if (read) slot = backend.load(map, id, this.dbKey());
    else slot = backend.cache(map, id, null);
    this.memoSlot = slot;
    return slot;
  }

  /** The LevelDB key of the current key in the namespace of the last slot() call. */
  dbKey(): Uint8Array {
    if (this.memoDbKey === undefined) {
      const namespace = this.memoNamespace;
      if (namespace !== this.lastNamespace) {
        this.lastNamespace = namespace;
        this.lastNamespaceBytes = encodeNamespace(namespace);
      }
      this.memoDbKey = stateEntryKey(
        this.backend.currentKeyGroup,
        this.stateId,
        this.backend.getCurrentKey(),
        this.lastNamespaceBytes,
      );
    }
    return this.memoDbKey;
  }
}

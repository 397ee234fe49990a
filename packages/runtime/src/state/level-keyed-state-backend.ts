import { mkdir } from 'node:fs/promises';
import type { Key } from '@nimble/api';
import { ClassicLevel } from 'classic-level';
import type {
  ChainedBatch,
  Iterator as LevelIterator,
  Snapshot as DbSnapshot,
} from 'classic-level';
import { IllegalStateError, NimbleError, UserCodeError } from '../errors.js';
import { decodeKey } from '../keys/index.js';
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

/** A write not yet in LevelDB; `value` null is a delete (a tombstone that hides older bytes). */
interface PendingWrite {
  readonly cacheKey: string;
  readonly dbKey: Uint8Array;
  value: Uint8Array | null;
  /** The batch it belongs to: changed in place only while that batch is not handed to LevelDB. */
  readonly batch: number;
}

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
 * calls are synchronous: reads go pending writes (the write-back cache and the batches being
 * written) -> read cache -> `getSync`; writes go to the write-back cache, which is written with
 * `db.batch()` in the background once it holds more than `writeBatchSize` entries. Values are
 * stored as bytes (value-codec.ts), so a value changed after `update` is not changed in the state.
 */
export class LevelKeyedStateBackend extends AbstractKeyedStateBackend {
  readonly kind = 'level';
  /** Incremented by setCurrentKey: tables memoize their cache key and LevelDB key per key. */
  keyVersion = 0;
  private keyPart: string | undefined;

  private db: Db | undefined;
  private readonly directory: string;
  private readonly writeBatchSize: number;
  private readonly readCacheSize: number;

  /**
   * Every write not yet in LevelDB, by cache key: the newest of the write-back cache (the batch
   * being filled) and the batches handed to LevelDB. One lookup answers for all of them.
   */
  private readonly pending = new Map<string, PendingWrite>();
  /** The write-back cache: the batch being filled, number `batchNumber`. */
  private dirty: PendingWrite[] = [];
  private batchNumber = 0;
  /** Batches handed to LevelDB, oldest first; readable through `pending` until written. */
  private readonly inFlight: PendingWrite[][] = [];
  /** Batches are written one after the other: LevelDB applies concurrent batches in any order. */
  private writeChain: Promise<void> = Promise.resolve();
  /** Clean bytes by cache key, null for "not in LevelDB"; evicted oldest first. */
  private readonly readCache = new Map<string, Uint8Array | null>();
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
    this.readCacheSize = options.readCacheSize;
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
  }

  /** The cache-key form of the current key, built on first use per key. */
  currentKeyPart(): string {
    return (this.keyPart ??= keyPartOf(this.getCurrentKey()));
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
    this.readCache.clear();
    this.pending.clear();
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
    this.write(
      META_CACHE_PREFIX + name,
      stateNameKey(name),
      encodeStateNameValue(state.id, storedKind),
    );
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
        size +=
          kind === 'canonical'
            ? this.addCanonicalBlock(batch, keyGroup, bytes)
            : this.addNativeBlock(batch, keyGroup, bytes);
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

  /** Adds the entries of a canonical block to `batch`, encoded for their stored kind; returns how many. */
  private addCanonicalBlock(batch: DbBatch, keyGroup: number, bytes: Uint8Array): number {
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

  /** Adds the entries (and tombstones) of a level-full or level-delta block to `batch`; returns how many. */
  private addNativeBlock(batch: DbBatch, keyGroup: number, bytes: Uint8Array): number {
    let added = 0;
    try {
      const block = parseNativeBlock(bytes);
      const ids = block.states.map(({ name, kind }) => this.stateIdOf(name, kind));
      block.forEachEntry((stateIndex, keySuffix, value) => {
        checkKeySuffix(keySuffix);
        const dbKey = stateEntryKeyWithSuffix(keyGroup, ids[stateIndex]!, keySuffix);
        if (value === null) batch.del(dbKey);
        else batch.put(dbKey, value);
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

  // ---- the read and write path, used by LevelStateTable ----

  /** The bytes of `cacheKey` if cached: bytes, null (absent or deleted), or undefined (not cached). */
  cached(cacheKey: string): Uint8Array | null | undefined {
    const pending = this.pending.get(cacheKey);
    if (pending !== undefined) return pending.value;
    return this.readCache.get(cacheKey);
  }

  /** Reads LevelDB synchronously and caches the result. */
  readDb(cacheKey: string, dbKey: Uint8Array): Uint8Array | null {
    const bytes = this.getSync(dbKey);
    this.cacheRead(cacheKey, bytes);
    return bytes;
  }

  private getSync(dbKey: Uint8Array): Uint8Array | null {
    try {
      return this.db!.getSync(dbKey) ?? null;
    } catch (e) {
      throw this.dbError('read from', e);
    }
  }

  write(cacheKey: string, dbKey: Uint8Array, value: Uint8Array | null): void {
    const pending = this.pending.get(cacheKey);
    if (pending !== undefined && pending.batch === this.batchNumber) {
      pending.value = value;
      return;
    }
    // New, or its older version is being written: the new version goes into the next batch.
    const write: PendingWrite = { cacheKey, dbKey, value, batch: this.batchNumber };
    this.pending.set(cacheKey, write);
    this.dirty.push(write);
    if (this.dirty.length > this.writeBatchSize && this.inFlight.length < MAX_BATCHES_IN_FLIGHT)
      this.startBatch();
  }

  private cacheRead(cacheKey: string, bytes: Uint8Array | null): void {
    if (this.readCacheSize === 0) return;
    this.readCache.set(cacheKey, bytes);
    if (this.readCache.size <= this.readCacheSize) return;
    // Evict the oldest sixteenth at once: one iterator instead of one per insertion.
    let toEvict = this.readCache.size - this.readCacheSize + (this.readCacheSize >>> 4);
    for (const key of this.readCache.keys()) {
      if (toEvict-- <= 0) break;
      this.readCache.delete(key);
    }
  }

  private startBatch(): void {
    const batch = this.dirty;
    this.dirty = [];
    this.batchNumber++;
    if (this.changeLog.tracking) this.changeLog.record(batch);
    this.inFlight.push(batch);
    this.writeChain = this.writeChain.then(() => this.writeBatch(batch));
  }

  private async writeBatch(batch: PendingWrite[]): Promise<void> {
    // After a failure nothing more is written: a later batch must not land without an earlier one.
    if (this.failure !== undefined) return;
    try {
      const chained = this.db!.batch();
      for (const write of batch) {
        if (write.value === null) chained.del(write.dbKey);
        else chained.put(write.dbKey, write.value);
      }
      await chained.write();
    } catch (e) {
      this.fail(this.dbError(`write a batch of ${batch.length} entries to`, e));
      return;
    }
    this.inFlight.shift();
    for (const write of batch) {
      // A newer version of the entry stays pending until its own batch is written.
      if (this.pending.get(write.cacheKey) !== write) continue;
      this.pending.delete(write.cacheKey);
      // Written entries stay readable without a LevelDB read: they are often the hot ones.
      if (write.cacheKey.charCodeAt(0) !== 0xffff) this.cacheRead(write.cacheKey, write.value);
    }
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
      const { keyBytes, namespace } = parseStateEntryKey(dbKey);
      const cacheKey = cacheKeyOf(table.prefixes, namespace, keyPartOfEncoded(keyBytes));
      let bytes = this.cached(cacheKey);
      if (bytes === undefined) bytes = this.getSync(dbKey);
      if (bytes === null) continue;
      const result = target.expireStored(table.decode(bytes), now);
      if (result === KEEP) continue;
      this.write(cacheKey, dbKey, result === undefined ? null : table.encode(result));
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
  // The cache key and LevelDB key of the current key and last namespace: a record usually
  // reads and then writes the same entry.
  private memoKeyVersion = -1;
  private memoNamespace = '';
  private memoCacheKey = '';
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
    const cacheKey = this.cacheKey(namespace);
    let bytes = this.backend.cached(cacheKey);
    if (bytes === undefined) bytes = this.backend.readDb(cacheKey, this.dbKey());
    return bytes === null ? undefined : this.decode(bytes);
  }

  put(namespace: string, value: V): void {
    const cacheKey = this.cacheKey(namespace);
    this.backend.write(cacheKey, this.dbKey(), this.encode(value));
  }

  remove(namespace: string): void {
    const cacheKey = this.cacheKey(namespace);
    this.backend.write(cacheKey, this.dbKey(), null);
  }

  /** ListStateTable.append for list states: the new elements' bytes go after the stored ones. */
  append(namespace: string, elements: readonly unknown[]): void {
    const cacheKey = this.cacheKey(namespace);
    let stored = this.backend.cached(cacheKey);
    if (stored === undefined) stored = this.backend.readDb(cacheKey, this.dbKey());
    let bytes: Uint8Array;
    try {
      bytes = (this.codec as unknown as ListCodec<unknown>).append(stored, elements);
    } catch (e) {
      throw this.unserializable(e);
    }
    this.backend.write(cacheKey, this.dbKey(), bytes);
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

  private cacheKey(namespace: string): string {
    const backend = this.backend;
    if (backend.keyVersion !== this.memoKeyVersion || namespace !== this.memoNamespace) {
      this.memoKeyVersion = backend.keyVersion;
      this.memoNamespace = namespace;
      this.memoCacheKey = cacheKeyOf(this.prefixes, namespace, backend.currentKeyPart());
      this.memoDbKey = undefined;
    }
    return this.memoCacheKey;
  }

  /** The LevelDB key of the entry of the last cacheKey() call. */
  private dbKey(): Uint8Array {
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

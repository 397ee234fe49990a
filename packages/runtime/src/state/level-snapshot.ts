import { Buffer } from 'node:buffer';
import type {
  ClassicLevel,
  Iterator as LevelIterator,
  Snapshot as DbSnapshot,
} from 'classic-level';
import { IllegalStateError, NimbleError } from '../errors.js';
import { decodeKey } from '../keys/index.js';
import { writeVarint } from '../util/varint.js';
import { canonicalBlockStates, encodeCanonicalBlock, KeyBytesArena } from './canonical-snapshot.js';
import type { CanonicalState, DecodedCanonicalState } from './canonical-snapshot.js';
import type { KeyedSnapshotKind, KeyedStateSnapshot } from './keyed-state-backend.js';
import {
  keyGroupRangeOfEntries,
  META_KEY_GROUP,
  parseKeySuffix,
  parseStateEntryKey,
  STATE_ENTRY_PREFIX_LENGTH,
} from './level-key-layout.js';
import type { StateBackendError } from './state-backend-error.js';
import { parseStoredKind } from './state-table.js';
import type { StoredKind } from './state-table.js';
import { codecOfStoredKind } from './value-codec.js';
import type { ValueCodec } from './value-codec.js';

// Snapshots of the `level` backend (docs/state.md, "Snapshots"). snapshot() pushes the write-back
// cache into a batch and chains a LevelDB snapshot behind it on the write chain, so the LevelDB
// snapshot holds exactly the writes made before the call; materialize reads it while later
// writes go on. Three block formats:
//
// - canonical: canonical-snapshot.ts, values decoded with the codec of their stored kind;
// - level-full: every entry of the key group, as LevelDB holds it;
// - level-delta: the entries changed since the last completed native snapshot (LevelChangeLog),
//   with their bytes in the LevelDB snapshot, or a tombstone when the snapshot has none.
//
// A native block (full or delta):
//
//   [version 0x01]
//   [varint stateCount] per state: [varint len][name UTF-8][varint len][stored kind UTF-8]
//   then to the end, per entry:
//     [varint state index][varint len][key suffix][varint value length + 1, 0 for a tombstone][value]
//
// The key suffix is the LevelDB key without key group and state id (level-key-layout.ts):
// state ids are local to one LevelDB, so blocks name states and restore maps the names to the
// restoring LevelDB's ids.

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** Every this many native snapshots of a chain one is full, so a restore reads a full snapshot and at most 9 deltas. */
export const FULL_SNAPSHOT_INTERVAL = 10;

/**
 * Changed keys tracked for deltas (a LevelDB key each, about 100 bytes) before the tracking stops
 * and the next native snapshot is full: past this, a delta is no longer small.
 */
export const MAX_TRACKED_CHANGES = 1_000_000;

const NATIVE_BLOCK_VERSION = 0x01;
const EMPTY_BLOCK = new Uint8Array(0);
/** Entries read per LevelDB iterator call. */
const SCAN_BATCH = 1000;
/** The first byte of the metadata entries' LevelDB keys (their key group is 0xFFFF). */
const META_KEY_GROUP_HIGH_BYTE = META_KEY_GROUP >>> 8;

/**
 * A write handed to LevelDB (the backend's cache slot of an entry): its LevelDB key, set while
 * the write waits, and the change set that already holds it.
 */
export interface ChangedEntry {
  readonly dbKey: Uint8Array | undefined;
  /** The id of the change set it was last recorded in; 0 for none. */
  changeSet: number;
}

/**
 * The LevelDB keys written between two native snapshots. A key is listed once per cache slot: an
 * entry evicted from the cache and written again comes back in a new slot and is listed again,
 * so readers drop repeats (deltaBuilder sorts the keys anyway).
 */
export interface ChangeSet {
  readonly id: number;
  readonly keys: Uint8Array[];
}

/** A native snapshot taken and not yet known to be complete. */
interface PendingNativeSnapshot {
  readonly checkpointId: number;
  /** Deltas between the chain's full snapshot and this one: 0 for a full snapshot. */
  readonly chainLength: number;
  /** The keys changed after the previous native snapshot and before this one. */
  readonly changesBefore: ChangeSet;
}

/** What the next native snapshot is: full, or the changes on top of `baseCheckpointId`. */
export type NativeSnapshotPlan =
  | { readonly kind: 'level-full' }
  | {
      readonly kind: 'level-delta';
      readonly baseCheckpointId: number;
      readonly changes: readonly ChangeSet[];
    };

/**
 * The keys changed since the last completed native snapshot, as RocksDB's incremental
 * checkpoints track SST files. Changes are kept per snapshot: a delta for checkpoint n holds the
 * changes of every snapshot after the last completed one, so those of a checkpoint that never
 * completes (aborted) are in the next delta. Nothing is tracked before the first native snapshot
 * (or after a restore, or past MAX_TRACKED_CHANGES): the next native snapshot is then full.
 */
export class LevelChangeLog {
  /** Keys changed since the last native snapshot; undefined while no delta can follow. */
  private current: ChangeSet | undefined;
  private lastChangeSetId = 0;
  /** Native snapshots taken after the last completed one, oldest first. */
  private readonly pending: PendingNativeSnapshot[] = [];
  /** The last completed native snapshot: what the next delta applies on top of. */
  private base: { checkpointId: number; chainLength: number } | undefined;
  /** Keys of the change sets held (a key changed between two snapshots counts twice). */
  private tracked = 0;

  get tracking(): boolean {
    return this.current !== undefined;
  }

  /** Records the writes of a batch handed to LevelDB. */
  record(writes: readonly ChangedEntry[]): void {
    const current = this.current;
    if (current === undefined) return;
    const { id, keys } = current;
    const before = keys.length;
    for (const write of writes) {
      // A slot written in several batches between two snapshots is listed once: one comparison,
      // no lookup by key.
      if (write.changeSet === id) continue;
      write.changeSet = id;
      const dbKey = write.dbKey!;
      // State names are in every block: only entries count as changes.
      if (dbKey[0] !== META_KEY_GROUP_HIGH_BYTE) keys.push(dbKey);
    }
    this.tracked += keys.length - before;
    if (this.tracked > MAX_TRACKED_CHANGES) this.reset();
  }

  /** Decides what native snapshot `checkpointId` is; the changes recorded from now on belong to the next one. */
  beginNativeSnapshot(checkpointId: number): NativeSnapshotPlan {
    const base = this.base;
    let plan: NativeSnapshotPlan = { kind: 'level-full' };
    let chainLength = 0;
    if (
      this.current !== undefined &&
      base !== undefined &&
      base.chainLength + 1 < FULL_SNAPSHOT_INTERVAL
    ) {
      chainLength = base.chainLength + 1;
      const changes = this.pending.map((snapshot) => snapshot.changesBefore);
      changes.push(this.current);
      plan = { kind: 'level-delta', baseCheckpointId: base.checkpointId, changes };
    }
    this.pending.push({ checkpointId, chainLength, changesBefore: this.current ?? this.newSet() });
    this.current = this.newSet();
    return plan;
  }

  /** Checkpoint `checkpointId` completed; ignored unless it is a native snapshot taken since the last completed one. */
  complete(checkpointId: number): void {
    const index = this.pending.findIndex((snapshot) => snapshot.checkpointId === checkpointId);
    if (index < 0) return; // a savepoint, an older checkpoint, or one from before a reset
    this.base = { checkpointId, chainLength: this.pending[index]!.chainLength };
    for (const done of this.pending.splice(0, index + 1))
      this.tracked -= done.changesBefore.keys.length;
  }

  private newSet(): ChangeSet {
    return { id: ++this.lastChangeSetId, keys: [] };
  }

  /** Forgets every change: the next native snapshot is full. */
  reset(): void {
    this.current = undefined;
    this.pending.length = 0;
    this.base = undefined;
    this.tracked = 0;
  }
}

/** What materialize reads: the LevelDB and the states as of the snapshot() call. */
export interface LevelSnapshotSource {
  readonly db: Db;
  readonly operatorName: string;
  readonly firstKeyGroup: number;
  readonly lastKeyGroup: number;
  /** State id -> name and stored kind. */
  readonly states: ReadonlyMap<number, { readonly name: string; readonly kind: StoredKind }>;
  dbError(action: string, cause: unknown): StateBackendError;
}

type BlockBuilder = (source: LevelSnapshotSource, snapshot: DbSnapshot) => Promise<Uint8Array[]>;

/** A snapshot of the level backend: a LevelDB snapshot (created behind the pending writes) and how to turn it into blocks. */
export class LevelSnapshot implements KeyedStateSnapshot {
  private released = false;

  constructor(
    readonly kind: KeyedSnapshotKind,
    readonly baseCheckpointId: number | undefined,
    private readonly source: LevelSnapshotSource,
    private readonly dbSnapshot: Promise<DbSnapshot>,
    private readonly build: BlockBuilder,
  ) {}

  async materialize(): Promise<Uint8Array[]> {
    if (this.released) {
      throw new IllegalStateError(
        `${this.source.operatorName}: materialize of a released ${this.kind} snapshot`,
      );
    }
    return this.build(this.source, await this.dbSnapshot);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // Closing waits for reads still running on it; a snapshot never created has nothing to close.
    void this.dbSnapshot.then((snapshot) => snapshot.close()).catch(() => undefined);
  }
}

/** level-full: every entry of each key group, as stored. */
export async function materializeFull(
  source: LevelSnapshotSource,
  snapshot: DbSnapshot,
): Promise<Uint8Array[]> {
  const blocks: Uint8Array[] = [];
  for (let keyGroup = source.firstKeyGroup; keyGroup <= source.lastKeyGroup; keyGroup++) {
    const block = new NativeBlockBuilder(source);
    await scanKeyGroup(source, snapshot, keyGroup, (key, value) => block.add(key, value));
    blocks.push(block.finish());
  }
  return blocks;
}

/** level-delta: the entries changed in `changes` (oldest first), with their bytes in the snapshot. */
export function deltaBuilder(changes: readonly ChangeSet[]): BlockBuilder {
  return async (source, snapshot) => {
    const { firstKeyGroup, lastKeyGroup } = source;
    const keysByGroup: Uint8Array[][] = [];
    for (let i = firstKeyGroup; i <= lastKeyGroup; i++) keysByGroup.push([]);
    for (const changed of changes) {
      for (const dbKey of changed.keys) {
        const keyGroup = (dbKey[0]! << 8) | dbKey[1]!;
        const keys = keysByGroup[keyGroup - firstKeyGroup];
        if (keys === undefined)
          throw new IllegalStateError(
            `${source.operatorName}: a changed entry of key group ${keyGroup} is outside the backend's range`,
          );
        keys.push(dbKey);
      }
    }
    const blocks: Uint8Array[] = [];
    for (let keyGroup = firstKeyGroup; keyGroup <= lastKeyGroup; keyGroup++) {
      const keys = keysByGroup[keyGroup - firstKeyGroup]!;
      if (keys.length === 0) {
        blocks.push(EMPTY_BLOCK);
        continue;
      }
      // In key order (LevelDB reads neighbouring keys from the same blocks), each key once.
      keys.sort(Buffer.compare);
      dropRepeats(keys);
      let values: (Uint8Array | undefined)[];
      try {
        values = await source.db.getMany(keys, { snapshot });
      } catch (e) {
        throw source.dbError(`read the changes of key group ${keyGroup} from a snapshot of`, e);
      }
      const block = new NativeBlockBuilder(source);
      for (let i = 0; i < keys.length; i++) block.add(keys[i]!, values[i] ?? null);
      blocks.push(block.finish());
    }
    return blocks;
  };
}

/** Removes the keys equal to the one before them from `sorted`. */
function dropRepeats(sorted: Uint8Array[]): void {
  let kept = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (kept > 0 && Buffer.compare(sorted[kept - 1]!, sorted[i]!) === 0) continue;
    sorted[kept++] = sorted[i]!;
  }
  sorted.length = kept;
}

/** canonical: every entry decoded with the codec of its stored kind, also of states not registered in this run. */
export async function materializeCanonical(
  source: LevelSnapshotSource,
  snapshot: DbSnapshot,
): Promise<Uint8Array[]> {
  const blocks: Uint8Array[] = [];
  for (let keyGroup = source.firstKeyGroup; keyGroup <= source.lastKeyGroup; keyGroup++) {
    const builder = new CanonicalStatesBuilder();
    const targets = new Map<number, CanonicalTarget>();
    await scanKeyGroup(source, snapshot, keyGroup, (key, value) => {
      const stateId = (key[2]! << 8) | key[3]!;
      let target = targets.get(stateId);
      if (target === undefined) {
        const { name, kind } = stateOf(source, stateId);
        targets.set(stateId, (target = builder.state(name, kind)));
      }
      const { keyBytes, namespace } = parseStateEntryKey(key);
      try {
        builder.add(target, keyBytes, namespace, value);
      } catch (e) {
        throw source.dbError(`decode a value of state "${target.state.name}" read from`, e);
      }
    });
    blocks.push(encodeCanonicalBlock(builder.finish()));
  }
  return blocks;
}

/** A state being built by a {@link CanonicalStatesBuilder}, with the codec of its stored kind. */
export interface CanonicalTarget {
  readonly state: CanonicalState;
  readonly codec: ValueCodec<unknown>;
}

/**
 * Turns entries as LevelDB stores them (canonical key bytes, namespace, value bytes) into the
 * canonical states of one key group, each value decoded with the codec of its state's stored
 * kind: what canonical snapshots of `level` and readers of native snapshots both produce.
 */
export class CanonicalStatesBuilder {
  private readonly targets = new Map<string, CanonicalTarget>();
  private readonly arena = new KeyBytesArena();

  /** The target of state `name` (created with `kind` on first use). */
  state(name: string, kind: StoredKind): CanonicalTarget {
    let target = this.targets.get(name);
    if (target === undefined) {
      target = { state: { name, kind, entries: [] }, codec: codecOfStoredKind(kind) };
      this.targets.set(name, target);
    }
    return target;
  }

  /** Adds an entry; throws what the codec throws for bytes it cannot decode. */
  add(target: CanonicalTarget, keyBytes: Uint8Array, namespace: string, value: Uint8Array): void {
    const decoded = target.codec.decode(value);
    target.state.entries.push(this.arena.encodedKey(keyBytes, namespace, decoded));
  }

  /** The states, unsorted (encodeCanonicalBlock and canonicalBlockStates sort them). */
  finish(): CanonicalState[] {
    return [...this.targets.values()].map((target) => target.state);
  }
}

/**
 * The entries of one key group after a chain of native blocks (level-full, then the level-delta
 * blocks after it): {@link apply} them oldest first, tombstones delete; {@link canonical} gives
 * what a restore into `level` followed by a canonical snapshot would write, without a LevelDB.
 */
export class NativeChainState {
  /** By state name: stored kind, and the entries by key suffix (latin1) with suffix and value bytes. */
  private readonly states = new Map<
    string,
    { kind: StoredKind; entries: Map<string, [Uint8Array, Uint8Array]> }
  >();

  /** Applies one block; throws a TypeError saying what is wrong with it. */
  apply(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const block = parseNativeBlock(bytes);
    const targets = block.states.map(({ name, kind }) => {
      let state = this.states.get(name);
      if (state === undefined) this.states.set(name, (state = { kind, entries: new Map() }));
      state.kind = kind;
      return state.entries;
    });
    block.forEachEntry((stateIndex, keySuffix, value) => {
      checkKeySuffix(keySuffix);
      const entries = targets[stateIndex]!;
      const id = Buffer.from(keySuffix.buffer, keySuffix.byteOffset, keySuffix.length).toString(
        'latin1',
      );
      if (value === null) entries.delete(id);
      else entries.set(id, [keySuffix, value]);
    });
  }

  /**
   * The states as a canonical block holds them (name order, entries sorted); throws a TypeError
   * naming the state of a value its codec cannot decode.
   */
  canonical(): DecodedCanonicalState[] {
    const builder = new CanonicalStatesBuilder();
    for (const [name, { kind, entries }] of this.states) {
      const target = builder.state(name, kind);
      for (const [suffix, value] of entries.values()) {
        const { keyBytes, namespace } = parseKeySuffix(suffix);
        try {
          builder.add(target, keyBytes, namespace, value);
        } catch (e) {
          throw new TypeError(
            `a value of state "${name}" cannot be decoded (${(e as Error).message})`,
            {
              cause: e,
            },
          );
        }
      }
    }
    return canonicalBlockStates(builder.finish());
  }
}

function stateOf(
  source: LevelSnapshotSource,
  stateId: number,
): { readonly name: string; readonly kind: StoredKind } {
  const state = source.states.get(stateId);
  // Ids are assigned (in memory) before any entry of the state is written.
  if (state === undefined)
    throw new IllegalStateError(
      `${source.operatorName}: a snapshot holds the unknown state id ${stateId}`,
    );
  return state;
}

/** Calls `onEntry` for every entry of `keyGroup` in the snapshot, in key order. */
async function scanKeyGroup(
  source: LevelSnapshotSource,
  snapshot: DbSnapshot,
  keyGroup: number,
  onEntry: (key: Uint8Array, value: Uint8Array) => void,
): Promise<void> {
  let iterator: LevelIterator<Db, Uint8Array, Uint8Array> | undefined;
  try {
    iterator = source.db.iterator({ ...keyGroupRangeOfEntries(keyGroup), snapshot });
    for (;;) {
      const entries = await iterator.nextv(SCAN_BATCH);
      if (entries.length === 0) break;
      for (const [key, value] of entries) onEntry(key, value);
    }
  } catch (e) {
    if (e instanceof NimbleError) throw e;
    throw source.dbError(`read key group ${keyGroup} from a snapshot of`, e);
  } finally {
    await iterator?.close().catch(() => undefined);
  }
}

/** A growable byte buffer. */
class ByteWriter {
  private buffer: Buffer;
  length = 0;

  constructor(capacity = 256) {
    this.buffer = Buffer.allocUnsafeSlow(capacity);
  }

  private reserve(size: number): void {
    if (this.length + size <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + size));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number): void {
    this.reserve(10);
    this.length = writeVarint(this.buffer, this.length, value);
  }

  /** `bytes` from offset `from`. */
  bytes(bytes: Uint8Array, from = 0): void {
    const size = bytes.length - from;
    this.reserve(size);
    const buffer = this.buffer;
    if (size <= 32) {
      // Keys and small values: a loop beats creating a subarray to copy from.
      let at = this.length;
      for (let i = from; i < bytes.length; i++) buffer[at++] = bytes[i]!;
    } else {
      buffer.set(from === 0 ? bytes : bytes.subarray(from), this.length);
    }
    this.length += size;
  }

  /** A varint byte length, then the UTF-8 bytes. */
  string(text: string): void {
    const size = Buffer.byteLength(text);
    this.varint(size);
    this.reserve(size);
    this.length += this.buffer.write(text, this.length);
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** Builds the native block of one key group; states are numbered in the order they first appear. */
class NativeBlockBuilder {
  private readonly header = new ByteWriter();
  private readonly body = new ByteWriter(4096);
  private readonly indexOfState = new Map<number, number>();
  // Entries come in key order, so state by state: the last state's index answers most lookups.
  private lastStateId = -1;
  private lastIndex = -1;

  constructor(private readonly source: LevelSnapshotSource) {}

  /** An entry with its LevelDB key; `value` null is a tombstone. */
  add(dbKey: Uint8Array, value: Uint8Array | null): void {
    const stateId = (dbKey[2]! << 8) | dbKey[3]!;
    let index = this.lastIndex;
    if (stateId !== this.lastStateId) {
      index = this.indexOfState.get(stateId) ?? this.addState(stateId);
      this.lastStateId = stateId;
      this.lastIndex = index;
    }
    const body = this.body;
    body.varint(index);
    body.varint(dbKey.length - STATE_ENTRY_PREFIX_LENGTH);
    body.bytes(dbKey, STATE_ENTRY_PREFIX_LENGTH);
    if (value === null) {
      body.varint(0);
    } else {
      body.varint(value.length + 1);
      body.bytes(value);
    }
  }

  private addState(stateId: number): number {
    const { name, kind } = stateOf(this.source, stateId);
    const index = this.indexOfState.size;
    this.indexOfState.set(stateId, index);
    this.header.string(name);
    this.header.string(kind);
    return index;
  }

  finish(): Uint8Array {
    if (this.indexOfState.size === 0) return EMPTY_BLOCK;
    const out = new ByteWriter(6 + this.header.length + this.body.length);
    out.byte(NATIVE_BLOCK_VERSION);
    out.varint(this.indexOfState.size);
    out.bytes(this.header.view());
    out.bytes(this.body.view());
    return out.view();
  }
}

/** A native block read back. */
export interface NativeBlock {
  readonly states: readonly { readonly name: string; readonly kind: StoredKind }[];
  /** Calls `onEntry` per entry: the state's index in `states`, the key suffix, the value (null: a tombstone). */
  forEachEntry(
    onEntry: (stateIndex: number, keySuffix: Uint8Array, value: Uint8Array | null) => void,
  ): void;
}

/**
 * Checks that a key suffix of a native block is `[varint len][canonical key bytes][namespace]`
 * (the LevelDB key layout), so a damaged block is refused instead of stored as a wrong key.
 */
export function checkKeySuffix(suffix: Uint8Array): void {
  let offset = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (offset >= suffix.length || shift > 28) throw new TypeError('a key without its length');
    const b = suffix[offset++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (offset + length > suffix.length) throw new TypeError('a key longer than its entry');
  decodeKey(suffix.subarray(offset, offset + length));
}

/** Reads a native block; throws a TypeError saying what is wrong with it. */
export function parseNativeBlock(bytes: Uint8Array): NativeBlock {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const varint = (): number => {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      if (offset >= buffer.length || shift > 49) throw new TypeError('the block is cut short');
      const b = buffer[offset++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
  };
  const take = (size: number): Uint8Array => {
    if (offset + size > buffer.length) throw new TypeError('the block is cut short');
    const part = buffer.subarray(offset, offset + size);
    offset += size;
    return part;
  };
  if (buffer[offset++] !== NATIVE_BLOCK_VERSION)
    throw new TypeError(`it does not start with version ${NATIVE_BLOCK_VERSION}`);
  const states: { name: string; kind: StoredKind }[] = [];
  for (let count = varint(); count > 0; count--) {
    const name = take(varint()).toString();
    const kindText = take(varint()).toString();
    const kind = parseStoredKind(kindText);
    if (kind === undefined) throw new TypeError(`state "${name}" has the unknown kind ${kindText}`);
    states.push({ name, kind });
  }
  const entriesStart = offset;
  return {
    states,
    forEachEntry(onEntry) {
      offset = entriesStart;
      while (offset < buffer.length) {
        const stateIndex = varint();
        if (stateIndex >= states.length)
          throw new TypeError(`an entry of the unknown state index ${stateIndex}`);
        const keySuffix = take(varint());
        const valueLength = varint();
        onEntry(stateIndex, keySuffix, valueLength === 0 ? null : take(valueLength - 1));
      }
    },
  };
}

/**
 * A read-only view of a savepoint or checkpoint directory (Flink's State Processor API reads the
 * same thing with `SavepointReader`): its operators, their keyed states decoded entry by entry,
 * their operator states and the split enumerators' state. Every keyed file kind is read:
 * `canonical`, and the `level-full` + `level-delta` chains of incremental checkpoints, which are
 * applied oldest first and decoded into the canonical view, so the result does not depend on the
 * backend that wrote the files.
 */
import { resolve as resolvePath } from 'node:path';
import type { Key, StateKind } from '@nimble/api';
import type { ClusterConfiguration } from '../cluster-options.js';
import { s3OptionsOf } from '../cluster-options.js';
import { NimbleError } from '../errors.js';
import { assignToKeyGroup, decodeKey, encodeKey, keyProblem } from '../keys/index.js';
import { decodeCanonicalBlock } from '../state/canonical-snapshot.js';
import type { DecodedCanonicalState } from '../state/canonical-snapshot.js';
import { NativeChainState } from '../state/level-snapshot.js';
import type { OperatorStateMode } from '../state/operator-state-store.js';
import type { StoredKind } from '../state/state-table.js';
import { codecOfStoredKind } from '../state/value-codec.js';
import { timersOfSnapshot } from '../timers/internal-timer-service.js';
import type { SnapshotTimer } from '../timers/internal-timer-service.js';
import { readKeyGroupBlocks, StateFileCorruptedError } from './keyed-state-file.js';
import type { KeyGroupBlock } from './keyed-state-file.js';
import {
  CheckpointMetadataError,
  decodeMetadata,
  decodeOpaque,
  METADATA_FILE,
} from './metadata.js';
import type {
  CheckpointMetadata,
  KeyedStateFileHandle,
  KeyedStateHandle,
  OperatorStateMetadata,
} from './metadata.js';
import { resolveInside } from './paths.js';
import { fileSystemFor } from './storage/file-system-for.js';
import { s3OptionsFrom } from './storage/s3-options.js';
import type { S3Options } from './storage/s3-options.js';
import type { ByteRange, StateFileSystem } from './storage/state-file-system.js';
import { joinUri, StateFileNotFoundError } from './storage/state-file-system.js';

/** How {@link openSavepoint} reaches the storage. */
export interface OpenSavepointOptions {
  /** The file system to read with (kept open by the view); default: the one of the location's scheme. */
  readonly fileSystem?: StateFileSystem;
  /** How to reach s3:// locations; default: from `config`, else the defaults of the `s3.*` options. */
  readonly s3?: S3Options;
  /** The cluster configuration whose `s3.*` options reach s3:// locations. */
  readonly config?: ClusterConfiguration;
  /** Whole state files kept in memory for reads of every key group (default 8). */
  readonly cachedFiles?: number;
}

/** A savepoint or checkpoint, opened. */
export interface SavepointView {
  /** URI of the directory that holds `_metadata` (for a job directory: its newest readable chk-N). */
  readonly location: string;
  readonly metadata: CheckpointMetadata;
  /** The operators, in the order of `_metadata`. */
  operators(): OperatorView[];
  /** The operator of `uid`; an unknown uid throws a {@link SavepointReadError} listing those present. */
  operator(uid: string): OperatorView;
  /** Releases the file system if the view opened it (an S3 client). */
  close(): void;
}

/** A key group of an operator's keyed state: which subtask wrote it and its bytes (all files of a chain). */
export interface KeyGroupInfo {
  readonly keyGroup: number;
  readonly subtask: number;
  readonly bytes: number;
}

/** One key group's content: its states in the canonical view, and the operator's timers in it. */
export interface KeyGroupContent {
  readonly states: DecodedCanonicalState[];
  /** As the timer service snapshots them; null when the key group has none. */
  readonly timers: readonly unknown[] | null;
}

/** A keyed state of an operator, counted over every key group. */
export interface StateSummary {
  readonly name: string;
  readonly kind: StateKind;
  readonly ttl: boolean;
  /** Entries: (key, namespace) pairs. */
  readonly entries: number;
  /** Distinct keys. */
  readonly keys: number;
  /** Stored size: key bytes, namespace and value as `level` stores them (see {@link entryBytes}). */
  readonly bytes: number;
  /** The key groups that hold entries of the state, in order. */
  readonly keyGroups: readonly { keyGroup: number; entries: number; bytes: number }[];
}

/** One entry of a keyed state. */
export interface StateEntry {
  readonly key: Key;
  readonly namespace: string;
  /**
   * The user's value: the value, the list, the Map of map state, the accumulator. With TTL the
   * timestamps are taken off (unless read `raw`, which gives the stored form).
   */
  readonly value: unknown;
  readonly keyGroup: number;
  /**
   * With TTL: when the entry was last written (or read, with OnReadAndWrite), in ms; for list
   * and map state the newest of its elements'. Absent without TTL and for `raw` reads.
   */
  readonly lastAccess?: number;
}

/** A timer of an operator (a window's end, a process function's timer). */
export interface TimerEntry extends SnapshotTimer {
  readonly keyGroup: number;
}

/** An operator state of one subtask, decoded. */
export interface OperatorStateValue {
  readonly subtask: number;
  readonly name: string;
  readonly mode: OperatorStateMode;
  /** The list's elements (a broadcast state: its map's entries as [key, value] pairs). */
  readonly value: unknown;
}

/** The state of one operator in a savepoint. */
export interface OperatorView {
  readonly uid: string;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Keyed-state key groups with their subtask and block bytes (all files of a chain), in order. */
  keyGroups(): KeyGroupInfo[];
  /** The decoded content of one key group (canonical view, whatever the file kind). */
  readKeyGroup(keyGroup: number): Promise<KeyGroupContent>;
  /** Every keyed state with its counts per key group; reads every key group. */
  states(): Promise<StateSummary[]>;
  /**
   * Entries of one state, key group by key group (in key-bytes, then namespace order within
   * one). A state found in no key group throws a {@link SavepointReadError} at the end.
   */
  entries(stateName: string, options?: { raw?: boolean }): AsyncIterable<StateEntry>;
  /**
   * The value of `key` in `namespace` ('' by default: process functions), TTL unwrapped;
   * undefined when absent. Reads only the key's key group.
   */
  get(stateName: string, key: Key, namespace?: string): Promise<unknown>;
  /** The operator's timers, key group by key group (event-time ones first in each); reads every key group. */
  timers(): Promise<TimerEntry[]>;
  /** Operator states of every subtask (source splits, sink committables, functions' states). */
  operatorStates(): OperatorStateValue[];
  /** The split enumerator's state of a source; undefined when the operator has none. */
  coordinatorState(): unknown;
}

/** A savepoint cannot be read as asked: no `_metadata` found, an unknown operator or state. */
export class SavepointReadError extends NimbleError {
  override name = 'SavepointReadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'user', options);
  }
}

const DEFAULT_CACHED_FILES = 8;
const CHECKPOINT_DIR = /^chk-(\d+)$/;

/**
 * Opens the savepoint or checkpoint at `location`: a directory holding `_metadata` (file://, a
 * plain path, relative ones against the working directory, or s3://), the `_metadata` file
 * itself, or a job's checkpoint directory, whose newest `chk-<n>` with a readable `_metadata` is
 * taken. A missing or corrupted `_metadata` throws a {@link CheckpointMetadataError} naming it.
 */
export async function openSavepoint(
  location: string,
  options: OpenSavepointOptions = {},
): Promise<SavepointView> {
  let uri = location;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('/')) uri = resolvePath(uri);
  uri = joinUri(uri);
  if (uri.endsWith(`/${METADATA_FILE}`)) uri = uri.slice(0, -METADATA_FILE.length - 1);
  const s3 =
    options.s3 ??
    (options.config !== undefined
      ? s3OptionsOf(options.config)
      : s3OptionsFrom((option) => option.defaultValue));
  const fs = options.fileSystem ?? fileSystemFor(uri, s3);
  try {
    const found = await findMetadata(fs, uri);
    return new SavepointViewImpl(
      found.dir,
      found.metadata,
      new FileCache(fs, options.cachedFiles ?? DEFAULT_CACHED_FILES),
      options.fileSystem === undefined ? fs : undefined,
    );
  } catch (e) {
    if (options.fileSystem === undefined) fs.close();
    throw e;
  }
}

async function findMetadata(
  fs: StateFileSystem,
  dir: string,
): Promise<{ dir: string; metadata: CheckpointMetadata }> {
  const metadataUri = joinUri(dir, METADATA_FILE);
  try {
    return { dir, metadata: await readMetadata(fs, metadataUri) };
  } catch (e) {
    if (!(e instanceof StateFileNotFoundError)) throw e;
  }
  // A job's checkpoint directory: its newest checkpoint that reads.
  const checkpoints = (await fs.list(dir))
    .map((name) => ({ name, id: Number(CHECKPOINT_DIR.exec(name)?.[1] ?? NaN) }))
    .filter((c) => Number.isSafeInteger(c.id))
    .sort((a, b) => b.id - a.id);
  if (checkpoints.length === 0) {
    throw new CheckpointMetadataError(
      `${metadataUri} does not exist, and ${dir} holds no chk-<n> directories: give the directory ` +
        'of a savepoint or checkpoint (the one that holds _metadata) or a job checkpoint directory',
    );
  }
  const problems: string[] = [];
  for (const { name } of checkpoints) {
    const chkDir = joinUri(dir, name);
    try {
      return { dir: chkDir, metadata: await readMetadata(fs, joinUri(chkDir, METADATA_FILE)) };
    } catch (e) {
      if (!(e instanceof CheckpointMetadataError) && !(e instanceof StateFileNotFoundError))
        throw e;
      problems.push((e as Error).message);
    }
  }
  throw new CheckpointMetadataError(
    `No checkpoint of ${dir} has a readable _metadata: ${problems.join('; ')}`,
  );
}

async function readMetadata(fs: StateFileSystem, uri: string): Promise<CheckpointMetadata> {
  return decodeMetadata(await fs.read(uri), uri);
}

/**
 * Whole state files read once and kept (least recently used first out), so reading every key
 * group reads each file once; a read of one range goes to the storage unless its file is held.
 */
class FileCache {
  private readonly files = new Map<string, Promise<Uint8Array>>();

  constructor(
    readonly fs: StateFileSystem,
    private readonly capacity: number,
  ) {}

  /** The whole file, from the cache or read into it. */
  whole(uri: string): Promise<Uint8Array> {
    let file = this.files.get(uri);
    if (file !== undefined) {
      this.files.delete(uri);
    } else {
      file = this.fs.read(uri);
      // A failed read is not kept: the next call tries again.
      file.catch(() => this.files.get(uri) === file && this.files.delete(uri));
    }
    this.files.set(uri, file);
    while (this.files.size > Math.max(this.capacity, 0)) {
      this.files.delete(this.files.keys().next().value!);
    }
    return file;
  }

  /** A range of the file: cut from the held file, else one ranged read. */
  async read(uri: string, range?: ByteRange): Promise<Uint8Array> {
    const held = this.files.get(uri);
    if (held === undefined) return this.fs.read(uri, range);
    const bytes = await held;
    return range === undefined ? bytes : bytes.subarray(range.start, range.end);
  }
}

class SavepointViewImpl implements SavepointView {
  private readonly views: OperatorViewImpl[];

  constructor(
    readonly location: string,
    readonly metadata: CheckpointMetadata,
    cache: FileCache,
    private readonly owned: StateFileSystem | undefined,
  ) {
    this.views = metadata.operators.map((op) => new OperatorViewImpl(op, location, cache));
  }

  operators(): OperatorView[] {
    return [...this.views];
  }

  operator(uid: string): OperatorView {
    const view = this.views.find((v) => v.uid === uid);
    if (view === undefined) {
      const present = this.views.map((v) => v.uid).join(', ');
      throw new SavepointReadError(
        `${this.location} has no state of an operator with uid "${uid}"; its operators are: ${present || '(none)'}`,
      );
    }
    return view;
  }

  close(): void {
    this.owned?.close();
  }
}

/** The subtask's keyed handle that holds `keyGroup`, with its files resolved. */
interface KeyGroupSource {
  readonly subtask: number;
  readonly handle: KeyedStateHandle;
  readonly uris: readonly string[];
}

class OperatorViewImpl implements OperatorView {
  readonly uid: string;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  private readonly sources: KeyGroupSource[];

  constructor(
    private readonly op: OperatorStateMetadata,
    private readonly dir: string,
    private readonly cache: FileCache,
  ) {
    this.uid = op.uid;
    this.name = op.name;
    this.parallelism = op.parallelism;
    this.maxParallelism = op.maxParallelism;
    this.sources = op.subtasks
      .filter((st) => st.keyed !== undefined && st.keyed.files.length > 0)
      .map((st) => ({
        subtask: st.subtask,
        handle: st.keyed!,
        uris: st.keyed!.files.map((f) => this.resolve(f.path, st.subtask)),
      }))
      .sort((a, b) => a.handle.keyGroupRange[0] - b.handle.keyGroupRange[0]);
  }

  /**
   * The URI of a state file named in `_metadata`: inside its directory or, for incremental
   * checkpoints, the job's `shared/` directory beside it, as the JobManager checks the paths
   * of acknowledgements; a `_metadata` naming anything else is refused, never read.
   */
  private resolve(path: string, subtask: number): string {
    const shared = `${this.dir.slice(0, this.dir.lastIndexOf('/'))}/shared`;
    try {
      return resolveInside(this.dir, path, [this.dir, shared]);
    } catch (e) {
      throw new CheckpointMetadataError(
        `${joinUri(this.dir, METADATA_FILE)} is corrupted: operator "${this.uid}" subtask ${subtask}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  keyGroups(): KeyGroupInfo[] {
    const out: KeyGroupInfo[] = [];
    for (const { subtask, handle } of this.sources) {
      const [first, last] = handle.keyGroupRange;
      for (let kg = first; kg <= last; kg++) {
        let bytes = 0;
        for (const f of handle.files) bytes += f.offsets[kg - first + 1]! - f.offsets[kg - first]!;
        if (bytes > 0) out.push({ keyGroup: kg, subtask, bytes });
      }
    }
    return out;
  }

  async readKeyGroup(keyGroup: number): Promise<KeyGroupContent> {
    if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= this.maxParallelism) {
      throw new SavepointReadError(
        `Key group ${keyGroup} does not exist in operator "${this.uid}": its key groups are 0 to ${this.maxParallelism - 1}`,
      );
    }
    const source = this.sourceOf(keyGroup);
    if (source === undefined) return { states: [], timers: null };
    const read = (file: number): Promise<KeyGroupBlock[]> =>
      this.readBlocks(source, file, keyGroup, keyGroup);
    const blocks = await Promise.all(source.handle.files.map((_f, i) => read(i)));
    return this.decodeKeyGroup(
      source,
      keyGroup,
      blocks.map((b) => b[0]),
    );
  }

  async states(): Promise<StateSummary[]> {
    const byName = new Map<
      string,
      {
        kind: StoredKind;
        entries: number;
        keys: Set<string>;
        bytes: number;
        keyGroups: { keyGroup: number; entries: number; bytes: number }[];
      }
    >();
    for await (const { keyGroup, states } of this.allKeyGroups()) {
      for (const state of states) {
        let summary = byName.get(state.name);
        if (summary === undefined) {
          summary = { kind: state.kind, entries: 0, keys: new Set(), bytes: 0, keyGroups: [] };
          byName.set(state.name, summary);
        }
        const codec = codecOfStoredKind(state.kind);
        let bytes = 0;
        const { entries } = state;
        for (let i = 0; i < entries.length; i += 3) {
          const keyBytes = entries[i] as Uint8Array;
          summary.keys.add(Buffer.from(keyBytes).toString('latin1'));
          bytes += entryBytes(keyBytes, entries[i + 1] as string, codec.encode(entries[i + 2]));
        }
        const count = entries.length / 3;
        summary.entries += count;
        summary.bytes += bytes;
        summary.keyGroups.push({ keyGroup, entries: count, bytes });
      }
    }
    return [...byName]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, s]) => ({
        name,
        kind: s.kind.replace('+ttl', '') as StateKind,
        ttl: s.kind.endsWith('+ttl'),
        entries: s.entries,
        keys: s.keys.size,
        bytes: s.bytes,
        keyGroups: s.keyGroups,
      }));
  }

  async *entries(stateName: string, options: { raw?: boolean } = {}): AsyncIterable<StateEntry> {
    let found = false;
    const present = new Set<string>();
    for await (const { keyGroup, states } of this.allKeyGroups()) {
      for (const state of states) {
        present.add(state.name);
        if (state.name !== stateName) continue;
        found = true;
        const { entries } = state;
        for (let i = 0; i < entries.length; i += 3) {
          yield toEntry(
            state.kind,
            keyGroup,
            entries[i] as Uint8Array,
            entries[i + 1] as string,
            entries[i + 2],
            options.raw === true,
          );
        }
      }
    }
    if (!found) throw this.unknownState(stateName, present);
  }

  async get(stateName: string, key: Key, namespace = ''): Promise<unknown> {
    const problem = keyProblem(key);
    if (problem !== undefined) {
      throw new SavepointReadError(
        `Cannot look up ${problem} in state "${stateName}" of operator "${this.uid}": keys are strings, finite numbers, bigints, booleans or arrays of them`,
      );
    }
    const keyGroup = assignToKeyGroup(key, this.maxParallelism);
    const { states } = await this.readKeyGroup(keyGroup);
    const state = states.find((s) => s.name === stateName);
    if (state === undefined) return undefined;
    const wanted = Buffer.from(encodeKey(key));
    const { entries } = state;
    for (let i = 0; i < entries.length; i += 3) {
      if (entries[i + 1] !== namespace || !wanted.equals(entries[i] as Uint8Array)) continue;
      return toEntry(state.kind, keyGroup, wanted, namespace, entries[i + 2], false).value;
    }
    return undefined;
  }

  async timers(): Promise<TimerEntry[]> {
    const out: TimerEntry[] = [];
    for await (const { keyGroup, timers } of this.allKeyGroups()) {
      if (timers === null) continue;
      for (const timer of timersOfSnapshot(timers)) out.push({ ...timer, keyGroup });
    }
    return out;
  }

  operatorStates(): OperatorStateValue[] {
    const out: OperatorStateValue[] = [];
    const subtasks = [...this.op.subtasks].sort((a, b) => a.subtask - b.subtask);
    for (const st of subtasks) {
      for (const [name, encoded] of Object.entries(st.operatorState ?? {})) {
        out.push({
          subtask: st.subtask,
          name,
          mode: st.operatorStateModes?.[name] ?? 'split',
          value: this.decodeInline(encoded, `operator state "${name}" of subtask ${st.subtask}`),
        });
      }
    }
    return out;
  }

  coordinatorState(): unknown {
    const encoded = this.op.coordinatorState;
    return encoded === undefined
      ? undefined
      : this.decodeInline(encoded, 'the split enumerator state');
  }

  private decodeInline(encoded: string, what: string): unknown {
    try {
      return decodeOpaque(encoded);
    } catch (e) {
      throw new CheckpointMetadataError(
        `${joinUri(this.dir, METADATA_FILE)} is corrupted: ${what} of operator "${this.uid}" cannot be read (${(e as Error).message})`,
        { cause: e },
      );
    }
  }

  private unknownState(stateName: string, present: ReadonlySet<string>): SavepointReadError {
    const names = [...present].sort().join(', ');
    return new SavepointReadError(
      `Operator "${this.uid}" has no keyed state named "${stateName}"; its keyed states are: ${names || '(none)'}`,
    );
  }

  private sourceOf(keyGroup: number): KeyGroupSource | undefined {
    return this.sources.find(
      (s) => s.handle.keyGroupRange[0] <= keyGroup && keyGroup <= s.handle.keyGroupRange[1],
    );
  }

  /** Blocks `from..to` of file `file` of `source`, through the cache. */
  private readBlocks(
    source: KeyGroupSource,
    file: number,
    from: number,
    to: number,
  ): Promise<KeyGroupBlock[]> {
    const handle: KeyedStateFileHandle = source.handle.files[file]!;
    return readKeyGroupBlocks(
      this.cache,
      source.uris[file]!,
      handle,
      source.handle.keyGroupRange[0],
      from,
      to,
    );
  }

  /** Every key group that holds something, in order, each file read whole once. */
  private async *allKeyGroups(): AsyncIterable<{ keyGroup: number } & KeyGroupContent> {
    for (const source of this.sources) {
      const [first, last] = source.handle.keyGroupRange;
      const perFile: Map<number, KeyGroupBlock>[] = [];
      for (let f = 0; f < source.uris.length; f++) {
        await this.cache.whole(source.uris[f]!);
        const blocks = await this.readBlocks(source, f, first, last);
        perFile.push(new Map(blocks.map((b) => [b.keyGroup, b])));
      }
      for (let kg = first; kg <= last; kg++) {
        const blocks = perFile.map((m) => m.get(kg));
        if (blocks.every((b) => b === undefined)) continue;
        yield { keyGroup: kg, ...this.decodeKeyGroup(source, kg, blocks) };
      }
    }
  }

  /** The canonical view of a key group from its block in each file of the chain (undefined: empty). */
  private decodeKeyGroup(
    source: KeyGroupSource,
    keyGroup: number,
    blocks: readonly (KeyGroupBlock | undefined)[],
  ): KeyGroupContent {
    const { files } = source.handle;
    // Timers are written whole into every file: the newest file's are current.
    const timers = blocks[blocks.length - 1]?.timers ?? null;
    const corrupted = (file: number | undefined, e: unknown): StateFileCorruptedError => {
      const which =
        file === undefined
          ? `State files ${source.uris.join(', ')}`
          : `State file ${source.uris[file]}`;
      return new StateFileCorruptedError(
        `${which} ${file === undefined ? 'are' : 'is'} corrupted: key group ${keyGroup} cannot be read (${(e as Error).message})`,
        { cause: e },
      );
    };
    if (files.length === 1 && files[0]!.kind === 'canonical') {
      try {
        return { states: decodeCanonicalBlock(blocks[0]?.state ?? new Uint8Array(0)), timers };
      } catch (e) {
        throw corrupted(0, e);
      }
    }
    const chain = new NativeChainState();
    files.forEach((file, i) => {
      if (file.kind !== 'level-full' && file.kind !== 'level-delta') {
        throw corrupted(
          i,
          new Error(`a ${file.kind} file cannot be part of a level-full/level-delta chain`),
        );
      }
      try {
        chain.apply(blocks[i]?.state ?? new Uint8Array(0));
      } catch (e) {
        throw corrupted(i, e);
      }
    });
    try {
      return { states: chain.canonical(), timers };
    } catch (e) {
      throw corrupted(undefined, e);
    }
  }
}

/**
 * What an entry costs in the `level` layout: its key bytes, namespace and value bytes (the
 * LevelDB key's key group, state id and length prefix not counted), whatever backend wrote it.
 */
export function entryBytes(keyBytes: Uint8Array, namespace: string, value: Uint8Array): number {
  return keyBytes.length + Buffer.byteLength(namespace) + value.length;
}

/** The entry of a canonical (key bytes, namespace, stored value), TTL taken off unless `raw`. */
function toEntry(
  kind: StoredKind,
  keyGroup: number,
  keyBytes: Uint8Array,
  namespace: string,
  stored: unknown,
  raw: boolean,
): StateEntry {
  const key = decodeKey(keyBytes);
  if (raw || !kind.endsWith('+ttl')) return { key, namespace, value: stored, keyGroup };
  if (kind === 'list+ttl') {
    const pairs = stored as [unknown, number][];
    return {
      key,
      namespace,
      value: pairs.map((p) => p[0]),
      keyGroup,
      lastAccess: newest(pairs.map((p) => p[1])),
    };
  }
  if (kind === 'map+ttl') {
    const map = stored as Map<unknown, [unknown, number]>;
    const value = new Map<unknown, unknown>();
    const times: number[] = [];
    for (const [k, [v, t]] of map) {
      value.set(k, v);
      times.push(t);
    }
    return { key, namespace, value, keyGroup, lastAccess: newest(times) };
  }
  const [value, lastAccess] = stored as [unknown, number];
  return { key, namespace, value, keyGroup, lastAccess };
}

function newest(times: readonly number[]): number | undefined {
  let max: number | undefined;
  for (const t of times) if (max === undefined || t > max) max = t;
  return max;
}

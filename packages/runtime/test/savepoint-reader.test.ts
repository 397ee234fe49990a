import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assembleKeyedStateFile,
  StateFileCorruptedError,
} from '../src/checkpoint/keyed-state-file.js';
import {
  CheckpointMetadataError,
  encodeMetadata,
  encodeOpaque,
  METADATA_VERSION,
} from '../src/checkpoint/metadata.js';
import type {
  CheckpointMetadata,
  KeyedStateFileHandle,
  OperatorStateMetadata,
  OperatorSubtaskState,
} from '../src/checkpoint/metadata.js';
import { openSavepoint, SavepointReadError } from '../src/checkpoint/savepoint-reader.js';
import type { SavepointView, StateEntry } from '../src/checkpoint/savepoint-reader.js';
import { LocalFileSystem } from '../src/checkpoint/storage/local-file-system.js';
import type { ByteRange } from '../src/checkpoint/storage/index.js';
import { StateFileNotFoundError } from '../src/checkpoint/storage/index.js';
import { assignToKeyGroup, encodeKey, KeyGroupRange } from '../src/keys/index.js';
import { createKeyedStateBackend } from '../src/state/index.js';
import type {
  KeyedSnapshotKind,
  KeyedStateBackend,
  SnapshotFormat,
  StateBackendKind,
} from '../src/state/index.js';

// Snapshots are taken from real backends (hashmap and level, with a level-full + level-delta
// chain), written as files + _metadata the way the checkpointing tasks write them, and read back.

const MAX_P = 128;
const RANGES = [new KeyGroupRange(0, 63), new KeyGroupRange(64, 127)];
const T0 = 1_700_000_000_000;
const KEYED_UID = 'counts';
const SOURCE_UID = 'orders-source';

const KEYS: Key[] = ['alice', 'bob', 'carol', 'dave', 42, 7n, true, ['tenant', 3]];

const sum = (a: number, b: number): number => a + b;
const average: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (value, acc) => ({ sum: acc.sum + value, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};
const ttl = () => StateTtlConfig.newBuilder(Duration.ofMinutes(10)).build();

function statesOf(backend: KeyedStateBackend) {
  return {
    count: backend.getState(new ValueStateDescriptor<number>('count')),
    events: backend.getState(new ListStateDescriptor<unknown>('events')),
    seen: backend.getState(new MapStateDescriptor<string | bigint, number>('seen')),
    total: backend.getState(new ReducingStateDescriptor<number>('total', sum)),
    avg: backend.getState(new AggregatingStateDescriptor('avg', average)),
    session: backend.getState(new ValueStateDescriptor<string>('session').enableTimeToLive(ttl())),
    recent: backend.getState(new ListStateDescriptor<number>('recent').enableTimeToLive(ttl())),
    prefs: backend.getState(
      new MapStateDescriptor<string, number>('prefs').enableTimeToLive(ttl()),
    ),
  };
}

const keyGroupOf = (key: Key): number => assignToKeyGroup(key, MAX_P);
const subtaskOf = (key: Key): number => (keyGroupOf(key) < 64 ? 0 : 1);

let now = T0;

/** One backend per subtask; each key goes to the subtask of its key group. */
class Job {
  constructor(readonly backends: KeyedStateBackend[]) {}

  forKey(key: Key, f: (s: ReturnType<typeof statesOf>) => void): void {
    const backend = this.backends[subtaskOf(key)]!;
    backend.setCurrentKey(key, keyGroupOf(key));
    f(statesOf(backend));
  }

  populate(): void {
    KEYS.forEach((key, i) => {
      now = T0 + i;
      this.forKey(key, (s) => {
        s.count.update(i * 10 + 1);
        s.events.add(`e${i}`);
        s.events.add({ n: i });
        s.seen.put('a', i);
        s.seen.put(5n, -i);
        s.total.add(i);
        s.total.add(100);
        s.avg.add(i);
        s.avg.add(i + 2);
        s.session.update(`s${i}`);
        s.recent.add(i);
        s.prefs.put('x', i);
        if (i % 2 === 0) {
          s.count.setCurrentNamespace('w1');
          s.count.update(i * 100);
          s.count.setCurrentNamespace('');
        }
      });
    });
  }

  /** Changes after the first checkpoint: updates, deletes and a new key. */
  mutate(): void {
    now = T0 + 1000;
    this.forKey('alice', (s) => {
      s.count.clear();
      s.session.update('renewed');
    });
    this.forKey('bob', (s) => s.count.update(-1));
    this.forKey('carol', (s) => {
      s.count.setCurrentNamespace('w1');
      s.count.clear();
      s.count.setCurrentNamespace('');
      s.recent.add(99);
    });
    this.forKey('dave', (s) => {
      s.events.clear();
      s.prefs.remove('x');
    });
    this.forKey('erin', (s) => s.count.update(5));
  }

  async snapshot(id: number, format: SnapshotFormat): Promise<Snap[]> {
    const out: Snap[] = [];
    for (const backend of this.backends) {
      const snapshot = backend.snapshot(id, format);
      out.push({ kind: snapshot.kind, blocks: await snapshot.materialize() });
      snapshot.release();
    }
    return out;
  }

  complete(id: number): void {
    for (const backend of this.backends) backend.notifyCheckpointComplete(id);
  }
}

interface Snap {
  readonly kind: KeyedSnapshotKind;
  readonly blocks: Uint8Array[];
}

const dirs: string[] = [];
const backends: KeyedStateBackend[] = [];
const views: SavepointView[] = [];

afterEach(async () => {
  for (const view of views.splice(0)) view.close();
  for (const backend of backends.splice(0)) await backend.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  now = T0;
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nimble-sp-reader-'));
  dirs.push(dir);
  return dir;
}

async function openJob(kind: StateBackendKind): Promise<Job> {
  const list: KeyedStateBackend[] = [];
  for (const [subtask, range] of RANGES.entries()) {
    const backend = createKeyedStateBackend({
      kind,
      operatorName: `KeyedProcess(${KEYED_UID}) (${subtask + 1}/2)`,
      maxParallelism: MAX_P,
      keyGroupRange: range,
      localDir: kind === 'level' ? tempDir() : undefined,
      ttlTimeProvider: () => now,
      incremental: true,
    });
    await backend.open();
    backends.push(backend);
    list.push(backend);
  }
  return new Job(list);
}

/** Timers of the key group of `alice`: an event-time one in namespace `tag`, a processing-time one. */
function timersOf(tag: string): Map<number, unknown[]> {
  return new Map([[keyGroupOf('alice'), [0, T0 + 60_000, 'alice', tag, 1, T0 + 5, 'alice', '']]]);
}

/** Writes a keyed state file and returns its handle (path relative to `metadataDir`). */
function writeStateFile(
  metadataDir: string,
  relative: string,
  subtask: number,
  snap: Snap,
  timers?: Map<number, unknown[]>,
): KeyedStateFileHandle {
  const range = RANGES[subtask]!;
  const { bytes, offsets } = assembleKeyedStateFile(range.startKeyGroup, snap.blocks, timers);
  const file = path.resolve(metadataDir, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return { path: relative, kind: snap.kind, size: bytes.length, offsets };
}

/** A source operator with split state per subtask and an enumerator state. */
function sourceOperator(): OperatorStateMetadata {
  return {
    uid: SOURCE_UID,
    name: 'Source: orders',
    parallelism: 2,
    maxParallelism: MAX_P,
    coordinatorState: encodeOpaque({ assigned: { orders: [0, 1] }, pending: [] }),
    subtasks: [0, 1].map((subtask): OperatorSubtaskState => ({
      subtask,
      operatorState: {
        splits: encodeOpaque([{ topic: 'orders', partition: subtask, offset: 17 + subtask }]),
        'union-watermarks': encodeOpaque([T0 + subtask]),
      },
      operatorStateModes: { 'union-watermarks': 'union' },
    })),
  };
}

/** Writes `_metadata` for the keyed operator (files per subtask) and the source. */
function writeMetadata(
  metadataDir: string,
  checkpointId: number,
  type: CheckpointMetadata['type'],
  filesPerSubtask: KeyedStateFileHandle[][],
): void {
  const metadata: CheckpointMetadata = {
    version: METADATA_VERSION,
    jobId: 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4',
    checkpointId,
    type,
    timestamp: T0 + checkpointId,
    operators: [
      sourceOperator(),
      {
        uid: KEYED_UID,
        name: 'KeyedProcess(counts)',
        parallelism: 2,
        maxParallelism: MAX_P,
        subtasks: filesPerSubtask.map((files, subtask) => ({
          subtask,
          keyed: {
            keyGroupRange: [RANGES[subtask]!.startKeyGroup, RANGES[subtask]!.endKeyGroup],
            files,
          },
        })),
      },
    ],
  };
  fs.mkdirSync(metadataDir, { recursive: true });
  fs.writeFileSync(path.join(metadataDir, '_metadata'), encodeMetadata(metadata));
}

/** A savepoint directory of the canonical snapshot `snaps` (one per subtask). */
function writeSavepoint(snaps: Snap[], timers?: Map<number, unknown[]>): string {
  const dir = path.join(tempDir(), 'savepoint-a1b2c3-0123456789ab');
  const files = snaps.map((snap, subtask) => [
    writeStateFile(dir, `${KEYED_UID}-${subtask}-9-0000abcd`, subtask, snap, timers),
  ]);
  writeMetadata(dir, 9, 'SAVEPOINT', files);
  return dir;
}

async function open(location: string, options = {}): Promise<SavepointView> {
  const view = await openSavepoint(location, options);
  views.push(view);
  return view;
}

async function collect(iterable: AsyncIterable<StateEntry>): Promise<StateEntry[]> {
  const out: StateEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

/** Entries in reading order: key group, then key bytes, then namespace. */
function inReadingOrder<T extends { key: Key; namespace: string }>(entries: T[]): T[] {
  const order = (e: T) => [
    keyGroupOf(e.key),
    Buffer.from(encodeKey(e.key)).toString('latin1'),
    e.namespace,
  ];
  return entries.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
}

/** What populate() stores in `count`, as entries. */
function expectedCounts(): StateEntry[] {
  const entries: StateEntry[] = [];
  KEYS.forEach((key, i) => {
    const keyGroup = keyGroupOf(key);
    entries.push({ key, namespace: '', value: i * 10 + 1, keyGroup });
    if (i % 2 === 0) entries.push({ key, namespace: 'w1', value: i * 100, keyGroup });
  });
  return inReadingOrder(entries);
}

describe('openSavepoint on a savepoint of the hashmap backend', () => {
  let job: Job;
  let dir: string;

  beforeAll(() => {
    // Every key must be in the range of the subtask the test assumes: both subtasks hold keys.
    expect(new Set(KEYS.map(subtaskOf))).toEqual(new Set([0, 1]));
  });

  async function setUp(): Promise<void> {
    job = await openJob('hashmap');
    job.populate();
    dir = writeSavepoint(await job.snapshot(9, 'canonical'), timersOf('sp'));
  }

  it('lists the operators with their parallelism, key groups, operator and enumerator states', async () => {
    await setUp();
    const view = await open(dir);
    expect(view.location).toBe(`file://${dir}`);
    expect([view.metadata.checkpointId, view.metadata.type]).toEqual([9, 'SAVEPOINT']);
    expect(view.operators().map((o) => [o.uid, o.name, o.parallelism, o.maxParallelism])).toEqual([
      [SOURCE_UID, 'Source: orders', 2, MAX_P],
      [KEYED_UID, 'KeyedProcess(counts)', 2, MAX_P],
    ]);
    const keyed = view.operator(KEYED_UID);
    const groups = keyed.keyGroups();
    expect(groups.map((g) => g.keyGroup)).toEqual(
      [...new Set(KEYS.map(keyGroupOf))].sort((a, b) => a - b),
    );
    for (const g of groups) expect(g.subtask).toBe(g.keyGroup < 64 ? 0 : 1);
    expect(groups.every((g) => g.bytes > 0)).toBe(true);

    const source = view.operator(SOURCE_UID);
    expect(source.keyGroups()).toEqual([]);
    expect(source.operatorStates()).toEqual([
      {
        subtask: 0,
        name: 'splits',
        mode: 'split',
        value: [{ topic: 'orders', partition: 0, offset: 17 }],
      },
      { subtask: 0, name: 'union-watermarks', mode: 'union', value: [T0] },
      {
        subtask: 1,
        name: 'splits',
        mode: 'split',
        value: [{ topic: 'orders', partition: 1, offset: 18 }],
      },
      { subtask: 1, name: 'union-watermarks', mode: 'union', value: [T0 + 1] },
    ]);
    expect(source.coordinatorState()).toEqual({ assigned: { orders: [0, 1] }, pending: [] });
    expect(keyed.coordinatorState()).toBeUndefined();
    expect(() => view.operator('nope')).toThrow(
      new SavepointReadError(
        `file://${dir} has no state of an operator with uid "nope"; its operators are: ${SOURCE_UID}, ${KEYED_UID}`,
      ),
    );
  });

  it('summarizes every state: kind, TTL, entries, keys and key groups', async () => {
    await setUp();
    const states = await (await open(dir)).operator(KEYED_UID).states();
    expect(states.map((s) => [s.name, s.kind, s.ttl, s.entries, s.keys])).toEqual([
      ['avg', 'aggregating', false, 8, 8],
      ['count', 'value', false, 12, 8],
      ['events', 'list', false, 8, 8],
      ['prefs', 'map', true, 8, 8],
      ['recent', 'list', true, 8, 8],
      ['seen', 'map', false, 8, 8],
      ['session', 'value', true, 8, 8],
      ['total', 'reducing', false, 8, 8],
    ]);
    const count = states.find((s) => s.name === 'count')!;
    const perGroup = new Map<number, number>();
    for (const e of expectedCounts()) perGroup.set(e.keyGroup, (perGroup.get(e.keyGroup) ?? 0) + 1);
    expect(count.keyGroups.map((g) => [g.keyGroup, g.entries])).toEqual(
      [...perGroup].sort((a, b) => a[0] - b[0]),
    );
    expect(count.bytes).toBe(count.keyGroups.reduce((n, g) => n + g.bytes, 0));
    // 'alice': tag + 5 bytes of key, a number value: tag + 8 bytes.
    const alice = count.keyGroups.find((g) => g.keyGroup === keyGroupOf('alice'))!;
    expect(alice.bytes).toBeGreaterThanOrEqual(6 + 9);
  });

  it('gives every entry of a state with its key decoded, and TTL values with lastAccess', async () => {
    await setUp();
    const keyed = (await open(dir)).operator(KEYED_UID);
    expect(await collect(keyed.entries('count'))).toEqual(expectedCounts());
    const sessions = await collect(keyed.entries('session'));
    expect(sessions).toEqual(
      inReadingOrder(
        KEYS.map((key, i) => ({
          key,
          namespace: '',
          value: `s${i}`,
          keyGroup: keyGroupOf(key),
          lastAccess: T0 + i,
        })),
      ),
    );
    const raw = await collect(keyed.entries('session', { raw: true }));
    expect(raw.find((e) => e.key === 'bob')).toEqual({
      key: 'bob',
      namespace: '',
      value: ['s1', T0 + 1],
      keyGroup: keyGroupOf('bob'),
    });
    const prefs = await collect(keyed.entries('prefs'));
    expect(prefs.find((e) => e.key === 7n)).toEqual({
      key: 7n,
      namespace: '',
      value: new Map([['x', 5]]),
      keyGroup: keyGroupOf(7n),
      lastAccess: T0 + 5,
    });
    const recent = await collect(keyed.entries('recent'));
    expect(recent.find((e) => e.key === true)).toMatchObject({ value: [6], lastAccess: T0 + 6 });
    await expect(collect(keyed.entries('cont'))).rejects.toThrow(
      new SavepointReadError(
        `Operator "${KEYED_UID}" has no keyed state named "cont"; its keyed states are: avg, count, events, prefs, recent, seen, session, total`,
      ),
    );
  });

  it('gets one key with one ranged read of its key group', async () => {
    await setUp();
    const reads: { uri: string; range?: ByteRange }[] = [];
    class RecordingFileSystem extends LocalFileSystem {
      override read(uri: string, range?: ByteRange): Promise<Uint8Array> {
        reads.push({ uri, range });
        return super.read(uri, range);
      }
    }
    const view = await open(dir, { fileSystem: new RecordingFileSystem() });
    const keyed = view.operator(KEYED_UID);
    reads.length = 0;
    expect(await keyed.get('count', 'carol')).toBe(21);
    expect(await keyed.get('count', 'carol', 'w1')).toBe(200);
    expect(await keyed.get('count', ['tenant', 3])).toBe(71);
    expect(await keyed.get('avg', 'dave')).toEqual({ sum: 3 + 5, count: 2 });
    expect(await keyed.get('seen', 42)).toEqual(
      new Map<string | bigint, number>([
        ['a', 4],
        [5n, -4],
      ]),
    );
    expect(await keyed.get('session', 'bob')).toBe('s1');
    expect(await keyed.get('count', 'nobody')).toBeUndefined();
    expect(await keyed.get('count', 'bob', 'w1')).toBeUndefined();
    // One ranged read per lookup, none for a key group without state.
    const stored = new Set(keyed.keyGroups().map((g) => g.keyGroup));
    const looked: Key[] = ['carol', 'carol', ['tenant', 3], 'dave', 42, 'bob', 'nobody', 'bob'];
    expect(reads).toHaveLength(looked.filter((k) => stored.has(keyGroupOf(k))).length);
    expect(reads.every((r) => r.range !== undefined)).toBe(true);
    const carolGroup = keyGroupOf('carol');
    const handle = view.metadata.operators[1]!.subtasks[subtaskOf('carol')]!.keyed!;
    const first = handle.keyGroupRange[0];
    expect(reads[0]).toEqual({
      uri: `file://${dir}/${handle.files[0]!.path}`,
      range: {
        start: handle.files[0]!.offsets[carolGroup - first],
        end: handle.files[0]!.offsets[carolGroup - first + 1],
      },
    });
    const content = await keyed.readKeyGroup(keyGroupOf('alice'));
    expect(content.timers).toEqual([0, T0 + 60_000, 'alice', 'sp', 1, T0 + 5, 'alice', '']);
    expect(await keyed.timers()).toEqual([
      {
        domain: 'event-time',
        timestamp: T0 + 60_000,
        key: 'alice',
        namespace: 'sp',
        keyGroup: keyGroupOf('alice'),
      },
      {
        domain: 'processing-time',
        timestamp: T0 + 5,
        key: 'alice',
        namespace: '',
        keyGroup: keyGroupOf('alice'),
      },
    ]);
    expect(content.states.map((s) => s.name)).toEqual([
      'avg',
      'count',
      'events',
      'prefs',
      'recent',
      'seen',
      'session',
      'total',
    ]);
    await expect(keyed.get('count', {} as unknown as Key)).rejects.toThrow(SavepointReadError);
  });
});

describe('openSavepoint on level checkpoints (level-full + level-delta chains)', () => {
  /**
   * A job directory with chk-1 (level-full) and chk-2 (its delta after mutate()), in shared/,
   * and the canonical savepoint of the same state as chk-2 (taken as checkpoint 3).
   */
  async function writeChain(): Promise<{ jobDir: string; savepoint: string }> {
    const job = await openJob('level');
    job.populate();
    const full = await job.snapshot(1, 'native');
    expect(full.map((s) => s.kind)).toEqual(['level-full', 'level-full']);
    job.complete(1);
    job.mutate();
    const delta = await job.snapshot(2, 'native');
    expect(delta.map((s) => s.kind)).toEqual(['level-delta', 'level-delta']);
    const canonical = await job.snapshot(3, 'canonical');

    const jobDir = path.join(tempDir(), 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4');
    const chk1 = path.join(jobDir, 'chk-1');
    const chk2 = path.join(jobDir, 'chk-2');
    const fullFiles = full.map((snap, subtask) =>
      writeStateFile(
        chk1,
        `../shared/${KEYED_UID}-${subtask}-1-0000aaaa`,
        subtask,
        snap,
        timersOf('chk-1'),
      ),
    );
    writeMetadata(
      chk1,
      1,
      'CHECKPOINT',
      fullFiles.map((f) => [f]),
    );
    const deltaFiles = delta.map((snap, subtask) =>
      writeStateFile(
        chk2,
        `../shared/${KEYED_UID}-${subtask}-2-0000bbbb`,
        subtask,
        snap,
        timersOf('chk-2'),
      ),
    );
    writeMetadata(
      chk2,
      2,
      'CHECKPOINT',
      fullFiles.map((f, i) => [f, deltaFiles[i]!]),
    );
    return { jobDir, savepoint: writeSavepoint(canonical, timersOf('chk-2')) };
  }

  it('applies the chain: deletes, updates, new keys; TTL values keep their timestamps', async () => {
    const { jobDir } = await writeChain();
    const view = await open(path.join(jobDir, 'chk-2'));
    const keyed = view.operator(KEYED_UID);
    const counts = expectedCounts()
      .filter(
        (e) =>
          !(e.key === 'alice' && e.namespace === '') &&
          !(e.key === 'carol' && e.namespace === 'w1'),
      )
      .map((e) => (e.key === 'bob' ? { ...e, value: -1 } : e));
    counts.push({ key: 'erin', namespace: '', value: 5, keyGroup: keyGroupOf('erin') });
    expect(await collect(keyed.entries('count'))).toEqual(inReadingOrder(counts));
    expect(await keyed.get('count', 'alice')).toBeUndefined();
    expect(await keyed.get('count', 'alice', 'w1')).toBe(0);
    expect(await keyed.get('count', 'erin')).toBe(5);
    expect(await keyed.get('events', 'dave')).toBeUndefined();
    expect(await keyed.get('events', 'bob')).toEqual(['e1', { n: 1 }]);
    expect(await keyed.get('prefs', 'dave')).toBeUndefined();
    expect(await keyed.get('recent', 'carol')).toEqual([2, 99]);
    const sessions = await collect(keyed.entries('session'));
    expect(sessions.find((e) => e.key === 'alice')).toMatchObject({
      value: 'renewed',
      lastAccess: T0 + 1000,
    });
    expect(sessions.find((e) => e.key === 'bob')).toMatchObject({
      value: 's1',
      lastAccess: T0 + 1,
    });
    const recent = await collect(keyed.entries('recent', { raw: true }));
    expect(recent.find((e) => e.key === 'carol')!.value).toEqual([
      [2, T0 + 2],
      [99, T0 + 1000],
    ]);
    // Timers come from the newest file of the chain.
    expect((await keyed.readKeyGroup(keyGroupOf('alice'))).timers).toEqual(
      timersOf('chk-2').get(keyGroupOf('alice')),
    );
    const summary = await keyed.states();
    expect(summary.find((s) => s.name === 'count')).toMatchObject({ entries: 11, keys: 9 });
    expect(summary.find((s) => s.name === 'events')).toMatchObject({ entries: 7, keys: 7 });
  });

  it('reads the same content from the chain as from a canonical savepoint of that state', async () => {
    const { jobDir, savepoint } = await writeChain();
    const chain = (await open(path.join(jobDir, 'chk-2'))).operator(KEYED_UID);
    const canonical = (await open(savepoint)).operator(KEYED_UID);
    expect(chain.keyGroups().map((g) => g.keyGroup)).toEqual(
      canonical.keyGroups().map((g) => g.keyGroup),
    );
    for (let kg = 0; kg < MAX_P; kg++) {
      expect(await chain.readKeyGroup(kg)).toEqual(await canonical.readKeyGroup(kg));
    }
    expect(await chain.states()).toEqual(await canonical.states());
  });

  it('picks the newest chk-N with a readable _metadata of a job directory', async () => {
    const { jobDir } = await writeChain();
    let view = await open(jobDir);
    expect(view.location).toBe(`file://${jobDir}/chk-2`);
    fs.writeFileSync(path.join(jobDir, 'chk-2', '_metadata'), '{"version":1,');
    fs.mkdirSync(path.join(jobDir, 'chk-3'));
    view = await open(`file://${jobDir}`);
    expect(view.location).toBe(`file://${jobDir}/chk-1`);
    expect(await view.operator(KEYED_UID).get('count', 'alice')).toBe(1);
    await expect(open(path.join(jobDir, 'chk-2'))).rejects.toThrow(
      new RegExp(`^file://${jobDir}/chk-2/_metadata is corrupted: not JSON`),
    );
    await expect(open(path.join(jobDir, 'chk-2'))).rejects.toBeInstanceOf(CheckpointMetadataError);
    // The _metadata file itself names its directory.
    expect((await open(path.join(jobDir, 'chk-1', '_metadata'))).location).toBe(
      `file://${jobDir}/chk-1`,
    );
  });
});

describe('openSavepoint errors', () => {
  async function savepoint(): Promise<string> {
    const job = await openJob('hashmap');
    job.populate();
    return writeSavepoint(await job.snapshot(9, 'canonical'));
  }

  it('a directory without _metadata nor checkpoints says what to give', async () => {
    const dir = tempDir();
    await expect(openSavepoint(dir)).rejects.toThrow(
      new CheckpointMetadataError(
        `file://${dir}/_metadata does not exist, and file://${dir} holds no chk-<n> directories: give the directory ` +
          'of a savepoint or checkpoint (the one that holds _metadata) or a job checkpoint directory',
      ),
    );
  });

  it('a corrupted state file is named with the key group', async () => {
    const dir = await savepoint();
    const view = await open(dir);
    const handle = view.metadata.operators[1]!.subtasks[0]!.keyed!;
    const file = path.join(dir, handle.files[0]!.path);
    const kg = view
      .operator(KEYED_UID)
      .keyGroups()
      .find((g) => g.subtask === 0)!.keyGroup;
    const bytes = fs.readFileSync(file);
    // Garbage over the key group's block, past the envelope's header.
    const start = handle.files[0]!.offsets[kg - handle.keyGroupRange[0]]!;
    bytes.fill(0xee, start + 8, start + 24);
    fs.writeFileSync(file, bytes);
    const fresh = (await open(dir)).operator(KEYED_UID);
    const failure = fresh.readKeyGroup(kg);
    await expect(failure).rejects.toBeInstanceOf(StateFileCorruptedError);
    await expect(failure).rejects.toThrow(
      new RegExp(`^State file file://${file} is corrupted: key group ${kg} cannot be read`),
    );
    await expect(fresh.states()).rejects.toThrow(`State file file://${file} is corrupted`);
  });

  it('a missing state file is named', async () => {
    const dir = await savepoint();
    const view = await open(dir);
    const handle = view.metadata.operators[1]!.subtasks[1]!.keyed!;
    const file = path.join(dir, handle.files[0]!.path);
    fs.rmSync(file);
    const keyed = view.operator(KEYED_UID);
    await expect(
      keyed.get(
        'count',
        KEYS.find((k) => subtaskOf(k) === 1)!,
      ),
    ).rejects.toThrow(new StateFileNotFoundError(`file://${file}`));
    await expect(collect(keyed.entries('count'))).rejects.toThrow(
      `State file file://${file} does not exist`,
    );
  });

  it('a _metadata naming a file outside the checkpoint is refused, not read', async () => {
    const dir = await savepoint();
    const metadataFile = path.join(dir, '_metadata');
    const metadata = JSON.parse(fs.readFileSync(metadataFile, 'utf8')) as {
      operators: { subtasks: { keyed?: { files: { path: string }[] } }[] }[];
    };
    metadata.operators[1]!.subtasks[0]!.keyed!.files[0]!.path = '../../etc/passwd';
    fs.writeFileSync(metadataFile, JSON.stringify(metadata));
    await expect(openSavepoint(dir)).rejects.toThrow(
      new RegExp(
        `^file://${dir}/_metadata is corrupted: operator "${KEYED_UID}" subtask 0: State file path "\\.\\./\\.\\./etc/passwd" resolves to`,
      ),
    );
  });

  it('a truncated state file is named', async () => {
    const dir = await savepoint();
    const view = await open(dir);
    const handle = view.metadata.operators[1]!.subtasks[0]!.keyed!;
    const file = path.join(dir, handle.files[0]!.path);
    fs.truncateSync(file, Math.floor(handle.files[0]!.size / 2));
    await expect(view.operator(KEYED_UID).states()).rejects.toThrow(
      new RegExp(`^State file file://${file} is truncated`),
    );
  });
});

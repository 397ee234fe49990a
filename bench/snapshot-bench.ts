/**
 * Snapshots of the keyed state backends; its figures are in docs/state.md ("Snapshots").
 * Run: `npx tsx bench/snapshot-bench.ts` (options: --keys N, --changed F, --sections hashmap,level).
 *
 * - hashmap: the synchronous part of snapshot() (what the barrier waits for), materialize, and a
 *   restore, over N keys of a ValueState holding a number, then holding a 4-field object.
 * - level: N keys of a ValueState<number>; a full native snapshot, then a fraction F of the keys
 *   updated and a delta snapshot (sync part and materialize), a canonical snapshot for reference,
 *   the restore of the full + delta chain.
 * - tracking: the level write path (every key updated) with and without change tracking, on two
 *   backends with the same data, passes alternated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValueStateDescriptor } from '@nimble/api';
import { assignToKeyGroup, createKeyedStateBackend, KeyGroupRange } from '@nimble/runtime';
import type { KeyedStateBackend, StateBackendKind } from '@nimble/runtime';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    changed: { type: 'string', default: '0.05' },
    sections: { type: 'string', default: 'hashmap,level,tracking' },
  },
});
const N = Number(args.keys);
const CHANGED = Number(args.changed);
const sections = new Set(args.sections.split(','));
const MAX_PARALLELISM = 128;
const CHUNK = 1000;

const keys = Array.from({ length: N }, (_, i) => `user-${i}`);
const keyGroups = keys.map((key) => assignToKeyGroup(key, MAX_PARALLELISM));
const dirs: string[] = [];

async function open(kind: StateBackendKind): Promise<KeyedStateBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'nimble-snapshot-bench-'));
  dirs.push(dir);
  const backend = createKeyedStateBackend({
    kind,
    operatorName: 'snapshot-bench (1/1)',
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
    localDir: dir,
  });
  await backend.open();
  return backend;
}

/** Drives `perRecord` over the keys `which` selects, like the task: chunks, availability, maintain. */
async function drive(
  backend: KeyedStateBackend,
  which: (i: number) => boolean,
  perRecord: (i: number) => void,
): Promise<{ ms: number; records: number }> {
  const start = performance.now();
  let lastMaintain = start;
  let records = 0;
  for (let from = 0; from < N; from += CHUNK) {
    const to = Math.min(N, from + CHUNK);
    for (let i = from; i < to; i++) {
      if (!which(i)) continue;
      backend.setCurrentKey(keys[i]!, keyGroups[i]!);
      perRecord(i);
      records++;
    }
    const blocked = backend.availability();
    if (blocked !== undefined) await blocked;
    else await new Promise<void>((resolve) => setImmediate(resolve));
    const now = performance.now();
    if (now - lastMaintain >= 100) {
      backend.maintain();
      lastMaintain = now;
    }
  }
  await backend.flush();
  return { ms: performance.now() - start, records };
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

function mib(blocks: readonly Uint8Array[]): string {
  let bytes = 0;
  for (const block of blocks) bytes += block.length;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function blocksOf(blocks: readonly Uint8Array[]): { keyGroup: number; bytes: Uint8Array }[] {
  return blocks.map((bytes, keyGroup) => ({ keyGroup, bytes }));
}

async function hashmapSection(): Promise<void> {
  console.log(`\n## hashmap: ${N.toLocaleString('en-US')} keys, best of 3`);
  console.log('| value | snapshot() sync part | materialize | restore | blocks |');
  console.log('|---|---|---|---|---|');
  const cases: [string, (i: number) => unknown][] = [
    ['number', (i) => i * 1.5],
    ['4-field object', (i) => ({ userId: keys[i], count: i, sum: i * 1.5, last: 1_700_000_000 })],
  ];
  for (const [name, valueOf] of cases) {
    const backend = await open('hashmap');
    const state = backend.getState(new ValueStateDescriptor<unknown>('v'));
    await drive(
      backend,
      () => true,
      (i) => state.update(valueOf(i)),
    );
    let sync = Infinity;
    let materialize = Infinity;
    let restore = Infinity;
    let blocks: Uint8Array[] = [];
    for (let run = 1; run <= 3; run++) {
      let start = performance.now();
      const snapshot = backend.snapshot(run, 'native');
      sync = Math.min(sync, performance.now() - start);
      start = performance.now();
      blocks = await snapshot.materialize();
      materialize = Math.min(materialize, performance.now() - start);
      snapshot.release();
      const restored = await open('hashmap');
      start = performance.now();
      await restored.restore('canonical', blocksOf(blocks));
      restore = Math.min(restore, performance.now() - start);
      await restored.close();
    }
    console.log(`| ${name} | ${ms(sync)} | ${ms(materialize)} | ${ms(restore)} | ${mib(blocks)} |`);
    await backend.close();
  }
}

async function levelSection(): Promise<void> {
  const changedEvery = Math.round(1 / CHANGED);
  console.log(
    `\n## level: ${N.toLocaleString('en-US')} keys, ValueState<number>, 1 in ${changedEvery} keys changed for the delta`,
  );
  const backend = await open('level');
  const state = backend.getState(new ValueStateDescriptor<number>('v'));
  const all = (): boolean => true;
  const create = await drive(backend, all, (i) => state.update(i));

  let start = performance.now();
  const full = backend.snapshot(1, 'native');
  const fullSync = performance.now() - start;
  start = performance.now();
  const fullBlocks = await full.materialize();
  const fullMaterialize = performance.now() - start;
  full.release();
  backend.notifyCheckpointComplete(1);

  const changed = await drive(
    backend,
    (i) => i % changedEvery === 0,
    (i) => state.update(-i),
  );
  start = performance.now();
  const delta = backend.snapshot(2, 'native');
  const deltaSync = performance.now() - start;
  start = performance.now();
  const deltaBlocks = await delta.materialize();
  const deltaMaterialize = performance.now() - start;
  delta.release();
  if (delta.kind !== 'level-delta') throw new Error(`expected a delta, got ${delta.kind}`);
  backend.notifyCheckpointComplete(2);

  start = performance.now();
  const canonical = backend.snapshot(3, 'canonical');
  const canonicalBlocks = await canonical.materialize();
  const canonicalMaterialize = performance.now() - start;
  canonical.release();

  const restored = await open('level');
  start = performance.now();
  await restored.restore('level-full', blocksOf(fullBlocks));
  await restored.restore('level-delta', blocksOf(deltaBlocks));
  const restore = performance.now() - start;
  await restored.close();
  await backend.close();

  console.log('| step | time | blocks |');
  console.log('|---|---|---|');
  console.log(`| create ${N.toLocaleString('en-US')} keys | ${ms(create.ms)} | |`);
  console.log(`| full: snapshot() sync part | ${ms(fullSync)} | |`);
  console.log(`| full: materialize | ${ms(fullMaterialize)} | ${mib(fullBlocks)} |`);
  console.log(`| update ${changed.records.toLocaleString('en-US')} keys | ${ms(changed.ms)} | |`);
  console.log(`| delta: snapshot() sync part | ${ms(deltaSync)} | |`);
  console.log(`| delta: materialize | ${ms(deltaMaterialize)} | ${mib(deltaBlocks)} |`);
  console.log(
    `| canonical: snapshot() + materialize | ${ms(canonicalMaterialize)} | ${mib(canonicalBlocks)} |`,
  );
  console.log(`| restore full + delta into a new LevelDB | ${ms(restore)} | |`);
}

async function trackingSection(): Promise<void> {
  console.log(`\n## level write path, ${N.toLocaleString('en-US')} keys updated per pass, ops/s`);
  const untracked = await open('level');
  const tracked = await open('level');
  const states = [untracked, tracked].map((backend) =>
    backend.getState(new ValueStateDescriptor<number>('v')),
  );
  for (let b = 0; b < 2; b++)
    await drive(
      [untracked, tracked][b]!,
      () => true,
      (i) => states[b]!.update(i),
    );
  // A completed native snapshot: from now on the tracked backend records changed keys.
  const full = tracked.snapshot(1, 'native');
  await full.materialize();
  full.release();
  tracked.notifyCheckpointComplete(1);
  const results: [number[], number[]] = [[], []];
  for (let pass = 1; pass <= 2; pass++) {
    for (let b = 0; b < 2; b++) {
      const { ms: time, records } = await drive(
        [untracked, tracked][b]!,
        () => true,
        (i) => states[b]!.update(i + pass),
      );
      results[b]!.push(Math.round((records / time) * 1000));
    }
  }
  const show = (r: number[]): string => r.map((n) => n.toLocaleString('en-US')).join(', ');
  console.log(`| without tracking | ${show(results[0])} |`);
  console.log(`| with tracking (all keys changed) | ${show(results[1])} |`);
  await untracked.close();
  await tracked.close();
}

console.log(`node ${process.version}, ${N.toLocaleString('en-US')} keys`);
try {
  if (sections.has('hashmap')) await hashmapSection();
  if (sections.has('level')) await levelSection();
  if (sections.has('tracking')) await trackingSection();
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

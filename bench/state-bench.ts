/**
 * Micro benchmark of the keyed state backends; its figures are in docs/state.md.
 * Run: `npx tsx bench/state-bench.ts` (options: --keys N, --sections codec,layout,backends).
 *
 * - codec: the `level` backend's value bytes: node:v8, JSON + UTF-8, and the chosen tagged codec.
 * - layout: the `hashmap` backend's Map layouts on raw Maps (the chosen one and two others).
 * - leveldb: raw classic-level getSync of missing and existing keys, its default options against
 *   the level backend's.
 * - backends: ValueState read+update and ReducingState add over N distinct keys on both backends,
 *   driven like the task drives them: records in chunks of 1000, availability() checked and the
 *   event loop turned between chunks, maintain() every 100 ms, a final flush() inside the timing.
 * - large: the level backend with big per-key state (--large-keys N, default 1 M, of
 *   --value-bytes B, default 4096: the seed's per-user state), driven the same way: loading every
 *   key (each a read of a key never written, then a write), reads + updates of a hot set of keys
 *   that fits the cache (--hot-keys, default 30,000), and reads of keys never written. With
 *   --cache-size BYTES the backend's cache is set (state.backend.level.cache-size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import {
  Duration,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
} from '@nimble/api';
import { assignToKeyGroup, createKeyedStateBackend, KeyGroupRange } from '@nimble/runtime';
import type { KeyedStateBackend, StateBackendKind } from '@nimble/runtime';
// Internals of @nimble/runtime's level backend, measured directly.
import { LEVELDB_OPTIONS } from '../packages/runtime/src/state/level-keyed-state-backend.js';
import { decodeValue, encodeValue } from '../packages/runtime/src/state/value-codec.js';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    sections: { type: 'string', default: 'codec,layout,leveldb,backends' },
    'large-keys': { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '4096' },
    'hot-keys': { type: 'string', default: '30000' },
    'cache-size': { type: 'string' },
  },
});
const N = Number(args.keys);
const sections = new Set(args.sections.split(','));
const MAX_PARALLELISM = 128;
const CHUNK = 1000;

function opsPerSecond(ops: number, ms: number): string {
  return Math.round((ops / ms) * 1000).toLocaleString('en-US');
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

// ---- codec ----

function codecSection(): void {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const v8RoundTrip = (value: unknown): unknown => deserialize(serialize(value));
  const jsonRoundTrip = (value: unknown): unknown =>
    JSON.parse(decoder.decode(encoder.encode(JSON.stringify(value))));
  const chosenRoundTrip = (value: unknown): unknown => decodeValue(encodeValue(value, 0), 0);
  const event = { userId: 'user-123456', count: 17, sum: 1234.5, lastSeen: 1_700_000_000_000 };
  const cases: [string, unknown][] = [
    ['number', 12345.678],
    ['string (11 chars)', 'user-123456'],
    ['flat object (4 fields)', event],
    ['nested object', { user: event, tags: ['a', 'b'] }],
    ['list of 20 numbers', Array.from({ length: 20 }, (_, i) => i * 1.5)],
    ['list of 20 flat objects', Array.from({ length: 20 }, (_, i) => ({ ...event, count: i }))],
    ['Map of 10 entries', new Map(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]))],
  ];
  console.log('\n## codec: encode + decode round trips per second (bytes stored)');
  console.log('| value | node:v8 | JSON + UTF-8 | chosen (value-codec.ts) |');
  console.log('|---|---|---|---|');
  for (const [name, value] of cases) {
    const iterations = 300_000;
    const measure = (roundTrip: (v: unknown) => unknown, bytes: () => number): string => {
      try {
        if (!isDeepStrictEqual(roundTrip(value), value)) return 'loses the value';
        for (let i = 0; i < 20_000; i++) roundTrip(value); // warm-up
        const ms = time(() => {
          for (let i = 0; i < iterations; i++) roundTrip(value);
        });
        return `${opsPerSecond(iterations, ms)} (${bytes()} B)`;
      } catch (e) {
        return `throws ${(e as Error).name}`;
      }
    };
    const v8 = measure(v8RoundTrip, () => serialize(value).length);
    const json = measure(jsonRoundTrip, () => encoder.encode(JSON.stringify(value)).length);
    const chosen = measure(chosenRoundTrip, () => encodeValue(value, 0).length);
    console.log(`| ${name} | ${v8} | ${json} | ${chosen} |`);
  }
  const rich: [string, unknown][] = [
    ['Map', new Map([['a', 1]])],
    ['Set', new Set([1, 2])],
    ['Date', new Date(0)],
    ['bigint', 2n ** 64n],
    ['undefined field', { a: undefined }],
    ['NaN', Number.NaN],
    ['-0 field', { a: -0 }],
    ['lone surrogate', '\ud800'],
    ['Uint8Array', Uint8Array.of(1, 2, 3)],
    ['shared reference', ((o) => ({ a: o, b: o }))({ x: 1 })],
  ];
  console.log('\nround trip keeps the value: node:v8 / JSON / chosen');
  for (const [name, value] of rich) {
    const check = (roundTrip: (v: unknown) => unknown): string => {
      try {
        const back = roundTrip(value) as Record<string, unknown>;
        let same = isDeepStrictEqual(back, value);
        if (name === 'undefined field') same &&= 'a' in back;
        if (name === 'shared reference') same &&= back['a'] === back['b'];
        return same ? 'yes' : 'no';
      } catch (e) {
        return `throws ${(e as Error).name}`;
      }
    };
    console.log(
      `- ${name}: ${check(v8RoundTrip)} / ${check(jsonRoundTrip)} / ${check(chosenRoundTrip)}`,
    );
  }
}

// ---- hashmap layout ----

function layoutSection(keys: readonly string[], keyGroups: readonly number[]): void {
  const n = keys.length;
  const namespaces = ['1000', '2000', '3000', '4000'];
  const groups = <V>(): Map<string, V>[] =>
    Array.from({ length: MAX_PARALLELISM }, () => new Map<string, V>());
  const defaultNs = (): string => '';
  const fourNs = (i: number): string => namespaces[i & 3]!;

  // Chosen: per key group, the default namespace by key; other namespaces nested under the key.
  const chosen = (nsOf: (i: number) => string): number => {
    const byKey = groups<number>();
    const byKeyNs = groups<Map<string, number>>();
    return time(() => {
      for (let i = 0; i < n; i++) {
        const ns = nsOf(i);
        if (ns === '') {
          const m = byKey[keyGroups[i]!]!;
          m.set(keys[i]!, (m.get(keys[i]!) ?? 0) + 1);
        } else {
          const m = byKeyNs[keyGroups[i]!]!;
          let inner = m.get(keys[i]!);
          if (inner === undefined) m.set(keys[i]!, (inner = new Map()));
          inner.set(ns, (inner.get(ns) ?? 0) + 1);
        }
      }
    });
  };
  // Flink's NestedMapsStateTable: key group -> key -> namespace for every namespace.
  const nested = (nsOf: (i: number) => string): number => {
    const byKey = groups<Map<string, number>>();
    return time(() => {
      for (let i = 0; i < n; i++) {
        const m = byKey[keyGroups[i]!]!;
        const ns = nsOf(i);
        let inner = m.get(keys[i]!);
        if (inner === undefined) m.set(keys[i]!, (inner = new Map()));
        inner.set(ns, (inner.get(ns) ?? 0) + 1);
      }
    });
  };
  // Flat: key group -> one string of namespace and key.
  const flat = (nsOf: (i: number) => string): number => {
    const byKey = groups<number>();
    return time(() => {
      for (let i = 0; i < n; i++) {
        const m = byKey[keyGroups[i]!]!;
        const ns = nsOf(i);
        const composite = ns === '' ? keys[i]! : `${ns.length}:${ns}${keys[i]!}`;
        m.set(composite, (m.get(composite) ?? 0) + 1);
      }
    });
  };
  const layouts: [string, (nsOf: (i: number) => string) => number][] = [
    ['key group -> key (-> namespace), chosen', chosen],
    ['key group -> key -> namespace', nested],
    ['key group -> "namespace + key" string', flat],
  ];
  // Best of 3 rounds, interleaved, each on fresh Maps (the first rounds pay for JIT and heap growth).
  const best = layouts.map(() => [Infinity, Infinity]);
  for (let round = 0; round < 3; round++) {
    layouts.forEach(([, run], i) => {
      best[i]![0] = Math.min(best[i]![0]!, run(defaultNs));
      best[i]![1] = Math.min(best[i]![1]!, run(fourNs));
    });
  }
  console.log(
    `\n## hashmap layout: get + set over ${n.toLocaleString('en-US')} distinct keys (raw Maps, best of 3)`,
  );
  console.log("| layout | namespace '' ops/s | 4 namespaces ops/s |");
  console.log('|---|---|---|');
  layouts.forEach(([name], i) => {
    console.log(
      `| ${name} | ${opsPerSecond(n, best[i]![0]!)} | ${opsPerSecond(n, best[i]![1]!)} |`,
    );
  });
}

// ---- leveldb options ----

/** The part of classic-level's ClassicLevel used here (its types resolve from the runtime package only). */
interface RawLevel {
  open(): Promise<void>;
  batch(): { put(key: Uint8Array, value: Uint8Array): unknown; write(): Promise<void> };
  getSync(key: Uint8Array): Uint8Array | undefined;
  close(): Promise<void>;
}

async function leveldbSection(n: number): Promise<void> {
  // classic-level is a dependency of @nimble/runtime, resolved from there.
  const require = createRequire(new URL('../packages/runtime/package.json', import.meta.url));
  const { ClassicLevel } = (await import(require.resolve('classic-level'))) as {
    ClassicLevel: new (location: string, options: object) => RawLevel;
  };
  const encoder = new TextEncoder();
  const existing = Array.from({ length: n }, (_, i) =>
    encoder.encode(`\u0000\u0010\u0000\u0001\u000cuser-${i}`),
  );
  const missing = Array.from({ length: n }, (_, i) =>
    encoder.encode(`\u0000\u0010\u0000\u0001\u000cnone-${i}`),
  );
  const value = encodeValue(12345.678, 0);
  console.log(
    `\n## leveldb: getSync over ${n.toLocaleString('en-US')} keys written in batches of 10,000`,
  );
  console.log('| options | miss ops/s | hit ops/s (scattered order) |');
  console.log('|---|---|---|');
  const cases: [string, object][] = [
    ['classic-level defaults (4 MiB write buffer, 8 MiB cache)', {}],
    [
      `level backend (${LEVELDB_OPTIONS.writeBufferSize >> 20} MiB, ${LEVELDB_OPTIONS.cacheSize >> 20} MiB)`,
      LEVELDB_OPTIONS,
    ],
  ];
  for (const [name, options] of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'nimble-leveldb-bench-'));
    const db = new ClassicLevel(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      ...options,
    });
    await db.open();
    try {
      for (let from = 0; from < n; from += 10_000) {
        const batch = db.batch();
        for (let i = from; i < Math.min(n, from + 10_000); i++) batch.put(existing[i]!, value);
        await batch.write();
      }
      const missMs = time(() => {
        for (let i = 0; i < n; i++) db.getSync(missing[i]!);
      });
      const hitMs = time(() => {
        for (let i = 0; i < n; i++) db.getSync(existing[(i * 7919) % n]!);
      });
      console.log(`| ${name} | ${opsPerSecond(n, missMs)} | ${opsPerSecond(n, hitMs)} |`);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

// ---- backends ----

interface Workload {
  name: string;
  run(
    backend: KeyedStateBackend,
    keys: readonly string[],
    keyGroups: readonly number[],
  ): Promise<number>;
}

/** Drives `perRecord` like the task: chunks, availability between them, maintain every 100 ms. */
async function drive(
  backend: KeyedStateBackend,
  keys: readonly string[],
  keyGroups: readonly number[],
  perRecord: (i: number) => void,
): Promise<number> {
  const start = performance.now();
  let lastMaintain = start;
  for (let from = 0; from < keys.length; from += CHUNK) {
    const to = Math.min(keys.length, from + CHUNK);
    for (let i = from; i < to; i++) {
      backend.setCurrentKey(keys[i]!, keyGroups[i]!);
      perRecord(i);
    }
    const blocked = backend.availability();
    if (blocked !== undefined) await blocked;
    // A task yields between batches of records (its input arrives asynchronously): this is when
    // the level backend learns that a batch write finished and starts the next one.
    else await new Promise<void>((resolve) => setImmediate(resolve));
    const now = performance.now();
    if (now - lastMaintain >= 100) {
      backend.maintain();
      lastMaintain = now;
    }
  }
  await backend.flush();
  return performance.now() - start;
}

const workloads: Workload[] = [
  {
    name: 'ValueState value() + update()',
    run(backend, keys, keyGroups) {
      const state = backend.getState(new ValueStateDescriptor<number>('count'));
      return drive(backend, keys, keyGroups, () => state.update((state.value() ?? 0) + 1));
    },
  },
  {
    name: 'ValueState value() + update(), TTL',
    run(backend, keys, keyGroups) {
      const ttl = StateTtlConfig.newBuilder(Duration.ofHours(1)).build();
      const state = backend.getState(
        new ValueStateDescriptor<number>('count-ttl').enableTimeToLive(ttl),
      );
      return drive(backend, keys, keyGroups, () => state.update((state.value() ?? 0) + 1));
    },
  },
  {
    name: 'ReducingState add()',
    run(backend, keys, keyGroups) {
      const state = backend.getState(new ReducingStateDescriptor<number>('sum', (a, b) => a + b));
      return drive(backend, keys, keyGroups, (i) => state.add(i));
    },
  },
];

async function backendsSection(
  keys: readonly string[],
  keyGroups: readonly number[],
): Promise<void> {
  const n = keys.length;
  console.log(
    `\n## backends: ${n.toLocaleString('en-US')} distinct keys, ops/s (one op = one record)`,
  );
  console.log('| backend | workload | pass 1: new keys | pass 2: existing keys |');
  console.log('|---|---|---|---|');
  for (const kind of ['hashmap', 'level'] as StateBackendKind[]) {
    for (const workload of workloads) {
      const dir = mkdtempSync(join(tmpdir(), 'nimble-state-bench-'));
      const backend = createKeyedStateBackend({
        kind,
        operatorName: 'state-bench (1/1)',
        maxParallelism: MAX_PARALLELISM,
        keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
        localDir: dir,
      });
      await backend.open();
      try {
        const first = await workload.run(backend, keys, keyGroups);
        const second = await workload.run(backend, keys, keyGroups);
        console.log(
          `| ${kind} | ${workload.name} | ${opsPerSecond(n, first)} | ${opsPerSecond(n, second)} |`,
        );
      } finally {
        await backend.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
}

// ---- large state on level ----

/** What the level backend reports about its reads (absent before it had key filters). */
interface ReadStats {
  dbReads: number;
  filtered: number;
}

function readStatsOf(backend: KeyedStateBackend): ReadStats | undefined {
  const stats = (backend as { readStats?: () => ReadStats }).readStats;
  return stats?.call(backend);
}

async function largeSection(): Promise<void> {
  const n = Number(args['large-keys']);
  const valueBytes = Number(args['value-bytes']);
  const hot = Math.min(n, Number(args['hot-keys']));
  const cacheSize = args['cache-size'] === undefined ? undefined : Number(args['cache-size']);
  const keys = Array.from({ length: n }, (_, i) => `user-${i}`);
  const keyGroups = keys.map((key) => assignToKeyGroup(key, MAX_PARALLELISM));
  const filler = 'x'.repeat(valueBytes);
  const dir = mkdtempSync(join(tmpdir(), 'nimble-state-bench-large-'));
  const backend = createKeyedStateBackend({
    kind: 'level',
    operatorName: 'state-bench (1/1)',
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: new KeyGroupRange(0, MAX_PARALLELISM - 1),
    localDir: dir,
    ...(cacheSize === undefined ? {} : { readCacheSize: cacheSize }),
  });
  await backend.open();
  const stats = (): string => {
    const s = readStatsOf(backend);
    return s === undefined
      ? 'n/a'
      : `${s.dbReads.toLocaleString('en-US')} / ${s.filtered.toLocaleString('en-US')}`;
  };
  const row = (what: string, ops: number, ms: number, before: ReadStats | undefined): void => {
    const after = readStatsOf(backend);
    const reads =
      before === undefined || after === undefined
        ? 'n/a'
        : `${(after.dbReads - before.dbReads).toLocaleString('en-US')} / ${(after.filtered - before.filtered).toLocaleString('en-US')}`;
    console.log(`| ${what} | ${opsPerSecond(ops, ms)} | ${reads} |`);
  };
  console.log(
    `\n## large: level, ${n.toLocaleString('en-US')} keys of ${valueBytes} B, ValueState<string>` +
      (cacheSize === undefined ? '' : `, cache ${cacheSize} B`),
  );
  console.log('| phase | ops/s | LevelDB reads / reads a filter answered |');
  console.log('|---|---|---|');
  try {
    const state = backend.getState(new ValueStateDescriptor<string>('profile'));
    let before = readStatsOf(backend);
    let ms = await drive(backend, keys, keyGroups, (i) => {
      if (state.value() === undefined) state.update(keys[i]! + filler);
    });
    row('load: value() of a new key + update()', n, ms, before);

    // Hot keys in a scattered order, each visited many times: after the first visits they are
    // cached, so LevelDB should not be read for them again.
    const rounds = 10;
    const hotKeys: string[] = [];
    const hotGroups: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < hot; i++) {
        const k = (i * 7919 + r * 104_729) % hot;
        hotKeys.push(keys[k]!);
        hotGroups.push(keyGroups[k]!);
      }
    }
    before = readStatsOf(backend);
    ms = await drive(backend, hotKeys, hotGroups, () => {
      state.update(state.value()!);
    });
    row(
      `hot: value() + update() over ${hot.toLocaleString('en-US')} keys x ${rounds}`,
      hotKeys.length,
      ms,
      before,
    );

    const missing = keys.map((key) => `none-${key}`);
    const missingGroups = missing.map((key) => assignToKeyGroup(key, MAX_PARALLELISM));
    before = readStatsOf(backend);
    ms = await drive(backend, missing, missingGroups, () => {
      if (state.value() !== undefined) throw new Error('a key never written has a value');
    });
    row('negative: value() of keys never written', missing.length, ms, before);
    console.log(`(LevelDB reads / filtered, whole run: ${stats()})`);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const keys = Array.from({ length: N }, (_, i) => `user-${i}`);
const keyGroups = keys.map((key) => assignToKeyGroup(key, MAX_PARALLELISM));
console.log(`node ${process.version}, ${N.toLocaleString('en-US')} keys`);
if (sections.has('codec')) codecSection();
if (sections.has('layout')) layoutSection(keys, keyGroups);
if (sections.has('leveldb')) await leveldbSection(N);
if (sections.has('backends')) await backendsSection(keys, keyGroups);
if (sections.has('large')) await largeSection();

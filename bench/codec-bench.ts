/**
 * Micro-benchmark behind docs/serialization.md: encode + decode of network buffers of the seed's
 * record shapes, as the exchange carries them (`[16 + keyGroup, timestamp, record]` per record),
 * with Nimble's tagged codec, V8's serializer, and (when installed) msgpackr and cbor-x.
 *
 *   npx tsx bench/codec-bench.ts
 *   NIMBLE_BENCH_MODULES=/path/to/node_modules npx tsx bench/codec-bench.ts   # with msgpackr, cbor-x
 *
 * The alternatives are not dependencies of Nimble; install them anywhere (`npm i msgpackr cbor-x`
 * in a scratch directory) and point NIMBLE_BENCH_MODULES at its node_modules. Codecs are measured
 * in turns (each codec once per round, several rounds) and the best round is kept, so a busy
 * machine disturbs the comparison less.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { purchaseAt } from '@nimble/examples/purchases';
import type { ElementHandler } from '@nimble/runtime';
import { decodeElements, encodeElements } from '@nimble/runtime';
import { serialize } from 'node:v8';

const N = 1000;
const ROUND_MS = 400;
const ROUNDS = Number(process.env['ROUNDS'] ?? 5);

const options = { users: 100_000, msPerEvent: 1, maxDelayMs: 3000 };
const purchases = Array.from({ length: N }, (_, i) => purchaseAt(i, options));
const shapes: Record<string, unknown[]> = {
  'objects {user_id, amount_usd, category_id, event_time_ms}': purchases,
  'tuples [user, amount, category, eventTime]': purchases.map((p) => [
    p.user_id,
    p.amount_usd,
    p.category_id,
    p.event_time_ms,
  ]),
};

/** The flat element array of a buffer of keyed records. */
function elements(records: unknown[]): unknown[] {
  const flat: unknown[] = [];
  records.forEach((r, i) => flat.push(16 + (i % 128), 1_767_225_600_000 + i, r));
  return flat;
}

interface Codec {
  encode(flat: unknown[]): Uint8Array;
  /** Decodes and visits every record (returns the record count). */
  decode(buffer: Uint8Array): number;
}

let sink = 0;
const handler: ElementHandler = {
  record: (v) => {
    sink += v === undefined ? 0 : 1;
  },
  watermark: () => {},
  watermarkStatus: () => {},
  endOfPartition: () => {},
  barrier: () => {},
  cancelBarrier: () => {},
};

const codecs: Record<string, Codec> = {
  'nimble tagged': { encode: encodeElements, decode: (b) => decodeElements(b, handler) },
  // What encodeElements falls back to; decodeElements reads both.
  'v8 serializer': { encode: (flat) => serialize(flat), decode: (b) => decodeElements(b, handler) },
};

/** A decoded flat element array, visited like the exchange does. */
function visit(a: unknown[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 3) {
    handler.record(a[i + 2], a[i + 1] as number, (a[i] as number) - 16);
    n++;
  }
  return n;
}

const modules = process.env['NIMBLE_BENCH_MODULES'];
if (modules) {
  const require = createRequire(`${modules}/`);
  type Packer = { pack(v: unknown): Uint8Array; unpack(b: Uint8Array): unknown };
  type CborCodec = { encode(v: unknown): Uint8Array; decode(b: Uint8Array): unknown };
  const { Packr } = require('msgpackr') as { Packr: new (o: object) => Packer };
  const { Encoder } = require('cbor-x') as { Encoder: new (o: object) => CborCodec };
  const version = (m: string) =>
    (JSON.parse(readFileSync(`${modules}/${m}/package.json`, 'utf8')) as { version: string })
      .version;
  const msgpackr = (label: string, o: object): void => {
    // A packer per buffer: record structures are defined inside each buffer, as the consumer
    // cannot share the producer's state.
    codecs[`msgpackr ${version('msgpackr')} ${label}`] = {
      encode: (flat) => new Packr(o).pack(flat),
      decode: (b) => visit(new Packr(o).unpack(b) as unknown[]),
    };
  };
  msgpackr('records', { useRecords: true, moreTypes: true });
  msgpackr('records + structuredClone', {
    useRecords: true,
    moreTypes: true,
    structuredClone: true,
  });
  const cbor = (label: string, o: object): void => {
    codecs[`cbor-x ${version('cbor-x')} ${label}`] = {
      encode: (flat) => new Encoder(o).encode(flat),
      decode: (b) => visit(new Encoder(o).decode(b) as unknown[]),
    };
  };
  cbor('records', { useRecords: true });
  cbor('records + structuredClone', { useRecords: true, structuredClone: true });
}

/** Records per second of encode and decode of one buffer, over about ROUND_MS. */
function round(codec: Codec, flat: unknown[]): { encode: number; decode: number } {
  let buffer = codec.encode(flat);
  let n = 0;
  let t = performance.now();
  let end = t + ROUND_MS / 2;
  while (performance.now() < end) {
    buffer = codec.encode(flat);
    n++;
  }
  const encode = (n * N) / ((performance.now() - t) / 1000);
  n = 0;
  t = performance.now();
  end = t + ROUND_MS / 2;
  while (performance.now() < end) {
    if (codec.decode(buffer) !== N) throw new Error('lost records');
    n++;
  }
  const decode = (n * N) / ((performance.now() - t) / 1000);
  return { encode, decode };
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`load average before: ${load()}`);
for (const [shape, records] of Object.entries(shapes)) {
  const flat = elements(records);
  const best = new Map<string, { encode: number; decode: number }>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, codec] of Object.entries(codecs)) {
      const x = round(codec, flat);
      const b = best.get(name);
      best.set(name, {
        encode: Math.max(b?.encode ?? 0, x.encode),
        decode: Math.max(b?.decode ?? 0, x.decode),
      });
    }
  }
  console.log(`\n${shape}, ${N} records per buffer, best of ${ROUNDS} rounds`);
  console.log('| codec | encode M rec/s | decode M rec/s | encode+decode ns/record | B/record |');
  console.log('|---|---|---|---|---|');
  for (const [name, codec] of Object.entries(codecs)) {
    const b = best.get(name)!;
    const ns = 1e9 / b.encode + 1e9 / b.decode;
    const bytes = codec.encode(flat).length / N;
    console.log(
      `| ${name} | ${(b.encode / 1e6).toFixed(2)} | ${(b.decode / 1e6).toFixed(2)} | ${ns.toFixed(0)} | ${bytes.toFixed(1)} |`,
    );
  }
}
console.log(`\nload average after: ${load()} (${sink > 0 ? 'ok' : 'no records'})`);

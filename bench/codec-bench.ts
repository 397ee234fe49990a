/**
 * Micro-benchmark behind docs/serialization.md: encode/decode rates of a 1000-record buffer with
 * JSON and with V8's serializer. Run: `npx tsx bench/codec-bench.ts`.
 */
import { deserialize, serialize } from 'node:v8';

const N = 1000;
const ROUNDS = 300;
const objects = Array.from({ length: N }, (_, i) => ({
  userId: `user-${(i * 7919) % 100000}`,
  amountUsd: Math.round(Math.random() * 10000) / 100,
  categoryId: i % 50,
  eventTimeMs: 1_700_000_000_000 + i * 13,
}));
const tuples = objects.map((r) => [r.userId, r.amountUsd, r.categoryId, r.eventTimeMs]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function measure(
  name: string,
  data: unknown[],
  encode: (d: unknown[]) => Uint8Array,
  decode: (b: Uint8Array) => unknown,
): void {
  let buffer = encode(data);
  let t = performance.now();
  for (let r = 0; r < ROUNDS; r++) buffer = encode(data);
  const encodeRate = (N * ROUNDS) / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let r = 0; r < ROUNDS; r++) decode(buffer);
  const decodeRate = (N * ROUNDS) / ((performance.now() - t) / 1000);
  const k = (x: number) => `${(x / 1e6).toFixed(2)} M rec/s`;
  console.log(
    `${name.padEnd(22)} encode ${k(encodeRate)}  decode ${k(decodeRate)}  ${(buffer.length / N).toFixed(1)} B/record`,
  );
}

const json = (d: unknown[]) => {
  const parts: string[] = [];
  for (const v of d) parts.push('0', '1700000000000', JSON.stringify(v));
  return encoder.encode(`[${parts.join(',')}]`);
};
const fromJson = (b: Uint8Array) => JSON.parse(decoder.decode(b)) as unknown;
const v8 = (d: unknown[]) => {
  const flat: unknown[] = [];
  for (const v of d) flat.push(0, 1_700_000_000_000, v);
  return serialize(flat);
};

for (let round = 0; round < 2; round++) {
  measure('json objects', objects, json, fromJson);
  measure('json tuples', tuples, json, fromJson);
  measure('v8 objects', objects, v8, deserialize);
  measure('v8 tuples', tuples, v8, deserialize);
}

/**
 * A state value as JSON for the REST API: Map -> object when all its keys are strings, else an
 * array of [key, value] pairs; Set -> array; bigint -> decimal string; Date -> ISO string; typed
 * arrays -> arrays of numbers; undefined -> null. Everything else as JSON.stringify sees it.
 */
export function stateValueToJson(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      return null;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>)];
    if (entries.every(([k]) => typeof k === 'string')) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries) out[k as string] = stateValueToJson(v);
      return out;
    }
    return entries.map(([k, v]) => [stateValueToJson(k), stateValueToJson(v)]);
  }
  if (value instanceof Set) return [...(value as Set<unknown>)].map(stateValueToJson);
  if (ArrayBuffer.isView(value)) {
    if (value instanceof DataView) return [...new Uint8Array(value.buffer)];
    return Array.from(value as unknown as ArrayLike<number | bigint>, (x) =>
      typeof x === 'bigint' ? x.toString() : x,
    );
  }
  if (Array.isArray(value)) return value.map(stateValueToJson);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = stateValueToJson(v);
  return out;
}

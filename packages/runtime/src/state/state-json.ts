// How state keys and values are shown as JSON (`nimble savepoint inspect`, REST, the State
// Processor API's output). State holds what V8's structured serialization keeps, which JSON
// cannot all represent, so one mapping is used everywhere (docs/state-access.md):
//
//   Map                       -> array of [key, value] pairs, in the map's order (keys keep
//                                their type: 1, '1' and 1n stay apart)
//   Set                       -> array of its values, in order
//   bigint                    -> string of its decimal digits ("12345678901234567890")
//   undefined                 -> null (also as an array element or object property)
//   NaN, Infinity, -Infinity  -> the strings "NaN", "Infinity", "-Infinity"; -0 -> 0
//   Date                      -> ISO 8601 string (an invalid Date: null)
//   Uint8Array, Buffer,       -> base64 string of the bytes
//   ArrayBuffer, DataView
//   other typed arrays        -> array of the elements (BigInt64Array's as strings)
//   RegExp                    -> its source as a string ("/ab+c/i")
//   Error                     -> { name, message }
//   boxed primitives          -> the primitive
//   an object reached again   -> the string "[Circular]" (V8 keeps cycles, JSON cannot)
//     inside itself
//
// Plain objects and arrays map field by field; class instances are plain objects once stored.

/** A value JSON can represent exactly. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** `value` (a state key, value, accumulator, ...) as JSON can hold it; see the mapping above. */
export function stateValueToJson(value: unknown): JsonValue {
  return toJson(value, []);
}

function toJson(value: unknown, parents: object[]): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value === 0 ? 0 : value;
      return String(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return null;
  }
  if (value === null) return null;
  const object = value as object;
  if (parents.includes(object)) return '[Circular]';
  parents.push(object);
  try {
    return objectToJson(object, parents);
  } finally {
    parents.pop();
  }
}

function objectToJson(value: object, parents: object[]): JsonValue {
  if (Array.isArray(value)) return Array.from(value, (v: unknown) => toJson(v, parents));
  if (value instanceof Map)
    return [...value].map(([k, v]): JsonValue => [toJson(k, parents), toJson(v, parents)]);
  if (value instanceof Set) return [...value].map((v) => toJson(v, parents));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof ArrayBuffer || value instanceof DataView) {
    const bytes =
      value instanceof ArrayBuffer
        ? new Uint8Array(value)
        : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return Buffer.from(bytes).toString('base64');
  }
  if (ArrayBuffer.isView(value))
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => toJson(v, parents));
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Number || value instanceof String || value instanceof Boolean)
    return toJson(value.valueOf(), parents);
  if (value instanceof BigInt) return (value.valueOf() as bigint).toString();
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value)) out[k] = toJson(v, parents);
  return out;
}

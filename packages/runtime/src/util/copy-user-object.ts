/**
 * A deep copy of a user's function object for another parallel instance, the way Flink gives
 * every subtask its own instance by serializing the function: plain objects, arrays, maps, sets
 * and class instances (prototype kept) are copied, so fields a function sets in `open()` (state
 * handles, buffers) belong to one subtask. Functions are shared as they are: a closure's captured
 * variables cannot be copied, which is why subtasks normally run on threads of their own.
 * Only one thread running several subtasks of a vertex needs this.
 */
export function copyUserObject<T>(value: T): T {
  return copy(value, new Map()) as T;
}

function copy(value: unknown, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(copy(v, seen));
    return out;
  }
  if (value instanceof Map) {
    const out = new Map();
    seen.set(value, out);
    for (const [k, v] of value) out.set(copy(k, seen), copy(v, seen));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    seen.set(value, out);
    for (const v of value) out.add(copy(v, seen));
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Promise) {
    return value;
  }
  const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<
    string | symbol,
    unknown
  >;
  seen.set(value, out);
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    if ('value' in d) d.value = copy(d.value, seen);
    Object.defineProperty(out, key, d);
  }
  return out;
}

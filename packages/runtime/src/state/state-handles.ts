import type {
  AggregateFunction,
  AggregatingState,
  ListState,
  MapState,
  ReduceFunction,
  ReducingState,
  ValueState,
} from '@nimble/api';
import { JobDefinitionError, UserCodeError } from '../errors.js';
import type { ListStateTable, StateInfo, StateTable } from './state-table.js';

// The state handles without TTL, shared by both backends (the TTL ones are in ttl-state-handles.ts).
// They follow Flink's heap states: HeapValueState, HeapListState, HeapMapState, HeapReducingState,
// HeapAggregatingState and AbstractHeapMergingState.mergeNamespaces.

/** The part every handle shares: the namespace scope, clear, and the default mergeNamespaces. */
export abstract class NamespacedStateBase<V> {
  protected namespace = '';

  constructor(
    protected readonly table: StateTable<V>,
    protected readonly info: StateInfo,
  ) {}

  setCurrentNamespace(namespace: string): void {
    this.namespace = namespace;
  }

  clear(): void {
    this.table.remove(this.namespace);
  }

  /** The stored value of the current key and namespace as it is (Flink's `getInternal`). */
  getInternal(): V | undefined {
    return this.table.get(this.namespace);
  }

  /** Stores `value` for the current key and namespace as it is (Flink's `updateInternal`). */
  updateInternal(value: V): void {
    this.table.put(this.namespace, value);
  }

  mergeNamespaces(_target: string, _sources: readonly string[]): void {
    throw new JobDefinitionError(
      `${this.info.operatorName}: ${this.info.kind} state "${this.info.name}" cannot be merged ` +
        '(merging windows such as session windows merge only list, reducing and aggregating state); ' +
        'use a ListState, ReducingState or AggregatingState for window state of a merging window assigner.',
    );
  }
}

/** Flink's `AbstractHeapMergingState.mergeNamespaces`: sources are removed, folded, then folded into the target. */
export function mergeStoredNamespaces<V>(
  table: StateTable<V>,
  target: string,
  sources: readonly string[],
  merge: (a: V, b: V) => V | undefined,
): void {
  let merged: V | undefined;
  for (const source of sources) {
    const stored = table.get(source);
    if (stored === undefined) continue;
    table.remove(source);
    merged = merged === undefined ? stored : merge(merged, stored);
  }
  if (merged === undefined) return;
  const current = table.get(target);
  const result = current === undefined ? merged : merge(current, merged);
  if (result === undefined) table.remove(target);
  else table.put(target, result);
}

/**
 * Flink copies a default value per read (serializer.copy) so a caller cannot change it for every
 * key. Plain objects and arrays are copied; class instances are returned as they are, since a
 * structured clone would drop their prototype.
 */
export function copyDefault<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === Array.prototype || prototype === null
    ? structuredClone(value)
    : value;
}

export class ValueStateHandle<T> extends NamespacedStateBase<T> implements ValueState<T> {
  constructor(
    table: StateTable<T>,
    info: StateInfo,
    private readonly defaultValue: T | undefined,
  ) {
    super(table, info);
  }

  value(): T | undefined {
    const stored = this.table.get(this.namespace);
    if (stored !== undefined) return stored;
    return this.defaultValue === undefined ? undefined : copyDefault(this.defaultValue);
  }

  update(value: T | undefined): void {
    if (value === undefined) this.table.remove(this.namespace);
    else this.table.put(this.namespace, value);
  }
}

export class ListStateHandle<T> extends NamespacedStateBase<T[]> implements ListState<T> {
  constructor(
    protected override readonly table: ListStateTable<T>,
    info: StateInfo,
  ) {
    super(table, info);
  }

  get(): Iterable<T> {
    return this.table.get(this.namespace) ?? [];
  }

  add(value: T): void {
    this.table.append(this.namespace, [value]);
  }

  addAll(values: readonly T[]): void {
    if (values.length > 0) this.table.append(this.namespace, values);
  }

  update(values: readonly T[]): void {
    // As HeapListState.update: the list is copied, so the caller may reuse its array.
    if (values.length === 0) this.table.remove(this.namespace);
    else this.table.put(this.namespace, values.slice());
  }

  override mergeNamespaces(target: string, sources: readonly string[]): void {
    mergeStoredNamespaces(this.table, target, sources, concatInto);
  }
}

function concatInto<T>(a: T[], b: T[]): T[] {
  for (const value of b) a.push(value);
  return a;
}

/** Map state keys are primitives: they must compare by value in a JS Map and survive serialization. */
export function checkMapKey(info: StateInfo, key: unknown): void {
  const type = typeof key;
  if (type === 'string' || type === 'number' || type === 'bigint' || type === 'boolean') return;
  throw new UserCodeError(
    info.operatorName,
    `map state "${info.name}": a map key must be a string, number, bigint or boolean; got ${key === null ? 'null' : type}`,
    new TypeError(`Invalid map state key: ${String(key)}`),
  );
}

/** A re-iterable view (Flink's MapState iterables can be iterated more than once). */
export function iterableOf<T>(make: () => Iterator<T>): Iterable<T> {
  return { [Symbol.iterator]: make };
}

const EMPTY_ITERABLE: Iterable<never> = Object.freeze([]);

export class MapStateHandle<UK, UV>
  extends NamespacedStateBase<Map<UK, UV>>
  implements MapState<UK, UV>
{
  get(key: UK): UV | undefined {
    return this.table.get(this.namespace)?.get(key);
  }

  put(key: UK, value: UV): void {
    checkMapKey(this.info, key);
    const map = this.table.get(this.namespace);
    if (map === undefined) {
      this.table.put(this.namespace, new Map([[key, value]]));
    } else {
      map.set(key, value);
      if (!this.table.storesReferences) this.table.put(this.namespace, map);
    }
  }

  putAll(entries: Iterable<readonly [UK, UV]>): void {
    let map = this.table.get(this.namespace);
    const created = map === undefined;
    let changed = false;
    for (const [key, value] of entries) {
      checkMapKey(this.info, key);
      map ??= new Map();
      map.set(key, value);
      changed = true;
    }
    if (changed && map !== undefined && (created || !this.table.storesReferences))
      this.table.put(this.namespace, map);
  }

  remove(key: UK): void {
    const map = this.table.get(this.namespace);
    if (map === undefined || !map.delete(key)) return;
    // An empty map is no entry at all (as HeapMapState), so counts and snapshots stay small.
    if (map.size === 0) this.table.remove(this.namespace);
    else if (!this.table.storesReferences) this.table.put(this.namespace, map);
  }

  contains(key: UK): boolean {
    return this.table.get(this.namespace)?.has(key) ?? false;
  }

  entries(): Iterable<[UK, UV]> {
    const map = this.table.get(this.namespace);
    return map === undefined ? EMPTY_ITERABLE : iterableOf(() => map.entries());
  }

  keys(): Iterable<UK> {
    const map = this.table.get(this.namespace);
    return map === undefined ? EMPTY_ITERABLE : iterableOf(() => map.keys());
  }

  values(): Iterable<UV> {
    const map = this.table.get(this.namespace);
    return map === undefined ? EMPTY_ITERABLE : iterableOf(() => map.values());
  }

  isEmpty(): boolean {
    const map = this.table.get(this.namespace);
    return map === undefined || map.size === 0;
  }
}

export class ReducingStateHandle<T> extends NamespacedStateBase<T> implements ReducingState<T> {
  constructor(
    table: StateTable<T>,
    info: StateInfo,
    private readonly reduce: ReduceFunction<T>,
  ) {
    super(table, info);
  }

  get(): T | undefined {
    return this.table.get(this.namespace);
  }

  add(value: T): void {
    const current = this.table.get(this.namespace);
    this.table.put(this.namespace, current === undefined ? value : this.reduce(current, value));
  }

  override mergeNamespaces(target: string, sources: readonly string[]): void {
    mergeStoredNamespaces(this.table, target, sources, this.reduce);
  }
}

export class AggregatingStateHandle<IN, ACC, OUT>
  extends NamespacedStateBase<ACC>
  implements AggregatingState<IN, OUT>
{
  constructor(
    table: StateTable<ACC>,
    info: StateInfo,
    private readonly aggregate: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(table, info);
  }

  get(): OUT | undefined {
    const acc = this.table.get(this.namespace);
    return acc === undefined ? undefined : this.aggregate.getResult(acc);
  }

  add(value: IN): void {
    const acc = this.table.get(this.namespace);
    this.table.put(
      this.namespace,
      this.aggregate.add(value, acc === undefined ? this.aggregate.createAccumulator() : acc),
    );
  }

  override mergeNamespaces(target: string, sources: readonly string[]): void {
    mergeStoredNamespaces(this.table, target, sources, (a, b) => this.aggregate.merge(a, b));
  }
}

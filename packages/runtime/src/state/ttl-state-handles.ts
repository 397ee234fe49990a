import type {
  AggregateFunction,
  AggregatingState,
  ListState,
  MapState,
  ReduceFunction,
  ReducingState,
  ValueState,
} from '@nimble/api';
import { KEEP } from './state-table.js';
import type { ListStateTable, StateInfo, StateTable, TtlCleanupTarget } from './state-table.js';
import {
  checkMapKey,
  copyDefault,
  mergeStoredNamespaces,
  NamespacedStateBase,
} from './state-handles.js';
import { isExpired } from './ttl.js';
import type { TtlSettings, TtlValue } from './ttl.js';

// The state handles with TTL, after Flink's TtlValueState, TtlListState, TtlMapState,
// TtlReducingState and TtlAggregatingState: every stored value is wrapped with its last-access
// timestamp (TtlValue); lists and maps carry one timestamp per element / entry.

/**
 * Flink's `AbstractTtlDecorator.getWrappedWithTtlCheckAndUpdate`: an expired value is removed
 * (cleanup on read) and returned only with ReturnExpiredIfNotCleanedUp; with OnReadAndWrite a
 * live value's timestamp is refreshed.
 */
function getWrappedWithTtlCheckAndUpdate<T>(
  table: StateTable<TtlValue<T>>,
  namespace: string,
  ttl: TtlSettings,
): TtlValue<T> | undefined {
  const stored = table.get(namespace);
  if (stored === undefined) return undefined;
  const now = ttl.now();
  if (isExpired(stored[1], ttl.ttlMillis, now)) {
    table.remove(namespace);
    return ttl.returnExpired ? stored : undefined;
  }
  if (ttl.updateOnRead) table.put(namespace, [stored[0], now]);
  return stored;
}

/** Flink's `AbstractTtlDecorator.getUnexpired`: what the TTL reduce/aggregate functions fold into. */
function unexpired<T>(
  stored: TtlValue<T> | undefined,
  ttl: TtlSettings,
  now: number,
): T | undefined {
  if (stored === undefined) return undefined;
  return !ttl.returnExpired && isExpired(stored[1], ttl.ttlMillis, now) ? undefined : stored[0];
}

abstract class TtlScalarState<T>
  extends NamespacedStateBase<TtlValue<T>>
  implements TtlCleanupTarget<TtlValue<T>>
{
  constructor(
    table: StateTable<TtlValue<T>>,
    info: StateInfo,
    protected readonly ttl: TtlSettings,
  ) {
    super(table, info);
  }

  expireStored(stored: TtlValue<T>, now: number): TtlValue<T> | undefined | typeof KEEP {
    return isExpired(stored[1], this.ttl.ttlMillis, now) ? undefined : KEEP;
  }
}

export class TtlValueStateHandle<T> extends TtlScalarState<T> implements ValueState<T> {
  constructor(
    table: StateTable<TtlValue<T>>,
    info: StateInfo,
    ttl: TtlSettings,
    private readonly defaultValue: T | undefined,
  ) {
    super(table, info, ttl);
  }

  value(): T | undefined {
    const wrapped = getWrappedWithTtlCheckAndUpdate(this.table, this.namespace, this.ttl);
    if (wrapped !== undefined) return wrapped[0];
    return this.defaultValue === undefined ? undefined : copyDefault(this.defaultValue);
  }

  update(value: T | undefined): void {
    if (value === undefined) this.table.remove(this.namespace);
    else this.table.put(this.namespace, [value, this.ttl.now()]);
  }
}

export class TtlReducingStateHandle<T> extends TtlScalarState<T> implements ReducingState<T> {
  constructor(
    table: StateTable<TtlValue<T>>,
    info: StateInfo,
    ttl: TtlSettings,
    private readonly reduce: ReduceFunction<T>,
  ) {
    super(table, info, ttl);
  }

  get(): T | undefined {
    return getWrappedWithTtlCheckAndUpdate(this.table, this.namespace, this.ttl)?.[0];
  }

  add(value: T): void {
    const now = this.ttl.now();
    const current = unexpired(this.table.get(this.namespace), this.ttl, now);
    this.table.put(this.namespace, [
      current === undefined ? value : this.reduce(current, value),
      now,
    ]);
  }

  override mergeNamespaces(target: string, sources: readonly string[]): void {
    // Flink's TtlReduceFunction: expired operands are dropped (unless ReturnExpiredIfNotCleanedUp).
    mergeStoredNamespaces(this.table, target, sources, (a, b): TtlValue<T> | undefined => {
      const now = this.ttl.now();
      const ua = unexpired(a, this.ttl, now);
      const ub = unexpired(b, this.ttl, now);
      if (ua !== undefined && ub !== undefined) return [this.reduce(ua, ub), now];
      if (ua !== undefined) return [ua, now];
      if (ub !== undefined) return [ub, now];
      return undefined;
    });
  }
}

export class TtlAggregatingStateHandle<IN, ACC, OUT>
  extends TtlScalarState<ACC>
  implements AggregatingState<IN, OUT>
{
  constructor(
    table: StateTable<TtlValue<ACC>>,
    info: StateInfo,
    ttl: TtlSettings,
    private readonly aggregate: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(table, info, ttl);
  }

  get(): OUT | undefined {
    const wrapped = getWrappedWithTtlCheckAndUpdate(this.table, this.namespace, this.ttl);
    return wrapped === undefined ? undefined : this.aggregate.getResult(wrapped[0]);
  }

  add(value: IN): void {
    // Flink's TtlAggregateFunction.add: an expired accumulator starts over.
    const now = this.ttl.now();
    const acc =
      unexpired(this.table.get(this.namespace), this.ttl, now) ??
      this.aggregate.createAccumulator();
    this.table.put(this.namespace, [this.aggregate.add(value, acc), now]);
  }

  override mergeNamespaces(target: string, sources: readonly string[]): void {
    mergeStoredNamespaces(this.table, target, sources, (a, b): TtlValue<ACC> | undefined => {
      const now = this.ttl.now();
      const ua = unexpired(a, this.ttl, now);
      const ub = unexpired(b, this.ttl, now);
      if (ua !== undefined && ub !== undefined) return [this.aggregate.merge(ua, ub), now];
      if (ua !== undefined) return [ua, now];
      if (ub !== undefined) return [ub, now];
      return undefined;
    });
  }
}

/**
 * Per-element TTL (Flink's TtlListState). A read returns the live elements, and the expired ones
 * too with ReturnExpiredIfNotCleanedUp. It removes expired elements only when it writes anyway:
 * a list without live elements is cleared, and OnReadAndWrite stores the live elements refreshed.
 * Otherwise expired elements stay (and stay visible) until background cleanup removes them.
 */
export class TtlListStateHandle<T>
  extends NamespacedStateBase<TtlValue<T>[]>
  implements ListState<T>, TtlCleanupTarget<TtlValue<T>[]>
{
  constructor(
    protected override readonly table: ListStateTable<TtlValue<T>>,
    info: StateInfo,
    private readonly ttl: TtlSettings,
  ) {
    super(table, info);
  }

  get(): Iterable<T> {
    const stored = this.table.get(this.namespace);
    if (stored === undefined) return [];
    const now = this.ttl.now();
    const { ttlMillis, returnExpired, updateOnRead } = this.ttl;
    const result: T[] = [];
    let live = 0;
    for (const element of stored) {
      if (!isExpired(element[1], ttlMillis, now)) {
        live++;
        result.push(element[0]);
      } else if (returnExpired) {
        result.push(element[0]);
      }
    }
    if (live === 0) {
      this.table.remove(this.namespace);
    } else if (updateOnRead) {
      const refreshed: TtlValue<T>[] = [];
      for (const element of stored) {
        if (!isExpired(element[1], ttlMillis, now)) refreshed.push([element[0], now]);
      }
      this.table.put(this.namespace, refreshed);
    }
    return result;
  }

  add(value: T): void {
    this.table.append(this.namespace, [[value, this.ttl.now()]]);
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const now = this.ttl.now();
    this.table.append(
      this.namespace,
      values.map((value): TtlValue<T> => [value, now]),
    );
  }

  update(values: readonly T[]): void {
    if (values.length === 0) {
      this.table.remove(this.namespace);
      return;
    }
    const now = this.ttl.now();
    this.table.put(
      this.namespace,
      values.map((value): TtlValue<T> => [value, now]),
    );
  }

  override mergeNamespaces(target: string, sources: readonly string[]): void {
    mergeStoredNamespaces(this.table, target, sources, (a, b) => {
      for (const element of b) a.push(element);
      return a;
    });
  }

  expireStored(stored: TtlValue<T>[], now: number): TtlValue<T>[] | undefined | typeof KEEP {
    const live = stored.filter((element) => !isExpired(element[1], this.ttl.ttlMillis, now));
    if (live.length === stored.length) return KEEP;
    return live.length === 0 ? undefined : live;
  }
}

/** Per-entry TTL (Flink's TtlMapState): each map entry expires on its own. */
export class TtlMapStateHandle<UK, UV>
  extends NamespacedStateBase<Map<UK, TtlValue<UV>>>
  implements MapState<UK, UV>, TtlCleanupTarget<Map<UK, TtlValue<UV>>>
{
  constructor(
    table: StateTable<Map<UK, TtlValue<UV>>>,
    info: StateInfo,
    private readonly ttl: TtlSettings,
  ) {
    super(table, info);
  }

  /** getWrappedWithTtlCheckAndUpdate for one map entry. */
  private getWrapped(key: UK): TtlValue<UV> | undefined {
    const map = this.table.get(this.namespace);
    const stored = map?.get(key);
    if (map === undefined || stored === undefined) return undefined;
    const now = this.ttl.now();
    if (isExpired(stored[1], this.ttl.ttlMillis, now)) {
      map.delete(key);
      this.storeChanged(map);
      return this.ttl.returnExpired ? stored : undefined;
    }
    if (this.ttl.updateOnRead) {
      map.set(key, [stored[0], now]);
      this.storeChanged(map);
    }
    return stored;
  }

  private storeChanged(map: Map<UK, TtlValue<UV>>): void {
    if (map.size === 0) this.table.remove(this.namespace);
    else if (!this.table.storesReferences) this.table.put(this.namespace, map);
  }

  get(key: UK): UV | undefined {
    return this.getWrapped(key)?.[0];
  }

  contains(key: UK): boolean {
    return this.getWrapped(key) !== undefined;
  }

  put(key: UK, value: UV): void {
    checkMapKey(this.info, key);
    const map = this.table.get(this.namespace);
    const entry: TtlValue<UV> = [value, this.ttl.now()];
    if (map === undefined) {
      this.table.put(this.namespace, new Map([[key, entry]]));
    } else {
      map.set(key, entry);
      if (!this.table.storesReferences) this.table.put(this.namespace, map);
    }
  }

  putAll(entries: Iterable<readonly [UK, UV]>): void {
    const now = this.ttl.now();
    let map = this.table.get(this.namespace);
    const created = map === undefined;
    let changed = false;
    for (const [key, value] of entries) {
      checkMapKey(this.info, key);
      map ??= new Map();
      map.set(key, [value, now]);
      changed = true;
    }
    if (changed && map !== undefined && (created || !this.table.storesReferences))
      this.table.put(this.namespace, map);
  }

  remove(key: UK): void {
    const map = this.table.get(this.namespace);
    if (map === undefined || !map.delete(key)) return;
    this.storeChanged(map);
  }

  /** All entries a read may see, with cleanup of the expired ones and refresh on read. */
  private visibleEntries(): [UK, UV][] {
    const map = this.table.get(this.namespace);
    if (map === undefined) return [];
    const now = this.ttl.now();
    const { ttlMillis, returnExpired, updateOnRead } = this.ttl;
    const result: [UK, UV][] = [];
    let changed = false;
    for (const [key, stored] of map) {
      if (isExpired(stored[1], ttlMillis, now)) {
        map.delete(key);
        changed = true;
        if (returnExpired) result.push([key, stored[0]]);
      } else {
        result.push([key, stored[0]]);
        if (updateOnRead) {
          map.set(key, [stored[0], now]);
          changed = true;
        }
      }
    }
    if (changed) this.storeChanged(map);
    return result;
  }

  entries(): Iterable<[UK, UV]> {
    return this.visibleEntries();
  }

  keys(): Iterable<UK> {
    return this.visibleEntries().map((entry) => entry[0]);
  }

  values(): Iterable<UV> {
    return this.visibleEntries().map((entry) => entry[1]);
  }

  isEmpty(): boolean {
    return this.visibleEntries().length === 0;
  }

  expireStored(
    stored: Map<UK, TtlValue<UV>>,
    now: number,
  ): Map<UK, TtlValue<UV>> | undefined | typeof KEEP {
    let removed = false;
    for (const [key, entry] of stored) {
      if (isExpired(entry[1], this.ttl.ttlMillis, now)) {
        stored.delete(key);
        removed = true;
      }
    }
    if (!removed) return KEEP;
    return stored.size === 0 ? undefined : stored;
  }
}

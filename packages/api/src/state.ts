import type { AggregateFunction, ReduceFunction } from './functions.js';
import type { Duration } from './time.js';
import { positiveMillis } from './time.js';

/** Keys of a keyed stream: strings, numbers, bigints, booleans, or arrays of them. */
export type Key = string | number | bigint | boolean | readonly Key[];

/** Common interface of all keyed state: scoped to the current key (and window). */
export interface State {
  /** Removes the value of the current key. */
  clear(): void;
}

/** A single value per key. `value()` is `undefined` until `update` is called. */
export interface ValueState<T> extends State {
  /** The current key's value, or `undefined`. */
  value(): T | undefined;
  /** Sets the current key's value; `undefined` clears it. */
  update(value: T | undefined): void;
}

/** A list of values per key. */
export interface ListState<T> extends State {
  /** The current key's elements (empty when none). */
  get(): Iterable<T>;
  /** Appends an element. */
  add(value: T): void;
  /** Appends all elements. */
  addAll(values: readonly T[]): void;
  /** Replaces the list. */
  update(values: readonly T[]): void;
}

/** A map per key. */
export interface MapState<UK, UV> extends State {
  /** The value for `key`, or `undefined`. */
  get(key: UK): UV | undefined;
  /** Puts a mapping. */
  put(key: UK, value: UV): void;
  /** Puts all mappings. */
  putAll(entries: Iterable<readonly [UK, UV]>): void;
  /** Removes a mapping. */
  remove(key: UK): void;
  /** Whether `key` is mapped. */
  contains(key: UK): boolean;
  /** All mappings. */
  entries(): Iterable<[UK, UV]>;
  /** All keys. */
  keys(): Iterable<UK>;
  /** All values. */
  values(): Iterable<UV>;
  /** Whether the map of the current key is empty. */
  isEmpty(): boolean;
}

/** State that folds added values with a {@link ReduceFunction}. */
export interface ReducingState<T> extends State {
  /** The reduced value, or `undefined` when nothing was added. */
  get(): T | undefined;
  /** Folds `value` into the state. */
  add(value: T): void;
}

/** State that folds added values with an {@link AggregateFunction}. */
export interface AggregatingState<IN, OUT> extends State {
  /** The aggregate's result, or `undefined` when nothing was added. */
  get(): OUT | undefined;
  /** Adds `value` to the accumulator. */
  add(value: IN): void;
}

/**
 * Broadcast state as the non-broadcast side of a broadcast connection sees it: read only
 * (Flink's `ReadOnlyBroadcastState`). Every parallel instance holds the same entries, because
 * only the broadcast side, which sees every broadcast element, may change them.
 */
export interface ReadOnlyBroadcastState<K, V> {
  /** The value for `key`, or `undefined`. */
  get(key: K): V | undefined;
  /** Whether `key` is mapped. */
  contains(key: K): boolean;
  /** A copy of all entries, safe to keep. */
  immutableEntries(): Iterable<readonly [K, V]>;
}

/**
 * Broadcast state as the broadcast side sees it: read-write (Flink's `BroadcastState`). A map of
 * operator state, checkpointed with the operator and restored on every parallel instance at any
 * parallelism.
 */
export interface BroadcastState<K, V> extends ReadOnlyBroadcastState<K, V> {
  /** All entries (live: do not change the state while iterating). */
  entries(): Iterable<[K, V]>;
  /** Puts a mapping. */
  put(key: K, value: V): void;
  /** Puts all mappings. */
  putAll(entries: Iterable<readonly [K, V]>): void;
  /** Removes a mapping. */
  remove(key: K): void;
  /** Removes all mappings. */
  clear(): void;
}

/**
 * Operator (non-keyed) state of a function (Flink's `OperatorStateStore`): state of the parallel
 * instance rather than of a key, redistributed when the job restores at another parallelism.
 */
export interface OperatorStateStore {
  /**
   * A list whose elements are spread over the new instances on rescaling (Flink's
   * even-split redistribution): each element goes to exactly one instance.
   */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** A list of which every instance gets all elements of all old instances on restore. */
  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** A broadcast map: on restore every instance gets the map (all instances held the same). */
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
  /** Names of the list and union list states registered so far. */
  getRegisteredStateNames(): Set<string>;
  /** Names of the broadcast states registered so far. */
  getRegisteredBroadcastStateNames(): Set<string>;
}

/** What refreshes a state entry's time-to-live (Flink's `StateTtlConfig.UpdateType`). */
export enum UpdateType {
  /** TTL is disabled. */
  Disabled = 'Disabled',
  /** The last-access timestamp is set on creation and on every write. */
  OnCreateAndWrite = 'OnCreateAndWrite',
  /** As OnCreateAndWrite, and also on every read. */
  OnReadAndWrite = 'OnReadAndWrite',
}

/** Whether an expired entry that is not cleaned up yet may be returned. */
export enum StateVisibility {
  /**
   * An expired value is returned if it has not been cleaned up yet. A value or map entry is
   * cleaned up by the read that finds it expired; a list's expired elements stay until the list
   * has no live element, an OnReadAndWrite read, or background cleanup.
   */
  ReturnExpiredIfNotCleanedUp = 'ReturnExpiredIfNotCleanedUp',
  /** An expired value is never returned. */
  NeverReturnExpired = 'NeverReturnExpired',
}

/** The notion of time of TTL: only processing time, as in Flink. */
export enum TtlTimeCharacteristic {
  /** Wall-clock time of the TaskManager. */
  ProcessingTime = 'ProcessingTime',
}

/** Time-to-live of state entries (Flink's `StateTtlConfig`). Build with `StateTtlConfig.newBuilder`. */
export class StateTtlConfig {
  /** See {@link UpdateType}. */
  static readonly UpdateType = UpdateType;
  /** See {@link StateVisibility}. */
  static readonly StateVisibility = StateVisibility;

  /** @internal use {@link StateTtlConfig.newBuilder}. */
  constructor(
    /** Entries expire this many milliseconds after their last access of `updateType`. */
    readonly ttlMillis: number,
    readonly updateType: UpdateType,
    readonly stateVisibility: StateVisibility,
    /** Expired entries are removed in the background (incrementally while the job runs). */
    readonly cleanupInBackground: boolean,
    /** How many entries one background cleanup step checks. */
    readonly cleanupBatchSize: number,
  ) {}

  /**
   * A builder with `ttl`, OnCreateAndWrite, NeverReturnExpired and background cleanup (Flink's defaults).
   *
   * @throws RangeError when `ttl` is not positive.
   */
  static newBuilder(ttl: Duration): StateTtlConfigBuilder {
    return new StateTtlConfigBuilder(positiveMillis('StateTtlConfig.newBuilder: ttl', ttl));
  }

  /** Whether TTL is enabled. */
  isEnabled(): boolean {
    return this.updateType !== UpdateType.Disabled && this.ttlMillis > 0;
  }
}

/** Builder of {@link StateTtlConfig}. */
export class StateTtlConfigBuilder {
  private updateType = UpdateType.OnCreateAndWrite;
  private visibility = StateVisibility.NeverReturnExpired;
  private background = true;
  private batchSize = 1000;

  /** @internal use {@link StateTtlConfig.newBuilder}. */
  constructor(private ttlMillis: number) {
    if (!(ttlMillis > 0)) throw new RangeError(`State TTL must be positive; got ${ttlMillis} ms`);
  }
  /** Sets what refreshes the TTL. */
  setUpdateType(updateType: UpdateType): this {
    this.updateType = updateType;
    return this;
  }
  /** Refreshes the TTL on creation and write. */
  updateTtlOnCreateAndWrite(): this {
    return this.setUpdateType(UpdateType.OnCreateAndWrite);
  }
  /** Refreshes the TTL on read and write. */
  updateTtlOnReadAndWrite(): this {
    return this.setUpdateType(UpdateType.OnReadAndWrite);
  }
  /** Sets whether expired values may be returned. */
  setStateVisibility(visibility: StateVisibility): this {
    this.visibility = visibility;
    return this;
  }
  /** Never return expired values. */
  neverReturnExpired(): this {
    return this.setStateVisibility(StateVisibility.NeverReturnExpired);
  }
  /** Return expired values until they are cleaned up. */
  returnExpiredIfNotCleanedUp(): this {
    return this.setStateVisibility(StateVisibility.ReturnExpiredIfNotCleanedUp);
  }
  /**
   * Sets the TTL.
   *
   * @throws RangeError when `ttl` is not positive.
   */
  setTtl(ttl: Duration): this {
    this.ttlMillis = positiveMillis('StateTtlConfigBuilder.setTtl: ttl', ttl);
    return this;
  }
  /** Only processing time is supported, as in Flink. */
  setTtlTimeCharacteristic(_c: TtlTimeCharacteristic): this {
    return this;
  }
  /**
   * Removes expired entries in the background, checking `cleanupSize` entries per step
   * (Flink's incremental heap cleanup and RocksDB compaction filter, in one setting).
   */
  cleanupIncrementally(cleanupSize: number): this {
    this.background = true;
    this.batchSize = Math.max(1, Math.floor(cleanupSize));
    return this;
  }
  /** Alias of {@link cleanupIncrementally} under the name of Flink's RocksDB compaction filter. */
  cleanupInRocksdbCompactFilter(queryTimeAfterNumEntries: number): this {
    return this.cleanupIncrementally(queryTimeAfterNumEntries);
  }
  /** Expired entries are only removed when read. */
  disableCleanupInBackground(): this {
    this.background = false;
    return this;
  }
  /** The config. */
  build(): StateTtlConfig {
    return new StateTtlConfig(
      this.ttlMillis,
      this.updateType,
      this.visibility,
      this.background,
      this.batchSize,
    );
  }
}

/** The kinds of keyed state. */
export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

/** Names a piece of keyed state and how it behaves. Unique by name within an operator. */
export abstract class StateDescriptor<S extends State> {
  /** @internal */
  declare readonly __state?: S;
  private ttl: StateTtlConfig | undefined;
  private queryableStateName: string | undefined;
  abstract readonly kind: StateKind;

  protected constructor(readonly name: string) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError('A state descriptor needs a non-empty name');
    }
  }
  /** Expires entries of this state after the config's TTL. */
  enableTimeToLive(config: StateTtlConfig): this {
    this.ttl = config;
    return this;
  }
  /** The TTL config, if enabled. */
  getTtlConfig(): StateTtlConfig | undefined {
    return this.ttl?.isEnabled() ? this.ttl : undefined;
  }
  /**
   * Makes the state queryable from outside the job under `queryableStateName` (Flink's
   * `StateDescriptor.setQueryable`): the JobManager answers
   * `GET /jobs/:jobid/state/:queryableStateName?key=...` and `JobManagerClient.getState` from
   * the subtask that owns the key, with the key's value as of now. The name must be unique
   * within the job: two operators registering it fail the job.
   *
   * @throws TypeError when the name is empty.
   */
  setQueryable(queryableStateName: string): this {
    if (typeof queryableStateName !== 'string' || queryableStateName.length === 0) {
      throw new TypeError(`State "${this.name}": setQueryable needs a non-empty name`);
    }
    this.queryableStateName = queryableStateName;
    return this;
  }
  /** Whether {@link setQueryable} was called. */
  isQueryable(): boolean {
    return this.queryableStateName !== undefined;
  }
  /** The name the state is queryable under, or undefined when it is not queryable. */
  getQueryableStateName(): string | undefined {
    return this.queryableStateName;
  }
}

/** Descriptor of a {@link ValueState}. */
export class ValueStateDescriptor<T> extends StateDescriptor<ValueState<T>> {
  readonly kind = 'value';
  /** `defaultValue` is returned by `value()` while nothing is stored (deprecated in Flink, kept for ports). */
  constructor(
    name: string,
    readonly defaultValue?: T,
  ) {
    super(name);
  }
}

/** Descriptor of a {@link ListState}. */
export class ListStateDescriptor<T> extends StateDescriptor<ListState<T>> {
  readonly kind = 'list';
  constructor(name: string) {
    super(name);
  }
}

/** Descriptor of a {@link MapState}. Map keys must be strings, numbers, bigints or booleans. */
export class MapStateDescriptor<UK, UV> extends StateDescriptor<MapState<UK, UV>> {
  readonly kind = 'map';
  constructor(name: string) {
    super(name);
  }
}

/** Descriptor of a {@link ReducingState}. */
export class ReducingStateDescriptor<T> extends StateDescriptor<ReducingState<T>> {
  readonly kind = 'reducing';
  constructor(
    name: string,
    readonly reduceFunction: ReduceFunction<T>,
  ) {
    super(name);
  }
}

/** Descriptor of an {@link AggregatingState}. */
export class AggregatingStateDescriptor<IN, ACC, OUT> extends StateDescriptor<
  AggregatingState<IN, OUT>
> {
  readonly kind = 'aggregating';
  constructor(
    name: string,
    readonly aggregateFunction: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(name);
  }
}

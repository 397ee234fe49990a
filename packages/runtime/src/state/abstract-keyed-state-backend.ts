import type { Key, State, StateDescriptor, StateKind } from '@nimble/api';
import { IllegalStateError, JobDefinitionError } from '../errors.js';
import { createStateHandle } from './create-state-handle.js';
import type {
  KeyedSnapshotKind,
  KeyedStateBackend,
  KeyedStateSnapshot,
  KeyGroupStateBlock,
  NamespacedState,
  PendingKeyedStateApplication,
  SnapshotFormat,
} from './keyed-state-backend.js';
import type {
  KeyedStateBackendOptionsWithDefaults,
  StateBackendKind,
} from './keyed-state-backend-options.js';
import { describeStoredKind } from './state-table.js';
import type { StateInfo, StateTable, TtlCleanupTarget } from './state-table.js';
import { ttlSettings } from './ttl.js';
import { assignToKeyGroup } from '../keys/index.js';
import {
  describeKeys,
  queriedValueOf,
  QueryableStateUnavailableError,
  UnknownQueryableStateError,
} from './queryable-state.js';
import type { QueriedValue, QueryableStateRegistration } from './queryable-state.js';
import type { TtlSettings } from './ttl.js';

/** The keys of a state for applyToAllKeys: `keys[i]` is in key group `keyGroups[i]`. */
export interface StateKeys {
  readonly keys: Key[];
  readonly keyGroups: number[];
}

/** created -> open -> closed; `opening`/`closing` while the async step runs. */
export type BackendStatus = 'created' | 'opening' | 'open' | 'closing' | 'closed';

interface RegisteredState {
  readonly kind: StateKind;
  readonly handle: NamespacedState<State>;
  readonly descriptor: StateDescriptor<State>;
  readonly table: StateTable<unknown>;
  readonly ttl: TtlSettings | undefined;
}

/** What both backends share: the current key, state registration, and the lifecycle checks. */
export abstract class AbstractKeyedStateBackend implements KeyedStateBackend {
  abstract readonly kind: StateBackendKind;
  protected status: BackendStatus = 'created';
  protected currentKey: Key | undefined = undefined;
  /** Read by the state tables on every access. */
  currentKeyGroup = -1;
  protected readonly operatorName: string;
  protected readonly firstKeyGroup: number;
  protected readonly lastKeyGroup: number;
  private readonly registered = new Map<string, RegisteredState>();
  /** State names by queryable state name. */
  private readonly queryable = new Map<string, string>();

  constructor(protected readonly options: KeyedStateBackendOptionsWithDefaults) {
    this.operatorName = options.operatorName;
    this.firstKeyGroup = options.keyGroupRange.startKeyGroup;
    this.lastKeyGroup = options.keyGroupRange.endKeyGroup;
  }

  abstract open(): Promise<void>;
  abstract setCurrentKey(key: Key, keyGroup: number): void;
  abstract availability(): Promise<void> | undefined;
  abstract maintain(): void;
  abstract flush(): Promise<void>;
  abstract stateSizeBytes(): number;
  abstract close(): Promise<void>;
  abstract numStoredEntries(stateName: string): Promise<number>;
  abstract snapshot(checkpointId: number, format: SnapshotFormat): KeyedStateSnapshot;
  abstract restore(kind: KeyedSnapshotKind, blocks: Iterable<KeyGroupStateBlock>): Promise<void>;
  abstract notifyCheckpointComplete(checkpointId: number): void;

  /**
   * The keys with an entry of `stateName` in `namespace`, as of now (copied: the function applied
   * to them may remove entries); a promise when they are read asynchronously.
   */
  protected abstract keysOf(stateName: string, namespace: string): StateKeys | Promise<StateKeys>;
  /** The table that stores the state `info` (`withTtl`: values are TtlValues). */
  protected abstract createTable(info: StateInfo, withTtl: boolean): StateTable<unknown>;
  /** Starts background TTL cleanup of a state whose config asks for it. */
  protected abstract addBackgroundCleanup(
    info: StateInfo,
    table: StateTable<unknown>,
    target: TtlCleanupTarget<unknown>,
    ttl: TtlSettings,
  ): void;

  getCurrentKey(): Key {
    if (this.currentKey === undefined) {
      throw new IllegalStateError(
        `${this.operatorName}: no current key; setCurrentKey must be called before keyed state is used`,
      );
    }
    return this.currentKey;
  }

  getCurrentKeyGroup(): number {
    return this.currentKeyGroup;
  }

  getState<S extends State>(descriptor: StateDescriptor<S>): NamespacedState<S> {
    const { name, kind } = descriptor;
    const existing = this.registered.get(name);
    if (existing !== undefined) {
      if (existing.kind !== kind) throw this.kindMismatch(name, existing.kind, kind);
      return existing.handle as NamespacedState<S>;
    }
    this.checkOpen('getState');
    const info: StateInfo = { name, kind, operatorName: this.operatorName };
    const ttlConfig = descriptor.getTtlConfig();
    const ttl =
      ttlConfig === undefined ? undefined : ttlSettings(ttlConfig, this.options.ttlTimeProvider);
    const table = this.createTable(info, ttl !== undefined);
    const { handle, cleanup } = createStateHandle(
      descriptor as StateDescriptor<State>,
      table,
      info,
      ttl,
    );
    const queryableName = descriptor.getQueryableStateName();
    if (queryableName !== undefined) this.registerQueryable(queryableName, name, descriptor);
    this.registered.set(name, {
      kind,
      handle,
      descriptor: descriptor as StateDescriptor<State>,
      table,
      ttl,
    });
    if (queryableName !== undefined) {
      this.options.onQueryableState?.({
        queryableStateName: queryableName,
        stateName: name,
        kind,
        ttl: ttl !== undefined,
      });
    }
    if (ttl !== undefined && ttl.cleanupInBackground && cleanup !== undefined) {
      this.addBackgroundCleanup(info, table, cleanup, ttl);
    }
    return handle as NamespacedState<S>;
  }

  private registerQueryable(
    queryableName: string,
    stateName: string,
    descriptor: StateDescriptor<State>,
  ): void {
    const other = this.queryable.get(queryableName);
    if (other !== undefined) {
      throw new JobDefinitionError(
        `${this.operatorName}: Registration name clash: states "${other}" and "${descriptor.name}" ` +
          `are both queryable as "${queryableName}"; give each queryable state its own name`,
      );
    }
    this.queryable.set(queryableName, stateName);
  }

  /** The states registered as queryable so far, by queryable state name. */
  queryableStates(): QueryableStateRegistration[] {
    const out: QueryableStateRegistration[] = [];
    for (const [queryableStateName, stateName] of this.queryable) {
      const r = this.registered.get(stateName)!;
      out.push({ queryableStateName, stateName, kind: r.kind, ttl: r.ttl !== undefined });
    }
    return out;
  }

  /**
   * Reads the values of `keys` of the state queryable as `queryableStateName` in `namespace`,
   * for a lookup from outside the job, as copies. Read only: the current key stays, nothing is
   * written, no TTL is refreshed (an expired entry reads as absent), a pending snapshot takes
   * nothing. Throws {@link UnknownQueryableStateError} for a name not registered here and
   * {@link QueryableStateUnavailableError} for a key of another subtask's key group.
   */
  queryState(queryableStateName: string, keys: readonly Key[], namespace = ''): QueriedValue[] {
    this.checkOpen('queryState');
    const stateName = this.queryable.get(queryableStateName);
    if (stateName === undefined) {
      throw new UnknownQueryableStateError(
        `${this.operatorName}: no state is queryable as "${queryableStateName}"`,
      );
    }
    const { descriptor, table, ttl } = this.registered.get(stateName)!;
    const maxParallelism = this.options.maxParallelism;
    const keyGroups = keys.map((key) => {
      const keyGroup = assignToKeyGroup(key, maxParallelism);
      if (keyGroup < this.firstKeyGroup || keyGroup > this.lastKeyGroup) {
        throw new QueryableStateUnavailableError(
          `${this.operatorName}: key ${describeKeys([key])} is in key group ${keyGroup}, which this ` +
            `subtask (KeyGroupRange{${this.firstKeyGroup}..${this.lastKeyGroup}}) does not own: ` +
            'the job is being rescaled or restarted; retry',
        );
      }
      return keyGroup;
    });
    return keys.map((key, i) => {
      const { found, value } = queriedValueOf(
        descriptor as StateDescriptor<never>,
        this.peek(table, key, keyGroups[i]!, namespace),
        ttl,
      );
      if (!found) return { found, value: undefined };
      // hashmap holds values by reference; level decodes a fresh copy, but an aggregate's result
      // may still share objects with user code.
      return { found, value: structuredClone(value) };
    });
  }

  /**
   * The stored entry of `key` (in `keyGroup`, of this range) in `namespace` of the state of
   * `table`, as its table stores it, or undefined; without setting the current key.
   */
  protected abstract peek(
    table: StateTable<unknown>,
    key: Key,
    keyGroup: number,
    namespace: string,
  ): unknown;

  applyToAllKeys<S extends State>(
    namespace: string,
    descriptor: StateDescriptor<S>,
    fn: (key: Key, state: S) => void,
  ): PendingKeyedStateApplication | undefined {
    this.checkOpen('applyToAllKeys');
    const state = this.getState(descriptor);
    const keys = this.keysOf(descriptor.name, namespace);
    if (!(keys instanceof Promise)) {
      this.applyToKeys(keys, state, namespace, fn);
      return undefined;
    }
    let read: StateKeys | undefined;
    let applied = false;
    const pending = {
      isReady: false,
      ready: keys.then((k) => {
        read = k;
        pending.isReady = true;
      }),
      apply: () => {
        if (read === undefined || applied)
          throw new IllegalStateError(
            `${this.operatorName}: applyToAllKeys of state "${descriptor.name}" applied ` +
              (applied ? 'twice' : 'before its keys were read'),
          );
        applied = true;
        this.applyToKeys(read, state, namespace, fn);
      },
    };
    return pending;
  }

  private applyToKeys<S extends State>(
    { keys, keyGroups }: StateKeys,
    state: NamespacedState<S>,
    namespace: string,
    fn: (key: Key, state: S) => void,
  ): void {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      this.setCurrentKey(key, keyGroups[i]!);
      // The function may reach the same state through the runtime context, which scopes it to ''.
      state.setCurrentNamespace(namespace);
      fn(key, state);
    }
  }

  protected kindMismatch(name: string, registered: string, requested: string): JobDefinitionError {
    return new JobDefinitionError(
      `${this.operatorName}: state "${name}" is registered as ${registered} state and cannot be obtained as ` +
        `${requested} state; give each state of an operator its own name`,
    );
  }

  /** A stored state asked for as another kind, or with TTL switched on or off. */
  protected storedKindMismatch(
    name: string,
    stored: string,
    requested: string,
  ): JobDefinitionError {
    return this.kindMismatch(name, describeStoredKind(stored), describeStoredKind(requested));
  }

  /**
   * Restore loads state that getState then serves: after open(), before the first getState (a
   * handle would not see what a restore wrote under it).
   */
  protected checkRestore(): void {
    this.checkOpen('restore');
    if (this.registered.size > 0) {
      throw new IllegalStateError(
        `${this.operatorName}: restore on a ${this.kind} keyed state backend after getState ` +
          `("${this.registered.keys().next().value}"); restore before the operator opens its state`,
      );
    }
  }

  /** The caller passes only key groups of this subtask's range: another is a routing bug. */
  protected checkRestoredKeyGroup(keyGroup: number): void {
    if (!(keyGroup >= this.firstKeyGroup && keyGroup <= this.lastKeyGroup)) {
      throw new IllegalStateError(
        `${this.operatorName}: restore of key group ${keyGroup}, which is not in this subtask's ` +
          `KeyGroupRange{${this.firstKeyGroup}..${this.lastKeyGroup}}`,
      );
    }
  }

  /** created -> opening; open() twice is a defect of the caller. */
  protected beginOpen(): void {
    if (this.status !== 'created') {
      throw new IllegalStateError(
        `${this.operatorName}: open() on a ${this.kind} keyed state backend that is ${this.status}`,
      );
    }
    this.status = 'opening';
  }

  protected checkOpen(what: string): void {
    if (this.status !== 'open') {
      throw new IllegalStateError(
        `${this.operatorName}: ${what} on a ${this.kind} keyed state backend that is ${this.status}` +
          (this.status === 'created' ? '; await open() first' : ''),
      );
    }
  }

  protected keyGroupOutOfRange(key: Key, keyGroup: number): IllegalStateError {
    return new IllegalStateError(
      `${this.operatorName}: key ${String(key)} is in key group ${keyGroup}, which is not in this subtask's ` +
        `KeyGroupRange{${this.firstKeyGroup}..${this.lastKeyGroup}}: the record was routed to the wrong subtask`,
    );
  }
}

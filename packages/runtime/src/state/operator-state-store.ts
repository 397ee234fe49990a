import type {
  BroadcastState,
  ListState,
  ListStateDescriptor,
  MapStateDescriptor,
  OperatorStateStore,
} from '@nimble/api';
import { JobDefinitionError } from '../errors.js';

/**
 * How an operator state is redistributed when a job restores at another parallelism (Flink's
 * `OperatorStateHandle.Mode`): `split` spreads the elements of all old subtasks over the new ones,
 * `union` gives every new subtask all elements, `broadcast` gives every new subtask the state of
 * one old subtask (they are all equal).
 */
export type OperatorStateMode = 'split' | 'union' | 'broadcast';

/** One operator state as a snapshot holds it: elements of a list, or entries of a broadcast map. */
export interface OperatorStateEntry {
  readonly mode: OperatorStateMode;
  readonly values: unknown[];
}

/** The operator states of one operator subtask, by name. */
export type OperatorStateSnapshot = Map<string, OperatorStateEntry>;

/** Operator state restored for one subtask, by name (already redistributed for its parallelism). */
export type RestoredOperatorStates = ReadonlyMap<string, OperatorStateEntry>;

class OperatorListState<T> implements ListState<T> {
  elements: T[];
  constructor(elements: T[]) {
    this.elements = elements;
  }
  get(): Iterable<T> {
    return this.elements;
  }
  add(value: T): void {
    this.elements.push(value);
  }
  addAll(values: readonly T[]): void {
    for (const v of values) this.elements.push(v);
  }
  update(values: readonly T[]): void {
    this.elements = [...values];
  }
  clear(): void {
    this.elements = [];
  }
}

class OperatorBroadcastState<K, V> implements BroadcastState<K, V> {
  readonly map: Map<K, V>;
  constructor(entries: readonly (readonly [K, V])[]) {
    this.map = new Map(entries);
  }
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  contains(key: K): boolean {
    return this.map.has(key);
  }
  entries(): Iterable<[K, V]> {
    return this.map.entries();
  }
  immutableEntries(): Iterable<readonly [K, V]> {
    return [...this.map.entries()];
  }
  put(key: K, value: V): void {
    this.map.set(key, value);
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [k, v] of entries) this.map.set(k, v);
  }
  remove(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

type Registered =
  | { mode: 'split' | 'union'; state: OperatorListState<unknown> }
  | { mode: 'broadcast'; state: OperatorBroadcastState<unknown, unknown> };

/**
 * The operator (non-keyed) state of one operator subtask (Flink's `DefaultOperatorStateBackend`):
 * named list states, union list states and broadcast map states, kept on the heap. A snapshot
 * copies the lists and maps (not the elements: elements are serialized in the snapshot's
 * synchronous phase), so the operator may change its state as soon as the snapshot returns.
 */
export class DefaultOperatorStateStore implements OperatorStateStore {
  private readonly states = new Map<string, Registered>();

  constructor(
    /** Names the operator in errors. */
    private readonly operatorName: string,
    private readonly restored: RestoredOperatorStates = new Map(),
  ) {}

  /** Whether the operator was restored from a checkpoint or savepoint that held its state. */
  get isRestored(): boolean {
    return this.restored.size > 0;
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor, 'split');
  }

  getUnionListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.list(descriptor, 'union');
  }

  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    const existing = this.registered(descriptor.name, 'broadcast');
    if (existing) return existing.state as OperatorBroadcastState<K, V>;
    const restored = this.restoredValues(descriptor.name, 'broadcast') as [K, V][];
    const state = new OperatorBroadcastState<K, V>(restored);
    this.states.set(descriptor.name, {
      mode: 'broadcast',
      state: state as OperatorBroadcastState<unknown, unknown>,
    });
    return state;
  }

  getRegisteredStateNames(): Set<string> {
    return new Set([...this.states].filter(([, r]) => r.mode !== 'broadcast').map(([n]) => n));
  }

  getRegisteredBroadcastStateNames(): Set<string> {
    return new Set([...this.states].filter(([, r]) => r.mode === 'broadcast').map(([n]) => n));
  }

  /**
   * The states as of now. States restored but not registered again are carried over as they
   * were, so state a function stopped reading is not lost by the next checkpoint.
   */
  snapshot(): OperatorStateSnapshot {
    const out: OperatorStateSnapshot = new Map();
    for (const [name, entry] of this.restored) {
      if (!this.states.has(name)) out.set(name, entry);
    }
    for (const [name, r] of this.states) {
      const values = r.mode === 'broadcast' ? [...r.state.map] : [...r.state.elements];
      out.set(name, { mode: r.mode, values });
    }
    return out;
  }

  private list<T>(descriptor: ListStateDescriptor<T>, mode: 'split' | 'union'): ListState<T> {
    const existing = this.registered(descriptor.name, mode);
    if (existing) return existing.state as OperatorListState<T>;
    const state = new OperatorListState<T>([
      ...(this.restoredValues(descriptor.name, mode) as T[]),
    ]);
    this.states.set(descriptor.name, { mode, state: state as OperatorListState<unknown> });
    return state;
  }

  private registered(name: string, mode: OperatorStateMode): Registered | undefined {
    const r = this.states.get(name);
    if (r !== undefined && r.mode !== mode) this.modeMismatch(name, r.mode, mode);
    return r;
  }

  private restoredValues(name: string, mode: OperatorStateMode): unknown[] {
    const r = this.restored.get(name);
    if (r === undefined) return [];
    if (r.mode !== mode) this.modeMismatch(name, r.mode, mode, 'was restored');
    return r.values;
  }

  private modeMismatch(
    name: string,
    was: OperatorStateMode,
    now: OperatorStateMode,
    how = 'is registered',
  ): never {
    throw new JobDefinitionError(
      `${this.operatorName}: operator state "${name}" ${how} as ${describeMode(was)} and is now ` +
        `requested as ${describeMode(now)}; use one kind per state name`,
    );
  }
}

function describeMode(mode: OperatorStateMode): string {
  switch (mode) {
    case 'split':
      return 'list state (getListState)';
    case 'union':
      return 'union list state (getUnionListState)';
    case 'broadcast':
      return 'broadcast state (getBroadcastState)';
  }
}

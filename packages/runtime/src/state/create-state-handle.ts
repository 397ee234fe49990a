import type {
  AggregatingStateDescriptor,
  ReducingStateDescriptor,
  State,
  StateDescriptor,
  ValueStateDescriptor,
} from '@nimble/api';
import type { NamespacedState } from './keyed-state-backend.js';
import {
  AggregatingStateHandle,
  ListStateHandle,
  MapStateHandle,
  ReducingStateHandle,
  ValueStateHandle,
} from './state-handles.js';
import type { ListStateTable, StateInfo, StateTable, TtlCleanupTarget } from './state-table.js';
import {
  TtlAggregatingStateHandle,
  TtlListStateHandle,
  TtlMapStateHandle,
  TtlReducingStateHandle,
  TtlValueStateHandle,
} from './ttl-state-handles.js';
import type { TtlSettings } from './ttl.js';

/** A state handle and, with TTL, its background-cleanup view. */
export interface CreatedStateHandle {
  readonly handle: NamespacedState<State>;
  readonly cleanup: TtlCleanupTarget<unknown> | undefined;
}

/** The handle of `descriptor` over `table`, with the TTL decorators when `ttl` is given. */
export function createStateHandle(
  descriptor: StateDescriptor<State>,
  table: StateTable<any>,
  info: StateInfo,
  ttl: TtlSettings | undefined,
): CreatedStateHandle {
  switch (descriptor.kind) {
    case 'value': {
      const { defaultValue } = descriptor as ValueStateDescriptor<unknown>;
      if (ttl === undefined) return plain(new ValueStateHandle(table, info, defaultValue));
      return withTtl(new TtlValueStateHandle(table, info, ttl, defaultValue));
    }
    case 'list': {
      // Both backends' tables implement ListStateTable.append.
      const listTable = table as ListStateTable<any>;
      if (ttl === undefined) return plain(new ListStateHandle(listTable, info));
      return withTtl(new TtlListStateHandle(listTable, info, ttl));
    }
    case 'map':
      return ttl === undefined
        ? plain(new MapStateHandle(table, info))
        : withTtl(new TtlMapStateHandle(table, info, ttl));
    case 'reducing': {
      const { reduceFunction } = descriptor as ReducingStateDescriptor<unknown>;
      if (ttl === undefined) return plain(new ReducingStateHandle(table, info, reduceFunction));
      return withTtl(new TtlReducingStateHandle(table, info, ttl, reduceFunction));
    }
    case 'aggregating': {
      const { aggregateFunction } = descriptor as AggregatingStateDescriptor<
        unknown,
        unknown,
        unknown
      >;
      if (ttl === undefined)
        return plain(new AggregatingStateHandle(table, info, aggregateFunction));
      return withTtl(new TtlAggregatingStateHandle(table, info, ttl, aggregateFunction));
    }
    default:
      throw new TypeError(
        `Unknown state kind "${String((descriptor as { kind: unknown }).kind)}" of state "${info.name}"`,
      );
  }
}

function plain(handle: NamespacedState<State>): CreatedStateHandle {
  return { handle, cleanup: undefined };
}

function withTtl(handle: NamespacedState<State> & TtlCleanupTarget<any>): CreatedStateHandle {
  return { handle, cleanup: handle };
}

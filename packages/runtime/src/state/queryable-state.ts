import type { AggregatingStateDescriptor, Key, StateDescriptor, StateKind } from '@nimble/api';
import { NimbleError } from '../errors.js';
import { isExpired } from './ttl.js';
import type { TtlSettings, TtlValue } from './ttl.js';

/**
 * A state a backend registered as queryable (Flink's KvState registration): reported through the
 * task to the JobManager, which routes lookups of `queryableStateName` to the owning subtask.
 */
export interface QueryableStateRegistration {
  readonly queryableStateName: string;
  /** The state's own name within its operator. */
  readonly stateName: string;
  readonly kind: StateKind;
  readonly ttl: boolean;
}

/** One key's answer of a lookup: `value` is a copy, undefined when not `found`. */
export interface QueriedValue {
  readonly found: boolean;
  readonly value: unknown;
}

/**
 * The lookup cannot be answered now, but will be soon: the subtask is not running (deploying,
 * restarting, rescaling) or does not own the key's key group any more. Worth retrying.
 */
export class QueryableStateUnavailableError extends NimbleError {
  override name = 'QueryableStateUnavailableError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'external', options);
  }
}

/** No state of the task is queryable under the name asked for. */
export class UnknownQueryableStateError extends NimbleError {
  override name = 'UnknownQueryableStateError';
  constructor(message: string) {
    super(message, 'user');
  }
}

/**
 * What a lookup returns of a stored entry, as the state's read would (value, reducing: the value;
 * aggregating: the result of the accumulator; list: the elements; map: the Map), except that an
 * expired entry or element reads as absent whatever the visibility (a lookup cleans nothing up)
 * and nothing refreshes a TTL. An empty list or map is not found.
 */
export function queriedValueOf(
  descriptor: StateDescriptor<never>,
  stored: unknown,
  ttl: TtlSettings | undefined,
): QueriedValue {
  if (stored === undefined) return NOT_FOUND;
  const now = ttl?.now() ?? 0;
  const live = (v: unknown): boolean =>
    !isExpired((v as TtlValue<unknown>)[1], ttl!.ttlMillis, now);
  switch (descriptor.kind) {
    case 'value':
    case 'reducing':
      if (ttl === undefined) return { found: true, value: stored };
      return live(stored) ? { found: true, value: (stored as TtlValue<unknown>)[0] } : NOT_FOUND;
    case 'aggregating': {
      let acc: unknown = stored;
      if (ttl !== undefined) {
        if (!live(stored)) return NOT_FOUND;
        acc = (stored as TtlValue<unknown>)[0];
      }
      const fn = (descriptor as unknown as AggregatingStateDescriptor<unknown, unknown, unknown>)
        .aggregateFunction;
      return { found: true, value: fn.getResult(acc) };
    }
    case 'list': {
      let list = stored as unknown[];
      if (ttl !== undefined) list = list.filter(live).map((e) => (e as TtlValue<unknown>)[0]);
      return list.length === 0 ? NOT_FOUND : { found: true, value: list };
    }
    case 'map': {
      let map = stored as Map<unknown, unknown>;
      if (ttl !== undefined) {
        const out = new Map<unknown, unknown>();
        for (const [k, v] of map) if (live(v)) out.set(k, (v as TtlValue<unknown>)[0]);
        map = out;
      }
      return map.size === 0 ? NOT_FOUND : { found: true, value: map };
    }
  }
}

const NOT_FOUND: QueriedValue = { found: false, value: undefined };

/** The keys a lookup asked for, named in messages (the first few). */
export function describeKeys(keys: readonly Key[]): string {
  const shown = keys.slice(0, 3).map(describeKey);
  return keys.length > 3 ? `${shown.join(', ')} and ${keys.length - 3} more` : shown.join(', ');
}

function describeKey(key: Key): string {
  if (typeof key === 'bigint') return `${key}n`;
  if (Array.isArray(key)) return `[${(key as readonly Key[]).map(describeKey).join(', ')}]`;
  return JSON.stringify(key);
}

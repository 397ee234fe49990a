import type { DurationLike } from '@nimble/api';
import { toMillis } from '@nimble/api';

/**
 * The command a {@link RedisSink} writes each element with (Bahir's `RedisCommand`, limited to
 * those whose replay writes the same content again, so at-least-once delivery of deterministic
 * values gives exactly-once content).
 */
export enum RedisCommand {
  /** `SET key value`: the value is a string. */
  SET = 'SET',
  /** `HSET key field value ...`: the value is a record of fields (null fields are `HDEL`ed). */
  HSET = 'HSET',
  /** `ZADD key score member ...`: the value is a record of member -> score. */
  ZADD = 'ZADD',
}

/** The Redis data type of a command, as `TYPE` names it. */
export type RedisDataType = 'string' | 'hash' | 'zset';

/** The data type each command writes. */
export function dataTypeOf(command: RedisCommand): RedisDataType {
  return command === RedisCommand.SET ? 'string' : command === RedisCommand.HSET ? 'hash' : 'zset';
}

/**
 * How the sink expires keys: `EX` (seconds) or `PX` (milliseconds) set on every write, or `KEEPTTL`
 * (a write leaves the key's time to live as it is). Without one, keys do not expire (a `SET` then
 * clears a previous time to live, as Redis does).
 */
export type RedisTtl =
  { readonly mode: 'EX' | 'PX'; readonly ttl: DurationLike } | { readonly mode: 'KEEPTTL' };

/** The command and expiry of a mapper (Bahir's `RedisCommandDescription`). */
export class RedisCommandDescription {
  /** The time to live in ms when `ttl` is EX or PX, rounded up to whole seconds for EX. */
  readonly ttlMillis: number | undefined;
  constructor(
    readonly command: RedisCommand,
    readonly ttl?: RedisTtl,
  ) {
    if (!Object.values(RedisCommand).includes(command)) {
      throw new Error(
        `RedisCommandDescription: unknown command '${String(command)}'; use one of ${Object.values(RedisCommand).join(', ')}`,
      );
    }
    if (ttl === undefined || ttl.mode === 'KEEPTTL') {
      this.ttlMillis = undefined;
    } else {
      if (ttl.mode !== 'EX' && ttl.mode !== 'PX') {
        throw new Error(
          `RedisCommandDescription: unknown TTL mode '${String((ttl as { mode: unknown }).mode)}'; use EX, PX or KEEPTTL`,
        );
      }
      const ms = toMillis(ttl.ttl);
      if (!(ms > 0)) throw new Error(`RedisCommandDescription: TTL ${ms} ms must be positive`);
      this.ttlMillis = ttl.mode === 'EX' ? Math.ceil(ms / 1000) * 1000 : ms;
    }
  }
}

/** A hash's fields: a null or undefined field is removed from the hash (`HDEL`). */
export type RedisHashValue = Readonly<Record<string, string | number | null | undefined>>;
/** A sorted set's members with their scores. */
export type RedisSortedSetValue = Readonly<Record<string, number>>;

/**
 * Turns an element into a key and a value (Bahir's `RedisMapper`). The value's shape follows the
 * command: a string for SET, fields for HSET, member scores for ZADD. A null value deletes the
 * key (`DEL`): an upsert changelog's deletions.
 *
 * For exactly-once content the value of a key must be a function of the input (e.g. a window's
 * aggregate keyed by the window), so that a replay after a restore writes the same value again.
 */
export interface RedisMapper<T> {
  getCommandDescription(): RedisCommandDescription;
  getKeyFromData(data: T): string;
  getValueFromData(data: T): string | RedisHashValue | RedisSortedSetValue | null;
  /**
   * The time to live of this element's key in ms, overriding the description's (EX/PX mode is the
   * description's; PX when it has none). Undefined: the description's.
   */
  getTtlFromData?(data: T): number | undefined;
}

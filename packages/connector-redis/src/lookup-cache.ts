import type { DurationLike } from '@nimble/api';
import { toMillis } from '@nimble/api';

/**
 * A cache of lookup results of one subtask (Flink's `LookupCache`), built with
 * {@link DefaultLookupCache.newBuilder}: at most `maximumSize` keys (least recently used evicted),
 * entries expire a while after they were written or last read, and keys the lookup did not find
 * are cached too unless `cacheMissingKey(false)`.
 */
export interface LookupCacheOptions {
  readonly maximumSize: number;
  readonly expireAfterWriteMs: number | undefined;
  readonly expireAfterAccessMs: number | undefined;
  readonly cacheMissingKey: boolean;
}

interface Entry<V> {
  value: V | null;
  written: number;
  accessed: number;
}

/** Flink's `DefaultLookupCache`: an LRU cache with expiry, per subtask. */
export class DefaultLookupCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Lookups answered from the cache, and those that were not (Flink's hit/miss counts). */
  hitCount = 0;
  missCount = 0;

  constructor(readonly options: LookupCacheOptions) {}

  static newBuilder(): DefaultLookupCacheBuilder {
    return new DefaultLookupCacheBuilder();
  }

  /** The cached value (null: cached as missing), or undefined when not cached or expired. */
  getIfPresent(key: string, now: number): V | null | undefined {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.missCount++;
      return undefined;
    }
    const { expireAfterWriteMs: w, expireAfterAccessMs: a } = this.options;
    if ((w !== undefined && now - e.written >= w) || (a !== undefined && now - e.accessed >= a)) {
      this.entries.delete(key);
      this.missCount++;
      return undefined;
    }
    e.accessed = now;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hitCount++;
    return e.value;
  }

  put(key: string, value: V | null, now: number): void {
    if (value === null && !this.options.cacheMissingKey) return;
    this.entries.delete(key);
    this.entries.set(key, { value, written: now, accessed: now });
    if (this.entries.size > this.options.maximumSize) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  size(): number {
    return this.entries.size;
  }

  /** A new empty cache with the same options (each subtask gets its own). */
  copy(): DefaultLookupCache<V> {
    return new DefaultLookupCache<V>(this.options);
  }
}

/** Builds a {@link DefaultLookupCache} (Flink's `DefaultLookupCache.Builder`). */
export class DefaultLookupCacheBuilder {
  private maxRows: number | undefined;
  private afterWrite: number | undefined;
  private afterAccess: number | undefined;
  private missing = true;

  /** `lookup.partial-cache.max-rows`: keys kept at most. */
  maximumSize(maximumSize: number): this {
    this.maxRows = maximumSize;
    return this;
  }
  /** `lookup.partial-cache.expire-after-write`. */
  expireAfterWrite(duration: DurationLike): this {
    this.afterWrite = toMillis(duration);
    return this;
  }
  /** `lookup.partial-cache.expire-after-access`. */
  expireAfterAccess(duration: DurationLike): this {
    this.afterAccess = toMillis(duration);
    return this;
  }
  /** `lookup.partial-cache.cache-missing-key` (true by default). */
  cacheMissingKey(cacheMissingKey: boolean): this {
    this.missing = cacheMissingKey;
    return this;
  }
  build<V>(): DefaultLookupCache<V> {
    if (
      this.maxRows === undefined &&
      this.afterWrite === undefined &&
      this.afterAccess === undefined
    ) {
      throw new Error(
        'DefaultLookupCache: set at least one of maximumSize, expireAfterWrite or expireAfterAccess',
      );
    }
    const maximumSize = this.maxRows ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(maximumSize) || maximumSize < 1) {
      throw new Error(`DefaultLookupCache: maximumSize ${maximumSize} must be a positive integer`);
    }
    for (const [name, ms] of [
      ['expireAfterWrite', this.afterWrite],
      ['expireAfterAccess', this.afterAccess],
    ] as const) {
      if (ms !== undefined && !(ms > 0)) {
        throw new Error(`DefaultLookupCache: ${name} ${ms} ms must be positive`);
      }
    }
    return new DefaultLookupCache<V>({
      maximumSize,
      expireAfterWriteMs: this.afterWrite,
      expireAfterAccessMs: this.afterAccess,
      cacheMissingKey: this.missing,
    });
  }
}

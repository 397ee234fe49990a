/**
 * A length of time in milliseconds, as Flink's `java.time.Duration` is used in its API.
 * Nimble works in milliseconds throughout: timestamps, watermarks and durations are numbers of ms.
 */
export class Duration {
  private constructor(private readonly ms: number) {}

  /** A duration of `ms` milliseconds. */
  static ofMillis(ms: number): Duration {
    return new Duration(checkedMillis(ms));
  }
  /** A duration of `s` seconds. */
  static ofSeconds(s: number): Duration {
    return new Duration(checkedMillis(s * 1000));
  }
  /** A duration of `m` minutes. */
  static ofMinutes(m: number): Duration {
    return new Duration(checkedMillis(m * 60_000));
  }
  /** A duration of `h` hours. */
  static ofHours(h: number): Duration {
    return new Duration(checkedMillis(h * 3_600_000));
  }
  /** A duration of `d` days. */
  static ofDays(d: number): Duration {
    return new Duration(checkedMillis(d * 86_400_000));
  }
  /** The zero duration. */
  static readonly ZERO = new Duration(0);

  /** This duration in milliseconds. */
  toMillis(): number {
    return this.ms;
  }

  /** A human-readable form, e.g. `5 min`. */
  toString(): string {
    return `${this.ms} ms`;
  }
}

/**
 * Flink's legacy `Time` helper for window sizes, kept because the seed's jobs use it:
 * `Time.minutes(5)` is `Duration.ofMinutes(5)`.
 */
export const Time = {
  /** `ms` milliseconds. */
  milliseconds: (ms: number): Duration => Duration.ofMillis(ms),
  /** `s` seconds. */
  seconds: (s: number): Duration => Duration.ofSeconds(s),
  /** `m` minutes. */
  minutes: (m: number): Duration => Duration.ofMinutes(m),
  /** `h` hours. */
  hours: (h: number): Duration => Duration.ofHours(h),
  /** `d` days. */
  days: (d: number): Duration => Duration.ofDays(d),
} as const;

/** Either a {@link Duration} or a number of milliseconds. */
export type DurationLike = Duration | number;

/** Milliseconds of a {@link DurationLike}. */
export function toMillis(d: DurationLike): number {
  return typeof d === 'number' ? checkedMillis(d) : d.toMillis();
}

function checkedMillis(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(Math.round(ms))) {
    throw new RangeError(
      `A duration must be a finite, non-negative number of milliseconds; got ${ms}`,
    );
  }
  return Math.round(ms);
}

/** The smallest timestamp: the watermark before any element was seen (Flink's Long.MIN_VALUE). */
export const MIN_TIMESTAMP = Number.MIN_SAFE_INTEGER;
/** The largest timestamp: the watermark at the end of a bounded input (Flink's Long.MAX_VALUE). */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

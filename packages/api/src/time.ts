/**
 * A length of time in milliseconds, as Flink's `java.time.Duration` is used in its API.
 * Nimble works in milliseconds throughout: timestamps, watermarks and durations are numbers of ms.
 *
 * Like `java.time.Duration`, a duration may be negative: a window offset of `Duration.ofHours(-8)`
 * shifts daily windows to start at 16:00 UTC. Whatever needs a length (a window size, a gap,
 * allowed lateness, a timeout, a TTL) checks its argument and throws a `RangeError` naming it.
 */
export class Duration {
  private constructor(private readonly ms: number) {}

  /** A duration of `ms` milliseconds (rounded to a whole number; may be negative). */
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
  /** A duration of `d` days (of exactly 24 hours). */
  static ofDays(d: number): Duration {
    return new Duration(checkedMillis(d * 86_400_000));
  }
  /** The zero duration. */
  static readonly ZERO = new Duration(0);

  /** This duration in milliseconds. */
  toMillis(): number {
    return this.ms;
  }
  /** Whether this duration is shorter than zero. */
  isNegative(): boolean {
    return this.ms < 0;
  }
  /** Whether this duration is zero. */
  isZero(): boolean {
    return this.ms === 0;
  }
  /** This duration with the opposite sign. */
  negated(): Duration {
    return new Duration(checkedMillis(-this.ms));
  }
  /** This duration without its sign. */
  abs(): Duration {
    return this.ms < 0 ? this.negated() : this;
  }

  /** A human-readable form, e.g. `300000 ms`. */
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

/** Milliseconds of a {@link DurationLike} (a number must be finite; it is rounded like a Duration). */
export function toMillis(d: DurationLike): number {
  return typeof d === 'number' ? checkedMillis(d) : d.toMillis();
}

function checkedMillis(ms: number): number {
  if (!Number.isFinite(ms)) {
    throw new RangeError(`A duration must be a finite number of milliseconds; got ${ms}`);
  }
  // `|| 0` turns the -0 of rounding a small negative number into 0.
  return Math.round(ms) || 0;
}

/**
 * The milliseconds of `d`, a length that must be positive (a window size, a gap, an interval).
 * Plain numbers of milliseconds are taken too, for job authors writing JavaScript.
 *
 * @param what - names the argument in the error, e.g. `TumblingEventTimeWindows.of: size`.
 * @throws RangeError naming `what` when `d` is zero or negative.
 * @internal
 */
export function positiveMillis(what: string, d: DurationLike): number {
  const ms = durationArgument(what, d);
  if (!(ms > 0)) throw new RangeError(`${what} must be positive; got ${ms} ms`);
  return ms;
}

/**
 * The milliseconds of `d`, a length that may be zero but not negative (allowed lateness, a
 * watermark's out-of-orderness).
 *
 * @param what - names the argument in the error, e.g. `allowedLateness: lateness`.
 * @throws RangeError naming `what` when `d` is negative.
 * @internal
 */
export function nonNegativeMillis(what: string, d: DurationLike): number {
  const ms = durationArgument(what, d);
  if (ms < 0) throw new RangeError(`${what} must not be negative; got ${ms} ms`);
  return ms;
}

/**
 * The milliseconds of a duration argument that may have either sign (a window offset).
 *
 * @throws TypeError naming `what` when `d` is neither a Duration nor a number.
 * @internal
 */
export function durationArgument(what: string, d: DurationLike): number {
  if (d instanceof Duration) return d.toMillis();
  if (typeof d === 'number') return checkedMillis(d);
  throw new TypeError(`${what} must be a Duration, e.g. Duration.ofSeconds(5); got ${String(d)}`);
}

/** The smallest timestamp: the watermark before any element was seen (Flink's Long.MIN_VALUE). */
export const MIN_TIMESTAMP = Number.MIN_SAFE_INTEGER;
/** The largest timestamp: the watermark at the end of a bounded input (Flink's Long.MAX_VALUE). */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

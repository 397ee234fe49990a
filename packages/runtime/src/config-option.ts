// Builders for configuration options with Flink's keys: each option knows its key, its default
// and how to parse a value given as YAML scalar, `-D` string or job configuration entry.
import type { ConfigValue } from '@nimble/api';

/**
 * A configuration option with Flink's key, its default and how to parse it. `parse` throws an
 * `Error` whose message says what is expected ("must be ..."); the configuration parsers add the
 * key, the value and where it came from.
 */
export interface ConfigOption<T> {
  readonly key: string;
  readonly defaultValue: T;
  readonly description: string;
  parse(value: ConfigValue): T;
}

/** Bounds of a numeric option, inclusive unless `exclusiveMin`. */
export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
}

function toNumber(value: ConfigValue): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return Number.NaN;
  const s = value.trim();
  return s === '' ? Number.NaN : Number(s);
}

function describeRange(range: NumberRange): string {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`${range.exclusiveMin ? '>' : '>='} ${range.min}`);
  if (range.max !== undefined) parts.push(`<= ${range.max}`);
  return parts.join(' and ');
}

function inRange(n: number, range: NumberRange): boolean {
  if (range.min !== undefined && (range.exclusiveMin ? n <= range.min : n < range.min)) {
    return false;
  }
  return range.max === undefined || n <= range.max;
}

/** An integer option. */
export function intOption(
  key: string,
  defaultValue: number,
  description: string,
  range: NumberRange = {},
): ConfigOption<number> {
  const expected = ['an integer', describeRange(range)].filter(Boolean).join(' ');
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      const n = toNumber(value);
      if (!Number.isSafeInteger(n) || !inRange(n, range)) throw new Error(`must be ${expected}`);
      return n;
    },
  };
}

/** A TCP port; 0 lets the operating system pick a free port. */
export function portOption(
  key: string,
  defaultValue: number,
  description: string,
): ConfigOption<number> {
  return intOption(key, defaultValue, description, { min: 0, max: 65_535 });
}

/** A floating-point option. */
export function numberOption(
  key: string,
  defaultValue: number,
  description: string,
  range: NumberRange = {},
): ConfigOption<number> {
  const expected = ['a number', describeRange(range)].filter(Boolean).join(' ');
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      const n = toNumber(value);
      if (!Number.isFinite(n) || !inRange(n, range)) throw new Error(`must be ${expected}`);
      return n;
    },
  };
}

// Flink's duration units (TimeUtils), each also in the plural: "5 s", "1 min", "2 hours".
const UNITS = new Map<string, number>();
for (const [factor, labels] of [
  [1, ['ms', 'milli', 'millisecond']],
  [1000, ['s', 'sec', 'second']],
  [60_000, ['m', 'min', 'minute']],
  [3_600_000, ['h', 'hour']],
  [86_400_000, ['d', 'day']],
] as const) {
  for (const label of labels) {
    UNITS.set(label, factor);
    if (label.length > 1) UNITS.set(`${label}s`, factor);
  }
}

/** A duration in milliseconds; a plain number is milliseconds, as in Flink. */
export function durationOption(
  key: string,
  defaultValue: number,
  description: string,
  range: { readonly min?: number } = {},
): ConfigOption<number> {
  const min = range.min ?? 0;
  const expected =
    'a duration such as 100, "100 ms", "5 s", "1 min" or "1 h"' +
    (min > 0 ? ` of at least ${min} ms` : '');
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      let ms: number | undefined;
      if (typeof value === 'number') {
        ms = value;
      } else if (typeof value === 'string') {
        const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
        const factor = UNITS.get(m?.[2]?.toLowerCase() || 'ms');
        if (m && factor !== undefined) ms = Number(m[1]) * factor;
      }
      if (ms === undefined || !Number.isFinite(ms) || ms < min) {
        throw new Error(`must be ${expected}`);
      }
      return ms;
    },
  };
}

/** A memory size in bytes: "32kb", "1 mb", "1g" or a number of bytes. */
export function sizeOption(
  key: string,
  defaultValue: number,
  description: string,
): ConfigOption<number> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
      const m = /^\s*(\d+)\s*(b|bytes|k|kb|m|mb|g|gb)?\s*$/i.exec(String(value));
      if (typeof value !== 'string' || !m) throw new Error('must be a size such as 32kb or 1mb');
      const unit = (m[2] ?? 'b').toLowerCase()[0];
      const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
      return Number(m[1]) * factor;
    },
  };
}

/**
 * One of `values`, case-insensitive. `aliases` maps other accepted spellings to their canonical
 * value (Flink accepts `fixeddelay` for `fixed-delay`, ...). A default of `undefined` makes an
 * option that is unset unless configured.
 */
export function enumOption<T extends string, D extends T | undefined = T>(
  key: string,
  values: readonly T[],
  defaultValue: D,
  description: string,
  aliases: Readonly<Record<string, T>> = {},
): ConfigOption<T | D> {
  const accepted = Object.keys(aliases).length
    ? `${values.join(', ')} (or ${Object.keys(aliases).join(', ')})`
    : values.join(', ');
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      const v = String(value).trim().toLowerCase();
      if ((values as readonly string[]).includes(v)) return v as T;
      const alias = Object.hasOwn(aliases, v) ? aliases[v] : undefined;
      if (alias === undefined) throw new Error(`must be one of ${accepted}`);
      return alias;
    },
  };
}

/** `true` or `false`. */
export function boolOption(
  key: string,
  defaultValue: boolean,
  description: string,
): ConfigOption<boolean> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      if (typeof value === 'boolean') return value;
      const v = String(value).trim().toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw new Error('must be true or false');
    },
  };
}

/** A string; `nonEmpty` refuses an empty (or blank) value. */
export function stringOption(
  key: string,
  defaultValue: string,
  description: string,
  constraints: { readonly nonEmpty?: boolean } = {},
): ConfigOption<string> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      const s = String(value).trim();
      if (constraints.nonEmpty && s === '') throw new Error('must not be empty');
      return s;
    },
  };
}

/**
 * The known key closest to `key` (case-insensitive edit distance), for "did you mean" hints; none
 * when nothing is close enough to be a plausible typo.
 */
export function closestConfigKey(key: string, knownKeys: Iterable<string>): string | undefined {
  const wanted = key.toLowerCase();
  // Dotted keys are long: a quarter of the length catches a missing segment word
  // ("failure-interval" for "failure-rate-interval") without suggesting unrelated keys.
  let bestDistance = Math.max(2, Math.floor(wanted.length / 4)) + 1;
  let best: string | undefined;
  for (const candidate of knownKeys) {
    const d = editDistance(wanted, candidate.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be below `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      const d = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
      current.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}

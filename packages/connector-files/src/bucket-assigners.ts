/**
 * Bucket assigners (Flink's `BucketAssigner`): the sub-directory of the sink's base path an
 * element is written to.
 */
import type { SinkWriterContext } from '@nimble/api';

/** What an assigner may use of the element's context. */
export interface BucketAssignerContext {
  /** The current processing time in ms. */
  currentProcessingTime(): number;
  /** The current watermark. */
  currentWatermark(): number;
  /** The element's timestamp, if any. */
  timestamp(): number | undefined;
}

/** Chooses the bucket (a relative directory, '' for the base path) of each element. */
export interface BucketAssigner<T> {
  getBucketId(element: T, context: BucketAssignerContext): string;
}

/**
 * @internal The context handed to assigners: one object per writer, pointed at the current
 * element's context, so writing an element allocates nothing for it.
 */
export class MutableBucketContext implements BucketAssignerContext {
  current: SinkWriterContext | undefined;
  currentProcessingTime(): number {
    return Date.now();
  }
  currentWatermark(): number {
    return this.current!.currentWatermark();
  }
  timestamp(): number | undefined {
    return this.current!.timestamp();
  }
}

/** Every element in the base path (Flink's `BasePathBucketAssigner`). */
export class BasePathBucketAssigner<T> implements BucketAssigner<T> {
  getBucketId(): string {
    return '';
  }
}

/**
 * Buckets by the values of fields, Hive style: `country=DE/day=2026-12-03` (what SQL's
 * `PARTITIONED BY` writes). A null or empty value goes to `defaultName`
 * (`partition.default-name`, Flink's `__DEFAULT_PARTITION__`).
 */
export class FieldBucketAssigner<T extends Record<string, unknown>> implements BucketAssigner<T> {
  constructor(
    private readonly fields: readonly string[],
    private readonly defaultName = '__DEFAULT_PARTITION__',
  ) {}
  getBucketId(element: T): string {
    let out = '';
    for (const f of this.fields) {
      const v = element[f];
      const s =
        v === null || v === undefined || v === '' ? this.defaultName : escapePathName(String(v));
      out += out === '' ? `${f}=${s}` : `/${f}=${s}`;
    }
    return out;
  }
}

/** Characters Hive escapes in a partition value (as %XX): control characters and path syntax. */
const UNSAFE = new Set('"#%\'*/:=?\\{[]^'.split(''));

function escapePathName(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    out +=
      code < 0x20 || code === 0x7f || UNSAFE.has(c)
        ? `%${code.toString(16).toUpperCase().padStart(2, '0')}`
        : c;
  }
  return out;
}

/**
 * Formats instants with a Java `DateTimeFormatter` pattern: `yyyy`, `yy`, `MM`, `dd`, `HH`, `mm`,
 * `ss`, `SSS`, literal text in single quotes (`''` for a quote), other characters as is. The zone
 * is UTC or a fixed offset such as `+02:00`.
 */
export class DateTimePattern {
  private readonly parts: ((d: Date) => string)[] = [];
  private readonly offsetMs: number;

  constructor(pattern: string, zone = 'UTC') {
    const m = /^(?:UTC|Z|GMT)?([+-])?(\d{2})?:?(\d{2})?$/.exec(zone);
    if (!m)
      throw new Error(`Unsupported time zone '${zone}': use UTC or an offset such as +02:00.`);
    this.offsetMs = m[1]
      ? (m[1] === '-' ? -1 : 1) * (Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 60_000
      : 0;
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    let i = 0;
    while (i < pattern.length) {
      const c = pattern[i]!;
      if (c === "'") {
        let j = i + 1;
        let lit = '';
        while (j < pattern.length) {
          if (pattern[j] === "'") {
            if (pattern[j + 1] === "'") {
              lit += "'";
              j += 2;
              continue;
            }
            break;
          }
          lit += pattern[j++];
        }
        if (j === i + 1 && pattern[j] === "'") lit = "'";
        this.parts.push(() => lit);
        i = j + 1;
        continue;
      }
      let j = i;
      while (pattern[j] === c) j++;
      const n = j - i;
      i = j;
      switch (c) {
        case 'y':
          this.parts.push(
            n === 2 ? (d) => pad(d.getUTCFullYear() % 100, 2) : (d) => pad(d.getUTCFullYear(), n),
          );
          break;
        case 'M':
          this.parts.push((d) => pad(d.getUTCMonth() + 1, n));
          break;
        case 'd':
          this.parts.push((d) => pad(d.getUTCDate(), n));
          break;
        case 'H':
          this.parts.push((d) => pad(d.getUTCHours(), n));
          break;
        case 'm':
          this.parts.push((d) => pad(d.getUTCMinutes(), n));
          break;
        case 's':
          this.parts.push((d) => pad(d.getUTCSeconds(), n));
          break;
        case 'S':
          this.parts.push((d) => pad(d.getUTCMilliseconds(), 3).slice(0, n));
          break;
        default:
          if (/[a-zA-Z]/.test(c)) {
            throw new Error(`Unsupported pattern letter '${c}' in date-time format '${pattern}'.`);
          }
          {
            const lit = c.repeat(n);
            this.parts.push(() => lit);
          }
      }
    }
  }

  format(epochMs: number): string {
    const d = new Date(epochMs + this.offsetMs);
    let s = '';
    for (const p of this.parts) s += p(d);
    return s;
  }
}

/**
 * Buckets by time (Flink's `DateTimeBucketAssigner`, default format `yyyy-MM-dd--HH`). By
 * default, as in Flink, the time is the processing time; {@link DateTimeBucketAssigner.forEventTime}
 * uses the element's timestamp instead, so a replay writes to the same buckets. For example
 * `'dt='yyyy-MM-dd'/hour='HH` gives `dt=2026-12-03/hour=07`.
 */
export class DateTimeBucketAssigner<T> implements BucketAssigner<T> {
  private readonly pattern: DateTimePattern;
  // Elements arrive in time order mostly: one format per minute, not per element.
  private lastMinute = NaN;
  private lastBucket = '';

  constructor(
    format = 'yyyy-MM-dd--HH',
    zone = 'UTC',
    private readonly eventTime = false,
  ) {
    this.pattern = new DateTimePattern(format, zone);
    this.cacheable = !/[sS]/.test(format.replace(/'[^']*'/g, ''));
  }
  private readonly cacheable: boolean;

  /** Buckets by the element's timestamp (elements without one by processing time). */
  static forEventTime<T>(format = 'yyyy-MM-dd--HH', zone = 'UTC'): DateTimeBucketAssigner<T> {
    return new DateTimeBucketAssigner<T>(format, zone, true);
  }

  getBucketId(_element: T, context: BucketAssignerContext): string {
    const t = (this.eventTime ? context.timestamp() : undefined) ?? context.currentProcessingTime();
    if (!this.cacheable) return this.pattern.format(t);
    const minute = Math.floor(t / 60_000);
    if (minute !== this.lastMinute) {
      this.lastMinute = minute;
      this.lastBucket = this.pattern.format(t);
    }
    return this.lastBucket;
  }
}

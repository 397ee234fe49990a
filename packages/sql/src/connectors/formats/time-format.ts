/**
 * Text forms of dates and times in the JSON and CSV formats, as Flink's `TimeFormats` define them:
 * `SQL` is `yyyy-MM-dd HH:mm:ss[.fraction]`, `ISO-8601` is `yyyy-MM-ddTHH:mm[:ss[.fraction]]`, and
 * TIMESTAMP_LTZ values carry a trailing `Z` (UTC). Writing prints the fraction with as few
 * digits as it needs and none when it is zero (Java's `appendFraction(NANO_OF_SECOND, 0, 9, true)`);
 * reading accepts 0 to 9 fraction digits (beyond milliseconds they are truncated).
 */

export type TimestampStandard = 'SQL' | 'ISO-8601';

const MS_PER_DAY = 86_400_000;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `yyyy-MM-dd` of a day number (days since 1970-01-01). */
export function formatDate(days: number): string {
  const d = new Date(days * MS_PER_DAY);
  const y = d.getUTCFullYear();
  const year = y < 0 ? `-${pad(-y, 4)}` : pad(y, 4);
  return `${year}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

/** The fraction of a second of `ms` milliseconds, as `.1`, `.12`, `.123`, or '' when zero. */
function fraction(ms: number): string {
  if (ms === 0) return '';
  return '.' + pad(ms, 3).replace(/0+$/, '');
}

/** `HH:mm:ss[.fraction]` of milliseconds of the day. */
export function formatTime(msOfDay: number): string {
  const ms = ((msOfDay % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${fraction(ms % 1000)}`;
}

/** A TIMESTAMP (`ltz` false) or TIMESTAMP_LTZ (`ltz` true) value in the given standard. */
export function formatTimestamp(
  epochMs: number,
  standard: TimestampStandard,
  ltz: boolean,
): string {
  const days = Math.floor(epochMs / MS_PER_DAY);
  const sep = standard === 'SQL' ? ' ' : 'T';
  return `${formatDate(days)}${sep}${formatTime(epochMs - days * MS_PER_DAY)}${ltz ? 'Z' : ''}`;
}

const DATE_RE = /^([+-]?\d{4,9})-(\d{2})-(\d{2})$/;

function daysOf(y: number, mo: number, d: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999.
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  if (dt.getUTCDate() !== d) return undefined; // e.g. 2023-02-30
  return Math.round(dt.getTime() / MS_PER_DAY);
}

/** The day number of `yyyy-MM-dd`, or undefined when it is not one. */
export function parseDate(text: string): number | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) return undefined;
  return daysOf(Number(m[1]), Number(m[2]), Number(m[3]));
}

function msOfTime(
  h: string,
  mi: string,
  s: string | undefined,
  f: string | undefined,
): number | undefined {
  const hh = Number(h);
  const mm = Number(mi);
  const ss = s === undefined ? 0 : Number(s);
  if (hh > 23 || mm > 59 || ss > 59) return undefined;
  const ms = f === undefined ? 0 : Number(f.padEnd(3, '0').slice(0, 3));
  return hh * 3_600_000 + mm * 60_000 + ss * 1000 + ms;
}

/** Milliseconds of the day of `HH:mm:ss[.fraction]`, or undefined. */
export function parseTime(text: string): number | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text.trim());
  return m ? msOfTime(m[1]!, m[2]!, m[3], m[4]) : undefined;
}

const SQL_TS = /^([+-]?\d{4,9})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z?)$/;
const ISO_TS = /^([+-]?\d{4,9})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z?)$/;

/**
 * Epoch milliseconds of a timestamp in `standard`, or undefined when the text is not one. A
 * TIMESTAMP_LTZ (`ltz`) needs the trailing `Z`; a TIMESTAMP must not have it.
 */
export function parseTimestamp(
  text: string,
  standard: TimestampStandard,
  ltz: boolean,
): number | undefined {
  const m = (standard === 'SQL' ? SQL_TS : ISO_TS).exec(text.trim());
  if (!m || (m[8] === 'Z') !== ltz) return undefined;
  const days = daysOf(Number(m[1]), Number(m[2]), Number(m[3]));
  const ms = msOfTime(m[4]!, m[5]!, m[6], m[7]);
  return days === undefined || ms === undefined ? undefined : days * MS_PER_DAY + ms;
}

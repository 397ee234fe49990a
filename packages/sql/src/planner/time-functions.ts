/**
 * Date and time helpers of the scalar function library: calendar arithmetic on epoch
 * milliseconds, Java `SimpleDateFormat`-style formatting and parsing, and the text forms Flink
 * prints for DATE, TIME and TIMESTAMP values.
 *
 * The session time zone is UTC (Flink's `table.local-time-zone` fixed to UTC): a TIMESTAMP is
 * the wall-clock time read as UTC, a TIMESTAMP_LTZ an instant, so both are converted with the
 * same calendar arithmetic and no zone offsets. Nothing here allocates a `Date`.
 */

export const MS_PER_DAY = 86_400_000;

// Scratch fields of the last `splitMillis` call: one set per module so that formatting a value
// does not allocate (the whole engine runs one record at a time on one thread).
let sYear = 1970;
let sMonth = 1;
let sDay = 1;
let sHour = 0;
let sMinute = 0;
let sSecond = 0;
let sMilli = 0;
let sDayOfWeek = 4; // 1970-01-01 was a Thursday (0 = Sunday)
let sDayOfYear = 1;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Splits epoch milliseconds into the scratch calendar fields. */
function splitMillis(ms: number): void {
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  sHour = Math.floor(rest / 3_600_000);
  rest -= sHour * 3_600_000;
  sMinute = Math.floor(rest / 60_000);
  rest -= sMinute * 60_000;
  sSecond = Math.floor(rest / 1000);
  sMilli = rest - sSecond * 1000;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  sDay = doy - Math.floor((153 * mp + 2) / 5) + 1;
  sMonth = mp < 10 ? mp + 3 : mp - 9;
  sYear = yoe + era * 400 + (sMonth <= 2 ? 1 : 0);
  sDayOfWeek = (((days + 4) % 7) + 7) % 7;
  sDayOfYear = days - daysFromCivil(sYear, 1, 1) + 1;
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n));
  const padded = s.length >= width ? s : '0'.repeat(width - s.length) + s;
  return n < 0 ? '-' + padded : padded;
}

/** `yyyy-MM-dd` of a DATE value (days since epoch). */
export function formatDate(days: number): string {
  splitMillis(days * MS_PER_DAY);
  return `${pad(sYear, 4)}-${pad(sMonth, 2)}-${pad(sDay, 2)}`;
}

/** `HH:mm:ss[.fff]` of a TIME value (ms of the day), with `precision` fraction digits. */
export function formatTime(msOfDay: number, precision: number): string {
  splitMillis(msOfDay);
  return `${pad(sHour, 2)}:${pad(sMinute, 2)}:${pad(sSecond, 2)}${fraction(precision)}`;
}

function fraction(precision: number): string {
  if (precision <= 0) return '';
  const digits = pad(sMilli, 3) + '000000';
  return '.' + digits.slice(0, precision);
}

/**
 * The text Flink prints for a TIMESTAMP(p) / TIMESTAMP_LTZ(p) value (CAST to STRING, results):
 * `2024-01-01 12:00:00.000` for p = 3, no fraction for p = 0.
 */
export function formatTimestamp(ms: number, precision: number): string {
  splitMillis(ms);
  return (
    `${pad(sYear, 4)}-${pad(sMonth, 2)}-${pad(sDay, 2)} ` +
    `${pad(sHour, 2)}:${pad(sMinute, 2)}:${pad(sSecond, 2)}${fraction(precision)}`
  );
}

const TIMESTAMP_TEXT =
  /^\s*(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?\s*$/;

/**
 * Parses `yyyy-MM-dd[ HH:mm[:ss[.fffffffff]]]` (also with `T` between date and time) to epoch
 * ms read as UTC; null when the text is not a valid timestamp. Fractions beyond ms are dropped.
 */
export function parseTimestamp(text: string): number | null {
  const m = TIMESTAMP_TEXT.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const milli = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    hour * 3_600_000 +
    minute * 60_000 +
    second * 1000 +
    milli
  );
}

/** Parses `yyyy-MM-dd` to days since epoch; null when invalid. */
export function parseDate(text: string): number | null {
  const m = /^\s*(\d{1,4})-(\d{1,2})-(\d{1,2})\s*$/.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return daysFromCivil(year, month, day);
}

/** Parses `HH:mm[:ss[.fff]]` to ms of the day; null when invalid. */
export function parseTime(text: string): number | null {
  const m = /^\s*(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?\s*$/.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || mi > 59 || s > 59) return null;
  const milli = m[4] === undefined ? 0 : Number((m[4] + '00').slice(0, 3));
  return h * 3_600_000 + mi * 60_000 + s * 1000 + milli;
}

/** The number of fraction digits in a timestamp or time literal's text (its precision). */
export function fractionDigits(text: string): number {
  const m = /\.(\d+)\s*$/.exec(text);
  return m ? Math.min(m[1]!.length, 9) : 0;
}

// ---------------------------------------------------------------------------------------------
// SimpleDateFormat-style patterns

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type Token = { readonly text: string } | { readonly letter: string; readonly count: number };

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      // 'text' is literal; '' is a quote.
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        tokens.push({ text: "'" });
        i += 2;
        continue;
      }
      const stop = end < 0 ? pattern.length : end;
      tokens.push({ text: pattern.slice(i + 1, stop) });
      i = stop + 1;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      let j = i;
      while (j < pattern.length && pattern[j] === c) j++;
      tokens.push({ letter: c, count: j - i });
      i = j;
    } else {
      tokens.push({ text: c });
      i++;
    }
  }
  return tokens;
}

function formatField(letter: string, count: number): string {
  switch (letter) {
    case 'y':
    case 'Y':
      return count === 2 ? pad(sYear % 100, 2) : pad(sYear, count);
    case 'M':
      return count >= 4
        ? MONTHS[sMonth - 1]!
        : count === 3
          ? MONTHS[sMonth - 1]!.slice(0, 3)
          : pad(sMonth, count);
    case 'd':
      return pad(sDay, count);
    case 'D':
      return pad(sDayOfYear, count);
    case 'H':
      return pad(sHour, count);
    case 'k':
      return pad(sHour === 0 ? 24 : sHour, count);
    case 'h':
      return pad(sHour % 12 === 0 ? 12 : sHour % 12, count);
    case 'K':
      return pad(sHour % 12, count);
    case 'm':
      return pad(sMinute, count);
    case 's':
      return pad(sSecond, count);
    case 'S':
      // SimpleDateFormat prints the millisecond number padded to the count.
      return pad(sMilli, count);
    case 'a':
      return sHour < 12 ? 'AM' : 'PM';
    case 'E':
      return count >= 4 ? WEEKDAYS[sDayOfWeek]! : WEEKDAYS[sDayOfWeek]!.slice(0, 3);
    case 'u':
      return pad(sDayOfWeek === 0 ? 7 : sDayOfWeek, count);
    case 'Z':
      return '+0000';
    case 'X':
      return 'Z';
    case 'z':
      return 'UTC';
    default:
      throw new Error(`Illegal pattern character '${letter}' in date format`);
  }
}

/** Formats epoch ms with a `SimpleDateFormat` pattern. */
export type Formatter = (ms: number) => string;

const formatters = new Map<string, Formatter>();

/**
 * The formatter of a `SimpleDateFormat` pattern (`yyyy-MM-dd HH:mm:ss.SSS`), compiled once per
 * pattern and cached. Throws for pattern letters it does not know.
 */
export function formatterFor(pattern: string): Formatter {
  let f = formatters.get(pattern);
  if (f) return f;
  const tokens = tokenize(pattern);
  for (const t of tokens) if ('letter' in t) formatField(t.letter, t.count); // validate
  f = (ms: number): string => {
    splitMillis(ms);
    let out = '';
    for (const t of tokens) out += 'text' in t ? t.text : formatField(t.letter, t.count);
    return out;
  };
  if (formatters.size < 1000) formatters.set(pattern, f);
  return f;
}

/** Parses text with a `SimpleDateFormat` pattern to epoch ms (UTC); null when it does not match. */
export type Parser = (text: string) => number | null;

const parsers = new Map<string, Parser>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The parser of a `SimpleDateFormat` pattern, compiled once per pattern and cached. */
export function parserFor(pattern: string): Parser {
  let p = parsers.get(pattern);
  if (p) return p;
  const tokens = tokenize(pattern);
  const fields: string[] = [];
  let source = '^\\s*';
  for (const t of tokens) {
    if ('text' in t) {
      source += escapeRegExp(t.text);
      continue;
    }
    fields.push(t.letter);
    switch (t.letter) {
      case 'M':
        source += t.count >= 3 ? '([A-Za-z]+)' : '(\\d{1,2})';
        break;
      case 'y':
      case 'Y':
        source += t.count === 2 ? '(\\d{2})' : '(\\d{1,4})';
        break;
      case 'S':
        source += '(\\d{1,9})';
        break;
      case 'a':
        source += '(AM|PM|am|pm)';
        break;
      case 'E':
        source += '([A-Za-z]+)';
        break;
      case 'Z':
      case 'X':
      case 'z':
        source += '(Z|UTC|[+-]\\d{2}:?\\d{2})';
        break;
      default:
        source += '(\\d{1,2})';
    }
  }
  const re = new RegExp(source + '\\s*$');
  p = (text: string): number | null => {
    const m = re.exec(text);
    if (!m) return null;
    let year = 1970;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let milli = 0;
    let pm = false;
    let offsetMs = 0;
    for (let i = 0; i < fields.length; i++) {
      const v = m[i + 1]!;
      switch (fields[i]) {
        case 'y':
        case 'Y':
          year = v.length === 2 ? 2000 + Number(v) : Number(v);
          break;
        case 'M': {
          if (/^\d/.test(v)) month = Number(v);
          else {
            const idx = MONTHS.findIndex((n) => n.toLowerCase().startsWith(v.toLowerCase()));
            if (idx < 0) return null;
            month = idx + 1;
          }
          break;
        }
        case 'd':
          day = Number(v);
          break;
        case 'H':
        case 'k':
        case 'h':
        case 'K':
          hour = Number(v);
          break;
        case 'm':
          minute = Number(v);
          break;
        case 's':
          second = Number(v);
          break;
        case 'S':
          milli = Number((v + '00').slice(0, 3));
          break;
        case 'a':
          pm = v.toUpperCase() === 'PM';
          break;
        case 'Z':
        case 'X':
        case 'z':
          if (v !== 'Z' && v !== 'UTC') {
            const sign = v[0] === '-' ? -1 : 1;
            const digits = v.slice(1).replace(':', '');
            offsetMs =
              sign * (Number(digits.slice(0, 2)) * 3_600_000 + Number(digits.slice(2)) * 60_000);
          }
          break;
        default:
          break;
      }
    }
    if (fields.includes('a') && hour < 12 && pm) hour += 12;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    if (hour > 23 || minute > 59 || second > 59) return null;
    return (
      daysFromCivil(year, month, day) * MS_PER_DAY +
      hour * 3_600_000 +
      minute * 60_000 +
      second * 1000 +
      milli -
      offsetMs
    );
  };
  if (parsers.size < 1000) parsers.set(pattern, p);
  return p;
}

// ---------------------------------------------------------------------------------------------
// EXTRACT and friends

/** A calendar field of epoch ms (EXTRACT, YEAR(), HOUR(), ...). */
export function extractField(unit: string, ms: number): number {
  splitMillis(ms);
  switch (unit) {
    case 'YEAR':
      return sYear;
    case 'QUARTER':
      return Math.floor((sMonth - 1) / 3) + 1;
    case 'MONTH':
      return sMonth;
    case 'WEEK': {
      // ISO week number.
      const dow = sDayOfWeek === 0 ? 7 : sDayOfWeek;
      const days = Math.floor(ms / MS_PER_DAY);
      const thursday = days - dow + 4;
      splitMillis(thursday * MS_PER_DAY);
      return Math.floor((sDayOfYear - 1) / 7) + 1;
    }
    case 'DAY':
    case 'DAYOFMONTH':
      return sDay;
    case 'DOW':
    case 'DAYOFWEEK':
      return sDayOfWeek + 1; // Sunday = 1, as Flink
    case 'DOY':
    case 'DAYOFYEAR':
      return sDayOfYear;
    case 'HOUR':
      return sHour;
    case 'MINUTE':
      return sMinute;
    case 'SECOND':
      return sSecond;
    case 'MILLISECOND':
      return sSecond * 1000 + sMilli;
    case 'EPOCH':
      return Math.floor(ms / 1000);
    default:
      throw new Error(`Unsupported time unit ${unit}`);
  }
}

/** The units EXTRACT accepts. */
export const EXTRACT_UNITS: ReadonlySet<string> = new Set([
  'YEAR',
  'QUARTER',
  'MONTH',
  'WEEK',
  'DAY',
  'DAYOFMONTH',
  'DOW',
  'DAYOFWEEK',
  'DOY',
  'DAYOFYEAR',
  'HOUR',
  'MINUTE',
  'SECOND',
  'MILLISECOND',
  'EPOCH',
]);

/** FLOOR(ts TO unit) / CEIL(ts TO unit). */
export function floorToUnit(ms: number, unit: string, ceil: boolean): number {
  let fixed = 0;
  switch (unit) {
    case 'MILLISECOND':
      return ms;
    case 'SECOND':
      fixed = 1000;
      break;
    case 'MINUTE':
      fixed = 60_000;
      break;
    case 'HOUR':
      fixed = 3_600_000;
      break;
    case 'DAY':
      fixed = MS_PER_DAY;
      break;
    case 'WEEK': {
      // Weeks start on Sunday in Calcite's FLOOR(... TO WEEK).
      const days = Math.floor(ms / MS_PER_DAY);
      const start = (days - ((((days + 4) % 7) + 7) % 7)) * MS_PER_DAY;
      return ceil && start !== ms ? start + 7 * MS_PER_DAY : start;
    }
    default: {
      splitMillis(ms);
      let month =
        unit === 'YEAR' ? 1 : unit === 'QUARTER' ? Math.floor((sMonth - 1) / 3) * 3 + 1 : sMonth;
      let year = sYear;
      const start = daysFromCivil(year, month, 1) * MS_PER_DAY;
      if (!ceil || start === ms) return start;
      month += unit === 'YEAR' ? 12 : unit === 'QUARTER' ? 3 : 1;
      if (month > 12) {
        year += Math.floor((month - 1) / 12);
        month = ((month - 1) % 12) + 1;
      }
      return daysFromCivil(year, month, 1) * MS_PER_DAY;
    }
  }
  const floor = Math.floor(ms / fixed) * fixed;
  return ceil && floor !== ms ? floor + fixed : floor;
}

/** Adds months to epoch ms, clamping the day to the target month's length (Calcite's rule). */
export function addMonths(ms: number, months: number): number {
  splitMillis(ms);
  const total = sYear * 12 + (sMonth - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  const day = Math.min(sDay, daysInMonth(year, month));
  const timeOfDay = ms - Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
  return daysFromCivil(year, month, day) * MS_PER_DAY + timeOfDay;
}

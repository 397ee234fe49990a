/**
 * Record formats of files (Flink's `StreamFormat` / `Encoder`): text lines, JSON lines and CSV.
 * A stream format reads records one after another from a file's bytes; its position is the byte
 * offset after the last record read, which the source checkpoints (Flink's
 * `CheckpointedPosition`), so a restore continues at the next record.
 */

/** Reads records from the bytes of one file, from a given offset. */
export interface StreamRecordReader<T> {
  /** The next record, or undefined at the end of the bytes. Synchronous: no per-record await. */
  read(): T | undefined;
  /** The byte offset after the last record read. */
  position(): number;
}

/** A format that reads a file as a stream of records (Flink's `StreamFormat`). */
export interface StreamFormat<T> {
  /** A reader of `bytes` (a whole file) starting at byte `offset`; `path` names it in errors. */
  createReader(bytes: Uint8Array, offset: number, path: string): StreamRecordReader<T>;
}

/** Where an encoder writes bytes (Flink's `OutputStream` of a part file). */
export interface PartOutput {
  write(bytes: Uint8Array): void;
  /** Writes text as UTF-8 (without an intermediate buffer where it can). */
  writeString(text: string): void;
  /** Bytes written to the part file so far. */
  getPos(): number;
}

/** Writes one element to a part file (Flink's `Encoder`). */
export interface Encoder<T> {
  encode(element: T, out: PartOutput): void;
}

/** A record a format could not read, naming the file and the line. */
export class FileFormatError extends Error {
  override name = 'FileFormatError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Lines of a file (Flink's `TextLineInputFormat`) parsed by `parse`: `\n` or `\r\n` ends a
 * line; a last line without a newline is read too.
 */
export class LineFormat<T> implements StreamFormat<T> {
  private static readonly decoder = new TextDecoder();
  constructor(
    private readonly parse: (line: string) => T | undefined,
    private readonly skipFirstLine = false,
  ) {}

  createReader(bytes: Uint8Array, offset: number, path: string): StreamRecordReader<T> {
    const { parse } = this;
    let pos = offset;
    // Line numbers for error messages: count the lines before a restored offset once.
    let line = 0;
    for (let i = bytes.indexOf(NEWLINE); i >= 0 && i < offset; i = bytes.indexOf(NEWLINE, i + 1)) {
      line++;
    }
    if (this.skipFirstLine && pos === 0) {
      line = 1;
      const nl = bytes.indexOf(NEWLINE);
      pos = nl < 0 ? bytes.length : nl + 1;
    }
    return {
      read(): T | undefined {
        while (pos < bytes.length) {
          let nl = bytes.indexOf(NEWLINE, pos);
          if (nl < 0) nl = bytes.length;
          const end = nl > pos && bytes[nl - 1] === CR ? nl - 1 : nl;
          const start = pos;
          pos = nl + 1 > bytes.length ? bytes.length : nl + 1;
          line++;
          const text = LineFormat.decoder.decode(bytes.subarray(start, end));
          if (text === '') continue;
          let rec: T | undefined;
          try {
            rec = parse(text);
          } catch (e) {
            throw new FileFormatError(
              `Could not read line ${line} of file '${path}' (byte ${start}): ${(e as Error).message}`,
              { cause: e },
            );
          }
          if (rec !== undefined) return rec;
        }
        return undefined;
      },
      position: () => pos,
    };
  }
}

/** Text lines as strings (Flink's `TextLineInputFormat`). */
export function textLineFormat(): StreamFormat<string> {
  return new LineFormat((l) => l);
}

/** One JSON value per line (JSON lines), parsed with `JSON.parse`. */
export function jsonLinesFormat<T = unknown>(): StreamFormat<T> {
  return new LineFormat((l) => JSON.parse(l) as T);
}

/** Writes `String(element)` and a newline (Flink's `SimpleStringEncoder`). */
export class SimpleStringEncoder<T> implements Encoder<T> {
  encode(element: T, out: PartOutput): void {
    out.writeString(`${String(element)}\n`);
  }
}

/** Writes each element as one line of JSON. */
export class JsonLinesEncoder<T> implements Encoder<T> {
  encode(element: T, out: PartOutput): void {
    out.writeString(`${JSON.stringify(element)}\n`);
  }
}

/** How CSV fields are delimited and quoted (the options of Flink's `csv` format). */
export interface CsvSettings {
  /** `field-delimiter`, default `,`. */
  readonly delimiter: string;
  /** `quote-character`, default `"`; undefined: no quoting. */
  readonly quote: string | undefined;
  /** `escape-character`; none by default. */
  readonly escape: string | undefined;
  /** `allow-comments`: lines starting with `#` are skipped (and written quoted). */
  readonly allowComments?: boolean;
}

export const DEFAULT_CSV: CsvSettings = { delimiter: ',', quote: '"', escape: undefined };

/** The fields of one RFC 4180 record; throws on an unterminated quote. */
export function splitCsv(text: string, s: CsvSettings = DEFAULT_CSV): string[] {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (s.escape !== undefined && c === s.escape && i + 1 < text.length) {
        cur += text[i + 1];
        i += 2;
      } else if (c === s.quote) {
        if (text[i + 1] === s.quote) {
          cur += c;
          i += 2;
        } else {
          quoted = false;
          i++;
        }
      } else {
        cur += c;
        i++;
      }
    } else if (c === s.delimiter) {
      out.push(cur);
      cur = '';
      i++;
    } else if (s.quote !== undefined && c === s.quote && cur === '') {
      quoted = true;
      i++;
    } else if (s.escape !== undefined && c === s.escape && i + 1 < text.length) {
      cur += text[i + 1];
      i += 2;
    } else {
      cur += c;
      i++;
    }
  }
  if (quoted) throw new FileFormatError('unterminated quoted field');
  out.push(cur);
  return out;
}

/** `text` quoted when it holds a delimiter, quote, line break (or a leading `#` with comments). */
export function quoteCsv(text: string, s: CsvSettings = DEFAULT_CSV): string {
  const q = s.quote;
  if (q === undefined) return text;
  if (
    text.includes(s.delimiter) ||
    text.includes(q) ||
    text.includes('\n') ||
    text.includes('\r') ||
    (s.allowComments === true && text.startsWith('#'))
  ) {
    return q + text.split(q).join(q + q) + q;
  }
  return text;
}

/** A CSV column: its name and how its text becomes a value (default: the string). */
export interface CsvColumn {
  readonly name: string;
  readonly type?: 'string' | 'number' | 'boolean';
}

function csvValue(text: string, type: CsvColumn['type']): unknown {
  if (type === undefined || type === 'string') return text;
  if (text === '') return null;
  if (type === 'number') {
    const n = Number(text);
    if (Number.isNaN(n)) throw new FileFormatError(`'${text}' is not a number`);
    return n;
  }
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new FileFormatError(`'${text}' is not a boolean`);
}

/**
 * CSV records as objects of the given columns (Flink's `CsvReaderFormat.forSchema`), one record
 * per line; `skipHeader` skips the first line of each file.
 */
export class CsvReaderFormat {
  static forColumns<T = Record<string, unknown>>(
    columns: readonly CsvColumn[],
    options: { settings?: CsvSettings; skipHeader?: boolean } = {},
  ): StreamFormat<T> {
    const s = options.settings ?? DEFAULT_CSV;
    return new LineFormat<T>((line) => {
      if (s.allowComments === true && line.startsWith('#')) return undefined;
      const fields = splitCsv(line, s);
      if (fields.length !== columns.length) {
        throw new FileFormatError(`expected ${columns.length} fields, found ${fields.length}`);
      }
      const rec: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) {
        rec[columns[i]!.name] = csvValue(fields[i]!, columns[i]!.type);
      }
      return rec as T;
    }, options.skipHeader ?? false);
  }
}

/** Writes objects as CSV lines of the given columns (Flink's `CsvBulkWriter` idea, row-wise). */
export class CsvEncoder<T extends Record<string, unknown>> implements Encoder<T> {
  constructor(
    private readonly columns: readonly string[],
    private readonly settings: CsvSettings = DEFAULT_CSV,
  ) {}
  encode(element: T, out: PartOutput): void {
    let line = '';
    for (let i = 0; i < this.columns.length; i++) {
      if (i > 0) line += this.settings.delimiter;
      const v = element[this.columns[i]!];
      line += v === null || v === undefined ? '' : quoteCsv(String(v), this.settings);
    }
    out.writeString(`${line}\n`);
  }
}

/**
 * Parameters of a job that every parallel instance of every function can read (Flink's
 * `ExecutionConfig.GlobalJobParameters`), set with
 * `env.getConfig().setGlobalJobParameters(params)` and read with
 * `getRuntimeContext().getGlobalJobParameters()`.
 *
 * Only {@link GlobalJobParameters.toMap | toMap()} travels with the job: the parameters are kept
 * as text in the job's configuration (`pipeline.global-job-parameters`, Flink's key and format),
 * which reaches every TaskManager, so a subclass's other fields stay where the job was built.
 */
export class GlobalJobParameters {
  /** The parameters as string keys and values; empty unless a subclass overrides it. */
  toMap(): Readonly<Record<string, string>> {
    return {};
  }
}

/** What {@link ParameterTool.get} returns for a key given without a value (`--verbose`), as in Flink. */
const NO_VALUE_KEY = '__NO_VALUE_KEY';

/**
 * Reads program arguments and other parameters (Flink's `ParameterTool`): build it from
 * arguments (`--input /data -n 5 --verbose`) or a map, read values as strings, integers,
 * numbers or booleans, and register it as the job's global parameters so every function sees it.
 *
 * ```ts
 * const params = ParameterTool.fromArgs(process.argv);
 * env.getConfig().setGlobalJobParameters(params);
 * const input = params.getRequired('input');
 * const rate = params.getInt('rate', 100);
 * ```
 */
export class ParameterTool extends GlobalJobParameters {
  private readonly data: ReadonlyMap<string, string>;

  private constructor(data: ReadonlyMap<string, string>) {
    super();
    this.data = data;
  }

  /**
   * Parameters from arguments: keys start with `--` or `-` and are followed by their value; a key
   * followed by another key (or by nothing) has no value (`has()` is true, `get()` returns
   * `'__NO_VALUE_KEY'`, as in Flink); a number after a key is its value even when negative
   * (`-offset -5`). An argument that is not a key where one is expected is an error, as in Flink.
   *
   * `process.argv` itself may be passed: its first two entries (the node binary and the script)
   * are skipped, since Flink's `main(String[] args)` never sees them.
   */
  static fromArgs(args: readonly string[]): ParameterTool {
    const argv = (globalThis as { process?: { argv?: unknown } }).process?.argv;
    const list = args === argv ? args.slice(2) : args;
    const data = new Map<string, string>();
    let i = 0;
    while (i < list.length) {
      const arg = list[i]!;
      let key: string;
      if (arg.startsWith('--')) key = arg.slice(2);
      else if (arg.startsWith('-')) key = arg.slice(1);
      else {
        throw new Error(
          `Error parsing arguments '${formatArgs(list)}' on '${arg}'. Please prefix keys with -- or -.`,
        );
      }
      if (key.length === 0) {
        throw new Error(`The input ${formatArgs(list)} contains an empty argument`);
      }
      i++;
      const next = list[i];
      if (next === undefined) {
        data.set(key, NO_VALUE_KEY);
      } else if (NUMBER.test(next) || !next.startsWith('-')) {
        data.set(key, next);
        i++;
      } else {
        data.set(key, NO_VALUE_KEY);
      }
    }
    return new ParameterTool(data);
  }

  /** Parameters from a map of string keys to string values. */
  static fromMap(
    map: Readonly<Record<string, string>> | ReadonlyMap<string, string>,
  ): ParameterTool {
    const entries = map instanceof Map ? [...map] : Object.entries(map);
    const data = new Map<string, string>();
    for (const [k, v] of entries) {
      if (typeof v !== 'string') {
        throw new TypeError(
          `ParameterTool.fromMap: the value of ${JSON.stringify(k)} is ${typeof v}; values must be strings`,
        );
      }
      data.set(String(k), v);
    }
    return new ParameterTool(data);
  }

  /** How many parameters there are. */
  getNumberOfParameters(): number {
    return this.data.size;
  }

  /** Whether `key` was given (with or without a value). */
  has(key: string): boolean {
    return this.data.has(key);
  }

  /** The value of `key`, or `defaultValue` (undefined unless given) when it was not given. */
  get(key: string): string | undefined;
  get(key: string, defaultValue: string): string;
  get(key: string, defaultValue?: string): string | undefined {
    return this.data.get(key) ?? defaultValue;
  }

  /** The value of `key`; an error when it was not given. */
  getRequired(key: string): string {
    const value = this.data.get(key);
    if (value === undefined) throw new Error(`No data for required key '${key}'`);
    return value;
  }

  /**
   * The value of `key` as an integer (Flink's `getInt`/`getLong`): `defaultValue` when it was not
   * given, an error when it was not given and there is no default, or when it is not an integer.
   */
  getInt(key: string, defaultValue?: number): number {
    const value = this.valueOrDefault(key, defaultValue);
    if (typeof value === 'number') return value;
    const n = Number(value);
    if (!/^[+-]?\d+$/.test(value) || !Number.isSafeInteger(n)) {
      throw new TypeError(`The value of parameter '${key}' is not an integer: '${value}'`);
    }
    return n;
  }

  /**
   * The value of `key` as a number (Flink's `getDouble`/`getFloat`): `defaultValue` when it was not
   * given, an error when it was not given and there is no default, or when it is not a number.
   */
  getNumber(key: string, defaultValue?: number): number {
    const value = this.valueOrDefault(key, defaultValue);
    if (typeof value === 'number') return value;
    const n = Number(value);
    if (value.trim() === '' || Number.isNaN(n)) {
      throw new TypeError(`The value of parameter '${key}' is not a number: '${value}'`);
    }
    return n;
  }

  /**
   * The value of `key` as a boolean: true when it is `true` in any case, false otherwise (Flink's
   * `Boolean.valueOf`); `defaultValue` when it was not given, an error without a default.
   */
  getBoolean(key: string, defaultValue?: boolean): boolean {
    const value = this.data.get(key);
    if (value !== undefined) return value.toLowerCase() === 'true';
    if (defaultValue !== undefined) return defaultValue;
    throw new Error(`No data for required key '${key}'`);
  }

  /** These parameters with `other`'s added; `other` wins where both have a key. */
  mergeWith(other: ParameterTool): ParameterTool {
    return new ParameterTool(new Map([...this.data, ...other.data]));
  }

  /** All parameters as a frozen object. */
  override toMap(): Readonly<Record<string, string>> {
    return Object.freeze(Object.fromEntries(this.data));
  }

  private valueOrDefault(key: string, defaultValue: number | undefined): string | number {
    const value = this.data.get(key);
    if (value !== undefined) return value;
    if (defaultValue !== undefined) return defaultValue;
    throw new Error(`No data for required key '${key}'`);
  }
}

/** What Flink's `NumberUtils.isNumber` accepts that matters here: decimals with sign and exponent. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Java's `Arrays.toString`, for messages that read like Flink's. */
function formatArgs(args: readonly string[]): string {
  return `[${args.join(', ')}]`;
}

/**
 * Job parameters as the value of `pipeline.global-job-parameters`, in Flink's format for map
 * options: `key:value` pairs separated by commas; a key or value with `:`, `,` or a quote is put
 * in single quotes (a quote inside doubled), and so is a pair that then has one. @internal
 */
export function encodeJobParameters(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([k, v]) => quoteIfNeeded(`${quoteIfNeeded(k, ':')}:${quoteIfNeeded(v, ':')}`, ','))
    .join(',');
}

/**
 * Parses the value of `pipeline.global-job-parameters` (Flink's map format, as
 * {@link encodeJobParameters} writes it; `-D pipeline.global-job-parameters=input:/data,rate:5`).
 * Throws an error that says what is expected. @internal
 */
export function decodeJobParameters(text: string): Record<string, string> {
  const entries: [string, string][] = [];
  if (text.trim() === '') return {};
  for (const pair of splitQuoted(text, ',')) {
    const kv = splitQuoted(pair, ':');
    if (kv.length !== 2) {
      throw new Error(
        `must be key:value pairs separated by commas (e.g. input:/data,rate:5); ${JSON.stringify(pair)} is not ` +
          "one (put a key or value that holds ':' or ',' in single quotes)",
      );
    }
    entries.push([kv[0]!, kv[1]!]);
  }
  // fromEntries defines own properties, so even a key named __proto__ is an ordinary entry.
  return Object.fromEntries(entries);
}

function quoteIfNeeded(s: string, delimiter: string): string {
  const quote =
    s.includes(delimiter) || s.includes("'") || s.includes('"') || s.trim() !== s || s === '';
  return quote ? `'${s.replaceAll("'", "''")}'` : s;
}

/**
 * Splits `text` on `delimiter` outside quotes (Flink's `StructuredOptionsSplitter`): a part in
 * single or double quotes may hold the delimiter, its quote doubled; unquoted parts are trimmed.
 */
function splitQuoted(text: string, delimiter: string): string[] {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && text[i] === ' ') i++;
    const q = text[i];
    if (q === "'" || q === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw new Error(`a quote opened in ${JSON.stringify(text)} is not closed`);
        if (text[i] === q) {
          if (text[i + 1] === q) {
            part += q;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i++];
      }
      while (i < text.length && text[i] === ' ') i++;
      if (i < text.length && text[i] !== delimiter) {
        throw new Error(
          `unexpected text after the quoted part at position ${i} of ${JSON.stringify(text)}`,
        );
      }
      parts.push(part);
    } else {
      const end = text.indexOf(delimiter, i);
      const part = text.slice(i, end < 0 ? text.length : end);
      if (part.includes("'") || part.includes('"')) {
        throw new Error(
          `a quote inside the unquoted part ${JSON.stringify(part.trim())}; quote the whole part`,
        );
      }
      parts.push(part.trim());
      i = end < 0 ? text.length : end;
    }
    if (i >= text.length) return parts;
    i++; // the delimiter
  }
}

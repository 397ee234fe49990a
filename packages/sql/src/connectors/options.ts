/**
 * Validation of `WITH (...)` options, with the messages of Flink's `FactoryUtil`: required
 * options missing, options no factory consumes, values of the wrong type. Every connector and
 * format describes its options as {@link OptionSpec}s and reads them through {@link readOption}.
 */
import type { CatalogTable } from '../catalog/catalog-table.js';
import { ValidationError } from '../errors.js';

/** The type of an option's value, as Flink's `ConfigOption` types it. */
export type OptionType = 'string' | 'int' | 'long' | 'double' | 'boolean' | 'duration' | 'enum';

/** One option a factory understands. */
export interface OptionSpec {
  readonly key: string;
  readonly type: OptionType;
  /** The allowed values of an `enum` option (compared case-insensitively, as Flink does). */
  readonly values?: readonly string[];
  readonly required?: boolean;
}

/** A parsed option value. */
export type OptionValue = string | number | boolean;

/** Keys whose values Flink masks in messages. */
const SENSITIVE = ['password', 'secret', 'token', 'jaas.config', 'apikey', 'api-key'];

function stringifyOption(key: string, value: string): string {
  const masked = SENSITIVE.some((s) => key.toLowerCase().includes(s)) ? '******' : value;
  return `'${key.replace(/'/g, "''")}'='${masked.replace(/'/g, "''")}'`;
}

/** The identifier Flink prints for a table of the default catalog and database. */
export function tableIdentifier(table: CatalogTable): string {
  return table.name.includes('.') ? table.name : `default_catalog.default_database.${table.name}`;
}

/** The chain of messages of an error and its causes, joined as Flink's root-cause display. */
function describe(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e; x !== undefined && x !== null && parts.length < 8;) {
    parts.push(x instanceof Error ? x.message : String(x));
    x = x instanceof Error ? x.cause : undefined;
  }
  return parts.join('\n\nCaused by: ');
}

/**
 * Runs `fn` and rewraps what it throws as Flink does in `FactoryUtil.createTableSource/Sink`:
 * "Unable to create a source for reading table '...'.\n\nTable options are:\n\n'k'='v'...", with
 * the original error as cause and its message appended, so the user sees what is wrong.
 */
export function withTableContext<T>(role: 'source' | 'sink', table: CatalogTable, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError && e.message.startsWith('Unable to create a ')) throw e;
    throw tableContextError(role, table, e);
  }
}

/** The error {@link withTableContext} throws, for `cause`. */
export function tableContextError(
  role: 'source' | 'sink',
  table: CatalogTable,
  cause: unknown,
): ValidationError {
  const head =
    role === 'source'
      ? `Unable to create a source for reading table '${tableIdentifier(table)}'.`
      : `Unable to create a sink for writing table '${tableIdentifier(table)}'.`;
  const options = [...table.options]
    .map(([k, v]) => stringifyOption(k, v))
    .sort()
    .join('\n');
  return new ValidationError(
    `${head}\n\nTable options are:\n\n${options}\n\nCaused by: ${describe(cause)}`,
    undefined,
    { cause },
  );
}

const EXPECTED: Record<OptionType, string> = {
  string: 'a string',
  int: 'an integer (INT)',
  long: 'an integer (BIGINT)',
  double: 'a number (DOUBLE)',
  boolean: "a boolean ('true' or 'false')",
  duration: "a duration such as '500 ms', '10 s' or '1 min'",
  enum: 'one of',
};

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Parses `raw` as `spec` says, or undefined when it does not fit. */
function parse(spec: OptionSpec, raw: string): OptionValue | undefined {
  const s = raw.trim();
  switch (spec.type) {
    case 'string':
      return raw;
    case 'int':
    case 'long': {
      if (!/^[+-]?\d+$/.test(s)) return undefined;
      const n = Number(s);
      if (spec.type === 'int' && (n < -2147483648 || n > 2147483647)) return undefined;
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'double': {
      const n = Number(s);
      return s !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': {
      const l = s.toLowerCase();
      return l === 'true' ? true : l === 'false' ? false : undefined;
    }
    case 'duration': {
      const m = /^(\d+)\s*([a-z]*)$/i.exec(s);
      if (!m) return undefined;
      const unit = m[2]!.toLowerCase();
      const factor = unit === '' ? 1 : DURATION_UNITS[unit];
      return factor === undefined ? undefined : Number(m[1]) * factor;
    }
    case 'enum': {
      const found = spec.values?.find((v) => v.toLowerCase() === s.toLowerCase());
      return found;
    }
  }
}

/**
 * The value of option `spec` in `options`, parsed, or undefined when absent. A value of the wrong
 * type throws Flink's "Invalid value for option 'k'." with a cause naming the value and the type.
 */
export function readOption(
  options: ReadonlyMap<string, string>,
  spec: OptionSpec,
): OptionValue | undefined {
  const raw = options.get(spec.key);
  if (raw === undefined) return undefined;
  const value = parse(spec, raw);
  if (value === undefined) {
    const expected =
      spec.type === 'enum'
        ? `one of ${(spec.values ?? []).map((v) => `'${v}'`).join(', ')}`
        : EXPECTED[spec.type];
    throw new ValidationError(`Invalid value for option '${spec.key}'.`, undefined, {
      cause: new ValidationError(
        `Could not parse value '${raw}' for key '${spec.key}': expected ${expected}.`,
      ),
    });
  }
  return value;
}

/** Typed readers over one table's options (the table's options, or a format's projection). */
export class OptionReader {
  constructor(readonly options: ReadonlyMap<string, string>) {}
  string(key: string): string | undefined {
    return this.options.get(key);
  }
  int(key: string, type: 'int' | 'long' = 'int'): number | undefined {
    return readOption(this.options, { key, type }) as number | undefined;
  }
  double(key: string): number | undefined {
    return readOption(this.options, { key, type: 'double' }) as number | undefined;
  }
  boolean(key: string): boolean | undefined {
    return readOption(this.options, { key, type: 'boolean' }) as boolean | undefined;
  }
  enum<V extends string>(key: string, values: readonly V[]): V | undefined {
    return readOption(this.options, { key, type: 'enum', values }) as V | undefined;
  }
  duration(key: string): number | undefined {
    return readOption(this.options, { key, type: 'duration' }) as number | undefined;
  }
}

/**
 * Checks a factory's options as Flink's `TableFactoryHelper.validate` does: required options
 * present, every value parseable, and no option left over that neither the factory nor its
 * formats consume (keys starting with one of `prefixesToSkip`, e.g. `properties.`, pass).
 */
export function validateOptions(
  identifier: string,
  options: ReadonlyMap<string, string>,
  specs: readonly OptionSpec[],
  prefixesToSkip: readonly string[] = [],
): void {
  const missing = specs
    .filter((s) => s.required && options.get(s.key) === undefined)
    .map((s) => s.key)
    .sort();
  if (missing.length > 0) {
    throw new ValidationError(
      `One or more required options are missing.\n\nMissing required options are:\n\n${missing.join('\n')}`,
    );
  }
  for (const s of specs) readOption(options, s);
  const consumed = new Set(['connector', 'property-version', ...specs.map((s) => s.key)]);
  const unsupported = [...options.keys()]
    .filter((k) => !consumed.has(k) && !prefixesToSkip.some((p) => k.startsWith(p)))
    .sort();
  if (unsupported.length > 0) {
    throw new ValidationError(
      `Unsupported options found for '${identifier}'.\n\nUnsupported options:\n\n${unsupported.join('\n')}\n\nSupported options:\n\n${[...consumed].sort().join('\n')}`,
    );
  }
}

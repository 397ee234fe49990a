/** The formats `'format' = '...'` can name, and their discovery with prefixed options. */
import { ValidationError } from '../../errors.js';
import type { OptionSpec } from '../options.js';
import { OptionReader } from '../options.js';
import { avroConfluentFormat, avroFormat } from './avro.js';
import { csvFormat } from './csv.js';
import type { FormatFactory } from './format.js';
import { jsonFormat } from './json.js';
import { rawFormat } from './raw.js';

const FORMATS: ReadonlyMap<string, FormatFactory> = new Map(
  [avroConfluentFormat, avroFormat, csvFormat, jsonFormat, rawFormat].map((f) => [f.identifier, f]),
);

/** A format chosen by a table option, with its options projected out of the table's. */
export interface DiscoveredFormat {
  readonly factory: FormatFactory;
  /** `json.`, `value.json.`, `key.csv.`. */
  readonly prefix: string;
  /** The format's options as the table spells them (with the prefix), for validation. */
  readonly specs: readonly OptionSpec[];
  /** The format's options without the prefix. */
  readonly options: OptionReader;
}

/** The format factory of `identifier`, or Flink's "Could not find any factory" error. */
export function formatFactory(identifier: string): FormatFactory {
  const f = FORMATS.get(identifier);
  if (!f) {
    throw new ValidationError(
      `Could not find any factory for identifier '${identifier}' that implements 'SerializationFormatFactory' / 'DeserializationFormatFactory'.\n\nAvailable factory identifiers are:\n\n${[...FORMATS.keys()].sort().join('\n')}`,
    );
  }
  return f;
}

/**
 * The format named by option `formatKey` ('format', 'value.format', 'key.format') of `options`,
 * or undefined when the option is not set. Its prefix follows Flink's `formatPrefix`.
 */
export function discoverFormat(
  options: ReadonlyMap<string, string>,
  formatKey: string,
): DiscoveredFormat | undefined {
  const identifier = options.get(formatKey);
  if (identifier === undefined) return undefined;
  const factory = formatFactory(identifier);
  const prefix =
    formatKey === 'format'
      ? `${identifier}.`
      : `${formatKey.slice(0, -'.format'.length)}.${identifier}.`;
  const projected = new Map<string, string>();
  for (const [k, v] of options) if (k.startsWith(prefix)) projected.set(k.slice(prefix.length), v);
  return {
    factory,
    prefix,
    specs: factory.options.map((s) => ({ ...s, key: prefix + s.key })),
    options: new OptionReader(projected),
  };
}

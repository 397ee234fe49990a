/**
 * Formats (Flink's `DeserializationFormatFactory` / `SerializationFormatFactory`): bytes of a
 * record or a line <-> a {@link Row} of given columns. A factory lists its options without the
 * prefix; a table gives them with the prefix of the format option that chose it (`json.` for
 * `'format'`, `value.json.` for `'value.format'`, `key.json.` for `'key.format'`).
 */
import type { Row } from '../../row.js';
import type { RowField } from '../../types.js';
import type { OptionReader, OptionSpec } from '../options.js';

/**
 * Reads one record. Returns null to skip it (a parse error under `ignore-parse-errors`); throws
 * a {@link FormatError} otherwise.
 */
export type RowDecoder = ((bytes: Buffer) => Row | null) & {
  /**
   * Optional (avro-confluent): the lookups a batch of records needs, before any of them is read;
   * the Kafka source awaits it once per fetched batch.
   */
  prepare?: (values: readonly (Buffer | null)[]) => Promise<void> | void;
};

/** Writes one row. */
export type RowEncoder = ((row: Row) => Buffer) & {
  /** Optional (avro-confluent): awaited by the Kafka sink before its first record. */
  open?: () => Promise<void> | void;
};

/** What a connector tells a format about where its records go. */
export interface EncoderContext {
  /** The registry subject a Kafka table writes under: `<topic>-value` or `<topic>-key`. */
  readonly defaultSubject?: string;
}

export interface FormatFactory {
  readonly identifier: string;
  /** Options without the prefix (`fail-on-missing-field`, not `json.fail-on-missing-field`). */
  readonly options: readonly OptionSpec[];
  /** Throws a ValidationError when the format cannot carry these columns (e.g. raw with two). */
  validate?(fields: readonly RowField[]): void;
  /** `options` holds this format's options with their prefix removed. */
  createDecoder(fields: readonly RowField[], options: OptionReader): RowDecoder;
  createEncoder(
    fields: readonly RowField[],
    options: OptionReader,
    context?: EncoderContext,
  ): RowEncoder;
}

/** A record a format could not read or a row it could not write (Flink's IOException there). */
export class FormatError extends Error {
  override name = 'FormatError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

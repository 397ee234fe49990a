/**
 * Rows of SQL tables at run time: plain objects keyed by column name, values as
 * `types.ts` describes. An updating (changelog) stream carries {@link Change}s instead.
 */
export type Row = Record<string, unknown>;

/** Flink's `RowKind`, as it prints it. */
export type RowKind = '+I' | '-U' | '+U' | '-D';

/** One change of an updating table: a row with its kind (Flink's `Row` with `getKind()`). */
export interface Change<T = Row> {
  readonly kind: RowKind;
  readonly row: T;
}

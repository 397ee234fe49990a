/**
 * SQL data types (Flink's `LogicalType`s) and how their values look at run time.
 *
 * Values in rows are plain JavaScript values:
 *
 * | SQL type                         | value                                                  |
 * |----------------------------------|--------------------------------------------------------|
 * | CHAR, VARCHAR, STRING            | string                                                 |
 * | BOOLEAN                          | boolean                                                |
 * | TINYINT .. INT, FLOAT, DOUBLE    | number                                                 |
 * | BIGINT                           | number (exact to 2^53, as JSON carries it)             |
 * | DECIMAL(p, s)                    | number rounded to s digits                             |
 * | DATE                             | number: days since 1970-01-01                          |
 * | TIME(p)                          | number: milliseconds of the day                        |
 * | TIMESTAMP(p)                     | number: epoch milliseconds of the wall-clock time read as UTC |
 * | TIMESTAMP_LTZ(p)                 | number: epoch milliseconds (an instant)                |
 * | INTERVAL                         | number: milliseconds (day-time) or months (year-month) |
 * | BYTES, BINARY, VARBINARY         | Uint8Array                                             |
 * | ARRAY<T>                         | array                                                  |
 * | MAP<K, V>                        | plain object for string keys, else Map                 |
 * | ROW<...>                         | plain object by field name                             |
 *
 * SQL NULL is `null`. At the edges (`toDataStream`) timestamps become `Date`s.
 */

export type SqlTypeName =
  | 'CHAR'
  | 'VARCHAR'
  | 'BOOLEAN'
  | 'TINYINT'
  | 'SMALLINT'
  | 'INT'
  | 'BIGINT'
  | 'FLOAT'
  | 'DOUBLE'
  | 'DECIMAL'
  | 'DATE'
  | 'TIME'
  | 'TIMESTAMP'
  | 'TIMESTAMP_LTZ'
  | 'INTERVAL_DAY_TIME'
  | 'INTERVAL_YEAR_MONTH'
  | 'BINARY'
  | 'VARBINARY'
  | 'ARRAY'
  | 'MAP'
  | 'MULTISET'
  | 'ROW'
  | 'NULL'
  | 'DESCRIPTOR';

/** The length of STRING (VARCHAR of the largest length), as in Flink. */
export const MAX_LENGTH = 2147483647;

/** Marks a TIMESTAMP column as a time attribute (Flink prints `*ROWTIME*` / `*PROCTIME*`). */
export type TimeAttribute = 'ROWTIME' | 'PROCTIME';

export type SqlType =
  | {
      readonly name:
        | 'BOOLEAN'
        | 'TINYINT'
        | 'SMALLINT'
        | 'INT'
        | 'BIGINT'
        | 'FLOAT'
        | 'DOUBLE'
        | 'DATE'
        | 'NULL'
        | 'INTERVAL_DAY_TIME'
        | 'INTERVAL_YEAR_MONTH'
        | 'DESCRIPTOR';
      readonly nullable: boolean;
    }
  | {
      readonly name: 'CHAR' | 'VARCHAR' | 'BINARY' | 'VARBINARY';
      readonly length: number;
      readonly nullable: boolean;
    }
  | {
      readonly name: 'DECIMAL';
      readonly precision: number;
      readonly scale: number;
      readonly nullable: boolean;
    }
  | { readonly name: 'TIME'; readonly precision: number; readonly nullable: boolean }
  | {
      readonly name: 'TIMESTAMP' | 'TIMESTAMP_LTZ';
      readonly precision: number;
      readonly nullable: boolean;
      readonly timeAttribute?: TimeAttribute;
    }
  | { readonly name: 'ARRAY' | 'MULTISET'; readonly element: SqlType; readonly nullable: boolean }
  | {
      readonly name: 'MAP';
      readonly key: SqlType;
      readonly value: SqlType;
      readonly nullable: boolean;
    }
  | { readonly name: 'ROW'; readonly fields: readonly RowField[]; readonly nullable: boolean };

export interface RowField {
  readonly name: string;
  readonly type: SqlType;
}

/** The member of {@link SqlType} with name `N`. */
export type SqlTypeOf<N extends SqlTypeName> = SqlType & { readonly name: N };

/** Constructors of common types (nullable unless said otherwise). */
export const Types = {
  STRING: (nullable = true): SqlType => ({ name: 'VARCHAR', length: MAX_LENGTH, nullable }),
  VARCHAR: (length: number, nullable = true): SqlType => ({ name: 'VARCHAR', length, nullable }),
  BOOLEAN: (nullable = true): SqlType => ({ name: 'BOOLEAN', nullable }),
  INT: (nullable = true): SqlType => ({ name: 'INT', nullable }),
  BIGINT: (nullable = true): SqlType => ({ name: 'BIGINT', nullable }),
  DOUBLE: (nullable = true): SqlType => ({ name: 'DOUBLE', nullable }),
  DECIMAL: (precision: number, scale: number, nullable = true): SqlType => ({
    name: 'DECIMAL',
    precision,
    scale,
    nullable,
  }),
  TIMESTAMP: (precision = 3, nullable = true): SqlType => ({
    name: 'TIMESTAMP',
    precision,
    nullable,
  }),
  TIMESTAMP_LTZ: (precision = 3, nullable = true): SqlType => ({
    name: 'TIMESTAMP_LTZ',
    precision,
    nullable,
  }),
  NULL: (): SqlType => ({ name: 'NULL', nullable: true }),
} as const;

/** The same type with another nullability. */
export function withNullable(type: SqlType, nullable: boolean): SqlType {
  return type.nullable === nullable ? type : { ...type, nullable };
}

/** The same type without its time attribute mark (what a time attribute becomes when computed on). */
export function withoutTimeAttribute(type: SqlType): SqlType {
  if ((type.name === 'TIMESTAMP' || type.name === 'TIMESTAMP_LTZ') && type.timeAttribute) {
    return { name: type.name, precision: type.precision, nullable: type.nullable };
  }
  return type;
}

export function isTimeAttribute(type: SqlType): boolean {
  return (type.name === 'TIMESTAMP' || type.name === 'TIMESTAMP_LTZ') && !!type.timeAttribute;
}

export function isRowtime(type: SqlType): boolean {
  return (
    (type.name === 'TIMESTAMP' || type.name === 'TIMESTAMP_LTZ') && type.timeAttribute === 'ROWTIME'
  );
}

export function isNumeric(type: SqlType): boolean {
  switch (type.name) {
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'BIGINT':
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL':
      return true;
    default:
      return false;
  }
}

export function isExactInteger(type: SqlType): boolean {
  return (
    type.name === 'TINYINT' ||
    type.name === 'SMALLINT' ||
    type.name === 'INT' ||
    type.name === 'BIGINT'
  );
}

export function isCharacterString(type: SqlType): boolean {
  return type.name === 'CHAR' || type.name === 'VARCHAR';
}

export function isTimestamp(type: SqlType): boolean {
  return type.name === 'TIMESTAMP' || type.name === 'TIMESTAMP_LTZ';
}

/**
 * The type as Flink prints it in `DESCRIBE` and in messages: `STRING`, `VARCHAR(10)`,
 * `DECIMAL(10, 2)`, `TIMESTAMP(3) *ROWTIME*`, `ARRAY<INT>`, `ROW<`a` INT, `b` STRING>`, with
 * ` NOT NULL` where the type is not nullable.
 */
export function formatType(type: SqlType): string {
  const nn = type.nullable ? '' : ' NOT NULL';
  switch (type.name) {
    case 'VARCHAR':
      return (type.length === MAX_LENGTH ? 'STRING' : `VARCHAR(${type.length})`) + nn;
    case 'CHAR':
    case 'BINARY':
      return `${type.name}(${type.length})${nn}`;
    case 'VARBINARY':
      return (type.length === MAX_LENGTH ? 'BYTES' : `VARBINARY(${type.length})`) + nn;
    case 'DECIMAL':
      return `DECIMAL(${type.precision}, ${type.scale})${nn}`;
    case 'TIME':
      return `TIME(${type.precision})${nn}`;
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ': {
      const mark = type.timeAttribute ? ` *${type.timeAttribute}*` : '';
      return `${type.name}(${type.precision})${nn}${mark}`;
    }
    case 'ARRAY':
    case 'MULTISET':
      return `${type.name}<${formatType(type.element)}>${nn}`;
    case 'MAP':
      return `MAP<${formatType(type.key)}, ${formatType(type.value)}>${nn}`;
    case 'ROW':
      return `ROW<${type.fields.map((f) => `\`${f.name}\` ${formatType(f.type)}`).join(', ')}>${nn}`;
    case 'INTERVAL_DAY_TIME':
      return `INTERVAL SECOND(3)${nn}`;
    case 'INTERVAL_YEAR_MONTH':
      return `INTERVAL MONTH${nn}`;
    default:
      return type.name + nn;
  }
}

/** Whether values of `from` can be stored in a column of type `to` without an explicit CAST. */
export function isAssignable(from: SqlType, to: SqlType): boolean {
  if (from.name === 'NULL') return true;
  if (isCharacterString(from) && isCharacterString(to)) return true;
  if (isNumeric(from) && isNumeric(to)) return true;
  if (isTimestamp(from) && isTimestamp(to)) return from.name === to.name;
  if (from.name !== to.name) return false;
  if (from.name === 'ARRAY' || from.name === 'MULTISET') {
    return isAssignable(from.element, (to as SqlTypeOf<'ARRAY'>).element);
  }
  if (from.name === 'MAP') {
    const m = to as SqlTypeOf<'MAP'>;
    return isAssignable(from.key, m.key) && isAssignable(from.value, m.value);
  }
  if (from.name === 'ROW') {
    const r = to as SqlTypeOf<'ROW'>;
    return (
      from.fields.length === r.fields.length &&
      from.fields.every((f, i) => isAssignable(f.type, r.fields[i]!.type))
    );
  }
  return true;
}

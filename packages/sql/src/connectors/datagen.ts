/**
 * The `datagen` connector (Flink's `DataGenTableSourceFactory`): rows of random or sequence values,
 * built on {@link DataGeneratorSource}. Options as in Flink: `rows-per-second` (default 10000),
 * `number-of-rows` (bounded when set), and per column `fields.<col>.kind` (`random` | `sequence`),
 * `min`/`max`, `length` (strings, default 100), `start`/`end` (sequences: the source ends when a
 * sequence does), `max-past` (random timestamps up to this far in the past), `null-rate`.
 *
 * Row `i` of the sequence is a pure function of `i`: sequence columns are `start + i` and random
 * columns come from a PRNG seeded with `i`, the column and the table name. A restored job resumes
 * its splits at their checkpointed index and so regenerates exactly the rows it would have (except
 * random TIMESTAMP/DATE values, which are relative to the current time, as in Flink).
 */
import { DataGeneratorSource } from '@nimble/connector-datagen';
import type { CatalogTable } from '../catalog/catalog-table.js';
import { ValidationError } from '../errors.js';
import type { Row } from '../row.js';
import type { RowField, SqlType } from '../types.js';
import { formatType } from '../types.js';
import type { OptionSpec } from './options.js';
import { OptionReader, validateOptions, withTableContext } from './options.js';
import type { SourceContext, TableSourceFactory } from './table-factory.js';

type FieldGenerator = (index: number, random: () => number) => unknown;

interface DatagenPlan {
  readonly count: number;
  readonly rowsPerSecond: number;
  readonly parallelism: number | undefined;
  readonly generators: readonly {
    readonly name: string;
    readonly gen: FieldGenerator;
    readonly nullRate: number;
  }[];
}

const INT_RANGES: Partial<Record<SqlType['name'], [number, number]>> = {
  TINYINT: [-128, 127],
  SMALLINT: [-32768, 32767],
  INT: [-2147483648, 2147483647],
  BIGINT: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const SEQUENCE_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INT',
  'BIGINT',
  'FLOAT',
  'DOUBLE',
  'DECIMAL',
  'CHAR',
  'VARCHAR',
]);

function fieldSpecs(fields: readonly RowField[]): OptionSpec[] {
  const specs: OptionSpec[] = [];
  for (const f of fields) {
    const p = `fields.${f.name}.`;
    const numeric =
      f.type.name === 'FLOAT' || f.type.name === 'DOUBLE' || f.type.name === 'DECIMAL';
    const num = numeric ? 'double' : 'long';
    specs.push(
      { key: `${p}kind`, type: 'enum', values: ['random', 'sequence'] },
      { key: `${p}min`, type: num },
      { key: `${p}max`, type: num },
      { key: `${p}start`, type: num },
      { key: `${p}end`, type: num },
      { key: `${p}length`, type: 'int' },
      { key: `${p}var-len`, type: 'boolean' },
      { key: `${p}max-past`, type: 'duration' },
      { key: `${p}null-rate`, type: 'double' },
    );
  }
  return specs;
}

const TABLE_OPTIONS: readonly OptionSpec[] = [
  { key: 'rows-per-second', type: 'long' },
  { key: 'number-of-rows', type: 'long' },
  { key: 'scan.parallelism', type: 'int' },
];

/** A 32-bit hash of a string (FNV-1a), to salt the per-row seeds with the table name. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** mulberry32 seeded with `seed`: a fast PRNG of [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function planFor(table: CatalogTable, fields: readonly RowField[]): DatagenPlan {
  const o = new OptionReader(table.options);
  // Options of columns the table does not have are unsupported, as in Flink.
  validateOptions('datagen', table.options, [...TABLE_OPTIONS, ...fieldSpecs(fields)]);
  let count = o.int('number-of-rows', 'long') ?? Infinity;
  const generators = fields.map((f) => {
    const p = `fields.${f.name}.`;
    const kind = o.enum(`${p}kind`, ['random', 'sequence'] as const) ?? 'random';
    const num = (k: string): number | undefined =>
      f.type.name === 'FLOAT' || f.type.name === 'DOUBLE' || f.type.name === 'DECIMAL'
        ? o.double(p + k)
        : o.int(p + k, 'long');
    let gen: FieldGenerator;
    if (kind === 'sequence') {
      if (!SEQUENCE_TYPES.has(f.type.name)) {
        throw new ValidationError(
          `Unsupported type for the sequence generator of field '${f.name}': ${formatType(f.type)}`,
        );
      }
      const start = num('start');
      const end = num('end');
      if (start === undefined) {
        throw new ValidationError(
          `Could not find required property '${p}start' for sequence generator.`,
        );
      }
      if (end === undefined) {
        throw new ValidationError(
          `Could not find required property '${p}end' for sequence generator.`,
        );
      }
      if (end < start) {
        throw new ValidationError(
          `'${p}end' (${end}) must not be less than '${p}start' (${start}).`,
        );
      }
      count = Math.min(count, Math.floor(end - start) + 1);
      const isString = f.type.name === 'VARCHAR' || f.type.name === 'CHAR';
      gen = isString ? (i) => String(start + i) : (i) => start + i;
    } else {
      gen = randomGenerator(f, o, p);
    }
    return { name: f.name, gen, nullRate: o.double(`${p}null-rate`) ?? 0 };
  });
  return {
    count,
    rowsPerSecond: o.int('rows-per-second', 'long') ?? 10000,
    parallelism: o.int('scan.parallelism'),
    generators,
  };
}

function randomGenerator(f: RowField, o: OptionReader, p: string): FieldGenerator {
  const t = f.type;
  const range = INT_RANGES[t.name];
  if (range) {
    const min = o.int(`${p}min`, 'long') ?? range[0];
    const max = o.int(`${p}max`, 'long') ?? range[1];
    return (_i, r) => min + Math.floor(r() * (max - min + 1));
  }
  switch (t.name) {
    case 'BOOLEAN':
      return (_i, r) => r() < 0.5;
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL': {
      const limit =
        t.name === 'DECIMAL'
          ? 10 ** (t.precision - t.scale) - 10 ** -t.scale
          : t.name === 'FLOAT'
            ? 3.4e38
            : Number.MAX_VALUE;
      const min = o.double(`${p}min`) ?? (t.name === 'DECIMAL' ? -limit : 0);
      const max = o.double(`${p}max`) ?? limit;
      // min * (1 - x) + max * x: no overflow over the whole double range.
      if (t.name === 'DECIMAL') {
        const f10 = 10 ** t.scale;
        return (_i, r) => {
          const x = r();
          return Math.round((min * (1 - x) + max * x) * f10) / f10;
        };
      }
      return t.name === 'FLOAT'
        ? (_i, r) => {
            const x = r();
            return Math.fround(min * (1 - x) + max * x);
          }
        : (_i, r) => {
            const x = r();
            return min * (1 - x) + max * x;
          };
    }
    case 'CHAR':
    case 'VARCHAR': {
      const length = Math.min(o.int(`${p}length`) ?? 100, t.length);
      const varLen = o.boolean(`${p}var-len`) ?? false;
      return (_i, r) => {
        const n = varLen ? 1 + Math.floor(r() * length) : length;
        let s = '';
        for (let k = 0; k < n; k++) s += Math.floor(r() * 16).toString(16);
        return s;
      };
    }
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ': {
      const maxPast = o.duration(`${p}max-past`) ?? 0;
      return (_i, r) => Date.now() - Math.floor(r() * (maxPast + 1));
    }
    case 'DATE': {
      const maxPast = o.duration(`${p}max-past`) ?? 0;
      return (_i, r) => Math.floor((Date.now() - Math.floor(r() * (maxPast + 1))) / 86_400_000);
    }
    case 'TIME':
      return (_i, r) => Math.floor(r() * 86_400_000);
    case 'ARRAY': {
      const element = randomGenerator({ name: f.name, type: t.element }, o, `${p}element.`);
      const length = o.int(`${p}length`) ?? 3;
      return (i, r) => Array.from({ length }, () => element(i, r));
    }
    case 'ROW': {
      const subs = t.fields.map((sf) => ({
        name: sf.name,
        gen: randomGenerator(sf, o, `${p}${sf.name}.`),
      }));
      return (i, r) => {
        const row: Row = {};
        for (const s of subs) row[s.name] = s.gen(i, r);
        return row;
      };
    }
    default:
      throw new ValidationError(
        `Unsupported type for the random generator of field '${f.name}': ${formatType(t)}`,
      );
  }
}

function plan(table: CatalogTable, fields: readonly RowField[]): DatagenPlan {
  return withTableContext('source', table, () => planFor(table, fields));
}

function physicalOf(table: CatalogTable): RowField[] {
  return table.columns
    .filter((c) => c.kind === 'physical')
    .map((c) => ({ name: c.name, type: c.type }));
}

export const datagenFactory: TableSourceFactory = {
  identifier: 'datagen',
  validateSource(table) {
    plan(table, physicalOf(table));
  },
  isBounded(table) {
    return plan(table, physicalOf(table)).count !== Infinity;
  },
  createSource(ctx: SourceContext) {
    const p = plan(ctx.table, ctx.physical);
    const salt = hashString(ctx.table.name);
    const gens = p.generators;
    const generate = (index: number): Row => {
      // Seeded per row: the same index always gives the same row (see the module comment).
      const random = prng(
        (Math.imul(index | 0, 0x9e3779b1) ^ Math.floor(index / 4294967296) ^ salt) >>> 0,
      );
      const row: Row = {};
      for (const g of gens) {
        row[g.name] = g.nullRate > 0 && random() < g.nullRate ? null : g.gen(index, random);
      }
      return row;
    };
    const source = new DataGeneratorSource(generate, p.count, {
      recordsPerSecond: p.rowsPerSecond,
    });
    const stream = ctx.env.fromSource(source, ctx.watermarks, ctx.name).uid(ctx.uid);
    if (p.parallelism !== undefined) stream.setParallelism(p.parallelism);
    return stream;
  },
};

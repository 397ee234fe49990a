import type { Pos, Query } from '../parser/ast.js';
import { ValidationError } from '../errors.js';
import type { CatalogTable } from './catalog-table.js';

/** Flink's built-in catalog and database: objects are `default_catalog.default_database.name`. */
export const DEFAULT_CATALOG = 'default_catalog';
export const DEFAULT_DATABASE = 'default_database';

/** A view defined by CREATE VIEW or `createTemporaryView` (Flink's `CatalogView`). */
export interface CatalogView {
  readonly kind: 'view';
  readonly name: string;
  /** A SQL view: its query and text. */
  readonly query?: Query;
  readonly queryText?: string;
  /** Column names given in `CREATE VIEW v (a, b)`. */
  readonly columns?: readonly string[];
  /** A view over a Table of the Table API (a planned relation), keyed by the environment. */
  readonly tableId?: number;
  readonly temporary: boolean;
}

export type CatalogObject = CatalogTable | CatalogView;

/**
 * The tables and views a {@link StreamTableEnvironment} knows, in Flink's one default catalog and
 * database. Names are case-sensitive, as in Flink.
 */
export class Catalog {
  private readonly objects = new Map<string, CatalogObject>();

  /** The object's last name part, after checking the catalog and database parts are the defaults. */
  static objectName(path: readonly string[], pos?: Pos): string {
    const name = path[path.length - 1]!;
    const database = path.length >= 2 ? path[path.length - 2] : DEFAULT_DATABASE;
    const catalog = path.length >= 3 ? path[path.length - 3] : DEFAULT_CATALOG;
    if (path.length > 3 || catalog !== DEFAULT_CATALOG || database !== DEFAULT_DATABASE) {
      throw new ValidationError(
        `Object '${path.join('.')}' is outside the one catalog Nimble has ` +
          `(${DEFAULT_CATALOG}.${DEFAULT_DATABASE}); name it '${name}'`,
        pos,
      );
    }
    return name;
  }

  /** The full path Flink prints: `default_catalog.default_database.name`. */
  static fullName(name: string): string {
    return `${DEFAULT_CATALOG}.${DEFAULT_DATABASE}.${name}`;
  }

  get(name: string): CatalogObject | undefined {
    return this.objects.get(name);
  }

  /** The object at `path`; Calcite's "Object 'x' not found" otherwise. */
  lookup(path: readonly string[], pos?: Pos): CatalogObject {
    const name = Catalog.objectName(path, pos);
    const object = this.objects.get(name);
    if (object === undefined) {
      const other = [...this.objects.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
      const hint = other ? `; did you mean '${other}'? (names are case-sensitive)` : '';
      throw new ValidationError(`Object '${name}' not found${hint}`, pos);
    }
    return object;
  }

  /** Adds an object; with `ifNotExists` an existing one is kept silently. */
  create(object: CatalogObject, ifNotExists: boolean, pos?: Pos): void {
    const existing = this.objects.get(object.name);
    if (existing !== undefined) {
      if (ifNotExists) return;
      throw new ValidationError(
        `Table (or view) ${DEFAULT_DATABASE}.${object.name} already exists in Catalog ${DEFAULT_CATALOG}.`,
        pos,
      );
    }
    this.objects.set(object.name, object);
  }

  /** Removes a table or view; Flink's messages when it is missing or of the other kind. */
  drop(kind: 'table' | 'view', path: readonly string[], ifExists: boolean, pos?: Pos): void {
    const name = Catalog.objectName(path, pos);
    const existing = this.objects.get(name);
    if (existing === undefined) {
      if (ifExists) return;
      const what = kind === 'table' ? 'Table' : 'View';
      throw new ValidationError(
        `${what} with identifier '${Catalog.fullName(name)}' does not exist.`,
        pos,
      );
    }
    if (existing.kind !== kind) {
      throw new ValidationError(
        kind === 'table'
          ? `Table '${Catalog.fullName(name)}' is a view; use DROP VIEW`
          : `View '${Catalog.fullName(name)}' is a table; use DROP TABLE`,
        pos,
      );
    }
    this.objects.delete(name);
  }

  /** Names of tables (views included, as Flink's SHOW TABLES lists them), sorted. */
  tableNames(): string[] {
    return [...this.objects.keys()].filter((n) => !n.startsWith('UnnamedTable$')).sort();
  }

  viewNames(): string[] {
    return [...this.objects.values()]
      .filter((o) => o.kind === 'view' && !o.name.startsWith('UnnamedTable$'))
      .map((o) => o.name)
      .sort();
  }
}

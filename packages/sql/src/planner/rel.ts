import type { DataStream } from '@nimble/api';
import type { Change, Row } from '../row.js';
import type { RowField } from '../types.js';
import type { ScopeColumn } from './scope.js';

/**
 * One operator of a planned statement as EXPLAIN prints it: Flink's physical node name with its
 * attributes (`WindowAggregate(groupBy=[user_id], window=[TUMBLE(...)], select=[...])`), the uid
 * its DataStream operator takes, and its inputs.
 */
export interface PlanNode {
  readonly description: string;
  readonly uid?: string;
  readonly inputs: readonly PlanNode[];
}

/**
 * A planned relation: the stream of its rows (or changes) and the columns it has. Row objects
 * hold each column under `ScopeColumn.key`.
 */
export interface Rel {
  readonly stream: DataStream<Row> | DataStream<Change>;
  readonly columns: readonly ScopeColumn[];
  /** `updates`: the stream carries {@link Change}s (an updating table). */
  readonly mode: 'insert-only' | 'updates';
  /** The key of an updating table's changes (its upsert key). */
  readonly upsertKey?: readonly string[];
  /** The row property equal to each record's timestamp (the rowtime the stream carries), if any. */
  readonly rowtimeKey?: string;
  /** Whether all inputs end (a bounded table). */
  readonly bounded: boolean;
  readonly plan: PlanNode;
  /**
   * Set when `stream` is only a conversion of another stream (a table over a DataStream): the
   * JavaScript expression of each row key over that stream's element `o` and timestamp `t`, so
   * an operator that needs a few columns in another form reads them from the element directly
   * (Flink merges such Calcs into one). Valid only while `stream === source.output`.
   */
  readonly source?: {
    readonly output: DataStream<Row> | DataStream<Change>;
    readonly input: DataStream<unknown>;
    readonly usesTimestamp: boolean;
    readonly code: ReadonlyMap<string, string>;
  };
}

/** The columns as row fields (names are the row keys). */
export function fieldsOf(columns: readonly ScopeColumn[]): RowField[] {
  return columns.map((c) => ({ name: c.key, type: c.type }));
}

/**
 * EXPLAIN's tree, as Flink prints it: one node per line; an input under its node with `+- `
 * (the last input) or `:- ` (the others), the lines below a non-last input prefixed with `:  `.
 */
export function formatPlan(root: PlanNode): string {
  const lines: string[] = [];
  const visit = (node: PlanNode, lead: string, branch: string): void => {
    const uid = node.uid ? `uid=[${node.uid}]` : '';
    const description =
      uid === ''
        ? node.description
        : node.description.endsWith(')')
          ? `${node.description.slice(0, -1)}, ${uid})`
          : `${node.description}(${uid})`;
    lines.push(`${lead}${branch}${description}`);
    const childLead = branch === '' ? lead : `${lead}${branch === ':- ' ? ':  ' : '   '}`;
    node.inputs.forEach((input, i) =>
      visit(input, childLead, i === node.inputs.length - 1 ? '+- ' : ':- '),
    );
  };
  visit(root, '', '');
  return `${lines.join('\n')}\n`;
}

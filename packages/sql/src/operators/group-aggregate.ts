/**
 * Unbounded GROUP BY aggregation (Flink's `GroupAggFunction`) as a keyed process function: the
 * planner keys the rows by the GROUP BY columns; the function keeps each group's accumulators
 * and emits the group's result as a changelog.
 */
import type { Collector, Key, KeyedProcessContext, RuntimeContext, ValueState } from '@nimble/api';
import { KeyedProcessFunction, ValueStateDescriptor } from '@nimble/api';
import type { CompiledAggregates } from '../planner/aggregates.js';
import type { Change, Row } from '../row.js';

/** Builds a group's result row from its key (as the stream is keyed) and aggregate values. */
export type GroupResultBuilder<K extends Key> = (key: K, aggValues: unknown[]) => Row;

/** What a {@link GroupAggregateFunction} computes and emits. */
export interface GroupAggregateOptions<K extends Key> {
  readonly aggregates: CompiledAggregates;
  readonly output: GroupResultBuilder<K>;
  /**
   * `'changelog'` when the input is an updating stream of {@link Change}s (`+I`/`+U` accumulate,
   * `-U`/`-D` retract; needs retractable aggregates); `'insert-only'` (the default) when it is a
   * stream of plain rows.
   */
  readonly input?: 'insert-only' | 'changelog';
  /**
   * Whether an update emits `-U[old]` before `+U[new]` (Flink's `generateUpdateBefore`, needed
   * unless the sink upserts by the group key). Default true.
   */
  readonly generateUpdateBefore?: boolean;
}

/** State of a group: how many rows it holds (it is empty at 0) and the accumulators. */
type GroupState = [count: number, accumulators: unknown[]];

/**
 * Emits Flink's changelog of a group's result: `+I` for the group's first row, `-U[old]` and
 * `+U[new]` when a row changes the result (nothing when the result stays the same, as Flink does
 * without state TTL), `-D[old]` when the last row of the group is retracted. A retraction of a
 * group that holds no row is ignored, as in Flink.
 */
export class GroupAggregateFunction<K extends Key> extends KeyedProcessFunction<
  K,
  Row | Change,
  Change
> {
  private readonly aggs: CompiledAggregates;
  private readonly changelogInput: boolean;
  private readonly updateBefore: boolean;
  private state!: ValueState<GroupState>;

  constructor(private readonly options: GroupAggregateOptions<K>) {
    super();
    this.aggs = options.aggregates;
    this.changelogInput = options.input === 'changelog';
    this.updateBefore = options.generateUpdateBefore ?? true;
    if (this.changelogInput && !this.aggs.retractable) {
      throw new Error(
        'GroupAggregateFunction: the input is an updating stream but an aggregate function ' +
          'cannot retract rows; use aggregates that support retraction.',
      );
    }
  }

  override open(ctx: RuntimeContext): void {
    this.state = ctx.getState(new ValueStateDescriptor<GroupState>('group-aggregate'));
  }

  processElement(input: Row | Change, ctx: KeyedProcessContext<K>, out: Collector<Change>): void {
    let row: Row;
    let accumulate = true;
    if (this.changelogInput) {
      const change = input as Change;
      row = change.row;
      accumulate = change.kind === '+I' || change.kind === '+U';
    } else {
      row = input as Row;
    }

    const stored = this.state.value();
    if (stored === undefined && !accumulate) return;
    const firstRow = stored === undefined;
    let count = stored === undefined ? 0 : stored[0];
    const accs = stored === undefined ? this.aggs.createAccumulators() : stored[1];
    // A copy: getValues may hand out arrays that accumulate changes.
    const previous = firstRow ? undefined : this.aggs.getValues(accs).slice();

    if (accumulate) {
      this.aggs.accumulate(accs, row);
      count++;
    } else {
      this.aggs.retract(accs, row);
      count--;
    }

    const key = ctx.getCurrentKey();
    if (count > 0) {
      this.state.update([count, accs]);
      const current = this.aggs.getValues(accs);
      if (previous === undefined) {
        out.collect({ kind: '+I', row: this.options.output(key, current) });
        return;
      }
      if (valuesEqual(previous, current)) return;
      if (this.updateBefore) out.collect({ kind: '-U', row: this.options.output(key, previous) });
      out.collect({ kind: '+U', row: this.options.output(key, current) });
    } else {
      if (previous !== undefined) {
        out.collect({ kind: '-D', row: this.options.output(key, previous) });
      }
      this.state.clear();
    }
  }
}

/** Whether two aggregate results are the same (Flink compares the result rows' fields). */
function valuesEqual(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!valueEqual(a[i], b[i])) return false;
  return true;
}

function valueEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || ArrayBuffer.isView(a)) {
    const x = a as ArrayLike<unknown>;
    const y = b as ArrayLike<unknown>;
    if (!(Array.isArray(b) || ArrayBuffer.isView(b)) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!valueEqual(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !valueEqual(v, b.get(k))) return false;
    return true;
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!valueEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}

/**
 * Window aggregation (Flink's window TVF aggregation and group window aggregation) on the
 * DataStream window operator: the planner keys the rows by the GROUP BY columns, windows them
 * with TUMBLE/HOP/CUMULATE/SESSION's assigner and aggregates them with these two adapters:
 *
 * ```ts
 * rows
 *   .keyBy(groupKey)
 *   .window(CumulativeEventTimeWindows.of(maxSize, step))
 *   .aggregate(windowAggregateFunction(aggs), windowResultFunction(buildRow));
 * ```
 *
 * The window operator emits each result with the timestamp `window_end - 1`, which is the
 * `window_time` rowtime Flink gives a window's result.
 */
import type {
  AggregateFunction,
  Collector,
  Key,
  ProcessWindowContext,
  TimeWindow,
} from '@nimble/api';
import { ProcessWindowFunction } from '@nimble/api';
import type { CompiledAggregates } from '../planner/aggregates.js';
import type { Row } from '../row.js';

/**
 * The compiled aggregates as a DataStream {@link AggregateFunction}: the accumulator is the
 * accumulator array of `aggs`, the result the aggregate values in call order. `merge` merges
 * accumulators of session windows.
 */
export function windowAggregateFunction(
  aggs: CompiledAggregates,
): AggregateFunction<Row, unknown[], unknown[]> {
  return {
    createAccumulator: () => aggs.createAccumulators(),
    add(row, accumulators) {
      aggs.accumulate(accumulators, row);
      return accumulators;
    },
    getResult: (accumulators) => aggs.getValues(accumulators),
    merge(a, b) {
      aggs.merge(a, b);
      return a;
    },
  };
}

/**
 * Builds a window's output row from the group key (as the stream is keyed), the window's bounds
 * and the aggregate values. The planner decides the layout: Flink puts the group keys first, then
 * `window_start`, `window_end`, `window_time` (`window_end - 1`, a rowtime), then the aggregates.
 */
export type WindowResultBuilder<K extends Key> = (
  key: K,
  windowStart: number,
  windowEnd: number,
  aggValues: unknown[],
) => Row;

/**
 * The window function after {@link windowAggregateFunction}: turns the aggregate values of a
 * fired window into the output row.
 */
export class WindowResultFunction<K extends Key> extends ProcessWindowFunction<
  unknown[],
  Row,
  K,
  TimeWindow
> {
  constructor(private readonly build: WindowResultBuilder<K>) {
    super();
  }

  process(
    key: K,
    context: ProcessWindowContext<TimeWindow>,
    elements: Iterable<unknown[]>,
    out: Collector<Row>,
  ): void {
    const window = context.window();
    // Pre-aggregated: one element, the aggregate values.
    for (const values of elements) out.collect(this.build(key, window.start, window.end, values));
  }
}

/** A {@link WindowResultFunction} building rows with `build`. */
export function windowResultFunction<K extends Key>(
  build: WindowResultBuilder<K>,
): WindowResultFunction<K> {
  return new WindowResultFunction(build);
}

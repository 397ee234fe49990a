/**
 * Window Top-N (Flink's `WindowRankOperator` for `ROW_NUMBER() OVER (PARTITION BY window_start,
 * window_end, ... ORDER BY ...) <= N` after a window TVF or window aggregation), as a keyed
 * process function.
 */
import type {
  Collector,
  Key,
  KeyedOnTimerContext,
  KeyedProcessContext,
  MapState,
  RuntimeContext,
} from '@nimble/api';
import { KeyedProcessFunction, MapStateDescriptor } from '@nimble/api';
import type { Row } from '../row.js';

/** What a {@link WindowTopNFunction} ranks and emits. */
export interface WindowTopNOptions {
  /** The row's `window_end` (epoch ms). */
  readonly windowEnd: (row: Row) => number;
  /** The ORDER BY of the ranking: negative when `a` ranks before `b`. */
  readonly compare: (a: Row, b: Row) => number;
  /** The last rank emitted (`rn <= N`); at least `rankStart`. */
  readonly rankEnd: number;
  /** The first rank emitted (`rn >= M` / `BETWEEN M AND N`); default 1. */
  readonly rankStart?: number;
  /**
   * The column the row number is emitted under, when the query selects it; rows are emitted as
   * they are otherwise.
   */
  readonly rankColumn?: string;
}

/**
 * Ranks the rows of each window of a key with ROW_NUMBER semantics and emits ranks
 * `rankStart..rankEnd` once the watermark reaches `window_end - 1`, in rank order, with the
 * timestamp `window_end - 1`. Rows that tie on the ORDER BY are ranked in arrival order.
 *
 * The planner keys the stream by the PARTITION BY columns (with or without `window_end`: windows
 * are kept apart by their end either way). Only the best `rankEnd` rows of a window are kept
 * in state. As in Flink, a row whose window the watermark has already passed
 * (`window_end - 1 <= watermark`) is late and dropped.
 */
export class WindowTopNFunction<K extends Key> extends KeyedProcessFunction<K, Row, Row> {
  private readonly rankStart: number;
  private readonly rankEnd: number;
  /** Per window end: the best rows so far, in rank order. */
  private windows!: MapState<number, Row[]>;

  constructor(private readonly options: WindowTopNOptions) {
    super();
    this.rankStart = options.rankStart ?? 1;
    this.rankEnd = options.rankEnd;
    if (!Number.isInteger(this.rankStart) || this.rankStart < 1) {
      throw new RangeError(
        `WindowTopNFunction: rankStart must be a positive integer; got ${this.rankStart}`,
      );
    }
    if (!Number.isInteger(this.rankEnd) || this.rankEnd < this.rankStart) {
      throw new RangeError(
        `WindowTopNFunction: rankEnd must be an integer of at least rankStart (${this.rankStart}); got ${this.rankEnd}`,
      );
    }
  }

  override open(ctx: RuntimeContext): void {
    this.windows = ctx.getMapState(new MapStateDescriptor<number, Row[]>('window-top-n'));
  }

  processElement(row: Row, ctx: KeyedProcessContext<K>, _out: Collector<Row>): void {
    const windowEnd = this.options.windowEnd(row);
    const timers = ctx.timerService();
    if (windowEnd - 1 <= timers.currentWatermark()) return; // late: the window has fired
    const best = this.windows.get(windowEnd);
    if (best === undefined) {
      this.windows.put(windowEnd, [row]);
      timers.registerEventTimeTimer(windowEnd - 1);
      return;
    }
    // After every row it ties with: ties keep their arrival order (ROW_NUMBER).
    const compare = this.options.compare;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(best[mid]!, row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.rankEnd) return; // ranks after N can never be emitted
    best.splice(lo, 0, row);
    if (best.length > this.rankEnd) best.length = this.rankEnd;
    this.windows.put(windowEnd, best);
  }

  override onTimer(timestamp: number, _ctx: KeyedOnTimerContext<K>, out: Collector<Row>): void {
    const windowEnd = timestamp + 1;
    const best = this.windows.get(windowEnd);
    if (best === undefined) return;
    const column = this.options.rankColumn;
    for (let rank = this.rankStart; rank <= best.length; rank++) {
      const row = best[rank - 1]!;
      out.collect(column === undefined ? row : { ...row, [column]: rank });
    }
    this.windows.remove(windowEnd);
  }
}

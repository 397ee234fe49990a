/**
 * OVER aggregations (Flink's `OverAggregate` exec node and the functions of
 * `org.apache.flink.table.runtime.operators.over`), as keyed process functions: the planner keys
 * the rows by the PARTITION BY columns (a constant key without PARTITION BY) and appends the
 * aggregate values of each row's frame to the row.
 *
 * Over event time (ORDER BY a rowtime attribute) rows wait in state until the watermark passes
 * their timestamp, so that every row's frame is complete; rows are then processed in timestamp
 * order, rows of one timestamp in arrival order. Late rows are dropped, as in Flink. Over
 * processing time (ORDER BY a proctime attribute) rows are processed as they arrive.
 */
import type {
  Collector,
  Key,
  KeyedOnTimerContext,
  KeyedProcessContext,
  MapState,
  RuntimeContext,
  ValueState,
} from '@nimble/api';
import { KeyedProcessFunction, MapStateDescriptor, ValueStateDescriptor } from '@nimble/api';
import type { CompiledAggregates } from '../planner/aggregates.js';
import type { Row } from '../row.js';

/**
 * The frame of an OVER window ending at CURRENT ROW: `RANGE BETWEEN INTERVAL x PRECEDING` (x in
 * ms) or `ROWS BETWEEN n PRECEDING`, or UNBOUNDED PRECEDING of either.
 */
export interface OverFrame {
  readonly units: 'RANGE' | 'ROWS';
  /** Milliseconds for RANGE, a row count for ROWS; at least 0. */
  readonly preceding: number | 'UNBOUNDED';
}

/**
 * The output row of an input row: Flink appends the aggregate values to the input row's fields.
 * `aggValues` may be shared by several calls: copy what is kept.
 */
export type OverOutputBuilder = (row: Row, aggValues: unknown[]) => Row;

/** What an OVER aggregation computes. */
export interface OverAggregateOptions {
  /** The aggregate calls of the OVER windows (one frame for all). */
  readonly aggregates: CompiledAggregates;
  readonly frame: OverFrame;
  readonly output: OverOutputBuilder;
}

/** An OVER aggregation ordered by a rowtime attribute. */
export interface RowTimeOverAggregateOptions extends OverAggregateOptions {
  /** The row's rowtime (epoch ms): the ORDER BY column. */
  readonly rowtime: (row: Row) => number;
}

/**
 * The function of an event-time OVER aggregation with `options.frame` (Flink's
 * `RowTimeRangeBoundedPrecedingFunction`, `RowTimeRowsBoundedPrecedingFunction`,
 * `RowTimeRangeUnboundedPrecedingFunction`, `RowTimeRowsUnboundedPrecedingFunction`).
 */
export function rowTimeOverAggregateFunction<K extends Key>(
  options: RowTimeOverAggregateOptions,
): KeyedProcessFunction<K, Row, Row> {
  const preceding = checkFrame(options.frame);
  if (preceding === 'UNBOUNDED') return new RowTimeUnboundedOverFunction<K>(options);
  return options.frame.units === 'RANGE'
    ? new RowTimeRangeBoundedOverFunction<K>(options, preceding)
    : new RowTimeRowsBoundedOverFunction<K>(options, preceding);
}

/**
 * The function of a processing-time OVER aggregation with `options.frame` (Flink's
 * `ProcTimeRangeBoundedPrecedingFunction`, `ProcTimeRowsBoundedPrecedingFunction`,
 * `ProcTimeUnboundedPrecedingFunction`). Rows carry no timestamp out, as in Flink.
 */
export function procTimeOverAggregateFunction<K extends Key>(
  options: OverAggregateOptions,
): KeyedProcessFunction<K, Row, Row> {
  const preceding = checkFrame(options.frame);
  // As in Flink, RANGE UNBOUNDED over processing time is evaluated row by row: each row arrives
  // at its own instant.
  if (preceding === 'UNBOUNDED') return new ProcTimeUnboundedOverFunction<K>(options);
  return options.frame.units === 'RANGE'
    ? new ProcTimeRangeBoundedOverFunction<K>(options, preceding)
    : new ProcTimeRowsBoundedOverFunction<K>(options, preceding);
}

function checkFrame(frame: OverFrame): number | 'UNBOUNDED' {
  const { preceding } = frame;
  if (preceding === 'UNBOUNDED') return preceding;
  if (!Number.isInteger(preceding) || preceding < 0) {
    throw new RangeError(
      `OVER ${frame.units} frame: the PRECEDING bound must be a non-negative integer ` +
        `(${frame.units === 'RANGE' ? 'milliseconds' : 'rows'}); got ${preceding}`,
    );
  }
  return preceding;
}

/** State and steps shared by the OVER functions. */
abstract class OverFunction<K extends Key> extends KeyedProcessFunction<K, Row, Row> {
  protected readonly aggs: CompiledAggregates;
  protected readonly output: OverOutputBuilder;
  /** Rows by timestamp (rowtime, or the processing time they arrived at). */
  protected inputs!: MapState<number, Row[]>;
  protected accState!: ValueState<unknown[]>;

  constructor(options: OverAggregateOptions) {
    super();
    this.aggs = options.aggregates;
    this.output = options.output;
  }

  override open(ctx: RuntimeContext): void {
    this.inputs = ctx.getMapState(new MapStateDescriptor<number, Row[]>('over-inputs'));
    this.accState = ctx.getState(new ValueStateDescriptor<unknown[]>('over-accumulators'));
  }

  protected accumulators(): unknown[] {
    return this.accState.value() ?? this.aggs.createAccumulators();
  }

  /** Adds `row` to the rows of `ts`; returns whether it is the first of `ts`. */
  protected buffer(ts: number, row: Row): boolean {
    const rows = this.inputs.get(ts);
    if (rows === undefined) {
      this.inputs.put(ts, [row]);
      return true;
    }
    rows.push(row);
    this.inputs.put(ts, rows);
    return false;
  }

  /**
   * RANGE BETWEEN `preceding` PRECEDING AND CURRENT ROW for the rows of `ts`: every row of the
   * timestamp gets the same values; rows older than `ts - preceding` leave the frame and state.
   */
  protected rangeBoundedStep(ts: number, preceding: number, out: Collector<Row>): void {
    const rows = this.inputs.get(ts);
    if (rows === undefined) return;
    const accs = this.accumulators();
    const limit = ts - preceding;
    const expired: number[] = [];
    for (const t of this.inputs.keys()) if (t < limit) expired.push(t);
    for (const t of expired) {
      for (const old of this.inputs.get(t) ?? []) this.aggs.retract(accs, old);
    }
    for (const row of rows) this.aggs.accumulate(accs, row);
    const values = this.aggs.getValues(accs);
    for (const row of rows) out.collect(this.output(row, values));
    for (const t of expired) this.inputs.remove(t);
    this.accState.update(accs);
  }

  /** UNBOUNDED PRECEDING for `rows` of one timestamp: ROWS row by row, RANGE all at once. */
  protected unboundedStep(rows: readonly Row[], rowsFrame: boolean, out: Collector<Row>): void {
    const accs = this.accumulators();
    if (rowsFrame) {
      for (const row of rows) {
        this.aggs.accumulate(accs, row);
        out.collect(this.output(row, this.aggs.getValues(accs)));
      }
    } else {
      for (const row of rows) this.aggs.accumulate(accs, row);
      const values = this.aggs.getValues(accs);
      for (const row of rows) out.collect(this.output(row, values));
    }
    this.accState.update(accs);
  }
}

/**
 * ROWS BETWEEN n PRECEDING AND CURRENT ROW: `inputs` holds exactly the rows in the frame (and,
 * over event time, the rows still waiting for the watermark), so the row leaving the frame is the
 * first of the smallest timestamp.
 */
abstract class RowsBoundedOverFunction<K extends Key> extends OverFunction<K> {
  /** Rows in the frame: the current row and `n` before it. */
  private readonly frameRows: number;
  private countState!: ValueState<number>;

  constructor(options: OverAggregateOptions, preceding: number) {
    super(options);
    this.frameRows = preceding + 1;
  }

  override open(ctx: RuntimeContext): void {
    super.open(ctx);
    this.countState = ctx.getState(new ValueStateDescriptor<number>('over-row-count'));
  }

  /** Processes `rows` (already in `inputs`) in order. */
  protected rowsBoundedStep(rows: readonly Row[], out: Collector<Row>): void {
    let count = this.countState.value() ?? 0;
    const accs = this.accumulators();
    let retractTs = 0;
    let retractRows: Row[] | undefined;
    let retracted = 0;
    for (const row of rows) {
      if (count >= this.frameRows) {
        if (retractRows === undefined) {
          retractTs = Infinity;
          for (const t of this.inputs.keys()) if (t < retractTs) retractTs = t;
          retractRows = this.inputs.get(retractTs);
          if (retractRows === undefined) {
            throw new Error(
              `OVER ROWS aggregation: no buffered row to retract at ${retractTs}; the state is inconsistent`,
            );
          }
        }
        this.aggs.retract(accs, retractRows[retracted++]!);
        if (retracted === retractRows.length) {
          this.inputs.remove(retractTs);
          retractRows = undefined;
          retracted = 0;
        }
      } else {
        count++;
      }
      this.aggs.accumulate(accs, row);
      out.collect(this.output(row, this.aggs.getValues(accs)));
    }
    if (retractRows !== undefined && retracted > 0) {
      this.inputs.put(retractTs, retractRows.slice(retracted));
    }
    this.countState.update(count);
    this.accState.update(accs);
  }
}

function rowtimeOf(rowtime: (row: Row) => number, row: Row): number {
  const ts = rowtime(row);
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    throw new TypeError(
      `OVER aggregation: the rowtime of a row is ${String(ts)}; the ORDER BY time attribute must not be NULL`,
    );
  }
  return ts;
}

/**
 * RANGE BETWEEN INTERVAL x PRECEDING AND CURRENT ROW over event time (Flink's
 * `RowTimeRangeBoundedPrecedingFunction`): a row is late when its timestamp is not after the last
 * processed timestamp of its key. A key idle for 1.5 times the interval has its state dropped, as
 * in Flink.
 */
export class RowTimeRangeBoundedOverFunction<K extends Key> extends OverFunction<K> {
  private readonly rowtime: (row: Row) => number;
  /**
   * One value per key for everything but the buffered rows, so an element costs one read of it
   * (Flink keeps three states; on the level backend each is a read of its own): the last
   * processed timestamp, the cleanup timer's time, the processed timestamps still in the frame
   * (ascending, so expired ones are found without scanning the buffer's keys), the accumulators.
   */
  private meta!: ValueState<RangeMeta>;

  constructor(
    options: RowTimeOverAggregateOptions,
    private readonly precedingMs: number,
  ) {
    super(options);
    this.rowtime = options.rowtime;
  }

  override open(ctx: RuntimeContext): void {
    super.open(ctx);
    this.meta = ctx.getState(new ValueStateDescriptor<RangeMeta>('over-range-meta'));
  }

  processElement(row: Row, ctx: KeyedProcessContext<K>, _out: Collector<Row>): void {
    const ts = rowtimeOf(this.rowtime, row);
    let meta = this.meta.value();
    const last = meta?.[0] ?? null;
    if (last !== null && ts <= last) return; // late
    const timers = ctx.timerService();
    if (this.buffer(ts, row)) timers.registerEventTimeTimer(ts);
    // A cleanup timer well after the frame of the newest row; a newer row pushes it further.
    const cleanup = meta?.[1] ?? null;
    if (cleanup === null || cleanup < ts + this.precedingMs + 1) {
      const at = ts + Math.floor(this.precedingMs * 1.5) + 1;
      timers.registerEventTimeTimer(at);
      meta ??= [null, null, [], this.aggs.createAccumulators()];
      meta[1] = at;
      this.meta.update(meta);
    }
  }

  override onTimer(timestamp: number, _ctx: KeyedOnTimerContext<K>, out: Collector<Row>): void {
    const meta = this.meta.value() ?? [null, null, [], this.aggs.createAccumulators()];
    const cleanup = meta[1];
    if (cleanup !== null && cleanup <= timestamp) {
      // No row arrived since the frames of all buffered rows closed.
      this.inputs.clear();
      this.meta.clear();
      return;
    }
    const rows = this.inputs.get(timestamp);
    if (rows !== undefined) {
      const accs = meta[3];
      const inFrame = meta[2];
      const limit = timestamp - this.precedingMs;
      let expired = 0;
      while (expired < inFrame.length && inFrame[expired]! < limit) {
        for (const old of this.inputs.get(inFrame[expired]!) ?? []) this.aggs.retract(accs, old);
        this.inputs.remove(inFrame[expired]!);
        expired++;
      }
      if (expired > 0) inFrame.splice(0, expired);
      for (const r of rows) this.aggs.accumulate(accs, r);
      const values = this.aggs.getValues(accs);
      for (const r of rows) out.collect(this.output(r, values));
      inFrame.push(timestamp);
    }
    meta[0] = timestamp;
    this.meta.update(meta);
  }
}

/** See {@link RowTimeRangeBoundedOverFunction.meta}. */
type RangeMeta = [
  lastTs: number | null,
  cleanupTs: number | null,
  inFrame: number[],
  accumulators: unknown[],
];

/**
 * ROWS BETWEEN n PRECEDING AND CURRENT ROW over event time (Flink's
 * `RowTimeRowsBoundedPrecedingFunction`): a row is late when its timestamp is not after the last
 * processed timestamp of its key.
 */
export class RowTimeRowsBoundedOverFunction<K extends Key> extends RowsBoundedOverFunction<K> {
  private readonly rowtime: (row: Row) => number;
  private lastTs!: ValueState<number>;

  constructor(options: RowTimeOverAggregateOptions, preceding: number) {
    super(options, preceding);
    this.rowtime = options.rowtime;
  }

  override open(ctx: RuntimeContext): void {
    super.open(ctx);
    this.lastTs = ctx.getState(new ValueStateDescriptor<number>('over-last-triggering-ts'));
  }

  processElement(row: Row, ctx: KeyedProcessContext<K>, _out: Collector<Row>): void {
    const ts = rowtimeOf(this.rowtime, row);
    const last = this.lastTs.value();
    if (last !== undefined && ts <= last) return; // late
    if (this.buffer(ts, row)) ctx.timerService().registerEventTimeTimer(ts);
  }

  override onTimer(timestamp: number, _ctx: KeyedOnTimerContext<K>, out: Collector<Row>): void {
    const rows = this.inputs.get(timestamp);
    if (rows !== undefined) this.rowsBoundedStep(rows, out);
    this.lastTs.update(timestamp);
  }
}

/**
 * UNBOUNDED PRECEDING over event time, RANGE or ROWS (Flink's
 * `RowTimeRangeUnboundedPrecedingFunction` and `RowTimeRowsUnboundedPrecedingFunction`): a row is
 * late when its timestamp is not after the current watermark. Rows leave state once processed.
 */
export class RowTimeUnboundedOverFunction<K extends Key> extends OverFunction<K> {
  private readonly rowtime: (row: Row) => number;
  private readonly rowsFrame: boolean;

  constructor(options: RowTimeOverAggregateOptions) {
    super(options);
    this.rowtime = options.rowtime;
    this.rowsFrame = options.frame.units === 'ROWS';
  }

  processElement(row: Row, ctx: KeyedProcessContext<K>, _out: Collector<Row>): void {
    const ts = rowtimeOf(this.rowtime, row);
    const timers = ctx.timerService();
    if (ts <= timers.currentWatermark()) return; // late
    if (this.buffer(ts, row)) timers.registerEventTimeTimer(ts);
  }

  override onTimer(timestamp: number, _ctx: KeyedOnTimerContext<K>, out: Collector<Row>): void {
    const rows = this.inputs.get(timestamp);
    if (rows === undefined) return;
    this.unboundedStep(rows, this.rowsFrame, out);
    this.inputs.remove(timestamp);
  }
}

/**
 * RANGE BETWEEN INTERVAL x PRECEDING AND CURRENT ROW over processing time (Flink's
 * `ProcTimeRangeBoundedPrecedingFunction`): the rows of one millisecond are evaluated together
 * once it has passed.
 */
export class ProcTimeRangeBoundedOverFunction<K extends Key> extends OverFunction<K> {
  constructor(
    options: OverAggregateOptions,
    private readonly precedingMs: number,
  ) {
    super(options);
  }

  processElement(row: Row, ctx: KeyedProcessContext<K>, _out: Collector<Row>): void {
    const timers = ctx.timerService();
    const now = timers.currentProcessingTime();
    if (this.buffer(now, row)) timers.registerProcessingTimeTimer(now + 1);
  }

  override onTimer(timestamp: number, _ctx: KeyedOnTimerContext<K>, out: Collector<Row>): void {
    this.rangeBoundedStep(timestamp - 1, this.precedingMs, out);
  }
}

/**
 * ROWS BETWEEN n PRECEDING AND CURRENT ROW over processing time (Flink's
 * `ProcTimeRowsBoundedPrecedingFunction`): each row is evaluated as it arrives.
 */
export class ProcTimeRowsBoundedOverFunction<K extends Key> extends RowsBoundedOverFunction<K> {
  processElement(row: Row, ctx: KeyedProcessContext<K>, out: Collector<Row>): void {
    this.buffer(ctx.timerService().currentProcessingTime(), row);
    this.rowsBoundedStep([row], out);
  }
}

/**
 * UNBOUNDED PRECEDING over processing time (Flink's `ProcTimeUnboundedPrecedingFunction`): each
 * row is accumulated and evaluated as it arrives; no row is kept.
 */
export class ProcTimeUnboundedOverFunction<K extends Key> extends OverFunction<K> {
  processElement(row: Row, _ctx: KeyedProcessContext<K>, out: Collector<Row>): void {
    this.unboundedStep([row], true, out);
  }
}

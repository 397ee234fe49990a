/**
 * The window assigner of Flink's CUMULATE window table function, for the DataStream window
 * operator: Flink SQL evaluates CUMULATE with its slicing operator, Nimble with the ordinary
 * window operator over the windows this assigner hands out.
 */
import type { AlignedWindows, DurationLike, Trigger } from '@nimble/api';
import { EventTimeTrigger, TimeWindow, toMillis, WindowAssigner } from '@nimble/api';
import type { Row } from '../row.js';

/**
 * Cumulating event-time windows (Flink's `CUMULATE(data, timecol, step, size [, offset])`):
 * windows that all start at the same multiple of `maxSize` and end `step`, `2 * step`, ...,
 * `maxSize` later. A row at `t` belongs to each of those windows whose end is after `t`, so a
 * row early in the period counts towards every step's result.
 *
 * With `maxSize` 10 min and `step` 2 min, a row at 00:03 belongs to `[00:00, 00:04)`,
 * `[00:00, 00:06)`, `[00:00, 00:08)` and `[00:00, 00:10)`.
 */
export class CumulativeEventTimeWindows extends WindowAssigner<Row, TimeWindow> {
  private constructor(
    /** The length of the largest window of a period, ms. */
    readonly maxSize: number,
    /** How much each window of a period is longer than the one before, ms. */
    readonly step: number,
    /** Shift of the periods' starts from the epoch, ms. */
    readonly offset: number,
  ) {
    super();
  }

  /**
   * Windows of up to `maxSize`, growing by `step`.
   *
   * @param maxSize - the SIZE argument of CUMULATE; a positive multiple of `step`.
   * @param step - the STEP argument; positive.
   * @param offset - the OFFSET argument: shifts the periods' starts (may be negative). Default 0.
   * @throws RangeError when a size is not positive or `maxSize` is no multiple of `step`, with
   *   Flink's messages.
   */
  static of(
    maxSize: DurationLike,
    step: DurationLike,
    offset: DurationLike = 0,
  ): CumulativeEventTimeWindows {
    const max = toMillis(maxSize);
    const stepMs = toMillis(step);
    if (!(max > 0) || !(stepMs > 0)) {
      throw new RangeError(
        `Cumulative Window parameters must satisfy maxSize > 0 and step > 0, but got maxSize ${max}ms and step ${stepMs}ms.`,
      );
    }
    if (max % stepMs !== 0) {
      throw new RangeError(
        `Cumulative Window requires maxSize must be an integral multiple of step, but got maxSize ${max}ms and step ${stepMs}ms.`,
      );
    }
    return new CumulativeEventTimeWindows(max, stepMs, toMillis(offset));
  }

  assignWindows(_row: Row, timestamp: number | undefined): TimeWindow[] {
    if (timestamp === undefined) {
      throw new Error(
        'CumulativeEventTimeWindows: the row has no timestamp. CUMULATE over event time needs a ' +
          'rowtime attribute: declare a WATERMARK for the time column of the source table.',
      );
    }
    const start = TimeWindow.getWindowStartWithOffset(timestamp, this.offset, this.maxSize);
    const windows: TimeWindow[] = [];
    // The first step whose end is after the row: earlier windows of the period closed before it.
    const firstEnd = start + (Math.floor((timestamp - start) / this.step) + 1) * this.step;
    for (let end = firstEnd; end <= start + this.maxSize; end += this.step) {
      windows.push(new TimeWindow(start, end));
    }
    return windows;
  }

  getDefaultTrigger(): Trigger<Row, TimeWindow> {
    return EventTimeTrigger.create();
  }

  isEventTime(): boolean {
    return true;
  }

  /** @internal */
  override alignedWindows(): AlignedWindows | undefined {
    if (this.constructor !== CumulativeEventTimeWindows) return undefined;
    return { kind: 'cumulative', maxSize: this.maxSize, step: this.step, offset: this.offset };
  }

  override toString(): string {
    return `CumulativeEventTimeWindows(${this.maxSize}, ${this.step})`;
  }
}

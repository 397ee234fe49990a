import type { Duration } from './time.js';
import { MIN_TIMESTAMP, nonNegativeMillis, positiveMillis } from './time.js';

/** Where a {@link WatermarkGenerator} sends watermarks and idleness. */
export interface WatermarkOutput {
  /** Emits a watermark; one that does not advance is ignored. */
  emitWatermark(watermark: number): void;
  /** Marks this output idle: it holds no watermark back until it emits again. */
  markIdle(): void;
  /** Marks this output active again. */
  markActive(): void;
}

/** Generates watermarks from events and periodically (Flink's `WatermarkGenerator`). */
export interface WatermarkGenerator<T> {
  /** Called for every event with its timestamp. */
  onEvent(event: T, eventTimestamp: number, output: WatermarkOutput): void;
  /** Called every `pipeline.auto-watermark-interval` (200 ms by default). */
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** Extracts an event's timestamp in ms; `recordTimestamp` is the source's own, if any. */
export type TimestampAssigner<T> = (event: T, recordTimestamp: number | undefined) => number;

/** Creates a fresh generator for each source split or subtask. */
export type WatermarkGeneratorSupplier<T> = () => WatermarkGenerator<T>;

/** Watermarks trailing the largest timestamp seen by `outOfOrderness` (Flink's formula, minus 1 ms). */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp: number;
  constructor(private readonly outOfOrdernessMillis: number) {
    if (!(outOfOrdernessMillis >= 0)) throw new RangeError('outOfOrderness must not be negative');
    this.maxTimestamp = MIN_TIMESTAMP + outOfOrdernessMillis + 1;
  }
  onEvent(_event: T, eventTimestamp: number): void {
    if (eventTimestamp > this.maxTimestamp) this.maxTimestamp = eventTimestamp;
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    output.emitWatermark(this.maxTimestamp - this.outOfOrdernessMillis - 1);
  }
}

/** Watermarks and timestamps of a source (Flink's `WatermarkStrategy`). */
export class WatermarkStrategy<T> {
  private constructor(
    /** @internal */ readonly generatorSupplier: WatermarkGeneratorSupplier<T> | undefined,
    /** @internal */ readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** @internal */ readonly idlenessMillis: number | undefined,
  ) {}

  /**
   * Watermarks trailing the maximum timestamp by `maxOutOfOrderness`.
   *
   * @throws RangeError when `maxOutOfOrderness` is negative.
   */
  static forBoundedOutOfOrderness<T>(maxOutOfOrderness: Duration): WatermarkStrategy<T> {
    const ms = nonNegativeMillis(
      'WatermarkStrategy.forBoundedOutOfOrderness: maxOutOfOrderness',
      maxOutOfOrderness,
    );
    return new WatermarkStrategy<T>(
      () => new BoundedOutOfOrdernessWatermarks<T>(ms),
      undefined,
      undefined,
    );
  }
  /** For ascending timestamps: the watermark is the maximum timestamp seen, minus 1 ms. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(
      () => new BoundedOutOfOrdernessWatermarks<T>(0),
      undefined,
      undefined,
    );
  }
  /** No watermarks: for processing-time pipelines. */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(undefined, undefined, undefined);
  }
  /** Watermarks from a custom generator. */
  static forGenerator<T>(supplier: WatermarkGeneratorSupplier<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(supplier, undefined, undefined);
  }

  /** Takes event timestamps from `assigner`. */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.generatorSupplier, assigner, this.idlenessMillis);
  }
  /**
   * Marks a split idle after `idleTimeout` without events, so it does not hold the watermark back.
   *
   * @throws RangeError when `idleTimeout` is not positive.
   */
  withIdleness(idleTimeout: Duration): WatermarkStrategy<T> {
    const ms = positiveMillis('WatermarkStrategy.withIdleness: idleTimeout', idleTimeout);
    return new WatermarkStrategy<T>(this.generatorSupplier, this.timestampAssigner, ms);
  }
}

import type {
  TimestampAssigner,
  WatermarkGenerator,
  WatermarkOutput,
  WatermarkStrategy,
} from '@nimble/api';
import { MIN_TIMESTAMP } from '@nimble/api';
import { userCodeFailure } from '../errors.js';
import type { Output } from './operator.js';

/**
 * Applies a WatermarkStrategy to a stream: assigns timestamps, feeds the generator, emits
 * watermarks that advance and idleness changes (Flink's TimestampsAndWatermarks + WatermarksWithIdleness).
 * Used by source tasks and by `assignTimestampsAndWatermarks`.
 */
export class WatermarkEmitter<T> implements WatermarkOutput {
  private readonly generator: WatermarkGenerator<T> | undefined;
  private readonly assigner: TimestampAssigner<T> | undefined;
  private readonly idleTimeout: number | undefined;
  private lastEmitted = MIN_TIMESTAMP;
  private idle = false;
  private eventsSinceCheck = 0;
  private inactiveSince: number | undefined;

  constructor(
    strategy: WatermarkStrategy<T>,
    private readonly output: Output<T>,
    private readonly operatorName: string,
    private readonly now: () => number,
  ) {
    this.assigner = strategy.timestampAssigner;
    this.idleTimeout = strategy.idlenessMillis;
    try {
      this.generator = strategy.generatorSupplier?.();
    } catch (e) {
      throw userCodeFailure(`${operatorName}: watermark generator`, e);
    }
  }

  /** Whether watermarks are generated at all. */
  get generatesWatermarks(): boolean {
    return this.generator !== undefined;
  }

  /** Assigns the timestamp of `value`, feeds the generator and forwards the record. */
  emitRecord(value: T, recordTimestamp: number | undefined): void {
    let ts = recordTimestamp;
    if (this.assigner !== undefined) {
      try {
        ts = this.assigner(value, recordTimestamp);
      } catch (e) {
        throw userCodeFailure(`${this.operatorName}: timestamp assigner`, e);
      }
      if (typeof ts !== 'number' || Number.isNaN(ts)) {
        throw userCodeFailure(
          this.operatorName,
          new TypeError(
            `the timestamp assigner returned ${String(ts)}; it must return a number of ms`,
          ),
        );
      }
    }
    this.eventsSinceCheck++;
    if (this.idle) this.markActive();
    // The record goes first, then the generator sees it: a watermark it emits follows the record (as in Flink).
    this.output.collect(value, ts);
    if (this.generator !== undefined && ts !== undefined) {
      try {
        this.generator.onEvent(value, ts, this);
      } catch (e) {
        throw userCodeFailure(`${this.operatorName}: watermark generator`, e);
      }
    }
  }

  /** Called every auto-watermark interval. */
  onPeriodicEmit(): void {
    if (this.generator === undefined) return;
    if (this.idleTimeout !== undefined) {
      const now = this.now();
      if (this.eventsSinceCheck > 0) {
        this.eventsSinceCheck = 0;
        this.inactiveSince = undefined;
      } else if (this.inactiveSince === undefined) {
        this.inactiveSince = now;
      } else if (now - this.inactiveSince >= this.idleTimeout) {
        this.markIdle();
        return;
      }
    }
    try {
      this.generator.onPeriodicEmit(this);
    } catch (e) {
      throw userCodeFailure(`${this.operatorName}: watermark generator`, e);
    }
  }

  emitWatermark(watermark: number): void {
    if (watermark <= this.lastEmitted) return;
    this.lastEmitted = watermark;
    if (this.idle) this.markActive();
    this.output.emitWatermark(watermark);
  }
  markIdle(): void {
    if (this.idle) return;
    this.idle = true;
    this.output.emitWatermarkStatus(true);
  }
  markActive(): void {
    if (!this.idle) return;
    this.idle = false;
    this.inactiveSince = undefined;
    this.output.emitWatermarkStatus(false);
  }
}

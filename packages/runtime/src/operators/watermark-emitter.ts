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

  /** Whether the output is marked idle. */
  get isIdle(): boolean {
    return this.idle;
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

/**
 * Per-split watermarks (Flink's WatermarkOutputMultiplexer): each split's records feed a
 * generator of their own, with idleness; the source's watermark is the minimum over the splits
 * that are not idle, and the source is idle when all of them are.
 */
export class SplitWatermarks<T> {
  private readonly splits = new Map<
    string,
    { emitter: WatermarkEmitter<T>; progress: { watermark: number; idle: boolean } }
  >();

  constructor(
    private readonly strategy: WatermarkStrategy<T>,
    /** The source's combined output: records go straight through; watermarks are combined. */
    private readonly main: WatermarkEmitter<T>,
    private readonly records: Output<T>,
    private readonly operatorName: string,
    private readonly now: () => number,
  ) {}

  /** Whether any split output was created: the periodic emission then goes through here. */
  get active(): boolean {
    return this.splits.size > 0;
  }

  /** The output of split `splitId`. */
  outputFor(splitId: string): { collect(record: T, timestamp?: number): void } {
    let split = this.splits.get(splitId);
    if (!split) {
      const progress = { watermark: MIN_TIMESTAMP, idle: false };
      const output: Output<T> = {
        collect: (v, ts) => this.records.collect(v, ts),
        collectSide: (tag, v, ts) => this.records.collectSide(tag, v, ts),
        emitWatermark: (wm) => {
          progress.watermark = wm;
          this.combine();
        },
        emitWatermarkStatus: (idle) => {
          progress.idle = idle;
          this.combine();
        },
      };
      const name = `${this.operatorName} split ${splitId}`;
      split = { progress, emitter: new WatermarkEmitter(this.strategy, output, name, this.now) };
      this.splits.set(splitId, split);
    }
    const emitter = split.emitter;
    const main = this.main;
    return {
      collect: (record, timestamp) => {
        // A record makes the source active at once: downstream must not leave its watermark out.
        if (main.isIdle) main.markActive();
        emitter.emitRecord(record, timestamp);
      },
    };
  }

  /** Split `splitId` is gone: it no longer holds back the watermark. */
  release(splitId: string): void {
    if (this.splits.delete(splitId)) this.combine();
  }

  /** Every auto-watermark interval: each split's generator and idleness, then the minimum. */
  onPeriodicEmit(): void {
    for (const s of this.splits.values()) s.emitter.onPeriodicEmit();
  }

  private combine(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const { progress: p } of this.splits.values()) {
      if (!p.idle && p.watermark < min) min = p.watermark;
    }
    if (min === Number.POSITIVE_INFINITY) {
      if (this.splits.size > 0) this.main.markIdle();
      return;
    }
    this.main.markActive();
    if (min > MIN_TIMESTAMP) this.main.emitWatermark(min);
  }
}

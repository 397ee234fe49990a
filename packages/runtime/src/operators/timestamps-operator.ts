import type { WatermarkStrategy } from '@nimble/api';
import { MAX_TIMESTAMP } from '@nimble/api';
import type { ScheduledTimer } from '../timers/processing-time-service.js';
import { StreamOperator } from './operator.js';
import { WatermarkEmitter } from './watermark-emitter.js';

/**
 * `assignTimestampsAndWatermarks` (Flink's TimestampsAndWatermarksOperator): replaces timestamps
 * and watermarks; upstream watermarks are dropped except the final one that ends the input.
 */
export class TimestampsAndWatermarksOperator<T> extends StreamOperator<T, T> {
  private emitter!: WatermarkEmitter<T>;
  private timer: ScheduledTimer | undefined;

  constructor(
    private readonly strategy: WatermarkStrategy<T>,
    private readonly intervalMs: number,
  ) {
    super();
  }
  override open(): void {
    const pts = this.ctx.processingTimeService;
    this.emitter = new WatermarkEmitter(this.strategy, this.output, this.ctx.name, () => pts.now());
    if (this.emitter.generatesWatermarks && this.intervalMs > 0) this.schedule();
  }
  private schedule(): void {
    const pts = this.ctx.processingTimeService;
    this.timer = pts.schedule(pts.now() + this.intervalMs, () => {
      try {
        this.emitter.onPeriodicEmit();
        this.ctx.requestFlush();
        this.schedule();
      } catch (e) {
        this.ctx.failTask(e);
      }
    });
  }
  processElement(value: T, timestamp: number | undefined): void {
    this.emitter.emitRecord(value, timestamp);
  }
  override processWatermark(watermark: number): void {
    if (watermark === MAX_TIMESTAMP) {
      this.emitter.onPeriodicEmit();
      this.output.emitWatermark(MAX_TIMESTAMP);
    }
  }
  override processWatermarkStatus(): void {}
  override close(): void {
    this.timer?.cancel();
    this.disposeTimers();
  }
}

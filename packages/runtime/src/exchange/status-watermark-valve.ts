import { MAX_TIMESTAMP, MIN_TIMESTAMP } from '@nimble/api';

/**
 * Combines the watermarks and idleness of a task's input channels (Flink's StatusWatermarkValve):
 * the output watermark is the minimum over active, aligned channels; idle channels do not hold it
 * back; when all channels are idle the output is idle. A channel that ended counts as MAX.
 */
export class StatusWatermarkValve {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private readonly aligned: boolean[];
  private lastOutput = MIN_TIMESTAMP;
  private outputIdle = false;

  constructor(
    numChannels: number,
    private readonly emitWatermark: (watermark: number) => void,
    private readonly emitStatus: (idle: boolean) => void,
  ) {
    this.watermarks = new Array<number>(numChannels).fill(MIN_TIMESTAMP);
    this.idle = new Array<boolean>(numChannels).fill(false);
    this.aligned = new Array<boolean>(numChannels).fill(true);
  }

  inputWatermark(channel: number, watermark: number): void {
    if (this.idle[channel]) return;
    if (watermark > this.watermarks[channel]!) {
      this.watermarks[channel] = watermark;
      if (!this.aligned[channel] && watermark >= this.lastOutput) this.aligned[channel] = true;
      this.findAndOutputNewMinWatermark();
    }
  }

  inputStatus(channel: number, idle: boolean): void {
    if (idle === this.idle[channel]) return;
    this.idle[channel] = idle;
    if (idle) {
      this.aligned[channel] = false;
      if (this.idle.every((i) => i)) {
        // All idle: release the largest watermark seen, as Flink does, then go idle.
        const max = Math.max(...this.watermarks);
        if (max > this.lastOutput) {
          this.lastOutput = max;
          this.emitWatermark(max);
        }
        if (!this.outputIdle) {
          this.outputIdle = true;
          this.emitStatus(true);
        }
      } else {
        this.findAndOutputNewMinWatermark();
      }
    } else {
      // Active again: it takes part once its watermark catches up with the output.
      this.aligned[channel] = this.watermarks[channel]! >= this.lastOutput;
      if (this.outputIdle) {
        this.outputIdle = false;
        this.emitStatus(false);
      }
    }
  }

  /** The channel ended: it no longer holds the watermark back. */
  endOfInput(channel: number): void {
    this.idle[channel] = false;
    this.aligned[channel] = true;
    this.watermarks[channel] = MAX_TIMESTAMP;
    this.findAndOutputNewMinWatermark();
  }

  private findAndOutputNewMinWatermark(): void {
    let min = Number.POSITIVE_INFINITY;
    let any = false;
    for (let i = 0; i < this.watermarks.length; i++) {
      if (!this.idle[i] && this.aligned[i]) {
        any = true;
        if (this.watermarks[i]! < min) min = this.watermarks[i]!;
      }
    }
    if (any && min > this.lastOutput) {
      this.lastOutput = min;
      if (this.outputIdle) {
        this.outputIdle = false;
        this.emitStatus(false);
      }
      this.emitWatermark(min);
    }
  }
}

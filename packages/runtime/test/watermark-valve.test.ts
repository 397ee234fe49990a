import { MAX_TIMESTAMP } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { StatusWatermarkValve } from '../src/exchange/status-watermark-valve.js';

function valve(channels: number) {
  const out: (number | string)[] = [];
  const v = new StatusWatermarkValve(
    channels,
    (wm) => out.push(wm),
    (idle) => out.push(idle ? 'idle' : 'active'),
  );
  return { v, out };
}

describe('StatusWatermarkValve (minimum watermark over inputs, idle inputs excluded)', () => {
  it('emits the minimum over all inputs, only when it advances', () => {
    const { v, out } = valve(3);
    v.inputWatermark(0, 10);
    v.inputWatermark(1, 5);
    expect(out).toEqual([]); // channel 2 has no watermark yet
    v.inputWatermark(2, 7);
    expect(out).toEqual([5]);
    v.inputWatermark(1, 20);
    expect(out).toEqual([5, 7]);
    v.inputWatermark(0, 8); // a watermark going back on a channel is ignored
    v.inputWatermark(2, 30);
    expect(out).toEqual([5, 7, 10]);
  });

  it('an idle input does not hold the watermark back; all idle makes the output idle', () => {
    const { v, out } = valve(2);
    v.inputWatermark(0, 100);
    v.inputWatermark(1, 10);
    expect(out).toEqual([10]);
    v.inputStatus(1, true);
    expect(out).toEqual([10, 100]);
    v.inputWatermark(0, 150);
    expect(out).toEqual([10, 100, 150]);
    v.inputStatus(0, true);
    expect(out).toEqual([10, 100, 150, 'idle']);
  });

  it('an input that becomes active again counts once its watermark caught up', () => {
    const { v, out } = valve(2);
    v.inputWatermark(0, 100);
    v.inputStatus(1, true);
    expect(out).toEqual([100]);
    v.inputStatus(1, false);
    v.inputWatermark(1, 50); // behind the output: not aligned, ignored for the minimum
    v.inputWatermark(0, 120);
    expect(out).toEqual([100, 120]);
    v.inputWatermark(1, 110); // still behind 120
    v.inputWatermark(0, 200);
    expect(out).toEqual([100, 120, 200]);
  });

  it('an ended input counts as the maximum watermark', () => {
    const { v, out } = valve(2);
    v.inputWatermark(0, 5);
    v.inputWatermark(1, 9);
    v.endOfInput(0);
    expect(out).toEqual([5, 9]);
    v.inputWatermark(1, MAX_TIMESTAMP);
    expect(out).toEqual([5, 9, MAX_TIMESTAMP]);
  });
});

// What a process function's onTimer sees and emits, as Flink's KeyedProcessOperator and
// KeyedCoProcessOperator: ctx.timestamp() is the timer's time in both domains, side outputs carry
// it too, and main output carries it for event-time timers only.
import type { Collector, KeyedOnTimerContext, KeyedProcessContext } from '@nimble/api';
import { KeyedCoProcessFunction, KeyedProcessFunction, OutputTag, TimeDomain } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { ProcessOperator } from '../src/operators/basic-operators.js';
import { CoProcessOperator } from '../src/operators/co-operators.js';
import { OperatorHarness } from './support/operator-harness.js';

const side = new OutputTag<string>('side');

function onTimer(ts: number, ctx: KeyedOnTimerContext<string>, out: Collector<string>): void {
  const seen = `${ctx.timeDomain()}@${ts} timestamp=${ctx.timestamp()}`;
  out.collect(seen);
  ctx.output(side, seen);
}

class Timers extends KeyedProcessFunction<string, string, string> {
  processElement(_v: string, ctx: KeyedProcessContext<string>): void {
    ctx.timerService().registerProcessingTimeTimer(100);
    ctx.timerService().registerEventTimeTimer(50);
  }
  override onTimer = onTimer;
}

class CoTimers extends KeyedCoProcessFunction<string, string, string, string> {
  processElement1(_v: string, ctx: KeyedProcessContext<string>): void {
    ctx.timerService().registerProcessingTimeTimer(100);
  }
  processElement2(_v: string, ctx: KeyedProcessContext<string>): void {
    ctx.timerService().registerEventTimeTimer(50);
  }
  override onTimer = onTimer;
}

const expected = {
  records: [
    { value: `${TimeDomain.EVENT_TIME}@50 timestamp=50`, timestamp: 50 },
    { value: `${TimeDomain.PROCESSING_TIME}@100 timestamp=100`, timestamp: undefined },
  ],
  side: [
    { value: `${TimeDomain.EVENT_TIME}@50 timestamp=50`, timestamp: 50 },
    { value: `${TimeDomain.PROCESSING_TIME}@100 timestamp=100`, timestamp: 100 },
  ],
};

describe('onTimer context and output timestamps', () => {
  it('KeyedProcessFunction', async () => {
    const h = await OperatorHarness.open(new ProcessOperator(new Timers(), true), {
      backend: 'hashmap',
      keySelector: (v: string) => v,
    });
    h.processElement('k', 1);
    h.processWatermark(60);
    h.setProcessingTime(100);
    expect(h.records).toEqual(expected.records);
    expect(h.sideOutput('side')).toEqual(expected.side);
    await h.close();
  });

  it('KeyedCoProcessFunction', async () => {
    const h = await OperatorHarness.open(new CoProcessOperator(new CoTimers(), true), {
      backend: 'hashmap',
      keySelector: (v: string) => v,
      keySelector2: (v: string) => v,
    });
    h.processElement1('k', 1);
    h.processElement2('k', 2);
    h.processWatermark1(60);
    h.processWatermark2(60);
    h.setProcessingTime(100);
    expect(h.records).toEqual(expected.records);
    expect(h.sideOutput('side')).toEqual(expected.side);
    await h.close();
  });
});

import type { AggregateFunction, Collector, Key, Window, WindowAssigner } from '@nimble/api';
import {
  Duration,
  EventTimeSessionWindows,
  OutputTag,
  ProcessWindowFunction,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '@nimble/api';
import type { ProcessWindowContext, TimeWindow } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import { UserCodeError } from '../src/errors.js';
import type { WindowOperatorSpec } from '../src/operators/window/window-operator.js';
import { createWindowOperator } from '../src/operators/window/window-operator.js';
import type { InternalTimerService } from '../src/timers/internal-timer-service.js';
import { OperatorHarness } from './support/operator-harness.js';
import type { Rec } from './support/window-spec.js';
import { storedWindowEntries, WINDOW_PATHS } from './support/window-spec.js';
import { ms, spec, sum } from './support/window-spec.js';

/** Counts and sums; merges for sessions. */
const countAndSum: AggregateFunction<
  Rec,
  { count: number; sum: number },
  { count: number; sum: number }
> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (v, acc) => ({ count: acc.count + 1, sum: acc.sum + v[1] }),
  getResult: (acc) => acc,
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
};

/** Emits `key [start,end) v1,v2,...` for each window. */
class ListElements extends ProcessWindowFunction<Rec, string, string, TimeWindow> {
  process(
    key: string,
    ctx: ProcessWindowContext<TimeWindow>,
    elements: Iterable<Rec>,
    out: Collector<string>,
  ): void {
    const w = ctx.window();
    out.collect(`${key} [${w.start},${w.end}) ${[...elements].map((e) => e[1]).join(',')}`);
  }
}

/** Live event-time timers: the general operator's timer service, or the aligned operator's due lists. */
function timerService(h: OperatorHarness<unknown, unknown>): {
  numEventTimeTimers(): number;
} {
  // Reading the count pins that fired and merged windows leave no timers behind.
  const op = h.operator as unknown as {
    timers?: InternalTimerService;
    numEventTimeTimers?(): number;
  };
  return op.timers ?? (op as { numEventTimeTimers(): number });
}

describe.each(WINDOW_PATHS)(
  'WindowOperator ($backend backend, $path operator)',
  ({ backend, aligned }) => {
    let harness: OperatorHarness<unknown, unknown> | undefined;
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    async function open(s: WindowOperatorSpec): Promise<OperatorHarness<unknown, unknown>> {
      harness = await OperatorHarness.open(createWindowOperator(s, { aligned }), {
        backend,
        keySelector: (v) => (v as Rec)[0] as Key,
        name: 'Window',
      });
      return harness;
    }

    async function storedEntries(
      h: OperatorHarness<unknown, unknown>,
      state: string,
    ): Promise<number> {
      return storedWindowEntries(h, state);
    }

    describe('tumbling event-time windows', () => {
      it('fires each key and window when the watermark reaches end - 1, with results at end - 1', async () => {
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), { kind: 'reduce', reduce: sum }),
        );
        h.processElement(['a', 1], 1);
        h.processElement(['b', 10], 3);
        h.processElement(['a', 2], 5);
        h.processElement(['a', 4], 12);
        h.processElement(['a', 8], 10);

        h.processWatermark(8);
        expect(h.records).toEqual([]);

        h.processWatermark(9);
        expect(h.takeRecords()).toEqual([
          { value: ['a', 3], timestamp: 9 },
          { value: ['b', 10], timestamp: 9 },
        ]);

        h.processWatermark(25);
        expect(h.takeRecords()).toEqual([{ value: ['a', 12], timestamp: 19 }]);
        // The watermark goes downstream after the windows it completed.
        expect(h.events.map((e) => e.kind)).toEqual([
          'watermark',
          'record',
          'record',
          'watermark',
          'record',
          'watermark',
        ]);
        expect(h.watermarks).toEqual([8, 9, 25]);
        expect(await storedEntries(h, 'window-contents')).toBe(0);
      });

      it('aligns windows to the offset: size 1h, offset 15min', async () => {
        const h = await open(
          spec(TumblingEventTimeWindows.of(Duration.ofHours(1), Duration.ofMinutes(15)), {
            kind: 'reduce',
            reduce: sum,
          }),
        );
        const at = (hh: number, mm: number) => hh * 3_600_000 + mm * 60_000;
        h.processElement(['a', 1], at(1, 10)); // [0:15, 1:15)
        h.processElement(['a', 2], at(1, 20)); // [1:15, 2:15)
        h.processElement(['a', 4], at(2, 14)); // [1:15, 2:15)
        h.processElement(['a', 8], at(2, 15)); // [2:15, 3:15)
        h.processWatermark(at(3, 15));
        expect(h.records).toEqual([
          { value: ['a', 1], timestamp: at(1, 15) - 1 },
          { value: ['a', 6], timestamp: at(2, 15) - 1 },
          { value: ['a', 8], timestamp: at(3, 15) - 1 },
        ]);
      });

      it('aligns windows to a negative offset: size 1h, offset -15min', async () => {
        const h = await open(
          spec(TumblingEventTimeWindows.of(Duration.ofHours(1), -15 * 60_000), {
            kind: 'reduce',
            reduce: sum,
          }),
        );
        const at = (hh: number, mm: number) => hh * 3_600_000 + mm * 60_000;
        h.processElement(['a', 1], at(1, 20)); // [0:45, 1:45)
        h.processElement(['a', 2], at(1, 44)); // [0:45, 1:45)
        h.processElement(['a', 4], at(1, 45)); // [1:45, 2:45)
        h.processWatermark(at(3, 0));
        expect(h.records).toEqual([
          { value: ['a', 3], timestamp: at(1, 45) - 1 },
          { value: ['a', 4], timestamp: at(2, 45) - 1 },
        ]);
      });

      it('buffers elements for process() and passes them in arrival order', async () => {
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), {
            kind: 'process',
            window: { kind: 'process', fn: new ListElements() },
          }),
        );
        h.processElement(['a', 3], 4);
        h.processElement(['a', 1], 0);
        h.processElement(['a', 2], 9);
        h.processElement(['a', 5], 10);
        h.processWatermark(20);
        expect(h.records).toEqual([
          { value: 'a [0,10) 3,1,2', timestamp: 9 },
          { value: 'a [10,20) 5', timestamp: 19 },
        ]);
      });
    });

    describe('sliding event-time windows', () => {
      it('puts an element into size/slide windows, each firing on its own', async () => {
        const describeWindow = (
          key: Key,
          w: Window,
          elements: Iterable<Rec>,
          out: Collector<string>,
        ) => {
          const tw = w as TimeWindow;
          out.collect(
            `${String(key)} [${tw.start},${tw.end}) ${[...elements].map((e) => e[1]).join(',')}`,
          );
        };
        const h = await open(
          spec(SlidingEventTimeWindows.of(ms(10), ms(5)), {
            kind: 'reduce',
            reduce: sum,
            window: { kind: 'apply', fn: describeWindow },
          }),
        );
        h.processElement(['a', 1], 7); // [0,10) and [5,15)
        h.processElement(['a', 2], 12); // [5,15) and [10,20)

        h.processWatermark(9);
        expect(h.takeRecords()).toEqual([{ value: 'a [0,10) 1', timestamp: 9 }]);
        h.processWatermark(14);
        expect(h.takeRecords()).toEqual([{ value: 'a [5,15) 3', timestamp: 14 }]);
        h.processWatermark(19);
        expect(h.takeRecords()).toEqual([{ value: 'a [10,20) 2', timestamp: 19 }]);
      });

      it('does not count an element as late while one of its windows is still open', async () => {
        const h = await open(
          spec(SlidingEventTimeWindows.of(ms(10), ms(5)), { kind: 'reduce', reduce: sum }),
        );
        h.processWatermark(12);
        h.processElement(['a', 1], 8); // [0,10) is late, [5,15) is not
        expect(h.metrics.numLateRecordsDropped).toBe(0);
        h.processElement(['a', 2], 3); // [-5,5) and [0,10): both late
        expect(h.metrics.numLateRecordsDropped).toBe(1);
        h.processWatermark(14);
        expect(h.records).toEqual([{ value: ['a', 1], timestamp: 14 }]);
      });
    });

    describe('event-time session windows', () => {
      const gap10 = EventTimeSessionWindows.withGap(ms(10));

      async function feedSessions(h: OperatorHarness<unknown, unknown>): Promise<void> {
        h.processElement(['a', 1], 0); // [0,10)
        h.processElement(['a', 2], 18); // [18,28)
        h.processElement(['b', 100], 5); // [5,15): stays on its own
        h.processElement(['a', 4], 9); // [9,19) bridges both sessions of a: [0,28)
        h.processElement(['a', 8], 50); // [50,60)
      }

      it('merges two sessions bridged by an element and merges their reduced contents', async () => {
        const h = await open(spec(gap10, { kind: 'reduce', reduce: sum }));
        await feedSessions(h);
        // The timers of the merged-away windows are gone: one per session remains.
        expect(timerService(h).numEventTimeTimers()).toBe(3);

        h.processWatermark(14);
        expect(h.takeRecords()).toEqual([{ value: ['b', 100], timestamp: 14 }]);
        h.processWatermark(26);
        expect(h.takeRecords()).toEqual([]);
        h.processWatermark(27);
        expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 27 }]);
        h.processWatermark(100);
        expect(h.takeRecords()).toEqual([{ value: ['a', 8], timestamp: 59 }]);
        expect(timerService(h).numEventTimeTimers()).toBe(0);
        expect(await storedEntries(h, 'window-contents')).toBe(0);
        expect(await storedEntries(h, 'merging-window-set')).toBe(0);
      });

      it('merges aggregate accumulators with AggregateFunction.merge', async () => {
        const h = await open(spec(gap10, { kind: 'aggregate', aggregate: countAndSum }));
        await feedSessions(h);
        h.processWatermark(100);
        expect(h.records).toEqual([
          { value: { count: 1, sum: 100 }, timestamp: 14 },
          { value: { count: 3, sum: 7 }, timestamp: 27 },
          { value: { count: 1, sum: 8 }, timestamp: 59 },
        ]);
      });

      it('merges buffered elements for process(); the window is the merged session', async () => {
        const h = await open(
          spec(gap10, { kind: 'process', window: { kind: 'process', fn: new ListElements() } }),
        );
        await feedSessions(h);
        h.processWatermark(100);
        expect(h.records).toEqual([
          { value: 'b [5,15) 100', timestamp: 14 },
          { value: 'a [0,28) 1,2,4', timestamp: 27 },
          { value: 'a [50,60) 8', timestamp: 59 },
        ]);
      });

      it('extends a session by an element inside it without merging anything else', async () => {
        const h = await open(
          spec(gap10, { kind: 'process', window: { kind: 'process', fn: new ListElements() } }),
        );
        h.processElement(['a', 1], 0); // [0,10)
        h.processElement(['a', 2], 3); // [3,13): session [0,13)
        h.processElement(['a', 4], 1); // [1,11): inside [0,13)
        h.processWatermark(11);
        expect(h.records).toEqual([]);
        h.processWatermark(12);
        expect(h.records).toEqual([{ value: 'a [0,13) 1,2,4', timestamp: 12 }]);
      });

      it('computes the gap per element with a dynamic gap; touching sessions merge', async () => {
        const assigner = EventTimeSessionWindows.withDynamicGap<Rec>((e) => e[1]);
        const h = await open(
          spec(assigner as WindowAssigner<any, Window>, {
            kind: 'process',
            window: { kind: 'process', fn: new ListElements() },
          }),
        );
        h.processElement(['a', 5], 0); // [0,5)
        h.processElement(['a', 20], 8); // [8,28)
        h.processElement(['b', 3], 100); // [100,103)
        h.processElement(['a', 4], 4); // [4,8) touches both: [0,28)
        h.processWatermark(200);
        expect(h.records).toEqual([
          { value: 'a [0,28) 5,20,4', timestamp: 27 },
          { value: 'b [100,103) 3', timestamp: 102 },
        ]);
      });

      it('with lateness: a late element extends a fired session, which fires again; merged cleanup timers go', async () => {
        const h = await open(spec(gap10, { kind: 'reduce', reduce: sum }, { lateness: 5 }));
        h.processElement(['a', 1], 0); // [0,10)
        h.processElement(['a', 2], 18); // [18,28)
        h.processElement(['a', 4], 9); // [0,28)
        // The merged session's trigger timer (27) and cleanup timer (32) only.
        expect(timerService(h).numEventTimeTimers()).toBe(2);
        h.processWatermark(27);
        expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 27 }]);
        expect(timerService(h).numEventTimeTimers()).toBe(1);

        h.processElement(['a', 8], 20); // [20,30), within lateness: merges into [0,30)
        expect(h.takeRecords()).toEqual([]);
        // [0,28)'s cleanup timer was replaced by [0,30)'s timers at 29 and 34.
        expect(timerService(h).numEventTimeTimers()).toBe(2);
        h.processWatermark(29);
        expect(h.takeRecords()).toEqual([{ value: ['a', 15], timestamp: 29 }]);
        h.processWatermark(34);
        expect(timerService(h).numEventTimeTimers()).toBe(0);
        expect(await storedEntries(h, 'window-contents')).toBe(0);
        expect(await storedEntries(h, 'merging-window-set')).toBe(0);
      });

      it('drops an element whose session is late and keeps no window for it', async () => {
        const h = await open(spec(gap10, { kind: 'reduce', reduce: sum }));
        h.processWatermark(50);
        h.processElement(['a', 1], 20); // [20,30): late
        expect(h.metrics.numLateRecordsDropped).toBe(1);
        expect(await storedEntries(h, 'merging-window-set')).toBe(0);
        h.processElement(['a', 2], 45); // [45,55): on time
        h.processWatermark(60);
        expect(h.records).toEqual([{ value: ['a', 2], timestamp: 54 }]);
      });
    });

    describe('allowed lateness', () => {
      const tumbling10 = TumblingEventTimeWindows.of(ms(10));

      it('fires again for each late element within the lateness with the updated result', async () => {
        const h = await open(spec(tumbling10, { kind: 'reduce', reduce: sum }, { lateness: 5 }));
        h.processElement(['a', 1], 1);
        h.processElement(['a', 2], 3);
        h.processWatermark(9);
        expect(h.takeRecords()).toEqual([{ value: ['a', 3], timestamp: 9 }]);

        h.processElement(['a', 4], 2); // late, within lateness: a late firing at once
        expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 9 }]);
        h.processWatermark(13);
        h.processElement(['a', 8], 0);
        expect(h.takeRecords()).toEqual([{ value: ['a', 15], timestamp: 9 }]);
        expect(h.metrics.numLateRecordsDropped).toBe(0);
        expect(await storedEntries(h, 'window-contents')).toBe(1);

        // The cleanup timer at end - 1 + lateness = 14 drops the window's state, without another firing.
        h.processWatermark(14);
        expect(h.takeRecords()).toEqual([]);
        expect(await storedEntries(h, 'window-contents')).toBe(0);
        expect(timerService(h).numEventTimeTimers()).toBe(0);

        h.processElement(['a', 16], 5); // 5 + 5 <= 14: too late
        expect(h.takeRecords()).toEqual([]);
        expect(h.metrics.numLateRecordsDropped).toBe(1);
        expect(await storedEntries(h, 'window-contents')).toBe(0);

        // The next window starts from nothing.
        h.processElement(['a', 32], 10);
        h.processWatermark(19);
        expect(h.takeRecords()).toEqual([{ value: ['a', 32], timestamp: 19 }]);
      });

      it('sends elements after the lateness to the late-data side output instead of counting them', async () => {
        const lateTag = new OutputTag<Rec>('late');
        const h = await open(
          spec(tumbling10, { kind: 'reduce', reduce: sum }, { lateness: 5, lateTag }),
        );
        h.processElement(['a', 1], 1);
        h.processWatermark(14);
        h.processElement(['a', 2], 4);
        h.processElement(['b', 4], 9);
        h.processElement(['a', 8], 15); // on time
        h.processWatermark(30);
        expect(h.sideOutput('late')).toEqual([
          { value: ['a', 2], timestamp: 4 },
          { value: ['b', 4], timestamp: 9 },
        ]);
        expect(h.metrics.numLateRecordsDropped).toBe(0);
        expect(h.records).toEqual([
          { value: ['a', 1], timestamp: 9 },
          { value: ['a', 8], timestamp: 19 },
        ]);
      });

      it('without lateness an element at or before the watermark is late', async () => {
        const h = await open(spec(tumbling10, { kind: 'reduce', reduce: sum }));
        h.processElement(['a', 1], 10);
        h.processWatermark(10);
        h.processElement(['a', 2], 10); // window [10,20) is not late yet: 19 > 10
        h.processElement(['a', 4], 9); // window [0,10): 9 <= 10
        expect(h.metrics.numLateRecordsDropped).toBe(1);
        h.processWatermark(19);
        expect(h.records).toEqual([{ value: ['a', 3], timestamp: 19 }]);
      });
    });

    describe('processing-time windows', () => {
      it('fires tumbling windows on the clock, with results at end - 1', async () => {
        const h = await open(
          spec(TumblingProcessingTimeWindows.of(ms(10)), { kind: 'reduce', reduce: sum }),
        );
        h.setProcessingTime(3);
        h.processElement(['a', 1]);
        h.setProcessingTime(5);
        h.processElement(['b', 2]);
        h.processElement(['a', 4], 1_000); // the element's own timestamp does not matter
        h.setProcessingTime(8);
        expect(h.records).toEqual([]);

        h.setProcessingTime(9);
        expect(h.takeRecords()).toEqual([
          { value: ['a', 5], timestamp: 9 },
          { value: ['b', 2], timestamp: 9 },
        ]);
        expect(h.flushRequests).toBeGreaterThan(0);

        h.setProcessingTime(12);
        h.processElement(['a', 8]);
        // A watermark does not fire processing-time windows.
        h.processWatermark(100);
        expect(h.records).toEqual([]);
        h.setProcessingTime(25);
        expect(h.takeRecords()).toEqual([{ value: ['a', 8], timestamp: 19 }]);
        expect(await storedEntries(h, 'window-contents')).toBe(0);
      });
    });

    describe('user function failures', () => {
      it('names the operator and keeps the stack of a failing reduce function', async () => {
        function failingReduce(): Rec {
          throw new Error('boom in reduce');
        }
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), { kind: 'reduce', reduce: failingReduce }),
        );
        h.processElement(['a', 1], 1);
        let error: unknown;
        try {
          h.processElement(['a', 2], 2);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(UserCodeError);
        const err = error as UserCodeError;
        expect(err.operatorName).toBe('Window (1/1)');
        expect(err.message).toContain('Window (1/1)');
        expect(err.message).toContain('boom in reduce');
        expect(err.stack).toContain('failingReduce');
        expect((err.cause as Error).message).toBe('boom in reduce');
      });

      it('names the operator when the assigner rejects an element without a timestamp', async () => {
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), { kind: 'reduce', reduce: sum }),
        );
        expect(() => h.processElement(['a', 1])).toThrow(/Window \(1\/1\).*no timestamp/);
      });
    });
  },
);

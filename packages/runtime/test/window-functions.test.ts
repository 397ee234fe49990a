import type {
  AggregateFunction,
  Collector,
  Key,
  ProcessWindowContext,
  RuntimeContext,
  Window,
} from '@nimble/api';
import {
  EventTimeSessionWindows,
  GlobalWindows,
  MAX_TIMESTAMP,
  OutputTag,
  ProcessWindowFunction,
  RichFunction,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  CountTrigger,
  PurgingTrigger,
} from '@nimble/api';
import type { TimeWindow } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import { UserCodeError } from '../src/errors.js';
import type { WindowOperatorSpec } from '../src/operators/window/window-operator.js';
import { createWindowOperator } from '../src/operators/window/window-operator.js';
import { OperatorHarness } from './support/operator-harness.js';
import type { Rec } from './support/window-spec.js';
import { storedWindowEntries, WINDOW_PATHS } from './support/window-spec.js';
import { ms, spec, sum } from './support/window-spec.js';

const average: AggregateFunction<Rec, [sum: number, count: number], number> = {
  createAccumulator: () => [0, 0],
  add: (v, acc) => [acc[0] + v[1], acc[1] + 1],
  getResult: (acc) => acc[0] / acc[1],
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
};

const windowTag = new OutputTag<string>('window-side');

/**
 * Counts firings per window in per-window state and sums across windows in global state;
 * records its lifecycle.
 */
class StatefulWindowFunction extends ProcessWindowFunction<Rec, string, string, TimeWindow> {
  private readonly firings = new ValueStateDescriptor<number>('firings');
  private readonly total = new ValueStateDescriptor<number>('total');
  readonly lifecycle: string[] = [];
  readonly cleared: string[] = [];

  override open(ctx: RuntimeContext): void {
    this.lifecycle.push(
      `open ${ctx.getTaskName()} ${this.getRuntimeContext().getMaxNumberOfParallelSubtasks()}`,
    );
  }
  override close(): void {
    this.lifecycle.push('close');
  }

  process(
    key: string,
    ctx: ProcessWindowContext<TimeWindow>,
    elements: Iterable<Rec>,
    out: Collector<string>,
  ): void {
    const w = ctx.window();
    const values = [...elements].map((e) => e[1]);
    const windowSum = values.reduce((a, b) => a + b, 0);
    const firings = ctx.windowState().getState(this.firings);
    const firing = (firings.value() ?? 0) + 1;
    firings.update(firing);
    const total = ctx.globalState().getState(this.total);
    const totalNow = (total.value() ?? 0) + windowSum;
    total.update(totalNow);
    out.collect(
      `${key} [${w.start},${w.end}) ${values.join(',')} firing=${firing} total=${totalNow} ` +
        `wm=${ctx.currentWatermark()} pt=${ctx.currentProcessingTime()}`,
    );
    ctx.output(windowTag, `${key} side ${w.start}`);
  }

  override clear(ctx: ProcessWindowContext<TimeWindow>): void {
    ctx.windowState().getState(this.firings).clear();
    this.cleared.push(`${ctx.window().start}`);
  }
}

describe.each(WINDOW_PATHS)(
  'window functions ($backend backend, $path operator)',
  ({ backend, aligned }) => {
    let harness: OperatorHarness<unknown, unknown> | undefined;
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    async function open(
      s: WindowOperatorSpec,
      processingTime = 0,
    ): Promise<OperatorHarness<unknown, unknown>> {
      harness = await OperatorHarness.open(createWindowOperator(s, { aligned }), {
        backend,
        keySelector: (v) => (v as Rec)[0] as Key,
        name: 'Window',
        processingTime,
      });
      return harness;
    }

    async function storedEntries(
      h: OperatorHarness<unknown, unknown>,
      state: string,
    ): Promise<number> {
      return storedWindowEntries(h, state);
    }

    describe('ProcessWindowFunction', () => {
      it('sees its window, time, per-window state, global state and side output; is cleared at cleanup', async () => {
        const fn = new StatefulWindowFunction();
        const h = await open(
          spec(
            TumblingEventTimeWindows.of(ms(10)),
            { kind: 'process', window: { kind: 'process', fn } },
            { lateness: 5 },
          ),
          1_000,
        );
        expect(fn.lifecycle).toEqual(['open Window (1/1) 128']);

        h.processElement(['a', 1], 1);
        h.processElement(['a', 2], 2);
        h.processWatermark(9);
        h.processElement(['a', 4], 3); // late firing of [0,10): the same per-window state
        h.processElement(['a', 10], 11);
        h.processElement(['b', 5], 12);
        h.processWatermark(14); // cleanup of [0,10)
        expect(fn.cleared).toEqual(['0']);
        expect(await storedEntries(h, 'firings')).toBe(0);

        h.setProcessingTime(2_000);
        h.processWatermark(19);
        expect(h.records).toEqual([
          { value: 'a [0,10) 1,2 firing=1 total=3 wm=9 pt=1000', timestamp: 9 },
          { value: 'a [0,10) 1,2,4 firing=2 total=10 wm=9 pt=1000', timestamp: 9 },
          { value: 'a [10,20) 10 firing=1 total=20 wm=19 pt=2000', timestamp: 19 },
          { value: 'b [10,20) 5 firing=1 total=5 wm=19 pt=2000', timestamp: 19 },
        ]);
        // Side output of a window function carries the window's max timestamp, as in Flink.
        expect(h.sideOutput(windowTag.id)).toEqual([
          { value: 'a side 0', timestamp: 9 },
          { value: 'a side 0', timestamp: 9 },
          { value: 'a side 10', timestamp: 19 },
          { value: 'b side 10', timestamp: 19 },
        ]);
        expect(await storedEntries(h, 'total')).toBe(2);

        h.processWatermark(30);
        expect(fn.cleared).toEqual(['0', '10', '10']);
        expect(await storedEntries(h, 'firings')).toBe(0);
        await h.close();
        expect(fn.lifecycle).toEqual(['open Window (1/1) 128', 'close']);
      });

      it('rejects per-window state with merging windows, as Flink does', async () => {
        const fn = new StatefulWindowFunction();
        const h = await open(
          spec(EventTimeSessionWindows.withGap(ms(10)), {
            kind: 'process',
            window: { kind: 'process', fn },
          }),
        );
        h.processElement(['a', 1], 1);
        let error: unknown;
        try {
          h.processWatermark(100);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(UserCodeError);
        expect((error as Error).message).toContain(
          'Per-window state is not supported when using merging windows',
        );
      });

      it('gets the single pre-aggregated value of an aggregate', async () => {
        const describeAverages = new (class extends ProcessWindowFunction<
          number,
          string,
          string,
          TimeWindow
        > {
          process(
            key: string,
            ctx: ProcessWindowContext<TimeWindow>,
            averages: Iterable<number>,
            out: Collector<string>,
          ): void {
            out.collect(`${key}@${ctx.window().start}: ${JSON.stringify([...averages])}`);
          }
        })();
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), {
            kind: 'aggregate',
            aggregate: average,
            window: { kind: 'process', fn: describeAverages },
          }),
        );
        h.processElement(['a', 1], 1);
        h.processElement(['a', 2], 2);
        h.processElement(['a', 6], 3);
        h.processElement(['b', 7], 4);
        h.processWatermark(10);
        expect(h.records).toEqual([
          { value: 'a@0: [3]', timestamp: 9 },
          { value: 'b@0: [7]', timestamp: 9 },
        ]);
      });

      it('aggregate without a window function emits the result itself', async () => {
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), { kind: 'aggregate', aggregate: average }),
        );
        h.processElement(['a', 1], 1);
        h.processElement(['a', 4], 2);
        h.processWatermark(10);
        expect(h.records).toEqual([{ value: 2.5, timestamp: 9 }]);
      });
    });

    it('opens and closes an aggregate function that is a RichFunction, once', async () => {
      class RichCount extends RichFunction implements AggregateFunction<Rec, number, string> {
        readonly lifecycle: string[] = [];
        override open(ctx: RuntimeContext): void {
          this.lifecycle.push(`open ${ctx.getTaskName()}`);
        }
        override close(): void {
          this.lifecycle.push('close');
        }
        createAccumulator(): number {
          return 0;
        }
        add(_v: Rec, acc: number): number {
          return acc + 1;
        }
        getResult(acc: number): string {
          return `${acc} in ${this.getRuntimeContext().getTaskName()}`;
        }
        merge(a: number, b: number): number {
          return a + b;
        }
      }
      const count = new RichCount();
      const h = await open(
        spec(TumblingEventTimeWindows.of(ms(10)), { kind: 'aggregate', aggregate: count }),
      );
      expect(count.lifecycle).toEqual(['open Window (1/1)']);
      h.processElement(['a', 1], 1);
      h.processElement(['a', 1], 2);
      h.processWatermark(9);
      expect(h.records).toEqual([{ value: '2 in Window (1/1)', timestamp: 9 }]);
      await h.close();
      expect(count.lifecycle).toEqual(['open Window (1/1)', 'close']);
    });

    describe('legacy WindowFunction (apply)', () => {
      it('gets the key, the window and all elements', async () => {
        const apply = (
          key: Key,
          window: Window,
          elements: Iterable<Rec>,
          out: Collector<string>,
        ) => {
          const w = window as TimeWindow;
          out.collect(
            `${String(key)} [${w.start},${w.end}) ${[...elements].map((e) => e[1]).join('+')}`,
          );
        };
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), {
            kind: 'process',
            window: { kind: 'apply', fn: apply },
          }),
        );
        h.processElement(['a', 1], 1);
        h.processElement(['a', 2], 12);
        h.processElement(['a', 3], 5);
        h.processWatermark(20);
        expect(h.records).toEqual([
          { value: 'a [0,10) 1+3', timestamp: 9 },
          { value: 'a [10,20) 2', timestamp: 19 },
        ]);
      });

      it('gets the single reduced value of a reduce', async () => {
        const apply = (
          key: Key,
          window: Window,
          elements: Iterable<Rec>,
          out: Collector<string>,
        ) => {
          for (const e of elements)
            out.collect(`${String(key)}@${(window as TimeWindow).start}=${e[1]}`);
        };
        const h = await open(
          spec(TumblingEventTimeWindows.of(ms(10)), {
            kind: 'reduce',
            reduce: sum,
            window: { kind: 'apply', fn: apply },
          }),
        );
        h.processElement(['a', 1], 1);
        h.processElement(['a', 2], 2);
        h.processWatermark(10);
        expect(h.records).toEqual([{ value: 'a@0=3', timestamp: 9 }]);
      });
    });

    describe('CountTrigger and PurgingTrigger on GlobalWindows', () => {
      it('CountTrigger fires every n elements of a key without purging', async () => {
        const h = await open(
          spec(
            GlobalWindows.create(),
            { kind: 'reduce', reduce: sum },
            { trigger: CountTrigger.of(3) },
          ),
        );
        for (const n of [1, 2, 3, 4, 5]) h.processElement(['a', n]);
        h.processElement(['b', 10]);
        h.processElement(['a', 6]);
        expect(h.records).toEqual([
          { value: ['a', 6], timestamp: MAX_TIMESTAMP },
          { value: ['a', 21], timestamp: MAX_TIMESTAMP },
        ]);
        // A watermark at the end of input does not fire or clean up the global window.
        h.processWatermark(MAX_TIMESTAMP);
        expect(h.records).toHaveLength(2);
        expect(await storedEntries(h, 'count')).toBe(1); // b's count of 1; a's was reset
      });

      it('PurgingTrigger(CountTrigger) evaluates each batch of n elements on its own', async () => {
        const listElements = (
          key: Key,
          _w: Window,
          elements: Iterable<Rec>,
          out: Collector<string>,
        ) => {
          out.collect(`${String(key)}: ${[...elements].map((e) => e[1]).join(',')}`);
        };
        const trigger = PurgingTrigger.of(CountTrigger.of(2));
        expect(String(trigger)).toBe('PurgingTrigger(CountTrigger(2))');
        const h = await open(
          spec(
            GlobalWindows.create(),
            { kind: 'process', window: { kind: 'apply', fn: listElements } },
            { trigger },
          ),
        );
        for (const n of [1, 2, 3]) h.processElement(['a', n]);
        h.processElement(['b', 10]);
        h.processElement(['a', 4]);
        h.processElement(['b', 20]);
        expect(h.records).toEqual([
          { value: 'a: 1,2', timestamp: MAX_TIMESTAMP },
          { value: 'a: 3,4', timestamp: MAX_TIMESTAMP },
          { value: 'b: 10,20', timestamp: MAX_TIMESTAMP },
        ]);
        expect(await storedEntries(h, 'window-contents')).toBe(0);
      });

      it('CountTrigger merges the counts of merging session windows', async () => {
        const h = await open(
          spec(
            EventTimeSessionWindows.withGap(ms(10)),
            { kind: 'reduce', reduce: sum },
            { trigger: CountTrigger.of(3) },
          ),
        );
        h.processElement(['a', 1], 0); // [0,10): count 1
        h.processElement(['a', 2], 20); // [20,30): count 1
        h.processElement(['a', 4], 10); // [10,20) bridges: [0,30), count 1 + 1 + 1
        expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 29 }]);
        // The session's cleanup timer drops the merged count and contents without firing.
        h.processWatermark(29);
        expect(h.records).toEqual([]);
        expect(await storedEntries(h, 'count')).toBe(0);
        expect(await storedEntries(h, 'window-contents')).toBe(0);
      });

      it('validates the count', () => {
        expect(() => CountTrigger.of(0)).toThrow(RangeError);
        expect(() => CountTrigger.of(1.5)).toThrow(RangeError);
      });
    });
  },
);

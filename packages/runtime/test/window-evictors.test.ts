import type {
  AggregateFunction,
  Collector,
  EvictableElements,
  Evictor,
  EvictorContext,
  Key,
  Window,
  GlobalWindow,
} from '@nimble/api';
import {
  CountEvictor,
  CountTrigger,
  DeltaEvictor,
  Duration,
  EventTimeSessionWindows,
  GlobalWindows,
  MAX_TIMESTAMP,
  PurgingTrigger,
  TimeEvictor,
  TimestampedValue,
  TumblingEventTimeWindows,
} from '@nimble/api';
import type { TimeWindow } from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { WindowOperatorSpec } from '../src/operators/window/window-operator.js';
import { createWindowOperator } from '../src/operators/window/window-operator.js';
import type { StateBackendKind } from '../src/state/index.js';
import { OperatorHarness } from './support/operator-harness.js';
import type { Rec } from './support/window-spec.js';
import { ms, spec, sum } from './support/window-spec.js';

/** Lists a window's values: `a: 1,2,3`. */
const listValues = (key: Key, _w: Window, elements: Iterable<Rec>, out: Collector<string>) => {
  out.collect(`${String(key)}: ${[...elements].map((e) => e[1]).join(',')}`);
};
const listing = { kind: 'process', window: { kind: 'apply', fn: listValues } } as const;

const countAndSum: AggregateFunction<Rec, [count: number, sum: number], string> = {
  createAccumulator: () => [0, 0],
  add: (v, acc) => [acc[0] + 1, acc[1] + v[1]],
  getResult: (acc) => `count=${acc[0]} sum=${acc[1]}`,
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
};

/** The absolute difference of the numbers of two records. */
const distance = (a: Rec, b: Rec): number => Math.abs(a[1] - b[1]);

describe.each<StateBackendKind>(['hashmap', 'level'])('evictors (%s backend)', (backend) => {
  let harness: OperatorHarness<unknown, unknown> | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  async function open(
    s: WindowOperatorSpec,
    options: { processingTime?: number } = {},
  ): Promise<OperatorHarness<unknown, unknown>> {
    harness = await OperatorHarness.open(createWindowOperator(s), {
      backend,
      keySelector: (v) => (v as Rec)[0] as Key,
      name: 'Window',
      processingTime: options.processingTime,
    });
    return harness;
  }

  /** GlobalWindows that fire every `n` elements of a key, with `evictor`. */
  function everyN(n: number, evictor: Evictor<any, Window>, fn = listing): WindowOperatorSpec {
    return spec(GlobalWindows.create(), fn as WindowOperatorSpec['fn'], {
      trigger: CountTrigger.of(n),
      evictor,
    });
  }

  const values = (h: OperatorHarness<unknown, unknown>) => h.takeRecords().map((r) => r.value);

  describe('CountEvictor', () => {
    it('before: keeps the last n elements for the function and in the window', async () => {
      const h = await open(everyN(3, CountEvictor.of(2)));
      for (const n of [1, 2, 3]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 2,3']);
      // The window kept 2,3; three more elements fire it with 2..6, of which 5,6 are kept.
      for (const n of [4, 5, 6]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 5,6']);
    });

    it('after: the function sees everything, then the last n stay', async () => {
      const h = await open(everyN(3, CountEvictor.of(2, true)));
      for (const n of [1, 2, 3]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 1,2,3']);
      for (const n of [4, 5, 6]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 2,3,4,5,6']);
      for (const n of [7, 8, 9]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 5,6,7,8,9']);
    });

    it('keeps nothing with n = 0 and leaves smaller windows alone', async () => {
      const h = await open(everyN(2, CountEvictor.of(5)));
      for (const n of [1, 2]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 1,2']);
      const none = await OperatorHarness.open(createWindowOperator(everyN(2, CountEvictor.of(0))), {
        backend,
        keySelector: (v) => (v as Rec)[0] as Key,
      });
      try {
        for (const n of [1, 2]) none.processElement(['a', n]);
        expect(none.records.map((r) => r.value)).toEqual(['a: ']);
      } finally {
        await none.close();
      }
    });

    it('validates the count', () => {
      expect(() => CountEvictor.of(-1)).toThrow(
        /CountEvictor\.of: maxCount must be an integer >= 0; got -1/,
      );
      expect(() => CountEvictor.of(1.5)).toThrow(RangeError);
    });
  });

  describe('TimeEvictor', () => {
    it('before: keeps the elements within the size of the newest timestamp', async () => {
      const h = await open(everyN(4, TimeEvictor.of(ms(10))));
      // Newest timestamp 15: elements at or before 15 - 10 = 5 go.
      h.processElement(['a', 1], 0);
      h.processElement(['a', 2], 15);
      h.processElement(['a', 3], 5);
      h.processElement(['a', 4], 6);
      expect(values(h)).toEqual(['a: 2,4']);
    });

    it('after: the function sees everything, the old elements go afterwards', async () => {
      const h = await open(everyN(2, TimeEvictor.of(ms(10), true)));
      h.processElement(['a', 1], 0);
      h.processElement(['a', 2], 10);
      expect(values(h)).toEqual(['a: 1,2']);
      h.processElement(['a', 3], 11);
      h.processElement(['a', 4], 12);
      // 1 (at 0) was evicted after the first firing.
      expect(values(h)).toEqual(['a: 2,3,4']);
    });

    it('does nothing when the elements have no timestamps', async () => {
      const h = await open(everyN(2, TimeEvictor.of(Duration.ZERO)));
      h.processElement(['a', 1]);
      h.processElement(['a', 2]);
      expect(values(h)).toEqual(['a: 1,2']);
    });

    it('validates the size', () => {
      expect(() => TimeEvictor.of(ms(-1))).toThrow(
        /TimeEvictor\.of: windowSize must not be negative; got -1 ms/,
      );
      expect(TimeEvictor.of(Duration.ofSeconds(2)).getWindowSize()).toBe(2000);
    });
  });

  describe('DeltaEvictor', () => {
    it('before: evicts the elements whose delta to the newest is at least the threshold', async () => {
      const h = await open(everyN(4, DeltaEvictor.of(5, distance)));
      // Newest 12: deltas 11, 2, 5, 0.
      for (const n of [1, 10, 7, 12]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 10,12']);
    });

    it('after: evicts once the function has seen everything', async () => {
      const h = await open(everyN(2, DeltaEvictor.of(5, distance, true)));
      for (const n of [1, 10]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a: 1,10']);
      for (const n of [11, 30]) h.processElement(['a', n]);
      // 1 was evicted after the first firing (delta 9 to 10).
      expect(values(h)).toEqual(['a: 10,11,30']);
    });
  });

  describe('a custom evictor', () => {
    it('removes through the elements it iterates; sizes, window and context are passed', async () => {
      const calls: string[] = [];
      const evictor: Evictor<Rec, GlobalWindow> = {
        evictBefore(elements: EvictableElements<Rec>, size, window, ctx: EvictorContext) {
          calls.push(
            `before size=${size} window=${String(window)} wm=${ctx.getCurrentWatermark()} ` +
              `pt=${ctx.getCurrentProcessingTime()}`,
          );
          // Remove while iterating; a second pass sees what is left.
          for (const e of elements) if (e.getValue()[1] % 2 === 1) e.remove();
          const left = [...elements];
          calls.push(`left ${left.map((e) => e.getValue()[1]).join(',')}`);
          left[0]!.remove();
          left[0]!.remove(); // removing twice does nothing
          calls.push(`removed ${left.map((e) => e.isRemoved()).join(',')}`);
        },
        evictAfter(elements, size) {
          const timestamps = [...elements].map((e) =>
            e.hasTimestamp() ? e.getTimestamp() : 'none',
          );
          calls.push(`after size=${size} timestamps=${timestamps.join(',')}`);
          for (const e of elements) if (e.getValue()[1] === 6) e.remove();
        },
      };
      const h = await open(everyN(6, evictor), { processingTime: 777 });
      h.processWatermark(100);
      h.processElement(['a', 1], 1);
      h.processElement(['a', 2], 2);
      h.processElement(['a', 3]);
      h.processElement(['a', 4]);
      h.processElement(['a', 5], 5);
      h.processElement(['a', 6], 6);
      expect(values(h)).toEqual(['a: 4,6']);
      expect(calls).toEqual([
        'before size=6 window=GlobalWindow wm=100 pt=777',
        'left 2,4,6',
        'removed true,false,false',
        'after size=2 timestamps=none,6',
      ]);
      // The window kept 4 only: six more elements fire it with 4 and them.
      calls.length = 0;
      for (const n of [7, 8, 9, 10, 11, 12]) h.processElement(['a', n], n);
      expect(values(h)).toEqual(['a: 8,10,12']);
      expect(calls[0]).toMatch(/^before size=7 /);
    });

    it('an evictor that throws fails naming the operator', async () => {
      const h = await open(
        everyN(1, {
          evictBefore() {
            throw new Error('evictor broke');
          },
          evictAfter() {},
        }),
      );
      expect(() => h.processElement(['a', 1])).toThrow(
        /Window \(1\/1\): user function threw Error: evictor broke/,
      );
    });

    it('TimestampedValue without a timestamp says so', () => {
      const v = new TimestampedValue('x', undefined);
      expect(v.hasTimestamp()).toBe(false);
      expect(() => v.getTimestamp()).toThrow(/has no timestamp/);
      expect(new TimestampedValue('x', 5).getTimestamp()).toBe(5);
    });
  });

  describe('window functions with an evictor', () => {
    it('reduce folds what the evictor left, when the window fires', async () => {
      const h = await open(everyN(2, CountEvictor.of(3), { kind: 'reduce', reduce: sum } as never));
      for (const n of [1, 2, 4, 8, 16, 32]) h.processElement(['a', n]);
      // Firings at 2, 4 and 6 elements over the last 3: 1+2, 2+4+8, 8+16+32.
      expect(values(h)).toEqual([
        ['a', 3],
        ['a', 14],
        ['a', 56],
      ]);
    });

    it('aggregate with a window function folds what the evictor left', async () => {
      const describe = (key: Key, w: Window, results: Iterable<string>, out: Collector<string>) =>
        out.collect(`${String(key)} ${String(w)} ${[...results].join('|')}`);
      const h = await open(
        everyN(3, CountEvictor.of(2), {
          kind: 'aggregate',
          aggregate: countAndSum,
          window: { kind: 'apply', fn: describe },
        } as never),
      );
      for (const n of [1, 2, 4]) h.processElement(['a', n]);
      expect(values(h)).toEqual(['a GlobalWindow count=2 sum=6']);
    });

    it('a pane the evictor emptied: reduce emits nothing, aggregate the empty result, process sees no elements', async () => {
      const evictAll = CountEvictor.of(0);
      const results: unknown[] = [];
      for (const fn of [
        { kind: 'reduce', reduce: sum },
        { kind: 'aggregate', aggregate: countAndSum },
        listing,
      ]) {
        const h = await OperatorHarness.open(
          createWindowOperator(everyN(1, evictAll, fn as never)),
          {
            backend,
            keySelector: (v) => (v as Rec)[0] as Key,
          },
        );
        try {
          h.processElement(['a', 1]);
          results.push(h.records.map((r) => r.value));
        } finally {
          await h.close();
        }
      }
      expect(results).toEqual([[], ['count=0 sum=0'], ['a: ']]);
    });

    it('event-time windows with an evictor fire at the watermark over the kept elements', async () => {
      const h = await open(
        spec(TumblingEventTimeWindows.of(ms(10)), listing, { evictor: CountEvictor.of(2) }),
      );
      h.processElement(['a', 1], 1);
      h.processElement(['a', 2], 5);
      h.processElement(['b', 3], 6);
      h.processElement(['a', 4], 3);
      h.processElement(['a', 5], 12);
      h.processWatermark(20);
      expect(h.takeRecords()).toEqual([
        { value: 'a: 2,4', timestamp: 9 },
        { value: 'b: 3', timestamp: 9 },
        { value: 'a: 5', timestamp: 19 },
      ]);
      await h.backend!.flush();
      expect(await h.backend!.numStoredEntries!('window-contents')).toBe(0);
    });

    it('merging session windows concatenate their elements; the evictor sees the merged pane', async () => {
      const h = await open(
        spec(EventTimeSessionWindows.withGap(ms(10)), listing, { evictor: TimeEvictor.of(ms(10)) }),
      );
      h.processElement(['a', 1], 0); // [0,10)
      h.processElement(['a', 2], 18); // [18,28)
      h.processElement(['a', 3], 9); // bridges: [0,28)
      h.processWatermark(100);
      // Newest 18: the element at 0 (<= 8) is evicted.
      expect(h.takeRecords()).toEqual([{ value: 'a: 2,3', timestamp: 27 }]);
    });

    it('PurgingTrigger empties the window after each firing', async () => {
      const h = await open(
        spec(GlobalWindows.create(), listing, {
          trigger: PurgingTrigger.of(CountTrigger.of(2)),
          evictor: CountEvictor.of(1),
        }),
      );
      for (const n of [1, 2, 3, 4]) h.processElement(['a', n]);
      expect(h.takeRecords()).toEqual([
        { value: 'a: 2', timestamp: MAX_TIMESTAMP },
        { value: 'a: 4', timestamp: MAX_TIMESTAMP },
      ]);
      await h.backend!.flush();
      expect(await h.backend!.numStoredEntries!('window-contents')).toBe(0);
    });
  });

  // A canonical snapshot (savepoints) restores into either backend; a native one (checkpoints)
  // into the same backend.
  it.each<[StateBackendKind, 'canonical' | 'native']>([
    ['hashmap', 'canonical'],
    ['level', 'canonical'],
    [backend, 'native'],
  ])(
    'the buffered elements and timestamps survive a snapshot restored into %s (%s)',
    async (target, format) => {
      const seen: unknown[] = [];
      const keep = (key: Key, _w: Window, elements: Iterable<unknown>, out: Collector<string>) => {
        seen.push(...elements);
        out.collect(String(key));
      };
      const evictAfter: Evictor<unknown, Window> = {
        evictBefore() {},
        evictAfter(elements) {
          for (const e of elements) seen.push(e.hasTimestamp() ? e.getTimestamp() : 'none');
        },
      };
      const windowSpec = spec(
        GlobalWindows.create(),
        { kind: 'process', window: { kind: 'apply', fn: keep } },
        { trigger: CountTrigger.of(3), evictor: evictAfter },
      );
      const rich = {
        at: new Date(Date.UTC(2024, 0, 1)),
        tags: new Map([['x', 1n]]),
        missing: undefined,
      };
      const first = await open(windowSpec);
      first.processElement(['k', 1], -5);
      first.processElement(['k', 2, rich] as unknown as Rec); // no timestamp
      const snapshot = first.backend!.snapshot(1, format);
      const blocks = await snapshot.materialize();
      snapshot.release();
      await first.close();

      const restored = await OperatorHarness.open(createWindowOperator(windowSpec), {
        backend: target,
        keySelector: (v) => (v as Rec)[0] as Key,
        restoreKeyed: { kind: snapshot.kind, blocks },
      });
      try {
        restored.processElement(['k', 3], 7);
        expect(restored.records.map((r) => r.value)).toEqual(['k']);
        expect(seen).toEqual([['k', 1], ['k', 2, rich], ['k', 3], -5, 'none', 7]);
        const restoredRich = (seen[1] as unknown[])[2] as typeof rich;
        expect(restoredRich.at).toBeInstanceOf(Date);
        expect(restoredRich.tags.get('x')).toBe(1n);
        expect('missing' in restoredRich).toBe(true);
      } finally {
        await restored.close();
      }
    },
  );
});

describe('evictor names', () => {
  it('appear as in Flink', () => {
    expect(String(CountEvictor.of(3))).toBe('CountEvictor(3)');
    expect(String(TimeEvictor.of(Duration.ofSeconds(1)))).toBe('TimeEvictor(1000)');
    expect(String(DeltaEvictor.of(2.5, distance))).toBe('DeltaEvictor(distance, 2.5)');
  });

  it('DeltaEvictor validates its arguments', () => {
    expect(() => DeltaEvictor.of(Number.NaN, distance)).toThrow(/threshold must be a number/);
    expect(() => DeltaEvictor.of(1, undefined as never)).toThrow(
      /deltaFunction must be a function/,
    );
  });

  it('TimeWindow type is usable for evictors of time windows', () => {
    const evictor: Evictor<Rec, TimeWindow> = CountEvictor.of(1);
    expect(evictor).toBeDefined();
  });
});

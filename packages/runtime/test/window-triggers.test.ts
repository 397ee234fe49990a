import type { Collector, Key, Window } from '@nimble/api';
import {
  ContinuousEventTimeTrigger,
  ContinuousProcessingTimeTrigger,
  DeltaTrigger,
  Duration,
  EventTimeSessionWindows,
  GlobalWindows,
  ProcessingTimeSessionWindows,
  PurgingTrigger,
  Time,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { WindowOperatorSpec } from '../src/operators/window/window-operator.js';
import { createWindowOperator } from '../src/operators/window/window-operator.js';
import type { StateBackendKind } from '../src/state/index.js';
import type { InternalTimerService } from '../src/timers/internal-timer-service.js';
import { localEnv } from './support/local.js';
import { OperatorHarness } from './support/operator-harness.js';
import { at, watermarked, wm } from './support/watermarked.js';
import type { Rec } from './support/window-spec.js';
import { ms, spec, sum } from './support/window-spec.js';

const every3s = ContinuousEventTimeTrigger.of(Duration.ofSeconds(3));
const reduceSum = { kind: 'reduce', reduce: sum } as const;

/** The absolute difference of the numbers of two records. */
const distance = (a: Rec, b: Rec): number => Math.abs(a[1] - b[1]);

const listValues = (key: Key, _w: Window, elements: Iterable<Rec>, out: Collector<string>) => {
  out.collect(`${String(key)}: ${[...elements].map((e) => e[1]).join(',')}`);
};
const listing = { kind: 'process', window: { kind: 'apply', fn: listValues } } as const;

function timers(h: OperatorHarness<unknown, unknown>): InternalTimerService {
  return (h.operator as unknown as { timers: InternalTimerService }).timers;
}

describe.each<StateBackendKind>(['hashmap', 'level'])('triggers (%s backend)', (backend) => {
  let harness: OperatorHarness<unknown, unknown> | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  async function open(
    s: WindowOperatorSpec,
    processingTime = 0,
  ): Promise<OperatorHarness<unknown, unknown>> {
    harness = await OperatorHarness.open(createWindowOperator(s), {
      backend,
      keySelector: (v) => (v as Rec)[0] as Key,
      name: 'Window',
      processingTime,
    });
    return harness;
  }

  async function stored(h: OperatorHarness<unknown, unknown>, state: string): Promise<number> {
    await h.backend!.flush();
    return h.backend!.numStoredEntries!(state);
  }

  describe('ContinuousEventTimeTrigger', () => {
    it('fires at the aligned times and at the window end, never purging; clear() drops its state', async () => {
      const h = await open(
        spec(TumblingEventTimeWindows.of(Duration.ofSeconds(10)), reduceSum, { trigger: every3s }),
      );
      h.processElement(['a', 1], 1500); // schedules 0 + 3000
      h.processElement(['a', 2], 2500);
      h.processWatermark(2999);
      expect(h.takeRecords()).toEqual([]);
      h.processWatermark(3000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 3], timestamp: 9999 }]);
      h.processElement(['a', 4], 5000);
      h.processWatermark(6500); // the firing at 6000
      expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 9999 }]);
      h.processWatermark(9000); // fires without new elements too; the next is min(12000, 9999)
      expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 9999 }]);
      h.processWatermark(9998);
      expect(h.takeRecords()).toEqual([]);
      h.processWatermark(9999); // the window's end (and cleanup)
      expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 9999 }]);
      expect(timers(h).numEventTimeTimers()).toBe(0);
      expect(await stored(h, 'fire-time')).toBe(0);
      expect(await stored(h, 'window-contents')).toBe(0);
    });

    it('aligns to the epoch, not to the window start, and catches up when the watermark jumps', async () => {
      // Windows [1000, 11000): the first element at 1500 schedules 3000, not 4000.
      const h = await open(
        spec(TumblingEventTimeWindows.of(Duration.ofSeconds(10), ms(1000)), reduceSum, {
          trigger: every3s,
        }),
      );
      h.processElement(['a', 1], 1500);
      h.processWatermark(3999);
      expect(h.takeRecords().map((r) => r.timestamp)).toEqual([10999]);
      // 6000 and 9000 are both due: each firing schedules the next, which fires at once.
      h.processWatermark(9500);
      expect(h.takeRecords().map((r) => r.value)).toEqual([
        ['a', 1],
        ['a', 1],
      ]);
      h.processWatermark(10999);
      expect(h.takeRecords()).toEqual([{ value: ['a', 1], timestamp: 10999 }]);
    });

    it('fires at once for an element within the allowed lateness', async () => {
      const h = await open(
        spec(TumblingEventTimeWindows.of(Duration.ofSeconds(10)), reduceSum, {
          trigger: every3s,
          lateness: 5000,
        }),
      );
      h.processElement(['a', 1], 1000);
      h.processWatermark(9999);
      expect(h.takeRecords().map((r) => r.value)).toEqual([
        ['a', 1],
        ['a', 1],
        ['a', 1],
        ['a', 1],
      ]);
      h.processElement(['a', 2], 4000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 3], timestamp: 9999 }]);
    });

    it('merging sessions keep the earliest pending firing', async () => {
      const h = await open(
        spec(EventTimeSessionWindows.withGap(Duration.ofSeconds(5)), reduceSum, {
          trigger: every3s,
        }),
      );
      h.processElement(['a', 1], 1000); // [1000,6000), fires at 3000
      h.processElement(['a', 2], 7000); // [7000,12000), fires at 9000
      h.processElement(['a', 4], 4000); // bridges: [1000,12000) keeps 3000
      h.processWatermark(3000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 7], timestamp: 11999 }]);
      h.processWatermark(11999); // 6000, 9000 and the end
      expect(h.takeRecords().map((r) => r.value)).toEqual([
        ['a', 7],
        ['a', 7],
        ['a', 7],
      ]);
      expect(await stored(h, 'fire-time')).toBe(0);
    });

    it('validates the interval and names itself as Flink', () => {
      expect(() => ContinuousEventTimeTrigger.of(Duration.ZERO)).toThrow(
        /ContinuousEventTimeTrigger\.of: interval must be positive; got 0 ms/,
      );
      expect(String(every3s)).toBe('ContinuousEventTimeTrigger(3000)');
      expect(every3s.getInterval()).toBe(3000);
    });
  });

  describe('ContinuousProcessingTimeTrigger', () => {
    const every3sPt = ContinuousProcessingTimeTrigger.of(Duration.ofSeconds(3));

    it('fires at aligned processing times up to the window end, then starts over in the next window', async () => {
      const h = await open(
        spec(TumblingProcessingTimeWindows.of(Duration.ofSeconds(10)), reduceSum, {
          trigger: every3sPt,
        }),
        1500,
      );
      h.processElement(['a', 1]); // schedules 0 + 3000
      h.setProcessingTime(2999);
      expect(h.takeRecords()).toEqual([]);
      h.setProcessingTime(3000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 1], timestamp: 9999 }]);
      h.setProcessingTime(4000);
      h.processElement(['a', 2]);
      h.setProcessingTime(6000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 3], timestamp: 9999 }]);
      h.setProcessingTime(9000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 3], timestamp: 9999 }]);
      h.setProcessingTime(9999); // the last firing is at the window end, which also cleans up
      expect(h.takeRecords()).toEqual([{ value: ['a', 3], timestamp: 9999 }]);
      expect(timers(h).numProcessingTimeTimers()).toBe(0);
      expect(await stored(h, 'fire-time')).toBe(0);

      h.setProcessingTime(10500);
      h.processElement(['a', 4]); // [10000,20000): 9000 + 3000
      h.setProcessingTime(12000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 4], timestamp: 19999 }]);
    });

    it('on an event-time window whose end processing time has passed, fires once (Flink loops: FLINK-35069)', async () => {
      const h = await open(
        spec(TumblingEventTimeWindows.of(ms(10)), reduceSum, { trigger: every3sPt }),
        1000,
      );
      h.processElement(['a', 1], 5); // schedules min(3000, 9): a time already passed
      h.setProcessingTime(1001);
      expect(h.takeRecords()).toEqual([{ value: ['a', 1], timestamp: 9 }]);
      expect(timers(h).numProcessingTimeTimers()).toBe(0);
      h.processWatermark(9); // cleanup; the trigger ignores event time
      expect(h.takeRecords()).toEqual([]);
      expect(await stored(h, 'fire-time')).toBe(0);
    });

    it('merging sessions move the pending firing to the merged window', async () => {
      const h = await open(
        spec(ProcessingTimeSessionWindows.withGap(Duration.ofSeconds(5)), reduceSum, {
          trigger: every3sPt,
        }),
        1000,
      );
      h.processElement(['a', 1]); // [1000,6000), fires at 3000
      h.setProcessingTime(3000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 1], timestamp: 5999 }]);
      h.setProcessingTime(5500);
      h.processElement(['a', 2]); // [5500,10500) merges: [1000,10500) keeps the firing at 6000
      h.setProcessingTime(6000);
      expect(h.takeRecords()).toEqual([{ value: ['a', 3], timestamp: 10499 }]);
      h.setProcessingTime(10499); // 9000 and the end
      expect(h.takeRecords().map((r) => r.value)).toEqual([
        ['a', 3],
        ['a', 3],
      ]);
      expect(timers(h).numProcessingTimeTimers()).toBe(0);
    });

    it('validates the interval and names itself as Flink', () => {
      expect(() => ContinuousProcessingTimeTrigger.of(ms(-1))).toThrow(
        /ContinuousProcessingTimeTrigger\.of: interval must be positive; got -1 ms/,
      );
      expect(String(every3sPt)).toBe('ContinuousProcessingTimeTrigger(3000)');
    });
  });

  describe('DeltaTrigger', () => {
    it('fires when the delta to the last firing element exceeds the threshold', async () => {
      const h = await open(
        spec(GlobalWindows.create(), listing, { trigger: DeltaTrigger.of(5, distance) }),
      );
      // Remembers 1; 7 is 6 away: fire and remember 7; 12 is 5 away (not more); 13 is 6 away.
      for (const n of [1, 3, 7, 8, 12, 13]) h.processElement(['a', n]);
      h.processElement(['b', 100]);
      expect(h.takeRecords().map((r) => r.value)).toEqual(['a: 1,3,7', 'a: 1,3,7,8,12,13']);
    });

    it('with PurgingTrigger, each firing sees the elements since the last one', async () => {
      const h = await open(
        spec(GlobalWindows.create(), listing, {
          trigger: PurgingTrigger.of(DeltaTrigger.of(5, distance)),
        }),
      );
      for (const n of [1, 3, 7, 8, 12, 13]) h.processElement(['a', n]);
      expect(h.takeRecords().map((r) => r.value)).toEqual(['a: 1,3,7', 'a: 8,12,13']);
    });

    it('clear() forgets the remembered element with the window', async () => {
      const h = await open(
        spec(TumblingEventTimeWindows.of(ms(10)), listing, {
          trigger: DeltaTrigger.of(1, distance),
        }),
      );
      h.processElement(['a', 1], 1);
      h.processElement(['a', 5], 2);
      expect(h.takeRecords().map((r) => r.value)).toEqual(['a: 1,5']);
      expect(await stored(h, 'last-element')).toBe(1);
      h.processWatermark(9); // cleanup, no firing: the trigger ignores time
      expect(h.takeRecords()).toEqual([]);
      expect(await stored(h, 'last-element')).toBe(0);
    });

    it('cannot merge, validates its arguments and names itself as Flink', () => {
      const trigger = DeltaTrigger.of(2.5, distance);
      expect(trigger.canMerge()).toBe(false);
      expect(String(trigger)).toBe('DeltaTrigger(distance, 2.5)');
      expect(() =>
        localEnv()
          .fromElements<Rec>(['a', 1])
          .keyBy((r) => r[0])
          .window(EventTimeSessionWindows.withGap(ms(10)))
          .trigger(trigger),
      ).toThrow(/does not support merging \(DeltaTrigger\)/);
      expect(() => DeltaTrigger.of(Number.NaN, distance)).toThrow(/threshold must be a number/);
      expect(() => DeltaTrigger.of(1, 'x' as never)).toThrow(/deltaFunction must be a function/);
    });
  });
});

describe.each(
  (['hashmap', 'level'] as const).flatMap((backend) => [1, 3].map((p) => ({ backend, p }))),
)('ContinuousEventTimeTrigger in a job ($backend backend, parallelism $p)', ({ backend, p }) => {
  it('early results per key at the aligned watermarks, the final one at the window end', async () => {
    const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
    const out = await watermarked<Rec>(env, [
      at(['a', 1], 500),
      at(['b', 10], 1500),
      wm(2999),
      at(['a', 2], 2000),
      wm(3000), // a and b fire: a 3, b 10
      at(['b', 20], 4000),
      wm(6000), // a 3, b 30
      at(['a', 4], 12_000), // next window of a: fires at 15000
      wm(9999), // 9000 and the end of [0,10000): a 3, b 30 twice
    ])
      .keyBy((r) => r[0])
      .window(TumblingEventTimeWindows.of(Time.seconds(10)))
      .trigger(ContinuousEventTimeTrigger.of(Time.seconds(3)))
      .reduce(sum, (key: string, w: Window, sums: Iterable<Rec>, o: Collector<string>) =>
        o.collect(`${key}@${w.maxTimestamp()} ${[...sums][0]![1]}`),
      )
      .executeAndCollect();
    // The end of input fires [10000,20000) of a at 15000, 18000 and 19999.
    expect(out.sort()).toEqual(
      [
        'a@9999 3',
        'a@9999 3',
        'a@9999 3',
        'a@9999 3',
        'b@9999 10',
        'b@9999 30',
        'b@9999 30',
        'b@9999 30',
        'a@19999 4',
        'a@19999 4',
        'a@19999 4',
      ].sort(),
    );
  });
});

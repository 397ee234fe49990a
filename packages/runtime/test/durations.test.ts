import type { Key } from '@nimble/api';
import {
  Duration,
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  StateTtlConfig,
  Time,
  toMillis,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  WatermarkStrategy,
} from '@nimble/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createWindowOperator } from '../src/operators/window/window-operator.js';
import type { StateBackendKind } from '../src/state/index.js';
import { localEnv } from './support/local.js';
import { OperatorHarness } from './support/operator-harness.js';
import type { Rec } from './support/window-spec.js';
import { spec, sum } from './support/window-spec.js';

const HOUR = 3_600_000;

describe('Duration', () => {
  it('may be negative, as java.time.Duration', () => {
    expect(Duration.ofHours(-8).toMillis()).toBe(-8 * HOUR);
    expect(Time.hours(-8).toMillis()).toBe(-8 * HOUR);
    expect(Duration.ofMillis(-1).isNegative()).toBe(true);
    expect(Duration.ofMillis(0).isNegative()).toBe(false);
    expect(Duration.ZERO.isZero()).toBe(true);
    expect(Duration.ofSeconds(-2).negated().toMillis()).toBe(2000);
    expect(Duration.ofSeconds(-2).abs().toMillis()).toBe(2000);
    expect(Duration.ofSeconds(2).abs().toMillis()).toBe(2000);
    expect(String(Duration.ofMinutes(-1))).toBe('-60000 ms');
    // Rounding a small negative amount gives 0, not -0.
    expect(Object.is(Duration.ofMillis(-0.2).toMillis(), 0)).toBe(true);
    expect(toMillis(-5)).toBe(-5);
  });

  it('must be finite', () => {
    expect(() => Duration.ofMillis(Number.NaN)).toThrow(/finite number of milliseconds; got NaN/);
    expect(() => Duration.ofDays(-Infinity)).toThrow(RangeError);
  });
});

describe('every consumer that needs a length checks it, naming the argument', () => {
  const negative = Duration.ofMillis(-5);
  const cases: [string, () => unknown, RegExp][] = [
    [
      'tumbling event-time size',
      () => TumblingEventTimeWindows.of(negative),
      /TumblingEventTimeWindows\.of: size must be positive; got -5 ms/,
    ],
    [
      'tumbling processing-time size',
      () => TumblingProcessingTimeWindows.of(Duration.ZERO),
      /TumblingProcessingTimeWindows\.of: size must be positive; got 0 ms/,
    ],
    [
      'sliding event-time size',
      () => SlidingEventTimeWindows.of(negative, Duration.ofMillis(1)),
      /SlidingEventTimeWindows\.of: size must be positive; got -5 ms/,
    ],
    [
      'sliding event-time slide',
      () => SlidingEventTimeWindows.of(Duration.ofMillis(10), negative),
      /SlidingEventTimeWindows\.of: slide must be positive; got -5 ms/,
    ],
    [
      'sliding processing-time slide',
      () => SlidingProcessingTimeWindows.of(Duration.ofMillis(10), Duration.ZERO),
      /SlidingProcessingTimeWindows\.of: slide must be positive/,
    ],
    [
      'event-time session gap',
      () => EventTimeSessionWindows.withGap(negative),
      /EventTimeSessionWindows\.withGap: gap must be positive; got -5 ms/,
    ],
    [
      'processing-time session gap',
      () => ProcessingTimeSessionWindows.withGap(negative),
      /ProcessingTimeSessionWindows\.withGap: gap must be positive/,
    ],
    [
      'out-of-orderness',
      () => WatermarkStrategy.forBoundedOutOfOrderness(negative),
      /WatermarkStrategy\.forBoundedOutOfOrderness: maxOutOfOrderness must not be negative; got -5 ms/,
    ],
    [
      'idleness',
      () => WatermarkStrategy.noWatermarks().withIdleness(Duration.ZERO),
      /WatermarkStrategy\.withIdleness: idleTimeout must be positive; got 0 ms/,
    ],
    [
      'TTL',
      () => StateTtlConfig.newBuilder(negative),
      /StateTtlConfig\.newBuilder: ttl must be positive; got -5 ms/,
    ],
    [
      'TTL set later',
      () => StateTtlConfig.newBuilder(Duration.ofSeconds(1)).setTtl(negative),
      /StateTtlConfigBuilder\.setTtl: ttl must be positive; got -5 ms/,
    ],
    [
      'tumbling offset as large as the size',
      () => TumblingEventTimeWindows.of(Duration.ofHours(1), Duration.ofHours(-1)),
      /abs\(offset\) < slide \(size for tumbling windows\); got offset -3600000 ms, size 3600000 ms/,
    ],
    [
      'something that is not a duration',
      () => TumblingEventTimeWindows.of('5 minutes' as unknown as Duration),
      /TumblingEventTimeWindows\.of: size must be a Duration/,
    ],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  it('allowedLateness refuses a negative lateness and takes zero', () => {
    const windowed = () =>
      localEnv()
        .fromElements(1)
        .keyBy((x) => x)
        .window(TumblingEventTimeWindows.of(Duration.ofSeconds(1)));
    expect(() => windowed().allowedLateness(negative)).toThrow(
      /allowedLateness: lateness must not be negative; got -5 ms/,
    );
    expect(() => windowed().allowedLateness(Duration.ZERO)).not.toThrow();
  });

  it('a watermark strategy may have zero out-of-orderness', () => {
    expect(() => WatermarkStrategy.forBoundedOutOfOrderness(Duration.ZERO)).not.toThrow();
  });
});

describe.each<StateBackendKind>(['hashmap', 'level'])(
  'negative window offsets (%s backend)',
  (backend) => {
    let harness: OperatorHarness<unknown, unknown> | undefined;
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    it('daily windows with offset -8h start at 16:00 UTC (midnight in UTC+08:00), as in Flink', async () => {
      const assigner = TumblingEventTimeWindows.of(Time.days(1), Time.hours(-8));
      harness = await OperatorHarness.open(
        createWindowOperator(spec(assigner, { kind: 'reduce', reduce: sum })),
        { backend, keySelector: (v) => (v as Rec)[0] as Key, name: 'Window' },
      );
      const utc = (d: number, h: number, m = 0) => Date.UTC(2024, 2, d, h, m);
      harness.processElement(['a', 1], utc(1, 15, 59)); // [Feb 29 16:00, Mar 1 16:00)
      harness.processElement(['a', 2], utc(1, 16)); // [Mar 1 16:00, Mar 2 16:00)
      harness.processElement(['a', 4], utc(2, 8)); // same
      harness.processElement(['a', 8], utc(2, 16)); // [Mar 2 16:00, Mar 3 16:00)
      harness.processWatermark(utc(4, 0));
      expect(harness.records).toEqual([
        { value: ['a', 1], timestamp: Date.UTC(2024, 2, 1, 16) - 1 },
        { value: ['a', 6], timestamp: Date.UTC(2024, 2, 2, 16) - 1 },
        { value: ['a', 8], timestamp: Date.UTC(2024, 2, 3, 16) - 1 },
      ]);
      // The window starts, checked on the assigner itself.
      const starts = [utc(1, 15, 59), utc(1, 16), utc(2, 16)].map((ts) =>
        new Date(assigner.assignWindows(null, ts)[0]!.start).toISOString(),
      );
      expect(starts).toEqual([
        '2024-02-29T16:00:00.000Z',
        '2024-03-01T16:00:00.000Z',
        '2024-03-02T16:00:00.000Z',
      ]);
    });

    it('sliding hourly windows every 30 min with offset -15 min start at :15 and :45', async () => {
      const assigner = SlidingEventTimeWindows.of(
        Duration.ofHours(1),
        Duration.ofMinutes(30),
        Duration.ofMinutes(-15),
      );
      const windows = assigner
        .assignWindows(null, 2 * HOUR + 20 * 60_000) // 02:20
        .map((w) => [w.start / 60_000, w.end / 60_000]);
      // [02:15, 03:15) and [01:45, 02:45), in minutes since the epoch.
      expect(windows).toEqual([
        [135, 195],
        [105, 165],
      ]);
    });
  },
);

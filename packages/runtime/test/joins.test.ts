// Joins, pinned to Flink's semantics: the interval join (KeyedStream.intervalJoin,
// IntervalJoinOperator), the window join and coGroup (JoinedStreams, CoGroupedStreams), with the
// examples of Flink's "Joining" documentation page, whose figures give the exact pairs.
import type {
  Collector,
  DataStream,
  JoinedStreamsWithWindow,
  MapState,
  OneInputTransformation,
  ProcessContext,
  ProcessJoinContext,
  RuntimeContext,
  StreamExecutionEnvironment,
  TaggedUnion,
  TimeWindow,
  TwoInputTransformation,
  ValueState,
  WindowAssigner,
} from '@nimble/api';
import {
  CountTrigger,
  Duration,
  EventTimeSessionWindows,
  MapStateDescriptor,
  MAX_TIMESTAMP,
  OutputTag,
  ProcessFunction,
  ProcessJoinFunction,
  RichFunction,
  SlidingEventTimeWindows,
  TimeEvictor,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { assignToKeyGroup } from '../src/keys/index.js';
import type { WindowOperatorSpec } from '../src/operators/window/window-operator.js';
import { createWindowOperator } from '../src/operators/window/window-operator.js';
import type { IntervalJoinSpec } from '../src/operators/interval-join-operator.js';
import { IntervalJoinOperator } from '../src/operators/interval-join-operator.js';
import { localEnv } from './support/local.js';
import { OperatorHarness } from './support/operator-harness.js';

const BACKENDS = ['hashmap', 'level'] as const;

/** An element of the documentation's examples: a key and a number that is also its timestamp. */
type E = { k: string; n: number };

const e = (n: number, k = 'x'): E => ({ k, n });

/** The elements of `numbers` under each of `keys`, key i shifted by 100 * i ms, in time order. */
function keyed(numbers: number[], keys: readonly string[]): E[] {
  return keys
    .flatMap((k, i) => numbers.map((n) => e(n + 100 * i, k)))
    .sort((a, b) => a.n - b.n || a.k.localeCompare(b.k));
}

/** Expected pairs `k:l,r` of keyed(): each pair of the single-key example under each key. */
function keyedPairs(pairs: string[], keys: readonly string[]): string[] {
  return keys.flatMap((k, i) =>
    pairs.map((p) => {
      const [pair, ts] = p.split('@') as [string, string | undefined];
      const [l, r] = pair.split(',').map(Number) as [number, number];
      const shifted = `${k}:${l + 100 * i},${r + 100 * i}`;
      return ts === undefined ? shifted : `${shifted}@${Number(ts) + 100 * i}`;
    }),
  );
}

function timestamped(env: StreamExecutionEnvironment, events: E[]): DataStream<E> {
  return env
    .fromCollection(events)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forMonotonousTimestamps<E>().withTimestampAssigner((x) => x.n),
    );
}

/** Appends each record's timestamp, as the next operator sees it: `value@timestamp`. */
class StampTimestamp extends ProcessFunction<string, string> {
  processElement(value: string, ctx: ProcessContext, out: Collector<string>): void {
    out.collect(`${value}@${ctx.timestamp()}`);
  }
}

// ---- the interval join ---------------------------------------------------------------------

// Flink's "Joining" page, interval join figure: orange (left) and green (right) with
// between(-2 ms, +1 ms): orange.ts - 2 <= green.ts <= orange.ts + 1.
const ORANGE = [0, 2, 3, 4, 5, 7];
const GREEN = [0, 1, 6, 7];
/** `orange,green@max(timestamps)`: the figure's pairs. */
const INTERVAL_PAIRS = ['0,0@0', '0,1@1', '2,0@2', '2,1@2', '3,1@3', '5,6@6', '7,6@7', '7,7@7'];

class Pairs extends ProcessJoinFunction<E, E, string> {
  processElement(left: E, right: E, ctx: ProcessJoinContext, out: Collector<string>): void {
    expect(ctx.getLeftTimestamp()).toBe(left.n);
    expect(ctx.getRightTimestamp()).toBe(right.n);
    expect(ctx.getTimestamp()).toBe(Math.max(left.n, right.n));
    out.collect(`${left.k}:${left.n},${right.n}`);
  }
}

describe.each(BACKENDS)('interval join on %s', (backend) => {
  const run = async (
    p: number,
    keys: readonly string[],
    configure: (
      j: ReturnType<ReturnType<DataStream<E>['keyBy']>['intervalJoin']>,
    ) => ReturnType<ReturnType<ReturnType<DataStream<E>['keyBy']>['intervalJoin']>['between']>,
  ) => {
    const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
    const orange = timestamped(env, keyed(ORANGE, keys)).keyBy((x) => x.k);
    const green = timestamped(env, keyed(GREEN, keys)).keyBy((x) => x.k);
    const out = await configure(orange.intervalJoin(green))
      .process(new Pairs())
      .process(new StampTimestamp())
      .executeAndCollect();
    return out.sort();
  };

  it.each([1, 3])(
    "joins exactly the pairs of Flink's figure, between(-2 ms, +1 ms); each carries the larger timestamp (p=%i)",
    async (p) => {
      const keys = p === 1 ? ['x'] : ['a', 'b', 'c', 'd', 'e'];
      const out = await run(p, keys, (j) => j.between(Duration.ofMillis(-2), Duration.ofMillis(1)));
      expect(out).toEqual(keyedPairs(INTERVAL_PAIRS, keys).sort());
    },
  );

  it.each([
    ['lowerBoundExclusive', ['0,0', '0,1', '2,1', '5,6', '7,6', '7,7']],
    ['upperBoundExclusive', ['0,0', '2,0', '2,1', '3,1', '7,6', '7,7']],
    ['both exclusive', ['0,0', '2,1', '7,6', '7,7']],
  ] as const)('%s moves that bound by 1 ms', async (which, pairs) => {
    const out = await run(3, ['a', 'b'], (j) => {
      const joined = j.between(-2, 1);
      if (which !== 'upperBoundExclusive') joined.lowerBoundExclusive();
      if (which !== 'lowerBoundExclusive') joined.upperBoundExclusive();
      return joined;
    });
    expect(out.map((s) => s.split('@')[0])).toEqual(keyedPairs([...pairs], ['a', 'b']).sort());
  });

  it('positive bounds (a label within 10 ms after the event) and a plain function', async () => {
    const env = localEnv({ 'parallelism.default': 2, 'state.backend.type': backend });
    const events = [0, 5, 20].map((n) => e(n, 'u'));
    const labels = [3, 10, 15, 31].map((n) => e(n, 'u'));
    const out = await timestamped(env, events)
      .keyBy((x) => x.k)
      .intervalJoin(timestamped(env, labels).keyBy((x) => x.k))
      .between(Duration.ofMillis(0), Duration.ofMillis(10))
      .process<string>((l, r, _ctx, collector) => collector.collect(`${l.n},${r.n}`))
      .process(new StampTimestamp())
      .executeAndCollect();
    // 0 -> [0, 10]: 3, 10; 5 -> [5, 15]: 10, 15; 20 -> [20, 30]: none.
    expect(out.sort()).toEqual(['0,10@10', '0,3@3', '5,10@10', '5,15@15']);
  });
});

/** An interval join operator of between(lower, upper) with `fn`. */
function intervalJoin(
  lower: number,
  upper: number,
  options: Partial<IntervalJoinSpec> = {},
): IntervalJoinOperator<E, E, string> {
  return new IntervalJoinOperator<E, E, string>({
    kind: 'intervalJoin',
    lowerBound: lower,
    upperBound: upper,
    lowerBoundInclusive: true,
    upperBoundInclusive: true,
    leftLateDataTag: undefined,
    rightLateDataTag: undefined,
    fn: (l: E, r: E, ctx: ProcessJoinContext, out: Collector<string>) => {
      out.collect(`${l.n},${r.n}`);
      if (l.n === r.n) ctx.output(sameTag, `same ${l.n}`);
    },
    ...options,
  });
}

const sameTag = new OutputTag<string>('same');
const key = (x: E) => x.k;

async function harness(op: IntervalJoinOperator<E, E, string>, backend: 'hashmap' | 'level') {
  return OperatorHarness.open<E, string>(op, {
    backend,
    keySelector: key,
    keySelector2: key,
    name: 'Interval Join',
  });
}

/** The timestamps buffered for `k` on one side, read from the keyed state backend. */
function buffered(h: OperatorHarness<E, string>, side: 'LEFT' | 'RIGHT', k = 'x'): number[] {
  const backend = h.backend!;
  backend.setCurrentKey(k, assignToKeyGroup(k, 128));
  const state = backend.getState(new MapStateDescriptor<number, E[]>(`${side}_BUFFER`)) as MapState<
    number,
    E[]
  >;
  return [...state.keys()].sort((a, b) => a - b);
}

function timerCount(h: OperatorHarness<E, string>): number {
  let n = 0;
  for (const flat of h.operator.snapshotTimers()?.values() ?? []) n += flat.length / 4;
  return n;
}

describe.each(BACKENDS)('IntervalJoinOperator on %s', (backend) => {
  it('emits each pair when its second element arrives, in buffer order, with the larger timestamp', async () => {
    const h = await harness(intervalJoin(-2, 1), backend);
    // The figure's elements in time order, green before orange at equal times.
    h.processElement2(e(0), 0);
    h.processElement1(e(0), 0);
    h.processElement2(e(1), 1);
    h.processElement1(e(2), 2);
    h.processElement1(e(3), 3);
    h.processElement1(e(4), 4);
    h.processElement1(e(5), 5);
    h.processElement2(e(6), 6);
    h.processElement2(e(7), 7);
    h.processElement1(e(7), 7);
    expect(h.records).toEqual([
      { value: '0,0', timestamp: 0 },
      { value: '0,1', timestamp: 1 },
      { value: '2,0', timestamp: 2 },
      { value: '2,1', timestamp: 2 },
      { value: '3,1', timestamp: 3 },
      { value: '5,6', timestamp: 6 },
      { value: '7,6', timestamp: 7 },
      { value: '7,7', timestamp: 7 },
    ]);
    // The function's side output carries the pair's timestamp too.
    expect(h.sideOutput('same')).toEqual([
      { value: 'same 0', timestamp: 0 },
      { value: 'same 7', timestamp: 7 },
    ]);
    await h.close();
  });

  it("removes each timestamp's elements once the watermark makes them unjoinable (Flink's cleanup times)", async () => {
    // between(-2, 1): a left element at t joins right elements up to t + 1, so it goes when the
    // watermark reaches t + 1; a right element at t joins left elements up to t + 2.
    const h = await harness(intervalJoin(-2, 1), backend);
    h.processElement1(e(5), 5);
    h.processElement1(e(5), 5);
    h.processElement1(e(8), 8);
    h.processElement2(e(5), 5);
    expect(buffered(h, 'LEFT')).toEqual([5, 8]);
    expect(buffered(h, 'RIGHT')).toEqual([5]);
    expect(timerCount(h)).toBe(3); // one per side and timestamp
    h.processWatermark1(5);
    h.processWatermark2(5);
    expect(buffered(h, 'LEFT')).toEqual([5, 8]);
    h.processWatermark1(6);
    h.processWatermark2(6);
    expect(buffered(h, 'LEFT')).toEqual([8]);
    expect(buffered(h, 'RIGHT')).toEqual([5]);
    // A right element at the watermark is not late (Flink: late is below the watermark), but the
    // left elements at 5 it would have joined are gone: Flink drops them at watermark t + upper.
    h.processElement2(e(6), 6);
    expect(h.records.map((r) => r.value)).toEqual(['5,5', '5,5', '8,6']);
    h.processWatermark1(7);
    h.processWatermark2(7);
    expect(buffered(h, 'RIGHT')).toEqual([6]);
    h.processWatermark1(MAX_TIMESTAMP);
    h.processWatermark2(MAX_TIMESTAMP);
    expect(buffered(h, 'LEFT')).toEqual([]);
    expect(buffered(h, 'RIGHT')).toEqual([]);
    expect(timerCount(h)).toBe(0);
    await h.close();
  });

  it.each([
    [-5, -2],
    [2, 5],
    [0, 0],
  ])(
    'bounds (%i, %i): each side is cleaned up after its last possible partner',
    async (lower, upper) => {
      const h = await harness(intervalJoin(lower, upper), backend);
      h.processElement1(e(100), 100);
      h.processElement2(e(100), 100);
      // Left at 100 joins right up to 100 + upper; right at 100 joins left up to 100 - lower.
      const leftGone = 100 + Math.max(upper, 0);
      const rightGone = 100 + Math.max(-lower, 0);
      for (let wm = 99; wm <= 106; wm++) {
        h.processWatermark1(wm);
        h.processWatermark2(wm);
        expect(buffered(h, 'LEFT'), `left at watermark ${wm}`).toEqual(wm < leftGone ? [100] : []);
        expect(buffered(h, 'RIGHT'), `right at watermark ${wm}`).toEqual(
          wm < rightGone ? [100] : [],
        );
      }
      await h.close();
    },
  );

  it('keeps no state once the watermark passed: many keys, stored entries go to zero', async () => {
    const h = await harness(intervalJoin(-5_000, 5_000), backend);
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    let ts = 0;
    for (let round = 0; round < 20; round++) {
      for (const k of keys) {
        h.processElement1(e(ts, k), ts);
        h.processElement2(e(ts + 1, k), ts + 1);
        ts += 7;
      }
      h.processWatermark1(ts - 6_000);
      h.processWatermark2(ts - 6_000);
    }
    const backendOf = h.backend!;
    expect(await backendOf.numStoredEntries!('LEFT_BUFFER')).toBe(50);
    expect(await backendOf.numStoredEntries!('RIGHT_BUFFER')).toBe(50);
    expect(h.takeRecords().length).toBeGreaterThan(0);
    h.processWatermark1(ts + 10_000);
    h.processWatermark2(ts + 10_000);
    expect(await backendOf.numStoredEntries!('LEFT_BUFFER')).toBe(0);
    expect(await backendOf.numStoredEntries!('RIGHT_BUFFER')).toBe(0);
    expect(timerCount(h)).toBe(0);
    await h.close();
  });

  it('drops an element below the watermark and counts it; one at the watermark is joined', async () => {
    const h = await harness(intervalJoin(-2, 1), backend);
    h.processElement2(e(9), 9);
    h.processWatermark1(10);
    h.processWatermark2(10);
    h.processElement1(e(9), 9); // late: not joined, not buffered
    h.processElement2(e(8), 8); // late
    h.processElement1(e(10), 10); // at the watermark: joins the right 9
    expect(h.records).toEqual([{ value: '10,9', timestamp: 10 }]);
    expect(h.metrics.numLateRecordsDropped).toBe(2);
    expect(buffered(h, 'LEFT')).toEqual([10]);
    await h.close();
  });

  it('sends late elements of each side to its side output, with their timestamps', async () => {
    const leftLate = new OutputTag<E>('left-late');
    const rightLate = new OutputTag<E>('right-late');
    const h = await harness(
      intervalJoin(-2, 1, { leftLateDataTag: leftLate, rightLateDataTag: rightLate }),
      backend,
    );
    h.processWatermark1(10);
    h.processWatermark2(10);
    h.processElement1(e(3), 3);
    h.processElement2(e(4), 4);
    h.processElement2(e(9), 9);
    expect(h.sideOutput('left-late')).toEqual([{ value: e(3), timestamp: 3 }]);
    expect(h.sideOutput('right-late')).toEqual([
      { value: e(4), timestamp: 4 },
      { value: e(9), timestamp: 9 },
    ]);
    expect(h.metrics.numLateRecordsDropped).toBe(0);
    expect(h.records).toEqual([]);
    await h.close();
  });

  it('an element without a timestamp is an error naming the operator and the input', async () => {
    const h = await harness(intervalJoin(-2, 1), backend);
    expect(() => h.processElement2(e(1))).toThrow(
      /Interval Join \(1\/1\): an element of the right input has no timestamp/,
    );
    await h.close();
  });
});

describe('interval join: errors', () => {
  const streams = () => {
    const env = localEnv();
    const a = env.fromElements(e(1)).keyBy((x) => x.k);
    const b = env.fromElements(e(2)).keyBy((x) => x.k);
    return { env, a, b };
  };

  it('the builder hands bounds, exclusive bounds and late-data tags to the operator', () => {
    const { a, b } = streams();
    const leftLate = new OutputTag<E>('l');
    const rightLate = new OutputTag<E>('r');
    const joined = a
      .intervalJoin(b)
      .between(Duration.ofSeconds(1), 5_000)
      .upperBoundExclusive()
      .sideOutputLeftLateData(leftLate)
      .sideOutputRightLateData(rightLate)
      .process(new Pairs());
    const t = joined.getTransformation() as TwoInputTransformation<E, E, string>;
    expect(t.name).toBe('Interval Join');
    expect(t.keySelector1).toBeTypeOf('function');
    expect(t.keySelector2).toBeTypeOf('function');
    const { fn, ...spec } = t.operator as IntervalJoinSpec;
    expect(fn).toBeInstanceOf(Pairs);
    expect(spec).toEqual({
      kind: 'intervalJoin',
      lowerBound: 1000,
      upperBound: 5000,
      lowerBoundInclusive: true,
      upperBoundInclusive: false,
      leftLateDataTag: leftLate,
      rightLateDataTag: rightLate,
    });
  });

  it('lower > upper is refused', () => {
    const { a, b } = streams();
    expect(() => a.intervalJoin(b).between(2, 1)).toThrow(
      /lowerBound <= upperBound must be fulfilled; got lowerBound 2 ms > upperBound 1 ms/,
    );
    expect(() => a.intervalJoin(b).between(Duration.ofSeconds(2), Duration.ofSeconds(1))).toThrow(
      RangeError,
    );
    expect(() => a.intervalJoin(b).between(0.5, 1)).toThrow(/whole number of milliseconds/);
  });

  it('processing time is refused, as in Flink', () => {
    const { a, b } = streams();
    expect(() => a.intervalJoin(b).inProcessingTime().between(-1, 1)).toThrow(
      /only supported in event time/,
    );
  });

  it('the other stream must be keyed', () => {
    const { env, a } = streams();
    const plain = env.fromElements(e(3));
    expect(() => a.intervalJoin(plain as never)).toThrow(/call keyBy\(\) on the other stream/);
  });

  it('process() needs a function', () => {
    const { a, b } = streams();
    expect(() =>
      a
        .intervalJoin(b)
        .between(0, 1)
        .process({} as never),
    ).toThrow(/needs a ProcessJoinFunction/);
  });

  it('elements without timestamps fail the job, naming the operator', async () => {
    const { a, b } = streams();
    const job = a.intervalJoin(b).between(-1, 1).process(new Pairs()).executeAndCollect();
    await expect(job).rejects.toThrow(
      /Interval Join \(1\/1\): an element of the \w+ input has no timestamp/,
    );
  });

  it('a function error names the operator', async () => {
    const env = localEnv();
    const a = timestamped(env, [e(1)]).keyBy((x) => x.k);
    const b = timestamped(env, [e(1)]).keyBy((x) => x.k);
    const job = a
      .intervalJoin(b)
      .between(0, 0)
      .process(() => {
        throw new RangeError('bad pair');
      })
      .name('Label join')
      .executeAndCollect();
    await expect(job).rejects.toThrow(/Label join \(1\/1\).*RangeError: bad pair/s);
  });
});

// ---- window join and coGroup ---------------------------------------------------------------

/** The window join of `orange` and `green` with `assigner`, as `orange,green@timestamp`. */
async function windowJoin(
  backend: 'hashmap' | 'level',
  p: number,
  keys: readonly string[],
  orange: number[],
  green: number[],
  build: (o: DataStream<E>, g: DataStream<E>) => DataStream<string>,
): Promise<string[]> {
  const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
  const joined = build(timestamped(env, keyed(orange, keys)), timestamped(env, keyed(green, keys)));
  return joined.process(new StampTimestamp()).executeAndCollect();
}

describe.each(BACKENDS)('window join on %s', (backend) => {
  // The figures of Flink's "Joining" page; pairs are `orange,green`, in firing order: windows in
  // time order, within a window orange (the first input) in the outer loop.
  const cases = [
    {
      name: 'tumbling windows of 2 ms',
      assigner: () => TumblingEventTimeWindows.of(Duration.ofMillis(2)),
      orange: [0, 1, 2, 3, 4, 5, 6, 7],
      green: [0, 1, 3, 4],
      pairs: ['0,0@1', '0,1@1', '1,0@1', '1,1@1', '2,3@3', '3,3@3', '4,4@5', '5,4@5'],
    },
    {
      name: 'sliding windows of 2 ms every 1 ms',
      assigner: () => SlidingEventTimeWindows.of(Duration.ofMillis(2), Duration.ofMillis(1)),
      orange: [0, 1, 2, 3, 4],
      green: [0, 3, 4],
      pairs: [
        '0,0@0', // [-1, 1)
        '0,0@1', // [0, 2)
        '1,0@1',
        '2,3@3', // [2, 4); [1, 3) has no green element
        '3,3@3',
        '3,3@4', // [3, 5)
        '3,4@4',
        '4,3@4',
        '4,4@4',
        '4,4@5', // [4, 6)
      ],
    },
    {
      name: 'session windows with a gap of 1 ms',
      assigner: () => EventTimeSessionWindows.withGap(Duration.ofMillis(1)),
      orange: [1, 2, 5, 6, 8, 9],
      green: [0, 4, 5],
      // Sessions [0, 3), [4, 7) and [8, 10): the last has no green element.
      pairs: ['1,0@2', '2,0@2', '5,4@6', '5,5@6', '6,4@6', '6,5@6'],
    },
  ];

  it.each(cases)("$name: exactly the pairs of Flink's figure, in order (p=1)", async (c) => {
    const out = await windowJoin(backend, 1, ['x'], c.orange, c.green, (o, g) =>
      o
        .join(g)
        .where((x) => x.k)
        .equalTo((x) => x.k)
        .window(c.assigner())
        .apply((a, b) => `${a.n},${b.n}`),
    );
    expect(out).toEqual(c.pairs);
  });

  it.each(cases)('$name: the same pairs per key (p=3)', async (c) => {
    const keys = ['a', 'b', 'c', 'd'];
    const out = await windowJoin(backend, 3, keys, c.orange, c.green, (o, g) =>
      o
        .join(g)
        .where((x) => x.k)
        .equalTo((x) => x.k)
        .window(c.assigner())
        .apply((a, b) => `${a.k}:${a.n},${b.n}`),
    );
    expect(out.sort()).toEqual(keyedPairs(c.pairs, keys).sort());
  });

  it('a FlatJoinFunction emits through the collector; join objects and rich functions work', async () => {
    const tumbling = cases[0]!;
    const flat = await windowJoin(backend, 2, ['x'], tumbling.orange, tumbling.green, (o, g) =>
      o
        .join(g)
        .where((x) => x.k)
        .equalTo((x) => x.k)
        .window(tumbling.assigner())
        .apply<string>((a, b, out) => {
          // Only pairs of equal numbers, twice each.
          if (a.n === b.n) for (const i of [1, 2]) out.collect(`${a.n}=${b.n}#${i}`);
        }),
    );
    expect(flat.sort()).toEqual([
      '0=0#1@1',
      '0=0#2@1',
      '1=1#1@1',
      '1=1#2@1',
      '3=3#1@3',
      '3=3#2@3',
      '4=4#1@5',
      '4=4#2@5',
    ]);
    const objects = await windowJoin(backend, 2, ['x'], tumbling.orange, tumbling.green, (o, g) => {
      const joined = o
        .join(g)
        .where((x) => x.k)
        .equalTo((x) => x.k)
        .window(tumbling.assigner());
      const plain = joined.apply({ join: (a: E, b: E) => `obj ${a.n},${b.n}` });
      const flatObject = joined.apply<string>({
        join(a: E, b: E, out: Collector<string>) {
          if (a.n > b.n) out.collect(`flat ${a.n}>${b.n}`);
        },
      });
      return plain.union(flatObject, joined.apply(new CountingJoin()));
    });
    expect(objects.filter((s) => s.startsWith('obj')).sort()).toEqual(
      tumbling.pairs.map((p) => `obj ${p}`).sort(),
    );
    expect(objects.filter((s) => s.startsWith('flat')).sort()).toEqual([
      'flat 1>0@1',
      'flat 5>4@5',
    ]);
    // The rich function was opened with its runtime context and keeps keyed state per key.
    expect(objects.filter((s) => s.startsWith('count')).sort()).toEqual([
      'count 1@1',
      'count 2@1',
      'count 3@1',
      'count 4@1',
      'count 5@3',
      'count 6@3',
      'count 7@5',
      'count 8@5',
    ]);
  });
});

/** A rich join function: numbers its pairs per key in keyed state obtained in open(). */
class CountingJoin extends RichFunction {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('pairs'));
  }
  join(_a: E, _b: E): string {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    expect(this.getRuntimeContext().getNumberOfParallelSubtasks()).toBe(2);
    return `count ${n}`;
  }
}

describe.each(BACKENDS)('coGroup on %s', (backend) => {
  /** `[orange] [green]@timestamp` per key and window. */
  const groups = (
    o: DataStream<E>,
    g: DataStream<E>,
    assigner: WindowAssigner<unknown, TimeWindow> = TumblingEventTimeWindows.of(
      Duration.ofMillis(2),
    ),
  ) =>
    o
      .coGroup(g)
      .where((x) => x.k)
      .equalTo((x) => x.k)
      .window(assigner)
      .apply<string>((os, gs, out) =>
        out.collect(`${[...os].map((x) => x.n).join(' ')} | ${[...gs].map((x) => x.n).join(' ')}`),
      );

  it("gets both sides once per key and window, also windows with one side only (Flink's tumbling figure)", async () => {
    const out = await windowJoin(
      backend,
      1,
      ['x'],
      [0, 1, 2, 3, 4, 5, 6, 7],
      [0, 1, 3, 4, 9],
      groups,
    );
    expect(out).toEqual([
      '0 1 | 0 1@1',
      '2 3 | 3@3',
      '4 5 | 4@5',
      '6 7 | @7', // orange only
      ' | 9@9', // green only
    ]);
  });

  it('the same groups per key at p=3; an object with coGroup and open()', async () => {
    const keys = ['a', 'b', 'c'];
    const out = await windowJoin(backend, 3, keys, [0, 1, 6], [1, 9], (o, g) =>
      o
        .coGroup(g)
        .where((x) => x.k)
        .equalTo((x) => x.k)
        .window(TumblingEventTimeWindows.of(Duration.ofMillis(2)))
        .apply<string>({
          prefix: '',
          open(ctx: RuntimeContext) {
            this.prefix = `p${ctx.getNumberOfParallelSubtasks()}`;
          },
          coGroup(os: Iterable<E>, gs: Iterable<E>, out: Collector<string>) {
            const first = [...os];
            const key = first[0]?.k ?? [...gs][0]!.k;
            out.collect(`${this.prefix} ${key}: ${first.length}+${[...gs].length}`);
          },
        } as {
          prefix: string;
          open(ctx: RuntimeContext): void;
          coGroup(os: Iterable<E>, gs: Iterable<E>, out: Collector<string>): void;
        }),
    );
    // Per key (shifted by 100 ms each): [0, 2) has orange 0, 1 and green 1; [6, 8) orange 6; [8, 10) green 9.
    const expected = keys.flatMap((k, i) => [
      `p3 ${k}: 2+1@${1 + 100 * i}`,
      `p3 ${k}: 1+0@${7 + 100 * i}`,
      `p3 ${k}: 0+1@${9 + 100 * i}`,
    ]);
    expect(out.sort()).toEqual(expected.sort());
  });

  it('sliding and session windows group like the window join', async () => {
    const sliding = await windowJoin(backend, 1, ['x'], [0, 2], [1], (o, g) =>
      groups(o, g, SlidingEventTimeWindows.of(Duration.ofMillis(2), Duration.ofMillis(1))),
    );
    expect(sliding).toEqual(['0 | @0', '0 | 1@1', '2 | 1@2', '2 | @3']);
    const sessions = await windowJoin(backend, 1, ['x'], [0, 5], [1, 10], (o, g) =>
      groups(o, g, EventTimeSessionWindows.withGap(Duration.ofMillis(2))),
    );
    // Sessions [0, 3) (orange 0, green 1), [5, 7) (orange 5) and [10, 12) (green 10).
    expect(sessions).toEqual(['0 | 1@2', '5 | @6', ' | 10@11']);
  });
});

/**
 * The window operator a window join builds, run in the harness: its input is the tagged union of
 * both sides (`[1, orange]`, `[2, green]`), as after the join's union and keyBy.
 */
async function joinWindowOperator(
  backend: 'hashmap' | 'level',
  configure: (w: JoinedStreamsWithWindow<E, E, string, TimeWindow>) => DataStream<string>,
) {
  const env = localEnv();
  const joined = configure(
    env
      .fromElements(e(0))
      .join(env.fromElements(e(0)))
      .where((x) => x.k)
      .equalTo((x) => x.k)
      .window(TumblingEventTimeWindows.of(Duration.ofMillis(2))),
  );
  const t = joined.getTransformation() as OneInputTransformation<unknown, string>;
  expect(t.name).toMatch(/^Window\(TumblingEventTimeWindows\(2\), .*, CoGroupWindowFunction\)$/);
  return OperatorHarness.open<TaggedUnion<E, E>, string>(
    createWindowOperator(t.operator as WindowOperatorSpec),
    { backend, keySelector: t.keySelector as (u: TaggedUnion<E, E>) => string },
  );
}

describe.each(BACKENDS)('window join: trigger and allowed lateness on %s', (backend) => {
  it('allowed lateness: a late element fires its window again with all its pairs; after it, late elements are dropped', async () => {
    const h = await joinWindowOperator(backend, (w) =>
      w.allowedLateness(Duration.ofMillis(3)).apply((a, b) => `${a.n},${b.n}`),
    );
    h.processElement([1, e(0)], 0);
    h.processElement([2, e(1)], 1);
    h.processWatermark(1); // [0, 2) fires
    h.processElement([2, e(0)], 0); // late, within the lateness: fires again
    h.processWatermark(4); // 1 + 3: the window is cleaned up
    h.processElement([1, e(1)], 1); // too late
    expect(h.records).toEqual([
      { value: '0,1', timestamp: 1 },
      { value: '0,1', timestamp: 1 },
      { value: '0,0', timestamp: 1 },
    ]);
    expect(h.metrics.numLateRecordsDropped).toBe(1);
    await h.close();
  });

  it('a custom trigger (CountTrigger.of(2)) fires the cross product of what the window holds', async () => {
    const h = await joinWindowOperator(backend, (w) =>
      w.trigger(CountTrigger.of(2)).apply((a, b) => `${a.n},${b.n}`),
    );
    h.processElement([1, e(0)], 0);
    h.processElement([2, e(1)], 1); // 2 elements: fire
    h.processElement([1, e(1)], 1);
    h.processElement([2, e(0)], 0); // 2 more: fire everything held
    h.processWatermark(MAX_TIMESTAMP); // CountTrigger does not fire on time
    expect(h.records.map((r) => r.value)).toEqual(['0,1', '0,1', '0,0', '1,1', '1,0']);
    await h.close();
  });

  it("an evictor sees the tagged elements of both sides: TimeEvictor keeps the window's last 2 ms", async () => {
    const h = await joinWindowOperator(backend, (w) =>
      w.evictor(TimeEvictor.of(Duration.ofMillis(2))).apply((a, b) => `${a.n},${b.n}`),
    );
    h.processElement([1, e(0)], 0);
    h.processElement([2, e(0)], 0);
    h.processElement([1, e(1)], 1);
    h.processElement([2, e(1)], 1);
    h.processWatermark(1); // [0, 2) fires; elements at ts <= 1 - 2 are evicted: none
    expect(h.takeRecords().map((r) => r.value)).toEqual(['0,0', '0,1', '1,0', '1,1']);
    await h.close();

    const g = await joinWindowOperator(backend, (w) =>
      w.evictor(TimeEvictor.of(Duration.ofMillis(1))).apply((a, b) => `${a.n},${b.n}`),
    );
    g.processElement([1, e(0)], 0);
    g.processElement([2, e(0)], 0);
    g.processElement([1, e(1)], 1);
    g.processElement([2, e(1)], 1);
    g.processWatermark(1); // keeps ts > 1 - 1: only the elements at 1 remain
    expect(g.records.map((r) => r.value)).toEqual(['1,1']);
    await g.close();
  });
});

describe('window join and coGroup: errors', () => {
  const env = () => localEnv();

  it('key selectors must be functions', () => {
    const en = env();
    const a = en.fromElements(e(1));
    const b = en.fromElements(e(2));
    expect(() => a.join(b).where('k' as never)).toThrow(/where\(\) needs a key selector function/);
    expect(() =>
      a
        .coGroup(b)
        .where(key)
        .equalTo(undefined as never),
    ).toThrow(/equalTo\(\) needs a key selector function/);
  });

  it('apply() needs a join or coGroup function', () => {
    const en = env();
    const joined = en
      .fromElements(e(1))
      .join(en.fromElements(e(2)))
      .where(key)
      .equalTo(key)
      .window(TumblingEventTimeWindows.of(Duration.ofMillis(2)));
    expect(() => joined.apply({} as never)).toThrow(/needs a JoinFunction/);
    const grouped = en
      .fromElements(e(1))
      .coGroup(en.fromElements(e(2)))
      .where(key)
      .equalTo(key)
      .window(TumblingEventTimeWindows.of(Duration.ofMillis(2)));
    expect(() => grouped.apply({ join: () => 1 } as never)).toThrow(/needs a CoGroupFunction/);
  });

  it('allowed lateness of processing-time windows is refused, as for windows', () => {
    const en = env();
    const joined = en
      .fromElements(e(1))
      .join(en.fromElements(e(2)))
      .where(key)
      .equalTo(key)
      .window(TumblingProcessingTimeWindows.of(Duration.ofMillis(2)))
      .allowedLateness(Duration.ofMillis(5));
    expect(() => joined.apply((a, b) => a.n + b.n)).toThrow(
      /allowedLateness applies to event-time windows only/,
    );
  });

  it('event-time windows need timestamps: the error names the window operator', async () => {
    const en = env();
    const job = en
      .fromElements(e(1))
      .join(en.fromElements(e(2)))
      .where(key)
      .equalTo(key)
      .window(TumblingEventTimeWindows.of(Duration.ofMillis(2)))
      .apply((a, b) => a.n + b.n)
      .executeAndCollect();
    await expect(job).rejects.toThrow(/Window\(TumblingEventTimeWindows\(2\).*no timestamp/s);
  });

  it('a join function error names the operator', async () => {
    const en = localEnv();
    const job = timestamped(en, [e(1)])
      .join(timestamped(en, [e(1)]))
      .where(key)
      .equalTo(key)
      .window(TumblingEventTimeWindows.of(Duration.ofMillis(2)))
      .apply(() => {
        throw new RangeError('bad pair');
      })
      .name('Pair up')
      .executeAndCollect();
    await expect(job).rejects.toThrow(/Pair up \(1\/1\).*RangeError: bad pair/s);
  });
});

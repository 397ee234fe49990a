// Joins, pinned to Flink's semantics: the interval join (KeyedStream.intervalJoin,
// IntervalJoinOperator), with the example of Flink's "Joining" documentation page, whose figure
// gives the exact pairs.
import type {
  Collector,
  DataStream,
  MapState,
  ProcessContext,
  ProcessJoinContext,
  StreamExecutionEnvironment,
} from '@nimble/api';
import {
  Duration,
  MapStateDescriptor,
  MAX_TIMESTAMP,
  OutputTag,
  ProcessFunction,
  ProcessJoinFunction,
  WatermarkStrategy,
} from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { assignToKeyGroup } from '../src/keys/index.js';
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
      const out = await run(p, keys, (j) => j.between(-2, Duration.ofMillis(1)));
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

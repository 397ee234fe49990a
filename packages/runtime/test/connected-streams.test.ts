// Two-input operators: connect, CoMap/CoFlatMap, CoProcessFunction and KeyedCoProcessFunction,
// pinned to Flink's semantics (ConnectedStreams, CoStreamMap, KeyedCoProcessOperator and the
// combined watermark of AbstractStreamOperator + CombinedWatermarkStatus).
import type {
  CoMapFunction,
  Collector,
  KeyedOnTimerContext,
  KeyedProcessContext,
  ProcessContext,
  RuntimeContext,
  ValueState,
} from '@nimble/api';
import {
  CoProcessFunction,
  KeyedCoProcessFunction,
  MAX_TIMESTAMP,
  OutputTag,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { CoMapOperator, CoProcessOperator } from '../src/operators/co-operators.js';
import { localEnv, sortedJson } from './support/local.js';
import { OperatorHarness } from './support/operator-harness.js';

const BACKENDS = ['hashmap', 'level'] as const;

type Purchase = { user: string; amount: number; ts: number };
type Refund = { user: string; amount: number; ts: number };

const purchases: Purchase[] = [
  { user: 'a', amount: 10, ts: 1000 },
  { user: 'b', amount: 20, ts: 2000 },
  { user: 'a', amount: 30, ts: 3000 },
  { user: 'c', amount: 40, ts: 4000 },
];
const refunds: Refund[] = [
  { user: 'a', amount: 5, ts: 1500 },
  { user: 'c', amount: 40, ts: 4500 },
  { user: 'd', amount: 1, ts: 5000 },
];

const refundTag = new OutputTag<string>('refunds');

/**
 * Net spend per user from purchases (input 1) and refunds (input 2) in one keyed state; a timer
 * at the end of time reports each user's net once both inputs are done. Refunds also go to a
 * side output, from the second input.
 */
class NetSpend extends KeyedCoProcessFunction<string, Purchase, Refund, string> {
  private net!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.net = ctx.getState(new ValueStateDescriptor<number>('net'));
  }
  processElement1(p: Purchase, ctx: KeyedProcessContext<string>): void {
    this.net.update((this.net.value() ?? 0) + p.amount);
    ctx.timerService().registerEventTimeTimer(MAX_TIMESTAMP - 1);
  }
  processElement2(r: Refund, ctx: KeyedProcessContext<string>): void {
    this.net.update((this.net.value() ?? 0) - r.amount);
    ctx.timerService().registerEventTimeTimer(MAX_TIMESTAMP - 1);
    ctx.output(refundTag, `${ctx.getCurrentKey()}-${r.amount}`);
  }
  override onTimer(_ts: number, ctx: KeyedOnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()}=${this.net.value()}`);
  }
}

describe('connect: CoMap and CoFlatMap', () => {
  it.each([1, 3])('map1/map2 and flatMap1/flatMap2 see each stream once (p=%i)', async (p) => {
    const env = localEnv({ 'parallelism.default': p });
    const numbers = env.fromElements(1, 2, 3);
    const words = env.fromElements('x', 'y');
    const connected = numbers.connect(words);
    const mapped = connected.map({ map1: (n) => `n${n}`, map2: (w) => `w${w}` });
    const flat = connected.flatMap<string>({
      flatMap1: (n, out) => {
        for (let i = 0; i < n; i++) out.collect(`n${n}`);
      },
      flatMap2: (w) => [w, w.toUpperCase()],
    });
    const out = await mapped.union(flat).executeAndCollect();
    expect(out.sort()).toEqual(
      ['n1', 'n2', 'n3', 'wx', 'wy', 'n1', 'n2', 'n2', 'n3', 'n3', 'n3', 'x', 'X', 'y', 'Y'].sort(),
    );
  });

  it('a CoMapFunction class with open() gets its runtime context, per parallel instance', async () => {
    const env = localEnv({ 'parallelism.default': 2 });
    const out = await env
      .fromElements(1, 2)
      .connect(env.fromElements(0))
      .map(new Prefixing())
      .executeAndCollect();
    for (const line of out) expect(line).toMatch(/^[01]\/2:\d$/);
    expect(out.map((s) => s.split(':')[1]).sort()).toEqual(['0', '1', '2']);
  });
});

/** A CoMapFunction class with a lifecycle: it prefixes its subtask, learned in open(). */
class Prefixing implements CoMapFunction<number, number, string> {
  private prefix = '';
  open(ctx: RuntimeContext): void {
    this.prefix = `${ctx.getIndexOfThisSubtask()}/${ctx.getNumberOfParallelSubtasks()}`;
  }
  map1(n: number): string {
    return `${this.prefix}:${n}`;
  }
  map2(n: number): string {
    return `${this.prefix}:${n}`;
  }
}

describe.each(BACKENDS)('KeyedCoProcessFunction on %s', (backend) => {
  const run = async (p: number, connect: 'keyBy' | 'keyedStreams') => {
    const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
    const ps = env.fromCollection(purchases);
    const rs = env.fromCollection(refunds);
    const connected =
      connect === 'keyBy'
        ? ps.connect(rs).keyBy(
            (x) => x.user,
            (r) => r.user,
          )
        : ps.keyBy((x) => x.user).connect(rs.keyBy((r) => r.user));
    const net = connected.process(new NetSpend());
    return net.union(net.getSideOutput(refundTag)).executeAndCollect();
  };

  it.each([1, 3])(
    'both inputs share the keyed state of their key; timers and side outputs work from both (p=%i)',
    async (p) => {
      const expected = ['a=35', 'b=20', 'c=0', 'd=-1', 'a-5', 'c-40', 'd-1'];
      expect((await run(p, 'keyBy')).sort()).toEqual(expected.sort());
      expect((await run(p, 'keyedStreams')).sort()).toEqual(expected.sort());
    },
  );
});

describe('two-input operators: errors', () => {
  it('a KeyedCoProcessFunction on connected streams that are not keyed is refused', () => {
    const env = localEnv();
    expect(() =>
      env
        .fromElements(1)
        .connect(env.fromElements(2))
        .process(
          new NetSpend() as unknown as KeyedCoProcessFunction<never, number, number, string>,
        ),
    ).toThrow(/KeyedCoProcessFunction needs keyed connected streams/);
  });

  it('timers in a CoProcessFunction need keyed connected streams; the error names the operator', async () => {
    const env = localEnv();
    const job = env
      .fromElements(1)
      .connect(env.fromElements(2))
      .process(
        new (class extends CoProcessFunction<number, number, number> {
          processElement1(_v: number, ctx: ProcessContext): void {
            ctx.timerService().registerEventTimeTimer(5);
          }
          processElement2(): void {}
        })(),
      )
      .name('Timers')
      .executeAndCollect();
    await expect(job).rejects.toThrow(/Timers \(1\/1\).*only supported on a keyed stream/s);
  });

  it('a user function error names the two-input operator', async () => {
    const env = localEnv();
    const job = env
      .fromElements(1)
      .connect(env.fromElements('x'))
      .map({
        map1: (n) => n,
        map2: () => {
          throw new RangeError('bad second input');
        },
      })
      .name('Join inputs')
      .executeAndCollect();
    await expect(job).rejects.toThrow(/Join inputs \(1\/1\).*RangeError: bad second input/s);
  });
});

describe('the watermark of a two-input operator', () => {
  const noop = () =>
    new CoProcessOperator<never, number, number, number>(
      new (class extends CoProcessFunction<number, number, number> {
        processElement1(): void {}
        processElement2(): void {}
      })(),
      false,
    );

  it('is the minimum of both inputs; an idle input is left out; both idle makes it idle', async () => {
    const h = await OperatorHarness.open(noop());
    h.processWatermark1(5); // input 2 still at MIN: nothing
    h.processWatermark2(3); // min(5, 3)
    h.processWatermark1(10); // min(10, 3): unchanged
    h.processWatermark2(8); // min(10, 8)
    h.processWatermarkStatus2(true); // input 2 idle: input 1 alone
    h.processWatermark1(12);
    h.processWatermarkStatus1(true); // both idle: the operator is idle
    h.processWatermarkStatus2(false); // input 2 active again, at 8 < 12: no watermark yet
    h.processWatermark2(20);
    expect(h.events).toEqual([
      { kind: 'watermark', watermark: 3 },
      { kind: 'watermark', watermark: 8 },
      { kind: 'watermark', watermark: 10 },
      { kind: 'watermark', watermark: 12 },
      { kind: 'watermarkStatus', idle: true },
      { kind: 'watermarkStatus', idle: false },
      { kind: 'watermark', watermark: 20 },
    ]);
    await h.close();
  });

  it.each(BACKENDS)(
    'event-time timers fire when the combined watermark passes them (%s)',
    async (backend) => {
      const fired: string[] = [];
      const h = await OperatorHarness.open(
        new CoProcessOperator<string, Purchase, Refund, string>(new NetSpend(), true),
        { backend, keySelector: (p: Purchase) => p.user, keySelector2: (r: Refund) => r.user },
      );
      // NetSpend registers at MAX - 1: only the end of both inputs fires it.
      h.processElement1({ user: 'a', amount: 3, ts: 1 }, 1);
      h.processElement2({ user: 'a', amount: 1, ts: 2 }, 2);
      h.processWatermark1(MAX_TIMESTAMP);
      fired.push(...h.records.map((r) => r.value));
      expect(fired).toEqual([]);
      h.processWatermark2(MAX_TIMESTAMP);
      expect(h.records).toEqual([{ value: 'a=2', timestamp: MAX_TIMESTAMP - 1 }]);
      expect(h.sideOutput('refunds')).toEqual([{ value: 'a-1', timestamp: 2 }]);
      await h.close();
    },
  );

  it.each(BACKENDS)(
    'in a job, an event-time timer sees every element of both inputs up to its time (%s)',
    async (backend) => {
      type E = { k: string; ts: number; amount: number };
      // Both inputs interleave freely; the combined watermark guarantees that when the timer at
      // T fires, every element with ts <= T of either input was processed: each timer's sum is
      // exact whatever the interleaving.
      const env = localEnv({
        'state.backend.type': backend,
        'pipeline.auto-watermark-interval': 1,
      });
      const withTs = (events: E[]) =>
        env
          .fromCollection(events)
          .assignTimestampsAndWatermarks(
            WatermarkStrategy.forMonotonousTimestamps<E>().withTimestampAssigner((e) => e.ts),
          );
      const n = 3000;
      const ones = withTs(Array.from({ length: n }, (_, i) => ({ k: 'x', ts: i, amount: 1 })));
      const thousands = withTs(
        Array.from({ length: n / 10 }, (_, i) => ({ k: 'x', ts: i * 10 + 5, amount: 1000 })),
      );
      const out = await ones
        .connect(thousands)
        .keyBy(
          (e) => e.k,
          (e) => e.k,
        )
        .process(new BucketSums())
        .executeAndCollect();
      const expected: string[] = [];
      for (let t = 99; t < n; t += 100) expected.push(`${t}:${100 + 10 * 1000}`);
      expect(out).toEqual(expected);
    },
  );
});

/** Sums the amounts of each 100 ms bucket of both inputs when the watermark passes the bucket. */
class BucketSums extends KeyedCoProcessFunction<
  string,
  { ts: number; amount: number },
  { ts: number; amount: number },
  string
> {
  private sums!: ValueState<Record<number, number>>;
  override open(ctx: RuntimeContext): void {
    this.sums = ctx.getState(new ValueStateDescriptor<Record<number, number>>('sums'));
  }
  processElement1(e: { ts: number; amount: number }, ctx: KeyedProcessContext<string>): void {
    this.add(e, ctx);
  }
  processElement2(e: { ts: number; amount: number }, ctx: KeyedProcessContext<string>): void {
    this.add(e, ctx);
  }
  private add(e: { ts: number; amount: number }, ctx: KeyedProcessContext<string>): void {
    const end = Math.floor(e.ts / 100) * 100 + 99;
    const sums = { ...(this.sums.value() ?? {}) };
    sums[end] = (sums[end] ?? 0) + e.amount;
    this.sums.update(sums);
    ctx.timerService().registerEventTimeTimer(end);
  }
  override onTimer(ts: number, _ctx: KeyedOnTimerContext<string>, out: Collector<string>): void {
    const sums = { ...(this.sums.value() ?? {}) };
    out.collect(`${ts}:${sums[ts]}`);
    delete sums[ts];
    this.sums.update(sums);
  }
}

describe('CoMapOperator', () => {
  it('keeps each element’s timestamp', async () => {
    const h = await OperatorHarness.open(
      new CoMapOperator<number, string, string>({ map1: (n) => `n${n}`, map2: (s) => s }),
    );
    h.processElement1(1, 10);
    h.processElement2('w', undefined);
    expect(h.records).toEqual([
      { value: 'n1', timestamp: 10 },
      { value: 'w', timestamp: undefined },
    ]);
    await h.close();
  });
});

describe('parallel results equal parallelism 1', () => {
  it('keyed co-process at p=1 and p=3', async () => {
    const run = async (p: number) => {
      const env = localEnv({ 'parallelism.default': p });
      return env
        .fromCollection(purchases)
        .keyBy((x) => x.user)
        .connect(env.fromCollection(refunds).keyBy((r) => r.user))
        .process(new NetSpend())
        .executeAndCollect();
    };
    expect(sortedJson(await run(3))).toEqual(sortedJson(await run(1)));
  });
});

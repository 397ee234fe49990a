import type {
  Collector,
  KeyedOnTimerContext,
  KeyedProcessContext,
  ProcessContext,
} from '@nimble/api';
import { KeyedProcessFunction, OutputTag, ProcessFunction, WatermarkStrategy } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { localEnv, sortedJson } from './support/local.js';

type Event = { user: string; amount: number; ts: number };
const events: Event[] = [
  { user: 'a', amount: 1, ts: 1000 },
  { user: 'b', amount: 2, ts: 2000 },
  { user: 'a', amount: 3, ts: 3000 },
  { user: 'c', amount: 4, ts: 4000 },
  { user: 'b', amount: 5, ts: 5000 },
  { user: 'a', amount: 6, ts: 6000 },
];

describe('stateless operators', () => {
  it('map, filter and flatMap keep order at parallelism 1', async () => {
    const env = localEnv();
    const out = await env
      .fromElements(1, 2, 3, 4, 5)
      .map((x) => x * 10)
      .filter((x) => x !== 30)
      .flatMap((x, collector) => {
        collector.collect(x);
        collector.collect(-x);
      })
      .executeAndCollect();
    expect(out).toEqual([10, -10, 20, -20, 40, -40, 50, -50]);
  });

  it('flatMap may return an iterable, as in PyFlink', async () => {
    const out = await localEnv()
      .fromElements('a b', 'c')
      .flatMap((line) => line.split(' '))
      .executeAndCollect();
    expect(out).toEqual(['a', 'b', 'c']);
  });

  it('union, rebalance and broadcast deliver the expected multiset', async () => {
    const env = localEnv({ 'parallelism.default': 3 });
    const a = env.fromElements(1, 2, 3);
    const b = env.fromElements(10, 20);
    const unioned = await a
      .union(b)
      .rebalance()
      .map((x) => x + 1)
      .executeAndCollect();
    expect(unioned.sort((x, y) => x - y)).toEqual([2, 3, 4, 11, 21]);

    const env2 = localEnv({ 'parallelism.default': 3 });
    const broadcast = await env2
      .fromElements('x', 'y')
      .broadcast()
      .map((s) => s.toUpperCase())
      .executeAndCollect();
    expect(broadcast.sort()).toEqual(['X', 'X', 'X', 'Y', 'Y', 'Y']);
  });

  it('records keep structured-cloneable types across the network (Map, Date, bigint, undefined)', async () => {
    const env = localEnv({ 'parallelism.default': 2 });
    const out = await env
      .fromElements({ m: new Map([['k', 1n]]), d: new Date(5), u: undefined as undefined | number })
      .rebalance()
      .map((x) => x)
      .executeAndCollect();
    expect(out).toHaveLength(1);
    expect(out[0]!.m.get('k')).toBe(1n);
    expect(out[0]!.d.getTime()).toBe(5);
    expect('u' in out[0]!).toBe(true);
  });
});

describe('keyed streams', () => {
  it('rolling reduce per key; parallel result equals parallelism 1', async () => {
    const run = async (p: number) =>
      localEnv({ 'parallelism.default': p })
        .fromCollection(events)
        .keyBy((e) => e.user)
        .reduce((x, y) => ({ user: x.user, amount: x.amount + y.amount, ts: Math.max(x.ts, y.ts) }))
        .executeAndCollect();
    const p1 = await run(1);
    expect(p1).toEqual([
      { user: 'a', amount: 1, ts: 1000 },
      { user: 'b', amount: 2, ts: 2000 },
      { user: 'a', amount: 4, ts: 3000 },
      { user: 'c', amount: 4, ts: 4000 },
      { user: 'b', amount: 7, ts: 5000 },
      { user: 'a', amount: 10, ts: 6000 },
    ]);
    expect(sortedJson(await run(4))).toEqual(sortedJson(p1));
  });

  it('sum, min, max, minBy and maxBy follow Flink (other fields from the first element; By keeps the element)', async () => {
    type R = [string, number, string];
    const input: R[] = [
      ['k', 5, 'first'],
      ['k', 3, 'second'],
      ['k', 3, 'third'],
      ['k', 9, 'fourth'],
    ];
    const keyed = () =>
      localEnv()
        .fromCollection(input)
        .keyBy((r) => r[0]);
    expect(await keyed().sum(1).executeAndCollect()).toEqual([
      ['k', 5, 'first'],
      ['k', 8, 'first'],
      ['k', 11, 'first'],
      ['k', 20, 'first'],
    ]);
    expect(await keyed().min(1).executeAndCollect()).toEqual([
      ['k', 5, 'first'],
      ['k', 3, 'first'],
      ['k', 3, 'first'],
      ['k', 3, 'first'],
    ]);
    expect(await keyed().max(1).executeAndCollect()).toEqual([
      ['k', 5, 'first'],
      ['k', 5, 'first'],
      ['k', 5, 'first'],
      ['k', 9, 'first'],
    ]);
    expect(await keyed().minBy(1).executeAndCollect()).toEqual([
      ['k', 5, 'first'],
      ['k', 3, 'second'],
      ['k', 3, 'second'],
      ['k', 3, 'second'],
    ]);
    expect(await keyed().maxBy(1).executeAndCollect()).toEqual([
      ['k', 5, 'first'],
      ['k', 5, 'first'],
      ['k', 5, 'first'],
      ['k', 9, 'fourth'],
    ]);
  });

  it('min and max of a string field compare strings; sum of one, or mixed types, fail naming the operator', async () => {
    type R = { k: string; name: string; n: number | string };
    const rows: R[] = [
      { k: 'k', name: 'mango', n: 1 },
      { k: 'k', name: 'apple', n: 2 },
      { k: 'k', name: 'zucchini', n: 3 },
    ];
    const keyed = () =>
      localEnv()
        .fromCollection(rows)
        .keyBy((r) => r.k);
    expect((await keyed().min('name').executeAndCollect()).map((r) => r.name)).toEqual([
      'mango',
      'apple',
      'apple',
    ]);
    expect((await keyed().max('name').executeAndCollect()).map((r) => r.name)).toEqual([
      'mango',
      'mango',
      'zucchini',
    ]);
    const bad = localEnv()
      .fromCollection(rows.map((r) => [r.k, r.name] as [string, string]))
      .keyBy((r) => r[0]);
    // The types refuse a sum of a string field; a cast gets past them, the runtime does not.
    await expect((bad as any).sum(1).name('Total').executeAndCollect()).rejects.toThrow(
      /Total \(1\/1\): sum\(1\): the field is a string; sum needs a number or bigint field/,
    );
    const mixed = localEnv()
      .fromCollection<R>([rows[0]!, { ...rows[1]!, n: 'two' }])
      .keyBy((r) => r.k);
    await expect(mixed.max('n').executeAndCollect()).rejects.toThrow(
      /max\("n"\): the field holds a string in this element and a number before/,
    );
  });

  it('composite keys (arrays) and numeric keys partition correctly', async () => {
    const out = await localEnv({ 'parallelism.default': 3 })
      .fromElements([1, 'x'], [2, 'y'], [1, 'x'], [1, 'y'])
      .keyBy((r) => [r[0] as number, r[1] as string])
      .reduce((a) => a)
      .map((r) => r.join('-'))
      .executeAndCollect();
    expect(out.sort()).toEqual(['1-x', '1-x', '1-y', '2-y']);
  });
});

describe('process functions, timers and side outputs', () => {
  it('ProcessFunction emits to side outputs by tag', async () => {
    const big = new OutputTag<number>('big');
    const env = localEnv();
    const main = env.fromElements(1, 50, 2, 70).process(
      new (class extends ProcessFunction<number, number> {
        processElement(v: number, ctx: ProcessContext, out: Collector<number>): void {
          if (v > 10) ctx.output(big, v);
          else out.collect(v);
        }
      })(),
    );
    const all = await main
      .map((v) => `main:${v}`)
      .union(main.getSideOutput(big).map((v) => `big:${v}`))
      .executeAndCollect();
    expect(all.sort()).toEqual(['big:50', 'big:70', 'main:1', 'main:2']);
  });

  it('event-time timers fire once per key and time, in time order, when the watermark reaches them', async () => {
    const env = localEnv();
    const out = await env
      .fromCollection(events)
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((e) => e.ts),
      )
      .keyBy((e) => e.user)
      .process(
        new (class extends KeyedProcessFunction<string, Event, string> {
          processElement(e: Event, ctx: KeyedProcessContext<string>): void {
            // Registered twice: fires once (timers are unique per key, namespace and time).
            ctx.timerService().registerEventTimeTimer(10_000);
            ctx.timerService().registerEventTimeTimer(10_000);
            ctx.timerService().registerEventTimeTimer(e.ts + 500);
            if (e.amount === 6) ctx.timerService().deleteEventTimeTimer(e.ts + 500);
          }
          override onTimer(
            ts: number,
            ctx: KeyedOnTimerContext<string>,
            out: Collector<string>,
          ): void {
            out.collect(`${ctx.getCurrentKey()}@${ts}`);
          }
        })(),
      )
      .executeAndCollect();
    // With parallelism 1 the end-of-input watermark fires the remaining timers in time order;
    // timers at the same time fire in registration order.
    expect(out).toEqual([
      'a@1500',
      'b@2500',
      'a@3500',
      'c@4500',
      'b@5500',
      'a@10000',
      'b@10000',
      'c@10000',
    ]);
  });
});

describe('bad input and user errors', () => {
  it('a key selector returning an object fails naming the operator', async () => {
    const env = localEnv();
    const job = env
      .fromElements({ id: 1 })
      .keyBy(((e: { id: number }) => ({ nested: e.id })) as unknown as (e: {
        id: number;
      }) => string)
      .reduce((a) => a)
      .executeAndCollect();
    await expect(job).rejects.toThrow(
      /keyBy\(\) before Keyed Reduce in Collection Source \(1\/1\): the key selector returned an object/,
    );
  });

  it('a key selector returning undefined fails naming the operator', async () => {
    const env = localEnv();
    const job = env
      .fromElements({ id: 1 })
      .keyBy(
        ((e: { id: number; missing?: string }) => e.missing) as unknown as (e: {
          id: number;
        }) => string,
      )
      .reduce((a) => a)
      .executeAndCollect();
    await expect(job).rejects.toThrow(
      /keyBy\(\) before Keyed Reduce in Collection Source \(1\/1\): the key selector returned undefined/,
    );
  });

  it('an exception in a user function fails the job, naming the operator and keeping the user stack', async () => {
    function parseAmount(x: number): number {
      if (x === 3) throw new RangeError('amount out of range');
      return x;
    }
    const env = localEnv({ 'parallelism.default': 2 });
    const job = env
      .fromElements(1, 2, 3)
      .rebalance()
      .map(parseAmount)
      .name('Parse amount')
      .executeAndCollect();
    const error = await job.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(
      /Parse amount \([12]\/2\): user function threw RangeError: amount out of range/,
    );
    expect(error!.stack).toContain('parseAmount');
  });

  it('an unknown configuration key is refused with its name', async () => {
    const env = localEnv({ 'state.backend.typo': 'level' });
    await expect(env.fromElements(1).executeAndCollect()).rejects.toThrow(
      /Unknown configuration key "state.backend.typo"/,
    );
  });

  it('a bad configuration value is refused naming the key', async () => {
    const env = localEnv({ 'state.backend.type': 'rocksdb' });
    await expect(env.fromElements(1).executeAndCollect()).rejects.toThrow(
      /Bad value "rocksdb" for configuration key "state.backend.type": must be one of hashmap, level/,
    );
  });

  it('keyed parallelism above max parallelism is refused with a message', async () => {
    const env = localEnv({ 'parallelism.default': 8, 'pipeline.max-parallelism': 4 });
    await expect(
      env
        .fromElements(1)
        .keyBy((x) => x)
        .reduce((a) => a)
        .executeAndCollect(),
    ).rejects.toThrow(/parallelism 8 must be an integer in \[1, maxParallelism=4\]/);
  });
});

describe('records that cannot cross the network', () => {
  it('a record holding a function fails the job naming the producing task', async () => {
    const env = localEnv({ 'parallelism.default': 2 });
    const job = env
      .fromElements(1)
      .map((x) => ({ x, f: () => x }))
      .rebalance()
      .map((r) => r.x)
      .executeAndCollect();
    await expect(job).rejects.toThrow(
      /Map \([12]\/2\): a record cannot be sent to the next operator: .*could not be cloned/,
    );
  });
});

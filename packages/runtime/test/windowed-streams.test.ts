import type {
  AggregateFunction,
  Collector,
  GlobalWindow,
  ProcessAllWindowContext,
  RuntimeContext,
  TimeWindow,
} from '@nimble/api';
import {
  CountEvictor,
  CountTrigger,
  Duration,
  EventTimeSessionWindows,
  GlobalWindows,
  OutputTag,
  ProcessAllWindowFunction,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
} from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { buildJobGraph } from '../src/graph/job-graph.js';
import { localEnv } from './support/local.js';
import { at, watermarked, wm } from './support/watermarked.js';

const ms = Duration.ofMillis;
const sum = (a: number, b: number): number => a + b;

/** Counts the elements of a window. */
const count: AggregateFunction<unknown, number, number> = {
  createAccumulator: () => 0,
  add: (_v, acc) => acc + 1,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};

const lateTag = new OutputTag<number>('late');
const sideTag = new OutputTag<string>('firings');

/** Describes each firing: window, result, per-window and global firing counts; emits a side record. */
class DescribeFiring extends ProcessAllWindowFunction<number, string, TimeWindow> {
  private readonly firings = new ValueStateDescriptor<number>('firings');
  private readonly total = new ValueStateDescriptor<number>('total');
  readonly lifecycle: string[] = [];
  override open(ctx: RuntimeContext): void {
    this.lifecycle.push(`open ${ctx.getNumberOfParallelSubtasks()}`);
  }
  override close(): void {
    this.lifecycle.push('close');
  }
  process(
    ctx: ProcessAllWindowContext<TimeWindow>,
    results: Iterable<number>,
    out: Collector<string>,
  ): void {
    const firings = ctx.windowState().getState(this.firings);
    firings.update((firings.value() ?? 0) + 1);
    const total = ctx.globalState().getState(this.total);
    total.update((total.value() ?? 0) + 1);
    const w = ctx.window();
    out.collect(
      `[${w.start},${w.end}) ${[...results].join(',')} firing=${firings.value()} total=${total.value()}`,
    );
    ctx.output(sideTag, `fired ${w.start}`);
  }
  override clear(ctx: ProcessAllWindowContext<TimeWindow>): void {
    ctx.windowState().getState(this.firings).clear();
    this.lifecycle.push(`clear ${ctx.window().start}`);
  }
}

// Both window operators: the aligned fast path (the default) and the general one.
const configs = (['hashmap', 'level'] as const).flatMap((backend) =>
  [1, 3].flatMap((p) => [true, false].map((aligned) => ({ backend, p, aligned }))),
);

describe.each(configs)(
  'windowAll ($backend backend, parallelism $p, aligned fast path $aligned)',
  ({ backend, p, aligned }) => {
    const env = () =>
      localEnv({
        'parallelism.default': p,
        'state.backend.type': backend,
        'execution.window.aligned-fast-path': aligned,
      });

    it('reduces all elements per window; late firings within the lateness; later ones to the side output', async () => {
      const e = env();
      const windowed = watermarked(e, [
        at(1, 1),
        at(2, 3),
        at(4, 12),
        wm(9), // fires [0,10): 1+2
        at(8, 4), // late, within the lateness (cleanup at 9 + 5 = 14): a late firing
        wm(14), // [0,10) is cleaned up
        at(16, 5), // too late: side output
        at(32, 15),
      ])
        .windowAll(TumblingEventTimeWindows.of(ms(10)))
        .allowedLateness(ms(5))
        .sideOutputLateData(lateTag)
        .reduce(sum);
      const main = windowed.map((n) => `main ${n}`);
      const late = windowed.getSideOutput(lateTag).map((n) => `late ${n}`);
      const out = await main.union(late).executeAndCollect();
      expect(out.sort()).toEqual(['late 16', 'main 11', 'main 3', 'main 36']);
    });

    it('aggregate with a ProcessAllWindowFunction: window, per-window and global state, side output, clear', async () => {
      const e = env();
      const fn = new DescribeFiring();
      const windowed = watermarked(e, [
        at(1, 1),
        at(2, 3),
        at(4, 12),
        wm(9),
        at(8, 4), // late firing of [0,10)
        at(16, 25),
      ])
        .windowAll(TumblingEventTimeWindows.of(ms(10)))
        .allowedLateness(ms(5))
        .aggregate(count, fn);
      const side = windowed.getSideOutput(sideTag);
      const out = await windowed.union(side).executeAndCollect();
      expect(out.sort()).toEqual(
        [
          '[0,10) 2 firing=1 total=1',
          '[0,10) 3 firing=2 total=2',
          '[10,20) 1 firing=1 total=3',
          '[20,30) 1 firing=1 total=4',
          'fired 0',
          'fired 0',
          'fired 10',
          'fired 20',
        ].sort(),
      );
      // One subtask: opened once with parallelism 1; every window cleared at its cleanup.
      expect(fn.lifecycle).toEqual(['open 1', 'clear 0', 'clear 10', 'clear 20', 'close']);
    });

    it('process and apply see every element of sliding windows', async () => {
      const events = [at(1, 1), at(2, 6), at(4, 11)];
      const viaProcess = await watermarked(env(), events)
        .windowAll(SlidingEventTimeWindows.of(ms(10), ms(5)))
        .process(
          new (class extends ProcessAllWindowFunction<number, string, TimeWindow> {
            process(
              ctx: ProcessAllWindowContext<TimeWindow>,
              elements: Iterable<number>,
              out: Collector<string>,
            ): void {
              out.collect(`[${ctx.window().start},${ctx.window().end}) ${[...elements].join(',')}`);
            }
          })(),
        )
        .executeAndCollect();
      const expected = ['[-5,5) 1', '[0,10) 1,2', '[5,15) 2,4', '[10,20) 4'];
      expect(viaProcess.sort()).toEqual([...expected].sort());

      const viaApply = await watermarked(env(), events)
        .windowAll(SlidingEventTimeWindows.of(ms(10), ms(5)))
        .apply((w: TimeWindow, elements: Iterable<number>, out: Collector<string>) =>
          out.collect(`[${w.start},${w.end}) ${[...elements].join(',')}`),
        )
        .executeAndCollect();
      expect(viaApply.sort()).toEqual([...expected].sort());
    });

    it('reduce with an AllWindowFunction, and merging session windows', async () => {
      const out = await watermarked(env(), [at(1, 0), at(2, 4), at(4, 30), at(8, 34)])
        .windowAll(EventTimeSessionWindows.withGap(ms(5)))
        .reduce(sum, (w: TimeWindow, sums: Iterable<number>, collector: Collector<string>) =>
          collector.collect(`[${w.start},${w.end}) ${[...sums].join(',')}`),
        )
        .executeAndCollect();
      expect(out.sort()).toEqual(['[0,9) 3', '[30,39) 12']);
    });

    it('countWindowAll(size): tumbling windows of the stream in arrival order', async () => {
      const out = await env()
        .fromCollection([1, 2, 3, 4, 5, 6, 7])
        .countWindowAll(3)
        .apply((_w: GlobalWindow, elements: Iterable<number>, o: Collector<string>) =>
          o.collect([...elements].join(',')),
        )
        .executeAndCollect();
      // 7 never fills a window: a global window has no end to fire at.
      expect(out.sort()).toEqual(['1,2,3', '4,5,6']);
    });

    it('countWindowAll(size, slide): the last `size` elements every `slide` elements', async () => {
      const out = await env()
        .fromCollection([1, 2, 3, 4, 5, 6, 7])
        .countWindowAll(3, 2)
        .reduce(sum)
        .executeAndCollect();
      // Firings after 2, 4 and 6 elements over the last 3: 1+2, 2+3+4, 4+5+6.
      expect(out.sort((a, b) => a - b)).toEqual([3, 9, 15]);
    });
  },
);

// Count windows are global windows with a count trigger: always the general operator.
describe.each(configs.filter((c) => c.aligned))(
  'countWindow ($backend backend, parallelism $p)',
  ({ backend, p }) => {
    const env = () => localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
    type Reading = [sensor: string, value: number];
    const readings: Reading[] = [
      ['a', 1],
      ['b', 10],
      ['a', 2],
      ['a', 3],
      ['b', 20],
      ['a', 4],
      ['b', 30],
      ['a', 5],
      ['b', 40],
      ['a', 6],
      ['a', 7],
    ];
    const listing = (key: string, _w: GlobalWindow, els: Iterable<Reading>, o: Collector<string>) =>
      o.collect(`${key}: ${[...els].map((r) => r[1]).join(',')}`);

    it('countWindow(size): each key fires every `size` of its elements, then starts empty', async () => {
      const out = await env()
        .fromCollection(readings)
        .keyBy((r) => r[0])
        .countWindow(3)
        .apply(listing)
        .executeAndCollect();
      expect(out.sort()).toEqual(['a: 1,2,3', 'a: 4,5,6', 'b: 10,20,30']);
    });

    it('countWindow(size, slide): each key fires every `slide` elements over its last `size`', async () => {
      const out = await env()
        .fromCollection(readings)
        .keyBy((r) => r[0])
        .countWindow(3, 2)
        .apply(listing)
        .executeAndCollect();
      expect(out.sort()).toEqual(
        ['a: 1,2', 'a: 2,3,4', 'a: 4,5,6', 'b: 10,20', 'b: 20,30,40'].sort(),
      );
    });

    it('an evictor set on a keyed window through the API', async () => {
      const out = await env()
        .fromCollection(readings)
        .keyBy((r) => r[0])
        .window(GlobalWindows.create())
        .trigger(CountTrigger.of(4))
        .evictor(CountEvictor.of(2, true))
        .apply(listing)
        .executeAndCollect();
      // a fires after 1,2,3,4 and keeps 3,4 (5,6,7 do not fire it again); b fires after 10..40.
      expect(out.sort()).toEqual(['a: 1,2,3,4', 'b: 10,20,30,40']);
    });
  },
);

describe('windowAll runs as one subtask', () => {
  it('has parallelism and max parallelism 1 whatever the default', () => {
    const env = localEnv({ 'parallelism.default': 3 });
    const op = env
      .fromElements(1, 2, 3)
      .rebalance()
      .map((x) => x)
      .windowAll(GlobalWindows.create())
      .trigger(CountTrigger.of(2))
      .reduce(sum)
      .name('All');
    op.print(); // a sink, so the operator is part of the pipeline
    const graph = buildJobGraph(env.getPipeline());
    const node = [...graph.nodes.values()].find((n) => n.name === 'All')!;
    expect([node.parallelism, node.maxParallelism]).toEqual([1, 1]);
    expect(node.inEdges.map((e) => e.partitioner)).toEqual(['hash']);
  });

  it('refuses another parallelism, naming the operator', () => {
    const op = localEnv()
      .fromElements(1)
      .windowAll(GlobalWindows.create())
      .trigger(CountTrigger.of(2))
      .reduce(sum)
      .name('Sum of pairs');
    expect(() => op.setParallelism(3)).toThrow(
      /Sum of pairs: the parallelism of a non-parallel operator must be 1; got 3/,
    );
    expect(() => op.setMaxParallelism(2)).toThrow(
      /Sum of pairs: the max parallelism of a non-parallel operator must be 1; got 2/,
    );
    expect(() => op.setParallelism(1)).not.toThrow();
    expect(() =>
      localEnv()
        .fromElements(1)
        .countWindowAll(2)
        .apply(() => {})
        .setParallelism(2),
    ).toThrow(
      /Window\(GlobalWindows\(\), PurgingTrigger\(CountTrigger\(2\)\), Apply\): the parallelism/,
    );
  });

  it('names the evictor in the operator, as Flink', () => {
    const env = localEnv();
    env.fromElements(1).countWindowAll(3, 1).reduce(sum).print();
    const names = [...buildJobGraph(env.getPipeline()).nodes.values()].map((n) => n.name);
    expect(names).toContain('Window(GlobalWindows(), CountTrigger(1), CountEvictor(3), Reduce)');
  });
});

describe('count windows check their sizes', () => {
  const keyed = () =>
    localEnv()
      .fromElements(1)
      .keyBy((x) => x);
  it.each<[string, () => unknown, RegExp]>([
    [
      'countWindow size 0',
      () => keyed().countWindow(0),
      /countWindow: size must be a positive integer; got 0/,
    ],
    [
      'countWindow negative size',
      () => keyed().countWindow(-3),
      /countWindow: size must be a positive integer; got -3/,
    ],
    [
      'countWindow slide',
      () => keyed().countWindow(3, 0),
      /countWindow: slide must be a positive integer; got 0/,
    ],
    [
      'countWindowAll size',
      () => localEnv().fromElements(1).countWindowAll(1.5),
      /countWindowAll: size must be a positive integer; got 1.5/,
    ],
    [
      'countWindowAll slide',
      () => localEnv().fromElements(1).countWindowAll(2, -1),
      /countWindowAll: slide must be a positive integer; got -1/,
    ],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  it('process() of windowAll needs a ProcessAllWindowFunction', () => {
    const stream = localEnv().fromElements(1).windowAll(GlobalWindows.create());
    expect(() => stream.process((() => {}) as never)).toThrow(/needs a ProcessAllWindowFunction/);
  });
});

describe('windowAll gathers the elements of all upstream subtasks', () => {
  it.each(['hashmap', 'level'] as const)('%s', async (backend) => {
    const run = (p: number) =>
      localEnv({ 'parallelism.default': p, 'state.backend.type': backend })
        .fromCollection(Array.from({ length: 100 }, (_, i) => i))
        .rebalance()
        .map((x) => x * 2)
        .countWindowAll(10)
        .aggregate(count)
        .executeAndCollect();
    // At parallelism 3 the windows take elements of three map subtasks in some interleaving,
    // but there is one window operator: ten windows of ten elements, as at parallelism 1.
    const ten = Array.from({ length: 10 }, () => 10);
    expect(await run(1)).toEqual(ten);
    expect(await run(3)).toEqual(ten);
  });
});

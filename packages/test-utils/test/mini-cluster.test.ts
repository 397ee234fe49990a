// Jobs run in-process on the kit's MiniCluster: explicit watermarks from the source, exact window
// results, a manual processing-time clock.
import type { Collector, KeyedOnTimerContext, KeyedProcessContext, TimeWindow } from '@nimble/api';
import {
  KeyedProcessFunction,
  OutputTag,
  ProcessWindowFunction,
  StreamExecutionEnvironment,
  Time,
  TimeDomain,
  TumblingEventTimeWindows,
} from '@nimble/api';
import type { ProcessWindowContext } from '@nimble/api';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromManualSource,
  fromTimedElements,
  ManualSource,
  MiniCluster,
  record,
  watermark,
} from '../src/index.js';

interface Click {
  readonly user: string;
  readonly n: number;
}

class Sum extends ProcessWindowFunction<Click, string, string, TimeWindow> {
  process(
    user: string,
    ctx: ProcessWindowContext<TimeWindow>,
    elements: Iterable<Click>,
    out: Collector<string>,
  ): void {
    let sum = 0;
    for (const e of elements) sum += e.n;
    out.collect(`${user} [${ctx.window().start},${ctx.window().end}) ${sum}`);
  }
}

const cluster = new MiniCluster({ parallelism: 2 });
beforeAll(() => cluster.start());
afterAll(() => cluster.close());

describe('MiniCluster', () => {
  it('runs a windowed job with explicit watermarks: exact windows and late data', async () => {
    const env = cluster.getExecutionEnvironment();
    const late = new OutputTag<Click>('late');
    const windows = fromTimedElements(env, [
      record({ user: 'a', n: 1 }, 1),
      record({ user: 'b', n: 10 }, 2),
      record({ user: 'a', n: 2 }, 9),
      watermark(9),
      record({ user: 'a', n: 4 }, 12),
      // The window [0,10) fired at watermark 10: this element is late.
      watermark(10),
      record({ user: 'a', n: 100 }, 5),
      record({ user: 'b', n: 20 }, 15),
    ])
      .keyBy((c) => c.user)
      .window(TumblingEventTimeWindows.of(Time.milliseconds(10)))
      .sideOutputLateData(late)
      .process(new Sum());
    const sums = cluster.collect(windows);
    const lateClicks = cluster.collect(windows.getSideOutput(late));
    await env.execute('window sums');
    // Two parallel window subtasks: order across keys is the subtasks' interleaving.
    expect([...sums.values].sort()).toEqual([
      'a [0,10) 3',
      // End of input: the final watermark fires the rest.
      'a [10,20) 4',
      'b [0,10) 10',
      'b [10,20) 20',
    ]);
    expect(lateClicks.values).toEqual([{ user: 'a', n: 100 }]);
  });

  it('keeps processing time on the manual clock: timers fire only when it moves', async () => {
    class Reminder extends KeyedProcessFunction<string, string, string> {
      processElement(v: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
        const now = ctx.timerService().currentProcessingTime();
        ctx.timerService().registerProcessingTimeTimer(now + 1000);
        out.collect(`${v} at ${now}`);
      }
      override onTimer(ts: number, _ctx: unknown, out: Collector<string>): void {
        out.collect(`timer ${ts}`);
      }
    }
    const env = cluster.getExecutionEnvironment();
    const out = cluster.collect(
      env
        .fromCollection(['x', 'y'])
        .keyBy((v) => v)
        .process(new Reminder()),
    );
    await env.execute('reminders');
    // The clock stays at 0 during the run: no processing-time timer is due before the end.
    expect([...out.values].sort()).toEqual(['x at 0', 'y at 0']);
    expect(cluster.clock?.now()).toBe(0);
  });

  it('moves processing time while a job runs: a ManualSource gives the test its turns', async () => {
    class Timeout extends KeyedProcessFunction<string, string, string> {
      processElement(v: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
        const now = ctx.timerService().currentProcessingTime();
        ctx.timerService().registerProcessingTimeTimer(now + 1000);
        ctx.timerService().registerEventTimeTimer(ctx.timestamp()! + 10);
        out.collect(`${v} at ${now}`);
      }
      override onTimer(ts: number, ctx: KeyedOnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()} ${ctx.timeDomain()} timer ${ts}`);
      }
    }
    const clock = cluster.clock!;
    const input = new ManualSource<string>();
    const env = cluster.getExecutionEnvironment();
    // The job's functions share the test's memory: a closure sees the output as it comes.
    const seen: string[] = [];
    const out = cluster.collect(
      fromManualSource(env, input)
        .keyBy((v) => v)
        .process(new Timeout())
        .map((s) => (seen.push(s), s)),
    );
    const until = async (what: string): Promise<void> => {
      while (!seen.includes(what)) await new Promise((r) => setImmediate(r));
    };
    const start = clock.now();
    const done = env.execute('timeouts');
    input.emit('x', 100);
    await until(`x at ${start}`);
    clock.advanceTo(start + 500);
    input.emit('y', 105);
    await until(`y at ${start + 500}`);
    // x's processing-time timer is due: it fires while the job runs.
    clock.advanceTo(start + 1000);
    await until(`x ${TimeDomain.PROCESSING_TIME} timer ${start + 1000}`);
    input.emitWatermark(110);
    await until(`x ${TimeDomain.EVENT_TIME} timer 110`);
    input.endInput();
    await done;
    // In the order the test drove it (collect's order is per subtask: x and y are on two).
    expect([...out.values].sort()).toEqual([...seen].sort());
    expect(seen).toEqual([
      `x at ${start}`,
      `y at ${start + 500}`,
      `x ${TimeDomain.PROCESSING_TIME} timer ${start + 1000}`,
      `x ${TimeDomain.EVENT_TIME} timer 110`,
      // The end of input's watermark fires the remaining event-time timer; y's processing-time
      // timer (start + 1500) is not due and is dropped.
      `y ${TimeDomain.EVENT_TIME} timer 115`,
    ]);
  });

  it('runs a job module unchanged, and getExecutionEnvironment() sees the cluster', async () => {
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (printed.push(String(chunk)), true)) as never;
    try {
      const result = await cluster.runJobModule(
        fileURLToPath(new URL('./fixtures/doubles-job.ts', import.meta.url)),
      );
      expect(result.jobName).toBe('doubles');
    } finally {
      process.stdout.write = write;
    }
    expect(printed.join('')).toBe('doubles> 2\ndoubles> 4\ndoubles> 6\n');
    // The cluster's parallelism (2) is the default of any environment's jobs.
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    let subtasks = 0;
    const tagged = env.fromCollection([1, 2, 3, 4]).map({
      open: (ctx) => void (subtasks = ctx.getNumberOfParallelSubtasks()),
      map: (x: number) => x * 10,
    });
    expect((await tagged.executeAndCollect()).sort()).toEqual([10, 20, 30, 40]);
    expect(subtasks).toBe(2);
  });
});

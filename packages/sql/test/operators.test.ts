// The stateful operators the SQL planner compiles to, run as small local jobs on both state
// backends, with watermarks the input rows control; expected outputs follow Flink's semantics.
import type {
  DataStream,
  KeyedProcessFunction,
  ProcessContext,
  WatermarkOutput,
} from '@nimble/api';
import {
  Duration,
  EventTimeSessionWindows,
  installPipelineExecutor,
  ProcessFunction,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import type { Collector } from '@nimble/api';
import { LocalExecutor } from '@nimble/runtime';
import { describe, expect, it } from 'vitest';
import { CumulativeEventTimeWindows } from '../src/operators/cumulative-windows.js';
import { GroupAggregateFunction } from '../src/operators/group-aggregate.js';
import type { OverFrame } from '../src/operators/over-aggregate.js';
import {
  procTimeOverAggregateFunction,
  rowTimeOverAggregateFunction,
} from '../src/operators/over-aggregate.js';
import {
  windowAggregateFunction,
  windowResultFunction,
} from '../src/operators/window-aggregate.js';
import { WindowTopNFunction } from '../src/operators/window-top-n.js';
import type { CompiledAggregates } from '../src/planner/aggregates.js';
import type { Change, Row } from '../src/row.js';
import { Types } from '../src/types.js';

const BACKENDS = ['hashmap', 'level'] as const;
type Backend = (typeof BACKENDS)[number];

function localEnv(backend: Backend): StreamExecutionEnvironment {
  installPipelineExecutor(new LocalExecutor({ threads: false, stdout: () => {} }));
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ 'state.backend.type': backend });
  env.setParallelism(1);
  return env;
}

/** SUM(v) and COUNT(*), by hand, so that these tests do not depend on compileAggregates. */
function sumAndCount(): CompiledAggregates {
  return {
    resultTypes: [Types.BIGINT(), Types.BIGINT(false)],
    createAccumulators: () => [0, 0],
    accumulate(accs, row) {
      accs[0] = (accs[0] as number) + (row['v'] as number);
      accs[1] = (accs[1] as number) + 1;
    },
    retract(accs, row) {
      accs[0] = (accs[0] as number) - (row['v'] as number);
      accs[1] = (accs[1] as number) - 1;
    },
    merge(target, source) {
      target[0] = (target[0] as number) + (source[0] as number);
      target[1] = (target[1] as number) + (source[1] as number);
    },
    getValues: (accs) => [accs[0], accs[1]],
    retractable: true,
  };
}

/** SUM(v) alone: adding 0 leaves the result as it is. */
function sumOnly(): CompiledAggregates {
  const inner = sumAndCount();
  return { ...inner, resultTypes: [Types.BIGINT()], getValues: (accs) => [accs[0]] };
}

/**
 * Input rows: `ts` is the rowtime; a row with `wm` makes the source emit that watermark right
 * after the row (the end of the input emits the maximum watermark).
 */
type In = Row & { k: string; v: number; ts: number; wm?: number };

function rowtimeSource<T extends In>(env: StreamExecutionEnvironment, rows: T[]): DataStream<T> {
  return env.fromCollection(rows).assignTimestampsAndWatermarks(
    WatermarkStrategy.forGenerator<T>(() => ({
      onEvent(row: T, _ts: number, out: WatermarkOutput) {
        if (row.wm !== undefined) out.emitWatermark(row.wm);
      },
      onPeriodicEmit() {},
    })).withTimestampAssigner((row) => row.ts),
  );
}

/** Appends each record's timestamp, as the next operator sees it: `text@timestamp`. */
class WithTimestamp<T> extends ProcessFunction<T, string> {
  constructor(private readonly show: (value: T) => string) {
    super();
  }
  processElement(value: T, ctx: ProcessContext, out: Collector<string>): void {
    out.collect(`${this.show(value)}@${String(ctx.timestamp())}`);
  }
}

const r = (k: string, v: number, ts: number, wm?: number): In =>
  wm === undefined ? { k, v, ts } : { k, v, ts, wm };

describe('CumulativeEventTimeWindows', () => {
  it('assigns a row to every window of its period that ends after it', () => {
    const assigner = CumulativeEventTimeWindows.of(10, 2);
    const windows = (ts: number) =>
      assigner.assignWindows({}, ts).map((w) => `[${w.start},${w.end})`);
    expect(windows(0)).toEqual(['[0,2)', '[0,4)', '[0,6)', '[0,8)', '[0,10)']);
    expect(windows(3)).toEqual(['[0,4)', '[0,6)', '[0,8)', '[0,10)']);
    expect(windows(9)).toEqual(['[0,10)']);
    expect(windows(10)).toEqual(['[10,12)', '[10,14)', '[10,16)', '[10,18)', '[10,20)']);
    expect(windows(-1)).toEqual(['[-10,0)']);
    expect(assigner.isEventTime()).toBe(true);
    expect(
      CumulativeEventTimeWindows.of(10, 5, 3)
        .assignWindows({}, 2)
        .map((w) => `[${w.start},${w.end})`),
    ).toEqual(['[-7,3)']); // offset 3: periods start at ..., -7, 3, ...
  });

  it('runs on the aligned window operator; a subclass does not', () => {
    expect(CumulativeEventTimeWindows.of(10, 2, 3).alignedWindows()).toEqual({
      kind: 'cumulative',
      maxSize: 10,
      step: 2,
      offset: 3,
    });
    // An object of another class (as a subclass's instance is) may assign windows differently.
    const other = Object.create(
      Object.create(CumulativeEventTimeWindows.prototype, {
        constructor: { value: function Other() {} },
      }),
    ) as CumulativeEventTimeWindows;
    expect(other.alignedWindows()).toBeUndefined();
  });

  it("rejects parameters as Flink's slice assigner does", () => {
    expect(() => CumulativeEventTimeWindows.of(5000, 2000)).toThrow(
      'Cumulative Window requires maxSize must be an integral multiple of step, but got maxSize 5000ms and step 2000ms.',
    );
    expect(() => CumulativeEventTimeWindows.of(5000, -1000)).toThrow(
      'Cumulative Window parameters must satisfy maxSize > 0 and step > 0, but got maxSize 5000ms and step -1000ms.',
    );
  });
});

describe.each(BACKENDS)('window aggregation (%s backend)', (backend) => {
  const build = (key: string, start: number, end: number, values: unknown[]): Row => ({
    k: key,
    window_start: start,
    window_end: end,
    window_time: end - 1,
    s: values[0],
    c: values[1],
  });
  const show = (row: Row) =>
    `${String(row['k'])} [${String(row['window_start'])},${String(row['window_end'])}) s=${String(row['s'])} c=${String(row['c'])}`;

  // On the aligned window operator (the default) and on the general one.
  it.each([true, false])(
    'emits every step of a CUMULATE window at window_end - 1; late rows count only in open windows (aligned fast path %s)',
    async (aligned) => {
      const env = localEnv(backend);
      env.configure({ 'execution.window.aligned-fast-path': aligned });
      const out = await rowtimeSource(env, [
        r('a', 1, 1),
        r('b', 10, 2),
        r('a', 2, 3, 4), // watermark 4: [0,2) and [0,4) fire
        r('a', 100, 1), // late for [0,2) and [0,4), still counts in [0,6) and [0,8)
        r('a', 4, 7),
        r('a', 8, 8, 20), // next period
      ])
        .keyBy((row) => row.k)
        .window(CumulativeEventTimeWindows.of(8, 2))
        .aggregate(windowAggregateFunction(sumAndCount()), windowResultFunction(build))
        .process(new WithTimestamp(show))
        .executeAndCollect();
      expect(out).toEqual([
        'a [0,2) s=1 c=1@1',
        'a [0,4) s=3 c=2@3',
        'b [0,4) s=10 c=1@3',
        'a [0,6) s=103 c=3@5',
        'b [0,6) s=10 c=1@5',
        'a [0,8) s=107 c=4@7',
        'b [0,8) s=10 c=1@7',
        'a [8,10) s=8 c=1@9',
        'a [8,12) s=8 c=1@11',
        'a [8,14) s=8 c=1@13',
        'a [8,16) s=8 c=1@15',
      ]);
    },
  );

  it('merges the accumulators of session windows that a row joins', async () => {
    const env = localEnv(backend);
    const out = await rowtimeSource(env, [
      r('a', 1, 0),
      r('a', 2, 15), // its own session [15, 25)
      r('a', 4, 8), // [8, 18) bridges [0, 10) and [15, 25)
      r('a', 8, 40),
      r('b', 16, 20),
    ])
      .keyBy((row) => row.k)
      .window(EventTimeSessionWindows.withGap(Duration.ofMillis(10)))
      .aggregate(windowAggregateFunction(sumAndCount()), windowResultFunction(build))
      .process(new WithTimestamp(show))
      .executeAndCollect();
    expect(out.sort()).toEqual([
      'a [0,25) s=7 c=3@24',
      'a [40,50) s=8 c=1@49',
      'b [20,30) s=16 c=1@29',
    ]);
  });
});

describe.each(BACKENDS)('window Top-N (%s backend)', (backend) => {
  type Ranked = In & { window_end: number };
  const w = (k: string, v: number, windowEnd: number, wm?: number): Ranked => ({
    ...r(k, v, windowEnd - 1, wm),
    window_end: windowEnd,
  });
  const byValueDesc = (a: Row, b: Row) => (b['v'] as number) - (a['v'] as number);

  async function topN(rows: Ranked[], fn: WindowTopNFunction<string>): Promise<string[]> {
    const env = localEnv(backend);
    return rowtimeSource(env, rows)
      .keyBy((row) => `${row.window_end}`)
      .process(fn)
      .process(
        new WithTimestamp(
          (row) =>
            `${String(row['window_end'])}:${String(row['k'])}=${String(row['v'])}#${String(row['rn'])}`,
        ),
      )
      .executeAndCollect();
  }

  it('emits the best N rows of each window with ROW_NUMBER; ties in arrival order; late rows dropped', async () => {
    const out = await topN(
      [
        w('a', 5, 10),
        w('b', 7, 10),
        w('c', 5, 10), // ties with a, arrived later
        w('d', 1, 10),
        w('e', 5, 10), // ties too: rank 4, not emitted
        w('x', 3, 20, 9), // watermark 9 fires the window ending at 10
        w('late', 100, 10), // its window has fired: dropped
        w('y', 4, 20),
      ],
      new WindowTopNFunction({
        windowEnd: (row) => row['window_end'] as number,
        compare: byValueDesc,
        rankEnd: 3,
        rankColumn: 'rn',
      }),
    );
    expect(out).toEqual(['10:b=7#1@9', '10:a=5#2@9', '10:c=5#3@9', '20:y=4#1@19', '20:x=3#2@19']);
  });

  it('emits ranks from rankStart on, without the rank column when it is not selected', async () => {
    const out = await topN(
      [w('a', 1, 10), w('b', 2, 10), w('c', 3, 10), w('d', 4, 10)],
      new WindowTopNFunction({
        windowEnd: (row) => row['window_end'] as number,
        compare: byValueDesc,
        rankStart: 2,
        rankEnd: 3,
      }),
    );
    expect(out).toEqual(['10:c=3#undefined@9', '10:b=2#undefined@9']);
  });
});

describe.each(BACKENDS)('OVER aggregation over event time (%s backend)', (backend) => {
  const output = (row: Row, values: unknown[]): Row => ({
    k: row['k'],
    v: row['v'],
    ts: row['ts'],
    s: values[0],
    c: values[1],
  });
  const show = (row: Row) =>
    `${String(row['k'])}:${String(row['v'])} s=${String(row['s'])} c=${String(row['c'])}`;

  async function over(rows: In[], frame: OverFrame): Promise<string[]> {
    const env = localEnv(backend);
    const out = await rowtimeSource(env, rows)
      .keyBy((row) => row.k)
      .process(
        rowTimeOverAggregateFunction<string>({
          aggregates: sumAndCount(),
          frame,
          rowtime: (row) => row['ts'] as number,
          output,
        }) as KeyedProcessFunction<string, In, Row>,
      )
      .process(new WithTimestamp(show))
      .executeAndCollect();
    // Keys are independent: compare each key's rows in order.
    return [...out].sort((a, b) => a.split(':')[0]!.localeCompare(b.split(':')[0]!));
  }

  it('RANGE INTERVAL PRECEDING: rows of one timestamp share a result; old rows leave the frame; late rows are dropped', async () => {
    const out = await over(
      [
        r('a', 1, 1),
        r('b', 1000, 3),
        r('a', 2, 1),
        r('a', 3, 5),
        r('a', 4, 12, 12), // watermark 12: timestamps 1, 5, 12 of a are processed
        r('a', 100, 11), // not after the last processed timestamp (12): late
        r('a', 5, 15),
        r('a', 6, 15, 30), // watermark 30: b idle since 3 has its state dropped at 19
        r('b', 2000, 40),
      ],
      { units: 'RANGE', preceding: 10 },
    );
    expect(out).toEqual([
      'a:1 s=3 c=2@1',
      'a:2 s=3 c=2@1',
      'a:3 s=6 c=3@5',
      'a:4 s=7 c=2@12', // frame [2, 12]: the rows at 1 left
      'a:5 s=18 c=4@15', // frame [5, 15]
      'a:6 s=18 c=4@15',
      'b:1000 s=1000 c=1@3',
      'b:2000 s=2000 c=1@40',
    ]);
  });

  it('ROWS n PRECEDING: each row aggregates itself and the n rows before it, in rowtime order', async () => {
    const out = await over(
      [
        r('a', 3, 3), // out of order: waits for the watermark with the others
        r('a', 1, 1),
        r('a', 2, 1),
        r('b', 10, 2),
        r('a', 4, 4, 4),
        r('a', 100, 4), // late: not after the last processed timestamp
        // Behind the watermark but after b's last processed timestamp (2): kept, as Flink's
        // bounded OVER functions judge lateness by that timestamp, per key.
        r('b', 30, 3),
        r('a', 5, 6),
        r('b', 20, 7),
      ],
      { units: 'ROWS', preceding: 1 },
    );
    expect(out).toEqual([
      'a:1 s=1 c=1@1',
      'a:2 s=3 c=2@1',
      'a:3 s=5 c=2@3',
      'a:4 s=7 c=2@4',
      'a:5 s=9 c=2@6',
      'b:10 s=10 c=1@2',
      'b:30 s=40 c=2@3',
      'b:20 s=50 c=2@7',
    ]);
  });

  it('ROWS 0 PRECEDING retracts rows of the same timestamp one by one', async () => {
    const out = await over([r('a', 1, 1), r('a', 2, 1), r('a', 3, 1), r('a', 4, 2)], {
      units: 'ROWS',
      preceding: 0,
    });
    expect(out).toEqual(['a:1 s=1 c=1@1', 'a:2 s=2 c=1@1', 'a:3 s=3 c=1@1', 'a:4 s=4 c=1@2']);
  });

  it('RANGE UNBOUNDED PRECEDING: rows of one timestamp share a result; rows behind the watermark are late', async () => {
    const out = await over(
      [r('a', 1, 1), r('a', 2, 1), r('a', 3, 2, 5), r('a', 100, 5), r('a', 4, 6)],
      { units: 'RANGE', preceding: 'UNBOUNDED' },
    );
    expect(out).toEqual(['a:1 s=3 c=2@1', 'a:2 s=3 c=2@1', 'a:3 s=6 c=3@2', 'a:4 s=10 c=4@6']);
  });

  it('ROWS UNBOUNDED PRECEDING: a running aggregate row by row', async () => {
    const out = await over([r('a', 1, 1), r('a', 2, 1), r('b', 7, 1), r('a', 3, 2)], {
      units: 'ROWS',
      preceding: 'UNBOUNDED',
    });
    expect(out).toEqual(['a:1 s=1 c=1@1', 'a:2 s=3 c=2@1', 'a:3 s=6 c=3@2', 'b:7 s=7 c=1@1']);
  });
});

describe.each(BACKENDS)('OVER aggregation over processing time (%s backend)', (backend) => {
  async function over(frame: OverFrame): Promise<string[]> {
    const env = localEnv(backend);
    return env
      .fromCollection([r('a', 1, 0), r('b', 10, 0), r('a', 2, 0), r('a', 3, 0), r('b', 20, 0)])
      .keyBy((row) => row.k)
      .process(
        procTimeOverAggregateFunction<string>({
          aggregates: sumAndCount(),
          frame,
          output: (row, values) => ({ k: row['k'], v: row['v'], s: values[0], c: values[1] }),
        }) as KeyedProcessFunction<string, In, Row>,
      )
      .map(
        (row) =>
          `${String(row['k'])}:${String(row['v'])} s=${String(row['s'])} c=${String(row['c'])}`,
      )
      .executeAndCollect();
  }

  it('ROWS n PRECEDING evaluates each row on arrival', async () => {
    expect(await over({ units: 'ROWS', preceding: 1 })).toEqual([
      'a:1 s=1 c=1',
      'b:10 s=10 c=1',
      'a:2 s=3 c=2',
      'a:3 s=5 c=2',
      'b:20 s=30 c=2',
    ]);
  });

  it('UNBOUNDED PRECEDING evaluates each row on arrival', async () => {
    expect(await over({ units: 'RANGE', preceding: 'UNBOUNDED' })).toEqual([
      'a:1 s=1 c=1',
      'b:10 s=10 c=1',
      'a:2 s=3 c=2',
      'a:3 s=6 c=3',
      'b:20 s=30 c=2',
    ]);
  });
});

describe.each(BACKENDS)('group aggregation (%s backend)', (backend) => {
  const show = (c: Change) =>
    `${c.kind}[${String(c.row['k'])}, ${c.row['s'] === undefined ? '' : String(c.row['s'])}${c.row['c'] === undefined ? '' : `, ${String(c.row['c'])}`}]`;

  it('emits +I for a new group, -U/+U for a change, nothing when the result stays the same', async () => {
    const env = localEnv(backend);
    const out = await env
      .fromCollection([r('a', 1, 0), r('b', 2, 0), r('a', 3, 0), r('a', 0, 0), r('b', 1, 0)])
      .keyBy((row) => row.k)
      .process(
        new GroupAggregateFunction<string>({
          aggregates: sumOnly(),
          output: (key, values) => ({ k: key, s: values[0] }),
        }),
      )
      .map(show)
      .executeAndCollect();
    expect(out).toEqual([
      '+I[a, 1]',
      '+I[b, 2]',
      '-U[a, 1]',
      '+U[a, 4]',
      // a + 0: SUM unchanged, nothing emitted
      '-U[b, 2]',
      '+U[b, 3]',
    ]);
  });

  it('takes a changelog: retractions update the group, the last one deletes it', async () => {
    const env = localEnv(backend);
    const c = (kind: Change['kind'], k: string, v: number): Change => ({ kind, row: { k, v } });
    const run = (generateUpdateBefore: boolean) =>
      env
        .fromCollection([
          c('-D', 'x', 9), // a retraction of an empty group: ignored
          c('+I', 'a', 1),
          c('+I', 'a', 2),
          c('-U', 'a', 1),
          c('+U', 'a', 5),
          c('-D', 'a', 2),
          c('-D', 'a', 5),
          c('+I', 'a', 4),
        ])
        .keyBy((change) => change.row['k'] as string)
        .process(
          new GroupAggregateFunction<string>({
            aggregates: sumAndCount(),
            input: 'changelog',
            generateUpdateBefore,
            output: (key, values) => ({ k: key, s: values[0], c: values[1] }),
          }),
        )
        .map(show)
        .executeAndCollect();
    expect(await run(true)).toEqual([
      '+I[a, 1, 1]',
      '-U[a, 1, 1]',
      '+U[a, 3, 2]',
      '-U[a, 3, 2]',
      '+U[a, 2, 1]',
      '-U[a, 2, 1]',
      '+U[a, 7, 2]',
      '-U[a, 7, 2]',
      '+U[a, 5, 1]',
      '-D[a, 5, 1]',
      '+I[a, 4, 1]',
    ]);
    expect(await run(false)).toEqual([
      '+I[a, 1, 1]',
      '+U[a, 3, 2]',
      '+U[a, 2, 1]',
      '+U[a, 7, 2]',
      '+U[a, 5, 1]',
      '-D[a, 5, 1]',
      '+I[a, 4, 1]',
    ]);
  });
});

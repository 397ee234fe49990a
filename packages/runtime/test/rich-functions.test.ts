// Functions with a lifecycle (Flink's RichMapFunction, RichFlatMapFunction, RichFilterFunction,
// RichReduceFunction, or any object with the method and open/close), their runtime context, the
// job parameters (ParameterTool, setGlobalJobParameters) and the error for a user function that
// returns a Promise, pinned to Flink's semantics.
import type {
  Collector,
  KeyedOnTimerContext,
  KeyedProcessContext,
  ProcessWindowContext,
  RuntimeContext,
  TimeWindow,
  ValueState,
} from '@nimble/api';
import {
  CoProcessFunction,
  decodeJobParameters,
  encodeJobParameters,
  installPipelineExecutor,
  KeyedProcessFunction,
  ParameterTool,
  ProcessFunction,
  ProcessWindowFunction,
  RichFilterFunction,
  RichFlatMapFunction,
  RichMapFunction,
  RichReduceFunction,
  Time,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../src/index.js';
import { localEnv, sortedJson } from './support/local.js';

const BACKENDS = ['hashmap', 'level'] as const;

/** The entries of `log` that start with `subtask s:`, without the prefix. */
function entriesOf(log: readonly string[], s: number): string[] {
  return log.filter((e) => e.startsWith(`${s}:`)).map((e) => e.slice(`${s}:`.length));
}

describe('rich functions: open and close', () => {
  it.each([1, 3])(
    'open runs once per parallel instance before its first element, close once after its last (p=%i)',
    async (p) => {
      const log: string[] = [];
      // The log is captured by the class, not a field: each parallel instance is its own copy.
      class Tracing extends RichMapFunction<number, number> {
        private subtask = -1;
        override open(ctx: RuntimeContext): void {
          this.subtask = ctx.getIndexOfThisSubtask();
          log.push(`${this.subtask}:open`);
        }
        map(n: number): number {
          log.push(`${this.subtask}:map ${n}`);
          return n * 10;
        }
        override close(): void {
          log.push(`${this.subtask}:close`);
        }
      }
      const env = localEnv();
      const out = await env
        .fromElements(1, 2, 3, 4, 5, 6)
        .map(new Tracing())
        .setParallelism(p)
        .executeAndCollect();
      expect(out.sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50, 60]);
      expect(log.filter((e) => e.startsWith('-1:'))).toEqual([]); // no element before open
      const mapped: number[] = [];
      for (let s = 0; s < p; s++) {
        const mine = entriesOf(log, s);
        expect(mine[0]).toBe('open');
        expect(mine.at(-1)).toBe('close');
        expect(mine.slice(1, -1).every((e) => e.startsWith('map '))).toBe(true);
        mapped.push(...mine.slice(1, -1).map((e) => Number(e.slice(4))));
      }
      expect(mapped.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(log.length).toBe(6 + 2 * p);
    },
  );

  it.each([1, 3])(
    'an object with the method and open/close works like a rich function (p=%i)',
    async (p) => {
      const log: string[] = [];
      const env = localEnv({ 'parallelism.default': p });
      const lengths = {
        prefix: '',
        open(ctx: RuntimeContext) {
          this.prefix = `${ctx.getIndexOfThisSubtask()}`;
          log.push(`${this.prefix}:open`);
        },
        flatMap(s: string, out: Collector<number>) {
          out.collect(s.length);
        },
        close() {
          log.push(`${this.prefix}:close`);
        },
      };
      const out = await env
        .fromElements('a', 'bb', 'ccc', 'dddd')
        .flatMap(lengths)
        .filter({
          filter: (n: number) => n % 2 === 0,
          open: () => void log.push('filter:open'),
          close: () => void log.push('filter:close'),
        })
        .executeAndCollect();
      expect(out.sort()).toEqual([2, 4]);
      for (let s = 0; s < p; s++) expect(entriesOf(log, s)).toEqual(['open', 'close']);
      expect(log.filter((e) => e === 'filter:open').length).toBe(p);
      expect(log.filter((e) => e === 'filter:close').length).toBe(p);
    },
  );

  it('close runs once per instance when the job fails elsewhere (cancellation)', async () => {
    const closed: number[] = [];
    let allClosed!: () => void;
    const whenAllClosed = new Promise<void>((resolve) => (allClosed = resolve));
    class Closing extends RichMapFunction<number, number> {
      override close(): void {
        closed.push(this.getRuntimeContext().getIndexOfThisSubtask());
        if (closed.length === 2) allClosed();
      }
      map(n: number): number {
        return n;
      }
    }
    const env = localEnv();
    const job = env
      .fromElements(1, 2, 3)
      .map(new Closing())
      .setParallelism(2)
      .filter((n) => {
        if (n === 3) throw new Error('boom');
        return true;
      })
      .setParallelism(1)
      .executeAndCollect();
    await expect(job).rejects.toThrow(/boom/);
    await whenAllClosed;
    expect(closed.sort()).toEqual([0, 1]);
  });

  it('an exception in close() after a normal end fails the job, naming the operator (as Flink)', async () => {
    let closes = 0;
    class FailingClose extends RichMapFunction<number, number> {
      override close(): void {
        closes++;
        throw new Error('cannot release the connection');
      }
      map(n: number): number {
        return n;
      }
    }
    const job = localEnv()
      .fromElements(1, 2)
      .map(new FailingClose())
      .name('Lookup')
      .executeAndCollect();
    await expect(job).rejects.toThrow(/Lookup \(1\/1\): close\(\).*cannot release the connection/s);
    expect(closes).toBe(1);
  });

  it('map(), flatMap(), filter() and reduce() refuse what is neither a function nor an object with the method', () => {
    const env = localEnv();
    const s = env.fromElements(1);
    expect(() => s.map({} as never)).toThrow(
      'map() needs a function or an object with a map method (e.g. a RichMapFunction); got an object without it',
    );
    expect(() => s.flatMap(new (class Wrong {})() as never)).toThrow(
      /flatMap\(\) needs .* RichFlatMapFunction\); got an instance of Wrong without it/,
    );
    expect(() => s.filter(undefined as never)).toThrow(/filter\(\) needs .*; got undefined/);
    expect(() => s.keyBy((n) => n).reduce(null as never)).toThrow(/reduce\(\) needs .*; got null/);
  });
});

describe('the runtime context', () => {
  it('gives subtask, parallelism, max parallelism, attempt and task names (Flink getTaskNameWithSubtasks)', async () => {
    const seen: string[] = [];
    class Describe extends RichMapFunction<number, number> {
      override open(ctx: RuntimeContext): void {
        const rc = this.getRuntimeContext();
        expect(rc).toBe(ctx);
        seen.push(
          [
            rc.getIndexOfThisSubtask(),
            rc.getNumberOfParallelSubtasks(),
            rc.getMaxNumberOfParallelSubtasks(),
            rc.getAttemptNumber(),
            rc.getTaskName(),
            rc.getTaskNameWithSubtasks(),
          ].join(' | '),
        );
      }
      map(n: number): number {
        return n;
      }
    }
    const env = localEnv();
    env.setMaxParallelism(64);
    await env
      .fromElements(1, 2, 3)
      .map(new Describe())
      .name('Enrich')
      .setParallelism(3)
      .map((n) => n)
      .name('Format')
      .setParallelism(3)
      .executeAndCollect();
    expect(seen.sort()).toEqual([
      '0 | 3 | 64 | 0 | Enrich -> Format | Enrich -> Format (1/3)#0',
      '1 | 3 | 64 | 0 | Enrich -> Format | Enrich -> Format (2/3)#0',
      '2 | 3 | 64 | 0 | Enrich -> Format | Enrich -> Format (3/3)#0',
    ]);
  });

  it('getRuntimeContext() before open() says when it becomes available', () => {
    class Early extends RichMapFunction<number, number> {
      map(n: number): number {
        return n;
      }
    }
    expect(() => new Early().getRuntimeContext()).toThrow(
      'Early: the runtime context is available from open() on',
    );
  });

  describe.each(BACKENDS)('keyed state on a keyed stream (%s)', (backend) => {
    type Sale = [shop: string, amount: number];
    const sales: Sale[] = [
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['c', 10],
      ['b', 4],
      ['a', 5],
    ];

    /** A running total per shop in keyed state, with the shop's count as a second state. */
    class RunningTotal extends RichMapFunction<Sale, string> {
      private total!: ValueState<number>;
      private count!: ValueState<number>;
      override open(ctx: RuntimeContext): void {
        this.total = ctx.getState(new ValueStateDescriptor<number>('total'));
        this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count'));
      }
      map([shop, amount]: Sale): string {
        const total = (this.total.value() ?? 0) + amount;
        const count = (this.count.value() ?? 0) + 1;
        this.total.update(total);
        this.count.update(count);
        return `${shop} #${count} total=${total}`;
      }
    }

    it.each([1, 3])('a rich map keeps per-key state (p=%i)', async (p) => {
      const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
      const out = await env
        .fromCollection(sales)
        .keyBy((s) => s[0])
        .map(new RunningTotal())
        .executeAndCollect();
      expect(out.sort()).toEqual(
        [
          'a #1 total=1',
          'b #1 total=2',
          'a #2 total=4',
          'c #1 total=10',
          'b #2 total=6',
          'a #3 total=9',
        ].sort(),
      );
    });

    it.each([1, 3])(
      'rich reduce functions on a keyed stream and in a window get their lifecycle and state (p=%i)',
      async (p) => {
        const log: string[] = [];
        /** Sums, and counts its calls per key in keyed state (the key's state across windows). */
        class CountingSum extends RichReduceFunction<Sale> {
          private calls!: ValueState<number>;
          constructor(private readonly what: string) {
            super();
          }
          override open(ctx: RuntimeContext): void {
            this.calls = ctx.getState(new ValueStateDescriptor<number>(`${this.what}-calls`));
            log.push(`${this.what} open`);
          }
          reduce(a: Sale, b: Sale): Sale {
            const calls = (this.calls.value() ?? 0) + 1;
            this.calls.update(calls);
            log.push(`${this.what} ${a[0]} call ${calls}`);
            return [a[0], a[1] + b[1]];
          }
          override close(): void {
            log.push(`${this.what} close`);
          }
        }
        const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
        const keyed = env
          .fromCollection(sales.map((s, i) => ({ s, ts: i * 10 })))
          .assignTimestampsAndWatermarks(
            WatermarkStrategy.forMonotonousTimestamps<{
              s: Sale;
              ts: number;
            }>().withTimestampAssigner((e) => e.ts),
          )
          .map((e) => e.s)
          .keyBy((s) => s[0]);
        const rolling = keyed
          .reduce(new CountingSum('rolling'))
          .map((s) => `rolling ${s.join('=')}`);
        const windowed = keyed
          .window(TumblingEventTimeWindows.of(Time.milliseconds(1000)))
          .reduce(new CountingSum('window'))
          .map((s) => `window ${s.join('=')}`);
        const out = await rolling.union(windowed).executeAndCollect();
        expect(out.sort()).toEqual(
          [
            'rolling a=1',
            'rolling b=2',
            'rolling a=4',
            'rolling c=10',
            'rolling b=6',
            'rolling a=9',
            'window a=9',
            'window b=6',
            'window c=10',
          ].sort(),
        );
        // The key's own count: keyed state of the key current when the reduce runs.
        expect(log.filter((e) => e.includes(' call ')).sort()).toEqual([
          'rolling a call 1',
          'rolling a call 2',
          'rolling b call 1',
          'window a call 1',
          'window a call 2',
          'window b call 1',
        ]);
        expect(log.filter((e) => e === 'rolling open').length).toBe(p);
        expect(log.filter((e) => e === 'window open').length).toBe(p);
        expect(log.filter((e) => e === 'rolling close').length).toBe(p);
        expect(log.filter((e) => e === 'window close').length).toBe(p);
      },
    );
  });
});

describe('ParameterTool (Flink semantics)', () => {
  it('fromArgs: keys with -- or -, values, keys without value, negative numbers', () => {
    const params = ParameterTool.fromArgs([
      '--input',
      '/data/in',
      '-rate',
      '5',
      '--verbose',
      '--offset',
      '-3.5',
      '-e',
      '1e3',
      '--last',
    ]);
    expect(params.toMap()).toEqual({
      input: '/data/in',
      rate: '5',
      verbose: '__NO_VALUE_KEY',
      offset: '-3.5',
      e: '1e3',
      last: '__NO_VALUE_KEY',
    });
    expect(params.getNumberOfParameters()).toBe(6);
    expect(params.has('verbose')).toBe(true);
    expect(params.has('output')).toBe(false);
    expect(params.get('input')).toBe('/data/in');
    expect(params.get('output')).toBeUndefined();
    expect(params.get('output', '/tmp/out')).toBe('/tmp/out');
    expect(params.getRequired('input')).toBe('/data/in');
    expect(params.getInt('rate')).toBe(5);
    expect(params.getInt('missing', 7)).toBe(7);
    expect(params.getNumber('offset')).toBe(-3.5);
    expect(params.getNumber('e')).toBe(1000);
    expect(params.getBoolean('verbose', true)).toBe(false); // Boolean.valueOf('__NO_VALUE_KEY')
    expect(params.getBoolean('missing', true)).toBe(true);
  });

  it('fromArgs refuses what Flink refuses, with its messages', () => {
    expect(() => ParameterTool.fromArgs(['a'])).toThrow(
      "Error parsing arguments '[a]' on 'a'. Please prefix keys with -- or -.",
    );
    expect(() => ParameterTool.fromArgs(['--a', '1', 'b'])).toThrow(
      "Error parsing arguments '[--a, 1, b]' on 'b'. Please prefix keys with -- or -.",
    );
    expect(() => ParameterTool.fromArgs(['--'])).toThrow(
      'The input [--] contains an empty argument',
    );
  });

  it('fromArgs(process.argv) skips the node binary and the script', () => {
    const saved = process.argv;
    try {
      process.argv = ['/usr/bin/node', '/jobs/job.ts', '--topic', 'orders', '-p', '4'];
      expect(ParameterTool.fromArgs(process.argv).toMap()).toEqual({ topic: 'orders', p: '4' });
      // A copy is taken as given: only process.argv itself is known to carry the two.
      expect(() => ParameterTool.fromArgs([...process.argv])).toThrow(/Please prefix keys/);
    } finally {
      process.argv = saved;
    }
  });

  it('getRequired, getInt and getNumber say what is wrong', () => {
    const params = ParameterTool.fromMap({ n: '1.5', word: 'abc', big: '12345678901234567890' });
    expect(() => params.getRequired('x')).toThrow("No data for required key 'x'");
    expect(() => params.getInt('x')).toThrow("No data for required key 'x'");
    expect(() => params.getInt('n')).toThrow("The value of parameter 'n' is not an integer: '1.5'");
    expect(() => params.getInt('big')).toThrow(/not an integer/);
    expect(() => params.getNumber('word', 3)).toThrow(
      "The value of parameter 'word' is not a number: 'abc'",
    );
    expect(params.getNumber('n')).toBe(1.5);
  });

  it('fromMap takes a record or a Map; mergeWith lets the other win; toMap is frozen', () => {
    const a = ParameterTool.fromMap(
      new Map([
        ['x', '1'],
        ['y', '2'],
      ]),
    );
    const b = ParameterTool.fromMap({ y: '3', z: '4' });
    const merged = a.mergeWith(b);
    expect(merged.toMap()).toEqual({ x: '1', y: '3', z: '4' });
    expect(Object.isFrozen(merged.toMap())).toBe(true);
    expect(() => ParameterTool.fromMap({ n: 5 as unknown as string })).toThrow(
      'ParameterTool.fromMap: the value of "n" is number; values must be strings',
    );
  });

  it("job parameters travel as Flink's map format, quoted where needed", () => {
    const params = {
      plain: 'value',
      url: 'http://host:8080/a,b',
      "it's": 'a "quote"',
      'a:b': 'c',
      empty: '',
      ' spaced ': ' x ',
    };
    const text = encodeJobParameters(params);
    expect(text).toBe(
      "plain:value,'url:''http://host:8080/a,b''','''it''''s'':''a \"quote\"''','''a:b'':c','empty:''''',''' spaced '':'' x '''",
    );
    expect({ ...decodeJobParameters(text) }).toEqual(params);
    // As a user writes it with -D, spaces around entries allowed.
    expect({ ...decodeJobParameters('input:/data, rate:5') }).toEqual({
      input: '/data',
      rate: '5',
    });
    expect({ ...decodeJobParameters('') }).toEqual({});
    const proto = decodeJobParameters('__proto__:x');
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(() => decodeJobParameters('input')).toThrow(
      /must be key:value pairs separated by commas/,
    );
    expect(() => decodeJobParameters("'a:b")).toThrow(/a quote opened in "'a:b" is not closed/);
    expect(() => decodeJobParameters("a:'b")).toThrow(/a quote inside the unquoted part "a:'b"/);
  });
});

describe('job parameters at runtime', () => {
  /** Reads the job parameters in open(), both ways Flink offers. */
  class Parameterized extends RichMapFunction<number, string> {
    private line = '';
    override open(ctx: RuntimeContext): void {
      const map = ctx.getGlobalJobParameters();
      const tool = ctx.getExecutionConfig().getGlobalJobParameters();
      this.line = `${map['prefix']}${tool.getInt('times')}`;
      expect(Object.isFrozen(map)).toBe(true);
    }
    map(n: number): string {
      return `${this.line}:${n}`;
    }
  }

  it.each([1, 2])(
    'setGlobalJobParameters reaches every instance (getGlobalJobParameters, getExecutionConfig) (p=%i)',
    async (p) => {
      const env = localEnv({ 'parallelism.default': p });
      env
        .getConfig()
        .setGlobalJobParameters(ParameterTool.fromArgs(['--prefix', 'x', '--times', '3']));
      expect(env.getConfig().getGlobalJobParameters().toMap()).toEqual({ prefix: 'x', times: '3' });
      const out = await env.fromElements(1, 2).map(new Parameterized()).executeAndCollect();
      expect(out.sort()).toEqual(['x3:1', 'x3:2']);
    },
  );

  it('pipeline.global-job-parameters in the configuration (-D) sets them too; a bad value names the key', async () => {
    const env = localEnv({ 'pipeline.global-job-parameters': 'prefix:y,times:4' });
    expect(await env.fromElements(1).map(new Parameterized()).executeAndCollect()).toEqual([
      'y4:1',
    ]);
    const none = localEnv();
    const keys = {
      keys: '',
      open(ctx: RuntimeContext) {
        this.keys = JSON.stringify(ctx.getGlobalJobParameters());
      },
      map(): string {
        return this.keys;
      },
    };
    const seen = await none.fromElements(1).map(keys).executeAndCollect();
    expect(seen).toEqual(['{}']);
    const bad = localEnv({ 'pipeline.global-job-parameters': 'no-colon' });
    bad.fromElements(1).print();
    await expect(bad.execute()).rejects.toThrow(
      /Bad value "no-colon" for configuration key "pipeline.global-job-parameters": must be key:value pairs/,
    );
  });

  it('on worker threads, functions see the parameters the job was submitted with', async () => {
    const jobModule = fileURLToPath(new URL('./fixtures/job-parameters-job.ts', import.meta.url));
    const run = async (tag: string, configuration?: Record<string, string>) => {
      installPipelineExecutor(new LocalExecutor({ threads: true, jobModule, configuration }));
      const mod = (await import(`${jobModule}?run=${tag}`)) as { result: string[] };
      return mod.result.sort();
    };
    // Each worker's module registers built-by=worker; the instances run on workers and see the
    // parameters of the main thread, which submitted the job.
    expect(await run('plain')).toEqual([
      '1 built-by=main extra=- on worker',
      '2 built-by=main extra=- on worker',
      '3 built-by=main extra=- on worker',
      '4 built-by=main extra=- on worker',
    ]);
    // Configuration given to the executor (as -D to `nimble run`) replaces the job's own.
    expect(
      await run('override', { 'pipeline.global-job-parameters': 'built-by:flag,extra:x' }),
    ).toEqual([
      '1 built-by=flag extra=x on worker',
      '2 built-by=flag extra=x on worker',
      '3 built-by=flag extra=x on worker',
      '4 built-by=flag extra=x on worker',
    ]);
  });
});

describe('a user function that returns a Promise fails the job, naming the operator and AsyncDataStream', () => {
  type Job = (env: ReturnType<typeof localEnv>) => Promise<unknown>;
  const at = <T>(env: ReturnType<typeof localEnv>, ...values: T[]) =>
    env
      .fromCollection(values.map((v, i) => ({ v, ts: i })))
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<{ v: T; ts: number }>().withTimestampAssigner(
          (e) => e.ts,
        ),
      )
      .map((e) => e.v);
  const window = (env: ReturnType<typeof localEnv>) =>
    at(env, 1, 2)
      .keyBy(() => 'k')
      .window(TumblingEventTimeWindows.of(Time.seconds(1)));

  const cases: [string, string, Job][] = [
    [
      'map',
      'Map (1/1): map()',
      (env) =>
        env
          .fromElements(1)
          .map(async (n) => n)
          .executeAndCollect(),
    ],
    [
      'map that rejects later (no unhandled rejection)',
      'Map (1/1): map()',
      (env) =>
        env
          .fromElements(1)
          .map(async () => {
            throw new Error('rejected');
          })
          .executeAndCollect(),
    ],
    [
      'RichMapFunction',
      'Map (1/1): map()',
      (env) =>
        env
          .fromElements(1)
          .map(
            new (class extends RichMapFunction<number, number> {
              // @ts-expect-error the types refuse an async map of a RichMapFunction<_, number> too
              async map(n: number): Promise<number> {
                return n;
              }
            })(),
          )
          .executeAndCollect(),
    ],
    [
      'flatMap',
      'Flat Map (1/1): flatMap()',
      (env) =>
        env
          .fromElements(1)
          // @ts-expect-error the types refuse it too, but JavaScript jobs and `any` do not
          .flatMap(async (n: number, out: Collector<number>) => out.collect(n))
          .executeAndCollect(),
    ],
    [
      'RichFlatMapFunction',
      'Flat Map (1/1): flatMap()',
      (env) =>
        env
          .fromElements(1)
          .flatMap(
            new (class extends RichFlatMapFunction<number, number> {
              // @ts-expect-error the types refuse it too
              async flatMap(): Promise<void> {}
            })() as never,
          )
          .executeAndCollect(),
    ],
    [
      'filter',
      'Filter (1/1): filter()',
      (env) =>
        env
          .fromElements(1)
          .filter((async () => false) as unknown as (n: number) => boolean)
          .executeAndCollect(),
    ],
    [
      'RichFilterFunction',
      'Filter (1/1): filter()',
      (env) =>
        env
          .fromElements(1)
          .filter(
            new (class extends RichFilterFunction<number> {
              // @ts-expect-error the types refuse it too
              async filter(): Promise<boolean> {
                return true;
              }
            })() as never,
          )
          .executeAndCollect(),
    ],
    [
      'ProcessFunction.processElement',
      'Process (1/1): processElement()',
      (env) =>
        env
          .fromElements(1)
          .process(
            new (class extends ProcessFunction<number, number> {
              async processElement(): Promise<void> {}
            })(),
          )
          .executeAndCollect(),
    ],
    [
      'KeyedProcessFunction.processElement',
      'KeyedProcess (1/1): processElement()',
      (env) =>
        env
          .fromElements(1)
          .keyBy((n) => n)
          .process(
            new (class extends KeyedProcessFunction<number, number, number> {
              async processElement(): Promise<void> {}
            })(),
          )
          .executeAndCollect(),
    ],
    [
      'KeyedProcessFunction.onTimer',
      'KeyedProcess (1/1): onTimer()',
      (env) =>
        at(env, 1)
          .keyBy((n) => n)
          .process(
            new (class extends KeyedProcessFunction<number, number, number> {
              processElement(_n: number, ctx: KeyedProcessContext<number>): void {
                ctx.timerService().registerEventTimeTimer(100);
              }
              override async onTimer(
                _t: number,
                _c: KeyedOnTimerContext<number>,
                out: Collector<number>,
              ): Promise<void> {
                out.collect(1);
              }
            })(),
          )
          .executeAndCollect(),
    ],
    [
      'CoMapFunction',
      'Co-Map (1/1): map2()',
      (env) =>
        env
          .fromElements(1)
          .connect(env.fromElements('x'))
          .map({ map1: (n: number) => n, map2: async () => 0 } as never)
          .executeAndCollect(),
    ],
    [
      'CoFlatMapFunction',
      'Co-Flat Map (1/1): flatMap1()',
      (env) =>
        env
          .fromElements(1)
          .connect(env.fromElements('x'))
          .flatMap({ flatMap1: async () => {}, flatMap2: () => {} } as never)
          .executeAndCollect(),
    ],
    [
      'CoProcessFunction',
      'Co-Process (1/1): processElement1()',
      (env) =>
        env
          .fromElements(1)
          .connect(env.fromElements('x'))
          .process(
            new (class extends CoProcessFunction<number, string, number> {
              async processElement1(): Promise<void> {}
              processElement2(): void {}
            })(),
          )
          .executeAndCollect(),
    ],
    [
      'rolling reduce',
      'Keyed Reduce (1/1): reduce()',
      (env) =>
        env
          .fromElements(1, 2)
          .keyBy(() => 'k')
          .reduce(
            (async (a: number, b: number) => a + b) as unknown as (a: number, b: number) => number,
          )
          .executeAndCollect(),
    ],
    [
      'window reduce',
      'Reduce) (1/1): reduce()',
      (env) =>
        window(env)
          .reduce(
            (async (a: number, b: number) => a + b) as unknown as (a: number, b: number) => number,
          )
          .executeAndCollect(),
    ],
    [
      'window aggregate',
      'Aggregate) (1/1): add()',
      (env) =>
        window(env)
          .aggregate({
            createAccumulator: () => 0,
            add: (async (v: number, acc: number) => acc + v) as unknown as (
              v: number,
              a: number,
            ) => number,
            getResult: (acc: number) => acc,
            merge: (a: number, b: number) => a + b,
          })
          .executeAndCollect(),
    ],
    [
      'ProcessWindowFunction',
      'Process) (1/1): process()',
      (env) =>
        window(env)
          .process(
            new (class extends ProcessWindowFunction<number, number, string, TimeWindow> {
              async process(
                _k: string,
                _c: ProcessWindowContext<TimeWindow>,
                elements: Iterable<number>,
                out: Collector<number>,
              ): Promise<void> {
                for (const e of elements) out.collect(e);
              }
            })(),
          )
          .executeAndCollect(),
    ],
    [
      'WindowFunction (apply)',
      'Apply) (1/1): apply()',
      (env) =>
        window(env)
          .apply(async () => {})
          .executeAndCollect(),
    ],
    [
      'open() of a window function',
      'Reduce) (1/1): open()',
      (env) =>
        window(env)
          .reduce({ open: async () => {}, reduce: (a: number, b: number) => a + b } as never)
          .executeAndCollect(),
    ],
    [
      'open()',
      'Map (1/1): open()',
      (env) =>
        env
          .fromElements(1)
          .map({ open: async () => {}, map: (n: number) => n } as never)
          .executeAndCollect(),
    ],
  ];

  it.each(cases)('%s', async (_what, prefix, job) => {
    const error = await job(localEnv()).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error & { domain?: string; name: string } },
    );
    expect(error, 'the job must fail').toBeDefined();
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(error!.message).toMatch(
      new RegExp(
        `${escaped} returned a Promise: user functions are called synchronously, one element at a time, .*` +
          'Make asynchronous calls with AsyncDataStream\\.orderedWait\\(\\) or AsyncDataStream\\.unorderedWait\\(\\)',
      ),
    );
    expect(error!.cause?.name).toBe('UserCodeError');
    expect(error!.cause?.domain).toBe('user');
  });

  it('a function that returns a plain object with no then method is not mistaken for one', async () => {
    const env = localEnv();
    const out = await env
      .fromElements(1, 2)
      .map((n) => ({ n, then: n === 1 ? 'not a function' : undefined }))
      .executeAndCollect();
    expect(sortedJson(out)).toEqual(sortedJson([{ n: 1, then: 'not a function' }, { n: 2 }]));
  });
});

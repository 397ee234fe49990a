// CheckpointedFunction (Flink's StreamingFunctionUtils semantics): initializeState once per
// parallel instance before open, snapshotState in a checkpoint's synchronous phase before the
// operator state is captured, on every operator whose user function implements it; operator list
// state redistributed on rescaling (split: each element once; union: all elements everywhere).
// The cluster half (failures, savepoints and rescaling with real daemons) is
// test/checkpointed-function-failover.test.ts.
import type {
  ResultFuture,
  CheckpointedFunction,
  Collector,
  FunctionInitializationContext,
  FunctionSnapshotContext,
  Key,
  KeyedProcessContext,
  ListState,
  ProcessContext,
  ProcessWindowContext,
  RuntimeContext,
  TimeWindow,
  ValueState,
} from '@nimble/api';
import {
  AsyncRetryStrategies,
  BroadcastProcessFunction,
  CoProcessFunction,
  KeyedBroadcastProcessFunction,
  ProcessJoinFunction,
  KeyedProcessFunction,
  ListStateDescriptor,
  ProcessFunction,
  ProcessWindowFunction,
  RichFlatMapFunction,
  RichMapFunction,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
} from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { encodeOpaque } from '../src/checkpoint/metadata.js';
import type { CheckpointMetadata } from '../src/checkpoint/metadata.js';
import { restoredOperatorState } from '../src/checkpoint/task-state.js';
import {
  FilterOperator,
  FlatMapOperator,
  KeyedReduceOperator,
  MapOperator,
  ProcessOperator,
} from '../src/operators/basic-operators.js';
import {
  CoFlatMapOperator,
  CoMapOperator,
  CoProcessOperator,
} from '../src/operators/co-operators.js';
import type { AbstractStreamOperator } from '../src/operators/operator.js';
import { AsyncWaitOperator } from '../src/operators/async-wait-operator.js';
import {
  CoBroadcastWithKeyedOperator,
  CoBroadcastWithNonKeyedOperator,
} from '../src/operators/broadcast-operators.js';
import { IntervalJoinOperator } from '../src/operators/interval-join-operator.js';
import { createWindowOperator } from '../src/operators/window/window-operator.js';
import type { RestoredOperatorStates } from '../src/state/operator-state-store.js';
import { localEnv } from './support/local.js';
import type { OperatorHarnessOptions } from './support/operator-harness.js';
import { OperatorHarness } from './support/operator-harness.js';
import { ms, spec } from './support/window-spec.js';

const BACKENDS = ['hashmap', 'level'] as const;

/**
 * Makes `fn` a CheckpointedFunction that logs its calls: it counts the elements it saw in
 * operator list state ("seen", split) and keeps every instance's name in union list state
 * ("instances"). `count()` is what the operator calls per element.
 */
function checkpointed<F extends object>(fn: F, log: string[]) {
  let seen!: ListState<number>;
  let instances!: ListState<string>;
  let count = 0;
  const hooks: CheckpointedFunction & { count(): void } = {
    initializeState(ctx: FunctionInitializationContext) {
      const store = ctx.getOperatorStateStore();
      seen = store.getListState(new ListStateDescriptor<number>('seen'));
      instances = store.getUnionListState(new ListStateDescriptor<string>('instances'));
      count = [...seen.get()].reduce((a, b) => a + b, 0);
      log.push(
        `initializeState restored=${ctx.isRestored()} from=${ctx.getRestoredCheckpointId()} ` +
          `seen=${count} instances=${[...instances.get()].join(',')}`,
      );
    },
    snapshotState(ctx: FunctionSnapshotContext) {
      log.push(`snapshotState ${ctx.getCheckpointId()} at ${ctx.getCheckpointTimestamp()}`);
      seen.update([count]);
      instances.update(['me']);
    },
    count() {
      count++;
    },
  };
  return Object.assign(fn, hooks);
}

/** One operator kind: how to build it around a checkpointed function, and feed it one element. */
interface Kind {
  readonly name: string;
  readonly keyed: boolean;
  /** A keyed two-input operator whose second input is keyed too. */
  readonly keyed2?: boolean;
  build(log: string[]): AbstractStreamOperator<unknown>;
  feed(h: OperatorHarness<unknown, unknown>): void;
}

const one = (h: OperatorHarness<unknown, unknown>) => h.processElement(['k', 1], 1);
const both = (h: OperatorHarness<unknown, unknown>) => {
  h.processElement1(['k', 1], 1);
  h.processElement2(['k', 2], 2);
};
type Rec = [string, number];

const KINDS: Kind[] = [
  {
    name: 'map',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        {
          open: () => void log.push('open'),
          close: () => void log.push('close'),
          map: (r: Rec) => (fn.count(), r),
        },
        log,
      );
      return new MapOperator(fn);
    },
    feed: one,
  },
  {
    name: 'RichMapFunction on a keyed stream',
    keyed: true,
    build: (log) => {
      class Counting extends RichMapFunction<Rec, Rec> {
        override open(): void {
          log.push('open');
        }
        map(r: Rec): Rec {
          fn.count();
          return r;
        }
      }
      const fn = checkpointed(new Counting(), log);
      return new MapOperator(fn);
    },
    feed: one,
  },
  {
    name: 'flatMap',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        { flatMap: (r: Rec, out: Collector<Rec>) => (fn.count(), out.collect(r)) },
        log,
      );
      return new FlatMapOperator(fn);
    },
    feed: one,
  },
  {
    name: 'filter',
    keyed: false,
    build: (log) => {
      const fn = checkpointed({ filter: () => (fn.count(), true) }, log);
      return new FilterOperator(fn);
    },
    feed: one,
  },
  {
    name: 'ProcessFunction',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        new (class extends ProcessFunction<Rec, Rec> {
          processElement(r: Rec, _c: ProcessContext, out: Collector<Rec>): void {
            fn.count();
            out.collect(r);
          }
        })(),
        log,
      );
      return new ProcessOperator(fn, false);
    },
    feed: one,
  },
  {
    name: 'KeyedProcessFunction',
    keyed: true,
    build: (log) => {
      const fn = checkpointed(
        new (class extends KeyedProcessFunction<string, Rec, Rec> {
          processElement(r: Rec, _c: KeyedProcessContext<string>, out: Collector<Rec>): void {
            fn.count();
            out.collect(r);
          }
        })(),
        log,
      );
      return new ProcessOperator(fn, true);
    },
    feed: one,
  },
  {
    name: 'rolling reduce',
    keyed: true,
    build: (log) => {
      const fn = checkpointed(
        { reduce: (a: Rec, b: Rec): Rec => (fn.count(), [a[0], a[1] + b[1]]) },
        log,
      );
      return new KeyedReduceOperator(fn);
    },
    // A rolling reduce calls its function from the second element of a key on.
    feed: (h) => {
      h.processElement(['k', 1], 1);
      h.processElement(['k', 1], 1);
    },
  },
  {
    name: 'window: ProcessWindowFunction',
    keyed: true,
    build: (log) => {
      const fn = checkpointed(
        new (class extends ProcessWindowFunction<Rec, Rec, string, TimeWindow> {
          process(
            _k: string,
            _c: ProcessWindowContext<TimeWindow>,
            elements: Iterable<Rec>,
            out: Collector<Rec>,
          ): void {
            for (const e of elements) {
              fn.count();
              out.collect(e);
            }
          }
        })(),
        log,
      );
      return createWindowOperator(
        spec(TumblingEventTimeWindows.of(ms(10)), {
          kind: 'process',
          window: { kind: 'process', fn },
        }),
      );
    },
    feed: (h) => {
      h.processElement(['k', 1], 1);
      h.processWatermark(100);
    },
  },
  {
    name: 'window: reduce function object',
    keyed: true,
    build: (log) => {
      const fn = checkpointed(
        { reduce: (a: Rec, b: Rec): Rec => (fn.count(), [a[0], a[1] + b[1]]) },
        log,
      );
      return createWindowOperator(
        spec(TumblingEventTimeWindows.of(ms(10)), { kind: 'reduce', reduce: fn }),
      );
    },
    feed: (h) => {
      h.processElement(['k', 1], 1);
      h.processElement(['k', 1], 2);
      h.processWatermark(100);
    },
  },
  {
    name: 'CoMapFunction',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        { map1: (r: Rec) => (fn.count(), r), map2: (r: Rec) => (fn.count(), r) },
        log,
      );
      return new CoMapOperator(fn);
    },
    feed: both,
  },
  {
    name: 'CoFlatMapFunction',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        { flatMap1: () => void fn.count(), flatMap2: () => void fn.count() },
        log,
      );
      return new CoFlatMapOperator(fn);
    },
    feed: both,
  },
  {
    name: 'CoProcessFunction',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        new (class extends CoProcessFunction<Rec, Rec, Rec> {
          processElement1(): void {
            fn.count();
          }
          processElement2(): void {
            fn.count();
          }
        })(),
        log,
      );
      return new CoProcessOperator(fn, false);
    },
    feed: both,
  },
  {
    name: 'BroadcastProcessFunction',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        new (class extends BroadcastProcessFunction<Rec, Rec, Rec> {
          processElement(): void {
            fn.count();
          }
          processBroadcastElement(): void {
            fn.count();
          }
        })(),
        log,
      );
      return new CoBroadcastWithNonKeyedOperator(fn, []);
    },
    feed: both,
  },
  {
    name: 'KeyedBroadcastProcessFunction',
    keyed: true,
    build: (log) => {
      const fn = checkpointed(
        new (class extends KeyedBroadcastProcessFunction<string, Rec, Rec, Rec> {
          processElement(): void {
            fn.count();
          }
          processBroadcastElement(): void {
            fn.count();
          }
        })(),
        log,
      );
      return new CoBroadcastWithKeyedOperator(fn, []);
    },
    feed: both,
  },
  {
    name: 'ProcessJoinFunction (interval join)',
    keyed: true,
    keyed2: true,
    build: (log) => {
      const fn = checkpointed(
        new (class extends ProcessJoinFunction<Rec, Rec, Rec> {
          processElement(): void {
            fn.count();
          }
        })(),
        log,
      );
      return new IntervalJoinOperator({
        kind: 'intervalJoin',
        lowerBound: -5,
        upperBound: 5,
        lowerBoundInclusive: true,
        upperBoundInclusive: true,
        leftLateDataTag: undefined,
        rightLateDataTag: undefined,
        fn,
      });
    },
    feed: both,
  },
  {
    name: 'AsyncFunction',
    keyed: false,
    build: (log) => {
      const fn = checkpointed(
        {
          asyncInvoke(input: Rec, result: ResultFuture<Rec>): void {
            fn.count();
            result.complete([input]);
          },
        },
        log,
      );
      return new AsyncWaitOperator({
        fn,
        timeoutMillis: 0,
        capacity: 10,
        outputMode: 'ordered',
        retryStrategy: AsyncRetryStrategies.NO_RETRY_STRATEGY,
      });
    },
    feed: one,
  },
];

describe('CheckpointedFunction on every operator kind', () => {
  it.each(KINDS.map((k) => [k.name, k] as const))(
    '%s: initializeState before open, snapshotState before the state is captured, restore',
    async (_name, kind) => {
      const key = (r: unknown) => (r as Rec)[0] as Key;
      const options: OperatorHarnessOptions<unknown> = kind.keyed
        ? {
            backend: 'hashmap',
            keySelector: key,
            keySelector2: kind.keyed2 ? key : undefined,
            name: 'Op',
          }
        : { name: 'Op' };
      const log: string[] = [];
      const first = await OperatorHarness.open(kind.build(log), options);
      kind.feed(first);
      const snapshot = await first.snapshotOperatorState(7, 1234);
      await first.close();
      const fresh = 'initializeState restored=false from=undefined seen=0 instances=';
      const opened = log.includes('open') ? [fresh, 'open'] : [fresh];
      expect(log.slice(0, opened.length)).toEqual(opened);
      expect(log).toContain('snapshotState 7 at 1234');
      // The function wrote its count while the snapshot ran, before the state was captured.
      const seen = snapshot.get('seen');
      expect(seen?.mode).toBe('split');
      expect(seen?.values[0]).toBeGreaterThan(0);
      expect(snapshot.get('instances')).toEqual({ mode: 'union', values: ['me'] });

      const restoredLog: string[] = [];
      const second = await OperatorHarness.open(kind.build(restoredLog), {
        ...options,
        restoredState: snapshot,
        restoredCheckpointId: 7,
      });
      expect(restoredLog[0]).toBe(
        `initializeState restored=true from=7 seen=${seen!.values[0]} instances=me`,
      );
      await second.close();
    },
  );
});

describe('the function initialization context', () => {
  it.each(BACKENDS)(
    'getKeyedStateStore() registers keyed state on a keyed stream (%s)',
    async (backend) => {
      class PerKeyCount extends RichMapFunction<Rec, string> implements CheckpointedFunction {
        private count!: ValueState<number>;
        initializeState(ctx: FunctionInitializationContext): void {
          this.count = ctx.getKeyedStateStore().getState(new ValueStateDescriptor<number>('count'));
        }
        snapshotState(): void {}
        map([k]: Rec): string {
          const n = (this.count.value() ?? 0) + 1;
          this.count.update(n);
          return `${k}${n}`;
        }
      }
      const h = await OperatorHarness.open(new MapOperator(new PerKeyCount()), {
        backend,
        keySelector: (r: unknown) => (r as Rec)[0],
      });
      for (const k of ['a', 'b', 'a', 'a', 'b']) h.processElement([k, 0]);
      expect(h.records.map((r) => r.value)).toEqual(['a1', 'b1', 'a2', 'a3', 'b2']);
      await h.close();
    },
  );

  it('getKeyedStateStore() on a stream that is not keyed says to call keyBy()', async () => {
    const fn = {
      initializeState: (ctx: FunctionInitializationContext) => void ctx.getKeyedStateStore(),
      snapshotState: () => {},
      map: (n: number) => n,
    };
    await expect(OperatorHarness.open(new MapOperator(fn), { name: 'Lookup' })).rejects.toThrow(
      /Lookup \(1\/1\): initializeState\(\): .*Keyed state \(getKeyedStateStore\(\)\) is only available on a keyed stream; call keyBy\(\) first/,
    );
  });

  it('getRuntimeContext() works in initializeState, as in Flink (setup gives it)', async () => {
    const seen: string[] = [];
    class Early extends RichMapFunction<number, number> implements CheckpointedFunction {
      initializeState(): void {
        const rc = this.getRuntimeContext();
        seen.push(`${rc.getIndexOfThisSubtask()}/${rc.getNumberOfParallelSubtasks()}`);
      }
      snapshotState(): void {}
      map(n: number): number {
        return n;
      }
    }
    const h = await OperatorHarness.open(new MapOperator(new Early()), {
      subtaskIndex: 1,
      parallelism: 3,
    });
    expect(seen).toEqual(['1/3']);
    await h.close();
  });

  it('a function with only one of the two methods is refused, naming the operator', async () => {
    const half = { snapshotState: () => {}, map: (n: number) => n };
    await expect(OperatorHarness.open(new MapOperator(half), { name: 'Half' })).rejects.toThrow(
      'Half (1/1): the user function object has snapshotState but not initializeState; a CheckpointedFunction needs both',
    );
  });

  it('a snapshotState that throws fails the checkpoint, naming the operator and checkpoint', async () => {
    const fn = {
      initializeState: () => {},
      snapshotState: () => {
        throw new Error('disk full');
      },
      map: (n: number) => n,
    };
    const h = await OperatorHarness.open(new MapOperator(fn), { name: 'Spill' });
    await expect(h.snapshotOperatorState(3)).rejects.toThrow(
      'Spill (1/1): snapshotState() for checkpoint 3: user function threw Error: disk full',
    );
    await h.close();
  });

  it.each([1, 2])(
    'in a job, every parallel instance initializes its state once, before open (p=%i)',
    async (p) => {
      const log: string[] = [];
      class Ordered extends RichFlatMapFunction<number, number> implements CheckpointedFunction {
        private me = '';
        initializeState(ctx: FunctionInitializationContext): void {
          this.me = `${this.getRuntimeContext().getIndexOfThisSubtask()}`;
          log.push(`${this.me}:initializeState restored=${ctx.isRestored()}`);
        }
        snapshotState(): void {
          log.push(`${this.me}:snapshotState`);
        }
        override open(_ctx: RuntimeContext): void {
          log.push(`${this.me}:open`);
        }
        flatMap(n: number, out: Collector<number>): void {
          out.collect(n);
        }
        override close(): void {
          log.push(`${this.me}:close`);
        }
      }
      const env = localEnv({ 'parallelism.default': p });
      expect(
        (await env.fromElements(1, 2, 3).flatMap(new Ordered()).executeAndCollect()).sort(),
      ).toEqual([1, 2, 3]);
      for (let s = 0; s < p; s++) {
        // The local executor takes no checkpoints: no snapshotState.
        expect(log.filter((e) => e.startsWith(`${s}:`))).toEqual([
          `${s}:initializeState restored=false`,
          `${s}:open`,
          `${s}:close`,
        ]);
      }
    },
  );
});

describe('operator list state on rescaling (Flink RoundRobinOperatorStateRepartitioner)', () => {
  /** Buffers what it gets in split list state and its name in union list state. */
  class Buffer extends RichMapFunction<number, number> implements CheckpointedFunction {
    buffer: number[] = [];
    restoredInstances: string[] = [];
    private bufferState!: ListState<number>;
    private instancesState!: ListState<string>;
    initializeState(ctx: FunctionInitializationContext): void {
      const store = ctx.getOperatorStateStore();
      this.bufferState = store.getListState(new ListStateDescriptor<number>('buffer'));
      this.instancesState = store.getUnionListState(new ListStateDescriptor<string>('instances'));
      this.buffer = [...this.bufferState.get()];
      this.restoredInstances = [...this.instancesState.get()];
    }
    snapshotState(): void {
      this.bufferState.update(this.buffer);
      const me = this.getRuntimeContext().getTaskNameWithSubtasks();
      this.instancesState.update([me]);
    }
    map(n: number): number {
      this.buffer.push(n);
      return n;
    }
  }

  /** Runs one instance per subtask, feeds each its elements, and snapshots them as checkpoint `id`. */
  async function run(
    parallelism: number,
    restore: CheckpointMetadata | undefined,
    feed: number[][],
  ): Promise<{
    restored: { buffer: number[]; instances: string[] }[];
    metadata: CheckpointMetadata;
  }> {
    const restored: { buffer: number[]; instances: string[] }[] = [];
    const subtasks: { subtask: number; snapshot: RestoredOperatorStates }[] = [];
    for (let s = 0; s < parallelism; s++) {
      const fn = new Buffer();
      const states = restore
        ? restoredOperatorState(
            { metadataDir: 'file:///unused', metadata: restore },
            'buffer',
            s,
            parallelism,
          )?.states
        : undefined;
      const h = await OperatorHarness.open(new MapOperator(fn), {
        name: 'Buffer',
        subtaskIndex: s,
        parallelism,
        restoredState: states,
        restoredCheckpointId: states && restore!.checkpointId,
      });
      restored.push({ buffer: [...fn.buffer], instances: [...fn.restoredInstances].sort() });
      for (const n of feed[s] ?? []) h.processElement(n);
      subtasks.push({
        subtask: s,
        snapshot: await h.snapshotOperatorState((restore?.checkpointId ?? 0) + 1),
      });
      await h.close();
    }
    const metadata: CheckpointMetadata = {
      version: 1,
      jobId: 'job',
      checkpointId: (restore?.checkpointId ?? 0) + 1,
      type: 'SAVEPOINT',
      timestamp: 0,
      operators: [
        {
          uid: 'buffer',
          name: 'Buffer',
          parallelism,
          maxParallelism: 128,
          subtasks: subtasks.map(({ subtask, snapshot }) => ({
            subtask,
            operatorState: Object.fromEntries(
              [...snapshot].map(([name, e]) => [name, encodeOpaque(e.values)]),
            ),
            operatorStateModes: Object.fromEntries(
              [...snapshot].map(([name, e]) => [name, e.mode]),
            ),
          })),
        },
      ],
    };
    return { restored, metadata };
  }

  it('2 -> 3 -> 1: split state is spread, each element once, in order; union state reaches every instance', async () => {
    const p2 = await run(2, undefined, [
      [1, 2, 3],
      [4, 5],
    ]);
    const p3 = await run(3, p2.metadata, [[6], [], [7, 8]]);
    // Five elements in three contiguous parts, the first ones one longer.
    expect(p3.restored).toEqual([
      { buffer: [1, 2], instances: ['Buffer (1/2)#0', 'Buffer (2/2)#0'] },
      { buffer: [3, 4], instances: ['Buffer (1/2)#0', 'Buffer (2/2)#0'] },
      { buffer: [5], instances: ['Buffer (1/2)#0', 'Buffer (2/2)#0'] },
    ]);
    const p1 = await run(1, p3.metadata, []);
    expect(p1.restored).toEqual([
      {
        buffer: [1, 2, 6, 3, 4, 5, 7, 8],
        instances: ['Buffer (1/3)#0', 'Buffer (2/3)#0', 'Buffer (3/3)#0'],
      },
    ]);
  });

  it('at the same parallelism every instance gets its own split state back', async () => {
    const first = await run(2, undefined, [[1], [2, 3]]);
    const again = await run(2, first.metadata, []);
    expect(again.restored.map((r) => r.buffer)).toEqual([[1], [2, 3]]);
  });
});

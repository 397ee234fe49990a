import type {
  AggregateFunction,
  Collector,
  Key,
  ProcessWindowContext,
  TimeWindow,
} from '@nimble/api';
import {
  CountTrigger,
  CountEvictor,
  EventTimeSessionWindows,
  EventTimeTrigger,
  MAX_TIMESTAMP,
  ProcessWindowFunction,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { AlignedWindowOperator } from '../src/operators/window/aligned-window-operator.js';
import type { WindowOperatorSpec } from '../src/operators/window/window-operator.js';
import { createWindowOperator, WindowOperator } from '../src/operators/window/window-operator.js';
import type { StateBackendKind } from '../src/state/index.js';
import type { OperatorHarnessOptions } from './support/operator-harness.js';
import { OperatorHarness } from './support/operator-harness.js';
import type { Rec } from './support/window-spec.js';
import { ms, spec, storedWindowEntries, sum } from './support/window-spec.js';

const average: AggregateFunction<Rec, [number, number], number> = {
  createAccumulator: () => [0, 0],
  add: (v, acc) => [acc[0] + v[1], acc[1] + 1],
  getResult: (acc) => acc[0] / acc[1],
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
};

/** Emits `key [start,end) result`. */
class Describe extends ProcessWindowFunction<number, string, string, TimeWindow> {
  process(
    key: string,
    ctx: ProcessWindowContext<TimeWindow>,
    results: Iterable<number>,
    out: Collector<string>,
  ): void {
    const w = ctx.window();
    out.collect(`${key} [${w.start},${w.end}) ${[...results].join(',')}`);
  }
}

type Step = { element: Rec; timestamp: number } | { watermark: number };

/** `checkpointAt`: how many steps run before the checkpoint. */
const cases: {
  name: string;
  spec: () => WindowOperatorSpec;
  steps: Step[];
  checkpointAt: number;
}[] = [
  {
    name: 'tumbling reduce with allowed lateness',
    spec: () =>
      spec(TumblingEventTimeWindows.of(ms(10)), { kind: 'reduce', reduce: sum }, { lateness: 5 }),
    steps: [
      { element: ['a', 1], timestamp: 1 },
      { element: ['b', 2], timestamp: 4 },
      { element: ['a', 3], timestamp: 12 },
      { element: ['c', 4], timestamp: 8 },
      { watermark: 9 },
      { element: ['a', 5], timestamp: 2 }, // late within lateness: fires [0,10) again
      { element: ['b', 6], timestamp: 15 },
      // <- checkpoint
      { element: ['c', 7], timestamp: 7 }, // late within lateness
      { watermark: 14 }, // drops [0,10)
      { element: ['a', 8], timestamp: 3 }, // too late
      { element: ['d', 9], timestamp: 25 },
      { watermark: 19 },
      { watermark: MAX_TIMESTAMP },
    ],
    checkpointAt: 7,
  },
  {
    name: 'sliding aggregate with a ProcessWindowFunction',
    spec: () =>
      spec(SlidingEventTimeWindows.of(ms(10), ms(5)), {
        kind: 'aggregate',
        aggregate: average,
        window: { kind: 'process', fn: new Describe() },
      }),
    steps: [
      { element: ['a', 2], timestamp: 1 },
      { element: ['b', 4], timestamp: 6 },
      { element: ['a', 6], timestamp: 7 },
      { watermark: 4 },
      { element: ['b', 8], timestamp: 11 },
      // <- checkpoint
      { element: ['a', 10], timestamp: 13 },
      { watermark: 9 },
      { element: ['c', 1], timestamp: 3 }, // late: [0,10) fired, [-5,5) too
      { watermark: MAX_TIMESTAMP },
    ],
    checkpointAt: 5,
  },
];

function open(
  s: WindowOperatorSpec,
  backend: StateBackendKind,
  aligned: boolean,
  restore?: Pick<OperatorHarnessOptions<unknown>, 'restoreKeyed' | 'restoreTimers'>,
): Promise<OperatorHarness<unknown, unknown>> {
  return OperatorHarness.open(createWindowOperator(s, { aligned }), {
    backend,
    keySelector: (v) => (v as Rec)[0] as Key,
    name: 'Window',
    ...restore,
  });
}

function sorted(records: unknown[]): string[] {
  return records.map((r) => JSON.stringify(r)).sort();
}

function run(h: OperatorHarness<unknown, unknown>, steps: readonly Step[]): void {
  for (const step of steps) {
    if ('watermark' in step) h.processWatermark(step.watermark);
    else h.processElement(step.element, step.timestamp);
  }
}

describe.each<StateBackendKind>(['hashmap', 'level'])(
  'the aligned window operator (%s)',
  (backend) => {
    describe.each(cases)('$name', ({ spec: makeSpec, steps, checkpointAt: at }) => {
      async function uninterrupted(aligned: boolean): Promise<unknown[]> {
        const h = await open(makeSpec(), backend, aligned);
        try {
          run(h, steps);
          return h.records.map((r) => [r.value, r.timestamp]);
        } finally {
          await h.close();
        }
      }

      it('emits exactly what the general operator emits, in the same order', async () => {
        const general = await uninterrupted(false);
        expect(general.length).toBeGreaterThan(3);
        expect(await uninterrupted(true)).toEqual(general);
      });

      it.each([
        { from: 'general', to: 'aligned' },
        { from: 'aligned', to: 'general' },
        { from: 'aligned', to: 'aligned' },
      ])(
        'restores a checkpoint of the $from operator on the $to operator',
        async ({ from, to }) => {
          const expected = await uninterrupted(false);

          const first = await open(makeSpec(), backend, from === 'aligned');
          run(first, steps.slice(0, at));
          const before = first.records.map((r) => [r.value, r.timestamp]);
          const timers = first.operator.snapshotTimers() ?? new Map<number, unknown[]>();
          const snapshot = first.backend!.snapshot(1, 'canonical');
          const blocks = await snapshot.materialize();
          snapshot.release();
          await first.close();

          const second = await open(makeSpec(), backend, to === 'aligned', {
            restoreKeyed: { kind: snapshot.kind, blocks },
            restoreTimers: timers,
          });
          try {
            run(second, steps.slice(at));
            const after = second.records.map((r) => [r.value, r.timestamp]);
            // Keys whose windows fire at the same time may come in another order after a restore
            // (timers are restored key group by key group, in Flink too): compare them sorted.
            expect(sorted([...before, ...after])).toEqual(sorted(expected));
            // Every window fired and went: no contents, no per-key entries, no timers.
            expect(await storedWindowEntries(second, 'window-contents')).toBe(0);
            const op = second.operator as unknown as {
              numEventTimeTimers?(): number;
              timers?: { numEventTimeTimers(): number };
            };
            expect(
              (op.timers ?? (op as { numEventTimeTimers(): number })).numEventTimeTimers(),
            ).toBe(0);
          } finally {
            await second.close();
          }
        },
      );
    });
  },
);

describe('which window operator runs', () => {
  const reduce = { kind: 'reduce', reduce: sum } as const;
  it('takes tumbling and sliding event-time windows that reduce or aggregate', () => {
    for (const s of [
      spec(TumblingEventTimeWindows.of(ms(10)), reduce),
      spec(TumblingEventTimeWindows.of(ms(10)), reduce, { trigger: EventTimeTrigger.create() }),
      spec(SlidingEventTimeWindows.of(ms(10), ms(5)), { kind: 'aggregate', aggregate: average }),
    ]) {
      expect(createWindowOperator(s)).toBeInstanceOf(AlignedWindowOperator);
      expect(createWindowOperator(s, { aligned: false })).toBeInstanceOf(WindowOperator);
    }
  });

  it('leaves custom triggers, evictors, merging and processing-time windows and process() to the general one', () => {
    for (const s of [
      spec(TumblingEventTimeWindows.of(ms(10)), reduce, { trigger: CountTrigger.of(2) }),
      spec(TumblingEventTimeWindows.of(ms(10)), reduce, { evictor: CountEvictor.of(2) }),
      spec(EventTimeSessionWindows.withGap(ms(10)), reduce),
      spec(TumblingProcessingTimeWindows.of(ms(10)), reduce),
      spec(TumblingEventTimeWindows.of(ms(10)), {
        kind: 'process',
        window: { kind: 'process', fn: new Describe() as never },
      }),
    ]) {
      expect(createWindowOperator(s)).toBeInstanceOf(WindowOperator);
    }
  });
});

import type { ReaderOutput, Sink, Source, SourceReader, SourceSplit } from '@nimble/api';
import {
  Boundedness,
  Duration,
  InputStatus,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
} from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { localEnv } from './support/local.js';

type E = [source: string, eventTime: number];

/** Emits its elements at once, then stays silent for `silenceMs` before it ends. */
function quietSource(elements: E[], silenceMs: number): Source<E> {
  return {
    getBoundedness: () => Boundedness.BOUNDED,
    createEnumerator: (ctx) => ({
      start() {},
      addReader(subtask) {
        ctx.assignSplits(subtask, [{ splitId: 'only' }]);
        ctx.signalNoMoreSplits(subtask);
      },
      addSplitsBack() {},
      snapshotState: () => null,
      close() {},
    }),
    restoreEnumerator: () => {
      throw new Error('not restorable');
    },
    createReader(): SourceReader<E, SourceSplit> {
      let emitted = false;
      let silentUntil = 0;
      let hasSplit = false;
      let noMore = false;
      return {
        start() {},
        pollNext(out: ReaderOutput<E>) {
          if (!hasSplit) return noMore ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
          if (!emitted) {
            for (const e of elements) out.collect(e);
            emitted = true;
            silentUntil = Date.now() + silenceMs;
          }
          return Date.now() >= silentUntil
            ? InputStatus.END_OF_INPUT
            : InputStatus.NOTHING_AVAILABLE;
        },
        isAvailable: () => new Promise((r) => setTimeout(r, Math.max(1, silentUntil - Date.now()))),
        addSplits() {
          hasSplit = true;
        },
        notifyNoMoreSplits() {
          noMore = true;
        },
        snapshotState: () => [],
        close() {},
      };
    },
  };
}

async function firstWindowDelay(
  idleness: boolean,
): Promise<{ delayMs: number; results: string[] }> {
  const env = localEnv({ 'pipeline.auto-watermark-interval': 50 });
  const base = WatermarkStrategy.forBoundedOutOfOrderness<E>(
    Duration.ofMillis(0),
  ).withTimestampAssigner((e) => e[1]);
  const busy = env.fromSource(
    quietSource(
      [
        ['a', 1000],
        ['a', 5000],
        ['a', 15_000],
      ],
      0,
    ),
    base,
    'busy',
  );
  const quietStrategy = idleness ? base.withIdleness(Duration.ofMillis(200)) : base;
  const quiet = env.fromSource(quietSource([['q', 500]], 2500), quietStrategy, 'quiet');
  const arrivals: { at: number; value: string }[] = [];
  const sink: Sink<string> = {
    createWriter: () => ({
      write: (v: string) => void arrivals.push({ at: Date.now(), value: v }),
      flush() {},
      close() {},
    }),
  };
  const started = Date.now();
  busy
    .union(quiet)
    .keyBy((e) => e[0])
    .window(TumblingEventTimeWindows.of(Time.seconds(10)))
    .reduce((x, y) => [x[0], x[1] + y[1]] as E)
    .map((e) => `${e[0]}:${e[1]}`)
    .sinkTo(sink);
  await env.execute('idleness');
  const first = arrivals.find((a) => a.value === 'a:6000');
  return {
    delayMs: (first?.at ?? Infinity) - started,
    results: arrivals.map((a) => a.value).sort(),
  };
}

describe('idle inputs (withIdleness)', () => {
  it('an idle source does not hold back the watermark: the window fires before that source ends', async () => {
    const withIdleness = await firstWindowDelay(true);
    const without = await firstWindowDelay(false);
    expect(withIdleness.results).toEqual(['a:15000', 'a:6000', 'q:500']);
    expect(without.results).toEqual(['a:15000', 'a:6000', 'q:500']);
    // The quiet source ends after 2.5 s; with idleness the [0, 10 s) window fires long before.
    expect(withIdleness.delayMs).toBeLessThan(1500);
    expect(without.delayMs).toBeGreaterThanOrEqual(2400);
  });
});

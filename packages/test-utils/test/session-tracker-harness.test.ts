// The kit's operator harness on the session-tracker example's KeyedProcessFunction: TTL'd
// ValueState and processing-time timers, driven element by element with exact outputs.
import { ValueStateDescriptor } from '@nimble/api';
import type { Collector, KeyedProcessContext } from '@nimble/api';
import type { CheckpointedFunction, FunctionInitializationContext, ListState } from '@nimble/api';
import { KeyedProcessFunction, ListStateDescriptor, OutputTag } from '@nimble/api';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KeyedOneInputStreamOperatorTestHarness } from '../src/index.js';
import { ProcessFunctionTestHarnesses } from '../src/index.js';
import type { Purchase } from '@nimble/examples/purchases';
import type {
  SessionFeature,
  UserSessionTracker as Tracker,
} from '@nimble/examples/session-tracker';

let UserSessionTracker: typeof Tracker;
beforeAll(async () => {
  // The example runs its job when imported, unless told it is imported by a test.
  const before = process.env['NIMBLE_EXAMPLE_IMPORT'];
  process.env['NIMBLE_EXAMPLE_IMPORT'] = '1';
  ({ UserSessionTracker } = await import('@nimble/examples/session-tracker'));
  if (before === undefined) delete process.env['NIMBLE_EXAMPLE_IMPORT'];
  else process.env['NIMBLE_EXAMPLE_IMPORT'] = before;
});

const MIN = 60_000;
const TIMEOUT = 30 * MIN;
const buy = (user: string, t: number): Purchase => ({
  user_id: user,
  amount_usd: 1,
  category_id: 0,
  event_time_ms: t,
});

let harness: KeyedOneInputStreamOperatorTestHarness<string, Purchase, SessionFeature> | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const open = (
  restore?: Parameters<typeof ProcessFunctionTestHarnesses.forKeyedProcessFunction>[2],
) =>
  ProcessFunctionTestHarnesses.forKeyedProcessFunction(
    new UserSessionTracker(),
    (p: Purchase) => p.user_id,
    restore,
  );

describe('UserSessionTracker under the keyed operator harness', () => {
  it('closes a session by event-time gap, then by a processing-time timer', async () => {
    const h = (harness = await open());
    h.processElement(buy('a', 0), 0);
    h.processElement(buy('a', 5 * MIN), 5 * MIN);
    // Both elements came at processing time 0: one timer (per key and time) at 30 min.
    expect(h.numProcessingTimeTimers()).toBe(1);
    h.setProcessingTime(10 * MIN);
    // A gap of more than 30 min of event time closes the first session at once.
    h.processElement(buy('a', 40 * MIN), 40 * MIN);
    expect(h.numProcessingTimeTimers()).toBe(2);
    expect(h.getRecordOutput()).toEqual([
      {
        value: {
          user_id: 'a',
          session_start_ts: 0,
          session_end_ts: 5 * MIN,
          session_duration_s: 300,
          session_event_count: 2,
        },
        timestamp: 40 * MIN,
      },
    ]);
    expect(h.getState(new ValueStateDescriptor<number>('event_count'), 'a').value()).toBe(1);
    expect(h.getState(new ValueStateDescriptor<number>('session_start_ts'), 'a').value()).toBe(
      40 * MIN,
    );
    h.clearOutput();
    // Processing time reaches the first timer (30 min): it emits the open session and clears it.
    h.setProcessingTime(TIMEOUT);
    expect(h.getRecordOutput()).toEqual([
      {
        value: {
          user_id: 'a',
          session_start_ts: 40 * MIN,
          session_end_ts: 40 * MIN,
          session_duration_s: 0,
          session_event_count: 1,
          session_closed_by: 'timeout',
        },
        // Output of a processing-time timer carries no timestamp.
        timestamp: undefined,
      },
    ]);
    expect(h.getState(new ValueStateDescriptor<number>('event_count'), 'a').value()).toBe(
      undefined,
    );
    expect(h.numProcessingTimeTimers()).toBe(1);
    // The second timer (40 min) finds no session: nothing more is emitted.
    h.setProcessingTime(10 * MIN + TIMEOUT);
    expect(h.numProcessingTimeTimers()).toBe(0);
    expect(h.extractOutputValues()).toHaveLength(1);
    expect(h.numEventTimeTimers()).toBe(0);
  });

  it('keeps keys apart, and state past its 24-hour TTL reads as absent', async () => {
    const h = (harness = await open());
    h.processElement(buy('a', 1000), 1000);
    h.processElement(buy('b', 2000), 2000);
    h.processElement(buy('b', 3000), 3000);
    const count = new ValueStateDescriptor<number>('event_count');
    expect(h.getState(count, 'a').value()).toBe(1);
    expect(h.getState(count, 'b').value()).toBe(2);
    expect(h.numProcessingTimeTimers()).toBe(2);
    h.setProcessingTime(24 * 60 * MIN - 1);
    // Not expired yet; the timers (30 min) fired on the way and closed both sessions.
    expect(h.extractOutputValues().map((s) => [s.user_id, s.session_event_count])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('moves the clock at once: due timers fire at the new time, after the TTL expired', async () => {
    // As Flink's TestProcessingTimeService: the clock is set first, then due timers fire.
    const h = (harness = await open());
    h.processElement(buy('a', 1000), 1000);
    const count = new ValueStateDescriptor<number>('event_count');
    h.setProcessingTime(24 * 60 * MIN);
    expect(h.numProcessingTimeTimers()).toBe(0);
    // The timer found the session's state expired (written at 0, TTL 24 h): nothing emitted.
    expect(h.extractOutputValues()).toEqual([]);
    expect(h.getState(count, 'a').value()).toBe(undefined);
  });

  it('snapshots state and timers and restores them into a new harness', async () => {
    const first = await open();
    first.processElement(buy('a', 0), 0);
    first.processElement(buy('a', MIN), MIN);
    first.setProcessingTime(MIN);
    const snapshot = await first.snapshot();
    await first.close();
    const h = (harness = await open({ restore: snapshot, processingTime: MIN }));
    expect(h.numProcessingTimeTimers()).toBe(1);
    expect(h.getState(new ValueStateDescriptor<number>('event_count'), 'a').value()).toBe(2);
    h.setProcessingTime(TIMEOUT);
    expect(h.extractOutputValues()).toEqual([
      {
        user_id: 'a',
        session_start_ts: 0,
        session_end_ts: MIN,
        session_duration_s: 60,
        session_event_count: 2,
        session_closed_by: 'timeout',
      },
    ]);
  });
});

describe('the level backend under the harness', () => {
  it('restores a hashmap snapshot and runs the same timers and TTL', async () => {
    const first = await open();
    first.processElement(buy('a', 0), 0);
    const snapshot = await first.snapshot();
    await first.close();
    const h = (harness = await open({ restore: snapshot, backend: 'level' }));
    const count = new ValueStateDescriptor<number>('event_count');
    expect(h.getState(count, 'a').value()).toBe(1);
    h.processElement(buy('a', MIN), MIN);
    h.setProcessingTime(TIMEOUT);
    expect(h.extractOutputValues()).toEqual([
      {
        user_id: 'a',
        session_start_ts: 0,
        session_end_ts: MIN,
        session_duration_s: 60,
        session_event_count: 2,
        session_closed_by: 'timeout',
      },
    ]);
    expect(h.getState(count, 'a').value()).toBe(undefined);
  });
});

const late = new OutputTag<string>('late');

/** Event-time timers, watermarks in the output and a side output. */
class Deadline extends KeyedProcessFunction<string, string, string> {
  processElement(v: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const ts = ctx.timestamp()!;
    if (ts <= ctx.timerService().currentWatermark()) {
      ctx.output(late, `late ${v}`);
      return;
    }
    ctx.timerService().registerEventTimeTimer(ts + 10);
    out.collect(`seen ${v}`);
  }
  override onTimer(ts: number, ctx: { getCurrentKey(): string }, out: Collector<string>): void {
    out.collect(`deadline ${ctx.getCurrentKey()}@${ts}`);
  }
}

describe('the keyed operator harness', () => {
  it('gives records, watermarks and side outputs in order', async () => {
    const d = await ProcessFunctionTestHarnesses.forKeyedProcessFunction(
      new Deadline(),
      (v: string) => v,
    );
    d.processElement('x', 5);
    d.processElement('y', 7);
    expect(d.numEventTimeTimers()).toBe(2);
    d.processWatermark(15);
    d.processElement('z', 12);
    expect(d.getOutput()).toEqual([
      { value: 'seen x', timestamp: 5 },
      { value: 'seen y', timestamp: 7 },
      { value: 'deadline x@15', timestamp: 15 },
      { watermark: 15 },
    ]);
    expect(d.getSideOutput(late)).toEqual([{ value: 'late z', timestamp: 12 }]);
    expect(d.numEventTimeTimers()).toBe(1);
    await d.close();
  });

  it('says what is wrong when used out of order', async () => {
    const h = (harness = await open());
    await expect(h.open()).rejects.toThrow(/opened already/);
    expect(() => h.initializeState({} as never)).toThrow(/before open/);
    await h.close();
    expect(() => h.processWatermark(1)).toThrow(/closed/);
  });
});

describe('harnesses of non-keyed functions', () => {
  it('map and flatMap', async () => {
    const m = await ProcessFunctionTestHarnesses.forMapFunction((x: number) => x * 2);
    m.processElement(3, 100);
    m.processWatermark(100);
    expect(m.getOutput()).toEqual([{ value: 6, timestamp: 100 }, { watermark: 100 }]);
    await m.close();
    const f = await ProcessFunctionTestHarnesses.forFlatMapFunction(
      (s: string, out: Collector<string>) => s.split(' ').forEach((w) => out.collect(w)),
    );
    f.processElement('a b');
    expect(f.extractOutputValues()).toEqual(['a', 'b']);
    expect(() => f.getState(new ValueStateDescriptor('v'), 'k')).toThrow(/not keyed/);
    await f.close();
  });
});

/** A map that numbers its elements, with the count in operator state (a CheckpointedFunction). */
class Numbering implements CheckpointedFunction {
  private count = 0;
  private state!: ListState<number>;
  restored: boolean | undefined;
  initializeState(ctx: FunctionInitializationContext): void {
    this.state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>('count'));
    this.restored = ctx.isRestored();
    for (const c of this.state.get()) this.count = c;
  }
  snapshotState(): void {
    this.state.update([this.count]);
  }
  map(value: string): string {
    return `${++this.count} ${value}`;
  }
}

describe('operator state of a CheckpointedFunction', () => {
  it('is snapshot and restored into a new harness', async () => {
    const first = new Numbering();
    const h1 = await ProcessFunctionTestHarnesses.forMapFunction(first);
    h1.processElement('a');
    h1.processElement('b');
    expect(first.restored).toBe(false);
    const snapshot = await h1.snapshot(7);
    await h1.close();
    const second = new Numbering();
    const h2 = await ProcessFunctionTestHarnesses.forMapFunction(second, { restore: snapshot });
    h2.processElement('c');
    expect(second.restored).toBe(true);
    expect(h2.extractOutputValues()).toEqual(['3 c']);
    await h2.close();
  });
});

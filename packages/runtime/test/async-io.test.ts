// Async I/O (AsyncDataStream and the async wait operator), pinned to Flink's semantics
// (AsyncWaitOperator, OrderedStreamElementQueue, UnorderedStreamElementQueue,
// AsyncRetryStrategies): output order, watermarks as barriers, capacity, timeouts, retries,
// checkpointed in-flight elements, end of input. Operator tests complete the calls in a chosen
// order through the harness, whose mailbox runs mail at once; job tests run on localEnv.
import type {
  AsyncFunction,
  AsyncRetryStrategy,
  Collector,
  KeyedProcessContext,
  ResultFuture,
  RuntimeContext,
  ValueState,
} from '@nimble/api';
import {
  AsyncDataStream,
  AsyncRetryStrategies,
  Duration,
  KeyedProcessFunction,
  RetryPredicates,
  RichAsyncFunction,
  TimeoutError,
  Time,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { describe, expect, it } from 'vitest';
import { AsyncCallError, UserCodeError } from '../src/errors.js';
import type { AsyncWaitSpec } from '../src/operators/async-wait-operator.js';
import { AsyncWaitOperator } from '../src/operators/async-wait-operator.js';
import { localEnv, sortedJson } from './support/local.js';
import type { HarnessEvent } from './support/operator-harness.js';
import { OperatorHarness } from './support/operator-harness.js';

const BACKENDS = ['hashmap', 'level'] as const;

/** Lets promise callbacks (and the mail they ask for) run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * An async function whose calls the test answers, in any order: `answer(input, results)`
 * resolves the open call for `input`. It counts calls and the most that were open at once.
 */
class Controlled<OUT = string> {
  readonly calls: string[] = [];
  private readonly open = new Map<
    string,
    { resolve: (r: OUT[]) => void; reject: (e: unknown) => void }
  >();
  maxOpen = 0;
  readonly fn: AsyncFunction<string, OUT> = {
    asyncInvoke: (input) =>
      new Promise<OUT[]>((resolve, reject) => {
        this.calls.push(input);
        this.open.set(input, { resolve, reject });
        this.maxOpen = Math.max(this.maxOpen, this.open.size);
      }),
  };
  get openCalls(): number {
    return this.open.size;
  }
  answer(input: string, results: OUT[]): void {
    const call = this.open.get(input);
    if (!call) throw new Error(`no open call for ${input}`);
    this.open.delete(input);
    call.resolve(results);
  }
  reject(input: string, error: unknown): void {
    const call = this.open.get(input)!;
    this.open.delete(input);
    call.reject(error);
  }
}

function asyncWait<OUT>(
  fn: AsyncWaitSpec['fn'],
  options: Partial<Omit<AsyncWaitSpec, 'fn'>> = {},
): AsyncWaitOperator<string, OUT> {
  return new AsyncWaitOperator<string, OUT>({
    fn,
    timeoutMillis: 0,
    capacity: 100,
    outputMode: 'ordered',
    retryStrategy: AsyncRetryStrategies.NO_RETRY_STRATEGY,
    ...options,
  });
}

async function harness<OUT>(
  op: AsyncWaitOperator<string, OUT>,
  failures: unknown[] = [],
  restoredState?: Awaited<ReturnType<OperatorHarness<string, OUT>['snapshotOperatorState']>>,
): Promise<OperatorHarness<string, OUT>> {
  return OperatorHarness.open<string, OUT>(op, {
    name: 'Enrich',
    onFailure: (e) => failures.push(e),
    restoredState,
  });
}

const rec = (value: unknown, timestamp?: number): HarnessEvent => ({
  kind: 'record',
  value,
  timestamp,
});
const wm = (watermark: number): HarnessEvent => ({ kind: 'watermark', watermark });

describe('ordered mode', () => {
  it('emits results in input order with their input timestamps, watermarks in place', async () => {
    const f = new Controlled();
    const h = await harness<string>(asyncWait(f.fn));
    h.processElement('a', 1);
    h.processElement('b', 2);
    h.processWatermark(2);
    h.processElement('c', 3);
    h.processWatermark(3);
    h.processWatermark(4); // behind the same record: only the latest matters downstream
    f.answer('c', ['C']);
    f.answer('b', ['B1', 'B2']);
    await settle();
    expect(h.events).toEqual([]); // 'a' holds everything back
    f.answer('a', []);
    await settle();
    expect(h.events).toEqual([rec('B1', 2), rec('B2', 2), wm(2), rec('C', 3), wm(4)]);
    // Nothing in flight: a watermark passes at once.
    h.processWatermark(9);
    expect(h.events.at(-1)).toEqual(wm(9));
    await h.finish();
    await h.close();
  });
});

describe('ordered mode in a job', () => {
  it.each([1, 3])(
    'each subtask emits its results in the order of its input, however the calls complete (p=%i)',
    async (p) => {
      class Lookup extends RichAsyncFunction<number, [number, number]> {
        async asyncInvoke(n: number): Promise<[number, number][]> {
          // Later elements answer sooner: completion order is mostly the reverse of input order.
          await new Promise((r) => setTimeout(r, 5 - (n % 6)));
          return [[this.getRuntimeContext().getIndexOfThisSubtask(), n]];
        }
      }
      const env = localEnv({ 'parallelism.default': p });
      const out = await AsyncDataStream.orderedWait(
        env.fromCollection(Array.from({ length: 600 }, (_, i) => i)),
        new Lookup(),
        Duration.ofSeconds(10),
        20,
      ).executeAndCollect();
      expect(out.map(([, n]) => n).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 600 }, (_, i) => i),
      );
      for (let s = 0; s < p; s++) {
        const mine = out.filter(([subtask]) => subtask === s).map(([, n]) => n);
        expect(mine.length).toBeGreaterThan(0);
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
    },
  );
});

describe('unordered mode', () => {
  it('emits results as they complete, but never across a watermark', async () => {
    const f = new Controlled();
    const h = await harness<string>(asyncWait(f.fn, { outputMode: 'unordered' }));
    h.processElement('a', 1);
    h.processElement('b', 2);
    h.processElement('c', 3);
    h.processWatermark(5);
    h.processElement('d', 6);
    h.processElement('e', 7);
    h.processWatermark(8);
    h.processElement('f', 9);
    f.answer('c', ['C']);
    await settle();
    f.answer('a', ['A']);
    f.answer('d', ['D']); // after the watermark: waits for 'b'
    f.answer('f', ['F']); // after two watermarks
    await settle();
    expect(h.events).toEqual([rec('C', 3), rec('A', 1)]);
    f.answer('b', ['B']);
    await settle();
    expect(h.events).toEqual([rec('C', 3), rec('A', 1), rec('B', 2), wm(5), rec('D', 6)]);
    f.answer('e', ['E']);
    await settle();
    expect(h.events.slice(5)).toEqual([rec('E', 7), wm(8), rec('F', 9)]);
    await h.close();
  });

  it('keeps idleness changes in place like watermarks', async () => {
    const f = new Controlled();
    const h = await harness<string>(asyncWait(f.fn, { outputMode: 'unordered' }));
    h.processElement('a', 1);
    h.operator.processWatermarkStatus(true);
    h.processElement('b', 2);
    f.answer('b', ['B']);
    await settle();
    expect(h.events).toEqual([]);
    f.answer('a', ['A']);
    await settle();
    expect(h.events).toEqual([rec('A', 1), { kind: 'watermarkStatus', idle: true }, rec('B', 2)]);
    await h.close();
  });
});

describe('capacity', () => {
  it('never has more than `capacity` calls open; at capacity the operator holds the input back', async () => {
    const f = new Controlled();
    const op = asyncWait<string>(f.fn, { capacity: 2 });
    const h = await harness<string>(op);
    expect(op.availability()).toBeUndefined();
    // One input buffer of five records: two are called, three wait in the operator.
    for (const x of ['a', 'b', 'c', 'd', 'e']) h.processElement(x, 0);
    h.processWatermark(1);
    expect(f.calls).toEqual(['a', 'b']);
    const blocked = op.availability();
    expect(blocked).toBeInstanceOf(Promise);
    expect(op.availability()).toBe(blocked); // one wait, however often the task asks
    let available = false;
    void blocked!.then(() => (available = true));
    f.answer('b', ['B']); // ordered: 'b' cannot leave before 'a', so no slot frees
    await settle();
    expect(f.calls).toEqual(['a', 'b']);
    f.answer('a', ['A']);
    await settle();
    expect(f.calls).toEqual(['a', 'b', 'c', 'd']);
    f.answer('d', ['D']); // held back by 'c'
    await settle();
    expect(f.calls).toEqual(['a', 'b', 'c', 'd']);
    f.answer('c', ['C']);
    await settle();
    // 'c' and 'd' left; 'e' took one slot, no record waits: the input may go on.
    expect(f.calls).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(available).toBe(true);
    expect(op.availability()).toBeUndefined();
    f.answer('e', ['E']);
    await settle();
    expect(f.maxOpen).toBe(2);
    // The watermark that arrived behind the waiting records left after them.
    expect(h.events).toEqual([
      rec('A', 0),
      rec('B', 0),
      rec('C', 0),
      rec('D', 0),
      rec('E', 0),
      wm(1),
    ]);
    await h.close();
  });

  it.each([1, 3])(
    'in a job, at most `capacity` calls per subtask are open at once (p=%i)',
    async (p) => {
      const open = new Map<number, number>();
      const maxOpen = new Map<number, number>();
      class Counting extends RichAsyncFunction<number, number> {
        async asyncInvoke(n: number): Promise<number[]> {
          const subtask = this.getRuntimeContext().getIndexOfThisSubtask();
          const now = (open.get(subtask) ?? 0) + 1;
          open.set(subtask, now);
          maxOpen.set(subtask, Math.max(maxOpen.get(subtask) ?? 0, now));
          await new Promise((r) => setTimeout(r, n % 3));
          open.set(subtask, open.get(subtask)! - 1);
          return [n];
        }
      }
      const env = localEnv({ 'parallelism.default': p });
      const source = env.fromSource(
        new DataGeneratorSource((i) => i, 3000),
        WatermarkStrategy.noWatermarks<number>(),
        'numbers',
      );
      const out = await AsyncDataStream.unorderedWait(
        source,
        new Counting(),
        Duration.ofSeconds(10),
        7,
      ).executeAndCollect();
      expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      expect(maxOpen.size).toBe(p);
      for (const m of maxOpen.values()) expect(m).toBe(7);
    },
  );
});

describe('timeouts', () => {
  it("by default a call that times out fails the job with an error naming the operator (Flink's TimeoutException)", async () => {
    const failures: unknown[] = [];
    const f = new Controlled();
    const h = await harness<string>(asyncWait(f.fn, { timeoutMillis: 100 }), failures);
    h.processElement('a', 1);
    h.setProcessingTime(50);
    h.processElement('b', 2);
    h.setProcessingTime(99);
    await settle();
    expect(failures).toEqual([]);
    h.setProcessingTime(100);
    await settle();
    expect(failures).toHaveLength(1);
    const error = failures[0] as AsyncCallError;
    expect(error).toBeInstanceOf(AsyncCallError);
    expect(error.domain).toBe('external');
    expect(error.message).toBe('Enrich (1/1): async call timed out after 100 ms for element "a"');
    expect(error.cause).toBeInstanceOf(TimeoutError);
    // A late answer after the failure changes nothing.
    f.answer('a', ['A']);
    await settle();
    expect(h.records).toEqual([]);
    await h.close();
  });

  it('a timeout() override completes with a fallback; the late answer of the call is ignored', async () => {
    const f = new Controlled();
    const fn: AsyncFunction<string, string> = {
      asyncInvoke: f.fn.asyncInvoke,
      timeout: (input, rf) => rf.complete([`${input}:fallback`]),
    };
    const h = await harness<string>(asyncWait(fn, { timeoutMillis: 100 }));
    h.processElement('a', 1);
    h.setProcessingTime(10);
    h.processElement('b', 2);
    f.answer('b', ['B']);
    await settle();
    h.setProcessingTime(105); // 'a' expires, 'b' had answered
    await settle();
    f.answer('a', ['A-too-late']);
    await settle();
    expect(h.events).toEqual([rec('a:fallback', 1), rec('B', 2)]);
    await h.close();
  });

  it('in a job, a call that never completes fails the job naming the operator', async () => {
    const env = localEnv();
    const job = AsyncDataStream.orderedWait(
      env.fromElements(1, 2),
      () => new Promise<number>(() => {}),
      Duration.ofMillis(50),
    )
      .name('Lookup')
      .executeAndCollect();
    await expect(job).rejects.toThrow(
      /Lookup \(1\/1\): async call timed out after 50 ms for element 1/,
    );
  });
});

describe('retries', () => {
  it('fixed delay, ifResult: an empty result is retried after the delay; maxAttempts counts retries, as Flink', async () => {
    const attempts: { input: string; at: number }[] = [];
    const clock = { now: () => 0 };
    const fn: AsyncFunction<string, string> = {
      async asyncInvoke(input) {
        attempts.push({ input, at: clock.now() });
        const n = attempts.filter((a) => a.input === input).length;
        // 'a' finds its row on the 3rd attempt; 'b' never does.
        return input === 'a' && n === 3 ? ['A'] : [];
      },
    };
    const retry = new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder<string>(2, 10)
      .ifResult(RetryPredicates.EMPTY_RESULT_PREDICATE)
      .build();
    const h = await harness<string>(asyncWait(fn, { timeoutMillis: 1000, retryStrategy: retry }));
    clock.now = () => h.clock.now();
    h.processElement('a', 1);
    h.processElement('b', 2);
    await settle();
    for (const t of [10, 20, 30]) {
      h.setProcessingTime(t);
      await settle();
    }
    // maxAttempts = 2: the first call and two retries, 10 ms apart; then the empty result stands.
    expect(attempts).toEqual([
      { input: 'a', at: 0 },
      { input: 'b', at: 0 },
      { input: 'a', at: 10 },
      { input: 'b', at: 10 },
      { input: 'a', at: 20 },
      { input: 'b', at: 20 },
    ]);
    expect(h.events).toEqual([rec('A', 1)]);
    await h.finish();
    await h.close();
  });

  it('exponential backoff, ifException: delays grow per element up to the maximum; the last error fails the job', async () => {
    const failures: unknown[] = [];
    const calls: number[] = [];
    const clock = { now: () => 0 };
    const fn: AsyncFunction<string, string> = {
      asyncInvoke(_input, rf: ResultFuture<string>) {
        calls.push(clock.now());
        rf.completeExceptionally(new Error(`refused ${calls.length}`));
      },
    };
    const retry: AsyncRetryStrategy<string> =
      new AsyncRetryStrategies.ExponentialBackoffDelayRetryStrategyBuilder<string>(4, 10, 25, 2)
        .ifException((e) => e.message.startsWith('refused'))
        .build();
    const h = await harness<string>(
      asyncWait(fn, { timeoutMillis: 10_000, retryStrategy: retry }),
      failures,
    );
    clock.now = () => h.clock.now();
    h.processElement('a', 1);
    await settle();
    for (let t = 1; t <= 100; t++) {
      h.setProcessingTime(t);
      await settle();
    }
    // Backoffs 10, 20, 25 (capped), 25: five calls.
    expect(calls).toEqual([0, 10, 30, 55, 80]);
    expect(failures).toHaveLength(1);
    expect((failures[0] as Error).message).toBe(
      'Enrich (1/1): async call failed for element "a": Error: refused 5',
    );
    await h.close();
  });

  it('the timeout covers all attempts: a call still retrying when it expires goes to timeout()', async () => {
    const calls: number[] = [];
    const clock = { now: () => 0 };
    const fn: AsyncFunction<string, string> = {
      async asyncInvoke() {
        calls.push(clock.now());
        throw new Error('unavailable');
      },
      timeout: (input, rf) => rf.complete([`${input}:stale`]),
    };
    const retry = new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder<string>(100, 30)
      .ifException(RetryPredicates.HAS_EXCEPTION_PREDICATE)
      .build();
    const h = await harness<string>(asyncWait(fn, { timeoutMillis: 100, retryStrategy: retry }));
    clock.now = () => h.clock.now();
    h.processElement('a', 1);
    await settle();
    for (const t of [30, 60, 90, 100, 120, 150]) {
      h.setProcessingTime(t);
      await settle();
    }
    expect(calls).toEqual([0, 30, 60, 90]);
    expect(h.events).toEqual([rec('a:stale', 1)]);
    await h.close();
  });

  it('at end of input, finish() waits for retries, which keep their backoff', async () => {
    let calls = 0;
    const clock = { now: () => 0 };
    const fn: AsyncFunction<string, string> = {
      async asyncInvoke(input) {
        calls++;
        return calls === 1 ? [] : [`${input}@${clock.now()}`];
      },
    };
    const retry = new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder<string>(3, 1000)
      .ifResult(RetryPredicates.EMPTY_RESULT_PREDICATE)
      .build();
    const h = await harness<string>(asyncWait(fn, { timeoutMillis: 10_000, retryStrategy: retry }));
    clock.now = () => h.clock.now();
    h.processElement('a', 1);
    await settle();
    let finished = false;
    const finishing = h.finish().then(() => (finished = true));
    await settle();
    expect([calls, finished]).toEqual([1, false]);
    h.setProcessingTime(1000);
    await finishing;
    expect(h.events).toEqual([rec('a@1000', 1)]);
    await h.close();
  });

  it('in a job, a flaky lookup retried on its errors gives every result exactly once', async () => {
    const failedOnce = new Set<number>();
    let attempts = 0;
    const env = localEnv({ 'parallelism.default': 2 });
    const retry = new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder<number>(3, 1)
      .ifException((e) => e instanceof TypeError)
      .build();
    const out = await AsyncDataStream.unorderedWaitWithRetry(
      env.fromCollection(Array.from({ length: 200 }, (_, i) => i)),
      async (n: number) => {
        attempts++;
        if (n % 4 === 0 && !failedOnce.has(n)) {
          failedOnce.add(n);
          throw new TypeError('connection reset');
        }
        return n * 10;
      },
      Duration.ofSeconds(10),
      retry,
    ).executeAndCollect();
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i * 10));
    expect(attempts).toBe(250);
  });

  it('refuses a retry strategy without a timeout, as Flink', () => {
    const env = localEnv();
    const retry = new AsyncRetryStrategies.FixedDelayRetryStrategyBuilder<number>(3, 1)
      .ifException(RetryPredicates.HAS_EXCEPTION_PREDICATE)
      .build();
    expect(() =>
      AsyncDataStream.orderedWaitWithRetry(env.fromElements(1), async (n: number) => n, 0, retry),
    ).toThrow(/needs a timeout greater than zero/);
  });
});

describe('checkpoints', () => {
  it.each(['ordered', 'unordered'] as const)(
    'in-flight, held-back and waiting records are stored as inputs and called again after a restore, in order (%s)',
    async (outputMode) => {
      const f = new Controlled();
      const h = await harness<string>(asyncWait(f.fn, { outputMode, capacity: 3 }));
      for (const [i, x] of ['a', 'b', 'c', 'd', 'e'].entries()) h.processElement(x, i);
      f.answer('b', ['B']); // ordered: held back by 'a'; unordered: leaves and frees a slot
      await settle();
      const snapshot = await h.snapshotOperatorState();
      const stored = snapshot.get('_async_wait_operator_state_');
      expect(stored?.mode).toBe('split');
      // Ordered: 'a', 'c' in flight, 'b' held back, 'd', 'e' waiting for a slot.
      // Unordered: 'a', 'c', 'd' in flight, 'e' waiting.
      const expected =
        outputMode === 'ordered'
          ? [
              ['a', 0],
              ['b', 1],
              ['c', 2],
              ['d', 3],
              ['e', 4],
            ]
          : [
              ['a', 0],
              ['c', 2],
              ['d', 3],
              ['e', 4],
            ];
      expect(stored?.values).toEqual(expected);
      await h.close();

      // The restored operator calls the stored records again, in their order, and emits them.
      const g = new Controlled();
      const r = await harness<string>(asyncWait(g.fn, { outputMode, capacity: 3 }), [], snapshot);
      expect(g.calls).toEqual(expected.slice(0, 3).map(([x]) => x));
      for (const [x] of expected) {
        if (!g.calls.includes(x as string)) {
          await settle();
        }
        g.answer(x as string, [`${x as string}!`]);
        await settle();
      }
      expect(r.events).toEqual(expected.map(([x, ts]) => rec(`${x as string}!`, ts as number)));
      await r.finish();
      await r.close();
    },
  );
});

describe('end of input', () => {
  it('finish() waits until every call completed and its results left', async () => {
    const f = new Controlled();
    const h = await harness<string>(asyncWait(f.fn, { outputMode: 'unordered' }));
    h.processElement('a', 1);
    h.processElement('b', 2);
    let finished = false;
    const finishing = h.finish().then(() => (finished = true));
    f.answer('b', ['B']);
    await settle();
    expect(finished).toBe(false);
    f.answer('a', ['A']);
    await finishing;
    expect(h.events).toEqual([rec('B', 2), rec('A', 1)]);
    await h.close();
  });

  it.each([1, 3])('a job waits for its slow calls before it ends (p=%i)', async (p) => {
    const env = localEnv({ 'parallelism.default': p });
    const out = await AsyncDataStream.orderedWait(
      env.fromCollection(['x', 'y', 'z']),
      (s: string) => new Promise<string>((r) => setTimeout(() => r(s.toUpperCase()), 30)),
      Duration.ofSeconds(10),
    ).executeAndCollect();
    expect(out.sort()).toEqual(['X', 'Y', 'Z']);
  });
});

describe('functions', () => {
  it('ResultFuture style: zero, one or several results per element; repeated completions are ignored', async () => {
    const fn: AsyncFunction<string, string> = {
      asyncInvoke(input, rf) {
        setTimeout(() => {
          rf.complete(input === 'none' ? [] : input.split(''));
          rf.complete(['ignored']);
          rf.completeExceptionally(new Error('ignored too'));
        }, 1);
      },
    };
    const env = localEnv();
    const out = await AsyncDataStream.orderedWait(
      env.fromElements('ab', 'none', 'c'),
      fn,
      Time.seconds(5),
    ).executeAndCollect();
    expect(out).toEqual(['a', 'b', 'c']);
  });

  it('a RichAsyncFunction is opened and closed once per subtask, with a runtime context without state', async () => {
    const events: string[] = [];
    class Rich extends RichAsyncFunction<number, string> {
      private prefix = '';
      override open(ctx: RuntimeContext): void {
        this.prefix = `${ctx.getIndexOfThisSubtask()}/${ctx.getNumberOfParallelSubtasks()}`;
        events.push(`open ${this.prefix}`);
        expect(() => ctx.getState(new ValueStateDescriptor<number>('x'))).toThrow(
          /state is not supported in async functions/,
        );
      }
      override close(): void {
        events.push(`close ${this.prefix}`);
      }
      async asyncInvoke(n: number): Promise<string[]> {
        return [`${this.getRuntimeContext().getIndexOfThisSubtask()}:${n}`];
      }
    }
    const env = localEnv({ 'parallelism.default': 2 });
    const out = await AsyncDataStream.unorderedWait(
      env.fromCollection([1, 2, 3, 4]),
      new Rich(),
      1000,
    ).executeAndCollect();
    expect(out.map((s) => s.split(':')[1]).sort()).toEqual(['1', '2', '3', '4']);
    expect(events.sort()).toEqual(['close 0/2', 'close 1/2', 'open 0/2', 'open 1/2']);
  });
});

describe('errors name the operator', () => {
  it('a rejected promise fails the job', async () => {
    const env = localEnv();
    const job = AsyncDataStream.unorderedWait(
      env.fromElements('u1'),
      async (user: string): Promise<string> => {
        throw new RangeError(`no profile for ${user}`);
      },
      1000,
    )
      .name('Profiles')
      .executeAndCollect();
    await expect(job).rejects.toThrow(
      /Profiles \(1\/1\): async call failed for element "u1": RangeError: no profile for u1/,
    );
  });

  it('completeExceptionally fails the job with the error as cause', async () => {
    const failures: unknown[] = [];
    const boom = new Error('503 Service Unavailable');
    const h = await harness<string>(
      asyncWait({
        asyncInvoke: (_x: string, rf: ResultFuture<string>) => rf.completeExceptionally(boom),
      }),
      failures,
    );
    h.processElement('a', 1);
    await settle();
    expect(failures).toHaveLength(1);
    expect((failures[0] as AsyncCallError).cause).toBe(boom);
    await h.close();
  });

  it('a synchronous throw in asyncInvoke is a bug in the function: a UserCodeError', async () => {
    const h = await harness<string>(
      asyncWait({
        asyncInvoke: () => {
          throw new TypeError('cannot read properties of undefined');
        },
      }),
    );
    expect(() => h.processElement('a', 1)).toThrow(UserCodeError);
    expect(() => h.processElement('b', 1)).toThrow(
      /Enrich \(1\/1\): user function threw TypeError: cannot read properties of undefined/,
    );
    await h.close();
  });

  it('results that are not an iterable are a bug in the function: a UserCodeError naming the operator', async () => {
    const failures: unknown[] = [];
    const h = await harness<string>(
      asyncWait({ asyncInvoke: async (x: string) => x as unknown as string[] }),
      failures,
    );
    h.processElement('abc', 1);
    await settle();
    // A bug in the function, not a failed call: a UserCodeError, and no retry.
    expect(failures[0]).toBeInstanceOf(UserCodeError);
    expect((failures[0] as Error).message).toMatch(
      /^Enrich \(1\/1\): async function completed with "abc"; the results must be an iterable/,
    );
    await h.close();
  });

  it('refuses a capacity that is not a positive integer and a function without asyncInvoke', () => {
    const env = localEnv();
    const s = env.fromElements(1);
    expect(() => AsyncDataStream.orderedWait(s, async (n: number) => n, 100, 0)).toThrow(
      /capacity .* should be a positive integer; got 0/,
    );
    expect(() =>
      AsyncDataStream.orderedWait(s, {} as unknown as AsyncFunction<number, number>, 100),
    ).toThrow(/needs an AsyncFunction/);
  });
});

type Purchase = { user: string; amount: number; ts: number };

/** Running total of a user's purchase amounts, emitted on every purchase. */
class RunningTotal extends KeyedProcessFunction<string, Purchase, string> {
  private total!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.total = ctx.getState(new ValueStateDescriptor<number>('total'));
  }
  processElement(p: Purchase, _ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const total = (this.total.value() ?? 0) + p.amount;
    this.total.update(total);
    out.collect(`total ${p.user} ${total}`);
  }
}

describe.each(BACKENDS)('enrichment in a keyed pipeline on %s', (backend) => {
  const purchase = (i: number): Purchase => ({
    user: `u${i % 7}`,
    amount: (i % 5) + 1,
    ts: i * 100,
  });
  /** A profile lookup that answers after a delay that differs per element, out of order. */
  const lookup = async (p: Purchase) => {
    await new Promise((r) => setTimeout(r, (p.ts / 100) % 4));
    return { ...p, tier: Number(p.user.slice(1)) % 2 === 0 ? 'gold' : 'basic' };
  };

  it.each([1, 3])(
    'unordered enrichment, then keyed running totals and event-time windows: exact, nothing late (p=%i)',
    async (p) => {
      const events = 400;
      const env = localEnv({
        'parallelism.default': p,
        'state.backend.type': backend,
        // Many watermarks while calls are in flight: each is a barrier the results must respect.
        'pipeline.auto-watermark-interval': 2,
      });
      const source = env.fromSource(
        new DataGeneratorSource(purchase, events, { batchSize: 16 }),
        WatermarkStrategy.forMonotonousTimestamps<Purchase>().withTimestampAssigner((e) => e.ts),
        'purchases',
      );
      const enriched = AsyncDataStream.unorderedWait(source, lookup, Duration.ofSeconds(10), 8);
      const keyed = enriched.keyBy((e) => e.user);
      const totals = keyed.process(new RunningTotal());
      const windows = keyed
        .window(TumblingEventTimeWindows.of(Time.seconds(10)))
        .reduce((a, b) => ({ ...a, amount: a.amount + b.amount }))
        .map((e) => `window ${e.user} ${Math.floor(e.ts / 10_000)} ${e.tier} ${e.amount}`);
      const out = await totals.union(windows).executeAndCollect();
      const expected: string[] = [];
      const running = new Map<string, number>();
      const perWindow = new Map<string, number>();
      for (let i = 0; i < events; i++) {
        const e = purchase(i);
        const tier = Number(e.user.slice(1)) % 2 === 0 ? 'gold' : 'basic';
        running.set(e.user, (running.get(e.user) ?? 0) + e.amount);
        const key = `${e.user} ${Math.floor(e.ts / 10_000)} ${tier}`;
        perWindow.set(key, (perWindow.get(key) ?? 0) + e.amount);
      }
      for (const [key, sum] of perWindow) expected.push(`window ${key} ${sum}`);
      // Running totals arrive per key in some order: compare the last total per user.
      const finalTotals = new Map<string, number>();
      for (const line of out.filter((l) => l.startsWith('total'))) {
        const [, user, total] = line.split(' ');
        finalTotals.set(user!, Math.max(finalTotals.get(user!) ?? 0, Number(total)));
      }
      expect(out.filter((l) => l.startsWith('total'))).toHaveLength(events);
      expect(finalTotals).toEqual(running);
      expect(sortedJson(out.filter((l) => l.startsWith('window')))).toEqual(sortedJson(expected));
    },
  );
});

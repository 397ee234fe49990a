import type { DataStream, SingleOutputStreamOperator, WindowedStream } from './datastream.js';
import type {
  CoGroupFunction,
  Collector,
  KeySelector,
  ProcessWindowContext,
  RuntimeContext,
} from './functions.js';
import { ProcessWindowFunction, RichFunction } from './functions.js';
import type { Key } from './state.js';
import type { Duration } from './time.js';
import type { Evictor } from './evictors.js';
import type { Trigger, Window, WindowAssigner } from './windowing.js';

/**
 * An element of a window join or coGroup as the window sees it (Flink's
 * `CoGroupedStreams.TaggedUnion`): `[1, element]` from the first input, `[2, element]` from the
 * second. Custom triggers of a join see these.
 */
export type TaggedUnion<T1, T2> = readonly [1, T1] | readonly [2, T2];

/** A function the window join wraps, whatever its form: it may have a lifecycle. */
interface Wrapped {
  open?: (ctx: RuntimeContext) => void;
  close?: () => void;
}

/**
 * Gives a wrapped user function its runtime context and opens it (Flink's `WrappingFunction`).
 * @internal
 */
export function openWrapped(fn: unknown, ctx: RuntimeContext): void {
  if (fn instanceof RichFunction) fn.setRuntimeContext(ctx);
  if (fn !== null && typeof fn === 'object') (fn as Wrapped).open?.(ctx);
}

/** Closes a wrapped user function. @internal */
export function closeWrapped(fn: unknown): void {
  if (fn !== null && typeof fn === 'object') (fn as Wrapped).close?.();
}

/**
 * The window function of a coGroup (Flink's `CoGroupWindowFunction`): splits a window's tagged
 * elements by input, in arrival order, and hands both to the user's function once per key and
 * window, also when one side is empty.
 */
class CoGroupWindowFunction<
  T1,
  T2,
  OUT,
  K extends Key,
  W extends Window,
> extends ProcessWindowFunction<TaggedUnion<T1, T2>, OUT, K, W> {
  constructor(private readonly fn: CoGroupFunction<T1, T2, OUT>) {
    super();
  }
  override open(ctx: RuntimeContext): void {
    openWrapped(this.fn, ctx);
  }
  override close(): void {
    closeWrapped(this.fn);
  }
  process(
    _key: K,
    _ctx: ProcessWindowContext<W>,
    elements: Iterable<TaggedUnion<T1, T2>>,
    out: Collector<OUT>,
  ): void {
    const first: T1[] = [];
    const second: T2[] = [];
    for (const e of elements) {
      if (e[0] === 1) first.push(e[1]);
      else second.push(e[1]);
    }
    const fn = this.fn;
    if (typeof fn === 'function') fn(first, second, out);
    else fn.coGroup(first, second, out);
  }
}

/**
 * Two streams grouped by key and window (Flink's `CoGroupedStreams`): for each key and window,
 * a {@link CoGroupFunction} gets the elements of both streams, also when only one of them has
 * any. Built as Flink builds it: each input is tagged, the tagged streams are unioned, keyed by
 * the key of their side and windowed, and the window function splits the window's elements by
 * side.
 *
 * ```ts
 * orders.coGroup(payments)
 *   .where((o) => o.id).equalTo((p) => p.orderId)
 *   .window(TumblingEventTimeWindows.of(Time.minutes(5)))
 *   .apply((os, ps, out) => out.collect({ orders: [...os].length, payments: [...ps].length }));
 * ```
 */
export class CoGroupedStreams<T1, T2> {
  /** @internal */
  constructor(
    private readonly input1: DataStream<T1>,
    private readonly input2: DataStream<T2>,
  ) {}

  /** The key of the first stream's elements. */
  where<K extends Key>(keySelector: KeySelector<T1, K>): CoGroupedStreamsWhere<T1, T2, K> {
    checkKeySelector(keySelector, 'where');
    return new CoGroupedStreamsWhere(this.input1, this.input2, keySelector);
  }
}

/** A coGroup with the first stream's key (Flink's `CoGroupedStreams.Where`). */
export class CoGroupedStreamsWhere<T1, T2, K extends Key> {
  /** @internal */
  constructor(
    private readonly input1: DataStream<T1>,
    private readonly input2: DataStream<T2>,
    private readonly keySelector1: KeySelector<T1, K>,
  ) {}

  /** The key of the second stream's elements: of the same type as the first's. */
  equalTo(keySelector: KeySelector<T2, K>): CoGroupedStreamsEqualTo<T1, T2, K> {
    checkKeySelector(keySelector, 'equalTo');
    return new CoGroupedStreamsEqualTo(this.input1, this.input2, this.keySelector1, keySelector);
  }
}

/** A coGroup with the keys of both streams (Flink's `CoGroupedStreams.Where.EqualTo`). */
export class CoGroupedStreamsEqualTo<T1, T2, K extends Key> {
  /** @internal */
  constructor(
    private readonly input1: DataStream<T1>,
    private readonly input2: DataStream<T2>,
    private readonly keySelector1: KeySelector<T1, K>,
    private readonly keySelector2: KeySelector<T2, K>,
  ) {}

  /** The windows in which elements of both streams are grouped. */
  window<W extends Window>(
    assigner: WindowAssigner<TaggedUnion<T1, T2>, W> | WindowAssigner<unknown, W>,
  ): CoGroupedStreamsWithWindow<T1, T2, K, W> {
    return new CoGroupedStreamsWithWindow(
      new WindowJoinSpec(
        this.input1,
        this.input2,
        this.keySelector1,
        this.keySelector2,
        assigner as WindowAssigner<TaggedUnion<T1, T2>, W>,
      ),
    );
  }
}

/**
 * A coGroup with keys and windows (Flink's `CoGroupedStreams.WithWindow`): optionally a trigger,
 * an evictor and allowed lateness, then {@link apply}. Each setting returns a new instance, as in Flink.
 */
export class CoGroupedStreamsWithWindow<T1, T2, K extends Key, W extends Window> {
  /** @internal */
  constructor(private readonly spec: WindowJoinSpec<T1, T2, K, W>) {}

  /** Replaces the window assigner's default trigger. */
  trigger(
    trigger: Trigger<TaggedUnion<T1, T2>, W> | Trigger<unknown, Window>,
  ): CoGroupedStreamsWithWindow<T1, T2, K, W> {
    return new CoGroupedStreamsWithWindow(this.spec.withTrigger(trigger));
  }

  /** Keeps windows for `lateness` after the watermark passed their end (event time only). */
  allowedLateness(lateness: Duration): CoGroupedStreamsWithWindow<T1, T2, K, W> {
    return new CoGroupedStreamsWithWindow(this.spec.withLateness(lateness));
  }

  /** Removes elements of both sides from a window before or after the coGroup (tagged elements). */
  evictor(
    evictor: Evictor<TaggedUnion<T1, T2>, W> | Evictor<unknown, Window>,
  ): CoGroupedStreamsWithWindow<T1, T2, K, W> {
    return new CoGroupedStreamsWithWindow(this.spec.withEvictor(evictor));
  }

  /**
   * Completes the coGroup: `fn` gets both streams' elements of each key and window (each in
   * arrival order) when the window fires; its results carry the window's max timestamp.
   */
  apply<R>(fn: CoGroupFunction<T1, T2, R>): SingleOutputStreamOperator<R> {
    if (typeof fn !== 'function' && typeof fn?.coGroup !== 'function') {
      throw new TypeError(
        'coGroup(...).apply() needs a CoGroupFunction: (first, second, out) => void, or an object with coGroup',
      );
    }
    return this.spec.apply(fn, 'CoGroupWindowFunction');
  }
}

/**
 * What a window join or coGroup is made of, and how it becomes a window operator over the tagged
 * union of both streams. @internal
 */
export class WindowJoinSpec<T1, T2, K extends Key, W extends Window> {
  constructor(
    private readonly input1: DataStream<T1>,
    private readonly input2: DataStream<T2>,
    private readonly keySelector1: KeySelector<T1, K>,
    private readonly keySelector2: KeySelector<T2, K>,
    private readonly assigner: WindowAssigner<TaggedUnion<T1, T2>, W>,
    private readonly settings: WindowJoinSettings<T1, T2, W> = {},
  ) {}

  /** A copy with `trigger` instead of the assigner's default trigger. */
  withTrigger(trigger: Trigger<unknown, Window> | Trigger<TaggedUnion<T1, T2>, W>): this {
    return this.with({ trigger: trigger as Trigger<TaggedUnion<T1, T2>, W> });
  }

  /** A copy with `lateness` as the windows' allowed lateness. */
  withLateness(lateness: Duration): this {
    return this.with({ lateness });
  }

  /** A copy whose windows evict with `evictor` (it sees the tagged elements of both sides). */
  withEvictor(evictor: Evictor<unknown, Window> | Evictor<TaggedUnion<T1, T2>, W>): this {
    return this.with({ evictor: evictor as Evictor<TaggedUnion<T1, T2>, W> });
  }

  /** The window operator that applies `fn` to each key's and window's elements of both sides. */
  apply<R>(fn: CoGroupFunction<T1, T2, R>, functionName: string): SingleOutputStreamOperator<R> {
    const tagged1 = this.input1.map((v: T1): TaggedUnion<T1, T2> => [1, v]);
    const tagged2 = this.input2.map((v: T2): TaggedUnion<T1, T2> => [2, v]);
    // As Flink: each tagger runs at its input's parallelism, so it chains to it.
    tagged1.getTransformation().parallelism = this.input1.getTransformation().parallelism;
    tagged2.getTransformation().parallelism = this.input2.getTransformation().parallelism;
    const key1 = this.keySelector1;
    const key2 = this.keySelector2;
    let windowed: WindowedStream<TaggedUnion<T1, T2>, K, W> = tagged1
      .union(tagged2)
      .keyBy((u: TaggedUnion<T1, T2>): K => (u[0] === 1 ? key1(u[1]) : key2(u[1])))
      .window(this.assigner);
    const { trigger, lateness, evictor } = this.settings;
    if (trigger !== undefined) windowed = windowed.trigger(trigger);
    if (evictor !== undefined) windowed = windowed.evictor(evictor);
    if (lateness !== undefined) windowed = windowed.allowedLateness(lateness);
    const named = trigger ?? this.assigner.getDefaultTrigger();
    return windowed
      .process(new CoGroupWindowFunction<T1, T2, R, K, W>(fn))
      .name(`Window(${String(this.assigner)}, ${String(named)}, ${functionName})`);
  }

  private with(change: WindowJoinSettings<T1, T2, W>): this {
    return new WindowJoinSpec(
      this.input1,
      this.input2,
      this.keySelector1,
      this.keySelector2,
      this.assigner,
      { ...this.settings, ...change },
    ) as this;
  }
}

/** The optional settings of a window join or coGroup. @internal */
interface WindowJoinSettings<T1, T2, W extends Window> {
  readonly trigger?: Trigger<TaggedUnion<T1, T2>, W>;
  readonly lateness?: Duration;
  readonly evictor?: Evictor<TaggedUnion<T1, T2>, W>;
}

/** Refuses a key selector that is not a function, naming the method. @internal */
export function checkKeySelector(selector: unknown, method: string): void {
  if (typeof selector !== 'function') {
    throw new TypeError(`${method}() needs a key selector function, e.g. ${method}((e) => e.id)`);
  }
}

import type { DataStream, SingleOutputStreamOperator } from './datastream.js';
import type {
  Collector,
  FlatJoinFunction,
  JoinFunction,
  KeySelector,
  RuntimeContext,
} from './functions.js';
import type { Key } from './state.js';
import type { Duration } from './time.js';
import type { Evictor } from './evictors.js';
import type { Trigger, Window, WindowAssigner } from './windowing.js';
import type { TaggedUnion } from './co-grouped-streams.js';
import {
  checkKeySelector,
  closeWrapped,
  openWrapped,
  WindowJoinSpec,
} from './co-grouped-streams.js';

/**
 * The coGroup function of a window join (Flink's `JoinCoGroupFunction` and
 * `FlatJoinCoGroupFunction` in one): the cross product of both sides of a key and window, each
 * pair `(first, second)` with the first input in the outer loop, both in arrival order. A join
 * function's result is emitted unless it is `undefined`; a flat join function emits through `out`.
 */
class JoinCoGroupFunction<T1, T2, OUT> {
  constructor(private readonly fn: JoinFunction<T1, T2, OUT> | FlatJoinFunction<T1, T2, OUT>) {}
  open(ctx: RuntimeContext): void {
    openWrapped(this.fn, ctx);
  }
  close(): void {
    closeWrapped(this.fn);
  }
  coGroup(first: Iterable<T1>, second: Iterable<T2>, out: Collector<OUT>): void {
    // Called without its object (fn.join), a class method would lose `this`: look it up per group.
    const fn = this.fn as
      | ((a: T1, b: T2, out: Collector<OUT>) => OUT | void)
      | { join(a: T1, b: T2, out: Collector<OUT>): OUT | void };
    const plain = typeof fn === 'function';
    for (const a of first) {
      for (const b of second) {
        const result = plain ? fn(a, b, out) : fn.join(a, b, out);
        if (result !== undefined) out.collect(result);
      }
    }
  }
}

/**
 * Two streams joined by key within windows (Flink's `JoinedStreams`): every pair of elements of
 * the same key and window, one from each stream, is passed to a {@link JoinFunction} or
 * {@link FlatJoinFunction} (an inner join: an element without a partner in its window yields
 * nothing). Results carry the window's max timestamp. Built on {@link CoGroupedStreams}, as in
 * Flink.
 *
 * ```ts
 * orange.join(green)
 *   .where((o) => o.key).equalTo((g) => g.key)
 *   .window(TumblingEventTimeWindows.of(Duration.ofMillis(2)))
 *   .apply((o, g) => `${o.n},${g.n}`);
 * ```
 */
export class JoinedStreams<T1, T2> {
  /** @internal */
  constructor(
    private readonly input1: DataStream<T1>,
    private readonly input2: DataStream<T2>,
  ) {}

  /** The key of the first stream's elements. */
  where<K extends Key>(keySelector: KeySelector<T1, K>): JoinedStreamsWhere<T1, T2, K> {
    checkKeySelector(keySelector, 'where');
    return new JoinedStreamsWhere(this.input1, this.input2, keySelector);
  }
}

/** A join with the first stream's key (Flink's `JoinedStreams.Where`). */
export class JoinedStreamsWhere<T1, T2, K extends Key> {
  /** @internal */
  constructor(
    private readonly input1: DataStream<T1>,
    private readonly input2: DataStream<T2>,
    private readonly keySelector1: KeySelector<T1, K>,
  ) {}

  /** The key of the second stream's elements: of the same type as the first's. */
  equalTo(keySelector: KeySelector<T2, K>): JoinedStreamsEqualTo<T1, T2, K> {
    checkKeySelector(keySelector, 'equalTo');
    return new JoinedStreamsEqualTo(this.input1, this.input2, this.keySelector1, keySelector);
  }
}

/** A join with the keys of both streams (Flink's `JoinedStreams.Where.EqualTo`). */
export class JoinedStreamsEqualTo<T1, T2, K extends Key> {
  /** @internal */
  constructor(
    private readonly input1: DataStream<T1>,
    private readonly input2: DataStream<T2>,
    private readonly keySelector1: KeySelector<T1, K>,
    private readonly keySelector2: KeySelector<T2, K>,
  ) {}

  /** The windows within which elements of both streams are joined. */
  window<W extends Window>(
    assigner: WindowAssigner<TaggedUnion<T1, T2>, W> | WindowAssigner<unknown, W>,
  ): JoinedStreamsWithWindow<T1, T2, K, W> {
    return new JoinedStreamsWithWindow(
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
 * A join with keys and windows (Flink's `JoinedStreams.WithWindow`): optionally a trigger, an
 * evictor and allowed lateness, then {@link apply}. Each setting returns a new instance, as in Flink.
 */
export class JoinedStreamsWithWindow<T1, T2, K extends Key, W extends Window> {
  /** @internal */
  constructor(private readonly spec: WindowJoinSpec<T1, T2, K, W>) {}

  /** Replaces the window assigner's default trigger. */
  trigger(
    trigger: Trigger<TaggedUnion<T1, T2>, W> | Trigger<unknown, Window>,
  ): JoinedStreamsWithWindow<T1, T2, K, W> {
    return new JoinedStreamsWithWindow(this.spec.withTrigger(trigger));
  }

  /** Keeps windows for `lateness` after the watermark passed their end (event time only). */
  allowedLateness(lateness: Duration): JoinedStreamsWithWindow<T1, T2, K, W> {
    return new JoinedStreamsWithWindow(this.spec.withLateness(lateness));
  }

  /** Removes elements of both sides from a window before or after the join (tagged elements). */
  evictor(
    evictor: Evictor<TaggedUnion<T1, T2>, W> | Evictor<unknown, Window>,
  ): JoinedStreamsWithWindow<T1, T2, K, W> {
    return new JoinedStreamsWithWindow(this.spec.withEvictor(evictor));
  }

  /**
   * Completes the join with a {@link JoinFunction} `(first, second) => result` (a result of
   * `undefined` emits nothing) or a {@link FlatJoinFunction} `(first, second, out) => void`,
   * called for each pair of a key's window when it fires. (One signature for both, so that
   * TypeScript types the parameters of an inline function of either kind.)
   */
  apply<R>(
    fn:
      | ((first: T1, second: T2, out: Collector<R>) => R | void)
      | {
          open?(ctx: RuntimeContext): void;
          close?(): void;
          join(first: T1, second: T2, out: Collector<R>): R | void;
        },
  ): SingleOutputStreamOperator<R> {
    if (typeof fn !== 'function' && typeof fn?.join !== 'function') {
      throw new TypeError(
        'join(...).apply() needs a JoinFunction (first, second) => result, a FlatJoinFunction ' +
          '(first, second, out) => void, or an object with join',
      );
    }
    return this.spec.apply(
      new JoinCoGroupFunction(fn as JoinFunction<T1, T2, R> | FlatJoinFunction<T1, T2, R>),
      'CoGroupWindowFunction',
    );
  }
}

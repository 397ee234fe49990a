import type {
  DataStream,
  SingleOutputStreamOperator,
  StreamEnvironmentHandle,
} from './datastream.js';
import type {
  CoFlatMapFunction,
  CoMapFunction,
  CoProcessFunction,
  KeySelector,
} from './functions.js';
import { KeyedCoProcessFunction } from './functions.js';
import type { Key } from './state.js';
import type { TwoInputOperatorSpec } from './transformation.js';
import { TwoInputTransformation } from './transformation.js';

/**
 * Two streams connected for an operator of two inputs (Flink's `ConnectedStreams`), possibly of
 * different types. Elements of both streams arrive at the same operator instance in the order of
 * arrival, interleaved; the operator's watermark is the minimum of both streams' watermarks.
 *
 * ```ts
 * rules.connect(events).keyBy((r) => r.user, (e) => e.user).process(new Matcher());
 * ```
 */
export class ConnectedStreams<IN1, IN2, K extends Key = never> {
  /** @internal */
  constructor(
    /** @internal */ readonly env: StreamEnvironmentHandle,
    private readonly first: DataStream<IN1>,
    private readonly second: DataStream<IN2>,
  ) {}

  /** The first input. */
  getFirstInput(): DataStream<IN1> {
    return this.first;
  }
  /** The second input. */
  getSecondInput(): DataStream<IN2> {
    return this.second;
  }

  /**
   * Partitions both streams by key, so elements of the same key from either stream reach the same
   * operator instance, which may then use keyed state and timers. Both keys must be of one type.
   */
  keyBy<KEY extends Key>(
    keySelector1: KeySelector<IN1, KEY>,
    keySelector2: KeySelector<IN2, KEY>,
  ): ConnectedStreams<IN1, IN2, KEY> {
    if (typeof keySelector1 !== 'function' || typeof keySelector2 !== 'function') {
      throw new TypeError(
        'ConnectedStreams.keyBy() needs a key selector function for each stream, e.g. keyBy(a => a.user, b => b.user)',
      );
    }
    return new ConnectedStreams<IN1, IN2, KEY>(
      this.env,
      this.first.keyBy(keySelector1),
      this.second.keyBy(keySelector2),
    );
  }

  /** Maps each element of either stream to one output element. */
  map<R>(fn: CoMapFunction<IN1, IN2, R>): SingleOutputStreamOperator<R> {
    if (typeof fn?.map1 !== 'function' || typeof fn.map2 !== 'function') {
      throw new TypeError(
        'ConnectedStreams.map() needs a CoMapFunction: an object with map1 and map2',
      );
    }
    return this.transform('Co-Map', { kind: 'coMap', fn });
  }

  /** Maps each element of either stream to zero or more output elements. */
  flatMap<R>(fn: CoFlatMapFunction<IN1, IN2, R>): SingleOutputStreamOperator<R> {
    if (typeof fn?.flatMap1 !== 'function' || typeof fn.flatMap2 !== 'function') {
      throw new TypeError(
        'ConnectedStreams.flatMap() needs a CoFlatMapFunction: an object with flatMap1 and flatMap2',
      );
    }
    return this.transform('Co-Flat Map', { kind: 'coFlatMap', fn });
  }

  /**
   * Applies a {@link CoProcessFunction}, or on keyed connected streams a
   * {@link KeyedCoProcessFunction} with keyed state and timers.
   */
  process<R>(
    fn: CoProcessFunction<IN1, IN2, R> | KeyedCoProcessFunction<K, IN1, IN2, R>,
  ): SingleOutputStreamOperator<R> {
    if (fn instanceof KeyedCoProcessFunction) {
      if (!this.isKeyed()) {
        throw new TypeError(
          'A KeyedCoProcessFunction needs keyed connected streams: call keyBy(k1, k2) on the connected streams, or connect two keyed streams',
        );
      }
      return this.transform('KeyedCoProcess', { kind: 'keyedCoProcess', fn });
    }
    return this.transform('Co-Process', { kind: 'coProcess', fn });
  }

  private isKeyed(): boolean {
    return (
      this.first.stateKeySelector() !== undefined && this.second.stateKeySelector() !== undefined
    );
  }

  private transform<R>(
    name: string,
    operator: TwoInputOperatorSpec,
  ): SingleOutputStreamOperator<R> {
    // As Flink: the operator is keyed only when both inputs are keyed streams.
    const keyed = this.isKeyed();
    const t = new TwoInputTransformation<IN1, IN2, R>(
      this.env.newId(),
      name,
      this.first.getTransformation(),
      this.second.getTransformation(),
      operator,
      keyed ? this.first.stateKeySelector() : undefined,
      keyed ? this.second.stateKeySelector() : undefined,
    );
    return this.first.operatorStream(t);
  }
}

import type { BroadcastStream } from './broadcast-stream.js';
import type {
  DataStream,
  SingleOutputStreamOperator,
  StreamEnvironmentHandle,
} from './datastream.js';
import { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from './functions.js';
import type { Key } from './state.js';
import type { TwoInputOperatorSpec } from './transformation.js';
import { TwoInputTransformation } from './transformation.js';

/**
 * A keyed or non-keyed stream connected with a {@link BroadcastStream} (Flink's
 * `BroadcastConnectedStream`): every element of the broadcast stream reaches every parallel
 * instance of the operator, which keeps the broadcast state; the other stream's elements reach
 * one instance each and read that state. A keyed stream takes a
 * {@link KeyedBroadcastProcessFunction}, a non-keyed one a {@link BroadcastProcessFunction}.
 * The operator's watermark is the minimum of both streams' watermarks.
 */
export class BroadcastConnectedStream<IN1, IN2, K extends Key = never> {
  /** @internal use `connect(broadcastStream)`. */
  constructor(
    /** @internal */ readonly env: StreamEnvironmentHandle,
    private readonly nonBroadcast: DataStream<IN1>,
    private readonly broadcastStream: BroadcastStream<IN2>,
  ) {}

  /** The non-broadcast stream. */
  getFirstInput(): DataStream<IN1> {
    return this.nonBroadcast;
  }
  /** The broadcast stream. */
  getSecondInput(): BroadcastStream<IN2> {
    return this.broadcastStream;
  }

  /**
   * Applies a {@link KeyedBroadcastProcessFunction} when the first stream is keyed, a
   * {@link BroadcastProcessFunction} when it is not; the other combination is an error.
   */
  process<OUT>(
    fn: KeyedBroadcastProcessFunction<K, IN1, IN2, OUT> | BroadcastProcessFunction<IN1, IN2, OUT>,
  ): SingleOutputStreamOperator<OUT> {
    const keyed = this.nonBroadcast.stateKeySelector() !== undefined;
    const broadcastStateDescriptors = [...this.broadcastStream.getBroadcastStateDescriptors()];
    if (fn instanceof KeyedBroadcastProcessFunction) {
      if (!keyed) {
        throw new TypeError(
          'A KeyedBroadcastProcessFunction can only be used on a keyed stream: call keyBy() before ' +
            'connect(broadcastStream), or use a BroadcastProcessFunction on a non-keyed stream',
        );
      }
      return this.transform('Co-Process-Broadcast-Keyed', {
        kind: 'keyedBroadcastProcess',
        fn,
        broadcastStateDescriptors,
      });
    }
    if (fn instanceof BroadcastProcessFunction) {
      if (keyed) {
        throw new TypeError(
          'A BroadcastProcessFunction can only be used on a non-keyed stream: on a keyed stream ' +
            'use a KeyedBroadcastProcessFunction',
        );
      }
      return this.transform('Co-Process-Broadcast', {
        kind: 'broadcastProcess',
        fn,
        broadcastStateDescriptors,
      });
    }
    throw new TypeError(
      'BroadcastConnectedStream.process() needs an instance of a BroadcastProcessFunction ' +
        '(non-keyed stream) or KeyedBroadcastProcessFunction (keyed stream) subclass',
    );
  }

  private transform<OUT>(
    name: string,
    operator: TwoInputOperatorSpec,
  ): SingleOutputStreamOperator<OUT> {
    // As Flink: keyed when the non-broadcast stream is; the broadcast input never is.
    const t = new TwoInputTransformation<IN1, IN2, OUT>(
      this.env.newId(),
      name,
      this.nonBroadcast.getTransformation(),
      this.broadcastStream.getTransformation(),
      operator,
      this.nonBroadcast.stateKeySelector(),
      undefined,
    );
    return this.nonBroadcast.operatorStream(t);
  }
}

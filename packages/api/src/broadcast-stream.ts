import type { StreamEnvironmentHandle } from './datastream.js';
import { MapStateDescriptor } from './state.js';
import type { Transformation } from './transformation.js';

/**
 * A stream whose every element goes to every parallel instance of the next operator, with the
 * broadcast state(s) that operator keeps (Flink's `BroadcastStream`). Made by
 * `stream.broadcast(descriptor, ...)`; its only use is as the argument of `connect` on a keyed or
 * non-keyed stream, giving a {@link BroadcastConnectedStream}.
 *
 * ```ts
 * const rulesDescriptor = new MapStateDescriptor<string, Rule>('RulesBroadcastState');
 * const rules = ruleStream.broadcast(rulesDescriptor);
 * items.keyBy((i) => i.color).connect(rules).process(new Matcher());
 * ```
 */
export class BroadcastStream<T> {
  private readonly descriptors: readonly MapStateDescriptor<any, any>[];

  /** @internal use `DataStream.broadcast(descriptor, ...)`. */
  constructor(
    /** @internal */ readonly env: StreamEnvironmentHandle,
    /** @internal The broadcast partitioning of the input stream. */
    readonly transformation: Transformation<T>,
    descriptors: readonly MapStateDescriptor<any, any>[],
  ) {
    for (const d of descriptors) {
      if (!(d instanceof MapStateDescriptor)) {
        throw new TypeError(
          `broadcast(...) takes the MapStateDescriptors of the broadcast states; got ${describe(d)}`,
        );
      }
    }
    this.descriptors = [...descriptors];
  }

  /** The descriptors of the broadcast states given to `broadcast(...)`. */
  getBroadcastStateDescriptors(): readonly MapStateDescriptor<any, any>[] {
    return this.descriptors;
  }

  /** The broadcast partitioning of the input stream. @internal */
  getTransformation(): Transformation<T> {
    return this.transformation;
  }
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  return `a ${(value as object).constructor?.name ?? 'object'}`;
}

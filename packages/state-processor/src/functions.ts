import type { Collector, Key, TimerService } from '@nimble/api';
import { RichFunction } from '@nimble/api';

/** What {@link KeyedStateBootstrapFunction.processElement} is given with each element. */
export interface KeyedStateBootstrapContext<K extends Key> {
  /** The key of the element, as the transformation's key selector returned it. */
  getCurrentKey(): K;
  /**
   * Timers for the current key, written into the savepoint: the restored job's
   * `KeyedProcessFunction.onTimer` fires them (event time when its watermark passes them,
   * processing time when its clock does, at once if already past). The watermark is
   * `MIN_TIMESTAMP` throughout the bootstrap.
   */
  timerService(): TimerService;
}

/**
 * Writes keyed state from the elements of a bounded stream into a new savepoint (Flink's
 * `KeyedStateBootstrapFunction`). Register state in `open` with
 * `getRuntimeContext().getState(...)` (or `getListState`, `getMapState`, `getReducingState`,
 * `getAggregatingState`: the descriptors a `KeyedProcessFunction` uses, TTL included); each call
 * of `processElement` runs with the element's key current, so state reads and writes are that
 * key's. The job that restores the savepoint must register the same state names with the same
 * kinds.
 *
 * ```ts
 * class TotalsBootstrap extends KeyedStateBootstrapFunction<string, Purchase> {
 *   private total!: ValueState<number>;
 *   override open(): void {
 *     this.total = this.getRuntimeContext().getState(new ValueStateDescriptor('total', 0));
 *   }
 *   processElement(p: Purchase): void {
 *     this.total.update(this.total.value() + p.amount);
 *   }
 * }
 * ```
 */
export abstract class KeyedStateBootstrapFunction<K extends Key, IN> extends RichFunction {
  /** Called once per element, with its key current. */
  abstract processElement(value: IN, ctx: KeyedStateBootstrapContext<K>): void;
}

/** What {@link KeyedStateReaderFunction.readKey} is given with each key. */
export interface KeyedStateReaderContext {
  /** The operator's uid. */
  getOperatorUid(): string;
}

/**
 * Reads the keyed state of one operator of a savepoint, key by key (Flink's
 * `KeyedStateReaderFunction`). Register the states to read in `open` with
 * `getRuntimeContext().getState(...)` etc., by the names and kinds the job registered them with;
 * `readKey` is then called once per key that has state in the default namespace, with that key
 * current, and emits what it likes through `out`.
 */
export abstract class KeyedStateReaderFunction<K extends Key, OUT> extends RichFunction {
  /** Called once per key, with the key current. */
  abstract readKey(key: K, ctx: KeyedStateReaderContext, out: Collector<OUT>): void;
}

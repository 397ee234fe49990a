import type { DataStream, Key, KeySelector } from '@nimble/api';
import type { KeyedStateBootstrapFunction } from './functions.js';

/**
 * Builds the state of one operator of a new savepoint from a bounded stream (Flink's
 * `OperatorTransformation`):
 *
 * ```ts
 * const totals = OperatorTransformation.bootstrapWith(history)
 *   .keyBy((p) => p.userId)
 *   .transform(new TotalsBootstrap());
 * writer.withOperator(OperatorIdentifier.forUid('totals'), totals);
 * ```
 */
export const OperatorTransformation = {
  /** Starts a transformation over the elements of `stream` (bounded: the job must end). */
  bootstrapWith<T>(stream: DataStream<T>): OneInputOperatorTransformation<T> {
    return new OneInputOperatorTransformation(stream);
  },
};

/** A bounded stream to bootstrap state from; key it with {@link keyBy}. */
export class OneInputOperatorTransformation<T> {
  /** @internal */
  constructor(readonly stream: DataStream<T>) {}

  /** Partitions the elements by key, as the job's own `keyBy` does, for keyed state. */
  keyBy<K extends Key>(keySelector: KeySelector<T, K>): KeyedOperatorTransformation<K, T> {
    if (typeof keySelector !== 'function') {
      throw new TypeError('keyBy() needs a key selector function, e.g. keyBy((e) => e.userId)');
    }
    return new KeyedOperatorTransformation(this.stream, keySelector);
  }
}

/** A keyed bounded stream; {@link transform} names the function that writes the state. */
export class KeyedOperatorTransformation<K extends Key, T> {
  /** @internal */
  constructor(
    readonly stream: DataStream<T>,
    readonly keySelector: KeySelector<T, K>,
  ) {}

  /** The state of the operator is what `fn` writes for each element. */
  transform(fn: KeyedStateBootstrapFunction<K, T>): BootstrapTransformation<K, T> {
    if (!fn || typeof fn.processElement !== 'function') {
      throw new TypeError('transform() needs a KeyedStateBootstrapFunction (with processElement)');
    }
    return new BootstrapTransformation(this.stream, this.keySelector, fn);
  }
}

/**
 * The state of one operator, to be written by `SavepointWriter.withOperator` (Flink's
 * `StateBootstrapTransformation`).
 */
export class BootstrapTransformation<K extends Key, T> {
  /** @internal */
  parallelism: number | undefined;

  /** @internal */
  constructor(
    readonly stream: DataStream<T>,
    readonly keySelector: KeySelector<T, K>,
    readonly fn: KeyedStateBootstrapFunction<K, T>,
  ) {}

  /**
   * The parallelism the state is written at (default: the environment's). Key groups are split
   * over the written subtasks as a job at this parallelism owns them; a job that restores the
   * savepoint at another parallelism redistributes them as usual.
   */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new RangeError(
        `setParallelism: parallelism must be a positive integer; got ${parallelism}`,
      );
    }
    this.parallelism = parallelism;
    return this;
  }
}

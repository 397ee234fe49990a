import type { KeyedStateStore } from './functions.js';
import type { OperatorStateStore } from './state.js';

/** What {@link CheckpointedFunction.snapshotState} gets (Flink's `FunctionSnapshotContext`). */
export interface FunctionSnapshotContext {
  /** The id of the checkpoint (or savepoint) being taken. */
  getCheckpointId(): number;
  /** When the checkpoint was triggered, in ms since the epoch. */
  getCheckpointTimestamp(): number;
}

/** What {@link CheckpointedFunction.initializeState} gets (Flink's `FunctionInitializationContext`). */
export interface FunctionInitializationContext {
  /**
   * Whether the job restored from a checkpoint or savepoint (as in Flink, also when it held no
   * state of this operator, e.g. one added since).
   */
  isRestored(): boolean;
  /** The id of the checkpoint or savepoint restored from; undefined on a fresh start. */
  getRestoredCheckpointId(): number | undefined;
  /**
   * The operator (non-keyed) state of this parallel instance: list state spread over the instances
   * when the job restores at another parallelism (`getListState`), or given whole to every
   * instance (`getUnionListState`).
   */
  getOperatorStateStore(): OperatorStateStore;
  /**
   * Keyed state, on a keyed stream: register state handles here; read and write them per element,
   * when the element's key is current. An error on a stream that is not keyed (Flink returns null).
   */
  getKeyedStateStore(): KeyedStateStore;
}

/**
 * A function with state of its own in checkpoints (Flink's `CheckpointedFunction`), implemented
 * by the function object of `map`, `flatMap`, `filter`, `process`, `reduce`, window functions and
 * connected streams' functions (implement both methods):
 *
 * - `initializeState` runs once per parallel instance before `open`, on a fresh start and on a
 *   restore: register operator state (and keyed state) there and read what was restored;
 * - `snapshotState` runs in every checkpoint's synchronous phase, before the operator state is
 *   captured: write what the instance holds in memory into its state.
 *
 * ```ts
 * class Buffering extends RichFlatMapFunction<number, number[]> implements CheckpointedFunction {
 *   private buffer: number[] = [];
 *   private state!: ListState<number>;
 *   initializeState(ctx: FunctionInitializationContext): void {
 *     this.state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>('buffer'));
 *     if (ctx.isRestored()) this.buffer = [...this.state.get()];
 *   }
 *   snapshotState(): void {
 *     this.state.update(this.buffer);
 *   }
 *   flatMap(n: number, out: Collector<number[]>): void { ... }
 * }
 * ```
 */
export interface CheckpointedFunction {
  /** Writes the instance's in-memory state into its registered state, for checkpoint `ctx`. */
  snapshotState(ctx: FunctionSnapshotContext): void;
  /** Registers state and reads what was restored; once per parallel instance, before `open`. */
  initializeState(ctx: FunctionInitializationContext): void;
}

/**
 * Reads a savepoint's state as bounded streams (Flink's `SavepointReader`). The streams belong to
 * the environment they were read with; run them with `env.execute()` (or `executeAndCollect`),
 * or make a table of them with the Table API's `fromDataStream`.
 */
import type { DataStream, Key, StreamExecutionEnvironment } from '@nimble/api';
import { WatermarkStrategy } from '@nimble/api';
import type { CheckpointMetadata, OperatorStateMetadata, S3Options } from '@nimble/runtime';
import { copyUserObject } from '@nimble/runtime';
import { StateProcessorError } from './errors.js';
import type { KeyedStateReaderFunction } from './functions.js';
import { KeyedStateSource } from './keyed-state-source.js';
import type { KeyedStateEntry } from './state-entries-source.js';
import { StateEntriesSource } from './state-entries-source.js';
import { OperatorIdentifier } from './operator-identifier.js';
import {
  fileSystemOf,
  readSavepointMetadata,
  s3OptionsOfEnvironment,
  savepointDirectoryOf,
} from './savepoint-files.js';

export class SavepointReader {
  private constructor(
    private readonly env: StreamExecutionEnvironment,
    /** The directory of the savepoint's `_metadata`. */
    readonly path: string,
    /** The savepoint's `_metadata`. */
    readonly metadata: CheckpointMetadata,
    private readonly s3: S3Options,
  ) {}

  /**
   * Opens the savepoint (or retained checkpoint) at `path`, its directory or its `_metadata`,
   * `file://` or `s3://` (with the environment's `s3.*` settings). Rejects with a
   * {@link StateProcessorError} when nothing readable is there.
   */
  static async read(env: StreamExecutionEnvironment, path: string): Promise<SavepointReader> {
    const dir = savepointDirectoryOf(path, 'SavepointReader.read');
    const s3 = s3OptionsOfEnvironment(env);
    const fs = fileSystemOf(dir, s3);
    try {
      return new SavepointReader(env, dir, await readSavepointMetadata(fs, dir), s3);
    } finally {
      fs.close();
    }
  }

  /** The uids of the savepoint's operators. */
  operatorUids(): string[] {
    return this.metadata.operators.map((o) => o.uid);
  }

  /**
   * The keyed state of operator `id` as a bounded stream of what `fn` emits per key (Flink's
   * `readKeyedState`). Read with the parallelism of the environment, at most one reader per
   * subtask of the savepoint that holds keyed state.
   */
  readKeyedState<K extends Key, OUT>(
    id: OperatorIdentifier,
    fn: KeyedStateReaderFunction<K, OUT>,
  ): DataStream<OUT> {
    if (!(id instanceof OperatorIdentifier)) {
      throw new TypeError('readKeyedState: name the operator with OperatorIdentifier.forUid(uid)');
    }
    if (!fn || typeof fn.readKey !== 'function') {
      throw new TypeError('readKeyedState needs a KeyedStateReaderFunction (with readKey)');
    }
    const operator = this.operator(id.uid, 'readKeyedState');
    const splits = operator.subtasks.filter((s) => s.keyed !== undefined).length;
    const source = new KeyedStateSource<K, OUT>(
      { savepointDir: this.path, s3: this.s3, operator },
      fn,
      copyUserObject,
    );
    const stream = this.env.fromSource(
      source,
      WatermarkStrategy.noWatermarks<OUT>(),
      `Keyed state of ${id.uid}`,
    );
    stream.setParallelism(Math.max(1, Math.min(this.env.getParallelism(), splits)));
    return stream;
  }

  /**
   * The entries of one keyed state of operator `id`, `{ key, namespace, value }`, without a
   * reader function: what the job stored (TTL timestamps taken off), read by one subtask. A state
   * the operator does not have fails the job with an error that lists the states it has.
   */
  readState<K extends Key = Key, V = unknown>(
    id: OperatorIdentifier,
    stateName: string,
  ): DataStream<KeyedStateEntry<K, V>> {
    if (!(id instanceof OperatorIdentifier)) {
      throw new TypeError('readState: name the operator with OperatorIdentifier.forUid(uid)');
    }
    this.operator(id.uid, 'readState');
    const source = new StateEntriesSource({
      savepointDir: this.path,
      s3: this.s3,
      uid: id.uid,
      stateName,
    });
    const stream = this.env.fromSource(
      source,
      WatermarkStrategy.noWatermarks<KeyedStateEntry>(),
      `State ${stateName} of ${id.uid}`,
    );
    stream.setParallelism(1);
    return stream as unknown as DataStream<KeyedStateEntry<K, V>>;
  }

  private operator(uid: string, method: string): OperatorStateMetadata {
    const op = this.metadata.operators.find((o) => o.uid === uid);
    if (op === undefined) {
      const known = this.operatorUids()
        .map((u) => JSON.stringify(u))
        .join(', ');
      throw new StateProcessorError(
        `${method}: the savepoint at ${this.path} has no operator with uid ${JSON.stringify(uid)}; ` +
          `its operators are ${known || '(none)'}`,
      );
    }
    return op;
  }
}

/**
 * The sink that writes one operator's keyed state for a new savepoint. Each subtask owns the key
 * groups a job at the transformation's parallelism would own (the stream is partitioned by key
 * group before it), runs the bootstrap function over its elements against a heap keyed state
 * backend, and at the end of input writes a canonical keyed state file, as a savepoint holds
 * it, plus a small part file with its handle. The writer's job listener turns the parts into
 * `_metadata` once the job has finished.
 */
import { randomBytes } from 'node:crypto';
import type {
  Key,
  KeySelector,
  RuntimeContext,
  Sink,
  SinkInitContext,
  SinkWriter,
  State,
  StateDescriptor,
  TimerService,
} from '@nimble/api';
import { ExecutionConfig, MIN_TIMESTAMP } from '@nimble/api';
import type {
  KeyedStateBackend,
  OperatorSubtaskState,
  S3Options,
  StateFileSystem,
} from '@nimble/runtime';
import {
  assembleKeyedStateFile,
  assignToKeyGroup,
  checkKey,
  copyUserObject,
  createKeyedStateBackend,
  encodeKey,
  fileSystemFor,
  InvalidKeyError,
  joinUri,
  KeyGroupRange,
} from '@nimble/runtime';
import { StateProcessorError } from './errors.js';
import type { KeyedStateBootstrapFunction } from './functions.js';

/** Where the subtasks leave their handles for the listener, under the savepoint directory. */
export const PARTS_DIRECTORY = '_bootstrap-parts';

/** What one bootstrapped operator is written as. */
export interface BootstrapTarget {
  readonly uid: string;
  /** A file-name-safe, unique prefix of the operator's files. */
  readonly filePrefix: string;
  readonly maxParallelism: number;
  readonly savepointDir: string;
  readonly s3: S3Options;
}

/** The name of subtask `subtask`'s part file of `target`. */
export function partFileName(target: BootstrapTarget, subtask: number): string {
  return `${target.filePrefix}-${subtask}.json`;
}

/** Checks a key returned by the bootstrap key selector, naming the operator. */
export function bootstrapKey(key: unknown, uid: string): Key {
  try {
    return checkKey(key, `Bootstrap of uid ${JSON.stringify(uid)}`);
  } catch (e) {
    if (e instanceof InvalidKeyError) throw new StateProcessorError(e.message, { cause: e });
    throw e;
  }
}

export class BootstrapSink<K extends Key, T> implements Sink<T> {
  constructor(
    private readonly target: BootstrapTarget,
    private readonly keySelector: KeySelector<T, K>,
    private readonly fn: KeyedStateBootstrapFunction<K, T>,
  ) {}

  private fnTaken = false;

  createWriter(context: SinkInitContext): SinkWriter<T> {
    // Subtasks that share a thread (the in-process executor) each need their own function
    // object: the fields open() sets are one subtask's state handles.
    const fn = this.fnTaken ? copyUserObject(this.fn) : this.fn;
    this.fnTaken = true;
    return new BootstrapWriter(this.target, this.keySelector, fn, context);
  }
}

class BootstrapWriter<K extends Key, T> implements SinkWriter<T> {
  private readonly backend: KeyedStateBackend;
  private readonly range: KeyGroupRange;
  private readonly subtask: number;
  private readonly name: string;
  private readonly opened: Promise<void>;
  private currentKey: K | undefined;
  private done = false;
  private currentKeyGroup = 0;
  /** Timers by key group, by `<type>:<timestamp>:<key id>`, in registration order. */
  private readonly timers = new Map<number, Map<string, [number, number, Key, string]>>();
  private readonly timerService: TimerService = {
    currentProcessingTime: () => Date.now(),
    currentWatermark: () => MIN_TIMESTAMP,
    registerEventTimeTimer: (t) => this.setTimer(0, t, true),
    registerProcessingTimeTimer: (t) => this.setTimer(1, t, true),
    deleteEventTimeTimer: (t) => this.setTimer(0, t, false),
    deleteProcessingTimeTimer: (t) => this.setTimer(1, t, false),
  };
  private readonly context = {
    getCurrentKey: (): K => this.currentKey as K,
    timerService: (): TimerService => this.timerService,
  };

  constructor(
    private readonly target: BootstrapTarget,
    private readonly keySelector: KeySelector<T, K>,
    private readonly fn: KeyedStateBootstrapFunction<K, T>,
    init: SinkInitContext,
  ) {
    this.subtask = init.getSubtaskId();
    const parallelism = init.getNumberOfParallelSubtasks();
    this.name = `Bootstrap ${JSON.stringify(target.uid)} (${this.subtask + 1}/${parallelism})`;
    this.range = KeyGroupRange.forOperatorIndex(target.maxParallelism, parallelism, this.subtask);
    this.backend = createKeyedStateBackend({
      kind: 'hashmap',
      operatorName: this.name,
      maxParallelism: target.maxParallelism,
      keyGroupRange: this.range,
    });
    // The heap backend opens synchronously; the promise is awaited before the snapshot.
    this.opened = this.backend.open();
    const ctx = this.runtimeContext(parallelism);
    fn.setRuntimeContext(ctx);
    fn.open(ctx);
  }

  private runtimeContext(parallelism: number): RuntimeContext {
    const keyed = <S extends State>(d: StateDescriptor<S>): S => {
      const state = this.backend.getState(d);
      state.setCurrentNamespace('');
      return state;
    };
    return {
      getTaskName: () => this.name,
      getTaskNameWithSubtasks: () => `${this.name}#0`,
      getGlobalJobParameters: () => ({}),
      getExecutionConfig: () => new ExecutionConfig({}),
      getIndexOfThisSubtask: () => this.subtask,
      getNumberOfParallelSubtasks: () => parallelism,
      getMaxNumberOfParallelSubtasks: () => this.target.maxParallelism,
      getAttemptNumber: () => 0,
      getState: keyed,
      getListState: keyed,
      getMapState: keyed,
      getReducingState: keyed,
      getAggregatingState: keyed,
    } as RuntimeContext;
  }

  private setTimer(type: number, timestamp: number, register: boolean): void {
    if (!Number.isFinite(timestamp)) {
      throw new StateProcessorError(
        `${this.name}: a timer needs a finite timestamp in ms; got ${String(timestamp)}`,
      );
    }
    const key = this.currentKey as Key;
    const id = `${type}:${timestamp}:${Buffer.from(encodeKey(key)).toString('latin1')}`;
    let group = this.timers.get(this.currentKeyGroup);
    if (register) {
      if (group === undefined) this.timers.set(this.currentKeyGroup, (group = new Map()));
      if (!group.has(id)) group.set(id, [type, timestamp, key, '']);
    } else {
      group?.delete(id);
    }
  }

  write(element: T): void {
    const key = bootstrapKey(this.keySelector(element), this.target.uid) as K;
    const keyGroup = assignToKeyGroup(key, this.target.maxParallelism);
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
    this.backend.setCurrentKey(key, keyGroup);
    this.fn.processElement(element, this.context);
  }

  async flush(endOfInput: boolean): Promise<void> {
    if (!endOfInput || this.done) return;
    this.done = true;
    await this.opened;
    const blocks = await this.backend.snapshot(0, 'canonical').materialize();
    // As the timer service snapshots them: per key group `[type, timestamp, key, namespace, ...]`.
    const timers = new Map<number, unknown[]>();
    for (const [kg, group] of this.timers) {
      if (group.size > 0) timers.set(kg, [...group.values()].flat());
    }
    const { bytes, offsets } = assembleKeyedStateFile(this.range.startKeyGroup, blocks, timers);
    const fs: StateFileSystem = fileSystemFor(this.target.savepointDir, this.target.s3);
    try {
      let state: OperatorSubtaskState = { subtask: this.subtask };
      if (bytes.length > 0) {
        const file = `${this.target.filePrefix}-${this.subtask}-0-${randomBytes(4).toString('hex')}`;
        await fs.write(joinUri(this.target.savepointDir, file), bytes);
        state = {
          subtask: this.subtask,
          keyed: {
            keyGroupRange: [this.range.startKeyGroup, this.range.endKeyGroup],
            files: [{ path: file, kind: 'canonical', size: bytes.length, offsets }],
          },
        };
      }
      await fs.write(
        joinUri(this.target.savepointDir, PARTS_DIRECTORY, partFileName(this.target, this.subtask)),
        Buffer.from(JSON.stringify(state)),
      );
    } finally {
      fs.close();
    }
  }

  async close(): Promise<void> {
    try {
      this.fn.close();
    } finally {
      await this.backend.close();
    }
  }
}

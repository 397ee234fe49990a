import type {
  CheckpointMetadata,
  JobPlan,
  ExecutionConfiguration,
  Logger,
  OperatorStateMetadata,
  OperatorSubtaskState,
  StateFileSystem,
  SubtaskCheckpointAck,
} from '@nimble/runtime';
import {
  checkpointDirectories,
  encodeMetadata,
  encodeOpaque,
  METADATA_FILE,
  METADATA_VERSION,
  resolveInside,
  savepointDirectory,
  TASK_NOT_RUNNING,
} from '@nimble/runtime';

/** The checkpoint settings of a job (Flink's keys, from the job's and the cluster's configuration). */
export interface CheckpointSettings {
  readonly interval: number;
  readonly timeout: number;
  readonly minPause: number;
  readonly tolerableFailures: number;
  readonly retained: number;
  readonly retention: ExecutionConfiguration['externalizedCheckpointRetention'];
  readonly checkpointsDir: string;
  readonly savepointsDir: string;
}

/** What the coordinator asks of its job. */
export interface CheckpointCoordinatorContext {
  readonly jobId: string;
  readonly plan: JobPlan;
  readonly settings: CheckpointSettings;
  readonly log: Logger;
  fileSystem(uri: string): StateFileSystem;
  /** Whether a checkpoint can start: the attempt runs and some source subtask has not finished. */
  canTrigger(): boolean;
  /** Tasks (`vertex/subtask`) of the current attempt that finished: they take part with empty state. */
  finishedTasks(): ReadonlySet<string>;
  /** The split enumerators' states by source vertex id (taken before the barriers). */
  snapshotEnumerators(checkpointId: number): Promise<Map<number, unknown>>;
  /** Sends the trigger to every source subtask of the current attempt. */
  triggerSources(checkpointId: number, options: TriggerOptions): Promise<void>;
  /** Tells every task that a checkpoint completed or was aborted; resolves when they processed it. */
  notifyTasks(checkpointId: number, aborted: boolean): Promise<void>;
  /** More consecutive checkpoint failures than tolerated: fail the job over. */
  failJob(error: Error): void;
}

export interface TriggerOptions {
  readonly timestamp: number;
  readonly savepoint: boolean;
  readonly targetDir: string;
  readonly sharedDir: string;
  /** Aligned even when the job's checkpoints are unaligned (a rescale's checkpoint). */
  readonly aligned?: boolean;
}

/** A checkpoint the job can restore from. */
export interface CompletedCheckpoint {
  readonly id: number;
  readonly savepoint: boolean;
  readonly metadataDir: string;
  readonly metadata: CheckpointMetadata;
  readonly metadataBytes: Uint8Array;
  readonly triggerTimestamp: number;
  readonly completedTimestamp: number;
  readonly stateSize: number;
  /** Shared incremental files it references (URIs). */
  readonly sharedFiles: readonly string[];
}

/** One line of the checkpoint history (Flink's REST shape). */
export interface CheckpointStats {
  readonly id: number;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  readonly is_savepoint: boolean;
  readonly trigger_timestamp: number;
  latest_ack_timestamp: number;
  state_size: number;
  end_to_end_duration: number;
  num_subtasks: number;
  num_acknowledged_subtasks: number;
  external_path: string;
  /** Some subtask took it unaligned (at once, or after the aligned checkpoint timeout). */
  unaligned: boolean;
  /** Bytes of in-flight buffers persisted over all subtasks (Flink's persisted_data). */
  persisted_data: number;
  failure_message?: string;
  /** What each subtask acknowledged, by `vertex/subtask` (REST's per-vertex details). */
  readonly acks: Map<string, SubtaskAckStats>;
}

/** One subtask's acknowledgement of a checkpoint, as the statistics keep it. */
export interface SubtaskAckStats {
  readonly vertexId: number;
  readonly subtask: number;
  readonly ackTimestamp: number;
  readonly stateSize: number;
  readonly syncDurationMs: number;
  readonly asyncDurationMs: number;
  readonly alignmentDurationMs: number;
  /** The checkpoint was unaligned at this subtask. */
  readonly unaligned: boolean;
  /** Bytes of in-flight buffers this subtask persisted. */
  readonly persistedBytes: number;
}

interface Pending {
  readonly id: number;
  readonly savepoint: boolean;
  readonly options: TriggerOptions;
  readonly acks: Map<string, SubtaskCheckpointAck>;
  readonly expected: number;
  enumerators: Map<number, unknown> | undefined;
  /** Set once `_metadata` is being written: the last ack and the trigger path may both get there. */
  completing: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly stats: CheckpointStats;
  readonly done: { resolve: (c: CompletedCheckpoint) => void; reject: (e: Error) => void };
}

const HISTORY = 10;

/** The acknowledgement of a task that finished: no state. */
const FINISHED_TASK_ACK: SubtaskCheckpointAck = {
  operators: {},
  stateSize: 0,
  syncDurationMs: 0,
  asyncDurationMs: 0,
  alignmentDurationMs: 0,
};

/**
 * Coordinates the checkpoints of one job (Flink's CheckpointCoordinator): triggers them
 * periodically at the sources (one at a time, with min pause and timeout), collects the
 * subtasks' acknowledgements, writes `_metadata` last and atomically, notifies the tasks, keeps
 * `state.checkpoints.num-retained` completed checkpoints and discards subsumed ones (shared
 * incremental files are reference-counted), and fails the job over after more consecutive
 * failures than `execution.checkpointing.tolerable-failed-checkpoints`.
 */
export class CheckpointCoordinator {
  private nextId: number;
  private pending: Pending | undefined;
  private readonly completed: CompletedCheckpoint[] = [];
  private readonly sharedRefs = new Map<string, number>();
  private consecutiveFailures = 0;
  private periodic: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  /** Checkpoints aborted by {@link stop}, to clean up again after the tasks stopped. */
  private readonly stoppedWhilePending: Pending[] = [];
  /**
   * Aborted checkpoints whose files could not be deleted (the storage failed them: read-only,
   * unreachable): deleted again when a later checkpoint completes or the attempt ends.
   */
  private readonly undiscarded: Pending[] = [];
  private lastEnd = 0;
  private savepointQueue: Promise<unknown> = Promise.resolve();
  // Statistics (REST and metrics)
  readonly counts = { completed: 0, failed: 0, restored: 0 };
  readonly history: CheckpointStats[] = [];
  latestFailed: CheckpointStats | undefined;
  latestSavepoint: CheckpointStats | undefined;
  restored:
    { id: number; path: string; restoreTimestamp: number; isSavepoint: boolean } | undefined;
  lastDurationMs = 0;
  lastSizeBytes = 0;

  constructor(
    private readonly ctx: CheckpointCoordinatorContext,
    /** The id the first checkpoint gets (after the one restored from, when recovering). */
    firstId = 1,
  ) {
    this.nextId = firstId;
  }

  get settings(): CheckpointSettings {
    return this.ctx.settings;
  }
  get inProgress(): number {
    return this.pending ? 1 : 0;
  }
  /** The latest completed checkpoint or savepoint to restore from. */
  latestCompleted(): CompletedCheckpoint | undefined {
    return this.completed.at(-1);
  }
  /** Drops a checkpoint that cannot be restored, so recovery falls back to the one before. */
  dropUnrestorable(id: number): boolean {
    const i = this.completed.findIndex((c) => c.id === id);
    if (i < 0 || this.completed.length < 2) return false;
    this.completed.splice(i, 1);
    return true;
  }
  /** Checkpoint ids continue after `id` (the savepoint or checkpoint a job was started from). */
  continueAfter(id: number): void {
    this.nextId = Math.max(this.nextId, id + 1);
  }
  /** Adds a checkpoint found at start (recovery) or restored from; it may be subsumed later. */
  addRestored(c: CompletedCheckpoint, subsumable: boolean): void {
    this.nextId = Math.max(this.nextId, c.id + 1);
    if (subsumable) {
      this.completed.push(c);
      for (const f of c.sharedFiles) this.sharedRefs.set(f, (this.sharedRefs.get(f) ?? 0) + 1);
    }
  }

  /** Starts periodic checkpoints (when enabled) for a running attempt. */
  startPeriodic(): void {
    if (this.ctx.settings.interval <= 0) return;
    this.running = true;
    this.scheduleNext(this.ctx.settings.interval);
  }

  /**
   * Stops periodic checkpoints and aborts the pending one (the attempt ended). Call
   * {@link discardStopped} once the attempt's tasks are stopped.
   */
  stop(reason: string): void {
    this.running = false;
    if (this.periodic) clearTimeout(this.periodic);
    this.periodic = undefined;
    const p = this.pending;
    if (p) {
      this.abort(p, new Error(`Checkpoint ${p.id} was aborted: ${reason}`), false);
      this.stoppedWhilePending.push(p);
    }
  }

  /**
   * Deletes again what the checkpoints aborted by {@link stop} wrote, now that the tasks are
   * stopped: an upload that ended after the first cleanup (its task was cancelled before the
   * abort notification reached it) left its files behind it.
   */
  async discardStopped(): Promise<void> {
    for (const p of this.stoppedWhilePending.splice(0)) await this.discardPartial(p);
    await this.discardAgain();
  }

  /** Deletes again the files of aborted checkpoints whose cleanup failed. */
  private async discardAgain(): Promise<void> {
    for (const p of this.undiscarded.splice(0)) await this.discardPartial(p);
  }

  /** Takes a savepoint; resolves with it once complete. Waits for a checkpoint in progress. */
  triggerSavepoint(targetDirectory: string): Promise<CompletedCheckpoint> {
    const dir = targetDirectory || this.ctx.settings.savepointsDir;
    if (!dir) {
      return Promise.reject(
        new Error(
          'No savepoint directory: give a target directory or set state.savepoints.dir in the configuration',
        ),
      );
    }
    const run = async (): Promise<CompletedCheckpoint> => {
      while (this.pending) await this.whenSettled(this.pending);
      const target = savepointDirectory(dir, this.ctx.jobId);
      return this.trigger(true, { targetDir: target, sharedDir: target });
    };
    const result = this.savepointQueue.then(run, run);
    this.savepointQueue = result.catch(() => {});
    return result;
  }

  /**
   * A checkpoint a user asked for (REST, `nimble checkpoint`): like a savepoint, it waits for a
   * checkpoint in progress rather than failing.
   */
  triggerOnDemand(options: { readonly aligned?: boolean } = {}): Promise<CompletedCheckpoint> {
    const run = async (): Promise<CompletedCheckpoint> => {
      while (this.pending) await this.whenSettled(this.pending);
      return this.triggerCheckpoint(options.aligned === true);
    };
    const result = this.savepointQueue.then(run, run);
    this.savepointQueue = result.catch(() => {});
    return result;
  }

  /** Triggers a checkpoint now (periodic, or for tests). */
  triggerCheckpoint(aligned = false): Promise<CompletedCheckpoint> {
    const id = this.nextId;
    const dirs = checkpointDirectories(this.checkpointsDir(), this.ctx.jobId, id);
    return this.trigger(false, {
      targetDir: dirs.targetDir,
      sharedDir: dirs.sharedDir,
      ...(aligned ? { aligned } : {}),
    });
  }

  /**
   * A subtask acknowledged checkpoint `checkpointId` (acks of checkpoints no longer pending are
   * ignored). Throws, and the caller refuses the call, when the subtask already acknowledged it,
   * or when a state file path leaves the checkpoint's directories: the checkpoint is then
   * declined, and its cleanup deletes nothing the ack named.
   */
  onAcknowledge(
    checkpointId: number,
    vertexId: number,
    subtask: number,
    ack: SubtaskCheckpointAck,
  ): void {
    const p = this.pending;
    if (!p || p.id !== checkpointId) return;
    const key = `${vertexId}/${subtask}`;
    if (p.acks.has(key)) {
      throw new Error(`Task ${key} already acknowledged checkpoint ${checkpointId}`);
    }
    try {
      for (const state of Object.values(ack.operators)) {
        for (const f of state.keyed?.files ?? []) this.stateFileUri(p, f.path);
        if (state.channelState) this.stateFileUri(p, state.channelState.path);
      }
    } catch (e) {
      const error = new Error(
        `Checkpoint ${checkpointId}: the acknowledgement of task ${key} was refused: ${(e as Error).message}`,
      );
      this.abort(p, error, true);
      throw error;
    }
    p.acks.set(`${vertexId}/${subtask}`, ack);
    const now = Date.now();
    p.stats.acks.set(key, {
      vertexId,
      subtask,
      ackTimestamp: now,
      stateSize: ack.stateSize,
      syncDurationMs: ack.syncDurationMs,
      asyncDurationMs: ack.asyncDurationMs,
      alignmentDurationMs: ack.alignmentDurationMs,
      unaligned: ack.unaligned ?? false,
      persistedBytes: ack.persistedBytes ?? 0,
    });
    if (ack.unaligned) p.stats.unaligned = true;
    p.stats.persisted_data += ack.persistedBytes ?? 0;
    p.stats.num_acknowledged_subtasks = p.acks.size;
    p.stats.latest_ack_timestamp = now;
    p.stats.state_size += ack.stateSize;
    if (p.acks.size === p.expected && p.enumerators) void this.complete(p);
  }

  /**
   * A task finished. If it did before the barrier reached it, it takes part in the pending
   * checkpoint with empty state (its input ended and its output went out before the barrier;
   * FLIP-147's "finished" operator).
   */
  onTaskFinished(vertexId: number, subtask: number): void {
    const p = this.pending;
    const key = `${vertexId}/${subtask}`;
    if (!p || p.acks.has(key)) return;
    this.onAcknowledge(p.id, vertexId, subtask, FINISHED_TASK_ACK);
  }

  onDecline(checkpointId: number, vertexId: number, subtask: number, reason: Error): void {
    const p = this.pending;
    if (!p || p.id !== checkpointId) return;
    // A task that reached the end of its input cannot take part: abort without counting a
    // failure (as Flink does before all tasks run); anything else counts.
    this.abort(
      p,
      new Error(
        `Checkpoint ${checkpointId} was declined by task ${vertexId}/${subtask}: ${reason.message}`,
      ),
      reason.name !== TASK_NOT_RUNNING,
    );
  }

  /** Discards the retained checkpoints (job cancelled under DELETE_ON_CANCELLATION, or finished). */
  async discardAll(): Promise<void> {
    for (const c of this.completed.splice(0)) await this.discard(c);
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * The URI of a state file an ack names, which must lie in the checkpoint's directory or (for
   * incremental checkpoints) the job's shared directory.
   */
  private stateFileUri(p: Pending, path: string): string {
    const { targetDir, sharedDir } = p.options;
    return resolveInside(targetDir, path, p.savepoint ? [targetDir] : [targetDir, sharedDir]);
  }

  private checkpointsDir(): string {
    return this.ctx.settings.checkpointsDir;
  }

  private scheduleNext(delay: number): void {
    if (!this.running) return;
    if (this.periodic) clearTimeout(this.periodic);
    this.periodic = setTimeout(
      () => {
        this.periodic = undefined;
        if (!this.running) return;
        if (this.pending || !this.ctx.canTrigger()) {
          this.scheduleNext(this.ctx.settings.interval);
          return;
        }
        this.triggerCheckpoint().catch(() => {});
      },
      Math.max(0, delay),
    );
  }

  private whenSettled(p: Pending): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.pending !== p) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
  }

  private trigger(
    savepoint: boolean,
    dirs: { targetDir: string; sharedDir: string; aligned?: boolean },
  ): Promise<CompletedCheckpoint> {
    if (this.pending) return Promise.reject(new Error('A checkpoint is already in progress'));
    if (!this.ctx.canTrigger()) {
      return Promise.reject(
        new Error(
          'The job is not running, or all its sources have finished: no checkpoint can start',
        ),
      );
    }
    const id = this.nextId++;
    const timestamp = Date.now();
    const expected = this.ctx.plan.vertices.reduce((n, v) => n + v.parallelism, 0);
    let done!: Pending['done'];
    const promise = new Promise<CompletedCheckpoint>(
      (resolve, reject) => (done = { resolve, reject }),
    );
    promise.catch(() => {});
    const stats: CheckpointStats = {
      id,
      status: 'IN_PROGRESS',
      is_savepoint: savepoint,
      trigger_timestamp: timestamp,
      latest_ack_timestamp: -1,
      state_size: 0,
      end_to_end_duration: 0,
      num_subtasks: expected,
      num_acknowledged_subtasks: 0,
      external_path: dirs.targetDir,
      unaligned: false,
      persisted_data: 0,
      acks: new Map(),
    };
    const options: TriggerOptions = { timestamp, savepoint, ...dirs };
    const p: Pending = {
      id,
      savepoint,
      options,
      acks: new Map(),
      expected,
      enumerators: undefined,
      completing: false,
      timer: undefined,
      stats,
      done,
    };
    this.pending = p;
    for (const key of this.ctx.finishedTasks()) p.acks.set(key, FINISHED_TASK_ACK);
    stats.num_acknowledged_subtasks = p.acks.size;
    this.history.unshift(stats);
    if (this.history.length > HISTORY) this.history.pop();
    p.timer = setTimeout(
      () =>
        this.abort(
          p,
          new Error(
            `Checkpoint ${id} expired before completing (execution.checkpointing.timeout ${this.ctx.settings.timeout} ms)`,
          ),
          true,
        ),
      this.ctx.settings.timeout,
    );
    void (async () => {
      // The enumerators' state first: splits they hand out after this reach the readers after
      // the barrier, so a restore assigns them again rather than losing them.
      p.enumerators = await this.ctx.snapshotEnumerators(id);
      await this.ctx.triggerSources(id, options);
      if (this.pending === p && p.acks.size === p.expected) await this.complete(p);
    })().catch((e: unknown) => {
      if (this.pending === p) this.abort(p, e instanceof Error ? e : new Error(String(e)), true);
    });
    return promise;
  }

  private async complete(p: Pending): Promise<void> {
    if (this.pending !== p || p.completing) return;
    p.completing = true;
    const metadata = this.buildMetadata(p);
    const metadataBytes = encodeMetadata(metadata);
    const uri = `${p.options.targetDir}/${METADATA_FILE}`;
    try {
      await this.ctx.fileSystem(uri).writeAtomic(uri, metadataBytes);
    } catch (e) {
      this.abort(
        p,
        new Error(`Checkpoint ${p.id}: writing ${uri} failed: ${(e as Error).message}`),
        true,
      );
      return;
    }
    if (this.pending !== p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    this.lastEnd = Date.now();
    const sharedFiles = new Set<string>();
    for (const op of metadata.operators) {
      for (const st of op.subtasks) {
        for (const f of st.keyed?.files ?? []) {
          if (f.path.startsWith('../')) sharedFiles.add(this.stateFileUri(p, f.path));
        }
      }
    }
    const completed: CompletedCheckpoint = {
      id: p.id,
      savepoint: p.savepoint,
      metadataDir: p.options.targetDir,
      metadata,
      metadataBytes,
      triggerTimestamp: p.options.timestamp,
      completedTimestamp: this.lastEnd,
      stateSize: p.stats.state_size,
      sharedFiles: [...sharedFiles],
    };
    p.stats.status = 'COMPLETED';
    p.stats.end_to_end_duration = this.lastEnd - p.options.timestamp;
    this.lastDurationMs = p.stats.end_to_end_duration;
    this.lastSizeBytes = p.stats.state_size;
    this.counts.completed++;
    if (p.savepoint) {
      this.latestSavepoint = p.stats;
    } else {
      this.consecutiveFailures = 0;
      this.completed.push(completed);
      for (const f of sharedFiles) this.sharedRefs.set(f, (this.sharedRefs.get(f) ?? 0) + 1);
    }
    this.ctx.log.info(
      {
        checkpoint_id: p.id,
        savepoint: p.savepoint,
        duration_ms: p.stats.end_to_end_duration,
        size: p.stats.state_size,
      },
      `${p.savepoint ? 'savepoint' : 'checkpoint'} completed`,
    );
    try {
      await this.ctx.notifyTasks(p.id, false);
    } catch (e) {
      this.ctx.log.warn({ err: e, checkpoint_id: p.id }, 'notifying the tasks failed');
    }
    p.done.resolve(completed);
    while (this.completed.length > this.ctx.settings.retained) {
      await this.discard(this.completed.shift()!);
    }
    // The storage took a whole checkpoint: it takes deletes again.
    if (!p.savepoint) await this.discardAgain();
    this.scheduleNext(
      Math.max(
        this.ctx.settings.minPause,
        p.options.timestamp + this.ctx.settings.interval - Date.now(),
      ),
    );
  }

  private abort(p: Pending, error: Error, countFailure: boolean): void {
    if (this.pending !== p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    this.lastEnd = Date.now();
    p.stats.status = 'FAILED';
    p.stats.failure_message = error.message;
    p.stats.end_to_end_duration = this.lastEnd - p.options.timestamp;
    this.latestFailed = p.stats;
    this.counts.failed++;
    this.ctx.log.warn({ checkpoint_id: p.id, reason: error.message }, 'checkpoint failed');
    p.done.reject(error);
    // The cleanup follows the tasks' abort notification: an upload still running then deletes
    // its own files, and those written before are found here.
    void this.ctx
      .notifyTasks(p.id, true)
      .catch(() => {})
      .then(() => this.discardPartial(p));
    if (countFailure && !p.savepoint) {
      this.consecutiveFailures++;
      if (this.consecutiveFailures > this.ctx.settings.tolerableFailures) {
        this.consecutiveFailures = 0;
        this.ctx.failJob(
          new Error(
            `Exceeded checkpoint tolerable failure threshold (execution.checkpointing.tolerable-failed-checkpoints = ${this.ctx.settings.tolerableFailures}). The latest checkpoint failed: ${error.message}`,
          ),
        );
        return;
      }
    }
    this.scheduleNext(
      Math.max(
        this.ctx.settings.minPause,
        p.options.timestamp + this.ctx.settings.interval - Date.now(),
      ),
    );
  }

  private buildMetadata(p: Pending): CheckpointMetadata {
    const operators: OperatorStateMetadata[] = [];
    for (const v of this.ctx.plan.vertices) {
      for (const [index, op] of (v.operators ?? []).entries()) {
        const subtasks: OperatorSubtaskState[] = [];
        for (let s = 0; s < v.parallelism; s++) {
          const state = p.acks.get(`${v.id}/${s}`)?.operators[op.uid];
          if (state) subtasks.push({ subtask: s, ...state });
        }
        const enumState = index === 0 ? p.enumerators?.get(v.id) : undefined;
        operators.push({
          uid: op.uid,
          name: op.name,
          parallelism: v.parallelism,
          maxParallelism: v.maxParallelism,
          ...(enumState === undefined ? {} : { coordinatorState: encodeOpaque(enumState) }),
          subtasks,
        });
      }
    }
    return {
      version: METADATA_VERSION,
      jobId: this.ctx.jobId,
      checkpointId: p.id,
      type: p.savepoint ? 'SAVEPOINT' : 'CHECKPOINT',
      timestamp: p.options.timestamp,
      operators,
    };
  }

  /** Deletes a subsumed checkpoint: its directory and the shared files no one else references. */
  private async discard(c: CompletedCheckpoint): Promise<void> {
    const fs = this.ctx.fileSystem(c.metadataDir);
    try {
      for (const f of c.sharedFiles) {
        const n = (this.sharedRefs.get(f) ?? 1) - 1;
        if (n > 0) {
          this.sharedRefs.set(f, n);
          continue;
        }
        this.sharedRefs.delete(f);
        await fs.delete(f);
      }
      await fs.deleteRecursive(c.metadataDir);
    } catch (e) {
      this.ctx.log.warn({ err: e, checkpoint_id: c.id }, 'discarding a subsumed checkpoint failed');
    }
  }

  /**
   * Deletes what a failed checkpoint or savepoint wrote (best effort): its directory, the shared
   * files of its acks, and shared files of its id that no ack named (a subtask whose upload
   * failed half-way). State file names end in `-<subtask>-<checkpoint id>-<8 hex>`.
   */
  private async discardPartial(p: Pending): Promise<void> {
    try {
      const fs = this.ctx.fileSystem(p.options.targetDir);
      if (p.savepoint) {
        await fs.deleteRecursive(p.options.targetDir);
        return;
      }
      const ofThisCheckpoint = new RegExp(`-\\d+-${p.id}-[0-9a-f]{8}$`);
      for (const name of await fs.list(p.options.sharedDir)) {
        const uri = `${p.options.sharedDir}/${name}`;
        if (ofThisCheckpoint.test(name) && !this.sharedRefs.has(uri)) await fs.delete(uri);
      }
      for (const ack of p.acks.values()) {
        for (const state of Object.values(ack.operators)) {
          const files = state.keyed?.files ?? [];
          const own = files.at(-1);
          if (own?.path.startsWith('../')) {
            // Acks were checked on arrival; checked again, so a cleanup never deletes outside.
            let uri: string;
            try {
              uri = this.stateFileUri(p, own.path);
            } catch {
              continue;
            }
            if (!this.sharedRefs.has(uri)) await fs.delete(uri);
          }
        }
      }
      await fs.deleteRecursive(p.options.targetDir);
    } catch (e) {
      // The storage that failed the checkpoint may fail its cleanup too (read-only, unreachable).
      this.ctx.log.warn(
        { err: e, checkpoint_id: p.id },
        'deleting the files of an aborted checkpoint failed; trying again after the next completed checkpoint',
      );
      if (!this.undiscarded.includes(p)) this.undiscarded.push(p);
    }
  }
}

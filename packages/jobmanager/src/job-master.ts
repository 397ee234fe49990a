import type { SourceSplit } from '@nimble/api';
import type {
  JobDetails,
  JobEvent,
  JobResult,
  SerializedError as WireError,
  SlotLocation,
  SubtaskExecution,
  TaskExecutionState__Output,
  TaskMetrics__Output,
} from '@nimble/proto';
import type {
  FailureRecord,
  JobPlan,
  Logger,
  StateFileSystem,
  SubtaskCheckpointAck,
} from '@nimble/runtime';
import {
  decodeOpaque,
  ensureError,
  failureRecordOf,
  NimbleError,
  parseExecutionConfiguration,
  parseFailureRecord,
  RemoteFailure,
  slotsRequired,
  SplitEnumeratorHost,
} from '@nimble/runtime';
import { randomBytes } from 'node:crypto';
import type { CheckpointSettings, CompletedCheckpoint } from './checkpoint-coordinator.js';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import { serialize } from 'node:v8';
import type { JobStatus } from './job-status.js';
import { checkTransition, isTerminal } from './job-status.js';
import type { RestartStrategy } from './restart-strategy.js';
import { registerQueryableState } from './queryable-state.js';
import type { QueryableStateLocation } from './state-query.js';
import type {
  RegisteredTaskManager,
  SlotAssignment,
  TaskManagerRegistry,
} from './task-manager-registry.js';

/** What a job master needs from its JobManager. */
export interface JobMasterContext {
  readonly registry: TaskManagerRegistry;
  readonly bundlePath: string;
  readonly slotRequestTimeoutMs: number;
  readonly log: Logger;
  fileSystem(uri: string): StateFileSystem;
}

/** A checkpoint or savepoint to start from. */
export type RestoreSource = Pick<
  CompletedCheckpoint,
  'id' | 'metadataDir' | 'metadata' | 'metadataBytes' | 'savepoint'
>;

/** A job that was submitted. */
export interface JobSubmission {
  readonly jobId: string;
  readonly plan: JobPlan;
  readonly bundleHash: string;
  readonly graphDigest: string;
  readonly configuration: Record<string, string>;
  readonly programArgs: string[];
  readonly restartStrategy: RestartStrategy;
  readonly checkpointSettings: CheckpointSettings;
  /** `run -s`: the savepoint (or retained checkpoint) the job starts from. */
  readonly initialRestore?: RestoreSource;
}

/** Flink's checkpoint types of a checkpoint a user asks for. */
export type CheckpointType = 'CONFIGURED' | 'FULL' | 'INCREMENTAL';

/** The job cannot get the slots it needs (Flink's NoResourceAvailableException). */
export class NoResourceAvailableError extends NimbleError {
  override name = 'NoResourceAvailableError';
  constructor(message: string) {
    super(message, 'external');
  }
}

/**
 * One execution of one subtask (Flink's Execution): its random 128-bit id is what the TaskManager
 * running it names in every report, and what the JobManager checks reports against.
 */
export interface Execution {
  readonly id: string;
  readonly attempt: number;
  readonly vertexId: number;
  readonly subtask: number;
  readonly resourceId: string;
  readonly registrationId: string;
  /** The terminal state it reported (FINISHED or FAILED): reported once. */
  final: string | undefined;
  /** Its source reader registered: once. */
  readerRegistered: boolean;
}

/** What a report of a TaskManager names: the attempt, the execution and the subtask. */
export interface ReportOrigin {
  readonly attempt: number;
  readonly executionId: string;
  /** -1 for a report about a whole slot worker (`subtask` is then the job slot). */
  readonly vertexId: number;
  readonly subtask: number;
}

/** Attempts whose execution ids are kept, so late reports of a failed attempt are known. */
const ATTEMPTS_REMEMBERED = 4;

/** One execution attempt: where its subtasks run and how far they got. */
interface Deployment {
  readonly attempt: number;
  readonly slots: SlotAssignment[];
  enumerators: SplitEnumeratorHost | undefined;
  finished: number;
  readonly total: number;
  readonly collected: Map<string, Map<number, unknown[]>>;
  /** Split assignments go out one after another, in the enumerators' order. */
  assignments: Promise<void>;
  /** The checkpoint this attempt restored from. */
  readonly restoredFrom: RestoreSource | undefined;
  /** When the attempt got its slots and began deploying. */
  readonly startTime: number;
}

/** A report was refused: it names no execution of this job that runs where it came from. */
export class ReportRefusedError extends NimbleError {
  override name = 'ReportRefusedError';
  constructor(message: string) {
    super(message, 'external');
  }
}

interface ExceptionEntry {
  readonly timestamp: number;
  readonly error: WireError;
  readonly taskManager: string;
}

/**
 * Runs one job (Flink's JobMaster): takes slots, deploys the subtasks to TaskManagers, runs the
 * split enumerators, follows the subtasks' states, and restarts the job under its restart
 * strategy when a task fails or a TaskManager is lost. Status changes go through
 * {@link transition}, checked against the table in job-status.ts.
 */
export class JobMaster {
  readonly jobId: string;
  readonly name: string;
  readonly startTime = Date.now();
  status: JobStatus = 'CREATED';
  statusMessage = '';
  endTime = -1;
  numRestarts = 0;
  failure: WireError | undefined;
  result: JobResult | undefined;
  readonly timestamps: Partial<Record<JobStatus, number>> = { CREATED: Date.now() };
  readonly exceptions: ExceptionEntry[] = [];
  /** Latest counters per `vertex/subtask`, from heartbeats and finished tasks. */
  readonly taskMetrics = new Map<string, TaskMetrics__Output>();
  readonly finishedTasks = new Set<string>();
  /** Queryable states by name, as the subtasks registered them (kept across restarts). */
  readonly queryableStates = new Map<string, QueryableStateLocation>();
  private attempt = 0;
  private deployment: Deployment | undefined;
  /** Execution ids of the recent attempts (see {@link admit}). */
  private readonly executions = new Map<string, Execution>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly log: Logger;
  readonly checkpoints: CheckpointCoordinator;

  constructor(
    readonly submission: JobSubmission,
    private readonly ctx: JobMasterContext,
  ) {
    this.jobId = submission.jobId;
    this.name = submission.plan.jobName;
    this.log = ctx.log.child({ job_id: this.jobId });
    this.checkpoints = new CheckpointCoordinator({
      jobId: this.jobId,
      plan: submission.plan,
      settings: submission.checkpointSettings,
      log: this.log,
      fileSystem: (uri) => ctx.fileSystem(uri),
      canTrigger: () => {
        const d = this.deployment;
        if (this.status !== 'RUNNING' || d === undefined) return false;
        return this.submission.plan.vertices.some(
          (v) =>
            v.inputs.length === 0 &&
            Array.from({ length: v.parallelism }, (_, s) => s).some(
              (s) => !this.finishedTasks.has(`${v.id}/${s}`),
            ),
        );
      },
      finishedTasks: () => this.finishedTasks,
      snapshotEnumerators: (id) => this.snapshotEnumerators(id),
      triggerSources: (id, options) => this.triggerSources(id, options),
      notifyTasks: (id, aborted) => this.notifyTasks(id, aborted),
      failJob: (error) => {
        const d = this.deployment;
        if (d) this.onFailure(d.attempt, new NimbleError(error.message, 'external'), '');
      },
    });
    // As in Flink, a job started from a savepoint numbers its checkpoints on from the savepoint's
    // id: two-phase-commit sinks name their transactions by checkpoint id.
    if (submission.initialRestore) this.checkpoints.continueAfter(submission.initialRestore.id);
  }

  // ---- checkpoints -------------------------------------------------------------------------

  /**
   * Checks a report of TaskManager `tm` before anything acts on it: the execution id it names
   * must be one this job master issued, to a subtask that exists, deployed on that TaskManager
   * under its current registration, for the attempt and subtask the report names. Returns the
   * execution when it belongs to the running attempt, undefined when to an earlier one (late
   * reports of a failed attempt are ignored, as before). Throws {@link ReportRefusedError}
   * otherwise.
   */
  admit(tm: RegisteredTaskManager, r: ReportOrigin): Execution | undefined {
    const ex = this.executions.get(r.executionId);
    if (!ex)
      throw new ReportRefusedError(`no execution ${short(r.executionId)} of job ${this.jobId}`);
    if (ex.resourceId !== tm.resourceId || ex.registrationId !== tm.registrationId) {
      throw new ReportRefusedError(
        `execution ${short(r.executionId)} does not run on TaskManager ${tm.resourceId}`,
      );
    }
    const sameTask =
      r.vertexId === -1
        ? r.subtask === ex.subtask
        : r.vertexId === ex.vertexId && r.subtask === ex.subtask;
    if (r.attempt !== ex.attempt || !sameTask) {
      throw new ReportRefusedError(
        `execution ${short(r.executionId)} is task ${ex.vertexId}/${ex.subtask} of attempt ${ex.attempt}, ` +
          `not ${r.vertexId}/${r.subtask} of attempt ${r.attempt}`,
      );
    }
    return this.deployment?.attempt === ex.attempt && !isTerminal(this.status) ? ex : undefined;
  }

  /** Throws (the call is refused) for a duplicate or one whose state paths leave the checkpoint. */
  onCheckpointAck(ex: Execution, checkpointId: number, ack: SubtaskCheckpointAck): void {
    this.checkpoints.onAcknowledge(checkpointId, ex.vertexId, ex.subtask, ack);
  }

  onCheckpointDecline(ex: Execution, checkpointId: number, reason: FailureRecord): void {
    this.checkpoints.onDecline(checkpointId, ex.vertexId, ex.subtask, new RemoteFailure(reason));
  }

  /**
   * Why a checkpoint of `type` cannot be taken now (Flink's checkpoint types: CONFIGURED, FULL,
   * INCREMENTAL), or undefined when it can. A job takes the kind its configuration sets.
   */
  checkpointRefusal(type: CheckpointType): string | undefined {
    if (this.status !== 'RUNNING')
      return `Job ${this.jobId} is ${this.status}; a checkpoint needs a RUNNING job`;
    if (this.checkpoints.settings.interval <= 0)
      return `Checkpointing is not enabled for job ${this.jobId} (execution.checkpointing.interval)`;
    const exec = parseExecutionConfiguration(this.submission.configuration);
    const incremental = exec.incrementalCheckpoints && exec.stateBackend === 'level';
    if (type === 'FULL' && incremental)
      return `Job ${this.jobId} takes incremental checkpoints (state.backend.incremental); take a savepoint for a full copy of its state`;
    if (type === 'INCREMENTAL' && !incremental)
      return `Job ${this.jobId} takes full checkpoints: incremental ones need state.backend.type level and state.backend.incremental`;
    return undefined;
  }

  /** Takes a checkpoint now, after one in progress; resolves when it is complete. */
  checkpointNow(type: CheckpointType): Promise<CompletedCheckpoint> {
    const refusal = this.checkpointRefusal(type);
    if (refusal) return Promise.reject(new Error(refusal));
    return this.checkpoints.triggerOnDemand();
  }

  /** Takes a savepoint; with `stop`, the job then ends FINISHED (Flink's stop-with-savepoint). */
  async savepoint(targetDirectory: string, stop: boolean, drain: boolean): Promise<string> {
    if (this.status !== 'RUNNING') {
      throw new Error(`Job ${this.jobId} is ${this.status}; a savepoint needs a RUNNING job`);
    }
    this.pendingDrain = stop && drain;
    let completed: CompletedCheckpoint;
    try {
      completed = await this.checkpoints.triggerSavepoint(targetDirectory);
    } finally {
      this.pendingDrain = false;
    }
    if (stop && !isTerminal(this.status)) {
      const d = this.deployment;
      this.attempt++;
      this.checkpoints.stop('the job stopped with a savepoint');
      await this.teardown(d);
      this.transition('FINISHED', `stopped with savepoint ${completed.metadataDir}`);
    }
    return completed.metadataDir;
  }

  private pendingDrain = false;

  private async snapshotEnumerators(checkpointId: number): Promise<Map<number, unknown>> {
    const d = this.deployment;
    if (!d?.enumerators) throw new Error('The job has no running attempt');
    // Splits assigned before the snapshot are in flight on d.assignments: the barrier trigger
    // is chained behind them, so readers have them before they snapshot.
    return d.enumerators.snapshot(checkpointId);
  }

  private triggerSources(
    checkpointId: number,
    options: { timestamp: number; savepoint: boolean; targetDir: string; sharedDir: string },
  ): Promise<void> {
    const d = this.deployment;
    if (!d) return Promise.reject(new Error('The job has no running attempt'));
    const drain = this.pendingDrain;
    const sources = this.submission.plan.vertices.filter((v) => v.inputs.length === 0);
    const send = async (): Promise<void> => {
      const calls: Promise<unknown>[] = [];
      for (const v of sources) {
        const byTm = new Map<SlotAssignment['taskManager'], number[]>();
        for (let s = 0; s < v.parallelism; s++) {
          if (this.finishedTasks.has(`${v.id}/${s}`)) continue;
          const tm = d.slots[s]!.taskManager;
          byTm.set(tm, [...(byTm.get(tm) ?? []), s]);
        }
        for (const [tm, subtasks] of byTm) {
          calls.push(
            tm.client.call(tm.client.raw.TriggerCheckpoint, {
              attempt: { jobId: this.jobId, attempt: d.attempt },
              vertexId: v.id,
              subtasks,
              checkpointId,
              ...options,
              drain,
            }),
          );
        }
      }
      await Promise.all(calls);
    };
    const sent = d.assignments.then(send);
    d.assignments = sent.catch(() => {});
    return sent;
  }

  private async notifyTasks(checkpointId: number, aborted: boolean): Promise<void> {
    const d = this.deployment;
    if (!d) return;
    const tms = new Set(d.slots.map((s) => s.taskManager));
    await Promise.all(
      [...tms].map((tm) =>
        tm.client.call(
          tm.client.raw.NotifyCheckpoint,
          { attempt: { jobId: this.jobId, attempt: d.attempt }, checkpointId, aborted },
          { deadlineMs: 60_000 },
        ),
      ),
    );
  }

  /** The file system of a checkpoint URI, with the JobManager's s3.* settings and deadlines. */
  fileSystem(uri: string): StateFileSystem {
    return this.ctx.fileSystem(uri);
  }

  get slotsRequired(): number {
    return slotsRequired(this.submission.plan);
  }

  /** Starts scheduling; the job runs on its own from here. */
  start(): void {
    this.scheduleAttempt();
  }

  // ---- events from TaskManagers ---------------------------------------------------------------

  /**
   * A task's state update, admitted for `ex` (a slot-level report names any execution of the
   * slot). Throws (the call is refused) when the execution already reported its end.
   */
  onTaskState(
    ex: Execution,
    s: TaskExecutionState__Output,
    failure: FailureRecord | undefined,
  ): void {
    const d = this.deployment;
    if (!d || ex.attempt !== d.attempt || isTerminal(this.status)) return;
    if (s.vertexId !== -1 && (s.state === 'FINISHED' || s.state === 'FAILED')) {
      if (ex.final)
        throw new ReportRefusedError(
          `task ${ex.vertexId}/${ex.subtask} already reported ${ex.final}`,
        );
      ex.final = s.state;
    }
    if (s.state === 'FINISHED') {
      if (s.vertexId === -1) throw new ReportRefusedError('a slot worker cannot report FINISHED');
      const key = `${s.vertexId}/${s.subtask}`;
      if (s.metrics) this.taskMetrics.set(key, s.metrics);
      if (this.finishedTasks.has(key)) return;
      this.finishedTasks.add(key);
      this.checkpoints.onTaskFinished(s.vertexId, s.subtask);
      if (++d.finished === d.total) void this.finish(d);
    } else if (s.state === 'FAILED') {
      const record: FailureRecord = failure ?? {
        name: 'Error',
        message: `task ${s.vertexId}/${s.subtask} failed without a failure record`,
        stack: '',
        domain: 'internal',
        restorable: true,
      };
      this.onFailure(d.attempt, new RemoteFailure(record), ex.resourceId);
    }
  }

  /**
   * A subtask registered a queryable state (Flink's notifyKvStateRegistered). A name another
   * operator registered fails the job without a restart: it would clash again.
   */
  onQueryableStateRegistered(ex: Execution, location: QueryableStateLocation): void {
    if (location.vertexId !== ex.vertexId)
      throw new ReportRefusedError(
        `task ${ex.vertexId}/${ex.subtask} registered state of vertex ${location.vertexId}`,
      );
    try {
      const known = this.queryableStates.has(location.name);
      registerQueryableState(this.queryableStates, location);
      if (!known) {
        this.log.info(
          {
            state: location.name,
            vertex_id: location.vertexId,
            operator_uid: location.operatorUid,
          },
          `queryable state "${location.name}" registered`,
        );
      }
    } catch (e) {
      this.onFailure(ex.attempt, ensureError(e), ex.resourceId);
    }
  }

  onReaderRegistered(ex: Execution): void {
    if (ex.readerRegistered) {
      throw new ReportRefusedError(
        `the reader of task ${ex.vertexId}/${ex.subtask} already registered`,
      );
    }
    ex.readerRegistered = true;
    this.deployment?.enumerators?.readerRegistered(ex.vertexId, ex.subtask);
  }

  onCollected(ex: Execution, collectId: string, values: unknown[]): void {
    const d = this.deployment;
    const subtask = ex.subtask;
    if (!d || d.attempt !== ex.attempt) return;
    let bySubtask = d.collected.get(collectId);
    if (!bySubtask) d.collected.set(collectId, (bySubtask = new Map()));
    const list = bySubtask.get(subtask);
    if (list) for (const v of values) list.push(v);
    else bySubtask.set(subtask, values);
  }

  /** Counters from the heartbeat of TaskManager `resourceId`: only of subtasks it runs. */
  onMetrics(attempt: number, tasks: TaskMetrics__Output[], resourceId: string): void {
    const d = this.deployment;
    if (d?.attempt !== attempt) return;
    for (const t of tasks) {
      if (d.slots[t.subtask]?.taskManager.resourceId !== resourceId) continue;
      this.taskMetrics.set(`${t.vertexId}/${t.subtask}`, t);
    }
  }

  /** A TaskManager was lost: fails the attempt when it ran there. */
  onTaskManagerLost(resourceId: string, reason: string): void {
    const d = this.deployment;
    if (!d || !d.slots.some((s) => s.taskManager.resourceId === resourceId)) return;
    this.onFailure(
      d.attempt,
      new NimbleError(`TaskManager ${resourceId} was lost: ${reason}`, 'external'),
      resourceId,
    );
  }

  // ---- client requests ---------------------------------------------------------------------

  /** Cancels the job; resolves when it is CANCELED. */
  async cancel(): Promise<void> {
    if (isTerminal(this.status)) {
      throw new Error(`Job ${this.jobId} is already ${this.status}`);
    }
    if (this.status === 'CANCELLING' || this.status === 'FAILING') return;
    this.transition('CANCELLING', 'canceling the tasks');
    const d = this.deployment;
    this.attempt++; // anything still scheduling for the old attempt stops
    this.checkpoints.stop('the job is cancelled');
    await this.teardown(d);
    if (this.submission.checkpointSettings.retention !== 'retain_on_cancellation') {
      await this.checkpoints.discardAll();
    }
    this.transition('CANCELED', 'canceled');
  }

  /**
   * The JobManager shuts down (Flink's SUSPENDED): the tasks are cancelled, the checkpoints and
   * the job store entry stay, and the next JobManager on the same job store recovers the job
   * from its latest checkpoint. A job that is already ending (FAILING, CANCELLING) or ended is
   * left as it is.
   */
  async suspend(): Promise<void> {
    if (isTerminal(this.status) || this.status === 'CANCELLING' || this.status === 'FAILING')
      return;
    const d = this.deployment;
    this.attempt++; // anything still scheduling for the old attempt stops
    this.checkpoints.stop('the JobManager is shutting down');
    this.transition('SUSPENDED', 'the JobManager is shutting down: suspended');
    await this.teardown(d);
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  details(): JobDetails {
    const vertices = this.submission.plan.vertices.map((v) => {
      let recordsIn = 0;
      let recordsOut = 0;
      let bytesIn = 0;
      let bytesOut = 0;
      let finished = 0;
      for (let s = 0; s < v.parallelism; s++) {
        const m = this.taskMetrics.get(`${v.id}/${s}`);
        recordsIn += m?.numRecordsIn ?? 0;
        recordsOut += m?.numRecordsOut ?? 0;
        bytesIn += m?.numBytesIn ?? 0;
        bytesOut += m?.numBytesOut ?? 0;
        if (this.finishedTasks.has(`${v.id}/${s}`)) finished++;
      }
      return {
        id: v.id,
        name: v.name,
        parallelism: v.parallelism,
        maxParallelism: v.maxParallelism,
        status: this.vertexStatus(finished, v.parallelism),
        recordsIn,
        recordsOut,
        bytesIn,
        bytesOut,
      };
    });
    return {
      jobId: this.jobId,
      name: this.name,
      state: this.status,
      startTime: this.startTime,
      endTime: this.endTime,
      statusMessage: this.statusMessage,
      vertices,
      numRestarts: this.numRestarts,
      slotsRequired: this.slotsRequired,
      failure: this.failure ?? null,
    };
  }

  /**
   * Where subtask `subtask` of the current attempt runs (job slot i holds subtask i of every
   * vertex), or undefined when no attempt is deployed.
   */
  placement(
    subtask: number,
  ): { attempt: number; startTime: number; taskManager: RegisteredTaskManager } | undefined {
    const d = this.deployment;
    const slot = d?.slots[subtask];
    if (!d || !slot) return undefined;
    return { attempt: d.attempt, startTime: d.startTime, taskManager: slot.taskManager };
  }

  /** A vertex is FINISHED when all its subtasks are; otherwise its tasks' status. */
  vertexStatus(finished: number, parallelism: number): string {
    return finished === parallelism ? 'FINISHED' : this.runningTaskStatus();
  }

  /** Flink's execution state of a task that has not finished, from the job's status. */
  runningTaskStatus(): string {
    switch (this.status) {
      case 'RUNNING':
        return 'RUNNING';
      case 'CREATED':
      case 'RESTARTING':
        return 'SCHEDULED';
      case 'CANCELLING':
      case 'FAILING':
        return 'CANCELING';
      default:
        return this.status;
    }
  }

  // ---- scheduling --------------------------------------------------------------------------

  private scheduleAttempt(): void {
    const attempt = this.attempt;
    this.schedule(attempt).catch((e: unknown) => this.onFailure(attempt, ensureError(e), ''));
  }

  private async schedule(attempt: number): Promise<void> {
    const needed = this.slotsRequired;
    const registry = this.ctx.registry;
    const deadline = Date.now() + this.ctx.slotRequestTimeoutMs;
    let slots: SlotAssignment[] | undefined;
    for (;;) {
      if (this.attempt !== attempt) return;
      slots = registry.allocate(this.allocationOwner(attempt), needed);
      if (slots) break;
      const left = deadline - Date.now();
      this.statusMessage = `Waiting for ${needed} task slot(s): ${registry.slotsFree()} of ${registry.slotsTotal()} free on ${registry.all().length} TaskManager(s)`;
      this.emit();
      if (left <= 0) {
        throw new NoResourceAvailableError(
          `Could not acquire the minimum required resources: the job needs ${needed} task slot(s) ` +
            `(its highest parallelism) but only ${registry.slotsFree()} of ${registry.slotsTotal()} were free ` +
            `within slot.request.timeout (${this.ctx.slotRequestTimeoutMs} ms). ` +
            'Start more TaskManagers, raise taskmanager.numberOfTaskSlots, or lower the parallelism.',
        );
      }
      await registry.waitForSlotChange(left);
    }
    const latest = this.checkpoints.latestCompleted();
    const restoredFrom: RestoreSource | undefined = latest ?? this.submission.initialRestore;
    const d: Deployment = {
      attempt,
      slots,
      enumerators: undefined,
      finished: 0,
      total: this.submission.plan.vertices.reduce((n, v) => n + v.parallelism, 0),
      collected: new Map(),
      assignments: Promise.resolve(),
      restoredFrom,
      startTime: Date.now(),
    };
    if (restoredFrom) {
      this.log.info(
        {
          attempt,
          checkpoint_id: restoredFrom.id,
          savepoint: restoredFrom.savepoint,
          path: restoredFrom.metadataDir,
        },
        `attempt ${attempt} restores ${restoredFrom.savepoint ? 'savepoint' : 'checkpoint'} ${restoredFrom.id}`,
      );
      this.checkpoints.counts.restored++;
      this.checkpoints.restored = {
        id: restoredFrom.id,
        path: restoredFrom.metadataDir,
        restoreTimestamp: Date.now(),
        isSavepoint: restoredFrom.savepoint,
      };
    }
    this.deployment = d;
    this.finishedTasks.clear();
    this.taskMetrics.clear();
    this.statusMessage = `Deploying ${needed} slot(s)`;
    this.emit();

    const byTm = new Map<string, SlotAssignment[]>();
    for (const s of slots) {
      const list = byTm.get(s.taskManager.resourceId) ?? [];
      list.push(s);
      byTm.set(s.taskManager.resourceId, list);
    }
    const ref = { jobId: this.jobId, attempt };
    const executions = this.issueExecutions(attempt, slots);
    const locationsFor = (tm: RegisteredTaskManager): SlotLocation[] =>
      slots.map((s) => ({
        jobSlot: s.jobSlot,
        resourceId: s.taskManager.resourceId,
        address: s.taskManager.address,
        exchangeSecret:
          s.taskManager === tm ? '' : this.ctx.registry.exchangeSecret(tm, s.taskManager),
      }));
    const { submission } = this;
    const deployed = await Promise.all(
      [...byTm.values()].map((assigned) => {
        const tm = assigned[0]!.taskManager;
        const jobSlots = new Set(assigned.map((a) => a.jobSlot));
        return tm.client.call(tm.client.raw.DeployTasks, {
          attempt: ref,
          jobName: this.name,
          bundleHash: submission.bundleHash,
          graphDigest: submission.graphDigest,
          configuration: submission.configuration,
          programArgs: submission.programArgs,
          jobSlots: assigned.map((a) => a.jobSlot),
          locations: locationsFor(tm),
          executions: executions.filter((e) => jobSlots.has(e.subtask!)),
          restoreMetadataDir: restoredFrom?.metadataDir ?? '',
          restoreMetadata: restoredFrom ? Buffer.from(restoredFrom.metadataBytes) : Buffer.alloc(0),
        });
      }),
    );
    if (this.attempt !== attempt) return;
    const failed = deployed.find((r) => r.failure);
    if (failed?.failure) throw new RemoteFailure(parseWireFailure(failed.failure));
    d.enumerators = new SplitEnumeratorHost(
      {
        jobModule: this.ctx.bundlePath,
        graphDigest: submission.graphDigest,
        configuration: submission.configuration,
        restored: restoredFrom ? this.enumeratorStates(restoredFrom) : undefined,
      },
      submission.programArgs,
      {
        assignSplits: (vertexId, subtask, splits) =>
          this.sendSplits(d, vertexId, subtask, splits, false),
        noMoreSplits: (vertexId, subtask) => this.sendSplits(d, vertexId, subtask, [], true),
        failed: (error) => this.onFailure(attempt, error, ''),
      },
    );
    await d.enumerators.started;
    if (this.attempt !== attempt) return;
    await Promise.all(
      [...byTm.values()].map((assigned) => {
        const tm = assigned[0]!.taskManager;
        return tm.client.call(tm.client.raw.StartTasks, ref);
      }),
    );
    if (this.attempt !== attempt) return;
    this.statusMessage = '';
    this.transition('RUNNING', `running attempt ${attempt}`);
    this.checkpoints.startPeriodic();
  }

  /** Split enumerator states of a checkpoint, by source vertex id. */
  private enumeratorStates(r: RestoreSource): Record<number, unknown> {
    const states: Record<number, unknown> = {};
    for (const v of this.submission.plan.vertices) {
      const head = v.operators?.[0];
      const op = head && r.metadata.operators.find((o) => o.uid === head.uid);
      if (op?.coordinatorState !== undefined) states[v.id] = decodeOpaque(op.coordinatorState);
    }
    return states;
  }

  private sendSplits(
    d: Deployment,
    vertexId: number,
    subtask: number,
    splits: SourceSplit[],
    noMore: boolean,
  ): void {
    const slot = d.slots[subtask];
    if (!slot) {
      this.onFailure(
        d.attempt,
        new Error(
          `The split enumerator of vertex ${vertexId} assigned splits to subtask ${subtask}, which does not exist`,
        ),
        '',
      );
      return;
    }
    const tm = slot.taskManager;
    d.assignments = d.assignments
      .then(() =>
        tm.client.call(tm.client.raw.AssignSplits, {
          attempt: { jobId: this.jobId, attempt: d.attempt },
          vertexId,
          subtask,
          splits: splits.length > 0 ? serialize(splits) : Buffer.alloc(0),
          noMoreSplits: noMore,
        }),
      )
      .then(
        () => {},
        (e: unknown) => this.onFailure(d.attempt, ensureError(e), tm.resourceId),
      );
  }

  /**
   * Issues a random 128-bit execution id to every subtask of attempt `attempt` (subtask i of
   * every vertex runs in job slot i) and forgets those of attempts long gone.
   */
  private issueExecutions(attempt: number, slots: SlotAssignment[]): SubtaskExecution[] {
    for (const [id, ex] of this.executions) {
      if (ex.attempt <= attempt - ATTEMPTS_REMEMBERED) this.executions.delete(id);
    }
    const out: SubtaskExecution[] = [];
    for (const v of this.submission.plan.vertices) {
      for (let s = 0; s < v.parallelism; s++) {
        const tm = slots[s]!.taskManager;
        const id = randomBytes(16).toString('hex');
        this.executions.set(id, {
          id,
          attempt,
          vertexId: v.id,
          subtask: s,
          resourceId: tm.resourceId,
          registrationId: tm.registrationId,
          final: undefined,
          readerRegistered: false,
        });
        out.push({ vertexId: v.id, subtask: s, executionId: id });
      }
    }
    return out;
  }

  private allocationOwner(attempt: number): string {
    return `${this.jobId}#${attempt}`;
  }

  private async finish(d: Deployment): Promise<void> {
    const collected: Record<string, Buffer> = {};
    for (const [id, bySubtask] of d.collected) {
      const all: unknown[] = [];
      for (const s of [...bySubtask.keys()].sort((a, b) => a - b)) all.push(...bySubtask.get(s)!);
      collected[id] = serialize(all);
    }
    this.result = { netRuntimeMs: Date.now() - this.startTime, collected };
    this.attempt++;
    this.checkpoints.stop('the job finished');
    this.transition('FINISHED', 'all tasks finished');
    // Every task reported FINISHED, so none writes to a checkpoint any more: the checkpoints are
    // discarded at once rather than after the teardown, which can wait out CancelTasks deadlines
    // on a TaskManager that is slow to answer or gone.
    await Promise.all([this.checkpoints.discardAll(), this.teardown(d)]);
  }

  /** A failure of attempt `attempt`: restart under the strategy, or fail the job. */
  private onFailure(attempt: number, error: Error, taskManager: string): void {
    if (attempt !== this.attempt || isTerminal(this.status)) return;
    if (this.status === 'CANCELLING' || this.status === 'FAILING') return;
    const wire: WireError = failureRecordOf(error);
    this.exceptions.push({ timestamp: Date.now(), error: wire, taskManager });
    const strategy = this.submission.restartStrategy;
    strategy.notifyFailure(error, Date.now());
    const d = this.deployment;
    this.checkpoints.stop(`the job failed over: ${error.message}`);
    if (d?.restoredFrom && !wire.restorable) {
      if (this.checkpoints.dropUnrestorable(d.restoredFrom.id)) {
        this.log.warn(
          { checkpoint_id: d.restoredFrom.id, err: error },
          'checkpoint cannot be restored: falling back to the previous one',
        );
      }
    }
    this.attempt++; // reports of the failed attempt are ignored from here on
    this.deployment = undefined;
    // As Flink's SuppressRestartsException: a failure that would repeat on every restart.
    const suppressed = (error as { suppressRestarts?: unknown }).suppressRestarts === true;
    if (!suppressed && strategy.canRestart()) {
      const delay = strategy.backoffTimeMs();
      this.numRestarts++;
      this.log.warn({ err: error, delay_ms: delay }, 'job failed: restarting');
      this.transition(
        'RESTARTING',
        `restarting in ${delay} ms after: ${error.name}: ${error.message}`,
      );
      void this.teardown(d).then(async () => {
        await new Promise((r) => setTimeout(r, delay));
        if (this.status === 'RESTARTING') this.scheduleAttempt();
      });
    } else {
      this.log.warn({ err: error }, 'job failed');
      this.failure = wire;
      this.transition('FAILING', error.message);
      void this.teardown(d).then(() =>
        this.transition('FAILED', `${error.name}: ${error.message}`),
      );
    }
  }

  /**
   * Stops an attempt's enumerators and tasks, gives its slots back, and then deletes the files
   * of the checkpoint the attempt's end aborted.
   */
  private async teardown(d: Deployment | undefined): Promise<void> {
    if (!d) {
      for (let a = 0; a <= this.attempt; a++) this.ctx.registry.release(this.allocationOwner(a));
      return;
    }
    await d.enumerators?.close().catch(() => {});
    const tms = new Set(d.slots.map((s) => s.taskManager));
    await Promise.all(
      [...tms].map((tm) =>
        tm.client
          .call(
            tm.client.raw.CancelTasks,
            { jobId: this.jobId, attempt: d.attempt },
            { deadlineMs: 10_000, idempotent: true },
          )
          .catch(() => {}),
      ),
    );
    this.ctx.registry.release(this.allocationOwner(d.attempt));
    await this.checkpoints.discardStopped();
  }

  private transition(to: JobStatus, message: string): void {
    checkTransition(this.jobId, this.status, to);
    this.log.info({ from: this.status, to }, message);
    this.status = to;
    this.statusMessage = isTerminal(to) && to !== 'FAILED' ? '' : message;
    this.timestamps[to] = Date.now();
    if (isTerminal(to)) this.endTime = Date.now();
    this.emit();
  }

  private emit(): void {
    const event: JobEvent = {
      job: this.details(),
      result: this.status === 'FINISHED' ? (this.result ?? null) : null,
    };
    for (const l of this.listeners) l(event);
  }
}

/** The first characters of a secret id, enough to tell ids apart in logs and errors. */
function short(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : JSON.stringify(id);
}

/** A failure record from a TaskManager, checked; a malformed one is an internal failure itself. */
export function parseWireFailure(
  wire: NonNullable<TaskExecutionState__Output['error']>,
): FailureRecord {
  try {
    return parseFailureRecord(wire);
  } catch (e) {
    return {
      name: 'MalformedFailureRecordError',
      message: `${ensureError(e).message}: ${wire.name}: ${wire.message}`,
      stack: wire.stack,
      domain: 'internal',
      restorable: true,
    };
  }
}

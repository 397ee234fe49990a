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
  ParallelismOverrides,
  PlanVertex,
  StateFileSystem,
  SubtaskCheckpointAck,
} from '@nimble/runtime';
import {
  applyParallelismOverrides,
  decodeOpaque,
  ensureError,
  fitParallelism,
  formatParallelismOverrides,
  graphDigestOf,
  hasChannelState,
  PARALLELISM_OVERRIDES_KEY,
  ParallelismOverrideError,
  sameParallelism,
  failureRecordOf,
  NimbleError,
  parseExecutionConfiguration,
  parseFailureRecord,
  RemoteFailure,
  slotsRequired,
  SplitEnumeratorHost,
} from '@nimble/runtime';
import { randomBytes } from 'node:crypto';
import type {
  CheckpointSettings,
  CompletedCheckpoint,
  TriggerOptions,
} from './checkpoint-coordinator.js';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import { serialize } from 'node:v8';
import type { JobStatus } from './job-status.js';
import { checkTransition, isTerminal } from './job-status.js';
import type { RestartStrategy } from './restart-strategy.js';
import { registerQueryableState } from './queryable-state.js';
import type { QueryableStateLocation } from './state-query.js';
import type { ResourceRequirements } from './resource-requirements.js';
import { initialRequirements, RescaleError } from './resource-requirements.js';
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
  /** `scheduler-mode: reactive`: the job runs at the slots there are (docs/scaling.md). */
  readonly reactive?: { readonly stabilizationTimeoutMs: number };
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
  /** The submission at the parallelism the job runs at now (see {@link rescale}). */
  private current: JobSubmission;
  /** The parallelism bounds per vertex (Flink's JobResourceRequirements). */
  private requirements: ResourceRequirements;
  /** A rescale is under way: another is refused until it ran. */
  private rescaling = false;
  /** Reactive mode: the pending rescale after the slots changed (the stabilization timeout). */
  private stabilization: NodeJS.Timeout | undefined;

  constructor(
    /** The job as submitted, at the parallelism it was submitted with. */
    readonly submitted: JobSubmission,
    private readonly ctx: JobMasterContext,
  ) {
    const submission = submitted;
    this.current = submitted;
    this.requirements = initialRequirements(submitted.plan, ctx.reactive !== undefined);
    this.jobId = submission.jobId;
    this.name = submission.plan.jobName;
    this.log = ctx.log.child({ job_id: this.jobId });
    const currentPlan = (): JobPlan => this.current.plan;
    this.checkpoints = new CheckpointCoordinator({
      jobId: this.jobId,
      get plan(): JobPlan {
        return currentPlan();
      },
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

  /**
   * The job at the parallelism it runs at now: the submitted plan with the overrides of the
   * latest rescale (its configuration carries them as pipeline.jobvertex-parallelism-overrides,
   * so every worker rebuilds the same graph, and its digest is that graph's).
   */
  get submission(): JobSubmission {
    return this.current;
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

  private triggerSources(checkpointId: number, options: TriggerOptions): Promise<void> {
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

  // ---- rescaling ---------------------------------------------------------------------------

  /** The parallelism bounds per vertex (GET /jobs/:id/resource-requirements). */
  resourceRequirements(): ResourceRequirements {
    return this.requirements;
  }

  /**
   * Sets the job's resource requirements and rescales it to them (Flink's adaptive scheduler,
   * PUT /jobs/:id/resource-requirements): every vertex runs at its upper bound; in reactive mode
   * at most at the slots there are, and not below its lower bound. Throws {@link RescaleError}
   * when that cannot be done (nothing changed then); otherwise returns the rescale under way,
   * which resolves once the job runs at the new parallelism.
   */
  updateResourceRequirements(requirements: ResourceRequirements): Promise<void> {
    const available = this.slotsAvailable();
    const overrides = this.overridesFor(requirements, available);
    if (!overrides) {
      throw new RescaleError(
        `Job ${this.jobId}: the lower bounds need more than the ${available} task slot(s) available ` +
          'to it; start more TaskManagers or lower the lower bounds',
        'state',
      );
    }
    const done = this.rescale(overrides, 'its resource requirements changed');
    this.requirements = requirements;
    return done;
  }

  /**
   * Reactive mode: a TaskManager joined or left. Once the slots stayed unchanged for
   * jobmanager.adaptive-scheduler.resource-stabilization-timeout, the job rescales to them.
   */
  onResourcesChanged(): void {
    const reactive = this.ctx.reactive;
    if (!reactive || isTerminal(this.status)) return;
    clearTimeout(this.stabilization);
    this.stabilization = setTimeout(() => {
      this.stabilization = undefined;
      this.rescaleToResources();
    }, reactive.stabilizationTimeoutMs);
    this.stabilization.unref();
  }

  private rescaleToResources(): void {
    // Not running: the attempt being scheduled takes the slots there are, and looks again once
    // it runs (see checkResources).
    if (this.status !== 'RUNNING' || this.rescaling) return;
    const capacity = this.slotsAvailable();
    const overrides = this.overridesFor(this.requirements, capacity);
    if (!overrides) return;
    try {
      this.rescale(overrides, `reactive mode: ${capacity} task slot(s) available`).catch(
        (e: unknown) => this.log.warn({ err: ensureError(e) }, 'reactive rescale failed'),
      );
    } catch (e) {
      this.log.warn({ err: ensureError(e) }, 'reactive rescale refused');
    }
  }

  /** Reactive mode, once an attempt runs: rescale later when the slots allow another parallelism. */
  private checkResources(): void {
    const overrides = this.overridesFor(this.requirements, this.slotsAvailable());
    if (!overrides) return;
    const plan = applyParallelismOverrides(this.submitted.plan, overrides);
    if (!sameParallelism(plan, this.current.plan)) this.onResourcesChanged();
  }

  /**
   * The parallelism per vertex under `requirements` with `capacity` slots: the upper bounds, or in
   * reactive mode what the slots allow (undefined when that is below a lower bound).
   */
  private overridesFor(
    requirements: ResourceRequirements,
    capacity: number,
  ): ParallelismOverrides | undefined {
    const upper = (v: PlanVertex): number => requirements.get(v.id)?.upperBound ?? v.parallelism;
    const plan = this.submitted.plan;
    if (!this.ctx.reactive) return new Map(plan.vertices.map((v) => [v.id, upper(v)]));
    const fitted = fitParallelism(plan, (v) => Math.min(upper(v), Math.max(1, capacity)));
    const short = plan.vertices.some(
      (v) => fitted.get(v.id)! < (requirements.get(v.id)?.lowerBound ?? 1),
    );
    return short ? undefined : fitted;
  }

  /** Slots the job could run on: the free ones and those its attempt holds. */
  private slotsAvailable(): number {
    return this.ctx.registry.slotsFree() + (this.deployment?.slots.length ?? 0);
  }

  /**
   * Runs the job at the parallelism of `overrides`. Checked at once, throwing
   * {@link RescaleError}: the job must be RUNNING, not rescaling already, and the slots available
   * to it must be enough. Then (as Flink's adaptive scheduler) a checkpoint is taken when
   * checkpointing is on, so nothing is replayed, and the job restarts from it at the new
   * parallelism: key groups, operator state and splits are redistributed as for `run -s -p`.
   * A rescale is not a failure: the restart strategy does not count it.
   */
  private rescale(overrides: ParallelismOverrides, cause: string): Promise<void> {
    if (this.status !== 'RUNNING')
      throw new RescaleError(
        `Job ${this.jobId} is ${this.status}; a rescale needs a RUNNING job`,
        'state',
      );
    if (this.rescaling)
      throw new RescaleError(
        `Job ${this.jobId} is rescaling already; ask again once it runs`,
        'state',
      );
    let plan: JobPlan;
    try {
      plan = applyParallelismOverrides(this.submitted.plan, overrides);
    } catch (e) {
      if (e instanceof ParallelismOverrideError) throw new RescaleError(e.message, 'invalid');
      throw e;
    }
    if (sameParallelism(plan, this.current.plan)) return Promise.resolve();
    const needed = slotsRequired(plan);
    const available = this.slotsAvailable();
    if (needed > available) {
      const registry = this.ctx.registry;
      throw new RescaleError(
        `Job ${this.jobId} needs ${needed} task slot(s) at the new parallelism, but only ${available} ` +
          `are available to it (${registry.slotsFree()} free of ${registry.slotsTotal()} on ` +
          `${registry.all().length} TaskManager(s), and the ${available - registry.slotsFree()} it holds). ` +
          'Start more TaskManagers or ask for a lower parallelism.',
        'state',
      );
    }
    this.rescaling = true;
    return this.runRescale(plan, overrides, cause).finally(() => {
      this.rescaling = false;
    });
  }

  private async runRescale(
    plan: JobPlan,
    overrides: ParallelismOverrides,
    cause: string,
  ): Promise<void> {
    const from = parallelismOf(this.current.plan);
    const to = parallelismOf(plan);
    if (this.checkpoints.settings.interval > 0) {
      try {
        // Aligned: a checkpoint holding in-flight data restores only at its own parallelism.
        await this.checkpoints.triggerOnDemand({ aligned: true });
      } catch (e) {
        throw new RescaleError(
          `Job ${this.jobId} was not rescaled: the checkpoint before rescaling failed: ${ensureError(e).message}`,
          'state',
        );
      }
    }
    if (this.status !== 'RUNNING') {
      throw new RescaleError(
        `Job ${this.jobId} became ${this.status} while it took the checkpoint before rescaling; it was not rescaled`,
        'state',
      );
    }
    const d = this.deployment;
    this.current = this.submissionAt(plan, overrides);
    this.attempt++; // reports of the old attempt are ignored from here on
    this.deployment = undefined;
    this.checkpoints.stop(`the job rescales (${cause})`);
    this.transition('RESTARTING', `rescaling from parallelism ${from} to ${to}: ${cause}`);
    const running = this.untilRunning();
    await this.teardown(d);
    if ((this.status as JobStatus) === 'RESTARTING') this.scheduleAttempt();
    await running;
  }

  /**
   * The parallelism the next attempt must run at when the checkpoint it restores holds in-flight
   * data (an unaligned checkpoint), which restores only at the parallelism it was taken at
   * (`checkChannelStateParallelism`): after a rescale recovered from, or a TaskManager lost in
   * reactive mode. Undefined when the restore may redistribute its state (or there is none).
   */
  private inFlightParallelism():
    { plan: JobPlan; overrides: ParallelismOverrides; reason: string } | undefined {
    const from = this.checkpoints.latestCompleted() ?? this.submitted.initialRestore;
    if (!from || !hasChannelState(from.metadata)) return undefined;
    const taken = new Map(from.metadata.operators.map((op) => [op.uid, op.parallelism]));
    const overrides: ParallelismOverrides = new Map(
      this.submitted.plan.vertices.map((v) => [
        v.id,
        taken.get(v.operators[0]?.uid ?? '') ??
          this.current.plan.vertices.find((c) => c.id === v.id)?.parallelism ??
          v.parallelism,
      ]),
    );
    let plan: JobPlan;
    try {
      plan = applyParallelismOverrides(this.submitted.plan, overrides);
    } catch (e) {
      // The subtasks refuse the restore with their message (a changed maxParallelism, say).
      if (e instanceof ParallelismOverrideError) return undefined;
      throw e;
    }
    return {
      plan,
      overrides,
      reason: `checkpoint ${from.id} holds in-flight data (unaligned) and restores only at the parallelism it was taken at (${parallelismOf(plan)})`,
    };
  }

  /** The submission at the parallelism of `plan` (the submitted plan with `overrides`). */
  private submissionAt(plan: JobPlan, overrides: ParallelismOverrides): JobSubmission {
    if (sameParallelism(plan, this.submitted.plan)) return this.submitted;
    return {
      ...this.submitted,
      plan,
      graphDigest: graphDigestOf(plan),
      configuration: {
        ...this.submitted.configuration,
        [PARALLELISM_OVERRIDES_KEY]: formatParallelismOverrides(overrides),
      },
    };
  }

  /** Resolves when the job is RUNNING again; rejects when it ends first. */
  private untilRunning(): Promise<void> {
    return new Promise((resolve, reject) => {
      const off = this.subscribe(() => {
        if (this.status === 'RUNNING') {
          off();
          resolve();
        } else if (isTerminal(this.status)) {
          off();
          reject(
            new RescaleError(
              `Job ${this.jobId} ended ${this.status} before it ran at the new parallelism`,
              'state',
            ),
          );
        }
      });
    });
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
    let needed = this.slotsRequired;
    const registry = this.ctx.registry;
    // Reactive mode waits for slots as long as it takes (Flink's resource-wait-timeout there).
    const reactive = this.ctx.reactive !== undefined;
    const deadline = reactive ? Infinity : Date.now() + this.ctx.slotRequestTimeoutMs;
    const pinned = this.inFlightParallelism();
    if (pinned) {
      this.current = this.submissionAt(pinned.plan, pinned.overrides);
      needed = slotsRequired(pinned.plan);
    }
    let slots: SlotAssignment[] | undefined;
    for (;;) {
      if (this.attempt !== attempt) return;
      if (reactive && !pinned) {
        // The attempt runs at the parallelism the free slots allow now.
        const overrides = this.overridesFor(this.requirements, registry.slotsFree());
        if (overrides) {
          const plan = applyParallelismOverrides(this.submitted.plan, overrides);
          this.current = this.submissionAt(plan, overrides);
          needed = slotsRequired(plan);
        }
      }
      slots = registry.allocate(this.allocationOwner(attempt), needed);
      if (slots) break;
      const left = deadline - Date.now();
      this.statusMessage =
        `Waiting for ${needed} task slot(s): ${registry.slotsFree()} of ${registry.slotsTotal()} free on ${registry.all().length} TaskManager(s)` +
        (pinned ? `; ${pinned.reason}` : '');
      this.emit();
      if (left <= 0) {
        throw new NoResourceAvailableError(
          `Could not acquire the minimum required resources: the job needs ${needed} task slot(s) ` +
            `(its highest parallelism) but only ${registry.slotsFree()} of ${registry.slotsTotal()} were free ` +
            `within slot.request.timeout (${this.ctx.slotRequestTimeoutMs} ms). ` +
            'Start more TaskManagers, raise taskmanager.numberOfTaskSlots, or lower the parallelism.',
        );
      }
      await registry.waitForSlotChange(Math.min(left, 60_000));
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
    if (reactive) this.checkResources();
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
      for (const s of [...bySubtask.keys()].sort((a, b) => a - b))
        for (const v of bySubtask.get(s)!) all.push(v);
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
    if (isTerminal(to)) {
      this.endTime = Date.now();
      clearTimeout(this.stabilization);
    }
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

/** A plan's parallelism for messages: one number when every vertex has it, else per vertex. */
function parallelismOf(plan: JobPlan): string {
  const all = new Set(plan.vertices.map((v) => v.parallelism));
  if (all.size === 1) return String([...all][0]);
  return `{${plan.vertices.map((v) => `${v.id}: ${v.parallelism}`).join(', ')}}`;
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

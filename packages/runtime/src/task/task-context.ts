import type { InputStatus, SourceSplit } from '@nimble/api';
import type { ExecutionConfiguration } from '../config.js';
import type { TaskCheckpointServices, TaskRestore } from '../checkpoint/task-state.js';
import type { ChannelReceiver, ChannelSender } from '../exchange/channel.js';
import type { JobGraph, JobVertex } from '../graph/job-graph.js';
import type { Mailbox } from '../operators/operator.js';
import type { OperatorServices } from '../operators/operator-factory.js';
import type { ProcessingTimeService } from '../timers/processing-time-service.js';
import type { QueryableStateRegistration } from '../state/queryable-state.js';

/** What a task gets from the process that hosts it. */
export interface TaskServices extends OperatorServices {
  readonly config: ExecutionConfiguration;
  readonly processingTimeService: ProcessingTimeService;
  /** Root directory for this job's local state (LevelDB). */
  readonly localStateDir: string;
  /** A source subtask started and wants splits from the enumerator. */
  readonly registerReader: (vertexId: number, subtask: number) => void;
  /** Set when the job takes checkpoints or savepoints. */
  readonly checkpoints?: TaskCheckpointServices;
  /** A keyed state backend of the task registered a queryable state (reported to the JobManager). */
  readonly registerQueryableState?: (
    vertexId: number,
    subtask: number,
    registration: OperatorQueryableState,
  ) => void;
}

/** A queryable state registration with the operator that holds it. */
export interface OperatorQueryableState extends QueryableStateRegistration {
  readonly operatorUid: string;
  readonly operatorName: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
}

/** One input channel of a task: the receiving end and the logical input (0 or 1) it feeds. */
export interface InputChannel {
  readonly receiver: ChannelReceiver;
  readonly inputIndex: number;
}

/** Where a task reads from and writes to. */
export interface TaskDeployment {
  readonly graph: JobGraph;
  readonly vertex: JobVertex;
  readonly subtaskIndex: number;
  readonly attemptNumber: number;
  /** Input channels, one per producer subtask of each input edge, in the order of `vertex.inputs`. */
  readonly inputs: InputChannel[];
  /** Per output edge id: one sender per consumer subtask. */
  readonly outputs: ReadonlyMap<string, ChannelSender[]>;
  /** The checkpoint or savepoint to restore state from. */
  readonly restore?: TaskRestore;
}

/**
 * The narrow view of its task that each part of a subtask (inputs, barrier handling,
 * checkpointer, operator chain) gets: who it is, how to fail the task, how to ask for a turn.
 */
export interface TaskContext {
  /** `<vertex name> (<subtask + 1>/<parallelism>)`: names the task in every error. */
  readonly name: string;
  readonly vertex: JobVertex;
  readonly subtaskIndex: number;
  readonly attemptNumber: number;
  /** The checkpoint or savepoint the task restored from, if any. */
  readonly restoredCheckpointId: number | undefined;
  readonly services: TaskServices;
  /** Runs actions on the task's turn, between batches of input. */
  readonly mailbox: Mailbox;
  /** Fails the task with `error`; later failures are ignored. */
  fail(error: unknown): void;
  /** Asks for a turn on the event loop: there is input or mail to process. */
  requestTurn(): void;
  /** Whether the task runs and its input has not ended. */
  isProcessing(): boolean;
}

/** A task's input: a source reader, or the network channels of one or two logical inputs. */
export interface TaskInput {
  /** Starts delivering: the reader starts, or the channels get their first credits. */
  start(): void;
  /**
   * Processes one turn's worth of input (a few buffers or polls), asking `mayContinue` after
   * each. NOTHING_AVAILABLE: the input requests a turn itself when more arrives.
   */
  processTurn(mayContinue: () => boolean): InputStatus;
  /** Called once when processTurn returned END_OF_INPUT, before the chain finishes. */
  endInput(): void;
  close(): void | Promise<void>;
}

/** A source task's input also takes splits from the enumerator. */
export interface SplitReceiver {
  addSplits(splits: SourceSplit[]): void;
  noMoreSplits(): void;
}

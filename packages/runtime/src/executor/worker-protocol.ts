import type { ConfigValue, Key, SourceSplit } from '@nimble/api';
import type { QueriedValue } from '../state/queryable-state.js';
import type { OperatorQueryableState } from '../task/task-context.js';
import type { MessagePort } from 'node:worker_threads';
import type { TaskMetricsSample } from '../task/task-metrics-sample.js';
import type { S3Options } from '../checkpoint/storage/index.js';
import type { SubtaskCheckpointAck, TaskRestore } from '../checkpoint/task-state.js';
import type { CheckpointOptions } from '../exchange/buffer-codec.js';
import type { MessageEndpoint } from '../exchange/channel.js';
import type { FailureRecord } from '../errors.js';
import { failureRecordOf, RemoteFailure } from '../errors.js';

/** What a slot worker is started with. */
export interface SlotWorkerData {
  readonly jobModule: string;
  readonly jobName: string;
  readonly configuration: Record<string, ConfigValue>;
  readonly graphDigest: string;
  readonly slot: number;
  readonly attemptNumber: number;
  readonly localStateDir: string;
  /**
   * Ports to the other slots, by slot index: to their threads, or to the TaskManager's exchange
   * router for slots elsewhere. They carry arrays of channel messages (see {@link DataPort}).
   */
  readonly ports: Record<number, MessagePort>;
  /** How often the worker reports its tasks' metrics (ms); 0: never. */
  readonly metricsIntervalMs: number;
  /** The TaskManager's S3 settings, for s3:// checkpoint storage. */
  readonly s3?: S3Options;
  /** The checkpoint or savepoint the tasks restore from. */
  readonly restore?: TaskRestore;
}

/** An error that crossed a thread: its failure record, unchanged. */
export type SerializedError = FailureRecord;

/** Messages from the coordinator to a slot worker. */
export type ToWorker =
  | { type: 'start' }
  | { type: 'splits'; vertexId: number; subtask: number; splits: SourceSplit[] }
  | { type: 'noMoreSplits'; vertexId: number; subtask: number }
  | { type: 'cancel' }
  | {
      type: 'triggerCheckpoint';
      vertexId: number;
      subtask: number;
      checkpointId: number;
      options: CheckpointOptions;
    }
  | { type: 'checkpointComplete'; checkpointId: number }
  | { type: 'checkpointAborted'; checkpointId: number }
  | {
      type: 'queryState';
      requestId: number;
      vertexId: number;
      subtask: number;
      name: string;
      keys: Key[];
    };

/** Messages from a slot worker to the coordinator. */
export type FromWorker =
  | { type: 'deployed' }
  | { type: 'deployFailed'; error: SerializedError }
  | { type: 'readerRegistered'; vertexId: number; subtask: number }
  | { type: 'taskFinished'; vertexId: number; subtask: number; metrics: TaskMetricsSample }
  | { type: 'metrics'; tasks: TaskMetricsSample[] }
  | { type: 'taskFailed'; vertexId: number; subtask: number; error: SerializedError }
  | { type: 'collect'; collectId: string; subtask: number; values: unknown[] }
  | {
      type: 'checkpointAck';
      vertexId: number;
      subtask: number;
      checkpointId: number;
      ack: SubtaskCheckpointAck;
    }
  | { type: 'checkpointNotified'; checkpointId: number }
  /** The tasks asked to cancel are released: their operators closed. */
  | { type: 'cancelled' }
  | {
      type: 'checkpointDecline';
      vertexId: number;
      subtask: number;
      checkpointId: number;
      error: SerializedError;
    }
  | {
      type: 'queryableStateRegistered';
      vertexId: number;
      subtask: number;
      registration: OperatorQueryableState;
    }
  | { type: 'queryStateResult'; requestId: number; results: QueriedValue[] }
  | { type: 'queryStateFailed'; requestId: number; error: SerializedError }
  | { type: 'stdout'; text: string }
  | { type: 'stderr'; text: string };

export function serializeError(e: Error): SerializedError {
  return failureRecordOf(e);
}

/** The error of a record from another thread: a {@link RemoteFailure} that keeps the record. */
export function deserializeError(s: SerializedError): Error {
  return new RemoteFailure(s);
}

/**
 * A slot thread's end of a data port (to another slot's thread, or to the TaskManager's main
 * thread, which relays to other TaskManagers). Channel messages cross as arrays: the exchange
 * router hands a slot everything one received gRPC batch holds for it in one message (one
 * wake-up of the slot thread), and this end posts each of its messages at once, as a one-element
 * array. Holding a thread's messages back until the end of its turn was measured to save CPU, but
 * a credit grant or a full buffer then waits behind a slow operator's whole turn, which stalls
 * the producer on the other side (the backpressure test in test/cluster.test.ts caught it).
 */
export class DataPort implements MessageEndpoint {
  constructor(private readonly port: MessagePort) {}

  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void {
    this.port.postMessage([message], transfer);
  }

  on(event: 'message', listener: (message: unknown) => void): void {
    this.port.on(event, (batch: unknown) => {
      if (!Array.isArray(batch)) {
        listener(batch);
        return;
      }
      for (let i = 0; i < batch.length; i++) listener(batch[i]);
    });
  }
}

import type { ConfigValue, SourceSplit } from '@nimble/api';
import type { MessagePort } from 'node:worker_threads';
import type { TaskMetricsSample } from '../task/task-metrics-sample.js';

/** What a slot worker is started with. */
export interface SlotWorkerData {
  readonly jobModule: string;
  readonly jobName: string;
  readonly configuration: Record<string, ConfigValue>;
  readonly graphDigest: string;
  readonly slot: number;
  readonly attemptNumber: number;
  readonly localStateDir: string;
  /** Ports to the other slots, by slot index. */
  readonly ports: Record<number, MessagePort>;
  /** How often the worker reports its tasks' metrics (ms); 0: never. */
  readonly metricsIntervalMs: number;
}

/** An error that crossed a thread: name, message and stack survive. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
}

/** Messages from the coordinator to a slot worker. */
export type ToWorker =
  | { type: 'start' }
  | { type: 'splits'; vertexId: number; subtask: number; splits: SourceSplit[] }
  | { type: 'noMoreSplits'; vertexId: number; subtask: number }
  | { type: 'cancel' };

/** Messages from a slot worker to the coordinator. */
export type FromWorker =
  | { type: 'deployed' }
  | { type: 'deployFailed'; error: SerializedError }
  | { type: 'readerRegistered'; vertexId: number; subtask: number }
  | { type: 'taskFinished'; vertexId: number; subtask: number; metrics: TaskMetricsSample }
  | { type: 'metrics'; tasks: TaskMetricsSample[] }
  | { type: 'taskFailed'; vertexId: number; subtask: number; error: SerializedError }
  | { type: 'collect'; collectId: string; subtask: number; values: unknown[] }
  | { type: 'stdout'; text: string }
  | { type: 'stderr'; text: string };

export function serializeError(e: Error): SerializedError {
  return { name: e.name, message: e.message, stack: e.stack };
}

export function deserializeError(s: SerializedError): Error {
  const e = new Error(s.message);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  return e;
}

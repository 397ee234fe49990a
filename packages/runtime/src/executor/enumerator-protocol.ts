import type { ConfigValue, SourceSplit } from '@nimble/api';
import type { SerializedError } from './worker-protocol.js';

/** What a split-enumerator worker is started with. */
export interface EnumeratorWorkerData {
  readonly jobModule: string;
  readonly graphDigest: string;
  /** The configuration the job was submitted with (its -D options, -p): the graph is built from it. */
  readonly configuration: Readonly<Record<string, ConfigValue>>;
  /** Enumerator states from a checkpoint, by source vertex id. */
  readonly restored?: Record<number, unknown>;
}

export type ToEnumerator =
  | { type: 'readerRegistered'; vertexId: number; subtask: number }
  | { type: 'snapshot'; checkpointId: number };

export type FromEnumerator =
  | { type: 'ready' }
  | { type: 'failed'; error: SerializedError }
  | { type: 'splits'; vertexId: number; subtask: number; splits: SourceSplit[] }
  | { type: 'noMoreSplits'; vertexId: number; subtask: number }
  | {
      type: 'snapshot';
      checkpointId: number;
      states?: Record<number, unknown>;
      error?: SerializedError;
    };

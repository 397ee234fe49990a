import type { SourceSplit } from '@nimble/api';
import type { SerializedError } from './worker-protocol.js';

/** What a split-enumerator worker is started with. */
export interface EnumeratorWorkerData {
  readonly jobModule: string;
  readonly graphDigest: string;
}

export type ToEnumerator = { type: 'readerRegistered'; vertexId: number; subtask: number };

export type FromEnumerator =
  | { type: 'ready' }
  | { type: 'failed'; error: SerializedError }
  | { type: 'splits'; vertexId: number; subtask: number; splits: SourceSplit[] }
  | { type: 'noMoreSplits'; vertexId: number; subtask: number };

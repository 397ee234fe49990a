import type { SourceSplit } from '@nimble/api';

/** One partition of a topic: a split, with the offset of the next record to read as its state. */
export interface KafkaPartitionSplit extends SourceSplit {
  readonly topic: string;
  readonly partition: number;
  /** The offset of the next record to read. */
  readonly offset: number;
  /** Bounded mode: the offset reading stops at (exclusive). */
  readonly stoppingOffset?: number;
}

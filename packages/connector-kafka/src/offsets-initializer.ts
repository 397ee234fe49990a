import type { Admin } from 'kafkajs';
import { withRetries } from './kafka-internals.js';

/** What to do for a partition that has no committed offset (Kafka's `auto.offset.reset`). */
export enum KafkaOffsetResetStrategy {
  EARLIEST = 'EARLIEST',
  LATEST = 'LATEST',
  /** Fail: the job must not start from a guess. */
  NONE = 'NONE',
}

/** Where a partition's reading starts, or (bounded mode) stops. */
export type KafkaOffsetsInitializer =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'committed'; readonly reset: KafkaOffsetResetStrategy }
  | { readonly kind: 'timestamp'; readonly timestamp: number };

/** Starting and stopping offsets (Flink's `OffsetsInitializer`, PyFlink's `KafkaOffsetsInitializer`). */
export const KafkaOffsetsInitializer = {
  /** The earliest offset still in the log. */
  earliest(): KafkaOffsetsInitializer {
    return { kind: 'earliest' };
  },
  /** The end of the log at the time the partition is first read. */
  latest(): KafkaOffsetsInitializer {
    return { kind: 'latest' };
  },
  /**
   * The offsets committed for the source's group id; partitions without one use `reset`
   * (default NONE: the job fails, naming the partition).
   */
  committedOffsets(
    reset: KafkaOffsetResetStrategy = KafkaOffsetResetStrategy.NONE,
  ): KafkaOffsetsInitializer {
    if (!Object.values(KafkaOffsetResetStrategy).includes(reset)) {
      throw new TypeError(`committedOffsets: unknown reset strategy ${String(reset)}`);
    }
    return { kind: 'committed', reset };
  },
  /** The first record whose timestamp is at or after `timestamp` (ms); the end when there is none. */
  timestamp(timestamp: number): KafkaOffsetsInitializer {
    if (!Number.isFinite(timestamp) || timestamp < 0) {
      throw new RangeError(
        `KafkaOffsetsInitializer.timestamp: a timestamp in ms >= 0; got ${timestamp}`,
      );
    }
    return { kind: 'timestamp', timestamp };
  },
} as const;

/** Checks a value passed to a builder as an initializer. */
export function checkOffsetsInitializer(value: unknown, what: string): KafkaOffsetsInitializer {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind !== 'earliest' && kind !== 'latest' && kind !== 'committed' && kind !== 'timestamp') {
    throw new TypeError(
      `${what}: expected a KafkaOffsetsInitializer (earliest(), latest(), committedOffsets(), timestamp(ms)); got ${JSON.stringify(value)}`,
    );
  }
  return value as KafkaOffsetsInitializer;
}

/** Resolves `initializer` to an offset for each partition of `topic`. */
export async function resolveOffsets(
  admin: Admin,
  initializer: KafkaOffsetsInitializer,
  topic: string,
  partitions: readonly number[],
  groupId: string | undefined,
): Promise<Map<number, number>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const low = new Map(ends.map((e) => [e.partition, Number(e.low)]));
  const high = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const out = new Map<number, number>();
  switch (initializer.kind) {
    case 'earliest':
      for (const p of partitions) out.set(p, low.get(p) ?? 0);
      return out;
    case 'latest':
      for (const p of partitions) out.set(p, high.get(p) ?? 0);
      return out;
    case 'timestamp': {
      const found = await admin.fetchTopicOffsetsByTimestamp(topic, initializer.timestamp);
      const at = new Map(found.map((e) => [e.partition, Number(e.offset)]));
      for (const p of partitions) {
        const o = at.get(p);
        out.set(p, o === undefined || o < 0 ? (high.get(p) ?? 0) : o);
      }
      return out;
    }
    case 'committed': {
      if (groupId === undefined) {
        throw new Error(
          `KafkaSource: committedOffsets() needs a group id (setGroupId(...)) to read the committed offsets of topic ${topic}`,
        );
      }
      // kafkajs does not retry this one: a broker still loading its group coordinator answers
      // NOT_COORDINATOR for a few seconds after its start, which must not fail the job.
      const [committed] = await withRetries(
        `KafkaSource: reading the committed offsets of group ${groupId}`,
        () => admin.fetchOffsets({ groupId, topics: [topic] }),
      );
      const byPartition = new Map(
        (committed?.partitions ?? []).map((e) => [e.partition, Number(e.offset)]),
      );
      for (const p of partitions) {
        const c = byPartition.get(p);
        if (c !== undefined && c >= 0) {
          // A committed offset outside the log (deleted by retention) falls back like Kafka's reset.
          const inRange = c >= (low.get(p) ?? 0) && c <= (high.get(p) ?? Infinity);
          if (inRange || initializer.reset === KafkaOffsetResetStrategy.NONE) {
            out.set(p, c);
            continue;
          }
        }
        switch (initializer.reset) {
          case KafkaOffsetResetStrategy.EARLIEST:
            out.set(p, low.get(p) ?? 0);
            break;
          case KafkaOffsetResetStrategy.LATEST:
            out.set(p, high.get(p) ?? 0);
            break;
          case KafkaOffsetResetStrategy.NONE:
            throw new Error(
              `KafkaSource: partition ${topic}-${p} has no committed offset for group ${groupId}; ` +
                'start with committedOffsets(KafkaOffsetResetStrategy.EARLIEST) or LATEST to choose where to begin',
            );
        }
      }
      return out;
    }
  }
}

import type { Key, KeySelector, Partitioner } from '@nimble/api';

/**
 * The channel selector of a `partitionCustom()` edge (Flink's `CustomPartitionerWrapper`): the
 * user's partitioner applied to the key the user's key selector extracts, with `numPartitions`
 * the number of the edge's channels (the next operator's parallelism).
 *
 * The result is checked here because an index out of range would otherwise be an undefined
 * channel deep in the record writer; the error names the result and the key, and the record
 * writer adds the operator. The returned function travels as the edge's key selector: a custom
 * edge's "key" is the index of the channel its record goes to.
 */
export function customPartitionerChannel(
  partitioner: Partitioner<unknown>,
  keySelector: KeySelector<unknown, Key>,
  numPartitions: number,
): KeySelector<unknown, number> {
  return (value) => {
    const key: unknown = keySelector(value);
    const index = partitioner(key, numPartitions);
    if (Number.isInteger(index) && index >= 0 && index < numPartitions) return index;
    throw new PartitionIndexError(
      `the custom partitioner returned ${describe(index)} for the key ${describe(key)}; ` +
        `it must return an integer in [0, ${numPartitions}), the index of one of the next ` +
        `operator's ${numPartitions} subtasks`,
    );
  };
}

/** A custom partitioner returned something that is not the index of a channel. */
export class PartitionIndexError extends RangeError {
  override name = 'PartitionIndexError';
}

function describe(value: unknown): string {
  // Numbers as they are: JSON would print NaN and Infinity as null.
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

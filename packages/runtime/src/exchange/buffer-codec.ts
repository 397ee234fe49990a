import { deserialize, serialize } from 'node:v8';

/**
 * The wire form of a network buffer: one V8-serialized flat array of elements, three slots each
 * (docs/serialization.md has the measurements behind this choice):
 *
 *   RECORD            [0, timestamp | undefined, value]
 *   KEYED RECORD      [16 + keyGroup, timestamp | undefined, value]   (hash partitioning: the
 *                     consumer reuses the producer's key group instead of hashing the key again)
 *   WATERMARK         [1, watermark, 0]
 *   WATERMARK_STATUS  [2, idle (boolean), 0]
 *   END_OF_PARTITION  [3, 0, 0]
 *   BARRIER           [4, checkpointId, options]   (always the last element of its buffer)
 *   CANCEL_BARRIER    [5, checkpointId, 0]         (the checkpoint was aborted upstream)
 *
 * Records are structured-cloneable data: plain objects, arrays, strings, numbers, bigints,
 * booleans, null/undefined, Date, Map, Set, typed arrays. Class instances arrive as plain objects.
 */
export const ElementKind = {
  RECORD: 0,
  WATERMARK: 1,
  WATERMARK_STATUS: 2,
  END_OF_PARTITION: 3,
  BARRIER: 4,
  CANCEL_BARRIER: 5,
  /** Kinds from here on are records of key group `kind - KEYED_RECORD_BASE`. */
  KEYED_RECORD_BASE: 16,
} as const;

/** Receives the elements of a decoded buffer. */
export interface ElementHandler {
  /** `keyGroup` is -1 unless the record was hash-partitioned. */
  record(value: unknown, timestamp: number | undefined, keyGroup: number): void;
  watermark(watermark: number): void;
  watermarkStatus(idle: boolean): void;
  endOfPartition(): void;
  /** A checkpoint barrier; nothing follows it in its buffer. */
  barrier(checkpointId: number, options: CheckpointOptions): void;
  cancelBarrier(checkpointId: number): void;
}

/** What a barrier carries besides its checkpoint id. */
export interface CheckpointOptions {
  /** When the JobManager triggered the checkpoint (epoch ms). */
  readonly timestamp: number;
  /** A savepoint writes the canonical format into a self-contained directory. */
  readonly savepoint: boolean;
  /** URI of the directory the subtasks write their files into (`chk-<n>` or the savepoint's). */
  readonly targetDir: string;
  /** URI of the job's directory of shared incremental files. */
  readonly sharedDir: string;
  /** Sources emit the final watermark before the barrier (stop with savepoint --drain). */
  readonly drain?: boolean;
}

/** Serializes a batch of elements into one buffer. */
export function encodeElements(elements: unknown[]): Uint8Array {
  return serialize(elements);
}

/** Decodes a buffer and hands each element to `handler`, in order. */
export function decodeElements(buffer: Uint8Array, handler: ElementHandler): number {
  const a = deserialize(buffer) as unknown[];
  let records = 0;
  for (let i = 0; i < a.length; i += 3) {
    const kind = a[i] as number;
    if (kind >= ElementKind.KEYED_RECORD_BASE) {
      records++;
      handler.record(
        a[i + 2],
        a[i + 1] as number | undefined,
        kind - ElementKind.KEYED_RECORD_BASE,
      );
      continue;
    }
    switch (kind) {
      case ElementKind.RECORD:
        records++;
        handler.record(a[i + 2], a[i + 1] as number | undefined, -1);
        break;
      case ElementKind.WATERMARK:
        handler.watermark(a[i + 1] as number);
        break;
      case ElementKind.WATERMARK_STATUS:
        handler.watermarkStatus(a[i + 1] as boolean);
        break;
      case ElementKind.END_OF_PARTITION:
        handler.endOfPartition();
        break;
      case ElementKind.BARRIER:
        handler.barrier(a[i + 1] as number, a[i + 2] as CheckpointOptions);
        break;
      case ElementKind.CANCEL_BARRIER:
        handler.cancelBarrier(a[i + 1] as number);
        break;
      default:
        throw new Error(`Corrupt network buffer: unknown element kind ${String(a[i])} at ${i}`);
    }
  }
  return records;
}

/**
 * Rolling policies (Flink's `RollingPolicy`): when the in-progress part file of a bucket is
 * finished and a new one started.
 *
 * One difference with Flink: every in-progress file is finished at each checkpoint, whatever the
 * policy (Flink keeps a row-format file open across checkpoints when `shouldRollOnCheckpoint`
 * says so, resuming it after a failure; Nimble's sink writers have no state to resume a file
 * from). Size and time still roll files between checkpoints.
 */

/** What a policy sees of an in-progress part file (Flink's `PartFileInfo`). */
export interface PartFileInfo {
  readonly bucketId: string;
  /** When the part file was opened (processing time, ms). */
  readonly creationTime: number;
  /** When an element was last written to it (processing time, ms). */
  readonly lastUpdateTime: number;
  /** Bytes written to it so far. */
  readonly size: number;
}

/** Decides when to roll a part file. */
export interface RollingPolicy<T> {
  /** Whether to roll before writing `element` to the file. */
  shouldRollOnEvent(partFile: PartFileInfo, element: T): boolean;
  /** Whether to roll at a bucket check (every `withBucketCheckInterval`). */
  shouldRollOnProcessingTime(partFile: PartFileInfo, currentTime: number): boolean;
}

/** Flink's defaults: 128 MiB, 60 s, 60 s. */
const DEFAULT_MAX_PART_SIZE = 128 * 1024 * 1024;
const DEFAULT_ROLLOVER_INTERVAL = 60_000;
const DEFAULT_INACTIVITY_INTERVAL = 60_000;

/**
 * Rolls a part file when it reaches a size, when it is older than the rollover interval or when
 * nothing was written to it for the inactivity interval (Flink's `DefaultRollingPolicy`).
 */
export class DefaultRollingPolicy<T> implements RollingPolicy<T> {
  private constructor(
    readonly maxPartSize: number,
    readonly rolloverInterval: number,
    readonly inactivityInterval: number,
  ) {}

  static builder(): DefaultRollingPolicyBuilder {
    return new DefaultRollingPolicyBuilder();
  }

  /** @internal */
  static of<T>(size: number, rollover: number, inactivity: number): DefaultRollingPolicy<T> {
    return new DefaultRollingPolicy<T>(size, rollover, inactivity);
  }

  shouldRollOnEvent(partFile: PartFileInfo): boolean {
    return partFile.size >= this.maxPartSize;
  }

  shouldRollOnProcessingTime(partFile: PartFileInfo, currentTime: number): boolean {
    return (
      currentTime - partFile.creationTime >= this.rolloverInterval ||
      currentTime - partFile.lastUpdateTime >= this.inactivityInterval
    );
  }
}

/** Builds a {@link DefaultRollingPolicy} (Flink's `DefaultRollingPolicy.PolicyBuilder`). */
export class DefaultRollingPolicyBuilder {
  private size = DEFAULT_MAX_PART_SIZE;
  private rollover = DEFAULT_ROLLOVER_INTERVAL;
  private inactivity = DEFAULT_INACTIVITY_INTERVAL;

  /** The size in bytes at which a part file rolls. */
  withMaxPartSize(bytes: number): this {
    if (!(bytes > 0)) throw new Error(`withMaxPartSize: must be > 0, got ${bytes}`);
    this.size = bytes;
    return this;
  }
  /** The age in ms at which a part file rolls. */
  withRolloverInterval(ms: number): this {
    if (!(ms > 0)) throw new Error(`withRolloverInterval: must be > 0, got ${ms}`);
    this.rollover = ms;
    return this;
  }
  /** The time in ms without writes after which a part file rolls. */
  withInactivityInterval(ms: number): this {
    if (!(ms > 0)) throw new Error(`withInactivityInterval: must be > 0, got ${ms}`);
    this.inactivity = ms;
    return this;
  }
  build<T>(): DefaultRollingPolicy<T> {
    return DefaultRollingPolicy.of<T>(this.size, this.rollover, this.inactivity);
  }
}

/** Rolls only at checkpoints (Flink's `OnCheckpointRollingPolicy`): the policy of bulk formats. */
export class OnCheckpointRollingPolicy<T> implements RollingPolicy<T> {
  static build<T>(): OnCheckpointRollingPolicy<T> {
    return new OnCheckpointRollingPolicy<T>();
  }
  shouldRollOnEvent(): boolean {
    return false;
  }
  shouldRollOnProcessingTime(): boolean {
    return false;
  }
}

/**
 * A policy for bulk formats that rolls at checkpoints and also by size or time (Flink's
 * `CheckpointRollingPolicy`): a bulk file is only complete once its footer is written.
 */
export class CheckpointRollingPolicy<T> implements RollingPolicy<T> {
  constructor(
    private readonly maxPartSize = Infinity,
    private readonly rolloverInterval = Infinity,
  ) {}
  shouldRollOnEvent(partFile: PartFileInfo): boolean {
    return partFile.size >= this.maxPartSize;
  }
  shouldRollOnProcessingTime(partFile: PartFileInfo, currentTime: number): boolean {
    return currentTime - partFile.creationTime >= this.rolloverInterval;
  }
}

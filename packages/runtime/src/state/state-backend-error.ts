import { NimbleError } from '../errors.js';

/**
 * The `level` backend's LevelDB failed (open, read, batch write, scan, close). An external
 * failure: the disk or the directory, not the job; a restart on another slot may help.
 */
export class StateBackendError extends NimbleError {
  override name = 'StateBackendError';
  constructor(
    /** The operator (with subtask) whose state backend failed. */
    readonly operatorName: string,
    /** The LevelDB directory. */
    readonly directory: string,
    /** What the backend was doing, e.g. "write a batch of 10000 entries to". */
    action: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `${operatorName}: the level state backend could not ${action} LevelDB at ${directory}: ${reason}. ` +
        'Check that the directory is on a writable local disk with free space and is not used by another process.',
      'external',
      { cause },
    );
  }
}

/**
 * A snapshot block that restore cannot read: cut short, corrupted, or not of the format its
 * kind names. External: the checkpoint storage returned bytes no backend wrote.
 */
export class CorruptedSnapshotError extends NimbleError {
  override name = 'CorruptedSnapshotError';
  constructor(
    /** The operator (with subtask) being restored. */
    readonly operatorName: string,
    readonly keyGroup: number,
    problem: string,
    cause?: unknown,
  ) {
    super(
      `${operatorName}: key group ${keyGroup} of the snapshot being restored cannot be read: ${problem}. ` +
        'The checkpoint or savepoint is damaged or was not written by Nimble; restore from another one.',
      'external',
      { cause },
    );
  }
}

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

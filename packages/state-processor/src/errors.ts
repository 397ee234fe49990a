import { NimbleError } from '@nimble/runtime';

/**
 * A savepoint cannot be read or written as asked: a missing savepoint, an unknown uid or state,
 * a key a bootstrap key selector returned that is not a key. The message names the thing at
 * fault and what to do.
 */
export class StateProcessorError extends NimbleError {
  override name = 'StateProcessorError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'user', options);
  }
}

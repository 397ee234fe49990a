/**
 * Where a failure comes from, so restart decisions are made from data, not message strings:
 * `user` — the job's code or data (a restart may not help), `external` — a system outside Nimble
 * (a restart may help), `internal` — a Nimble defect.
 */
export type FailureDomain = 'user' | 'external' | 'internal';

/** Base class of Nimble's runtime errors. */
export class NimbleError extends Error {
  override name = 'NimbleError';
  constructor(
    message: string,
    readonly domain: FailureDomain,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A failure as it travels from the thread that raised it (a slot worker) through the TaskManager
 * to the JobMaster, unchanged: the wire's `SerializedError`. Restart, restore and checkpoint
 * decisions read its fields, never its message.
 */
export interface FailureRecord {
  /** The class name of the error, e.g. `StateFileCorruptedError`. */
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  readonly domain: FailureDomain;
  /**
   * False when the failure came from reading the checkpoint being restored (a corrupted or
   * missing state file, unreadable `_metadata`): restoring it again fails the same way.
   */
  readonly restorable: boolean;
}

const DOMAINS: ReadonlySet<string> = new Set<FailureDomain>(['user', 'external', 'internal']);

/**
 * The failure record of anything thrown. The domain is that of the first {@link NimbleError} on
 * the cause chain (an error Nimble did not classify counts as `user`: it came from code Nimble
 * does not own); the failure is not restorable when an error on the chain says so with
 * `restorable === false` (the state-reading errors do). A {@link RemoteFailure} gives back the
 * record it was rebuilt from.
 */
export function failureRecordOf(e: unknown): FailureRecord {
  if (e instanceof RemoteFailure) return e.record;
  const error = ensureError(e);
  let domain: FailureDomain | undefined;
  let restorable = true;
  const seen = new Set<unknown>();
  for (let x: unknown = error; x instanceof Error && !seen.has(x); x = x.cause) {
    seen.add(x);
    if (domain === undefined && x instanceof NimbleError) domain = x.domain;
    if ((x as { restorable?: unknown }).restorable === false) restorable = false;
  }
  return {
    name: error.name,
    message: error.message,
    stack: error.stack ?? '',
    domain: domain ?? 'user',
    restorable,
  };
}

/**
 * Checks a failure record that arrived from another process; the error names the field at fault.
 * `record` has the wire's shape (absent fields as their defaults).
 */
export function parseFailureRecord(record: {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  readonly domain: string;
  readonly restorable: boolean;
}): FailureRecord {
  if (!DOMAINS.has(record.domain)) {
    throw new Error(
      `failure record: domain ${JSON.stringify(record.domain)} is not one of user, external, internal`,
    );
  }
  if (!record.name) throw new Error('failure record: name is empty');
  return {
    name: record.name,
    message: record.message,
    stack: record.stack,
    domain: record.domain as FailureDomain,
    restorable: record.restorable,
  };
}

/**
 * An error raised in another thread or process, rebuilt from its {@link FailureRecord}: it keeps
 * the original name, stack, domain and restorability, and {@link failureRecordOf} gives the
 * record back unchanged.
 */
export class RemoteFailure extends NimbleError {
  readonly restorable: boolean;
  constructor(readonly record: FailureRecord) {
    super(record.message, record.domain);
    this.name = record.name;
    this.restorable = record.restorable;
    if (record.stack) this.stack = record.stack;
  }
}

/** A user function threw, or returned something the runtime cannot use. */
export class UserCodeError extends NimbleError {
  override name = 'UserCodeError';
  constructor(
    /** The operator (with subtask) whose function failed. */
    readonly operatorName: string,
    message: string,
    cause: unknown,
  ) {
    super(`${operatorName}: ${message}`, 'user', { cause });
    // Keep the user's stack visible: it is what the job author needs to find the bug.
    const causeStack = cause instanceof Error ? cause.stack : undefined;
    if (causeStack) this.stack = `${this.name}: ${this.message}\nCaused by: ${causeStack}`;
  }
}

/**
 * An asynchronous call of an async I/O operator failed or timed out (Flink's "Could not complete
 * the stream element"). The domain is `external`: the system the call reaches may recover, so a
 * restart may help.
 */
export class AsyncCallError extends NimbleError {
  override name = 'AsyncCallError';
  constructor(
    /** The operator (with subtask) whose call failed. */
    readonly operatorName: string,
    message: string,
    cause: unknown,
  ) {
    super(`${operatorName}: ${message}`, 'external', { cause });
    const causeStack = cause instanceof Error ? cause.stack : undefined;
    if (causeStack) this.stack = `${this.name}: ${this.message}\nCaused by: ${causeStack}`;
  }
}

/** A call in a state that does not allow it (e.g. `execute()` twice). */
export class IllegalStateError extends NimbleError {
  override name = 'IllegalStateError';
  constructor(message: string) {
    super(message, 'internal');
  }
}

/** The job's configuration or structure is invalid. */
export class JobDefinitionError extends NimbleError {
  override name = 'JobDefinitionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'user', options);
  }
}

/**
 * A daemon's configuration is invalid: an unreadable or malformed file, an unknown key, a bad
 * value. The message names the key (or the file, line or argument), the value, where it came
 * from and what is expected.
 */
export class ConfigurationError extends NimbleError {
  override name = 'ConfigurationError';
  /** The offending key, when the error is about one. */
  readonly key: string | undefined;
  /** Where the offending entry came from: a file path (with line), `NIMBLE_PROPERTIES` or `-D`. */
  readonly source: string | undefined;
  constructor(message: string, details: { key?: string; source?: string; cause?: unknown } = {}) {
    super(message, 'user', { cause: details.cause });
    this.key = details.key;
    this.source = details.source;
  }
}

/**
 * A user function returned a Promise where the runtime needs its result (an `async` function, or
 * one that returns a database client's promise): the result would be lost, so the task fails.
 * Thrown inside the operator's call of the function; {@link userCodeFailure} names the operator.
 */
export class PromiseReturnedError extends Error {
  override name = 'PromiseReturnedError';
  constructor(
    /** The method that returned it, e.g. `map()`. */
    readonly method: string,
  ) {
    super(
      `${method} returned a Promise: user functions are called synchronously, one element at a ` +
        'time, so what it resolves to would be lost (an async function always returns a Promise). ' +
        'Make asynchronous calls with AsyncDataStream.orderedWait() or AsyncDataStream.unorderedWait(), ' +
        'which wait for their results.',
    );
  }
}

/**
 * Throws a {@link PromiseReturnedError} when `result` is a Promise (or another thenable). Per
 * record it costs a `typeof` test, and a property read only for objects.
 */
export function throwIfPromise(result: unknown, method: string): void {
  if (typeof result !== 'object' || result === null) return;
  if (typeof (result as { then?: unknown }).then !== 'function') return;
  // The task fails now; a later rejection of the abandoned promise must not also crash the
  // process as an unhandled rejection.
  void (result as PromiseLike<unknown>).then(undefined, () => {});
  throw new PromiseReturnedError(method);
}

/** Turns anything thrown into an Error. */
export function ensureError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : `Non-error thrown: ${String(e)}`);
}

/** Wraps `e` as a {@link UserCodeError} of `operatorName`, unless it already is one. */
export function userCodeFailure(operatorName: string, e: unknown): NimbleError {
  if (e instanceof NimbleError) return e;
  if (e instanceof PromiseReturnedError)
    return new UserCodeError(operatorName, e.message, undefined);
  const err = ensureError(e);
  return new UserCodeError(operatorName, `user function threw ${err.name}: ${err.message}`, err);
}

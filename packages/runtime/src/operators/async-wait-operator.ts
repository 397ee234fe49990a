import type {
  AsyncFunction,
  AsyncMapFunction,
  AsyncOutputMode,
  AsyncRetryStrategy,
  ListState,
  ResultFuture,
  RuntimeContext,
} from '@nimble/api';
import { ListStateDescriptor, TimeoutError } from '@nimble/api';
import { AsyncCallError, ensureError, UserCodeError, userCodeFailure } from '../errors.js';
import type { RestoredOperatorStates } from '../state/operator-state-store.js';
import type { ScheduledTimer } from '../timers/processing-time-service.js';
import type { AsyncElementQueue, QueueEntry, QueueOutput, Segment } from './async-queue.js';
import { Marker, OrderedElementQueue, UnorderedElementQueue } from './async-queue.js';
import { closeFunction, openFunction } from './function-lifecycle.js';
import type { StateSnapshotContext } from './operator.js';
import { createRuntimeContext, StreamOperator } from './operator.js';

/** What an async wait operator is built from (the `asyncWait` operator spec). */
export interface AsyncWaitSpec {
  readonly fn: AsyncFunction<any, any> | AsyncMapFunction<any, any>;
  /** 0: no timeout. */
  readonly timeoutMillis: number;
  readonly capacity: number;
  readonly outputMode: AsyncOutputMode;
  readonly retryStrategy: AsyncRetryStrategy<any>;
}

/** Flink's state name: the in-flight input elements, a split list state (redistributed evenly). */
const STATE_NAME = '_async_wait_operator_state_';

/** One stored in-flight element: its value and timestamp. */
type StoredElement = [value: unknown, timestamp: number | undefined];

// Entry states. SETTLED: a result or error arrived and waits for the mail that decides on it.
const IN_FLIGHT = 0;
const RETRY_WAIT = 1;
const SETTLED = 2;
const DONE = 3;

/**
 * One input record issued to the function, until its results leave. It is also the
 * {@link ResultFuture} of the first attempt; later attempts and the timeout get an
 * {@link AttemptFuture}, so a late answer to an earlier attempt is ignored.
 */
class Entry implements QueueEntry<Entry>, ResultFuture<unknown> {
  prev: Entry | undefined = undefined;
  next: Entry | undefined = undefined;
  segment: Segment<Entry> | undefined = undefined;
  markers: Marker[] | undefined = undefined;
  state = IN_FLIGHT;
  /** Which attempt's answer counts: 0 for the first, incremented by each retry and the timeout. */
  attempt = 0;
  /** Attempts made (Flink's `currentAttempts`). */
  attempts = 1;
  timedOut = false;
  /** When the timeout fires (processing time); covers all attempts. */
  deadline = 0;
  retryAt = 0;
  /** The results (an array), or the one result of a plain async function. */
  results: unknown[] | undefined = undefined;
  single: unknown = undefined;
  hasSingle = false;
  error: unknown = undefined;
  failed = false;

  constructor(
    readonly op: AsyncWaitOperator<unknown, unknown>,
    readonly value: unknown,
    readonly timestamp: number | undefined,
  ) {}

  complete(results: Iterable<unknown>): void {
    this.op.settleResults(this, 0, results);
  }
  completeExceptionally(error: unknown): void {
    this.op.settleError(this, 0, error);
  }
}

/** The {@link ResultFuture} of a retry or of the timeout call. */
class AttemptFuture implements ResultFuture<unknown> {
  constructor(
    private readonly entry: Entry,
    private readonly attempt: number,
  ) {}
  complete(results: Iterable<unknown>): void {
    this.entry.op.settleResults(this.entry, this.attempt, results);
  }
  completeExceptionally(error: unknown): void {
    this.entry.op.settleError(this.entry, this.attempt, error);
  }
}

/** A record that arrived while the operator was at capacity. */
class Waiting {
  constructor(
    readonly value: unknown,
    readonly timestamp: number | undefined,
  ) {}
}

/**
 * Async I/O (Flink's `AsyncWaitOperator`): each record starts a call of the user's async
 * function, and up to `capacity` records are in the queue (issued, results not yet emitted) while
 * the task goes on with its input.
 *
 * No await and no timer per record: a completing call only records its result and asks for one
 * mail, which decides on every result that arrived meanwhile (retry, failure, emission) between
 * batches of input, never between a checkpoint's snapshot and its barrier. Timeouts share one
 * timer, set for the oldest call still open (the timeout is the same for every record, so calls
 * expire in issue order).
 *
 * At capacity the operator reports itself unavailable, so the task takes no more input; records
 * of the buffer being processed wait in the operator (at most one buffer) and are issued as slots
 * free up. Flink blocks inside processElement instead, which a single-threaded task cannot do.
 *
 * Checkpoints store the records that have not left (in flight, waiting for a retry, completed
 * but held back by order, or waiting for a slot) as inputs; a restore calls the function for them
 * again in open(), in their order.
 */
export class AsyncWaitOperator<IN, OUT> extends StreamOperator<IN, OUT> {
  private readonly plain: boolean;
  private readonly timeoutMillis: number;
  private readonly capacity: number;
  private readonly retry: AsyncRetryStrategy<unknown> | undefined;
  private readonly retryOnResult: ((results: readonly unknown[]) => boolean) | undefined;
  private readonly retryOnError: ((error: Error) => boolean) | undefined;
  private readonly queue: AsyncElementQueue<Entry>;
  /** Records (and markers behind them) that arrived at capacity, oldest first from `waitingHead`. */
  private waiting: (Waiting | Marker)[] = [];
  private waitingHead = 0;
  /** Entries whose answer arrived since the last mail. */
  private completions: Entry[] = [];
  private spareCompletions: Entry[] = [];
  private drainScheduled = false;
  private draining = false;
  private drainAgain = false;
  /** Entries waiting for their retry's backoff. */
  private retrying: Entry[] = [];
  private timeoutTimer: ScheduledTimer | undefined;
  private timeoutTimerAt = 0;
  private retryTimer: ScheduledTimer | undefined;
  private retryTimerAt = 0;
  private blocked: { promise: Promise<void>; resolve: () => void } | undefined;
  private finishing: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private stopped = false;
  private stored!: ListState<StoredElement>;
  private restoredElements: StoredElement[] = [];

  constructor(private readonly spec: AsyncWaitSpec) {
    super();
    this.setUserFunctions(spec.fn);
    this.plain = typeof spec.fn === 'function';
    this.timeoutMillis = spec.timeoutMillis;
    this.capacity = spec.capacity;
    const predicate = spec.retryStrategy.getRetryPredicate();
    // As Flink: retries are on only with a strategy that has a predicate.
    if (predicate.resultPredicate || predicate.exceptionPredicate) {
      this.retry = spec.retryStrategy;
      this.retryOnResult = predicate.resultPredicate;
      this.retryOnError = predicate.exceptionPredicate;
    }
    this.queue =
      spec.outputMode === 'ordered'
        ? new OrderedElementQueue<Entry>((e) => e.state === DONE)
        : new UnorderedElementQueue<Entry>();
  }

  override initializeState(restored: RestoredOperatorStates): void {
    super.initializeState(restored);
    this.stored = this.getOperatorStateStore().getListState(
      new ListStateDescriptor<StoredElement>(STATE_NAME),
    );
    this.restoredElements = [...this.stored.get()];
    this.stored.clear();
  }

  override open(): void {
    openFunction(this.spec.fn, this.ctx, this.runtimeContext());
    // Calls that were in flight at the checkpoint, again, in their order (Flink's open()).
    const restored = this.restoredElements;
    this.restoredElements = [];
    for (const [value, timestamp] of restored) this.processElement(value as IN, timestamp);
  }

  processElement(value: IN, timestamp: number | undefined): void {
    if (this.waitingHead < this.waiting.length || this.queue.size >= this.capacity) {
      this.waiting.push(new Waiting(value, timestamp));
      this.updateAvailability();
      return;
    }
    this.issue(value, timestamp);
    if (this.queue.size >= this.capacity) this.updateAvailability();
  }

  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.ctx.metrics.currentInputWatermark = watermark;
    this.enqueueMarker('watermark', watermark);
  }

  override processWatermarkStatus(idle: boolean): void {
    this.enqueueMarker('status', idle ? 1 : 0);
  }

  override availability(): Promise<void> | undefined {
    return this.blocked?.promise;
  }

  override snapshotState(_ctx: StateSnapshotContext): void {
    const elements: StoredElement[] = [];
    for (let e = this.queue.head; e !== undefined; e = e.next)
      elements.push([e.value, e.timestamp]);
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      const w = this.waiting[i]!;
      if (w instanceof Waiting) elements.push([w.value, w.timestamp]);
    }
    this.stored.update(elements);
  }

  /**
   * End of input: waits until every record's results left (the task runs mail and timers
   * meanwhile). Retries go on with their backoff: Flink gives them up at end of input because its
   * timers stop there; here they keep running until the operator finished.
   */
  override finish(): Promise<void> | void {
    if (this.isEmpty()) return;
    return new Promise((resolve, reject) => {
      this.finishing = { resolve, reject };
    });
  }

  override close(): void {
    this.stopped = true;
    this.timeoutTimer?.cancel();
    this.retryTimer?.cancel();
    this.finishing?.reject(new Error(`${this.ctx.name} closed before its calls completed`));
    this.finishing = undefined;
    this.blocked?.resolve();
    this.disposeTimers();
    closeFunction(this.spec.fn, this.ctx);
  }

  // ---- answers (any time, outside the task's turn) ----

  /** @internal An attempt completed with results. */
  settleResults(entry: Entry, attempt: number, results: Iterable<unknown>): void {
    if (!this.accepts(entry, attempt)) return;
    if (Array.isArray(results)) {
      entry.results = results;
    } else if (
      results != null &&
      typeof results !== 'string' &&
      typeof (results as Iterable<unknown>)[Symbol.iterator] === 'function'
    ) {
      // Read once here: an iterator (a generator) could not be read by a retry predicate and again at emission.
      entry.results = Array.from(results);
    } else {
      // A bug in the function, not a failed call: no retry, the task fails now.
      this.fail(
        new UserCodeError(
          this.ctx.name,
          `async function completed with ${describe(results)}; the results must be an iterable of output elements, e.g. [result] (an empty one emits nothing)`,
          undefined,
        ),
      );
      return;
    }
    this.settled(entry);
  }

  /** @internal An attempt of a plain async function completed with its one result. */
  settleValue(entry: Entry, attempt: number, value: unknown): void {
    if (!this.accepts(entry, attempt)) return;
    entry.single = value;
    entry.hasSingle = true;
    this.settled(entry);
  }

  /** @internal An attempt failed. */
  settleError(entry: Entry, attempt: number, error: unknown): void {
    if (!this.accepts(entry, attempt)) return;
    entry.failed = true;
    entry.error = error;
    this.settled(entry);
  }

  /** Only the first answer of the current attempt counts (Flink ignores repeated completions). */
  private accepts(entry: Entry, attempt: number): boolean {
    return !this.stopped && entry.attempt === attempt && entry.state === IN_FLIGHT;
  }

  private settled(entry: Entry): void {
    entry.state = SETTLED;
    this.completions.push(entry);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    this.ctx.mailbox.execute(this.drainMail);
  }

  // ---- the mail: decides on answers, emits, issues waiting records ----

  private readonly drainMail = (): void => {
    // A mailbox that runs actions at once (tests) can re-enter: loop instead.
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainScheduled = false;
        this.drainAgain = false;
        this.drain();
      } while (this.drainAgain);
    } finally {
      this.draining = false;
    }
  };

  private drain(): void {
    if (this.stopped) return;
    const due = this.completions;
    this.completions = this.spareCompletions;
    for (let i = 0; i < due.length; i++) {
      const e = due[i]!;
      if (e.state === SETTLED) this.decide(e);
      if (this.stopped) return;
    }
    due.length = 0;
    this.spareCompletions = due;
    this.queue.emitReady(this.emitter);
    this.issueWaiting();
    this.updateAvailability();
    if (this.finishing !== undefined && this.isEmpty()) {
      const { resolve } = this.finishing;
      this.finishing = undefined;
      resolve();
    }
  }

  /** A settled answer: retry it, fail the job, or let the results leave. */
  private decide(e: Entry): void {
    if (this.retry !== undefined && !e.timedOut) {
      const again = this.wantsRetry(e);
      if (this.stopped) return;
      if (again) {
        this.scheduleRetry(e, this.retry);
        return;
      }
    }
    if (e.failed) {
      this.fail(this.callFailure(e));
      return;
    }
    e.state = DONE;
    this.queue.completed(e, this.emitter);
  }

  /** Waits for the strategy's backoff, unless the timeout has passed: then the timeout decides. */
  private scheduleRetry(e: Entry, retry: AsyncRetryStrategy<unknown>): void {
    const now = this.ctx.processingTimeService.now();
    if (this.timeoutMillis > 0 && now >= e.deadline) {
      this.timeOut(e);
      return;
    }
    e.state = RETRY_WAIT;
    e.retryAt = now + Math.max(0, retry.getBackoffTimeMillis(e.attempts));
    e.results = e.error = e.single = undefined;
    e.failed = e.hasSingle = false;
    this.retrying.push(e);
    this.armRetryTimer(e.retryAt);
  }

  private wantsRetry(e: Entry): boolean {
    try {
      const wanted = e.failed
        ? (this.retryOnError?.(ensureError(e.error)) ?? false)
        : (this.retryOnResult?.(e.hasSingle ? [e.single] : e.results!) ?? false);
      return wanted && this.retry!.canRetry(e.attempts);
    } catch (err) {
      this.fail(userCodeFailure(`${this.ctx.name}: retry strategy`, err));
      return false;
    }
  }

  private readonly emitter: QueueOutput<Entry> = {
    record: (e) => {
      const ts = e.timestamp;
      if (e.hasSingle) {
        this.output.collect(e.single as OUT, ts);
        e.single = undefined;
      } else {
        const results = e.results!;
        for (let i = 0; i < results.length; i++) this.output.collect(results[i] as OUT, ts);
        e.results = undefined;
      }
    },
    marker: (m) => this.emitMarker(m),
  };

  // ---- issuing ----

  private issue(value: unknown, timestamp: number | undefined): void {
    const e = new Entry(this as AsyncWaitOperator<unknown, unknown>, value, timestamp);
    if (this.timeoutMillis > 0) {
      e.deadline = this.ctx.processingTimeService.now() + this.timeoutMillis;
      this.armTimeoutTimer(e.deadline);
    }
    this.queue.add(e);
    this.invoke(e, e);
  }

  /** Calls the function for `e`; a synchronous throw is a bug in the function and fails the task. */
  private invoke(e: Entry, future: ResultFuture<unknown>): void {
    const attempt = e.attempt;
    if (this.plain) {
      let result: unknown;
      try {
        result = (this.spec.fn as AsyncMapFunction<unknown, unknown>)(e.value);
      } catch (err) {
        throw userCodeFailure(this.ctx.name, err);
      }
      if (isThenable(result)) {
        void result.then(
          (v) => this.settleValue(e, attempt, v),
          (err: unknown) => this.settleError(e, attempt, err),
        );
      } else {
        this.settleValue(e, attempt, result);
      }
      return;
    }
    let returned: unknown;
    try {
      returned = (this.spec.fn as AsyncFunction<unknown, unknown>).asyncInvoke(e.value, future);
    } catch (err) {
      throw userCodeFailure(this.ctx.name, err);
    }
    if (isThenable(returned)) {
      void returned.then(
        // Undefined: the function completes through the ResultFuture.
        (results) =>
          results !== undefined && this.settleResults(e, attempt, results as Iterable<unknown>),
        (err: unknown) => this.settleError(e, attempt, err),
      );
    }
  }

  /** Issues waiting records while there is capacity; markers between them follow in order. */
  private issueWaiting(): void {
    const waiting = this.waiting;
    while (this.waitingHead < waiting.length) {
      const w = waiting[this.waitingHead]!;
      if (w instanceof Waiting) {
        if (this.queue.size >= this.capacity) return;
        this.waitingHead++;
        this.issue(w.value, w.timestamp);
      } else {
        this.waitingHead++;
        if (!this.queue.addMarker(w)) this.emitMarker(w);
      }
    }
    this.waiting = [];
    this.waitingHead = 0;
  }

  private enqueueMarker(kind: Marker['kind'], value: number): void {
    if (this.waitingHead < this.waiting.length) {
      this.waiting.push(new Marker(kind, value));
      return;
    }
    if (this.queue.size === 0) {
      this.emitMarker(new Marker(kind, value));
      return;
    }
    this.queue.addMarker(new Marker(kind, value));
  }

  private emitMarker(m: Marker): void {
    if (m.kind === 'watermark') this.output.emitWatermark(m.value);
    else this.output.emitWatermarkStatus(m.value === 1);
  }

  // ---- timeouts and retries: one timer each ----

  private armTimeoutTimer(at: number): void {
    if (this.timeoutTimer !== undefined && this.timeoutTimerAt <= at) return;
    this.timeoutTimer?.cancel();
    this.timeoutTimerAt = at;
    this.timeoutTimer = this.ctx.processingTimeService.schedule(at, this.onTimeoutTimer);
  }

  private readonly onTimeoutTimer = (): void => {
    this.timeoutTimer = undefined;
    if (this.stopped) return;
    const now = this.ctx.processingTimeService.now();
    let next = Infinity;
    try {
      for (let e = this.queue.head; e !== undefined; e = e.next) {
        if (e.timedOut || (e.state !== IN_FLIGHT && e.state !== RETRY_WAIT)) continue;
        if (e.deadline <= now) this.timeOut(e);
        else if (e.deadline < next) next = e.deadline;
        if (this.stopped) return;
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    if (next !== Infinity) this.armTimeoutTimer(next);
  };

  /**
   * The call of `e` timed out (all attempts): the function's `timeout()` decides, by default
   * with a {@link TimeoutError}. Its answer is final: no retry after the timeout.
   */
  private timeOut(e: Entry): void {
    e.timedOut = true;
    e.state = IN_FLIGHT;
    const future = new AttemptFuture(e, ++e.attempt);
    const fn = this.spec.fn as AsyncFunction<unknown, unknown>;
    if (this.plain || typeof fn.timeout !== 'function') {
      future.completeExceptionally(new TimeoutError('Async function call has timed out.'));
      return;
    }
    try {
      fn.timeout(e.value, future);
    } catch (err) {
      throw userCodeFailure(`${this.ctx.name}: timeout()`, err);
    }
  }

  private armRetryTimer(at: number): void {
    if (this.retryTimer !== undefined && this.retryTimerAt <= at) return;
    this.retryTimer?.cancel();
    this.retryTimerAt = at;
    this.retryTimer = this.ctx.processingTimeService.schedule(at, this.onRetryTimer);
  }

  private readonly onRetryTimer = (): void => {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const now = this.ctx.processingTimeService.now();
    const later: Entry[] = [];
    let next = Infinity;
    try {
      for (const e of this.retrying) {
        if (e.state !== RETRY_WAIT) continue; // timed out meanwhile
        if (e.retryAt <= now) {
          this.attempt(e);
          if (this.stopped) return;
        } else {
          later.push(e);
          if (e.retryAt < next) next = e.retryAt;
        }
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.retrying = later;
    if (next !== Infinity) this.armRetryTimer(next);
  };

  private attempt(e: Entry): void {
    e.attempts++;
    e.state = IN_FLIGHT;
    this.invoke(e, new AttemptFuture(e, ++e.attempt));
  }

  // ---- availability and failure ----

  private updateAvailability(): void {
    const full = this.waitingHead < this.waiting.length || this.queue.size >= this.capacity;
    if (full && this.blocked === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.blocked = { promise, resolve };
    } else if (!full && this.blocked !== undefined) {
      const { resolve } = this.blocked;
      this.blocked = undefined;
      resolve();
    }
  }

  private isEmpty(): boolean {
    return this.queue.size === 0 && this.waitingHead >= this.waiting.length;
  }

  private callFailure(e: Entry): AsyncCallError {
    const error = ensureError(e.error);
    const message =
      error instanceof TimeoutError || (e.timedOut && error.name === 'TimeoutError')
        ? `async call timed out after ${this.timeoutMillis} ms for element ${describe(e.value)}`
        : `async call failed for element ${describe(e.value)}: ${error.name}: ${error.message}`;
    return new AsyncCallError(this.ctx.name, message, error);
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timeoutTimer?.cancel();
    this.retryTimer?.cancel();
    this.ctx.failTask(error);
  }

  /** Flink's RichAsyncFunction context: no state, since results arrive outside their element's key. */
  private runtimeContext(): RuntimeContext {
    const base = createRuntimeContext(this.ctx, this.ctx.name);
    const noState = (): never => {
      throw new Error(
        `${this.ctx.name}: state is not supported in async functions; keep state in an operator before or after the async wait operator`,
      );
    };
    return {
      ...base,
      getState: noState,
      getListState: noState,
      getMapState: noState,
      getReducingState: noState,
      getAggregatingState: noState,
    };
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as PromiseLike<unknown>).then === 'function'
  );
}

/** A short, safe rendering of an element for error messages. */
function describe(value: unknown): string {
  let text: string;
  try {
    text =
      typeof value === 'string'
        ? JSON.stringify(value)
        : (JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ??
          String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

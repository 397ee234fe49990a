import type {
  BroadcastContext,
  BroadcastProcessFunction,
  BroadcastReadOnlyContext,
  BroadcastState,
  Collector,
  Key,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
  KeyedStateFunction,
  MapStateDescriptor,
  OutputTag,
  ReadOnlyBroadcastState,
  State,
  StateDescriptor,
  TimerService,
} from '@nimble/api';
import { TimeDomain } from '@nimble/api';
import { IllegalStateError, JobDefinitionError, userCodeFailure } from '../errors.js';
import type { PendingKeyedStateApplication } from '../state/index.js';
import type { DefaultOperatorStateStore } from '../state/operator-state-store.js';
import type {
  InternalTimer,
  InternalTimerService,
  Triggerable,
} from '../timers/internal-timer-service.js';
import { closeFunction, openFunction } from './function-lifecycle.js';
import { TwoInputStreamOperator } from './operator.js';
import { ProcessTimerService, TimestampedCollector } from './process-context.js';

// The operators of `connect(broadcastStream).process(...)` (Flink's CoBroadcastWithNonKeyedOperator
// and CoBroadcastWithKeyedOperator): input 1 is the non-broadcast stream, input 2 the broadcast
// stream, whose every element reaches every parallel instance. Broadcast states are operator
// state in `broadcast` mode (operator-state-store.ts): every instance snapshots its copy, and a
// restore at any parallelism gives each new instance one old instance's copy.

/**
 * The broadcast states of one operator instance, by descriptor name: Flink looks them up by
 * descriptor, whose equality is its name, and a descriptor copied with the function (each
 * parallel instance gets its own copy) must still find its state.
 */
class BroadcastStates {
  private readonly readWrite = new Map<string, BroadcastState<unknown, unknown>>();
  private readonly readOnly = new Map<string, ReadOnlyBroadcastState<unknown, unknown>>();

  constructor(
    private readonly operatorName: string,
    store: DefaultOperatorStateStore,
    descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ) {
    for (const descriptor of descriptors) {
      const state = store.getBroadcastState(descriptor);
      this.readWrite.set(descriptor.name, state);
      this.readOnly.set(
        descriptor.name,
        new ReadOnlyBroadcastStateView(operatorName, descriptor.name, state),
      );
    }
  }

  get<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    return (this.readWrite.get(nameOf(descriptor)) ?? this.unknown(descriptor)) as BroadcastState<
      K,
      V
    >;
  }

  getReadOnly<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V> {
    return (this.readOnly.get(nameOf(descriptor)) ??
      this.unknown(descriptor)) as ReadOnlyBroadcastState<K, V>;
  }

  private unknown(descriptor: MapStateDescriptor<unknown, unknown>): never {
    const known = [...this.readWrite.keys()].map((n) => JSON.stringify(n)).join(', ');
    throw new JobDefinitionError(
      `${this.operatorName}: the broadcast state ${JSON.stringify(descriptor.name)} does not ` +
        'exist: check the name of its MapStateDescriptor, or give the descriptor to ' +
        `broadcast(...) (this operator's broadcast states: ${known || 'none'})`,
    );
  }
}

function nameOf(descriptor: MapStateDescriptor<unknown, unknown>): string {
  if (descriptor === null || typeof descriptor !== 'object' || typeof descriptor.name !== 'string')
    throw new TypeError('getBroadcastState() needs the MapStateDescriptor given to broadcast(...)');
  return descriptor.name;
}

/**
 * The broadcast state as the non-broadcast side sees it. The interface has no mutators; this view
 * also refuses them when JavaScript (or a cast) reaches for them, since a change made on one
 * instance only would let the instances' copies drift apart.
 */
class ReadOnlyBroadcastStateView<K, V> implements ReadOnlyBroadcastState<K, V> {
  constructor(
    private readonly operatorName: string,
    private readonly name: string,
    private readonly state: BroadcastState<K, V>,
  ) {}
  get(key: K): V | undefined {
    return this.state.get(key);
  }
  contains(key: K): boolean {
    return this.state.contains(key);
  }
  immutableEntries(): Iterable<readonly [K, V]> {
    return this.state.immutableEntries();
  }
  put(): never {
    throw this.readOnlyError('put');
  }
  putAll(): never {
    throw this.readOnlyError('putAll');
  }
  remove(): never {
    throw this.readOnlyError('remove');
  }
  clear(): never {
    throw this.readOnlyError('clear');
  }
  private readOnlyError(method: string): JobDefinitionError {
    return new JobDefinitionError(
      `${this.operatorName}: ${method}() on the broadcast state ${JSON.stringify(this.name)}, ` +
        'which is read-only outside processBroadcastElement(): only the broadcast side may change ' +
        'it, so that every parallel instance holds the same entries',
    );
  }
}

/** What the contexts read from their operator. */
interface ContextHost {
  readonly states: BroadcastStates;
  side(tagId: string, value: unknown, timestamp: number | undefined): void;
  now(): number;
  watermark(): number;
}

/** Both sides' context, re-pointed at each element: nothing is allocated per record. */
abstract class BaseContext {
  elementTimestamp: number | undefined;
  constructor(protected readonly host: ContextHost) {}
  timestamp(): number | undefined {
    return this.elementTimestamp;
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.host.side(tag.id, value, this.elementTimestamp);
  }
  currentProcessingTime(): number {
    return this.host.now();
  }
  currentWatermark(): number {
    return this.host.watermark();
  }
}

class ReadOnlyContext extends BaseContext implements BroadcastReadOnlyContext {
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V> {
    return this.host.states.getReadOnly(descriptor);
  }
}

class ReadWriteContext extends BaseContext implements BroadcastContext {
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> {
    return this.host.states.get(descriptor);
  }
}

/** The keyed element side's context, and the one of timers (with the timer's domain). */
class KeyedReadOnlyContext<K> extends ReadOnlyContext implements KeyedBroadcastOnTimerContext<K> {
  domain = TimeDomain.EVENT_TIME;
  constructor(
    host: ContextHost,
    private readonly timers: TimerService,
    private readonly currentKey: () => Key,
  ) {
    super(host);
  }
  timerService(): TimerService {
    return this.timers;
  }
  getCurrentKey(): K {
    return this.currentKey() as K;
  }
  timeDomain(): TimeDomain {
    return this.domain;
  }
}

class KeyedReadWriteContext<K> extends ReadWriteContext implements KeyedBroadcastContext<K> {
  constructor(
    host: ContextHost,
    private readonly apply: (
      descriptor: StateDescriptor<State>,
      fn: KeyedStateFunction<K, State>,
      timestamp: number | undefined,
    ) => void,
  ) {
    super(host);
  }
  applyToKeyedState<S extends State>(
    descriptor: StateDescriptor<S>,
    fn: KeyedStateFunction<K, S>,
  ): void {
    if (typeof fn !== 'function')
      throw new TypeError('applyToKeyedState() needs a function (key, state) => void');
    this.apply(
      descriptor as StateDescriptor<State>,
      fn as KeyedStateFunction<K, State>,
      this.elementTimestamp,
    );
  }
}

/**
 * `nonKeyedStream.connect(broadcastStream).process(BroadcastProcessFunction)` (Flink's
 * `CoBroadcastWithNonKeyedOperator`).
 */
export class CoBroadcastWithNonKeyedOperator<I1, I2, O> extends TwoInputStreamOperator<I1, I2, O> {
  private readonly collector = new TimestampedCollector<O>((v, ts) => this.output.collect(v, ts));
  private readOnlyContext!: ReadOnlyContext;
  private readWriteContext!: ReadWriteContext;

  constructor(
    private readonly fn: BroadcastProcessFunction<I1, I2, O>,
    private readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ) {
    super();
    this.setUserFunctions(fn);
  }

  override open(): void {
    const host = contextHost(this.ctx.name, this.getOperatorStateStore(), this.descriptors, {
      side: (tagId, value, ts) => this.output.collectSide(tagId, value, ts),
      now: () => this.ctx.processingTimeService.now(),
      watermark: () => this.currentWatermark,
    });
    this.readOnlyContext = new ReadOnlyContext(host);
    this.readWriteContext = new ReadWriteContext(host);
    openFunction(this.fn, this.ctx);
  }

  processElement1(value: I1, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    this.readOnlyContext.elementTimestamp = timestamp;
    try {
      this.fn.processElement(value, this.readOnlyContext, this.collector);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  processElement2(value: I2, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    this.readWriteContext.elementTimestamp = timestamp;
    try {
      this.fn.processBroadcastElement(value, this.readWriteContext, this.collector);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  override close(): void {
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }
}

/** What arrived while an applyToKeyedState was pending, to be processed after it, in order. */
type Deferred =
  | { readonly kind: 'element1' | 'element2'; readonly value: unknown; readonly ts?: number }
  | { readonly kind: 'watermark1' | 'watermark2'; readonly watermark: number }
  | { readonly kind: 'status1' | 'status2'; readonly idle: boolean }
  | { readonly kind: 'timer'; readonly timer: InternalTimer; readonly domain: TimeDomain };

/** One applyToKeyedState call. */
interface KeyedStateApplication {
  readonly descriptor: StateDescriptor<State>;
  readonly fn: KeyedStateFunction<unknown, State>;
  /** The broadcast element's timestamp: what the function's emissions carry. */
  readonly timestamp: number | undefined;
  /** Set once the backend started reading its keys (the applications before it are applied). */
  pending: PendingKeyedStateApplication | undefined;
}

/**
 * `keyedStream.connect(broadcastStream).process(KeyedBroadcastProcessFunction)` (Flink's
 * `CoBroadcastWithKeyedOperator`).
 *
 * `applyToKeyedState` is synchronous in Flink: nothing else touches keyed state before the
 * function has seen every key. The `hashmap` backend applies it at once. The `level` backend reads
 * the keys from LevelDB asynchronously, so the application is pending when
 * `processBroadcastElement` returns; until it is applied this operator keeps that promise by
 * deferring, in arrival order, every element, watermark, idleness change and timer that arrives
 * (at most the rest of the current network buffer, since `availability()` then holds the input
 * back), applying it on the task's turn (mailbox) once the keys are read, then replaying what it
 * deferred. A checkpoint's `snapshotState` and `finish` complete it first. docs/state.md.
 */
export class CoBroadcastWithKeyedOperator<K, I1, I2, O>
  extends TwoInputStreamOperator<I1, I2, O>
  implements Triggerable
{
  private readonly collector = new TimestampedCollector<O>((v, ts) => this.output.collect(v, ts));
  private timers!: InternalTimerService;
  private elementContext!: KeyedReadOnlyContext<K>;
  private timerContext!: KeyedReadOnlyContext<K>;
  private broadcastContext!: KeyedReadWriteContext<K>;
  /** applyToKeyedState calls not applied yet, in call order; only the first one reads keys. */
  private readonly applications: KeyedStateApplication[] = [];
  private readonly deferred: Deferred[] = [];
  private replayed = 0;
  private resuming = false;
  private closed = false;
  private unblocked: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    private readonly fn: KeyedBroadcastProcessFunction<K, I1, I2, O>,
    private readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ) {
    super();
    this.setUserFunctions(fn);
  }

  override open(): void {
    this.timers = this.getInternalTimerService(this);
    const host = contextHost(this.ctx.name, this.getOperatorStateStore(), this.descriptors, {
      side: (tagId, value, ts) => this.output.collectSide(tagId, value, ts),
      now: () => this.ctx.processingTimeService.now(),
      watermark: () => this.currentWatermark,
    });
    const timerService = new ProcessTimerService(
      this.ctx.name,
      () => this.timers,
      () => this.ctx.processingTimeService.now(),
      () => this.currentWatermark,
    );
    const currentKey = () => this.keyedBackend('getCurrentKey()').getCurrentKey();
    this.elementContext = new KeyedReadOnlyContext<K>(host, timerService, currentKey);
    this.timerContext = new KeyedReadOnlyContext<K>(host, timerService, currentKey);
    this.broadcastContext = new KeyedReadWriteContext<K>(host, (d, f, ts) =>
      this.applyToKeyedState(d, f as KeyedStateFunction<unknown, State>, ts),
    );
    openFunction(this.fn, this.ctx);
  }

  // ---- input: deferred while an application is pending ----

  override processElement1(value: I1, timestamp: number | undefined): void {
    if (this.applications.length > 0) {
      this.deferred.push({ kind: 'element1', value, ts: timestamp });
      return;
    }
    this.element(value, timestamp);
  }

  override processElement2(value: I2, timestamp: number | undefined): void {
    if (this.applications.length > 0) {
      this.deferred.push({ kind: 'element2', value, ts: timestamp });
      return;
    }
    this.broadcastElement(value, timestamp);
  }

  override processWatermark1(watermark: number): void {
    if (this.applications.length > 0) this.deferred.push({ kind: 'watermark1', watermark });
    else super.processWatermark1(watermark);
  }
  override processWatermark2(watermark: number): void {
    if (this.applications.length > 0) this.deferred.push({ kind: 'watermark2', watermark });
    else super.processWatermark2(watermark);
  }
  override processWatermarkStatus1(idle: boolean): void {
    if (this.applications.length > 0) this.deferred.push({ kind: 'status1', idle });
    else super.processWatermarkStatus1(idle);
  }
  override processWatermarkStatus2(idle: boolean): void {
    if (this.applications.length > 0) this.deferred.push({ kind: 'status2', idle });
    else super.processWatermarkStatus2(idle);
  }

  onEventTime(timer: InternalTimer): void {
    if (this.applications.length > 0)
      this.deferred.push({ kind: 'timer', timer, domain: TimeDomain.EVENT_TIME });
    else this.fire(timer, TimeDomain.EVENT_TIME);
  }
  onProcessingTime(timer: InternalTimer): void {
    if (this.applications.length > 0)
      this.deferred.push({ kind: 'timer', timer, domain: TimeDomain.PROCESSING_TIME });
    else this.fire(timer, TimeDomain.PROCESSING_TIME);
  }

  /** Holds the input back while an application is pending. */
  override availability(): Promise<void> | undefined {
    if (this.applications.length === 0) return undefined;
    if (this.unblocked === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.unblocked = { promise, resolve };
    }
    return this.unblocked.promise;
  }

  /** The snapshot must hold the applications' effects and those of everything before the barrier. */
  override snapshotState(): void | Promise<void> {
    return this.applications.length > 0 ? this.complete() : undefined;
  }

  override finish(): void | Promise<void> {
    return this.applications.length > 0 ? this.complete() : undefined;
  }

  override close(): void {
    this.closed = true;
    this.unblock();
    this.disposeTimers();
    closeFunction(this.fn, this.ctx);
  }

  // ---- processing ----

  private element(value: I1, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    this.elementContext.elementTimestamp = timestamp;
    try {
      this.fn.processElement(value, this.elementContext, this.collector);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  private broadcastElement(value: I2, timestamp: number | undefined): void {
    this.collector.timestamp = timestamp;
    this.broadcastContext.elementTimestamp = timestamp;
    try {
      this.fn.processBroadcastElement(value, this.broadcastContext, this.collector);
    } catch (e) {
      throw userCodeFailure(this.ctx.name, e);
    }
  }

  /**
   * Flink's OnTimerContext: `timestamp()` and side outputs carry the timer's time in both
   * domains; the collector stamps event-time output with it and leaves processing-time output
   * without a timestamp.
   */
  private fire(timer: InternalTimer, domain: TimeDomain): void {
    const context = this.timerContext;
    context.elementTimestamp = timer.timestamp;
    context.domain = domain;
    this.collector.timestamp = domain === TimeDomain.EVENT_TIME ? timer.timestamp : undefined;
    try {
      this.fn.onTimer(timer.timestamp, context, this.collector as Collector<O>);
    } catch (e) {
      throw userCodeFailure(`${this.ctx.name}: onTimer`, e);
    }
  }

  // ---- applyToKeyedState ----

  private applyToKeyedState(
    descriptor: StateDescriptor<State>,
    fn: KeyedStateFunction<unknown, State>,
    timestamp: number | undefined,
  ): void {
    const application: KeyedStateApplication = { descriptor, fn, timestamp, pending: undefined };
    // After the pending ones: its keys are those left when they have been applied.
    if (this.applications.length > 0 || !this.start(application))
      this.applications.push(application);
  }

  /** Starts `application`; true when the backend applied it at once. */
  private start(application: KeyedStateApplication): boolean {
    const backend = this.keyedBackend('applyToKeyedState()');
    const { descriptor, fn } = application;
    const pending = backend.applyToAllKeys('', descriptor, (key: Key, state: State) => {
      try {
        fn(key, state);
      } catch (e) {
        throw userCodeFailure(`${this.ctx.name}: applyToKeyedState of "${descriptor.name}"`, e);
      }
    });
    if (pending === undefined) return true;
    application.pending = pending;
    pending.ready.then(
      () => {
        if (!this.closed) this.ctx.mailbox.execute(() => this.resume());
      },
      (e: unknown) => {
        if (!this.closed) this.ctx.failTask(e);
      },
    );
    return false;
  }

  /**
   * Applies what is ready, in order, then replays what was deferred, until an application waits
   * for its keys again or nothing is left (then the input may go on).
   */
  private resume(): void {
    if (this.resuming || this.closed) return;
    this.resuming = true;
    try {
      for (;;) {
        const head = this.applications[0];
        if (head !== undefined) {
          if (head.pending === undefined && this.start(head)) {
            this.applications.shift();
            continue;
          }
          if (!head.pending!.isReady) return;
          this.applications.shift();
          // Emissions of the function carry the broadcast element's timestamp, as in Flink.
          this.collector.timestamp = head.timestamp;
          this.broadcastContext.elementTimestamp = head.timestamp;
          head.pending!.apply();
          continue;
        }
        if (this.replayed === this.deferred.length) break;
        this.replay(this.deferred[this.replayed++]!);
      }
      this.deferred.length = 0;
      this.replayed = 0;
      this.unblock();
    } finally {
      this.resuming = false;
    }
  }

  private replay(event: Deferred): void {
    switch (event.kind) {
      case 'element1':
        this.setKeyContextElement1(event.value as I1);
        this.element(event.value as I1, event.ts);
        return;
      case 'element2':
        this.broadcastElement(event.value as I2, event.ts);
        return;
      case 'watermark1':
        super.processWatermark1(event.watermark);
        return;
      case 'watermark2':
        super.processWatermark2(event.watermark);
        return;
      case 'status1':
        super.processWatermarkStatus1(event.idle);
        return;
      case 'status2':
        super.processWatermarkStatus2(event.idle);
        return;
      case 'timer':
        this.keyedBackend('Timers').setCurrentKey(event.timer.key, event.timer.keyGroup);
        this.fire(event.timer, event.domain);
        return;
    }
  }

  /**
   * Completes every pending application and what was deferred behind them, without the mailbox:
   * called in a checkpoint's synchronous phase (or at the end of input), when nothing else runs.
   */
  private async complete(): Promise<void> {
    if (this.resuming)
      throw new IllegalStateError(`${this.ctx.name}: a snapshot while applying keyed state`);
    while (this.applications.length > 0 && !this.closed) {
      const pending = this.applications[0]!.pending;
      if (pending !== undefined && !pending.isReady) await pending.ready;
      this.resume();
    }
  }

  private unblock(): void {
    const unblocked = this.unblocked;
    this.unblocked = undefined;
    unblocked?.resolve();
  }
}

function contextHost(
  operatorName: string,
  store: DefaultOperatorStateStore,
  descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  io: Omit<ContextHost, 'states'>,
): ContextHost {
  return { states: new BroadcastStates(operatorName, store, descriptors), ...io };
}

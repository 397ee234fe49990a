import type { Key } from '@nimble/api';
import { MIN_TIMESTAMP } from '@nimble/api';
import { keyId } from '../keys/index.js';
import type { ProcessingTimeService, ScheduledTimer } from './processing-time-service.js';
import { TimerHeap } from './timer-heap.js';

/** A registered timer: fires for `key` and `namespace` (a window, or '' for process functions) at `timestamp`. */
export interface InternalTimer {
  readonly timestamp: number;
  readonly key: Key;
  readonly keyGroup: number;
  readonly namespace: string;
  /** @internal registration order, for a deterministic firing order of equal timestamps */
  readonly seq: number;
}

/** What the timer service calls when a timer fires; the timer's key is current in the backend. */
export interface Triggerable {
  onEventTime(timer: InternalTimer): void;
  onProcessingTime(timer: InternalTimer): void;
}

/** Where the timer service reads and sets the current key (the keyed state backend). */
export interface KeyContext {
  getCurrentKey(): Key;
  getCurrentKeyGroup(): number;
  setCurrentKey(key: Key, keyGroup: number): void;
}

interface Timer extends InternalTimer {
  deleted: boolean;
}

type KeyIdValue = ReturnType<typeof keyId>;

/**
 * Live timers by time, namespace and key id: three Map lookups and no string building per
 * registration, which happens for every element a window trigger sees.
 */
class TimerIndex {
  private readonly byTime = new Map<number, Map<string, Map<KeyIdValue, Timer>>>();
  size = 0;

  get(time: number, namespace: string, key: KeyIdValue): Timer | undefined {
    return this.byTime.get(time)?.get(namespace)?.get(key);
  }
  set(time: number, namespace: string, key: KeyIdValue, timer: Timer): void {
    let byNs = this.byTime.get(time);
    if (byNs === undefined) {
      byNs = new Map();
      this.byTime.set(time, byNs);
    }
    let byKey = byNs.get(namespace);
    if (byKey === undefined) {
      byKey = new Map();
      byNs.set(namespace, byKey);
    }
    byKey.set(key, timer);
    this.size++;
  }
  delete(time: number, namespace: string, key: KeyIdValue): Timer | undefined {
    const byNs = this.byTime.get(time);
    const byKey = byNs?.get(namespace);
    const timer = byKey?.get(key);
    if (timer === undefined) return undefined;
    byKey!.delete(key);
    this.size--;
    if (byKey!.size === 0) {
      byNs!.delete(namespace);
      if (byNs!.size === 0) this.byTime.delete(time);
    }
    return timer;
  }
}

/**
 * Event- and processing-time timers of one keyed operator (Flink's InternalTimerServiceImpl).
 * A timer is unique per key, namespace and time: registering it again is a no-op. Event-time
 * timers fire when the watermark reaches their time; processing-time timers when the clock does.
 * Timers are kept on the heap for both state backends (Flink's `timer-service.factory: HEAP`).
 */
export class InternalTimerService {
  private readonly eventTimers = new TimerIndex();
  private readonly processingTimers = new TimerIndex();
  private readonly eventQueue = new TimerHeap<Timer>();
  private readonly processingQueue = new TimerHeap<Timer>();
  private seq = 0;
  private watermark = MIN_TIMESTAMP;
  private scheduled: { time: number; handle: ScheduledTimer } | undefined;
  private firing = false;

  constructor(
    private readonly keyContext: KeyContext,
    private readonly triggerable: Triggerable,
    private readonly processingTime: ProcessingTimeService,
    /** Called around timer callbacks fired by the clock (outside record processing), e.g. to flush outputs. */
    private readonly onProcessingTimersFired: () => void = () => {},
    /** Receives an exception of a timer callback fired by the clock: it fails the task, not the process. */
    private readonly onAsyncError: (error: unknown) => void = (e) => {
      throw e;
    },
  ) {}

  currentWatermark(): number {
    return this.watermark;
  }
  currentProcessingTime(): number {
    return this.processingTime.now();
  }

  registerEventTimeTimer(namespace: string, time: number): void {
    this.register(this.eventTimers, this.eventQueue, namespace, time);
  }
  deleteEventTimeTimer(namespace: string, time: number): void {
    this.remove(this.eventTimers, namespace, time);
  }
  registerProcessingTimeTimer(namespace: string, time: number): void {
    const timer = this.register(this.processingTimers, this.processingQueue, namespace, time);
    if (timer) this.scheduleNextProcessingTimer();
  }
  deleteProcessingTimeTimer(namespace: string, time: number): void {
    this.remove(this.processingTimers, namespace, time);
  }

  /** Number of live event-time timers. */
  numEventTimeTimers(): number {
    return this.eventTimers.size;
  }
  /** Number of live processing-time timers. */
  numProcessingTimeTimers(): number {
    return this.processingTimers.size;
  }

  /** Fires every event-time timer with timestamp <= `watermark`, in time order. */
  advanceWatermark(watermark: number): void {
    this.watermark = watermark;
    const head0 = this.eventQueue.peek();
    if (head0 === undefined || head0.timestamp > watermark) return;
    const savedKey = this.saveKey();
    try {
      for (;;) {
        const head = this.eventQueue.peek();
        if (head === undefined || head.timestamp > watermark) break;
        this.eventQueue.pop();
        if (head.deleted) continue;
        this.eventTimers.delete(head.timestamp, head.namespace, keyId(head.key));
        this.keyContext.setCurrentKey(head.key, head.keyGroup);
        this.triggerable.onEventTime(head);
      }
    } finally {
      if (savedKey) this.keyContext.setCurrentKey(savedKey.key, savedKey.keyGroup);
    }
  }

  /** Fires the processing-time timers that are due at `now`. */
  advanceProcessingTime(now: number): void {
    if (this.firing) return;
    this.firing = true;
    try {
      for (;;) {
        const head = this.processingQueue.peek();
        if (head === undefined || head.timestamp > now) break;
        this.processingQueue.pop();
        if (head.deleted) continue;
        this.processingTimers.delete(head.timestamp, head.namespace, keyId(head.key));
        this.keyContext.setCurrentKey(head.key, head.keyGroup);
        this.triggerable.onProcessingTime(head);
      }
    } finally {
      this.firing = false;
    }
  }

  /**
   * The live timers by key group, for a checkpoint: per key group a flat list
   * `[type, timestamp, key, namespace, ...]` with type 0 = event time, 1 = processing time.
   */
  snapshotTimers(): Map<number, unknown[]> {
    const byGroup = new Map<number, unknown[]>();
    const add = (type: number, queue: TimerHeap<Timer>): void => {
      for (const t of queue.values()) {
        if (t.deleted) continue;
        let list = byGroup.get(t.keyGroup);
        if (list === undefined) byGroup.set(t.keyGroup, (list = []));
        list.push(type, t.timestamp, t.key, t.namespace);
      }
    };
    add(0, this.eventQueue);
    add(1, this.processingQueue);
    return byGroup;
  }

  /** Registers the timers of one key group from a snapshot (see {@link snapshotTimers}). */
  restoreTimers(keyGroup: number, flat: readonly unknown[]): void {
    for (let i = 0; i + 3 < flat.length; i += 4) {
      const processing = flat[i] === 1;
      const time = flat[i + 1] as number;
      const key = flat[i + 2] as Key;
      const namespace = flat[i + 3] as string;
      const index = processing ? this.processingTimers : this.eventTimers;
      const id = keyId(key);
      if (index.get(time, namespace, id) !== undefined) continue;
      const timer: Timer = {
        timestamp: time,
        key,
        keyGroup,
        namespace,
        seq: this.seq++,
        deleted: false,
      };
      index.set(time, namespace, id, timer);
      (processing ? this.processingQueue : this.eventQueue).push(timer);
    }
    this.scheduleNextProcessingTimer();
  }

  /** Cancels the scheduled clock callback (when the task ends). */
  close(): void {
    this.scheduled?.handle.cancel();
    this.scheduled = undefined;
  }

  private saveKey(): { key: Key; keyGroup: number } | undefined {
    try {
      return {
        key: this.keyContext.getCurrentKey(),
        keyGroup: this.keyContext.getCurrentKeyGroup(),
      };
    } catch {
      return undefined;
    }
  }

  private register(
    index: TimerIndex,
    queue: TimerHeap<Timer>,
    namespace: string,
    time: number,
  ): Timer | undefined {
    const key = this.keyContext.getCurrentKey();
    const id = keyId(key);
    if (index.get(time, namespace, id) !== undefined) return undefined;
    const timer: Timer = {
      timestamp: time,
      key,
      keyGroup: this.keyContext.getCurrentKeyGroup(),
      namespace,
      seq: this.seq++,
      deleted: false,
    };
    index.set(time, namespace, id, timer);
    queue.push(timer);
    return timer;
  }

  private remove(index: TimerIndex, namespace: string, time: number): void {
    const timer = index.delete(time, namespace, keyId(this.keyContext.getCurrentKey()));
    if (timer) timer.deleted = true;
  }

  private scheduleNextProcessingTimer(): void {
    let head = this.processingQueue.peek();
    while (head?.deleted) {
      this.processingQueue.pop();
      head = this.processingQueue.peek();
    }
    if (head === undefined) return;
    if (this.scheduled && this.scheduled.time <= head.timestamp) return;
    this.scheduled?.handle.cancel();
    const time = head.timestamp;
    this.scheduled = {
      time,
      handle: this.processingTime.schedule(time, () => {
        this.scheduled = undefined;
        try {
          this.advanceProcessingTime(this.processingTime.now());
          this.onProcessingTimersFired();
          this.scheduleNextProcessingTimer();
        } catch (e) {
          this.onAsyncError(e);
        }
      }),
    };
  }
}

/** A timer as a checkpoint holds it (see {@link InternalTimerService.snapshotTimers}). */
export interface SnapshotTimer {
  readonly domain: 'event-time' | 'processing-time';
  readonly timestamp: number;
  readonly key: Key;
  readonly namespace: string;
}

/** The timers of one key group's snapshot list, `[type, timestamp, key, namespace, ...]`. */
export function timersOfSnapshot(flat: readonly unknown[]): SnapshotTimer[] {
  const timers: SnapshotTimer[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    timers.push({
      domain: flat[i] === 1 ? 'processing-time' : 'event-time',
      timestamp: flat[i + 1] as number,
      key: flat[i + 2] as Key,
      namespace: flat[i + 3] as string,
    });
  }
  return timers;
}

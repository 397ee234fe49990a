/** A scheduled callback that can be cancelled. */
export interface ScheduledTimer {
  cancel(): void;
}

/**
 * Processing time of a subtask: the clock and callbacks at a time. Callbacks run on the task's
 * thread between batches of records, never inside one (the mailbox model of Flink's tasks).
 */
export interface ProcessingTimeService {
  now(): number;
  schedule(time: number, callback: (time: number) => void): ScheduledTimer;
}

/** Wall-clock processing time. */
export class SystemProcessingTimeService implements ProcessingTimeService {
  now(): number {
    return Date.now();
  }
  schedule(time: number, callback: (time: number) => void): ScheduledTimer {
    const handle = setTimeout(() => callback(time), Math.max(0, time - Date.now()));
    return { cancel: () => clearTimeout(handle) };
  }
}

/** A clock that only moves when told to: for tests of processing-time timers and TTL. */
export class ManualProcessingTimeService implements ProcessingTimeService {
  private current: number;
  private timers: { time: number; callback: (time: number) => void; cancelled: boolean }[] = [];

  constructor(start = 0) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  schedule(time: number, callback: (time: number) => void): ScheduledTimer {
    const t = { time, callback, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }
  /** Moves the clock to `time` and runs the callbacks that are due, in time order. */
  advanceTo(time: number): void {
    this.current = Math.max(this.current, time);
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.time <= this.current)
        .sort((a, b) => a.time - b.time);
      const next = due[0];
      if (!next) break;
      next.cancelled = true;
      next.callback(next.time);
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}

import type { ProcessingTimeService, ScheduledTimer } from './processing-time-service.js';

/**
 * A task's view of processing time whose callbacks can be held back: while a checkpoint's
 * synchronous phase runs, a due processing-time timer must not change state or emit records
 * between the snapshot and the barrier. Held callbacks run, in order, on release.
 */
export class HoldableProcessingTimeService implements ProcessingTimeService {
  private held = 0;
  private deferred: (() => void)[] = [];

  constructor(private readonly inner: ProcessingTimeService) {}

  now(): number {
    return this.inner.now();
  }

  schedule(time: number, callback: (time: number) => void): ScheduledTimer {
    let cancelled = false;
    const handle = this.inner.schedule(time, (t) => {
      if (cancelled) return;
      if (this.held > 0) this.deferred.push(() => !cancelled && callback(t));
      else callback(t);
    });
    return {
      cancel: () => {
        cancelled = true;
        handle.cancel();
      },
    };
  }

  hold(): void {
    this.held++;
  }

  release(): void {
    if (--this.held > 0) return;
    const due = this.deferred;
    this.deferred = [];
    for (const run of due) run();
  }
}

// Leader election on the checkpoint storage (docs/high-availability.md), with the algorithm of
// Kubernetes client-go's leader election on an object store: one record per leadership epoch,
// created only when absent (If-None-Match: * on S3, link(2) on disk); the leader rewrites its
// own record every retry period; a standby that sees the newest record unchanged for the lease
// duration, on its own monotonic clock (no clock sync needed), creates the next epoch. A leader
// that could not renew within the renew deadline (< lease duration), or sees a newer epoch,
// stops acting at once: before any standby may lead.
import { performance } from 'node:perf_hooks';
import type { LeaderRecord, Logger, StateFileSystem } from '@nimble/runtime';
import {
  encodeLeaderRecord,
  ensureError,
  leaderEpochs,
  leaderRecordUri,
  readLeader,
  withStorageTimeout,
} from '@nimble/runtime';

/** Flink's leader-election timing (high-availability.storage.leader-election.*), in ms. */
export interface LeaseSettings {
  readonly leaseDuration: number;
  readonly renewDeadline: number;
  readonly retryPeriod: number;
}

/** What a candidate advertises in its record once it leads. */
export interface Candidate {
  readonly holder: string;
  readonly rpcAddress: string;
  readonly restUrl: string;
}

/**
 * standby: watching the lease. leading: holds `epoch`. lost: led and stopped acting (a process
 * restart makes it a candidate again, as Flink's JobManager). stopped: closed.
 */
export type ElectorState = 'standby' | 'leading' | 'lost' | 'stopped';

const TRANSITIONS: Record<ElectorState, readonly ElectorState[]> = {
  standby: ['leading', 'stopped'],
  leading: ['lost', 'stopped'],
  lost: ['stopped'],
  stopped: [],
};

/** How many old epochs' records a new leader leaves in place (for diagnosis). */
const EPOCHS_KEPT = 3;

export class LeaderElector {
  private current: ElectorState = 'standby';
  private myEpoch = 0;
  private renewals = 0;
  /** The newest record seen, and when (monotonic ms) it last changed. */
  private observed: LeaderRecord | undefined;
  private observedAt = 0;
  /** When the last successful renewal started (monotonic ms). */
  private renewedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly fs: StateFileSystem;
  private readonly leadingListeners: ((epoch: number) => void)[] = [];
  private readonly lostListeners: ((reason: string) => void)[] = [];

  /**
   * @param root the cluster's HA root (`<storageDir>/<cluster-id>`)
   * @param now a monotonic clock in ms (tests pass their own)
   */
  constructor(
    fs: StateFileSystem,
    private readonly root: string,
    private readonly candidate: Candidate,
    private readonly settings: LeaseSettings,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    // No storage call may outlive the renew deadline: a hanging store must not hold the loop.
    this.fs = withStorageTimeout(fs, settings.renewDeadline);
  }

  get state(): ElectorState {
    return this.current;
  }

  /** The epoch this candidate leads (its fencing token); 0 while it does not lead. */
  get epoch(): number {
    return this.current === 'leading' ? this.myEpoch : 0;
  }

  /** Whether this candidate leads now: false from the moment its lease may have run out. */
  get isLeader(): boolean {
    return this.current === 'leading';
  }

  /** The newest leader record this candidate has seen (its own while it leads). */
  get leader(): LeaderRecord | undefined {
    return this.observed;
  }

  onLeading(listener: (epoch: number) => void): void {
    this.leadingListeners.push(listener);
  }

  /** Called once, synchronously, when a leader stops acting. */
  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  start(): void {
    this.schedule(0);
  }

  /**
   * Stops the election. A leader with `release` marks its record released, so a standby takes
   * over at once rather than after the lease duration.
   */
  async stop(release: boolean): Promise<void> {
    const wasLeading = this.current === 'leading';
    if (this.current !== 'stopped') this.transition('stopped');
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    await this.loop;
    if (wasLeading && release) {
      await this.fs
        .writeAtomic(leaderRecordUri(this.root, this.myEpoch), this.record(true))
        .catch((e: unknown) =>
          this.log.warn({ err: ensureError(e) }, 'could not release the leader lease'),
        );
    }
  }

  private transition(to: ElectorState): void {
    if (!TRANSITIONS[this.current].includes(to)) {
      throw new Error(`Leader election: no transition from ${this.current} to ${to}`);
    }
    this.current = to;
  }

  private schedule(delay: number): void {
    if (this.current !== 'standby' && this.current !== 'leading') return;
    this.timer = setTimeout(() => {
      this.loop = (this.current === 'leading' ? this.renew() : this.observe()).then(
        () => this.schedule(this.settings.retryPeriod),
        (e: unknown) => {
          this.log.error({ err: ensureError(e) }, 'leader election step failed unexpectedly');
          this.schedule(this.settings.retryPeriod);
        },
      );
    }, delay);
  }

  /** A standby's look at the lease: takes the next epoch when the newest one is absent or stale. */
  private async observe(): Promise<void> {
    let newest: LeaderRecord | undefined;
    try {
      newest = await readLeader(this.fs, this.root);
    } catch (e) {
      // Nothing is known about the lease: keep the last observation and its timer, so an
      // unreadable store neither makes this standby lead nor delays it once readable.
      this.log.warn({ err: ensureError(e) }, 'could not read the leader lease');
      return;
    }
    const t = this.now();
    if (!sameRecord(newest, this.observed)) {
      if (newest && newest.epoch !== this.observed?.epoch) {
        this.log.info(
          { epoch: newest.epoch, leader: newest.rpcAddress, holder: newest.holder },
          'observed a leader',
        );
      }
      this.observed = newest;
      this.observedAt = t;
    }
    const stale =
      newest === undefined || newest.released || t - this.observedAt >= this.settings.leaseDuration;
    if (stale) await this.tryAcquire((newest?.epoch ?? 0) + 1);
  }

  private async tryAcquire(epoch: number): Promise<void> {
    const started = this.now();
    const uri = leaderRecordUri(this.root, epoch);
    this.myEpoch = epoch;
    this.renewals = 0;
    let created: boolean;
    try {
      created = await this.fs.createExclusive(uri, this.record(false));
      if (!created) {
        // A retried PUT whose first try went through reports the key as taken: the record says.
        const taken = await readLeader(this.fs, this.root).catch(() => undefined);
        created = taken?.epoch === epoch && taken.holder === this.candidate.holder;
      }
    } catch (e) {
      this.log.warn({ err: ensureError(e), epoch }, 'could not create the leader lease');
      return;
    }
    if (this.current !== 'standby') return;
    if (!created) {
      this.log.info({ epoch }, 'another JobManager took the lead first');
      return;
    }
    this.transition('leading');
    this.observed = this.recordValue(false);
    this.renewedAt = started;
    this.armDeadline();
    this.log.info({ epoch, previous: epoch - 1 }, 'granted leadership');
    for (const l of this.leadingListeners) l(epoch);
    void this.cleanUp(epoch);
  }

  /** Renews the lease, unless a newer epoch exists: then this leader has been replaced. */
  private async renew(): Promise<void> {
    const started = this.now();
    try {
      const [newest] = await leaderEpochs(this.fs, this.root);
      if (newest !== undefined && newest > this.myEpoch) {
        this.lose(`a newer leader took epoch ${newest}`);
        return;
      }
      this.renewals++;
      await this.fs.writeAtomic(leaderRecordUri(this.root, this.myEpoch), this.record(false));
    } catch (e) {
      this.log.warn({ err: ensureError(e), epoch: this.myEpoch }, 'could not renew the lease');
      return;
    }
    if (this.current !== 'leading') return;
    this.renewedAt = started;
    this.observed = this.recordValue(false);
    this.armDeadline();
  }

  /** Steps down when no renewal has succeeded within the renew deadline. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const left = this.renewedAt + this.settings.renewDeadline - this.now();
    this.deadlineTimer = setTimeout(
      () => {
        const since = Math.round(this.now() - this.renewedAt);
        if (since >= this.settings.renewDeadline) {
          this.lose(
            `the lease was not renewed for ${since} ms (renew-deadline ${this.settings.renewDeadline} ms)`,
          );
        } else this.armDeadline();
      },
      Math.max(0, left),
    );
  }

  private lose(reason: string): void {
    if (this.current !== 'leading') return;
    this.transition('lost');
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.timer);
    this.log.error({ epoch: this.myEpoch, reason }, 'lost leadership: stopping to act');
    for (const l of this.lostListeners) l(reason);
  }

  private recordValue(released: boolean): LeaderRecord {
    return {
      holder: this.candidate.holder,
      epoch: this.myEpoch,
      rpcAddress: this.candidate.rpcAddress,
      restUrl: this.candidate.restUrl,
      renewals: this.renewals,
      released,
    };
  }

  private record(released: boolean): Uint8Array {
    return encodeLeaderRecord(this.recordValue(released));
  }

  /** Deletes the records of epochs long past; a failure only leaves them for the next leader. */
  private async cleanUp(epoch: number): Promise<void> {
    try {
      for (const old of await leaderEpochs(this.fs, this.root)) {
        if (old <= epoch - EPOCHS_KEPT) await this.fs.delete(leaderRecordUri(this.root, old));
      }
    } catch (e) {
      this.log.debug({ err: ensureError(e) }, 'could not delete old leader records');
    }
  }
}

function sameRecord(a: LeaderRecord | undefined, b: LeaderRecord | undefined): boolean {
  return (
    a?.epoch === b?.epoch &&
    a?.holder === b?.holder &&
    a?.renewals === b?.renewals &&
    a?.released === b?.released
  );
}

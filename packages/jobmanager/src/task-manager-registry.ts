import type {
  HardwareDescription__Output,
  Interceptor,
  RpcSecurity,
  TaskExecutorClient,
} from '@nimble/proto';
import { nimbleServices, RpcClient, RpcStatusError, status } from '@nimble/proto';
import type { Logger } from '@nimble/runtime';
import { createHmac, randomBytes } from 'node:crypto';

/** A registered TaskManager and its slots. */
export interface RegisteredTaskManager {
  readonly resourceId: string;
  /**
   * Random 128-bit id (hex) of this registration, known only to the JobManager and the
   * TaskManager that registered: every later call of the TaskManager must carry it.
   */
  readonly registrationId: string;
  readonly address: string;
  readonly metricsAddress: string;
  readonly slots: number;
  readonly hardware: HardwareDescription__Output | null;
  readonly registeredAt: number;
  lastHeartbeat: number;
  /** Slots used, by the job that holds them. */
  readonly allocated: Map<string, number>;
  readonly client: RpcClient<TaskExecutorClient>;
}

/** One job slot placed on a TaskManager. */
export interface SlotAssignment {
  readonly jobSlot: number;
  readonly taskManager: RegisteredTaskManager;
}

/**
 * The JobManager's resource manager and slot pool: TaskManagers register, stay alive through
 * their heartbeat stream, and lend slots to jobs. A TaskManager is lost when its stream closes
 * or it stays silent for heartbeat.timeout.
 */
export class TaskManagerRegistry {
  private readonly tms = new Map<string, RegisteredTaskManager>();
  private readonly byRegistration = new Map<string, RegisteredTaskManager>();
  /** Key of the exchange secrets: one per JobManager process, never sent. */
  private readonly exchangeKey = randomBytes(32);
  private readonly lostListeners: ((tm: RegisteredTaskManager, reason: string) => void)[] = [];
  private readonly slotWaiters = new Set<() => void>();
  private readonly checker: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    private readonly heartbeatTimeoutMs: number,
    private readonly security: RpcSecurity = {},
    /** Interceptors of every call to a TaskManager, e.g. the leader's fencing token. */
    private readonly interceptors: readonly Interceptor[] = [],
  ) {
    this.checker = setInterval(
      () => this.checkHeartbeats(),
      Math.min(1000, heartbeatTimeoutMs / 2),
    );
    this.checker.unref();
  }

  /**
   * Registers a TaskManager and returns its registration id. A second registration under the id
   * of a TaskManager that is registered and alive is refused (ALREADY_EXISTS), not an eviction:
   * only a TaskManager the JobManager dropped (heartbeat loss, a closed heartbeat stream) may
   * register again, and then gets a new registration id.
   */
  register(
    tm: Omit<
      RegisteredTaskManager,
      'allocated' | 'client' | 'registeredAt' | 'lastHeartbeat' | 'registrationId'
    >,
  ): string {
    const existing = this.tms.get(tm.resourceId);
    if (existing) {
      this.log.warn(
        { tm_id: tm.resourceId, address: tm.address, registered_address: existing.address },
        'refused a registration under the id of a registered TaskManager',
      );
      throw new RpcStatusError(
        status.ALREADY_EXISTS,
        `TaskManager ${tm.resourceId} is already registered (since ${new Date(existing.registeredAt).toISOString()}, ` +
          `at ${existing.address}) and alive. A TaskManager registers again only after the JobManager dropped it ` +
          '(heartbeat.timeout); give each TaskManager its own taskmanager.resource-id.',
      );
    }
    const client = new RpcClient(nimbleServices().TaskExecutor, tm.address, {
      deadlineMs: 60_000,
      security: this.security,
      interceptors: this.interceptors,
    });
    const now = Date.now();
    const registered: RegisteredTaskManager = {
      ...tm,
      registrationId: randomBytes(16).toString('hex'),
      allocated: new Map(),
      client,
      registeredAt: now,
      lastHeartbeat: now,
    };
    this.tms.set(tm.resourceId, registered);
    this.byRegistration.set(registered.registrationId, registered);
    this.log.info(
      { tm_id: tm.resourceId, address: tm.address, slots: tm.slots },
      'TaskManager registered',
    );
    this.slotsChanged();
    return registered.registrationId;
  }

  /** Records a heartbeat of a registration; false when it is not (or no longer) registered. */
  heartbeat(registrationId: string): boolean {
    const tm = this.byRegistration.get(registrationId);
    if (tm) tm.lastHeartbeat = Date.now();
    return tm !== undefined;
  }

  get(resourceId: string): RegisteredTaskManager | undefined {
    return this.tms.get(resourceId);
  }

  /** The TaskManager registered under `registrationId`, if it still is. */
  byRegistrationId(registrationId: string): RegisteredTaskManager | undefined {
    return registrationId ? this.byRegistration.get(registrationId) : undefined;
  }

  /**
   * The secret of the data-exchange stream between two registered TaskManagers: an HMAC of both
   * registration ids under a key only this JobManager holds. Both get it in DeployTasks (and no
   * one else), the dialing one presents it, the accepting one compares. It changes when either
   * registers again.
   */
  exchangeSecret(a: RegisteredTaskManager, b: RegisteredTaskManager): string {
    const [first, second] = a.resourceId < b.resourceId ? [a, b] : [b, a];
    return createHmac('sha256', this.exchangeKey)
      .update(`${first.registrationId}\n${second.registrationId}`)
      .digest('hex');
  }

  all(): RegisteredTaskManager[] {
    return [...this.tms.values()];
  }

  onLost(listener: (tm: RegisteredTaskManager, reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Declares a TaskManager lost: its slots are gone and the jobs using them fail. */
  lost(resourceId: string, reason: string): void {
    const tm = this.tms.get(resourceId);
    if (!tm) return;
    this.tms.delete(resourceId);
    this.byRegistration.delete(tm.registrationId);
    tm.client.close();
    this.log.warn({ tm_id: resourceId, reason }, 'TaskManager lost');
    for (const l of this.lostListeners) l(tm, reason);
    this.slotsChanged();
  }

  slotsTotal(): number {
    let n = 0;
    for (const tm of this.tms.values()) n += tm.slots;
    return n;
  }

  slotsFree(): number {
    let n = 0;
    for (const tm of this.tms.values()) n += free(tm);
    return n;
  }

  /** Slots of `tm` no job holds. */
  slotsFreeOf(tm: RegisteredTaskManager): number {
    return free(tm);
  }

  /**
   * Takes `count` slots for `owner`, filling TaskManagers in registration order (Flink's
   * default, cluster.evenly-spread-out-slots: false); undefined when not enough are free.
   */
  allocate(owner: string, count: number): SlotAssignment[] | undefined {
    if (this.slotsFree() < count) return undefined;
    const out: SlotAssignment[] = [];
    for (const tm of this.tms.values()) {
      const take = Math.min(free(tm), count - out.length);
      if (take <= 0) continue;
      tm.allocated.set(owner, (tm.allocated.get(owner) ?? 0) + take);
      for (let i = 0; i < take; i++) out.push({ jobSlot: out.length, taskManager: tm });
      if (out.length === count) break;
    }
    return out;
  }

  release(owner: string): void {
    let changed = false;
    for (const tm of this.tms.values()) changed = tm.allocated.delete(owner) || changed;
    if (changed) this.slotsChanged();
  }

  /** Resolves when slots were registered or freed, or after `ms`. */
  waitForSlotChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.slotWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.slotWaiters.add(done);
    });
  }

  close(): void {
    clearInterval(this.checker);
    for (const tm of this.tms.values()) tm.client.close();
  }

  private slotsChanged(): void {
    for (const w of [...this.slotWaiters]) w();
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    for (const tm of [...this.tms.values()]) {
      if (now - tm.lastHeartbeat > this.heartbeatTimeoutMs) {
        this.lost(
          tm.resourceId,
          `no heartbeat for ${now - tm.lastHeartbeat} ms (heartbeat.timeout ${this.heartbeatTimeoutMs} ms)`,
        );
      }
    }
  }
}

function free(tm: RegisteredTaskManager): number {
  let used = 0;
  for (const n of tm.allocated.values()) used += n;
  return tm.slots - used;
}

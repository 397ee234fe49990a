// The TaskManager's registration at the JobManager, as its HTTP health endpoint (GET /health on
// the metrics port) reports it: what a Kubernetes readiness probe asks, "can the JobManager
// deploy tasks here?". It is not a liveness signal: a TaskManager that lost its JobManager
// registers again on its own (and exits after taskmanager.registration.timeout), so restarting
// it for being unregistered would only slow down a JobManager fail-over.

/**
 * REGISTERING: started, or lost the JobManager, and trying to register (again).
 * REGISTERED: the JobManager accepted the registration and answers heartbeats.
 * STOPPED: shutting down or given up; final.
 */
export type RegistrationState = 'REGISTERING' | 'REGISTERED' | 'STOPPED';

const TRANSITIONS: Readonly<Record<RegistrationState, readonly RegistrationState[]>> = {
  REGISTERING: ['REGISTERED', 'STOPPED'],
  REGISTERED: ['REGISTERING', 'STOPPED'],
  STOPPED: [],
};

/** The body of GET /health. */
export interface HealthReport {
  readonly status: RegistrationState;
  readonly resourceId: string;
  /** The JobManager address this TaskManager is registered at, or tries to register at. */
  readonly jobmanager: string;
  /** Why the TaskManager is not registered, once it lost a registration. */
  readonly reason?: string;
}

/** The registration state machine; every transition is declared in TRANSITIONS. */
export class RegistrationStatus {
  private current: RegistrationState = 'REGISTERING';
  private reason: string | undefined;

  /** `jobManager` gives the address registered at or tried now (it changes with HA). */
  constructor(
    private readonly resourceId: string,
    private readonly jobManager: () => string,
  ) {}

  get state(): RegistrationState {
    return this.current;
  }

  registered(): void {
    if (this.move('REGISTERED')) this.reason = undefined;
  }

  lost(reason: string): void {
    if (this.move('REGISTERING')) this.reason = reason;
  }

  stopped(reason: string): void {
    if (this.move('STOPPED')) this.reason = reason;
  }

  /** The health endpoint's answer: 200 when registered, 503 otherwise. */
  health(): { readonly httpStatus: number; readonly report: HealthReport } {
    return {
      httpStatus: this.current === 'REGISTERED' ? 200 : 503,
      report: {
        status: this.current,
        resourceId: this.resourceId,
        jobmanager: this.jobManager(),
        ...(this.reason === undefined ? {} : { reason: this.reason }),
      },
    };
  }

  /** Whether the transition happened. */
  private move(to: RegistrationState): boolean {
    // A late callback (a heartbeat stream ending after stop) must not revive a stopped
    // TaskManager's status; any other transition not in TRANSITIONS is ignored the same way.
    if (!TRANSITIONS[this.current].includes(to)) return false;
    this.current = to;
    return true;
  }
}

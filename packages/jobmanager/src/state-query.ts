import { status } from '@nimble/proto';
import { NimbleError } from '@nimble/runtime';

/**
 * Where the JobManager finds a queryable state of a job (Flink's KvStateLocation): learned from
 * the first registration of the name by a subtask's keyed state backend.
 */
export interface QueryableStateLocation {
  readonly name: string;
  readonly vertexId: number;
  readonly operatorUid: string;
  readonly operatorName: string;
  /** The state's own name in its operator. */
  readonly stateName: string;
  readonly kind: string;
  readonly ttl: boolean;
  readonly parallelism: number;
  readonly maxParallelism: number;
}

/** `live`: the value now, from the running subtask; `committed`: as of the latest completed checkpoint. */
export type StateQueryMode = 'live' | 'committed';

/** Most keys one lookup may ask for (REST batch and gRPC). */
export const MAX_KEYS_PER_LOOKUP = 10_000;

/** One key's answer. `value` is the state's value (a JS value), undefined when not found. */
export interface KeyLookup {
  readonly found: boolean;
  readonly value: unknown;
  readonly keyGroup: number;
  readonly subtask: number;
}

/**
 * Why a lookup failed, which decides the answer: REST status and gRPC code. `unavailable` is
 * retryable (the job or an owning subtask is not running now: deploying, restarting, rescaling).
 */
export type StateQueryFailure =
  'bad-request' | 'not-found' | 'unavailable' | 'ended' | 'not-implemented' | 'failed';

/** A lookup of queryable state that cannot be answered; {@link reason} classifies it. */
export class StateQueryError extends NimbleError {
  override name = 'StateQueryError';
  constructor(
    readonly reason: StateQueryFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, reason === 'unavailable' || reason === 'failed' ? 'external' : 'user', options);
  }
  /** Whether the same lookup may succeed later. */
  get retryable(): boolean {
    return this.reason === 'unavailable';
  }
}

/** The REST status of each failure; 503 answers carry `Retry-After`. */
export const HTTP_STATUS_OF: Record<StateQueryFailure, number> = {
  'bad-request': 400,
  'not-found': 404,
  unavailable: 503,
  ended: 410,
  'not-implemented': 501,
  failed: 502,
};

/** The gRPC status of each failure: UNAVAILABLE is the retryable one, as for every Nimble client. */
export const GRPC_STATUS_OF: Record<StateQueryFailure, status> = {
  'bad-request': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  unavailable: status.UNAVAILABLE,
  ended: status.FAILED_PRECONDITION,
  'not-implemented': status.UNIMPLEMENTED,
  failed: status.UNKNOWN,
};

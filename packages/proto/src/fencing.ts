// Leader fencing on the wire (docs/high-availability.md): the token a JobManager leader puts on
// every call to a TaskManager (Flink's fencing token: its leadership epoch), and server
// interceptors that refuse a call before any handler sees it: a TaskManager refusing a former
// leader, a standby JobManager naming the leader.
import * as grpc from '@grpc/grpc-js';

/** Metadata key of the leader's epoch on every JobManager -> TaskManager call. */
export const FENCING_TOKEN_METADATA = 'nimble-fencing-token';
/** Metadata key of the leader's gRPC address in a standby JobManager's refusal. */
export const LEADER_ADDRESS_METADATA = 'nimble-leader-address';

/** A client interceptor that adds the current fencing token to every call. */
export function fencingTokenInterceptor(token: () => number): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(FENCING_TOKEN_METADATA, String(token()));
        next(metadata, listener);
      },
    });
}

/** The fencing token of a call's metadata; undefined when absent or not a number. */
export function fencingTokenOf(metadata: grpc.Metadata): number | undefined {
  const value = metadata.get(FENCING_TOKEN_METADATA)[0];
  const token = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
  return token;
}

/** Why a call is refused: its status, message and any trailing metadata (e.g. the leader). */
export interface Refusal {
  readonly code: grpc.status;
  readonly details: string;
  readonly metadata?: grpc.Metadata;
}

/**
 * A server interceptor that asks `gate` about every call of `services` once its metadata
 * arrived: a refusal is sent as the call's status and no handler runs. Other services pass.
 */
export function gateServerInterceptor(
  services: readonly grpc.ServiceDefinition[],
  gate: (metadata: grpc.Metadata, path: string) => Refusal | undefined,
): grpc.ServerInterceptor {
  const guarded = new Set(services.flatMap((s) => Object.values(s).map((m) => m.path)));
  return (method, call) => {
    if (!guarded.has(method.path)) return new grpc.ServerInterceptingCall(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const refusal = gate(metadata, method.path);
        if (refusal === undefined) next(metadata);
        else call.sendStatus(refusal);
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

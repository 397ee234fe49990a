// The one place gRPC credentials come from: mutual TLS against the cluster CA and the bearer
// token of clients. Every channel (RpcClient) and every server (bindServer) takes an RpcSecurity.
import * as grpc from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';

/** How a process authenticates on gRPC. The empty object is plaintext without a token. */
export interface RpcSecurity {
  /**
   * Mutual TLS: this process's certificate and key, and the CA certificates its peers must be
   * signed by. As in Flink's internal SSL, the peer's certificate chain is verified, its host
   * name is not: membership of the cluster is what a certificate proves, and TaskManagers
   * advertise addresses (container ids) no certificate could name in advance.
   */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer };
  /** Bearer token sent with every call (clients) or required on client-facing services. */
  readonly token?: string;
}

/** The metadata key that carries the token, as HTTP's header. */
export const AUTHORIZATION_METADATA = 'authorization';

/** Credentials of a channel to a daemon. */
export function channelCredentials(security: RpcSecurity): grpc.ChannelCredentials {
  const tls = security.tls;
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, {
    checkServerIdentity: () => undefined,
  });
}

/**
 * Client options that go with {@link channelCredentials}: the token on every call, and with TLS
 * a fixed server name, since the host name is not checked (and an IP address may not be sent as
 * one, RFC 6066).
 */
export function securityClientOptions(security: RpcSecurity): grpc.ClientOptions {
  return {
    ...(security.tls ? { 'grpc.ssl_target_name_override': 'nimble-cluster' } : {}),
    ...(security.token === undefined ? {} : { interceptors: [tokenInterceptor(security.token)] }),
  };
}

/** Credentials of a server: with TLS, a client without a certificate of the CA is refused. */
export function serverCredentials(security: RpcSecurity): grpc.ServerCredentials {
  const tls = security.tls;
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.ca,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    true,
  );
}

/** A client interceptor that adds `authorization: Bearer <token>` to every call. */
export function tokenInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(AUTHORIZATION_METADATA, `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Whether an `Authorization` value carries `token` as a bearer token. The comparison takes the
 * same time whatever the value (digests of equal length, compared in constant time).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header?.trim() ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(presented), digest(token)) && presented !== '';
}

const UNAUTHENTICATED = {
  code: grpc.status.UNAUTHENTICATED,
  details:
    'this call needs the cluster token: set security.rest.token-file (or security.rest.token) ' +
    'in the configuration, or NIMBLE_TOKEN in the environment of the client',
};

/**
 * A server interceptor that refuses every call of `services` without `Authorization: Bearer
 * <token>` with UNAUTHENTICATED, before a handler sees it. Other services pass as they are.
 */
export function tokenServerInterceptor(
  token: string,
  services: readonly grpc.ServiceDefinition[],
): grpc.ServerInterceptor {
  const guarded = new Set(services.flatMap((s) => Object.values(s).map((m) => m.path)));
  return (method, call) => {
    if (!guarded.has(method.path)) return new grpc.ServerInterceptingCall(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const value = metadata.get(AUTHORIZATION_METADATA)[0];
        if (bearerMatches(typeof value === 'string' ? value : undefined, token)) next(metadata);
        else call.sendStatus(UNAUTHENTICATED);
      })
      .build();
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

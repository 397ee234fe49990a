import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS } from './rpc-client.js';
import type { RpcSecurity } from './transport-security.js';
import { serverCredentials, tokenServerInterceptor } from './transport-security.js';

/** An answer other than OK: the handler rejects with this to choose the status code. */
export class RpcStatusError extends Error {
  override name = 'RpcStatusError';
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** Rejects a request: INVALID_ARGUMENT with a message naming the field at fault. */
export function invalidArgument(message: string): RpcStatusError {
  return new RpcStatusError(grpc.status.INVALID_ARGUMENT, message);
}

export function notFound(message: string): RpcStatusError {
  return new RpcStatusError(grpc.status.NOT_FOUND, message);
}

export function failedPrecondition(message: string): RpcStatusError {
  return new RpcStatusError(grpc.status.FAILED_PRECONDITION, message);
}

/** Unary handlers as async functions; streaming handlers as grpc-js defines them. */
export type AsyncHandlers<H> = {
  // Generated handler types carry grpc-js's index signature: keep only the named methods.
  [K in keyof H as string extends K ? never : K]: H[K] extends grpc.handleUnaryCall<
    infer Req,
    infer Res
  >
    ? (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>
    : H[K];
};

/** What a server reports about calls that failed unexpectedly (a defect, not a bad request). */
export type InternalErrorReporter = (method: string, error: unknown) => void;

/**
 * Adapts async unary handlers to grpc-js callbacks. A handler that throws never takes the
 * daemon down: an {@link RpcStatusError} becomes its status, anything else INTERNAL (reported).
 */
export function adaptHandlers<H extends grpc.UntypedServiceImplementation>(
  definition: grpc.ServiceDefinition,
  handlers: AsyncHandlers<H>,
  report: InternalErrorReporter,
): H {
  const out: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(handlers as Record<string, unknown>)) {
    const method = definition[name];
    if (method && !method.requestStream && !method.responseStream) {
      const fn = handler as (req: unknown, call: unknown) => Promise<unknown>;
      out[name] = (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        let result: Promise<unknown>;
        try {
          result = Promise.resolve(fn(call.request, call));
        } catch (e) {
          result = Promise.reject(e);
        }
        result.then(
          (response) => callback(null, response),
          (e: unknown) => {
            if (e instanceof RpcStatusError) {
              callback({ code: e.code, details: e.message });
            } else {
              report(name, e);
              callback({
                code: grpc.status.INTERNAL,
                details: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
              });
            }
          },
        );
      };
    } else {
      out[name] = handler;
    }
  }
  return out as H;
}

/**
 * A gRPC server with Nimble's channel settings. With `auth.token`, every call of a service in
 * `auth.services` (the client-facing ones) must carry the token (transport-security.ts).
 * `maxReceiveMessageBytes` bounds each request (larger ones get RESOURCE_EXHAUSTED).
 */
export function createServer(
  auth: {
    readonly token?: string;
    readonly services?: readonly grpc.ServiceDefinition[];
    readonly maxReceiveMessageBytes?: number;
    /** Run after the token check, e.g. fencing (fencing.ts). */
    readonly interceptors?: readonly grpc.ServerInterceptor[];
  } = {},
): grpc.Server {
  const interceptors = [
    ...(auth.token === undefined ? [] : [tokenServerInterceptor(auth.token, auth.services ?? [])]),
    ...(auth.interceptors ?? []),
  ];
  const limit =
    auth.maxReceiveMessageBytes === undefined
      ? {}
      : { 'grpc.max_receive_message_length': auth.maxReceiveMessageBytes };
  return new grpc.Server({ ...CHANNEL_OPTIONS, ...limit, interceptors });
}

/**
 * Binds `server` to host:port (port 0: any free port) and returns the bound port. With
 * `security.tls`, only clients with a certificate of the cluster CA get through the handshake.
 */
export function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  security: RpcSecurity = {},
): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, serverCredentials(security), (error, bound) => {
      if (error)
        reject(new Error(`Cannot listen on ${address}: ${error.message}`, { cause: error }));
      else resolve(bound);
    });
  });
}

import * as grpc from '@grpc/grpc-js';
import type { RetryPolicy } from './retry.js';
import type { RpcSecurity } from './transport-security.js';
import { channelCredentials, securityClientOptions } from './transport-security.js';
import { backoffMs, DEFAULT_RETRY_POLICY, isRetryable } from './retry.js';
import { LEADER_ADDRESS_METADATA } from './fencing.js';

/** Settings shared by every channel Nimble opens. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Detect a dead peer on an idle connection within ~20 s, not after the OS's TCP timeout.
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  // Job bundles and collected results travel as single messages.
  'grpc.max_receive_message_length': 512 * 1024 * 1024,
  'grpc.max_send_message_length': 512 * 1024 * 1024,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/** Per-call settings. */
export interface CallSettings {
  /** Time allowed for one try (ms). */
  readonly deadlineMs?: number;
  /** Whether repeating the call is harmless (then DEADLINE_EXCEEDED is retried too). */
  readonly idempotent?: boolean;
  readonly retry?: RetryPolicy;
  readonly signal?: AbortSignal;
}

/** A unary method of a generated client, seen through its shortest overload. */
type UnaryMethod<Req, Res> = (request: Req, callback: grpc.requestCallback<Res>) => unknown;

/** A failed call: the gRPC status code and the server's message, naming the method and peer. */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    method: string,
    address: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} on ${address} failed: ${grpc.status[code] ?? code}: ${details}`, options);
  }
}

/**
 * The one wrapper around a grpc-js client: every unary call gets a deadline, retries under the
 * rules of `retry.ts` only, and errors that name the method and the peer.
 */
export class RpcClient<C extends grpc.Client> {
  readonly raw: C;

  private readonly deadlineMs: number;

  /**
   * @param options.deadlineMs time allowed for one try of a call (default 10 s)
   * @param options.security the process's TLS material and token (transport-security.ts)
   */
  constructor(
    Client: new (address: string, credentials: grpc.ChannelCredentials, options: object) => C,
    readonly address: string,
    options: {
      readonly deadlineMs?: number;
      readonly security?: RpcSecurity;
      /** Run after the security ones, e.g. the fencing token (fencing.ts). */
      readonly interceptors?: readonly grpc.Interceptor[];
    } = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? 10_000;
    const security = options.security ?? {};
    const secured = securityClientOptions(security);
    this.raw = new Client(address, channelCredentials(security), {
      ...CHANNEL_OPTIONS,
      ...secured,
      interceptors: [...(secured.interceptors ?? []), ...(options.interceptors ?? [])],
    });
  }

  /** Calls unary `method` of the raw client (`client.call(client.raw.GetJob, request)`). */
  async call<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    settings: CallSettings = {},
  ): Promise<Res> {
    const policy = settings.retry ?? DEFAULT_RETRY_POLICY;
    const name = method.name || this.methodName(method);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(method, request, settings);
      } catch (e) {
        const code = (e as { code?: number }).code ?? grpc.status.UNKNOWN;
        // A standby JobManager that names the leader is not retried: the caller follows it.
        const standby =
          ((e as { metadata?: grpc.Metadata }).metadata?.get(LEADER_ADDRESS_METADATA).length ?? 0) >
          0;
        const retry =
          !standby &&
          attempt < policy.maxAttempts &&
          !settings.signal?.aborted &&
          isRetryable(code, settings.idempotent ?? false);
        if (!retry) {
          throw new RpcError(
            code,
            (e as { details?: string }).details ?? String(e),
            name,
            this.address,
            { cause: e },
          );
        }
        await new Promise((r) => setTimeout(r, backoffMs(policy, attempt)));
      }
    }
  }

  private once<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    settings: CallSettings,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const deadline = Date.now() + (settings.deadlineMs ?? this.deadlineMs);
      const call = (
        method as unknown as (
          this: C,
          req: Req,
          md: grpc.Metadata,
          options: grpc.CallOptions,
          cb: grpc.requestCallback<Res>,
        ) => grpc.ClientUnaryCall
      ).call(this.raw, request, new grpc.Metadata(), { deadline }, (error, response) => {
        settings.signal?.removeEventListener('abort', abort);
        if (error) reject(error);
        else resolve(response as Res);
      });
      const abort = (): void => call.cancel();
      settings.signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** The name of a raw client's method (grpc-js makes them anonymous), for error messages. */
  private methodName(method: unknown): string {
    const proto = Object.getPrototypeOf(this.raw) as Record<string, unknown>;
    return Object.keys(proto).find((k) => proto[k] === method) ?? 'call';
  }

  close(): void {
    this.raw.close();
  }
}

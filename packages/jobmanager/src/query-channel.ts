/**
 * The JobManager's end of a TaskManager's lookup stream (TaskExecutor.QueryStates): one stream
 * per TaskManager, opened at the first lookup and again after it broke, carrying every lookup
 * of queryable state routed there. A message on an open stream costs a fraction of a unary call
 * (no HTTP/2 stream, headers and trailers per lookup), which is most of a live lookup's latency.
 */
import type {
  ClientDuplexStream,
  RpcClient,
  TaskExecutorClient,
  TaskQueryStateRequest,
  TaskQueryStateResponse__Output,
} from '@nimble/proto';
import { RpcError, status } from '@nimble/proto';

interface Pending {
  readonly resolve: (results: Uint8Array) => void;
  readonly reject: (e: RpcError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** The lookup stream of one TaskManager (by its RPC client), opened when first used. */
export function queryChannelOf(client: RpcClient<TaskExecutorClient>): QueryChannel {
  let channel = channels.get(client);
  if (channel === undefined) channels.set(client, (channel = new QueryChannel(client)));
  return channel;
}
const channels = new WeakMap<RpcClient<TaskExecutorClient>, QueryChannel>();

export class QueryChannel {
  private stream:
    ClientDuplexStream<TaskQueryStateRequest, TaskQueryStateResponse__Output> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly client: RpcClient<TaskExecutorClient>,
    private readonly deadlineMs = 10_000,
  ) {}

  /** Sends one lookup; resolves with its serialized results, rejects with an {@link RpcError}. */
  query(request: Omit<TaskQueryStateRequest, 'requestId'>): Promise<Uint8Array> {
    const stream = this.open();
    const requestId = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(this.error(status.DEADLINE_EXCEEDED, `no answer within ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      this.pending.set(requestId, { resolve, reject, timer });
      stream.write({ ...request, requestId });
    });
  }

  /** Ends the stream; lookups still waiting fail as UNAVAILABLE (retryable). */
  close(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
    this.failAll(status.UNAVAILABLE, 'the lookup stream was closed');
  }

  private open(): ClientDuplexStream<TaskQueryStateRequest, TaskQueryStateResponse__Output> {
    if (this.stream !== undefined) return this.stream;
    const stream = this.client.raw.QueryStates();
    this.stream = stream;
    stream.on('data', (res: TaskQueryStateResponse__Output) => {
      const p = this.pending.get(Number(res.requestId));
      if (p === undefined) return; // timed out meanwhile
      this.pending.delete(Number(res.requestId));
      clearTimeout(p.timer);
      if (res.code === status.OK) p.resolve(res.results);
      else p.reject(this.error(res.code, res.message));
    });
    const broken = (why: string): void => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.failAll(status.UNAVAILABLE, why);
    };
    stream.on('error', (e: Error & { details?: string }) =>
      broken(`the lookup stream broke: ${e.details ?? e.message}`),
    );
    stream.on('end', () => broken('the TaskManager ended the lookup stream'));
    return stream;
  }

  private failAll(code: status, why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(this.error(code, why));
    }
  }

  private error(code: status, details: string): RpcError {
    return new RpcError(code, details, 'QueryStates', this.client.address);
  }
}

import type {
  ExchangeBatch,
  ExchangeBatch__Output,
  ExchangeClient,
  ExchangeFrame,
  ExchangeFrame__Output,
  RpcSecurity,
  ClientDuplexStream,
  ServerDuplexStream,
} from '@nimble/proto';
import { Metadata, nimbleServices, RpcClient, status } from '@nimble/proto';
import type { ChannelMessage, Logger } from '@nimble/runtime';
import { timingSafeEqual } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';

type Duplex =
  | ClientDuplexStream<ExchangeBatch, ExchangeBatch__Output>
  | ServerDuplexStream<ExchangeBatch__Output, ExchangeBatch>;

export const RESOURCE_ID_METADATA = 'nimble-resource-id';
/** The pair's exchange secret (SlotLocation.exchange_secret), presented by the dialing side. */
export const EXCHANGE_SECRET_METADATA = 'nimble-exchange-secret';

/**
 * How long an inbound stream from a peer whose secret is not known yet waits for it: the peer
 * may dial before this TaskManager processed its own DeployTasks of the same attempt.
 */
const SECRET_WAIT_MS = 30_000;
/** Inbound streams that may wait for their secret at once; more are refused at once. */
const MAX_WAITING_STREAMS = 64;

const EMPTY = new Uint8Array(0);

/**
 * One multiplexed stream to another TaskManager. Frames written in the same turn of the event
 * loop go out as one batch.
 */
class PeerLink {
  private queue: ExchangeFrame[] = [];
  private scheduled = false;
  private stream: Duplex | undefined;
  private client: RpcClient<ExchangeClient> | undefined;

  constructor(
    readonly peerId: string,
    private readonly router: ExchangeRouter,
  ) {}

  /** Opens the stream to `address` (only the TaskManager whose id sorts first dials). */
  dial(address: string, myId: string, secret: string): void {
    if (this.stream) return;
    this.client = new RpcClient(nimbleServices().Exchange, address, {
      security: this.router.security,
    });
    const metadata = new Metadata();
    metadata.set(RESOURCE_ID_METADATA, myId);
    metadata.set(EXCHANGE_SECRET_METADATA, secret);
    this.attach(this.client.raw.Connect(metadata));
  }

  attach(stream: Duplex): void {
    this.stream = stream;
    stream.on('data', (batch: ExchangeBatch__Output) =>
      this.router.deliver(batch.frames, this.peerId),
    );
    const lost = (reason: string): void => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.client?.close();
      this.client = undefined;
      this.router.peerLost(this.peerId, reason);
    };
    stream.on('error', (e: Error) => lost(e.message));
    stream.on('end', () => lost('the stream ended'));
    stream.on('close', () => lost('the stream closed'));
    this.flushSoon();
  }

  send(frame: ExchangeFrame): void {
    this.queue.push(frame);
    this.flushSoon();
  }

  close(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.end();
    this.client?.close();
  }

  private flushSoon(): void {
    if (this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stream || this.queue.length === 0) return;
      const frames = this.queue;
      this.queue = [];
      // No need to wait for 'drain': credit bounds what a channel may have in flight.
      this.stream.write({ frames });
    });
  }
}

/**
 * Relays channel messages between this TaskManager's slot workers and other TaskManagers. A
 * worker talks to a remote slot through a MessagePort whose other end is here; the router turns
 * its messages into frames on the stream to the remote slot's TaskManager, and frames arriving
 * from there into messages on the port. Buffers are not decoded on the way.
 */
export class ExchangeRouter {
  private readonly peers = new Map<string, PeerLink>();
  /**
   * Inbound routes: `${job}|${attempt}|${toSlot}|${fromSlot}` to the local end, and the
   * TaskManager whose stream the route's frames must come from.
   */
  private readonly routes = new Map<
    string,
    { readonly port: MessagePort; readonly peer: string }
  >();
  /** The exchange secret of each peer, as the JobManager gave it in DeployTasks. */
  private readonly secrets = new Map<string, string>();
  private readonly secretWaiters = new Map<string, Set<() => void>>();
  private waitingStreams = 0;

  constructor(
    private readonly myId: string,
    private readonly log: Logger,
    private readonly onPeerLost: (peerId: string, reason: string) => void,
    /** The TaskManager's mutual TLS, for the streams it dials. */
    readonly security: RpcSecurity = {},
  ) {}

  /**
   * Connects local slot `localSlot` of an attempt with `remoteSlot` on TaskManager `peerId`
   * through `port` (the worker holds the other end).
   */
  route(
    jobId: string,
    attempt: number,
    localSlot: number,
    remoteSlot: number,
    peerId: string,
    port: MessagePort,
  ): void {
    const key = `${jobId}|${attempt}|${localSlot}|${remoteSlot}`;
    this.routes.set(key, { port, peer: peerId });
    const link = this.link(peerId);
    // A slot posts arrays of channel messages (DataPort).
    port.on('message', (batch: ChannelMessage[]) => {
      for (const m of batch) {
        link.send({
          jobId,
          attempt,
          fromSlot: localSlot,
          toSlot: remoteSlot,
          channel: m.c,
          buffer: 'b' in m ? m.b : EMPTY,
          credit: 'k' in m ? m.k : 0,
        });
      }
    });
  }

  /**
   * Records the secret of the stream with `peerId` (from DeployTasks): the one this TaskManager
   * presents when it dials, and checks when the peer dials.
   */
  expectPeer(peerId: string, secret: string): void {
    this.secrets.set(peerId, secret);
    for (const w of this.secretWaiters.get(peerId) ?? []) w();
    this.secretWaiters.delete(peerId);
  }

  /** Ensures a stream to `peerId`: dialed when this id sorts first, else awaited. */
  connect(peerId: string, address: string): void {
    if (this.myId < peerId)
      this.link(peerId).dial(address, this.myId, this.secrets.get(peerId) ?? '');
  }

  /** Forgets the routes of an attempt; late frames for it are dropped. */
  unroute(jobId: string, attempt: number): void {
    const prefix = `${jobId}|${attempt}|`;
    for (const [key, { port }] of this.routes) {
      if (key.startsWith(prefix)) {
        port.close();
        this.routes.delete(key);
      }
    }
  }

  /** An inbound stream from another TaskManager (the Exchange.Connect handler). */
  accept(call: ServerDuplexStream<ExchangeBatch__Output, ExchangeBatch>): void {
    const peerId = String(call.metadata.get(RESOURCE_ID_METADATA)[0] ?? '');
    const secret = String(call.metadata.get(EXCHANGE_SECRET_METADATA)[0] ?? '');
    if (!peerId || !secret) {
      this.refuse(call, peerId, 'it names no TaskManager or presents no exchange secret');
      return;
    }
    const check = (): void => {
      const expected = this.secrets.get(peerId);
      if (expected === undefined) {
        this.refuse(call, peerId, 'no job deployed here exchanges data with that TaskManager');
      } else if (!sameSecret(expected, secret)) {
        this.refuse(call, peerId, 'its exchange secret is not the one of that TaskManager');
      } else {
        this.link(peerId).attach(call);
      }
    };
    if (this.secrets.has(peerId)) {
      check();
      return;
    }
    // The peer may have dialed before this TaskManager's DeployTasks of the attempt arrived.
    if (this.waitingStreams >= MAX_WAITING_STREAMS) {
      this.refuse(call, peerId, 'too many exchange streams wait for their secret');
      return;
    }
    this.waitingStreams++;
    const waiters = this.secretWaiters.get(peerId) ?? new Set<() => void>();
    this.secretWaiters.set(peerId, waiters);
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.waitingStreams--;
      waiters.delete(done);
      if (waiters.size === 0 && this.secretWaiters.get(peerId) === waiters)
        this.secretWaiters.delete(peerId);
      call.off('cancelled', done);
      if (call.cancelled) return;
      check();
    };
    const timer = setTimeout(done, SECRET_WAIT_MS);
    waiters.add(done);
    call.on('cancelled', done);
  }

  private refuse(
    call: ServerDuplexStream<ExchangeBatch__Output, ExchangeBatch>,
    peerId: string,
    reason: string,
  ): void {
    this.log.warn(
      { peer: call.getPeer(), claimed_tm_id: peerId || null, reason },
      'refused an exchange stream',
    );
    call.emit('error', {
      code: status.PERMISSION_DENIED,
      details: `Exchange.Connect refused: ${reason}`,
    });
  }

  /**
   * Hands the frames of one received batch to the local slots: one message per slot (an array of
   * channel messages, as a DataPort reads them), its buffers transferred.
   */
  deliver(frames: ExchangeFrame__Output[], fromPeer: string): void {
    const out = new Map<MessagePort, { messages: ChannelMessage[]; transfer: ArrayBuffer[] }>();
    for (const f of frames) {
      const key = `${f.jobId}|${f.attempt}|${f.toSlot}|${f.fromSlot}`;
      const route = this.routes.get(key);
      // The attempt was canceled here, or the frame claims a slot its stream's peer does not run.
      if (route?.peer !== fromPeer) continue;
      const port = route.port;
      let batch = out.get(port);
      if (!batch) {
        batch = { messages: [], transfer: [] };
        out.set(port, batch);
      }
      if (f.credit > 0) {
        batch.messages.push({ c: f.channel, k: f.credit });
      } else {
        // Copy out of gRPC's receive buffer (shared by the batch's frames) so the worker gets,
        // and owns, just these bytes.
        const b = new Uint8Array(f.buffer);
        batch.messages.push({ c: f.channel, b });
        batch.transfer.push(b.buffer);
      }
    }
    for (const [port, batch] of out) port.postMessage(batch.messages, batch.transfer);
  }

  peerLost(peerId: string, reason: string): void {
    this.log.warn({ peer: peerId, reason }, 'exchange stream to a TaskManager closed');
    this.peers.delete(peerId);
    this.onPeerLost(peerId, reason);
  }

  close(): void {
    for (const link of this.peers.values()) link.close();
    this.peers.clear();
    for (const waiters of this.secretWaiters.values()) for (const w of [...waiters]) w();
  }

  private link(peerId: string): PeerLink {
    let link = this.peers.get(peerId);
    if (!link) {
      link = new PeerLink(peerId, this);
      this.peers.set(peerId, link);
    }
    return link;
  }
}

/** Compares two secrets in constant time. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * One channel carries the buffers of one producer subtask to one consumer subtask of an edge.
 * Flow control is credit-based (as in Flink): the consumer grants a credit per buffer it can take,
 * and the producer sends only against credit, so a slow consumer holds its producers back and
 * nothing buffers without bound.
 */

/** The producer's end. */
export interface ChannelSender {
  /** Sends one buffer; the caller holds a credit for it. */
  send(buffer: Uint8Array): void;
  /**
   * Connects the producer: `handler` is called when the consumer grants more buffers. Credit
   * granted before the producer connected (a consumer on another thread may start first) is
   * delivered at once, never lost.
   */
  connect(handler: (credits: number) => void): void;
}

/** Holds credit that arrives before the producer connected. */
class CreditInbox {
  private handler: ((credits: number) => void) | undefined;
  private pending = 0;

  connect(handler: (credits: number) => void): void {
    this.handler = handler;
    if (this.pending > 0) {
      const credits = this.pending;
      this.pending = 0;
      handler(credits);
    }
  }
  deliver(credits: number): void {
    if (this.handler) this.handler(credits);
    else this.pending += credits;
  }
}

/** The consumer's end. */
export interface ChannelReceiver {
  /** Set by the consumer: called for each arriving buffer. */
  onBuffer: (buffer: Uint8Array) => void;
  /** Grants the producer `credits` more buffers. */
  grantCredit(credits: number): void;
}

/** Both ends of a channel between subtasks on the same thread: buffers pass by reference. */
export function localChannel(): { sender: ChannelSender; receiver: ChannelReceiver } {
  const credit = new CreditInbox();
  const sender: ChannelSender = {
    send: (buffer) => receiver.onBuffer(buffer),
    connect: (handler) => credit.connect(handler),
  };
  const receiver: ChannelReceiver = {
    onBuffer: () => {
      throw new Error('internal: a buffer arrived before the consumer was connected');
    },
    grantCredit: (credits) => credit.deliver(credits),
  };
  return { sender, receiver };
}

/** A port-like endpoint (worker_threads MessagePort). */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

/** What crosses a port for a channel: a buffer (`b`) or a credit grant (`k`) of channel `c`. */
export type ChannelMessage = { c: string; b: Uint8Array } | { c: string; k: number };

/**
 * Multiplexes the channels between two threads over one MessagePort. Buffers are transferred, not
 * copied. Both sides register all their channels while tasks are deployed, before any task starts,
 * so no message arrives for an unknown channel.
 */
export class PortMultiplexer {
  private readonly receivers = new Map<string, ChannelReceiver>();
  private readonly credits = new Map<string, CreditInbox>();

  constructor(private readonly port: MessageEndpoint) {
    port.on('message', (m) => this.dispatch(m as ChannelMessage));
  }

  /** The sending end of channel `id` on this side. */
  sender(id: string): ChannelSender {
    const port = this.port;
    const credit = new CreditInbox();
    this.credits.set(id, credit);
    return {
      send(buffer) {
        // Transfer the backing store when the view covers it all, else copy the view first.
        const owned =
          buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength
            ? buffer
            : buffer.slice();
        port.postMessage({ c: id, b: owned } satisfies ChannelMessage, [
          owned.buffer as ArrayBuffer,
        ]);
      },
      connect: (handler) => credit.connect(handler),
    };
  }

  /** The receiving end of channel `id` on this side. */
  receiver(id: string): ChannelReceiver {
    const port = this.port;
    const r: ChannelReceiver = {
      onBuffer: () => {},
      grantCredit(credits) {
        port.postMessage({ c: id, k: credits } satisfies ChannelMessage);
      },
    };
    this.receivers.set(id, r);
    return r;
  }

  private dispatch(m: ChannelMessage): void {
    if ('b' in m) {
      const r = this.receivers.get(m.c);
      if (!r) throw new Error(`internal: a buffer arrived for unknown channel ${m.c}`);
      r.onBuffer(m.b);
    } else {
      const credit = this.credits.get(m.c);
      if (!credit) throw new Error(`internal: credit arrived for unknown channel ${m.c}`);
      credit.deliver(m.k);
    }
  }
}

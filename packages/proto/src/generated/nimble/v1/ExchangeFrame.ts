// Original file: proto/nimble/v1/exchange.proto


/**
 * One buffer (or one credit grant) of one channel. A channel is identified by the job attempt,
 * the producing and consuming job slots and the channel id `<edge>|<producer>|<consumer>`.
 */
export interface ExchangeFrame {
  'jobId'?: (string);
  'attempt'?: (number);
  'fromSlot'?: (number);
  'toSlot'?: (number);
  'channel'?: (string);
  /**
   * A network buffer of serialized elements, or empty for a credit grant.
   */
  'buffer'?: (Buffer | Uint8Array | string);
  /**
   * Buffers the consumer grants the producer (0 on a buffer frame).
   */
  'credit'?: (number);
}

/**
 * One buffer (or one credit grant) of one channel. A channel is identified by the job attempt,
 * the producing and consuming job slots and the channel id `<edge>|<producer>|<consumer>`.
 */
export interface ExchangeFrame__Output {
  'jobId': (string);
  'attempt': (number);
  'fromSlot': (number);
  'toSlot': (number);
  'channel': (string);
  /**
   * A network buffer of serialized elements, or empty for a credit grant.
   */
  'buffer': (Buffer);
  /**
   * Buffers the consumer grants the producer (0 on a buffer frame).
   */
  'credit': (number);
}

/** A purchase event as in the seed lesson's `raw.purchases` topic. */
export interface Purchase {
  readonly user_id: string;
  readonly amount_usd: number;
  readonly category_id: number;
  readonly event_time_ms: number;
}

/** Start of generated event time: 2026-01-01T00:00:00Z. */
export const EPOCH_MS = Date.UTC(2026, 0, 1);

/** A fast, stable pseudo-random number in [0, 1) for sequence number `i` and a salt. */
function unit(i: number, salt: number): number {
  let h = Math.imul(i ^ salt, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}

/** Options of the generated purchase stream. */
export interface PurchaseStreamOptions {
  /** Number of distinct users. */
  readonly users: number;
  /** Event time advances this many ms per event. */
  readonly msPerEvent: number;
  /** Events arrive up to this many ms out of order. */
  readonly maxDelayMs: number;
}

/**
 * The purchase of sequence number `i`: deterministic, so every run, every parallelism and every
 * worker thread generates the same events.
 */
export function purchaseAt(i: number, o: PurchaseStreamOptions): Purchase {
  const delay = o.maxDelayMs > 0 ? Math.floor(unit(i, 3) * o.maxDelayMs) : 0;
  return {
    user_id: `user-${Math.floor(unit(i, 1) * o.users)}`,
    amount_usd: Math.round(unit(i, 2) * 20000) / 100,
    category_id: Math.floor(unit(i, 4) * 50),
    event_time_ms: EPOCH_MS + i * o.msPerEvent - delay,
  };
}

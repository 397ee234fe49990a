/**
 * Writes generated purchases (see purchases.ts) to a Kafka topic as JSON, keyed by user, at a
 * steady rate: the input of the Kafka jobs, for local runs, tests and benchmarks.
 */
import type { Producer } from 'kafkajs';
import { createKafkaClient } from '@nimble/connector-kafka';
import { Partitioners } from 'kafkajs';
import type { PurchaseStreamOptions } from './purchases.js';
import { purchaseAt } from './purchases.js';

export interface PurchaseProducerOptions {
  readonly bootstrapServers: string;
  readonly topic: string;
  /** Sequence numbers [from, to) are written. */
  readonly from: number;
  readonly to: number;
  /** Events per second; 0 or undefined writes as fast as the broker takes them. */
  readonly rate?: number;
  readonly stream: PurchaseStreamOptions;
  /** Every n-th event (by sequence number, n > 0) is written as a record that is not JSON. */
  readonly malformedEvery?: number;
  /**
   * Requests on their way at once (default 8). With more than one, a request the client retries
   * (e.g. after a leader change) can land after a later one: 1 keeps the log in sequence order.
   */
  readonly maxInFlight?: number;
  /** Called with the append time (ms) of each sequence number, e.g. to measure latency. */
  readonly onSent?: (from: number, to: number, appendedAt: number) => void;
}

/** The record of sequence number `i`: a purchase as JSON, or a malformed one. */
export function purchaseRecord(
  i: number,
  stream: PurchaseStreamOptions,
  malformedEvery = 0,
): { key: string; value: string } {
  const p = purchaseAt(i, stream);
  if (malformedEvery > 0 && i % malformedEvery === malformedEvery - 1) {
    return { key: p.user_id, value: `{"user_id": "${p.user_id}", "amount_usd": ` };
  }
  return { key: p.user_id, value: JSON.stringify(p) };
}

/** A connected producer for `bootstrapServers`. */
export async function connectProducer(bootstrapServers: string): Promise<Producer> {
  // The connector's client: retriable start-up errors of a fresh broker are one INFO line, not ERRORs.
  const kafka = createKafkaClient(
    { 'bootstrap.servers': bootstrapServers, 'client.id': 'purchase-producer' },
    'purchase-producer',
  );
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}

/** Writes the purchases, in batches every 10 ms when rate-limited; resolves when all are acknowledged. */
export async function producePurchases(o: PurchaseProducerOptions): Promise<void> {
  const producer = await connectProducer(o.bootstrapServers);
  try {
    const start = performance.now();
    const rate = o.rate ?? 0;
    let next = o.from;
    const inFlight = new Set<Promise<unknown>>();
    while (next < o.to) {
      let until = o.to;
      if (rate > 0) {
        const due = o.from + Math.floor(((performance.now() - start) / 1000) * rate);
        if (due <= next) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        until = Math.min(o.to, due);
      }
      until = Math.min(until, next + 10_000);
      const messages = [];
      for (let i = next; i < until; i++)
        messages.push(purchaseRecord(i, o.stream, o.malformedEvery));
      const [from, to] = [next, until];
      const appendedAt = Date.now();
      const sent = producer.send({ topic: o.topic, messages, acks: 1 }).then(() => {
        o.onSent?.(from, to, appendedAt);
      });
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent)).catch(() => {});
      if (inFlight.size >= (o.maxInFlight ?? 8)) await Promise.race(inFlight);
      next = until;
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
}

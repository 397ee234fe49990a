/**
 * The development Kafka broker (deploy/kafka/kafka.sh, through test/fixtures/kafka-broker.ts):
 * a real Apache Kafka 3.9.1 that kafkajs produces to and consumes from, with consumer groups and
 * transactions, as the Kafka connector's tests will use it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, runKafkaScript, startKafka } from './fixtures/kafka-broker.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';

let broker: KafkaBroker | undefined;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startKafka();
  kafka = new Kafka({
    clientId: 'nimble-test',
    brokers: [broker.bootstrapServers],
    logLevel: logLevel.NOTHING,
  });
}, 120_000);

afterAll(async () => {
  await broker?.stop();
}, 120_000);

/**
 * Runs `consumer` on `topic` from the beginning and resolves with what it received once `done`
 * says so, then disconnects it.
 */
async function consume(
  consumer: Consumer,
  topic: string,
  done: (received: EachMessagePayload[]) => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<EachMessagePayload[]> {
  const received: EachMessagePayload[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async (payload) => {
        received.push(payload);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await done(received))) {
      if (Date.now() > deadline) {
        throw new Error(`${topic}: received ${received.length} messages within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return received;
  } finally {
    await consumer.disconnect();
  }
}

describe('the development Kafka broker', () => {
  it('round-trips 1000 messages over 3 partitions through a consumer group', async () => {
    const topic = 'roundtrip';
    await createTopic(broker!.bootstrapServers, topic, 3);

    const expected = Array.from({ length: 1000 }, (_, i) => `value-${i}`);
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (let i = 0; i < expected.length; i += 100) {
        await producer.send({
          topic,
          messages: expected.slice(i, i + 100).map((value, j) => ({ key: `key-${i + j}`, value })),
        });
      }
    } finally {
      await producer.disconnect();
    }

    const received = await consume(
      kafka.consumer({ groupId: 'nimble-test-roundtrip' }),
      topic,
      (r) => r.length >= expected.length,
    );
    const values = received.map((m) => m.message.value?.toString() ?? '<null>');
    expect(values.length).toBe(expected.length);
    expect([...values].sort()).toEqual([...expected].sort());
    // Keys are hashed over all three partitions, each read in order.
    expect(new Set(received.map((m) => m.partition))).toEqual(new Set([0, 1, 2]));
    for (const partition of [0, 1, 2]) {
      const offsets = received
        .filter((m) => m.partition === partition)
        .map((m) => m.message.offset);
      expect(offsets).toEqual(offsets.map((_, i) => String(i)));
    }
  }, 120_000);

  it('a read_committed consumer reads the committed transaction and not the aborted one', async () => {
    const topic = 'transactions';
    await createTopic(broker!.bootstrapServers, topic, 1);

    const committed = Array.from({ length: 10 }, (_, i) => `committed-${i}`);
    const aborted = Array.from({ length: 10 }, (_, i) => `aborted-${i}`);
    const producer = kafka.producer({
      transactionalId: 'nimble-test-transactions',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    try {
      const commit = await producer.transaction();
      await commit.send({ topic, messages: committed.map((value) => ({ value })) });
      await commit.commit();
      const abort = await producer.transaction();
      await abort.send({ topic, messages: aborted.map((value) => ({ value })) });
      await abort.abort();
    } finally {
      await producer.disconnect();
    }

    // Then one plain record: a read_committed consumer that has reached it has been through the
    // aborted transaction too.
    const plain = kafka.producer();
    await plain.connect();
    try {
      await plain.send({ topic, messages: [{ value: 'end' }] });
    } finally {
      await plain.disconnect();
    }

    const received = await consume(
      kafka.consumer({ groupId: 'nimble-test-read-committed', readUncommitted: false }),
      topic,
      (r) => r.some((m) => m.message.value?.toString() === 'end'),
    );
    expect(received.map((m) => m.message.value?.toString())).toEqual([...committed, 'end']);
    // Offsets 0-9 the committed records, 10 its commit marker, 11-20 the aborted records, 21 the
    // abort marker.
    expect(received.map((m) => m.message.offset)).toEqual([
      ...committed.map((_, i) => String(i)),
      '22',
    ]);
  }, 120_000);

  it('a second `kafka.sh fetch` finds the jars and does nothing', async () => {
    const libs = join(
      process.env.NIMBLE_KAFKA_HOME ?? join(homedir(), '.cache', 'nimble', 'kafka-3.9.1'),
      'libs',
    );
    const began = Date.now();
    const { code, output } = await runKafkaScript(['fetch'], 30_000);
    const took = Date.now() - began;
    expect(code, output).toBe(0);
    expect(output).toContain(libs);
    expect(output).not.toContain('Fetching');
    expect(took).toBeLessThan(10_000);
  });
});

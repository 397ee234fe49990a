// Reading a topic with aborted transactions under read_committed, as the output of an exactly-once
// sink after a fail-over looks: an aborted transaction that started before another but was
// aborted after it, and a fetch that starts inside two aborted transactions. No aborted record may
// reach a reader: neither a kafkajs consumer of a process that loaded the Kafka connector (tests
// and the chaos suite read the sink's output so) nor the Kafka source of a job on real daemons.
import type { Consumer } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixKafkajsReadCommitted } from '@nimble/connector-kafka';
import { nimble, TestCluster } from './fixtures/cluster.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';
import { createTopic, startKafka } from './fixtures/kafka-broker.js';
import { TopicReader } from './fixtures/kafka-spend.js';

const COPY_JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/kafka-copy-job.ts');

let broker: KafkaBroker;
let cluster: TestCluster;
let kafka: Kafka;

beforeAll(async () => {
  [broker, cluster] = await Promise.all([
    startKafka(),
    TestCluster.start({ taskManagers: 1, slots: 2 }),
  ]);
  kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  await broker?.stop();
}, 60_000);

/** JSON documents `{"n": from}` ... `{"n": from + count - 1}`. */
const docs = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ n: from + i }) }));

/** The numbers a read_committed reader of the topic written by {@link interleave} gets. */
const COMMITTED = [0, 1, 2, 500, 501, 502, 600, 601, 602];
/** Of those, the ones at or after the first offset of the second aborted pair's later transaction. */
const COMMITTED_FROM_SECOND_PAIR = [500, 501, 502, 600, 601, 602];

/**
 * Writes to partition 0 of `topic`: committed records 0-2; transaction A (100-104) and then B
 * (200-204) open together, B aborted first (the broker lists aborted transactions in the order
 * they ended); A (300-304) and then B (400-404) again, aborted in order; records 500-502 without a
 * transaction; A (600-602) committed. Returns the offset of record 400.
 */
async function interleave(topic: string): Promise<number> {
  const plain = kafka.producer();
  const a = kafka.producer({
    transactionalId: `${topic}-a`,
    maxInFlightRequests: 1,
    idempotent: true,
  });
  const b = kafka.producer({
    transactionalId: `${topic}-b`,
    maxInFlightRequests: 1,
    idempotent: true,
  });
  await Promise.all([plain.connect(), a.connect(), b.connect()]);
  try {
    await plain.send({ topic, messages: docs(0, 3) });
    const a1 = await a.transaction();
    await a1.send({ topic, messages: docs(100, 5) });
    const b1 = await b.transaction();
    await b1.send({ topic, messages: docs(200, 5) });
    await b1.abort();
    await a1.abort();
    const a2 = await a.transaction();
    await a2.send({ topic, messages: docs(300, 5) });
    const b2 = await b.transaction();
    const [sent] = await b2.send({ topic, messages: docs(400, 5) });
    await a2.abort();
    await b2.abort();
    await plain.send({ topic, messages: docs(500, 3) });
    const a3 = await a.transaction();
    await a3.send({ topic, messages: docs(600, 3) });
    await a3.commit();
    return Number(sent!.baseOffset);
  } finally {
    await Promise.all([plain.disconnect(), a.disconnect(), b.disconnect()]);
  }
}

/** The numbers a read_committed kafkajs consumer reads from `offset` on, up to record 602. */
async function readCommitted(topic: string, offset: number | undefined): Promise<number[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: `read-committed-${Math.random().toString(36).slice(2)}`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const read: number[] = [];
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages)
          read.push((JSON.parse(m.value!.toString('utf8')) as { n: number }).n);
      },
    });
    if (offset !== undefined) consumer.seek({ topic, partition: 0, offset: String(offset) });
    await cluster.waitFor(() => read.includes(602), 60_000);
    return read;
  } finally {
    await consumer.disconnect();
  }
}

describe('read_committed over aborted transactions', () => {
  it('a kafkajs consumer reads no record of an aborted transaction, from the start or from inside two', async () => {
    fixKafkajsReadCommitted();
    await createTopic(broker.bootstrapServers, 'interleaved.direct', 1);
    const secondPair = await interleave('interleaved.direct');
    expect(await readCommitted('interleaved.direct', undefined)).toEqual(COMMITTED);
    expect(await readCommitted('interleaved.direct', secondPair)).toEqual(
      COMMITTED_FROM_SECOND_PAIR,
    );
  }, 120_000);

  it('the Kafka source of a job on a cluster reads no record of an aborted transaction', async () => {
    await createTopic(broker.bootstrapServers, 'interleaved.in', 1);
    await createTopic(broker.bootstrapServers, 'interleaved.out', 1);
    await interleave('interleaved.in');
    // The job's output is written without transactions: read it as it is.
    const reader = await TopicReader.start(broker.bootstrapServers, ['interleaved.out'], false);
    const submitted = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      COPY_JOB,
      broker.bootstrapServers,
      'interleaved.in',
      'interleaved.out',
      'interleaved-group',
      'read_committed',
    ]);
    const jobId = /JobID ([0-9a-f]+)/.exec(submitted.stdout)?.[1];
    expect(jobId, submitted.stderr).toBeDefined();
    try {
      const numbers = () =>
        reader.of('interleaved.out').map((v) => (JSON.parse(v) as { n: number }).n);
      await cluster.waitFor(() => numbers().includes(602), 60_000);
      expect(numbers()).toEqual(COMMITTED);
    } finally {
      await reader.stop();
      await nimble(['cancel', '-m', cluster.address, jobId!]);
    }
  }, 180_000);
});

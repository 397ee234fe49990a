// The Kafka source on real daemons: partitions discovered while the job runs, offsets committed
// to the group when checkpoints complete, and the source's metrics on the TaskManagers'
// Prometheus endpoints (records-lag-max, current and committed offset per partition, records
// that could not be deserialized).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimble, TestCluster } from './fixtures/cluster.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';
import { createTopic, startKafka } from './fixtures/kafka-broker.js';
import { TopicReader } from './fixtures/kafka-spend.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/kafka-copy-job.ts');

let broker: KafkaBroker;
let cluster: TestCluster;
let admin: Admin;
let producer: Producer;
let kafka: Kafka;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-kafka-src-'));
  [broker, cluster] = await Promise.all([startKafka(), TestCluster.start({ taskManagers: 2 })]);
  kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
}, 180_000);

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await cluster?.stop();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

async function send(topic: string, partition: number, values: string[]): Promise<void> {
  await producer.send({ topic, messages: values.map((value) => ({ partition, value })) });
}

const docs = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ n: from + i }));

/** Every sample of `metric` on the TaskManagers' Prometheus endpoints, with its labels. */
async function scrape(metric: string): Promise<{ labels: string; value: number }[]> {
  const out: { labels: string; value: number }[] = [];
  for (const tm of cluster.taskManagers) {
    const text = await (await fetch(`http://127.0.0.1:${tm.ready.httpPort}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = new RegExp(`^${metric}\\{(.*)\\} (\\S+)$`).exec(line);
      if (m) out.push({ labels: m[1]!, value: Number(m[2]) });
    }
  }
  return out;
}

describe('Kafka source on a cluster', () => {
  it('discovers new partitions, commits offsets on checkpoints and exports its metrics', async () => {
    await createTopic(broker.bootstrapServers, 'copy.in', 2);
    await createTopic(broker.bootstrapServers, 'copy.out', 1);
    const reader = await TopicReader.start(broker.bootstrapServers, ['copy.out'], false);
    const submitted = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${join(work, 'chk')}`,
      JOB,
      broker.bootstrapServers,
      'copy.in',
      'copy.out',
      'copy-group',
    ]);
    const jobId = /JobID ([0-9a-f]+)/.exec(submitted.stdout)?.[1];
    expect(jobId, submitted.stderr).toBeDefined();
    try {
      await send('copy.in', 0, [...docs(0, 100), 'not json', '{"n":', 'nope']);
      await send('copy.in', 1, docs(100, 100));
      await cluster.waitFor(() => reader.of('copy.out').length >= 200, 60_000);

      // A partition added while the job runs is found by the next discovery and read from its start.
      await admin.createPartitions({ topicPartitions: [{ topic: 'copy.in', count: 3 }] });
      // A new producer: kafkajs' producer drops records for a partition its metadata lacks.
      await producer.disconnect();
      producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await send('copy.in', 2, docs(200, 50));
      await cluster.waitFor(() => reader.of('copy.out').length >= 250, 60_000);
      const ns = reader.of('copy.out').map((v) => (JSON.parse(v) as { n: number }).n);
      expect([...new Set(ns)].sort((a, b) => a - b)).toEqual(docs(0, 250).map((_, i) => i));

      // Completed checkpoints commit the next offset of each partition to the group.
      const committed = async () => {
        const [t] = await admin.fetchOffsets({ groupId: 'copy-group', topics: ['copy.in'] });
        return Object.fromEntries(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
      };
      await cluster.waitFor(async () => {
        const c = await committed();
        return c[0] === 103 && c[1] === 100 && c[2] === 50;
      }, 30_000);

      // The metrics, as Flink's Kafka source names them (with the Prometheus reporter's flattening).
      const prefix = 'nimble_taskmanager_job_task_operator_KafkaSourceReader_';
      await cluster.waitFor(async () => {
        const current = await scrape(`${prefix}topic_partition_currentOffset`);
        const committedOffsets = await scrape(`${prefix}topic_partition_committedOffset`);
        const at = (samples: typeof current, p: number) =>
          samples.find(
            (s) => s.labels.includes(`partition="${p}"`) && s.labels.includes('topic="copy.in"'),
          )?.value;
        return (
          at(current, 0) === 103 &&
          at(current, 1) === 100 &&
          at(current, 2) === 50 &&
          at(committedOffsets, 0) === 103 &&
          at(committedOffsets, 2) === 50
        );
      }, 30_000);
      const lag = await scrape(`${prefix}KafkaConsumer_records_lag_max`);
      expect(lag.length).toBe(2);
      expect(lag.every((s) => s.value === 0)).toBe(true);
      // FLIP-33's pendingRecords: every record up to the end offsets the readers know was read.
      const pending = await scrape('nimble_taskmanager_job_task_operator_pendingRecords');
      expect(pending.length).toBe(2);
      expect(pending.every((s) => s.value === 0)).toBe(true);
      const errors = await scrape('nimble_taskmanager_job_task_operator_numRecordsInErrors');
      expect(errors.reduce((n, s) => n + s.value, 0)).toBe(3);
      expect(errors[0]!.labels).toContain(`job_id="${jobId}"`);
    } finally {
      await reader.stop();
      await nimble(['cancel', '-m', cluster.address, jobId!]);
    }
  }, 180_000);
});

// The seed's 5-minute spend job from raw.purchases to features.user_5min_spend on a real Kafka
// broker and real daemons: EXACTLY_ONCE through TaskManager SIGKILLs and through a stop with
// savepoint and a restart, read with read_committed, equals the expected features exactly;
// AT_LEAST_ONCE loses nothing; a cancelled job leaves no transaction open.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';
import { createTopic, startKafka } from './fixtures/kafka-broker.js';
import {
  closeAllWindows,
  expectedDeadLetters,
  expectedFeatures,
  KAFKA_SPEND_JOB,
  TopicReader,
  writePurchases,
} from './fixtures/kafka-spend.js';
import { committedOutput } from './fixtures/sql-jobs/committed-output.js';

const PARTITIONS = 4;

let broker: KafkaBroker;
let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-kafka-eo-'));
  [broker, cluster] = await Promise.all([
    startKafka(),
    TestCluster.start({
      taskManagers: 3,
      jm: [...FAST_RESTARTS],
    }),
  ]);
}, 180_000);

/** Jobs to cancel and readers to stop after each test, also a failed one. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

async function reading(topicNames: string[], readCommitted = true): Promise<TopicReader> {
  const reader = await TopicReader.start(broker.bootstrapServers, topicNames, readCommitted);
  cleanups.push(() => reader.stop());
  return reader;
}

afterAll(async () => {
  await cluster?.stop();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** Topics of one test run: input, features and dead letters. */
async function topics(name: string): Promise<{ source: string; sink: string; dlq: string }> {
  const t = { source: `raw.purchases.${name}`, sink: `features.${name}`, dlq: `dlq.${name}` };
  await createTopic(broker.bootstrapServers, t.source, PARTITIONS);
  await createTopic(broker.bootstrapServers, t.sink, 2);
  await createTopic(broker.bootstrapServers, t.dlq, 1);
  return t;
}

function jobArgs(
  t: { source: string; sink: string; dlq: string },
  guarantee: string,
  name: string,
  parallelism = 2,
): string[] {
  return [
    KAFKA_SPEND_JOB,
    '--bootstrap-servers',
    broker.bootstrapServers,
    '--source-topic',
    t.source,
    '--sink-topic',
    t.sink,
    '--dlq-topic',
    t.dlq,
    '--group-id',
    `group-${name}`,
    '--guarantee',
    guarantee,
    '--transactional-id-prefix',
    `tx-${name}`,
    '--parallelism',
    String(parallelism),
  ];
}

async function submit(options: string[], args: string[]): Promise<string> {
  const r = await nimble(['run', '-d', '-m', cluster.address, ...options, ...args]);
  expect(r.stderr).toBe('');
  const jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!jobId) throw new Error(`no job id in: ${r.stdout}\n${r.stderr}`);
  cleanups.push(async () => {
    await nimble(['cancel', '-m', cluster.address, jobId]);
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state !== 'RUNNING');
  });
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
    60_000,
  );
  return jobId;
}

async function checkpointsCompleted(jobId: string): Promise<number> {
  const c = await cluster.rest(`/jobs/${jobId}/checkpoints`);
  return (c.counts?.completed as number | undefined) ?? 0;
}

/** Kills (SIGKILL) a TaskManager that runs the job, starts a fresh one, waits for RUNNING. */
async function killBusyTaskManager(jobId: string): Promise<void> {
  const busy = (
    (await cluster.rest('/taskmanagers')).taskmanagers as { id: string; freeSlots: number }[]
  ).find((tm) => tm.freeSlots === 0);
  const victim = cluster.taskManagers.find((tm) => tm.ready.resourceId === busy?.id);
  if (!victim) throw new Error('no TaskManager runs the job');
  victim.child.kill('SIGKILL');
  await cluster.addTaskManager();
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
    60_000,
  );
}

/** The features expected from the source topic's records as they are in the log. */
async function expectedFrom(source: string, events: number): Promise<string[]> {
  const input = await reading([source]);
  try {
    await cluster.waitFor(() => input.of(source).length >= events + PARTITIONS, 60_000);
    return expectedFeatures(input.of(source));
  } finally {
    await input.stop();
  }
}

/** Waits until `reader` has `n` values of `topic`, then one more checkpoint, so extras would show. */
async function waitForOutput(reader: TopicReader, topic: string, n: number, jobId: string) {
  await cluster.waitFor(() => new Set(reader.of(topic)).size >= n, 120_000);
  const done = await checkpointsCompleted(jobId);
  await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) >= done + 2, 30_000);
}

const checkpointing = (chk: string) => [
  '-D',
  'execution.checkpointing.interval=500',
  '-D',
  `state.checkpoints.dir=file://${chk}`,
];

describe('Kafka end to end', () => {
  it('EXACTLY_ONCE with TaskManagers killed three times: read_committed output is exact', async () => {
    const t = await topics('eo');
    const events = 60_000;
    const reader = await reading([t.sink, t.dlq]);
    const jobId = await submit(
      checkpointing(join(work, 'chk-eo')),
      jobArgs(t, 'exactly-once', 'eo'),
    );
    const producing = writePurchases(broker.bootstrapServers, t.source, 0, events, 3000);
    for (let kill = 0; kill < 3; kill++) {
      const before = await checkpointsCompleted(jobId);
      await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) > before + 1, 30_000);
      await killBusyTaskManager(jobId);
    }
    await producing;
    await closeAllWindows(broker.bootstrapServers, t.source, PARTITIONS);
    const expected = await expectedFrom(t.source, events);
    await waitForOutput(reader, t.sink, expected.length, jobId);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(3);
    expect(reader.of(t.sink).length).toBe(expected.length);
    expect([...reader.of(t.sink)].sort()).toEqual(expected);
    // The dead letters: each malformed record once, with its topic, partition and offset.
    const dead = reader.of(t.dlq).map((v) => JSON.parse(v) as Record<string, unknown>);
    expect(dead.length).toBe(expectedDeadLetters(events));
    expect(new Set(dead.map((d) => `${String(d['partition'])}/${String(d['offset'])}`)).size).toBe(
      dead.length,
    );
    expect(dead[0]).toMatchObject({
      topic: t.source,
      value: expect.stringContaining('amount_usd'),
    });
  }, 300_000);

  it('input written before the job starts: no record is late, the output is exact', async () => {
    // The whole input, the records that close every window included, is in Kafka before the
    // job runs: the source subtask that reads first must not fire windows that the other
    // subtask's partitions still have records for.
    const t = await topics('backlog');
    const events = 20_000;
    await writePurchases(broker.bootstrapServers, t.source, 0, events, 0);
    await closeAllWindows(broker.bootstrapServers, t.source, PARTITIONS);
    const expected = await expectedFrom(t.source, events);
    const reader = await reading([t.sink, t.dlq]);
    const jobId = await submit(
      checkpointing(join(work, 'chk-backlog')),
      jobArgs(t, 'exactly-once', 'backlog'),
    );
    await waitForOutput(reader, t.sink, expected.length, jobId);
    expect(reader.of(t.sink).length).toBe(expected.length);
    expect([...reader.of(t.sink)].sort()).toEqual(expected);
    expect(reader.of(t.dlq).length).toBe(expectedDeadLetters(events));
  }, 300_000);

  it('AT_LEAST_ONCE with a TaskManager killed: nothing is lost', async () => {
    const t = await topics('alo');
    const events = 30_000;
    const reader = await reading([t.sink], false);
    const jobId = await submit(
      checkpointing(join(work, 'chk-alo')),
      jobArgs(t, 'at-least-once', 'alo'),
    );
    const producing = writePurchases(broker.bootstrapServers, t.source, 0, events, 3000);
    const before = await checkpointsCompleted(jobId);
    await cluster.waitFor(async () => (await checkpointsCompleted(jobId)) > before + 1, 30_000);
    await killBusyTaskManager(jobId);
    await producing;
    await closeAllWindows(broker.bootstrapServers, t.source, PARTITIONS);
    const expected = await expectedFrom(t.source, events);
    await waitForOutput(reader, t.sink, expected.length, jobId);
    expect([...new Set(reader.of(t.sink))].sort()).toEqual(expected);
  }, 300_000);

  it('a cancelled job aborts its open transactions: read_committed readers do not wait for them', async () => {
    const t = {
      source: 'raw.purchases.cancel',
      sink: 'features.cancel',
      dlq: 'dlq.cancel',
    };
    await createTopic(broker.bootstrapServers, t.source, PARTITIONS);
    await createTopic(broker.bootstrapServers, t.sink, 1);
    await createTopic(broker.bootstrapServers, t.dlq, 1);
    // No checkpoint completes: everything the job writes stays in its open transactions.
    const jobId = await submit(
      [
        '-D',
        'execution.checkpointing.interval=3600000',
        '-D',
        `state.checkpoints.dir=file://${join(work, 'chk-cancel')}`,
      ],
      jobArgs(t, 'exactly-once', 'cancel'),
    );
    const uncommitted = await reading([t.sink], false);
    await writePurchases(broker.bootstrapServers, t.source, 0, 4000, 0);
    await closeAllWindows(broker.bootstrapServers, t.source, PARTITIONS);
    await cluster.waitFor(() => uncommitted.of(t.sink).length > 0, 120_000);
    const cancelled = await nimble(['cancel', '-m', cluster.address, jobId]);
    expect(cancelled.code).toBe(0);
    await cluster.waitFor(async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'CANCELED');
    // The sinks closed their transactions with an abort when the tasks were cancelled; an open one
    // would hold this read at the transaction's start for transaction.timeout.ms (15 minutes).
    expect(await committedOutput(broker.bootstrapServers, t.sink)).toEqual([]);
  }, 300_000);

  it('a stop with savepoint and a restart from it at another parallelism resume without gap or duplicate', async () => {
    const t = await topics('sp');
    const events = 40_000;
    const reader = await reading([t.sink, t.dlq]);
    const chk = join(work, 'chk-sp');
    const jobId = await submit(checkpointing(chk), jobArgs(t, 'exactly-once', 'sp'));
    // The first half unthrottled, at once: a source subtask whose partitions reach it after the
    // other's have been read must still hold the windows back (none of its records late).
    await writePurchases(broker.bootstrapServers, t.source, 0, events / 2, 0);
    const stopped = await nimble([
      'stop',
      '-m',
      cluster.address,
      jobId,
      '--savepointPath',
      join(work, 'savepoints'),
    ]);
    expect(stopped.code).toBe(0);
    const savepoint = /Savepoint completed\. Path: (\S+)/.exec(stopped.stdout)?.[1];
    expect(savepoint).toBeDefined();
    // Records written while the job is down are read after the restart.
    await writePurchases(broker.bootstrapServers, t.source, events / 2, events, 0);
    const resumed = await submit(
      ['-s', savepoint!, ...checkpointing(chk)],
      // Three source subtasks share the four partitions of the savepoint's two.
      jobArgs(t, 'exactly-once', 'sp', 3),
    );
    await closeAllWindows(broker.bootstrapServers, t.source, PARTITIONS);
    const expected = await expectedFrom(t.source, events);
    await waitForOutput(reader, t.sink, expected.length, resumed);
    expect(reader.of(t.sink).length).toBe(expected.length);
    expect([...reader.of(t.sink)].sort()).toEqual(expected);
    expect(reader.of(t.dlq).length).toBe(expectedDeadLetters(events));
  }, 300_000);
});

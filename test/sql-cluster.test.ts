// SQL jobs through failures and rescaling on a cluster of real daemons, writing to a real Kafka
// broker with the exactly-once sink: the seed's 5-minute spend aggregation over a paced datagen
// table survives TaskManagers killed with SIGKILL, and a stop with savepoint restored at another
// parallelism; what a read_committed consumer sees equals the failure-free output exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTARTS, nimble, TestCluster } from './fixtures/cluster.js';
import {
  completedCheckpoints,
  killTaskManagersAfterCheckpoints,
  stopWithSavepoint,
} from './fixtures/failover.js';
import type { KafkaBroker } from './fixtures/kafka-broker.js';
import { createTopic, startKafka } from './fixtures/kafka-broker.js';
import { TopicReader } from './fixtures/kafka-spend.js';
import { committedOutput } from './fixtures/sql-jobs/committed-output.js';
import {
  datagenSourceDdl,
  datagenTransactions,
  expectedFeatures,
} from './fixtures/sql-jobs/transactions.js';

const SQL_JOB = join(import.meta.dirname, 'fixtures/sql-jobs/sql-script-job.ts');

let broker: KafkaBroker;
let cluster: TestCluster;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-sql-cluster-'));
  [broker, cluster] = await Promise.all([
    startKafka(),
    TestCluster.start({ taskManagers: 3, jm: [...FAST_RESTARTS] }),
  ]);
}, 180_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** The seed's aggregation from the datagen table into an exactly-once Kafka sink on `topic`. */
function script(topic: string, rows: number, rowsPerSecond: number): string {
  return `${datagenSourceDdl(rows, rowsPerSecond)};

CREATE TABLE features_user_spend (
  user_id STRING,
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  total_spend_usd DOUBLE,
  tx_count BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = '${topic}',
  'properties.bootstrap.servers' = '${broker.bootstrapServers}',
  'format' = 'json',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'tx-${topic}'
);

INSERT INTO features_user_spend
SELECT user_id, window_start, window_end, SUM(amount_usd) AS total_spend_usd, COUNT(*) AS tx_count
FROM TABLE(TUMBLE(TABLE raw_transactions, DESCRIPTOR(event_time), INTERVAL '5' MINUTE))
GROUP BY user_id, window_start, window_end`;
}

async function submit(options: string[], sql: string): Promise<string> {
  const r = await nimble(['run', '-d', '-m', cluster.address, ...options, SQL_JOB, '--sql', sql]);
  const jobId = /JobID ([0-9a-f]+)/.exec(r.stdout)?.[1];
  if (!jobId) throw new Error(`no job id in: ${r.stdout}\n${r.stderr}`);
  cleanups.push(async () => {
    if ((await cluster.rest(`/jobs/${jobId}`)).state !== 'RUNNING') return;
    await nimble(['cancel', '-m', cluster.address, jobId]);
  });
  await cluster.waitFor(
    async () => (await cluster.rest(`/jobs/${jobId}`)).state === 'RUNNING',
    30_000,
  );
  return jobId;
}

async function finished(jobId: string): Promise<void> {
  await cluster.waitFor(async () => {
    const state = (await cluster.rest(`/jobs/${jobId}`)).state as string;
    if (state === 'FAILED' || state === 'CANCELED') throw new Error(`job ${jobId} ended ${state}`);
    return state === 'FINISHED';
  }, 60_000);
}

const options = (chk: string, parallelism: number) => [
  '-p',
  String(parallelism),
  '-D',
  'execution.checkpointing.interval=300',
  '-D',
  `state.checkpoints.dir=file://${chk}`,
];

describe('SQL jobs on a cluster with the exactly-once Kafka sink', () => {
  it('TaskManagers killed with SIGKILL mid-run: the committed output is exactly the failure-free one', async () => {
    const topic = 'features.sql-eo';
    await createTopic(broker.bootstrapServers, topic, 1);
    // 12,000 rows at 1,500 per second: about 8 s of input, 40 windows of each of 7 users.
    const rows = 12_000;
    const chk = join(work, 'chk-eo');
    const jobId = await submit(options(chk, 2), script(topic, rows, 1500));
    const killed = await killTaskManagersAfterCheckpoints(cluster, chk, jobId, 2);
    expect(killed).toBe(2);
    await finished(jobId);
    expect((await cluster.rest(`/jobs/${jobId}`))['num-restarts']).toBeGreaterThanOrEqual(2);
    const expected = expectedFeatures(datagenTransactions(rows));
    expect(expected.length).toBe(7 * 40);
    const output = await committedOutput(broker.bootstrapServers, topic);
    expect(output.length).toBe(expected.length);
    expect([...output].sort()).toEqual(expected);
  }, 120_000);

  it('a stop with savepoint at p=2 restored at p=3: window state carries over, output exact', async () => {
    const topic = 'features.sql-sp';
    await createTopic(broker.bootstrapServers, topic, 1);
    const rows = 12_000;
    const sql = script(topic, rows, 1500);
    const chk = join(work, 'chk-sp');
    // Uncommitted output counts too: the job is stopped once windows have fired.
    const reader = await TopicReader.start(broker.bootstrapServers, [topic], false);
    cleanups.push(() => reader.stop());
    const first = await submit(options(chk, 2), sql);
    await cluster.waitFor(
      () => reader.of(topic).length > 0 && completedCheckpoints(chk, first).length > 0,
      30_000,
    );
    const savepoint = await stopWithSavepoint(cluster, first, join(work, 'savepoints'));
    const before = await committedOutput(broker.bootstrapServers, topic);
    // Stopped mid-run: some windows fired, most are still to come.
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(7 * 40);
    const second = await submit(['-s', savepoint, ...options(chk, 3)], sql);
    const job = await cluster.rest(`/jobs/${second}`);
    expect(job.vertices.map((v: { parallelism: number }) => v.parallelism)).toContain(3);
    await finished(second);
    const expected = expectedFeatures(datagenTransactions(rows));
    const output = await committedOutput(broker.bootstrapServers, topic);
    expect(output.length).toBe(expected.length);
    expect([...output].sort()).toEqual(expected);
  }, 120_000);
});

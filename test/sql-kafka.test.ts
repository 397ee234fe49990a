// The seed's Flink SQL job (packages/examples/sql/seed-user-spend.sql) and its hybrid SQL +
// DataStream job (packages/examples/sql/hybrid-session-tracker.ts) on a real Kafka broker and a
// cluster of real daemons, at parallelism 2 with checkpoints: the features they write equal,
// record for record, those computed here from the transactions the test wrote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SeedKafka, SESSIONS_TOPIC } from './fixtures/sql-jobs/seed-kafka.js';
import {
  expectedFeatures,
  expectedSessions,
  FAR_FUTURE,
  HYBRID_JOB_FILE,
  seedScript,
  sessionTransactions,
  SINK_TOPIC,
  transactions,
} from './fixtures/sql-jobs/transactions.js';

const SQL_JOB = join(import.meta.dirname, 'fixtures/sql-jobs/sql-script-job.ts');

let kafka: SeedKafka;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-sql-kafka-'));
  kafka = await SeedKafka.start();
}, 180_000);

afterEach(() => kafka.cancelJobs(), 60_000);

afterAll(async () => {
  await kafka?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

const jobOptions = (name: string, backend: string) => [
  '-p',
  '2',
  '-D',
  'execution.checkpointing.interval=300',
  '-D',
  `state.checkpoints.dir=file://${join(work, `chk-${name}`)}`,
  '-D',
  `state.backend.type=${backend}`,
];

describe.each(['hashmap', 'level'] as const)(
  'the seed SQL job on Kafka (%s backend)',
  (backend) => {
    it('writes exactly the 5-minute features of the transactions written after it started', async () => {
      // The seed's statements as they are, but for the broker: 'kafka:9092' -> the test broker.
      const script = seedScript(kafka.broker.bootstrapServers);
      const jobId = await kafka.submit(jobOptions(`seed-${backend}`, backend), [
        SQL_JOB,
        '--sql',
        script,
      ]);
      const config = await kafka.cluster.rest(`/jobs/${jobId}/checkpoints/config`);
      expect(config.state_backend).toBe(
        backend === 'level' ? 'LevelStateBackend' : 'HashMapStateBackend',
      );
      await kafka.warmUp(jobId);
      const input = transactions(backend, 150);
      await kafka.writer.write(input);
      await kafka.writer.toEveryPartition('closer', FAR_FUTURE);
      const expected = expectedFeatures(input);
      // 10:00 to 10:17: four windows of each of the five users.
      expect(expected.length).toBe(20);
      expect(await kafka.output(SINK_TOPIC, backend, expected.length, jobId)).toEqual(expected);
    }, 90_000);
  },
);

describe('the seed hybrid SQL + DataStream job on Kafka', () => {
  it("tracks each user's runs of consecutive active windows from the SQL view: exact output", async () => {
    const jobId = await kafka.submit(jobOptions('hybrid', 'level'), [
      HYBRID_JOB_FILE,
      '--bootstrap-servers',
      kafka.broker.bootstrapServers,
      '--sink-topic',
      SESSIONS_TOPIC,
      '--guarantee',
      'exactly-once',
    ]);
    await kafka.warmUp(jobId);
    const input = sessionTransactions('hybrid');
    await kafka.writer.write(input);
    await kafka.writer.toEveryPartition('closer', FAR_FUTURE);
    const expected = expectedSessions(input);
    // Runs of one to six windows between gaps: the function's state is what is tested.
    expect(expected.length).toBe(18);
    expect(expected.filter((e) => e.includes('"active_windows":1,')).length).toBe(8);
    expect(expected.filter((e) => e.includes('"active_windows":6,')).length).toBe(1);
    expect(await kafka.output(SESSIONS_TOPIC, 'hybrid', expected.length, jobId)).toEqual(expected);
  }, 90_000);
});

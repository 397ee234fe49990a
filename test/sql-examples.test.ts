// The SQL examples (packages/examples/sql) run as their README says: the datagen script with
// `nimble local`, the seed's Kafka script with `nimble sql -f` and the hybrid job module with
// `nimble run`, the Kafka ones against a test broker; each one's output is checked exactly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nimble } from './fixtures/cluster.js';
import { SeedKafka, SESSIONS_TOPIC } from './fixtures/sql-jobs/seed-kafka.js';
import {
  expectedFeatures,
  expectedSessions,
  FAR_FUTURE,
  HYBRID_JOB_FILE,
  javaDouble,
  seedScript,
  sessionTransactions,
  SINK_TOPIC,
  transactions,
} from './fixtures/sql-jobs/transactions.js';

const EXAMPLES = join(import.meta.dirname, '../packages/examples/sql');

let work: string;
let kafka: SeedKafka | undefined;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'nimble-sql-examples-'));
});
afterAll(async () => {
  await kafka?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** `LocalDateTime.toString` of a UTC epoch-ms value: seconds only when they are not zero. */
function localDateTime(ms: number): string {
  const text = new Date(ms).toISOString().slice(0, 19);
  return text.endsWith(':00') ? text.slice(0, 16) : text;
}

describe('datagen-rolling-spend.sql', () => {
  it('runs on nimble local at p=2 and prints every transaction with its 5-minute rolling spend', async () => {
    const run = await nimble([
      'local',
      '-n',
      '2',
      '-p',
      '2',
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
      '-D',
      `blob.storage.directory=${join(work, 'blobs')}`,
      join(EXAMPLES, 'datagen-rolling-spend.sql'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    // The script's rows, computed here: row id is user_<id % 3>, (id * 37 % 400 + 1) / 4 USD at
    // 10:00:00 + 50 s * id; RANGE ... PRECEDING includes rows exactly five minutes before.
    const base = Date.UTC(2024, 4, 1, 10, 0, 0);
    const rows = Array.from({ length: 30 }, (_, id) => ({
      user: `user_${id % 3}`,
      amount: (((id * 37) % 400) + 1) / 4,
      ts: base + id * 50_000,
    }));
    const expected = rows
      .map((r) => {
        const spend = rows
          .filter((o) => o.user === r.user && o.ts <= r.ts && o.ts >= r.ts - 300_000)
          .reduce((s, o) => s + o.amount, 0);
        return `+I[${r.user}, ${localDateTime(r.ts)}, ${javaDouble(r.amount)}, ${javaDouble(spend)}]`;
      })
      .sort();
    // At p=2 the print sink prefixes each line with its subtask ("1> "), as Flink's does.
    const printed = run.stdout
      .split('\n')
      .filter((l) => /^\d+> \+I\[/.test(l))
      .map((l) => l.replace(/^\d+> /, ''))
      .sort();
    expect(printed).toEqual(expected);
    expect(printed).toContain('+I[user_0, 2024-05-01T10:05, 55.75, 84.0]');
  }, 60_000);
});

describe('the Kafka examples', () => {
  beforeAll(async () => {
    kafka = await SeedKafka.start();
  }, 180_000);
  afterEach(() => kafka?.cancelJobs(), 60_000);

  it('seed-user-spend.sql with nimble sql -f: exact 5-minute features', async () => {
    const k = kafka!;
    // The example as it is, but for the broker: 'kafka:9092' -> the test broker.
    const file = join(work, 'seed-user-spend.sql');
    writeFileSync(file, seedScript(k.broker.bootstrapServers));
    const run = await nimble([
      'sql',
      '-f',
      file,
      '-m',
      k.cluster.address,
      '-d',
      '-p',
      '2',
      '-D',
      'execution.checkpointing.interval=300',
      '-D',
      `state.checkpoints.dir=file://${join(work, 'chk-sql-f')}`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = /Job ID: ([0-9a-f]+)/.exec(run.stdout)?.[1];
    if (!jobId) throw new Error(`no job id in: ${run.stdout}\n${run.stderr}`);
    await k.running(jobId);
    await k.warmUp(jobId);
    const input = transactions('sqlf', 100);
    await k.writer.write(input);
    await k.writer.toEveryPartition('closer', FAR_FUTURE);
    const expected = expectedFeatures(input);
    expect(await k.output(SINK_TOPIC, 'sqlf', expected.length, jobId)).toEqual(expected);
  }, 90_000);

  it('hybrid-session-tracker.ts with nimble run: exact enriched windows', async () => {
    const k = kafka!;
    const jobId = await k.submit(
      [
        '-D',
        'execution.checkpointing.interval=300',
        '-D',
        `state.checkpoints.dir=file://${join(work, 'chk-hybrid')}`,
      ],
      [HYBRID_JOB_FILE, '--bootstrap-servers', k.broker.bootstrapServers],
    );
    await k.warmUp(jobId);
    const input = sessionTransactions('example');
    await k.writer.write(input);
    await k.writer.toEveryPartition('closer', FAR_FUTURE);
    const expected = expectedSessions(input);
    expect(await k.output(SESSIONS_TOPIC, 'example', expected.length, jobId)).toEqual(expected);
  }, 90_000);
});

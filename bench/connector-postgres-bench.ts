/**
 * PostgreSQL connector benchmark, on a real PostgreSQL 15 server started by the test fixture
 * (test/fixtures/postgres-server.ts: initdb in a temp dir, fsync off). Each figure is one
 * subtask's: the sink writer (and committer) as a sink operator drives it, in this process, so
 * the numbers are the connector's and the server's, not the cluster's.
 *
 * 1. Upsert sink (JdbcSink.sink, JdbcDmlOptions with a key, batch 5000): N rows over K keys,
 *    a checkpoint flush every C rows; rows/s.
 * 2. Two-phase-commit sink (JdbcSink.exactlyOnceSink), plain INSERTs and the upsert of 1.: N
 *    rows, a prepared transaction per C rows committed by the committer; rows/s.
 * 3. Lookups (JdbcLookupFunction, 1000 calls in flight as AsyncDataStream's capacity allows):
 *    N lookups of random keys of a K-row table, without cache and with a cache of all keys.
 *
 *   pnpm bench:connector-postgres [-- --rows 300000 --keys 100000 --checkpoint 50000 --lookups 200000]
 */
import type { ResultFuture, SinkWriter } from '@nimble/api';
import type { JdbcCommittable, LookupRow } from '@nimble/connector-postgres';
import {
  JdbcConnectionOptions,
  JdbcDmlOptions,
  JdbcExactlyOnceOptions,
  JdbcExecutionOptions,
  JdbcLookupFunction,
  JdbcLookupOptions,
  JdbcSink,
} from '@nimble/connector-postgres';
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/fixtures/postgres-server.js';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '300000' },
    keys: { type: 'string', default: '100000' },
    checkpoint: { type: 'string', default: '50000' },
    lookups: { type: 'string', default: '200000' },
  },
});
const ROWS = Number(opts.rows);
const KEYS = Number(opts.keys);
const CHECKPOINT = Number(opts.checkpoint);
const LOOKUPS = Number(opts.lookups);

interface Feature {
  user: string;
  n: number;
  total: number;
}

const context = { timestamp: () => undefined, currentWatermark: () => 0 };
const init = {
  getSubtaskId: () => 0,
  getNumberOfParallelSubtasks: () => 1,
  getAttemptNumber: () => 0,
  getRestoredCheckpointId: () => undefined,
};

/** Writes ROWS features, pausing when the writer asks for it, with `checkpoint` every CHECKPOINT rows. */
async function drive(
  writer: SinkWriter<Feature>,
  checkpoint: (id: number) => Promise<void>,
): Promise<number> {
  const start = performance.now();
  let id = 0;
  for (let i = 0; i < ROWS; i++) {
    writer.write({ user: `u${i % KEYS}`, n: i, total: i * 3 }, context);
    const wait = writer.availability?.();
    if (wait) await wait;
    if ((i + 1) % CHECKPOINT === 0) await checkpoint(++id);
  }
  await checkpoint(++id);
  return (ROWS / (performance.now() - start)) * 1000;
}

const server = await startPostgres();
try {
  const connection = new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
    .withUrl(server.jdbcUrl)
    .withUsername(server.user)
    .withPassword(server.password)
    .build();
  const execution = JdbcExecutionOptions.builder().withBatchSize(5000).build();
  await server.query('CREATE TABLE upserts (user_id text PRIMARY KEY, n bigint, total bigint)');
  await server.query('CREATE TABLE inserts (user_id text, n bigint, total bigint)');
  await server.query('CREATE TABLE eo_upserts (user_id text PRIMARY KEY, n bigint, total bigint)');

  const upsert = JdbcSink.sink<Feature>(
    JdbcDmlOptions.builder()
      .withTableName('upserts')
      .withFieldNames('user_id', 'n', 'total')
      .withKeyFields('user_id')
      .build(),
    (f) => [f.user, f.n, f.total],
    execution,
    connection,
  ).createWriter(init);
  const upsertRate = await drive(upsert, () => Promise.resolve(upsert.flush(false)));
  await upsert.close();

  const exactlyOnce = async (statement: string | JdbcDmlOptions, prefix: string) => {
    const eo = JdbcSink.exactlyOnceSink<Feature>(
      statement,
      (f) => [f.user, f.n, f.total],
      JdbcExecutionOptions.builder().withBatchSize(5000).withMaxRetries(0).build(),
      JdbcExactlyOnceOptions.builder().withTransactionIdPrefix(prefix).build(),
      connection,
    );
    const eoWriter = eo.createWriter(init);
    const committer = eo.createCommitter();
    const rate = await drive(eoWriter, async (id) => {
      const committables: JdbcCommittable[] = await eoWriter.prepareCommit(id);
      await committer.commit(committables);
    });
    await eoWriter.close();
    await committer.close();
    return rate;
  };
  const eoRate = await exactlyOnce(
    'INSERT INTO inserts (user_id, n, total) VALUES ($1, $2, $3)',
    'bench-insert',
  );
  const eoUpsertRate = await exactlyOnce(
    JdbcDmlOptions.builder()
      .withTableName('eo_upserts')
      .withFieldNames('user_id', 'n', 'total')
      .withKeyFields('user_id')
      .build(),
    'bench-upsert',
  );
  const [{ n: inserted } = { n: 0 }] = await server.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM inserts',
  );

  await server.query('CREATE TABLE profiles (user_id text PRIMARY KEY, tier text)');
  await server.query(
    `INSERT INTO profiles SELECT 'u' || i, 'tier' || (i % 5) FROM generate_series(0, ${KEYS - 1}) i`,
  );
  const lookupRate = async (cache: boolean): Promise<number> => {
    const fn = JdbcLookupFunction.builder<number, string>()
      .setOptions(connection)
      .setTableName('profiles')
      .setKeyNames('user_id')
      .setFieldNames('user_id', 'tier')
      .setKeySelector((i) => [`u${i}`])
      .setResultBuilder((_i, rows: readonly LookupRow[]) => [String(rows[0]?.['tier'])])
      .setLookupOptions(
        JdbcLookupOptions.builder()
          .setCacheMaxSize(cache ? KEYS : 0)
          .setCacheExpireMs(cache ? 600_000 : 0)
          .build(),
      )
      .build();
    fn.open();
    const start = performance.now();
    let done = 0;
    let failed: unknown;
    const IN_FLIGHT = 1000;
    let next = 0;
    await new Promise<void>((resolve, reject) => {
      const future: ResultFuture<string> = {
        complete: () => {
          done++;
          if (done === LOOKUPS) resolve();
          else if (next < LOOKUPS) queueMicrotask(invoke);
        },
        completeExceptionally: (e) => {
          failed = e;
          reject(e as Error);
        },
      };
      const invoke = () => {
        const k = Math.floor(Math.random() * KEYS);
        next++;
        fn.asyncInvoke(k, future);
      };
      for (let i = 0; i < IN_FLIGHT && next < LOOKUPS; i++) invoke();
    });
    if (failed) throw failed;
    const rate = (LOOKUPS / (performance.now() - start)) * 1000;
    fn.close();
    return rate;
  };
  const uncached = await lookupRate(false);
  const cached = await lookupRate(true);

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  process.stdout.write(
    [
      `PostgreSQL 15 (fixture), per subtask; ${ROWS} rows over ${KEYS} keys, a checkpoint every ${CHECKPOINT} rows, batch 5000`,
      `upsert sink (INSERT ... ON CONFLICT DO UPDATE, at least once): ${fmt(upsertRate)} rows/s`,
      `2PC sink (PREPARE TRANSACTION / COMMIT PREPARED, exactly once), plain INSERT: ${fmt(eoRate)} rows/s (${inserted} rows committed)`,
      `2PC sink, the same upsert as above: ${fmt(eoUpsertRate)} rows/s`,
      `lookups, ${LOOKUPS} random keys of ${KEYS}, 1000 in flight: ${fmt(uncached)} lookups/s without cache, ${fmt(cached)} lookups/s with lookup.cache.max-rows=${KEYS}`,
    ].join('\n') + '\n',
  );
} finally {
  await server.stop();
}

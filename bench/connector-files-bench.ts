/**
 * File connector benchmark: events/s of one FileSource reader and one FileSink writer (one
 * subtask each), per format, on file:// and on s3:// (moto, test/fixtures/s3-server.ts, when
 * python3 -m moto.server is installed). The connector is driven as the runtime drives it
 * (pollNext in batches, write per record, prepareCommit and commit at the end), in this process,
 * so the figures are the connector's own cost without the network exchange of a job.
 *
 * Events: { id, user, amount, ts } (user null one time in seven). Sink: N events written into
 * one part file, pre-committed and committed. Source: the files the sink wrote read back.
 *
 *   pnpm bench:connector-files [-- --events 500000 --s3 false]
 */
import type { ReaderOutput, Source, SourceSplit } from '@nimble/api';
import { InputStatus } from '@nimble/api';
import type { BulkFormat, S3Options, StreamFormat } from '@nimble/connector-files';
import {
  BasePathBucketAssigner,
  CsvEncoder,
  CsvReaderFormat,
  FileSink,
  FileSource,
  JsonLinesEncoder,
  jsonLinesFormat,
  ParquetBulkFormat,
  ParquetWriterFactory,
} from '@nimble/connector-files';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startS3Server } from '../test/fixtures/s3-server.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    s3: { type: 'string', default: 'true' },
  },
});
const N = Number(values.events);

interface Event extends Record<string, unknown> {
  id: number;
  user: string | null;
  amount: number;
  ts: number;
}
const events: Event[] = Array.from({ length: N }, (_, i) => ({
  id: i,
  user: i % 7 === 0 ? null : `user-${i % 1000}`,
  amount: i / 4,
  ts: 1_796_281_200_000 + i,
}));

type Fmt = 'json' | 'csv' | 'parquet';

function sinkFor(fmt: Fmt, base: string, s3?: S3Options): FileSink<Event> {
  const b =
    fmt === 'parquet'
      ? FileSink.forBulkFormat(
          base,
          ParquetWriterFactory.forColumns<Event>([
            { name: 'id', type: 'INT64', nullable: false },
            { name: 'user', type: 'STRING' },
            { name: 'amount', type: 'DOUBLE' },
            { name: 'ts', type: 'TIMESTAMP' },
          ]),
        )
      : FileSink.forRowFormat(
          base,
          fmt === 'json'
            ? new JsonLinesEncoder<Event>()
            : new CsvEncoder<Event>(['id', 'user', 'amount', 'ts']),
        );
  b.withBucketAssigner(new BasePathBucketAssigner());
  if (s3) b.withS3Options(s3);
  return b.build();
}

function sourceFor(fmt: Fmt, base: string, s3?: S3Options): Source<unknown, SourceSplit, unknown> {
  const b =
    fmt === 'parquet'
      ? FileSource.forBulkFileFormat(ParquetBulkFormat.forColumns() as BulkFormat<unknown>, base)
      : FileSource.forRecordStreamFormat(
          (fmt === 'json'
            ? jsonLinesFormat()
            : CsvReaderFormat.forColumns([
                { name: 'id', type: 'number' },
                { name: 'user' },
                { name: 'amount', type: 'number' },
                { name: 'ts', type: 'number' },
              ])) as StreamFormat<unknown>,
          base,
        );
  if (s3) b.setS3Options(s3);
  return b.build() as unknown as Source<unknown, SourceSplit, unknown>;
}

async function benchSink(fmt: Fmt, base: string, s3?: S3Options): Promise<number> {
  const sink = sinkFor(fmt, base, s3);
  const start = performance.now();
  const w = sink.createWriter({
    getSubtaskId: () => 0,
    getNumberOfParallelSubtasks: () => 1,
    getAttemptNumber: () => 0,
    getRestoredCheckpointId: () => undefined,
  });
  const ctx = { timestamp: () => undefined, currentWatermark: () => 0 };
  for (const e of events) w.write(e, ctx);
  await sink.createCommitter().commit(await w.prepareCommit(1));
  await w.close();
  return N / ((performance.now() - start) / 1000);
}

async function benchSource(fmt: Fmt, base: string, s3?: S3Options): Promise<number> {
  const source = sourceFor(fmt, base, s3);
  const start = performance.now();
  const reader = source.createReader({
    getIndexOfSubtask: () => 0,
    getParallelism: () => 1,
    currentProcessingTime: () => Date.now(),
    metricGroup: () => ({ gauge: () => {}, removeGauge: () => {} }),
  });
  const enumerator = source.createEnumerator({
    currentParallelism: () => 1,
    assignSplits: (_s, splits) => reader.addSplits(splits),
    signalNoMoreSplits: () => reader.notifyNoMoreSplits(),
  });
  await enumerator.start();
  enumerator.addReader(0);
  let count = 0;
  const out: ReaderOutput<unknown> = {
    collect: () => {
      count++;
    },
    collectSide: () => {},
    createOutputForSplit: () => out,
    releaseOutputForSplit: () => {},
    markIdle: () => {},
  };
  for (;;) {
    const s = reader.pollNext(out);
    if (s === InputStatus.END_OF_INPUT) break;
    if (s === InputStatus.NOTHING_AVAILABLE) await reader.isAvailable();
  }
  if (count !== N) throw new Error(`read ${count} events of ${N} (${fmt})`);
  return N / ((performance.now() - start) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
const work = mkdtempSync(join(tmpdir(), 'nimble-files-bench-'));
const rows: string[] = [];
const s3Server = values.s3 === 'true' ? await startS3Server().catch(() => undefined) : undefined;
try {
  for (const f of ['json', 'csv', 'parquet'] as const) {
    const local = join(work, f);
    const sink = await benchSink(f, local);
    const src = await benchSource(f, local);
    rows.push(`| file:// | ${f.padEnd(7)} | ${fmt(sink)} | ${fmt(src)} |`);
    if (s3Server) {
      const base = `s3://${s3Server.bucket}/${f}`;
      const s3sink = await benchSink(f, base, s3Server.s3Options);
      const s3src = await benchSource(f, base, s3Server.s3Options);
      rows.push(`| s3://   | ${f.padEnd(7)} | ${fmt(s3sink)} | ${fmt(s3src)} |`);
    }
  }
} finally {
  await s3Server?.stop();
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(
  `File connectors, ${N.toLocaleString('en-US')} events, one subtask (events/s)\n\n` +
    `| fs      | format  | sink (w/s) | source (r/s) |\n|---------|---------|-----------:|-------------:|\n${rows.join('\n')}\n` +
    (s3Server ? '' : '\n(s3:// skipped: python3 -m moto.server is not installed; run .ci/run)\n'),
);

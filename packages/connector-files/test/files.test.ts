import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Server } from '../../../test/fixtures/s3-server.js';
import { startS3Server } from '../../../test/fixtures/s3-server.js';
import type {
  FileSinkCommittable,
  FileSourceSplit,
  PendingSplitsCheckpoint,
} from '../src/index.js';
import {
  BasePathBucketAssigner,
  CsvEncoder,
  CsvReaderFormat,
  DateTimeBucketAssigner,
  DateTimePattern,
  DefaultRollingPolicy,
  FieldBucketAssigner,
  FileSink,
  FileSource,
  JsonLinesEncoder,
  jsonLinesFormat,
  OnCheckpointRollingPolicy,
  OutputFileConfig,
  ParquetBulkFormat,
  ParquetWriterFactory,
  splitCsv,
} from '../src/index.js';
import { initContext, startSource, writerContext } from './harness.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-files-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `root`, relative, sorted. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  walk(root);
  return out.sort();
}

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const r = await c.runAndReadAll(sql);
  const rows = r.getRowObjectsJson() as Record<string, unknown>[];
  c.closeSync();
  return rows;
}

describe('formats', () => {
  it('splits and quotes CSV as RFC 4180', () => {
    expect(splitCsv('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
    expect(() => splitCsv('"open')).toThrow(/unterminated/);
  });

  it('formats date-time buckets with quoted literals', () => {
    const t = Date.UTC(2026, 11, 3, 7, 45, 12);
    expect(new DateTimePattern("'dt='yyyy-MM-dd'/hour='HH").format(t)).toBe(
      'dt=2026-12-03/hour=07',
    );
    expect(new DateTimePattern('yyyy-MM-dd--HH').format(t)).toBe('2026-12-03--07');
    expect(new DateTimePattern('yyyy-MM-dd--HH', '+02:00').format(t)).toBe('2026-12-03--09');
    expect(() => new DateTimePattern('yyyy-ww')).toThrow(/pattern letter 'w'/);
  });
});

describe('paths', () => {
  it('refuses a scheme no file system serves when the job is built', () => {
    const msg =
      "Unsupported file system scheme in 'hdfs://nn/x': use file:// (or a plain path) or s3://.";
    expect(() => FileSource.forRecordStreamFormat(jsonLinesFormat(), 'hdfs://nn/x')).toThrow(msg);
    expect(() => FileSink.forRowFormat('hdfs://nn/x', new JsonLinesEncoder()).build()).toThrow(msg);
  });
});

describe('rolling policies', () => {
  it("roll as Flink's DefaultRollingPolicy and OnCheckpointRollingPolicy do", () => {
    const p = DefaultRollingPolicy.builder()
      .withMaxPartSize(100)
      .withRolloverInterval(1000)
      .withInactivityInterval(300)
      .build();
    const part = { bucketId: '', creationTime: 0, lastUpdateTime: 800, size: 99 };
    expect(p.shouldRollOnEvent(part)).toBe(false);
    expect(p.shouldRollOnEvent({ ...part, size: 100 })).toBe(true);
    expect(p.shouldRollOnProcessingTime(part, 999)).toBe(false);
    expect(p.shouldRollOnProcessingTime(part, 1000)).toBe(true); // rollover
    expect(p.shouldRollOnProcessingTime({ ...part, creationTime: 500 }, 1100)).toBe(true); // inactive
    expect(() => DefaultRollingPolicy.builder().withMaxPartSize(0)).toThrow(/withMaxPartSize/);
    const c = OnCheckpointRollingPolicy.build();
    expect(c.shouldRollOnEvent()).toBe(false);
    expect(c.shouldRollOnProcessingTime()).toBe(false);
  });
});

describe('FileSource', () => {
  it('reads a directory, skipping hidden files, with positions that survive a restore', async () => {
    const src = join(dir, 'src-json');
    mkdirSync(join(src, 'sub'), { recursive: true });
    const lines = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i })).join('\n') + '\n';
    writeFileSync(join(src, 'a.json'), lines(0, 3000));
    writeFileSync(join(src, 'sub', 'b.json'), lines(3000, 2000));
    writeFileSync(join(src, '.hidden.json'), lines(-10, 5));
    writeFileSync(join(src, '_SUCCESS'), '');

    const source = FileSource.forRecordStreamFormat(
      jsonLinesFormat<{ id: number }>(),
      `file://${src}`,
    ).build();
    // p=2, stopped part-way; its state restored at p=3.
    const first = await startSource(source, 2);
    await first.run(undefined, 3);
    const seen = first.outputs.flat();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(5000);
    const splits = first.readers.map((r) => r.snapshotState(1));
    const state = first.enumerator.snapshotState(1) as PendingSplitsCheckpoint;
    const all = splits.flat();
    const redistributed: FileSourceSplit[][] = [[], [], []];
    all.forEach((s, i) => redistributed[i % 3]!.push(s));
    const second = await startSource(source, 3, { enumerator: state, splits: redistributed });
    await second.run();
    const ids = [...seen, ...second.outputs.flat()].map((r) => r.id).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('reads CSV with a header and names the file of a bad record', async () => {
    const src = join(dir, 'src-csv');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'x.csv'), 'id,name\n1,"a,b"\n2,c\n');
    const format = CsvReaderFormat.forColumns([{ name: 'id', type: 'number' }, { name: 'name' }], {
      skipHeader: true,
    });
    const run = await startSource(FileSource.forRecordStreamFormat(format, src).build(), 1);
    await run.run();
    expect(run.outputs[0]).toEqual([
      { id: 1, name: 'a,b' },
      { id: 2, name: 'c' },
    ]);
    writeFileSync(join(src, 'y.csv'), 'id,name\nzz,d\n');
    const bad = await startSource(FileSource.forRecordStreamFormat(format, src).build(), 1);
    await expect(bad.run()).rejects.toThrow(
      `line 2 of file '${join(src, 'y.csv')}' (byte 8): 'zz' is not a number`,
    );
  });

  it('picks up new files when monitoring continuously, each once', async () => {
    const src = join(dir, 'src-cont');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, '1.json'), '{"n":1}\n');
    const source = FileSource.forRecordStreamFormat(jsonLinesFormat<{ n: number }>(), src)
      .monitorContinuously(20)
      .build();
    const run = await startSource(source, 1);
    await run.run(() => run.outputs[0]!.length >= 1);
    writeFileSync(join(src, '2.json'), '{"n":2}\n');
    await run.run(() => run.outputs[0]!.length >= 2);
    const state = run.enumerator.snapshotState(1) as PendingSplitsCheckpoint;
    expect([...state.processed].sort()).toEqual([join(src, '1.json'), join(src, '2.json')]);
    await run.enumerator.close();
    // Restored, it does not read the files it has seen again.
    writeFileSync(join(src, '3.json'), '{"n":3}\n');
    const again = await startSource(source, 1, { enumerator: state, splits: [[]] });
    await again.run(() => again.outputs[0]!.length >= 1);
    expect(again.outputs[0]).toEqual([{ n: 3 }]);
    await again.enumerator.close();
    expect(run.outputs[0]).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

interface Event extends Record<string, unknown> {
  id: number;
  user: string | null;
  amount: number;
  ts: Date;
}

const events = (n: number): Event[] =>
  Array.from({ length: n }, (_, i) => ({
    id: i,
    user: i % 7 === 0 ? null : `u${i % 5}`,
    amount: i * 1.5,
    ts: new Date(Date.UTC(2026, 11, 3, 7 + (i % 2), 0, i % 60)),
  }));

const parquetColumns = [
  { name: 'id', type: 'INT64' as const, nullable: false },
  { name: 'user', type: 'STRING' as const },
  { name: 'amount', type: 'DOUBLE' as const },
  { name: 'ts', type: 'TIMESTAMP' as const },
];

describe('FileSink', () => {
  it('moves part files from in-progress to pending to finished, idempotently', async () => {
    const out = join(dir, 'sink-rows');
    const sink = FileSink.forRowFormat(out, new JsonLinesEncoder<{ k: string; v: number }>())
      .withBucketAssigner(new FieldBucketAssigner(['k']))
      .withOutputFileConfig(
        OutputFileConfig.builder().withPartPrefix('pre').withPartSuffix('.json').build(),
      )
      .build();
    const w = sink.createWriter(initContext(1, 2));
    for (let i = 0; i < 10; i++) w.write({ k: i % 2 ? 'b' : 'a/x', v: i }, writerContext());
    void w.flush(false);
    const inProgress = tree(out);
    expect(inProgress).toHaveLength(2);
    for (const f of inProgress)
      expect(f).toMatch(
        /^k=(a%2Fx|b)\/\.pre-[0-9a-f-]{36}-1-[01]\.json\.inprogress\.[0-9a-f-]{36}$/,
      );
    const committables = await w.prepareCommit(1);
    expect(committables).toHaveLength(2);
    // Pending: still hidden, so no reader sees the data before the checkpoint completes.
    expect(tree(out).every((f) => f.split('/').pop()!.startsWith('.'))).toBe(true);
    const committer = sink.createCommitter();
    await committer.commit(committables);
    await committer.commit(committables); // a replay after a restore
    const finished = tree(out);
    expect(finished.map((f) => f.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, 'U'))).toEqual([
      'k=a%2Fx/pre-U-1-0.json',
      'k=b/pre-U-1-1.json',
    ]);
    const rows = finished.flatMap((f) =>
      readFileSync(join(out, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { v: number }),
    );
    expect(rows.map((r) => r.v).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    void w.close();
  });

  it('rolls row files by size and buckets by event time', async () => {
    const out = join(dir, 'sink-roll');
    const sink = FileSink.forRowFormat(out, new CsvEncoder<{ a: string; n: number }>(['a', 'n']))
      .withBucketAssigner(DateTimeBucketAssigner.forEventTime("'dt='yyyy-MM-dd'/hour='HH"))
      .withRollingPolicy(DefaultRollingPolicy.builder().withMaxPartSize(100).build())
      .build();
    const w = sink.createWriter(initContext(0, 1));
    const t = Date.UTC(2026, 11, 3, 7, 30);
    for (let i = 0; i < 40; i++)
      w.write(
        { a: 'x,y', n: i },
        writerContext(() => t),
      );
    await sink.createCommitter().commit(await w.prepareCommit(1));
    const files = tree(out);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(f).toMatch(/^dt=2026-12-03\/hour=07\/part-[0-9a-f-]{36}-0-\d+$/);
    const lines = files.flatMap((f) => readFileSync(join(out, f), 'utf8').trim().split('\n'));
    expect(lines).toHaveLength(40);
    expect(lines).toContain('"x,y",39');
    void w.close();
  });

  it('writes Parquet that DuckDB reads, and reads it back per row group with projection', async () => {
    const out = join(dir, 'sink-parquet');
    const sink = FileSink.forBulkFormat(
      out,
      ParquetWriterFactory.forColumns<Event>(parquetColumns, { rowGroupSize: 400 }),
    )
      .withBucketAssigner(new BasePathBucketAssigner())
      .withOutputFileConfig(OutputFileConfig.builder().withPartSuffix('.parquet').build())
      .build();
    const w = sink.createWriter(initContext(0, 1));
    for (const e of events(1000)) w.write(e, writerContext());
    await sink.createCommitter().commit(await w.prepareCommit(1));
    void w.close();
    const [file] = tree(out);
    expect(file).toMatch(/^part-.*-0-0\.parquet$/);
    const rows = await duckRows(
      `select id, "user", amount, epoch_ms(ts) as ts from read_parquet('${join(out, file!)}') order by id`,
    );
    expect(rows).toHaveLength(1000);
    const expected = events(1000).map((e) => ({
      id: String(e.id),
      user: e.user,
      amount: e.amount,
      ts: String(e.ts.getTime()),
    }));
    expect(rows).toEqual(expected);

    const source = FileSource.forBulkFileFormat(
      ParquetBulkFormat.forColumns(['id', 'user']),
      out,
    ).build();
    const run = await startSource(source, 2);
    // 1000 rows in row groups of 400: three splits, assigned round-robin.
    const assigned = run.readers.flatMap((r) => r.snapshotState(0));
    expect(assigned.map((s) => s.block).sort((a, b) => a!.block - b!.block)).toEqual([
      { block: 0, rowStart: 0, rowEnd: 400 },
      { block: 1, rowStart: 400, rowEnd: 800 },
      { block: 2, rowStart: 800, rowEnd: 1000 },
    ]);
    await run.run();
    const read = run.outputs.flat().sort((a, b) => (a['id'] as number) - (b['id'] as number));
    expect(read).toEqual(events(1000).map((e) => ({ id: e.id, user: e.user })));
  });

  it('names the file of a corrupt Parquet file', async () => {
    const src = join(dir, 'src-corrupt');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'bad.parquet'), 'PAR1 this is not parquet at all PAR1');
    const source = FileSource.forBulkFileFormat(ParquetBulkFormat.forColumns(), src).build();
    const run = await startSource(source, 1);
    await expect(run.run()).rejects.toThrow(
      `File '${join(src, 'bad.parquet')}' is not a valid Parquet file`,
    );
  });
});

describe('s3://', () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  }, 60_000);
  afterAll(() => s3?.stop());

  it('writes part files as multipart uploads completed by the committer, then reads them', async () => {
    const base = `s3://${s3.bucket}/out`;
    const sink = FileSink.forBulkFormat(
      base,
      ParquetWriterFactory.forColumns<Event>(parquetColumns),
    )
      .withBucketAssigner(new FieldBucketAssigner(['user']))
      .withS3Options(s3.s3Options)
      .build();
    const w = sink.createWriter(initContext(0, 1));
    for (const e of events(300)) w.write(e, writerContext());
    const committables: FileSinkCommittable[] = await w.prepareCommit(1);
    void w.close();
    const listed = async () => {
      const src = FileSource.forBulkFileFormat(ParquetBulkFormat.forColumns(), base)
        .setS3Options(s3.s3Options)
        .build();
      const run = await startSource(src, 2);
      await run.run();
      return run.outputs.flat() as unknown as Event[];
    };
    // Pending: incomplete uploads are invisible.
    expect(await listed()).toEqual([]);
    const committer = sink.createCommitter();
    await committer.commit(committables);
    await committer.commit(committables);
    const rows = (await listed()).sort((a, b) => a.id - b.id);
    expect(rows).toEqual(events(300));
    expect(committables.map((c) => c.bucketId).sort()).toEqual([
      'user=__DEFAULT_PARTITION__',
      'user=u0',
      'user=u1',
      'user=u2',
      'user=u3',
      'user=u4',
    ]);
  });

  it('uploads a part file larger than the 5 MiB minimum part of S3 in several parts', async () => {
    const base = `s3://${s3.bucket}/big`;
    const sink = FileSink.forRowFormat(base, new JsonLinesEncoder<{ i: number; pad: string }>())
      .withBucketAssigner(new BasePathBucketAssigner())
      .withS3Options(s3.s3Options)
      .build();
    const w = sink.createWriter(initContext(0, 1));
    const pad = 'x'.repeat(1000);
    const n = 12_000; // about 12 MB: parts of 5 MiB, 5 MiB and the rest
    for (let i = 0; i < n; i++) w.write({ i, pad }, writerContext());
    const committables = await w.prepareCommit(1);
    void w.close();
    expect(committables).toHaveLength(1);
    const pending = committables[0]!.pending;
    expect(pending.kind === 's3' && pending.parts.length).toBe(3);
    await sink.createCommitter().commit(committables);
    const source = FileSource.forRecordStreamFormat(jsonLinesFormat<{ i: number }>(), base)
      .setS3Options(s3.s3Options)
      .build();
    const run = await startSource(source, 1);
    await run.run();
    expect(run.outputs[0]!.map((r) => r.i)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});

// The DataStream API's operators on a local cluster of real daemons (`nimble local`): the same
// exact output as the definitions of Flink's operators give, on both state backends, at
// parallelism 3 across three TaskManagers. Broadcast state, interval join, async I/O and
// CheckpointedFunction have failover tests of their own (*-failover.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimble } from './fixtures/cluster.js';
import { expectedLines } from './fixtures/datastream-api-data.js';
import { committedOutput } from './fixtures/exactly-once-output.js';

const JOB = join(import.meta.dirname, 'fixtures/cluster-jobs/datastream-api-job.ts');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'nimble-api-cluster-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(['hashmap', 'level'] as const)(
  'DataStream operators on nimble local (%s)',
  (backend) => {
    it('connect, windowAll, countWindow, evictors, window join, coGroup, partitionCustom and shuffle at p=3: exact output', async () => {
      const out = join(work, `out-${backend}`);
      const run = await nimble([
        'local',
        '-n',
        '3',
        '-D',
        'jobmanager.rpc.port=0',
        '-D',
        'rest.port=0',
        '-D',
        `blob.storage.directory=${join(work, `blobs-${backend}`)}`,
        '-D',
        `state.backend.type=${backend}`,
        JOB,
        '3',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('FINISHED');
      const actual = committedOutput(out);
      const expected = expectedLines(3);
      expect(actual.length).toBe(expected.length);
      expect(actual).toEqual(expected);
    }, 180_000);
  },
);

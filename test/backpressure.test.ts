/**
 * Aligned checkpoints under full backpressure, on real daemons: a fast source into a slow map.
 * Credit-based flow control bounds the records between them, so checkpoints complete in a time
 * bounded by that data (docs/checkpoints.md has the bound and measurements).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const JOB = `${root}test/fixtures/cluster-jobs/backpressure-job.ts`;

// Records between the sources and the maps at most: 2 maps x 2 input channels, each with
// taskmanager.network.memory.buffers-per-channel (4) credits of 32 KiB buffers (~140 records
// of ~230 bytes), plus what a source emits in one poll (1024 records) beyond its credit, per
// source, plus the first buffers, built before the writer knows the record size (<= 700
// records each). Without credit, a 50 000/s source would exceed it within a second.
const RECORDS_PER_BUFFER = 142;
const CREDIT_BOUND = 2 * 2 * 4 * RECORDS_PER_BUFFER + 2 * 1024 + 2 * 2 * (700 - RECORDS_PER_BUFFER);

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-backpressure-'));
  cluster = await TestCluster.start({
    taskManagers: 1,
    slots: 2,
    jm: ['-D', 'metrics.fetcher.update-interval=200'],
    tm: ['-D', 'metrics.fetcher.update-interval=200'],
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('full backpressure', () => {
  it('keeps in-flight records within the credit and completes aligned checkpoints', async () => {
    const run = await nimble([
      'run',
      '-d',
      '-m',
      cluster.address,
      '-D',
      'execution.checkpointing.interval=500',
      '-D',
      `state.checkpoints.dir=file://${join(dir, 'checkpoints')}`,
      JOB,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    let maxInFlight = 0;
    let read = 0;
    let completed = 0;
    await cluster.waitFor(async () => {
      const job = await cluster.rest(`/jobs/${jobId}`);
      const [source, map] = job.vertices as { metrics: Record<string, number> }[];
      if (source && map) {
        read = map.metrics['read-records']!;
        maxInFlight = Math.max(maxInFlight, source.metrics['write-records']! - read);
      }
      completed = (await cluster.rest(`/jobs/${jobId}/checkpoints`)).counts?.completed ?? 0;
      return completed >= 3;
    }, 170_000);
    expect(read).toBeGreaterThan(0);
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThan(CREDIT_BOUND);
    await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
  }, 180_000);
});

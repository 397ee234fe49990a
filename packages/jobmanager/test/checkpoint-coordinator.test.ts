import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger, fileSystemFor } from '@nimble/runtime';
import type { JobPlan, S3Options } from '@nimble/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointCoordinator } from '../src/checkpoint-coordinator.js';
import type { TriggerOptions } from '../src/checkpoint-coordinator.js';

const work = mkdtempSync(join(tmpdir(), 'nimble-coordinator-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** S3 settings, unused: the checkpoints are on file://. */
const LOCAL_ONLY: S3Options = {
  endpoint: undefined,
  region: 'us-east-1',
  accessKey: undefined,
  secretKey: undefined,
  pathStyleAccess: false,
};

const plan: JobPlan = {
  jobName: 'counts',
  vertices: [
    {
      id: 1,
      name: 'Source -> Count',
      parallelism: 1,
      maxParallelism: 128,
      operators: [{ id: 1, name: 'Count', uid: 'count', keyed: true }],
      inputs: [],
    } as unknown as JobPlan['vertices'][number],
  ],
};

/** A coordinator whose one subtask never acknowledges; `triggered` holds the trigger options. */
function coordinator(
  checkpointsDir: string,
  storage: { readOnly: boolean; refused: number } = { readOnly: false, refused: 0 },
): {
  coordinator: CheckpointCoordinator;
  triggered: TriggerOptions[];
} {
  const triggered: TriggerOptions[] = [];
  const coordinator = new CheckpointCoordinator({
    jobId: 'job-1',
    plan,
    settings: {
      interval: 60_000,
      timeout: 60_000,
      minPause: 0,
      tolerableFailures: 0,
      retained: 1,
      retention: 'delete_on_cancellation',
      checkpointsDir,
      savepointsDir: '',
    },
    log: createLogger('jobmanager').child({}, { level: 'silent' }),
    fileSystem: (uri) => {
      const fs = fileSystemFor(uri, LOCAL_ONLY);
      // A read-only store: deletes fail as the system reports them.
      return new Proxy(fs, {
        get(target, key) {
          if (storage.readOnly && (key === 'delete' || key === 'deleteRecursive')) {
            storage.refused++;
            return () => Promise.reject(new Error(`EROFS: read-only file system, unlink '${uri}'`));
          }
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function'
            ? (value as (...args: unknown[]) => unknown).bind(target)
            : value;
        },
      });
    },
    canTrigger: () => true,
    finishedTasks: () => new Set(),
    snapshotEnumerators: () => Promise.resolve(new Map()),
    triggerSources: (_id, options) => {
      triggered.push(options);
      return Promise.resolve();
    },
    notifyTasks: () => Promise.resolve(),
    failJob: () => {},
  });
  return { coordinator, triggered };
}

describe('CheckpointCoordinator', () => {
  it('deletes the files of a checkpoint aborted by the end of its attempt, also those written after the abort', async () => {
    const dir = join(work, 'late');
    const { coordinator: c, triggered } = coordinator(pathToFileURL(dir).href);
    const result = c.triggerCheckpoint();
    await expect.poll(() => triggered.length).toBe(1);
    const shared = fileURLToPath(triggered[0]!.sharedDir);
    const target = fileURLToPath(triggered[0]!.targetDir);
    mkdirSync(shared, { recursive: true });
    mkdirSync(target, { recursive: true });
    // Written before the attempt ended, and never acknowledged.
    writeFileSync(join(shared, 'count-0-1-0a0b0c0d'), 'state');
    c.stop('the job is cancelled');
    await expect(result).rejects.toThrow('Checkpoint 1 was aborted: the job is cancelled');
    await expect.poll(() => existsSync(join(shared, 'count-0-1-0a0b0c0d'))).toBe(false);
    // An upload of the cancelled task that ended after that first cleanup.
    writeFileSync(join(shared, 'count-0-1-1a2b3c4d'), 'state');
    writeFileSync(join(shared, 'count-0-2-1a2b3c4d'), 'a later checkpoint');
    await c.discardStopped();
    expect(readdirSync(shared)).toEqual(['count-0-2-1a2b3c4d']);
    expect(existsSync(target)).toBe(false);
    // Once only: the next call has nothing left to clean.
    writeFileSync(join(shared, 'count-0-1-5e6f7a8b'), 'state');
    await c.discardStopped();
    expect(readdirSync(shared).sort()).toEqual(['count-0-1-5e6f7a8b', 'count-0-2-1a2b3c4d']);
  });

  it('deletes the files of a checkpoint whose cleanup the storage refused, once it takes deletes again', async () => {
    const dir = join(work, 'read-only');
    const storage = { readOnly: false, refused: 0 };
    const { coordinator: c, triggered } = coordinator(pathToFileURL(dir).href, storage);
    const first = c.triggerCheckpoint();
    await expect.poll(() => triggered.length).toBe(1);
    const shared = fileURLToPath(triggered[0]!.sharedDir);
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'count-0-1-0a0b0c0d'), 'state');
    // The subtask declines (its storage went read-only); the cleanup fails on the same storage.
    storage.readOnly = true;
    c.onDecline(1, 1, 0, new Error('EROFS: read-only file system'));
    await expect(first).rejects.toThrow(/EROFS/);
    // The cleanup ran, and the storage refused its delete.
    await expect.poll(() => storage.refused).toBeGreaterThan(0);
    expect(existsSync(join(shared, 'count-0-1-0a0b0c0d'))).toBe(true);
    // Writable again: the end of the attempt deletes what the failed cleanup left.
    storage.readOnly = false;
    c.stop('the job is cancelled');
    await c.discardStopped();
    expect(existsSync(join(shared, 'count-0-1-0a0b0c0d'))).toBe(false);
  });
});

// What a TaskManager acknowledges is checked before the coordinator uses it: the protobuf
// message's shape, and state file paths that must stay in the checkpoint's directories (a
// decline's cleanup deletes what acks named, so a path outside would delete that file).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger, fileSystemFor, resolveInside, s3OptionsFrom } from '@nimble/runtime';
import type { SubtaskCheckpointAck } from '@nimble/runtime';
import { parseCheckpointAck } from '../src/checkpoint-ack.js';
import type { CompletedCheckpoint } from '../src/checkpoint-coordinator.js';
import { CheckpointCoordinator } from '../src/checkpoint-coordinator.js';

const wire = (files: { path: string }[]) => ({
  operators: {
    count: {
      keyed: {
        keyGroupRange: [0, 1],
        files: files.map((f) => ({ ...f, kind: 'canonical', size: 2, offsets: [0, 1, 2] })),
      },
      operatorState: {},
      operatorStateModes: {},
      channelState: null,
    },
  },
  stateSize: 2,
  syncDurationMs: 0,
  asyncDurationMs: 0,
  alignmentDurationMs: 0,
  unaligned: false,
  persistedBytes: 0,
});

describe('the acknowledged state message', () => {
  it('becomes the runtime ack', () => {
    const ack = parseCheckpointAck(wire([{ path: 'count-0-1-ab' }]));
    expect(ack.operators['count']?.keyed?.keyGroupRange).toEqual([0, 1]);
    expect(ack.operators['count']?.keyed?.files[0]?.path).toBe('count-0-1-ab');
    expect(ack.operators['count']?.operatorState).toBeUndefined();
  });

  it('with a bad key-group range, kind, offsets or size is refused, naming the field', () => {
    const good = wire([{ path: 'f' }]);
    const op = good.operators.count;
    expect(() =>
      parseCheckpointAck({
        ...good,
        operators: { count: { ...op, keyed: { ...op.keyed, keyGroupRange: [3, 1] } } },
      }),
    ).toThrow(/keyGroupRange/);
    const badKind = { ...op.keyed, files: [{ ...op.keyed.files[0]!, kind: 'rocks' }] };
    expect(() =>
      parseCheckpointAck({ ...good, operators: { count: { ...op, keyed: badKind } } }),
    ).toThrow(/kind: unknown kind "rocks"/);
    const badOffsets = { ...op.keyed, files: [{ ...op.keyed.files[0]!, offsets: [0] }] };
    expect(() =>
      parseCheckpointAck({ ...good, operators: { count: { ...op, keyed: badOffsets } } }),
    ).toThrow(/3 offsets expected/);
    expect(() => parseCheckpointAck({ ...good, stateSize: -1 })).toThrow(/stateSize/);
    expect(() => parseCheckpointAck(null)).toThrow(/state is missing/);
  });
});

describe('state file paths', () => {
  const dir = 'file:///cp/job/chk-3';
  const roots = [dir, 'file:///cp/job/shared'];
  it('resolve inside the checkpoint directory or the shared one', () => {
    expect(resolveInside(dir, 'a-0-3', roots)).toBe('file:///cp/job/chk-3/a-0-3');
    expect(resolveInside(dir, '../shared/a-0-2', roots)).toBe('file:///cp/job/shared/a-0-2');
  });
  it.each([
    '../../../etc/passwd',
    '../chk-2/a',
    'x/../../../y',
    './a',
    'a//b',
    '/etc/passwd',
    'file:///etc/passwd',
    '..%2f..%2fetc',
    'a\\..\\b',
    '',
  ])('%j is refused', (path) => {
    expect(() => resolveInside(dir, path, roots)).toThrow(/State file path/);
  });
});

describe('the coordinator with acks from a TaskManager', () => {
  let base: string;
  let coordinator: CheckpointCoordinator;
  const fs = fileSystemFor(
    'file:///',
    s3OptionsFrom((o) => o.defaultValue),
  );

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'nimble-ack-'));
    coordinator = new CheckpointCoordinator({
      jobId: 'job',
      plan: {
        jobName: 'j',
        vertices: [
          {
            id: 1,
            name: 'count',
            parallelism: 2,
            maxParallelism: 2,
            inputs: [],
            operators: [{ id: 1, uid: 'count', name: 'count', keyed: true }],
          },
        ],
      },
      settings: {
        interval: 0,
        timeout: 60_000,
        minPause: 0,
        tolerableFailures: 100,
        retained: 1,
        retention: 'delete_on_cancellation',
        checkpointsDir: pathToFileURL(join(base, 'checkpoints')).href,
        savepointsDir: '',
      },
      log: createLogger('test', {}),
      fileSystem: () => fs,
      canTrigger: () => true,
      finishedTasks: () => new Set(),
      snapshotEnumerators: async () => new Map(),
      triggerSources: async () => {},
      notifyTasks: async () => {},
      failJob: () => {},
    });
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const ack = (path: string): SubtaskCheckpointAck => parseCheckpointAck(wire([{ path }]));

  it('refuses a path outside, declines the checkpoint, and its cleanup leaves the file alone', async () => {
    const victim = join(base, 'victim.txt');
    writeFileSync(victim, 'keep me');
    const pending = coordinator.triggerCheckpoint();
    await new Promise((r) => setImmediate(r));
    // Subtask 1 wrote its file and acknowledged; subtask 0 names a file outside.
    const chk = join(base, 'checkpoints', 'job', 'chk-1');
    await fs.write(pathToFileURL(join(chk, 'count-1-1')).href, new Uint8Array([1, 2]));
    coordinator.onAcknowledge(1, 1, 1, ack('count-1-1'));
    expect(() => coordinator.onAcknowledge(1, 1, 0, ack('../../../victim.txt'))).toThrow(/outside/);
    await expect(pending).rejects.toThrow(/was refused/);
    expect(coordinator.history[0]?.status).toBe('FAILED');
    // The cleanup of the declined checkpoint runs in the background: wait for its directory to go.
    while (existsSync(chk)) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });

  it('accepts each subtask once and completes with all of them', async () => {
    const pending = coordinator.triggerCheckpoint();
    await new Promise((r) => setImmediate(r));
    coordinator.onAcknowledge(1, 1, 0, ack('count-0-1'));
    expect(() => coordinator.onAcknowledge(1, 1, 0, ack('count-0-1'))).toThrow(
      /already acknowledged/,
    );
    expect(coordinator.history[0]?.num_acknowledged_subtasks).toBe(1);
    coordinator.onAcknowledge(1, 1, 1, ack('count-1-1'));
    const completed: CompletedCheckpoint = await pending;
    expect(completed.metadata.operators[0]?.subtasks.map((s) => s.subtask)).toEqual([0, 1]);
  });
});

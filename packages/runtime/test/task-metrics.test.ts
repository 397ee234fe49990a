// Task and operator counters as the daemons export them (Flink's numRecordsIn/numRecordsOut).
import { StreamExecutionEnvironment } from '@nimble/api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExecutionConfiguration } from '../src/config.js';
import { JobCoordinator } from '../src/executor/job-coordinator.js';
import { buildJobGraph } from '../src/graph/job-graph.js';
import type { TaskEvents } from '../src/task/task-host.js';
import { TaskHost } from '../src/task/task-host.js';
import type { TaskMetricsSample } from '../src/task/task-metrics-sample.js';
import { SystemProcessingTimeService } from '../src/timers/processing-time-service.js';

/** Runs `env`'s pipeline in one thread and returns every task's final counters. */
async function finalMetrics(env: StreamExecutionEnvironment): Promise<TaskMetricsSample[]> {
  const pipeline = env.getPipeline('metrics');
  const graph = buildJobGraph(pipeline);
  const samples: TaskMetricsSample[] = [];
  const coordinator = new JobCoordinator(graph, { stdout: () => {}, stderr: () => {} });
  const events: TaskEvents = {
    readerRegistered: (v, s) => coordinator.readerRegistered(v, s),
    taskFinished: (_v, _s, metrics) => {
      samples.push(metrics);
      coordinator.taskFinished();
    },
    taskFailed: (v, s, e) => coordinator.taskFailed(v, s, e),
    collect: (id, s, values) => coordinator.collect(id, s, values),
    stdout: () => {},
    stderr: () => {},
  };
  const dir = mkdtempSync(join(tmpdir(), 'nimble-metrics-'));
  try {
    const host = new TaskHost({
      graph,
      config: parseExecutionConfiguration(pipeline.configuration),
      attemptNumber: 0,
      slot: 0,
      allSlots: true,
      ports: new Map(),
      processingTimeService: new SystemProcessingTimeService(),
      localStateDir: dir,
      events,
    });
    host.deploy();
    coordinator.gateway = {
      assignSplits: (v, s, splits) => host.assignSplits(v, s, splits),
      noMoreSplits: (v, s) => host.noMoreSplits(v, s),
      cancelAll: () => host.cancel(),
    };
    await coordinator.startEnumerators();
    host.start();
    await coordinator.result;
    await coordinator.closeEnumerators();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

describe('record counters', () => {
  it('a source counts each record it emits once, chained or sent over the network', async () => {
    const env = new StreamExecutionEnvironment({ 'parallelism.default': 2 });
    env
      .fromElements(1, 2, 3, 4, 5)
      .map((x) => x * 2)
      .name('Double')
      .rebalance()
      .filter((x) => x > 4)
      .name('Big')
      .print();
    const samples = await finalMetrics(env);
    const op = (name: string) =>
      samples.flatMap((s) => s.operators).filter((o) => o.operatorName === name);
    const sum = (
      ops: { numRecordsIn: number; numRecordsOut: number }[],
      k: 'numRecordsIn' | 'numRecordsOut',
    ) => ops.reduce((n, o) => n + o[k], 0);
    expect(sum(op('Collection Source'), 'numRecordsOut')).toBe(5);
    expect(sum(op('Double'), 'numRecordsIn')).toBe(5);
    expect(sum(op('Double'), 'numRecordsOut')).toBe(5);
    expect(sum(op('Big'), 'numRecordsIn')).toBe(5);
    expect(sum(op('Big'), 'numRecordsOut')).toBe(3);
    // The task-level figures: records in of the head, records out of the tail.
    const source = samples.find((s) => s.taskName.startsWith('Collection Source'))!;
    expect(source.numRecordsOut).toBe(5);
  });
});

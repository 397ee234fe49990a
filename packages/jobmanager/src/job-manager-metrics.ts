import { MetricLabels as L, MetricNames as N } from '@nimble/runtime';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CheckpointCoordinator } from './checkpoint-coordinator.js';
import type { JobManager } from './job-manager.js';
import { isTerminal } from './job-status.js';

/** The JobManager's Prometheus registry; values are read from the JobManager at scrape time. */
export class JobManagerMetrics {
  readonly registry = new Registry();

  constructor(jm: JobManager) {
    collectDefaultMetrics({ register: this.registry, prefix: 'nimble_jobmanager_' });
    const registers = [this.registry];
    new Gauge({
      name: N.jmNumRegisteredTaskManagers,
      help: 'TaskManagers registered at the JobManager.',
      registers,
      collect() {
        this.set(jm.registry.all().length);
      },
    });
    new Gauge({
      name: N.jmTaskSlotsTotal,
      help: 'Task slots of all registered TaskManagers.',
      registers,
      collect() {
        this.set(jm.registry.slotsTotal());
      },
    });
    new Gauge({
      name: N.jmTaskSlotsAvailable,
      help: 'Free task slots.',
      registers,
      collect() {
        this.set(jm.registry.slotsFree());
      },
    });
    new Gauge({
      name: N.jmNumRunningJobs,
      help: 'Jobs that have not ended.',
      registers,
      collect() {
        this.set([...jm.jobs.values()].filter((j) => !isTerminal(j.status)).length);
      },
    });
    new Gauge({
      name: N.jobNumRestarts,
      help: 'Restarts of the job since it was submitted.',
      labelNames: [L.jobId, L.jobName],
      registers,
      collect() {
        this.reset();
        for (const j of jm.jobs.values())
          this.set({ [L.jobId]: j.jobId, [L.jobName]: j.name }, j.numRestarts);
      },
    });
    new Gauge({
      name: N.jobUptime,
      help: 'Milliseconds the job has been running (0 once it ended).',
      labelNames: [L.jobId, L.jobName],
      registers,
      collect() {
        this.reset();
        for (const j of jm.jobs.values()) {
          const since = j.timestamps.RUNNING;
          const up = j.status === 'RUNNING' && since ? Date.now() - since : 0;
          this.set({ [L.jobId]: j.jobId, [L.jobName]: j.name }, up);
        }
      },
    });
    // Flink's checkpointing metrics of the job scope; savepoints count as checkpoints there too.
    const checkpointGauge = (
      name: string,
      help: string,
      value: (c: CheckpointCoordinator) => number,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames: [L.jobId, L.jobName],
        registers,
        collect() {
          this.reset();
          for (const j of jm.jobs.values())
            this.set({ [L.jobId]: j.jobId, [L.jobName]: j.name }, value(j.checkpoints));
        },
      });
    };
    checkpointGauge(
      N.jobLastCheckpointDuration,
      'Milliseconds the latest completed checkpoint took from trigger to completion.',
      (c) => c.lastDurationMs,
    );
    checkpointGauge(
      N.jobLastCheckpointSize,
      'Bytes of state the latest completed checkpoint wrote.',
      (c) => c.lastSizeBytes,
    );
    checkpointGauge(
      N.jobNumberOfCompletedCheckpoints,
      'Checkpoints and savepoints completed since the job was submitted.',
      (c) => c.counts.completed,
    );
    checkpointGauge(
      N.jobNumberOfFailedCheckpoints,
      'Checkpoints and savepoints that failed since the job was submitted.',
      (c) => c.counts.failed,
    );
    checkpointGauge(
      N.jobNumberOfInProgressCheckpoints,
      'Checkpoints in progress (0 or 1: one at a time).',
      (c) => c.inProgress,
    );
  }
}

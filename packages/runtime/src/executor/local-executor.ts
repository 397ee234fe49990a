import type { ConfigValue, JobExecutionResult, Pipeline, PipelineExecutor } from '@nimble/api';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { parseExecutionConfiguration } from '../config.js';
import { buildJobGraph, describeJobGraph } from '../graph/job-graph.js';
import type { JobGraph } from '../graph/job-graph.js';
import { TaskHost } from '../task/task-host.js';
import type { ProcessingTimeService } from '../timers/processing-time-service.js';
import { SystemProcessingTimeService } from '../timers/processing-time-service.js';
import { JobCoordinator } from './job-coordinator.js';
import { graphDigestOf } from './graph-digest.js';
import { SlotWorkerHandle } from './slot-worker-handle.js';
import type { SlotWorkerData } from './worker-protocol.js';

/** How a {@link LocalExecutor} runs a job. */
export interface LocalExecutorOptions {
  /**
   * Run each slot on its own worker thread (so parallelism p uses p cores). Workers load the job
   * module to get the user's functions, so `jobModule` is needed. `'auto'` (default): threads when
   * the module is known and the job needs more than one slot.
   */
  readonly threads?: boolean | 'auto';
  /** Path of the module that builds the job (its entry point). */
  readonly jobModule?: string;
  /** Configuration that overrides the job's own (Flink's keys). */
  readonly configuration?: Record<string, ConfigValue>;
  /** Clock for timers and TTL; a manual clock makes tests deterministic (single thread only). */
  readonly processingTimeService?: ProcessingTimeService;
  /** Where `print()` writes; process.stdout by default. */
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /**
   * Cancels the job when aborted: its tasks are cancelled and `execute` rejects. The SQL client
   * uses it to stop a query on Ctrl-C.
   */
  readonly signal?: AbortSignal;
}

/**
 * Runs a job's parallel subtasks in this process (Flink's local environment), with the same task
 * code a TaskManager runs: in one thread, or one worker thread per slot.
 */
export class LocalExecutor implements PipelineExecutor {
  constructor(private readonly options: LocalExecutorOptions = {}) {}

  async execute(userPipeline: Pipeline): Promise<JobExecutionResult> {
    this.options.signal?.throwIfAborted();
    const pipeline: Pipeline = {
      ...userPipeline,
      configuration: { ...userPipeline.configuration, ...this.options.configuration },
    };
    const config = parseExecutionConfiguration(pipeline.configuration);
    const graph = buildJobGraph(pipeline);
    const jobId = randomBytes(16).toString('hex');
    const base = config.tmpDirs || tmpdir();
    const localStateDir = mkdtempSync(join(base, `nimble-${jobId.slice(0, 8)}-`));
    const out = {
      stdout: this.options.stdout ?? ((t: string) => void process.stdout.write(t)),
      stderr: this.options.stderr ?? ((t: string) => void process.stderr.write(t)),
    };
    const coordinator = new JobCoordinator(graph, out);
    const signal = this.options.signal;
    const cancel = (): void =>
      coordinator.fail(new Error(`The job ${JSON.stringify(pipeline.jobName)} was cancelled`));
    signal?.addEventListener('abort', cancel, { once: true });
    const started = Date.now();
    const useThreads =
      this.options.threads === true ||
      (this.options.threads !== false &&
        this.options.jobModule !== undefined &&
        graph.slotsRequired > 1);
    try {
      if (useThreads) {
        if (!this.options.jobModule) {
          throw new Error(
            'LocalExecutor: threads need the job module (jobModule) to load the job in each worker',
          );
        }
        await this.runOnWorkers(
          pipeline,
          graph,
          coordinator,
          localStateDir,
          resolve(this.options.jobModule),
        );
      } else {
        await this.runInThread(graph, config, coordinator, localStateDir);
      }
    } finally {
      signal?.removeEventListener('abort', cancel);
      await coordinator.closeEnumerators();
      rmSync(localStateDir, { recursive: true, force: true });
    }
    return {
      jobId,
      jobName: pipeline.jobName,
      netRuntimeMs: Date.now() - started,
      collected: coordinator.collectedResults(),
    };
  }

  private async runInThread(
    graph: JobGraph,
    config: ReturnType<typeof parseExecutionConfiguration>,
    coordinator: JobCoordinator,
    localStateDir: string,
  ): Promise<void> {
    const host = new TaskHost({
      graph,
      config,
      attemptNumber: 0,
      slot: 0,
      allSlots: true,
      ports: new Map(),
      processingTimeService:
        this.options.processingTimeService ?? new SystemProcessingTimeService(),
      localStateDir,
      events: coordinator,
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
  }

  private async runOnWorkers(
    pipeline: Pipeline,
    graph: JobGraph,
    coordinator: JobCoordinator,
    localStateDir: string,
    jobModule: string,
  ): Promise<void> {
    const slots = graph.slotsRequired;
    const ports: Record<number, MessagePort>[] = Array.from({ length: slots }, () => ({}));
    for (let a = 0; a < slots; a++) {
      for (let b = a + 1; b < slots; b++) {
        const { port1, port2 } = new MessageChannel();
        ports[a]![b] = port1;
        ports[b]![a] = port2;
      }
    }
    const digest = graphDigestOf(describeJobGraph(graph));
    const workers: SlotWorkerHandle[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const data: SlotWorkerData = {
        jobModule,
        jobName: pipeline.jobName,
        configuration: { ...pipeline.configuration },
        graphDigest: digest,
        slot,
        attemptNumber: 0,
        localStateDir,
        ports: ports[slot]!,
        metricsIntervalMs: 0,
      };
      workers.push(
        new SlotWorkerHandle(data, {
          argv: process.argv.slice(2),
          events: {
            readerRegistered: (v, s) => coordinator.readerRegistered(v, s),
            taskFinished: () => coordinator.taskFinished(),
            taskFailed: (v, s, e) => coordinator.taskFailed(v, s, e),
            collect: (id, s, values) => coordinator.collect(id, s, values),
            stdout: (t) => coordinator.stdout(t),
            stderr: (t) => coordinator.stderr(t),
            workerLost: (e) => coordinator.fail(e),
          },
        }),
      );
    }
    try {
      await Promise.all(workers.map((w) => w.deployed));
      coordinator.gateway = {
        assignSplits: (v, s, splits) => workers[s]!.assignSplits(v, s, splits),
        noMoreSplits: (v, s) => workers[s]!.noMoreSplits(v, s),
        cancelAll: () => workers.forEach((w) => w.cancel()),
      };
      await coordinator.startEnumerators();
      for (const w of workers) w.start();
      await coordinator.result;
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
}

import type { ConfigValue, JobExecutionResult, Pipeline, PipelineExecutor } from '@nimble/api';
import type { JobDetails__Output, RpcSecurity } from '@nimble/proto';
import {
  buildJobGraph,
  describeJobGraph,
  graphDigestOf,
  NimbleError,
  parseExecutionConfiguration,
} from '@nimble/runtime';
import { deserialize } from 'node:v8';
import { bundleJob } from './bundle.js';
import { JobManagerClient, TERMINAL_STATES } from './job-manager-client.js';

/** How a {@link ClusterExecutor} submits a job. */
export interface ClusterExecutorOptions {
  /** host:port of the JobManager. */
  readonly jobManagerAddress: string;
  /** The cluster's mutual TLS and the client token, when it has them (docs/security.md). */
  readonly security?: RpcSecurity;
  /** Path of the job module (bundled and shipped to the cluster). */
  readonly jobModule: string;
  /**
   * The job module's bundle ({@link bundleJob}), when the caller made it already: one that
   * submits the same module many times bundles it once. Bundled at each submission otherwise.
   */
  readonly bundle?: Promise<Uint8Array>;
  /** Arguments the job module sees in process.argv on the cluster. */
  readonly programArgs?: readonly string[];
  /** Configuration that overrides the job's own (Flink keys). */
  readonly configuration?: Record<string, ConfigValue>;
  /**
   * Start from this savepoint or retained checkpoint (its directory or `_metadata`, as the
   * JobManager sees it): Flink's `run -s`.
   */
  readonly savepointPath?: string;
  /** Skip savepoint state of operators the job no longer has instead of refusing it (`-n`). */
  readonly allowNonRestoredState?: boolean;
  /** Return once submitted instead of following the job until it ends. */
  readonly detached?: boolean;
  readonly onSubmitted?: (jobId: string) => void;
  readonly onStatus?: (job: JobDetails__Output) => void;
  /** Wraps the long steps (bundling, upload) to show their progress; `nimble run` shows it on a terminal. */
  readonly progress?: <T>(label: string, work: Promise<T>) => Promise<T>;
}

/** The job ended FAILED or CANCELED on the cluster. */
export class JobFailedError extends NimbleError {
  override name = 'JobFailedError';
  constructor(readonly job: JobDetails__Output) {
    const cause = job.failure
      ? `: ${job.failure.name}: ${job.failure.message}`
      : job.statusMessage
        ? `: ${job.statusMessage}`
        : '';
    super(
      `Job ${JSON.stringify(job.name)} (${job.jobId}) ${job.state}${cause}`,
      job.failure?.domain === 'external' ? 'external' : 'user',
    );
    if (job.failure?.stack)
      this.stack = `${this.name}: ${this.message}\nCaused by: ${job.failure.stack}`;
  }
}

/**
 * Submits a job to a JobManager (Flink's remote environment): builds the plan from the
 * pipeline, bundles the job module, submits both, and — unless detached — follows the job until
 * it ends, returning its result like the local executor.
 */
export class ClusterExecutor implements PipelineExecutor {
  /** Id of the submitted job, once submitted. */
  jobId: string | undefined;

  constructor(private readonly options: ClusterExecutorOptions) {}

  async execute(userPipeline: Pipeline): Promise<JobExecutionResult> {
    const configuration: Record<string, string> = {};
    for (const [k, v] of Object.entries({
      ...userPipeline.configuration,
      ...this.options.configuration,
    })) {
      configuration[k] = String(v);
    }
    const pipeline: Pipeline = { ...userPipeline, configuration };
    parseExecutionConfiguration(configuration);
    const description = describeJobGraph(buildJobGraph(pipeline));
    const progress = this.options.progress ?? (<T>(_label: string, work: Promise<T>) => work);
    const bundle = await progress(
      'Bundling the job',
      this.options.bundle ?? bundleJob(this.options.jobModule),
    );
    const client = new JobManagerClient(this.options.jobManagerAddress, this.options.security);
    try {
      const kib = Math.ceil(bundle.length / 1024).toLocaleString('en-US');
      const jobId = await progress(
        `Uploading the job (${kib} KiB)`,
        client.submitJob({
          jobName: pipeline.jobName,
          bundle,
          planJson: JSON.stringify(description),
          graphDigest: graphDigestOf(description),
          configuration,
          programArgs: [...(this.options.programArgs ?? [])],
          savepointPath: this.options.savepointPath ?? '',
          allowNonRestoredState: this.options.allowNonRestoredState ?? false,
        }),
      );
      this.jobId = jobId;
      this.options.onSubmitted?.(jobId);
      if (this.options.detached) {
        return {
          jobId,
          jobName: pipeline.jobName,
          netRuntimeMs: 0,
          collected: new Map(),
          detached: true,
        };
      }
      for await (const event of client.watchJob(jobId)) {
        const job = event.job!;
        this.options.onStatus?.(job);
        if (job.state === 'SUSPENDED') {
          throw new Error(
            `Job ${JSON.stringify(job.name)} (${jobId}) was suspended: the JobManager shut down. ` +
              'The next JobManager on the same job store (blob.storage.directory) recovers it ' +
              'from its latest checkpoint.',
          );
        }
        if (!TERMINAL_STATES.has(job.state)) continue;
        if (job.state !== 'FINISHED') throw new JobFailedError(job);
        const collected = new Map<string, unknown[]>();
        for (const [id, bytes] of Object.entries(event.result?.collected ?? {})) {
          collected.set(id, deserialize(bytes) as unknown[]);
        }
        return {
          jobId,
          jobName: pipeline.jobName,
          netRuntimeMs: event.result?.netRuntimeMs ?? 0,
          collected,
        };
      }
      throw new Error(`The JobManager stopped reporting on job ${jobId} before it ended`);
    } finally {
      client.close();
    }
  }
}

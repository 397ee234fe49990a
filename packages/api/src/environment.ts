import { CollectionSource } from './collection-source.js';
import type { Source } from './connector.js';
import type { StreamEnvironmentHandle } from './datastream.js';
import { DataStreamSource } from './datastream.js';
import type { GlobalJobParameters } from './job-parameters.js';
import { decodeJobParameters, encodeJobParameters, ParameterTool } from './job-parameters.js';
import type { Transformation } from './transformation.js';
import { SourceTransformation } from './transformation.js';
import { WatermarkStrategy } from './watermark.js';

/** A configuration value: Flink's keys, e.g. `state.backend.type: level`. */
export type ConfigValue = string | number | boolean;

/** What an executor is given to run. */
export interface Pipeline {
  /** The job's name. */
  readonly jobName: string;
  /** The sinks and other terminal transformations; everything reachable from them runs. */
  readonly sinks: readonly Transformation<unknown>[];
  /** Environment settings with Flink's keys (parallelism.default, pipeline.max-parallelism, ...). */
  readonly configuration: Readonly<Record<string, ConfigValue>>;
}

/** The outcome of a finished job. */
export interface JobExecutionResult {
  readonly jobId: string;
  readonly jobName: string;
  /** Wall time from start to end, in ms. */
  readonly netRuntimeMs: number;
  /** Elements gathered by `executeAndCollect` sinks, by collect id. */
  readonly collected: ReadonlyMap<string, unknown[]>;
  /**
   * The job was submitted without waiting for its end (`nimble run -d`): it is still running,
   * and nothing of its outcome is known yet.
   */
  readonly detached?: boolean;
}

/**
 * Runs pipelines. `@nimble/runtime` installs a local one; the `nimble` CLI and TaskManagers install
 * their own before loading a job module, so the same job file runs locally or on a cluster.
 */
export interface PipelineExecutor {
  execute(pipeline: Pipeline): Promise<JobExecutionResult>;
}

/**
 * Hears of the jobs an environment executes (Flink's `JobListener`). `onJobExecuted` runs in the
 * process that called `execute()`, after the job ended and before `execute()` returns; `execute()`
 * awaits it, and an error it throws rejects `execute()`. Tools that finish work once a bounded job
 * is done (writing a savepoint's `_metadata`) hook in here.
 */
export interface JobListener {
  /** The job ended: `result` when it finished, `error` when it failed or could not start. */
  onJobExecuted(
    result: JobExecutionResult | undefined,
    error: unknown | undefined,
  ): Promise<void> | void;
}

const EXECUTOR = Symbol.for('nimble.pipeline-executor');
type ExecutorHolder = { [EXECUTOR]?: PipelineExecutor };

/** Installs the executor that `execute()` uses, replacing any other. @internal */
export function installPipelineExecutor(executor: PipelineExecutor | undefined): void {
  (globalThis as ExecutorHolder)[EXECUTOR] = executor;
}

/** The installed executor, if any. @internal */
export function installedPipelineExecutor(): PipelineExecutor | undefined {
  return (globalThis as ExecutorHolder)[EXECUTOR];
}

/** Settings of how a job executes (Flink's `ExecutionConfig`), backed by the environment's configuration. */
export class ExecutionConfig {
  /** @internal */
  constructor(private readonly conf: Record<string, ConfigValue>) {}
  /** How often sources call `onPeriodicEmit` on watermark generators, in ms (default 200). */
  setAutoWatermarkInterval(ms: number): this {
    this.conf['pipeline.auto-watermark-interval'] = ms;
    return this;
  }
  /** The watermark interval in ms. */
  getAutoWatermarkInterval(): number {
    return Number(this.conf['pipeline.auto-watermark-interval'] ?? 200);
  }
  /**
   * Registers parameters every function can read with
   * `getRuntimeContext().getGlobalJobParameters()`, typically a {@link ParameterTool}. They travel
   * in the job's configuration (`pipeline.global-job-parameters`), so the TaskManagers see them
   * too; only their `toMap()` is kept.
   */
  setGlobalJobParameters(parameters: GlobalJobParameters): this {
    this.conf['pipeline.global-job-parameters'] = encodeJobParameters(parameters.toMap());
    return this;
  }
  /** The job parameters as a {@link ParameterTool} (empty when none were set). */
  getGlobalJobParameters(): ParameterTool {
    const text = this.conf['pipeline.global-job-parameters'];
    return ParameterTool.fromMap(text === undefined ? {} : decodeJobParameters(String(text)));
  }
}

/** What happens to retained checkpoints when the job is cancelled (Flink's `ExternalizedCheckpointRetention`). */
export enum ExternalizedCheckpointRetention {
  DELETE_ON_CANCELLATION = 'DELETE_ON_CANCELLATION',
  RETAIN_ON_CANCELLATION = 'RETAIN_ON_CANCELLATION',
  NO_EXTERNALIZED_CHECKPOINTS = 'NO_EXTERNALIZED_CHECKPOINTS',
}

/** Checkpoint settings (Flink's `CheckpointConfig`), backed by the environment's configuration. */
export class CheckpointConfig {
  /** @internal */
  constructor(private readonly conf: Record<string, ConfigValue>) {}
  /** The checkpoint interval in ms (0: checkpointing is disabled). */
  getCheckpointInterval(): number {
    return Number(this.conf['execution.checkpointing.interval'] ?? 0);
  }
  isCheckpointingEnabled(): boolean {
    return this.getCheckpointInterval() > 0;
  }
  /** Aborts a checkpoint that takes longer than `ms` (default 10 min). */
  setCheckpointTimeout(ms: number): this {
    this.conf['execution.checkpointing.timeout'] = positive('setCheckpointTimeout', ms);
    return this;
  }
  /** Least time between the end of a checkpoint and the start of the next (default 0). */
  setMinPauseBetweenCheckpoints(ms: number): this {
    this.conf['execution.checkpointing.min-pause'] = nonNegative(
      'setMinPauseBetweenCheckpoints',
      ms,
    );
    return this;
  }
  /** Checkpoints in progress at once; only 1 is supported (aligned checkpoints). */
  setMaxConcurrentCheckpoints(n: number): this {
    this.conf['execution.checkpointing.max-concurrent-checkpoints'] = positive(
      'setMaxConcurrentCheckpoints',
      n,
    );
    return this;
  }
  /** Consecutive checkpoint failures tolerated before the job fails over (default 0). */
  setTolerableCheckpointFailureNumber(n: number): this {
    this.conf['execution.checkpointing.tolerable-failed-checkpoints'] = nonNegative(
      'setTolerableCheckpointFailureNumber',
      n,
    );
    return this;
  }
  /** Where checkpoints are written: `file:///path` or `s3://bucket/prefix`. */
  setCheckpointStorage(uri: string): this {
    this.conf['state.checkpoints.dir'] = uri;
    return this;
  }
  /** Whether retained checkpoints survive a cancellation. */
  setExternalizedCheckpointRetention(retention: ExternalizedCheckpointRetention): this {
    this.conf['execution.checkpointing.externalized-checkpoint-retention'] = retention;
    return this;
  }
  /** Completed checkpoints to keep (default 1). */
  setNumRetainedCheckpoints(n: number): this {
    this.conf['state.checkpoints.num-retained'] = positive('setNumRetainedCheckpoints', n);
    return this;
  }
}

function positive(method: string, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`${method}: must be a positive integer; got ${n}`);
  return n;
}
function nonNegative(method: string, n: number): number {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`${method}: must be an integer >= 0; got ${n}`);
  return n;
}

/**
 * The context in which a job is built and executed (Flink's `StreamExecutionEnvironment`).
 *
 * ```ts
 * const env = StreamExecutionEnvironment.getExecutionEnvironment();
 * env.setParallelism(4);
 * env.fromSource(source, WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(5)), 'events')
 *   .keyBy((e) => e.userId)
 *   ...
 * await env.execute('my-job');
 * ```
 */
export class StreamExecutionEnvironment {
  private readonly sinks: Transformation<unknown>[] = [];
  private readonly jobListeners: JobListener[] = [];
  private readonly configuration: Record<string, ConfigValue> = {};
  private readonly config = new ExecutionConfig(this.configuration);
  private readonly checkpointConfig = new CheckpointConfig(this.configuration);
  private nextId = 1;
  private readonly handle: StreamEnvironmentHandle = {
    newId: () => this.nextId++,
    addOperator: (t) => {
      this.sinks.push(t);
    },
    executeAndCollect: async (jobName, collectId) => {
      const result = await this.execute(jobName);
      return result.collected.get(collectId) ?? [];
    },
  };

  /** A new environment; configuration entries use Flink's keys. */
  constructor(configuration: Record<string, ConfigValue> = {}) {
    Object.assign(this.configuration, configuration);
  }

  /** The environment of the current context (local, or the cluster when submitted with `nimble run`). */
  static getExecutionEnvironment(
    configuration: Record<string, ConfigValue> = {},
  ): StreamExecutionEnvironment {
    return new StreamExecutionEnvironment(configuration);
  }

  /** Sets the default parallelism of operators. */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new RangeError(
        `setParallelism: parallelism must be a positive integer; got ${parallelism}`,
      );
    }
    this.configuration['parallelism.default'] = parallelism;
    return this;
  }
  /** The default parallelism (1 unless set). */
  getParallelism(): number {
    return Number(this.configuration['parallelism.default'] ?? 1);
  }
  /** Sets the number of key groups (default 128): the upper bound of keyed operators' parallelism. */
  setMaxParallelism(maxParallelism: number): this {
    if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > 32768) {
      throw new RangeError(
        `setMaxParallelism: must be an integer in [1, 32768]; got ${maxParallelism}`,
      );
    }
    this.configuration['pipeline.max-parallelism'] = maxParallelism;
    return this;
  }
  /** The max parallelism (128 unless set). */
  getMaxParallelism(): number {
    return Number(this.configuration['pipeline.max-parallelism'] ?? 128);
  }
  /** Chooses the keyed state backend: `hashmap` (JS heap) or `level` (embedded LevelDB on disk). */
  setStateBackend(kind: 'hashmap' | 'level'): this {
    this.configuration['state.backend.type'] = kind;
    return this;
  }
  /** Sets configuration entries with Flink's keys, e.g. `{ 'execution.buffer-timeout': 5 }`. */
  configure(entries: Record<string, ConfigValue>): this {
    Object.assign(this.configuration, entries);
    return this;
  }
  /** The execution config. */
  getConfig(): ExecutionConfig {
    return this.config;
  }
  /**
   * Takes a checkpoint every `intervalMs` (Chandy–Lamport barriers, exactly-once state); after a
   * failure the job resumes from the latest completed checkpoint.
   */
  enableCheckpointing(intervalMs: number): this {
    this.configuration['execution.checkpointing.interval'] = positive(
      'enableCheckpointing',
      intervalMs,
    );
    return this;
  }
  /** The checkpoint settings. */
  getCheckpointConfig(): CheckpointConfig {
    return this.checkpointConfig;
  }

  /** A stream read from `source`, with timestamps and watermarks from `watermarkStrategy`. */
  fromSource<T>(
    source: Source<T, any, any>,
    watermarkStrategy: WatermarkStrategy<T>,
    sourceName: string,
  ): DataStreamSource<T> {
    if (!source || typeof source.createReader !== 'function') {
      throw new TypeError(
        `fromSource(${JSON.stringify(sourceName)}): not a Source (it needs createReader and createEnumerator)`,
      );
    }
    const t = new SourceTransformation<T>(this.nextId++, sourceName, source, watermarkStrategy);
    return new DataStreamSource<T>(this.handle, t);
  }
  /** A bounded stream of the given elements, read with parallelism 1. */
  fromElements<T>(...elements: T[]): DataStreamSource<T> {
    return this.fromCollection(elements);
  }
  /** A bounded stream of the collection's elements, read with parallelism 1. */
  fromCollection<T>(elements: Iterable<T>): DataStreamSource<T> {
    const stream = this.fromSource(
      new CollectionSource([...elements]),
      WatermarkStrategy.noWatermarks<T>(),
      'Collection Source',
    );
    stream.setParallelism(1);
    return stream;
  }

  /** Registers a listener that hears of every job this environment executes (Flink's `registerJobListener`). */
  registerJobListener(listener: JobListener): this {
    this.jobListeners.push(listener);
    return this;
  }
  /** Removes every registered job listener. */
  clearJobListeners(): this {
    this.jobListeners.length = 0;
    return this;
  }

  /** The pipeline built so far. */
  getPipeline(jobName = 'Nimble Streaming Job'): Pipeline {
    return { jobName, sinks: [...this.sinks], configuration: { ...this.configuration } };
  }

  /** Runs the job with the installed executor; resolves when a bounded job finishes. */
  /** How many sinks the job has so far: a mark for {@link executeSinksSince}. @internal */
  sinkMark(): number {
    return this.sinks.length;
  }

  /**
   * Runs the sinks added since `mark` as a job of their own and takes them out of this
   * environment, so a later `execute()` does not run them again: what SQL's `executeSql` does
   * for a statement over tables made from this environment's streams. @internal
   */
  async executeSinksSince(mark: number, jobName: string): Promise<JobExecutionResult> {
    const sinks = this.sinks.splice(mark);
    if (sinks.length === 0) throw new Error('executeSinksSince: no sink was added after the mark');
    const executor = installedPipelineExecutor();
    if (executor === undefined) {
      throw new Error(
        'No executor is installed to run this job. Import "@nimble/runtime/local" in the job module to run it ' +
          'locally (tsx job.ts), or submit it with `nimble run job.ts`.',
      );
    }
    return executor.execute({ jobName, sinks, configuration: { ...this.configuration } });
  }

  async execute(jobName = 'Nimble Streaming Job'): Promise<JobExecutionResult> {
    if (this.sinks.length === 0) {
      throw new Error(
        'No operators defined in streaming topology: add a sink (sinkTo, print) before execute()',
      );
    }
    const executor = installedPipelineExecutor();
    if (executor === undefined) {
      throw new Error(
        'No executor is installed to run this job. Import "@nimble/runtime/local" in the job module to run it ' +
          'locally (tsx job.ts), or submit it with `nimble run job.ts`.',
      );
    }
    const pipeline = this.getPipeline(jobName);
    let result: JobExecutionResult;
    try {
      result = await executor.execute(pipeline);
    } catch (e) {
      for (const l of this.jobListeners) await l.onJobExecuted(undefined, e);
      throw e;
    }
    for (const l of this.jobListeners) await l.onJobExecuted(result, undefined);
    return result;
  }
}

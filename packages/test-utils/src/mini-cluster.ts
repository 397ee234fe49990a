import type {
  ConfigValue,
  DataStream,
  JobExecutionResult,
  Pipeline,
  PipelineExecutor,
} from '@nimble/api';
import {
  installedPipelineExecutor,
  installPipelineExecutor,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalExecutor, ManualProcessingTimeService } from '@nimble/runtime';

/** How a {@link MiniCluster} runs jobs. */
export interface MiniClusterOptions {
  /** Default parallelism of the jobs' operators (`parallelism.default`) unless a job sets its own. Default 1. */
  readonly parallelism?: number;
  /**
   * The processing-time clock of every job (timers and state TTL). Default: a manual clock at 0,
   * which never moves unless the test moves it; processing time then stays where it is for the
   * whole run. Pass `'system'` for the wall clock.
   */
  readonly clock?: ManualProcessingTimeService | 'system';
  /** Configuration applied over each job's own (Flink's keys, e.g. `state.backend.type`). */
  readonly configuration?: Record<string, ConfigValue>;
}

/** The elements a job gave to a stream, read after the job ran (see {@link MiniCluster.collect}). */
export interface CollectedStream<T> {
  /** The stream's elements of the last job this cluster ran, in the order each subtask produced them. */
  readonly values: T[];
}

/**
 * Runs jobs in this process for tests (Flink's `MiniCluster`, as `MiniClusterExtension` gives it
 * to JUnit tests): every subtask of a job runs on the test's thread with the same task code as on
 * a TaskManager, with a manual processing-time clock by default, and the elements of chosen
 * streams are collected.
 *
 * While started, `env.execute()` of any environment runs on this cluster, so a job module's own
 * `main` code runs unchanged under it.
 *
 * ```ts
 * const cluster = new MiniCluster({ parallelism: 2 });
 * beforeAll(() => cluster.start());
 * afterAll(() => cluster.close());
 *
 * it('counts', async () => {
 *   const env = cluster.getExecutionEnvironment();
 *   const counts = cluster.collect(env.fromCollection([1, 2, 3]).map((x) => x * 2));
 *   await env.execute('doubles');
 *   expect(counts.values).toEqual([2, 4, 6]);
 * });
 * ```
 */
export class MiniCluster {
  /** The processing-time clock of the jobs; undefined with `clock: 'system'`. */
  readonly clock: ManualProcessingTimeService | undefined;
  private previous: PipelineExecutor | undefined;
  private started = false;
  private lastResult: JobExecutionResult | undefined;
  private runs = 0;
  private readonly executor: PipelineExecutor;

  constructor(private readonly options: MiniClusterOptions = {}) {
    const parallelism = options.parallelism ?? 1;
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new RangeError(
        `MiniCluster: parallelism must be a positive integer; got ${parallelism}`,
      );
    }
    this.clock =
      options.clock === 'system'
        ? undefined
        : (options.clock ?? new ManualProcessingTimeService(0));
    const local = new LocalExecutor({
      // One thread: the test's functions and clock are shared with the job, and runs are repeatable.
      threads: false,
      configuration: options.configuration,
      processingTimeService: this.clock,
      stdout: (t) => void process.stdout.write(t),
    });
    this.executor = {
      execute: async (pipeline: Pipeline) => {
        this.lastResult = undefined;
        // The cluster's parallelism is the default; a job's own setting wins.
        const result = await local.execute({
          ...pipeline,
          configuration: { 'parallelism.default': parallelism, ...pipeline.configuration },
        });
        this.lastResult = result;
        return result;
      },
    };
  }

  /** Makes this cluster the executor of `env.execute()` (until {@link close}). */
  start(): void {
    if (this.started) return;
    this.previous = installedPipelineExecutor();
    installPipelineExecutor(this.executor);
    this.started = true;
  }

  /** Restores the executor that was installed before {@link start}. */
  close(): void {
    if (!this.started) return;
    installPipelineExecutor(this.previous);
    this.started = false;
  }

  /** A new environment whose `execute()` runs on this cluster (as `StreamExecutionEnvironment.getExecutionEnvironment()` while started). */
  getExecutionEnvironment(
    configuration: Record<string, ConfigValue> = {},
  ): StreamExecutionEnvironment {
    if (!this.started) throw new Error('MiniCluster: call start() before building jobs');
    return StreamExecutionEnvironment.getExecutionEnvironment(configuration);
  }

  /**
   * Collects the elements of `stream` (a sink on it, like Flink's `CollectSink` in tests); read
   * them from `values` once the job's `execute()` returned.
   */
  collect<T>(stream: DataStream<T>): CollectedStream<T> {
    const id = stream.addCollectSink();
    const read = (): T[] => (this.lastResult?.collected.get(id) ?? []) as T[];
    return {
      get values(): T[] {
        return read();
      },
    };
  }

  /**
   * Runs a job module (a file that builds a job and calls `env.execute()`, as `nimble run`
   * takes) on this cluster and returns its result.
   */
  async runJobModule(path: string): Promise<JobExecutionResult> {
    if (!this.started) throw new Error('MiniCluster: call start() before running a job module');
    this.lastResult = undefined;
    // A fresh URL per run: a module imported before runs again.
    await import(`${pathToFileURL(resolve(path)).href}?run=${++this.runs}`);
    if (this.lastResult === undefined)
      throw new Error(`MiniCluster: the job module ${path} did not execute a job`);
    return this.lastResult;
  }
}

/** An element of a test stream with its event timestamp, or an explicit watermark. */
export type TimedElement<T> = { readonly value: T; readonly timestamp: number } | Watermarked;
/** A watermark among the elements of {@link fromTimedElements}. */
export interface Watermarked {
  readonly watermark: number;
}

/** `value` at event time `timestamp`, for {@link fromTimedElements}. */
export function record<T>(value: T, timestamp: number): TimedElement<T> {
  return { value, timestamp };
}

/** A watermark of `watermark`, emitted right after the element before it, for {@link fromTimedElements}. */
export function watermark(watermark: number): TimedElement<never> {
  return { watermark };
}

/**
 * A bounded stream of `elements` with their event timestamps and exactly the watermarks listed
 * (then the end of input's), read by one subtask in this order whatever the job's parallelism:
 * window firings and late elements are the same on every run. Built of the job's own parts
 * (`fromCollection` and a `WatermarkStrategy` whose generator emits the listed watermarks).
 */
export function fromTimedElements<T>(
  env: StreamExecutionEnvironment,
  elements: readonly TimedElement<T>[],
): DataStream<T> {
  return withTimedElements(
    env
      .fromCollection(elements as TimedElement<T>[])
      .setParallelism(1)
      .name('Timed elements'),
  );
}

/** Timestamps and the listed watermarks of a stream of timed elements, then their values. @internal */
export function withTimedElements<T>(input: DataStream<TimedElement<T>>): DataStream<T> {
  return input
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forGenerator<TimedElement<T>>(() => ({
        // A marker emits its watermark after it went downstream; the filter below drops it.
        onEvent: (e, _ts, output) => {
          if ('watermark' in e) output.emitWatermark(e.watermark);
        },
        onPeriodicEmit: () => {},
      })).withTimestampAssigner((e) => ('watermark' in e ? e.watermark : e.timestamp)),
    )
    .setParallelism(1)
    .filter((e) => !('watermark' in e))
    .setParallelism(1)
    .map((e) => (e as { value: T }).value)
    .setParallelism(1);
}

import type { ConfigValue } from '@nimble/api';
import { decodeJobParameters } from '@nimble/api';
import { ClusterOptions } from './cluster-options.js';
import type { ConfigOption } from './config-option.js';
import {
  boolOption,
  closestConfigKey,
  durationOption,
  enumOption,
  intOption,
  sizeOption,
  stringOption,
} from './config-option.js';
import { JobDefinitionError } from './errors.js';
import type { ParallelismOverrides } from './graph/parallelism-overrides.js';
import {
  PARALLELISM_OVERRIDES_KEY,
  parseParallelismOverrides,
} from './graph/parallelism-overrides.js';
import {
  DEFAULT_READ_CACHE_SIZE,
  LEVEL_CACHE_SIZE_KEY,
} from './state/keyed-state-backend-options.js';

/** The options a job's execution reads, with Flink's keys. */
export const ExecutionOptions = {
  parallelism: intOption('parallelism.default', 1, 'Default parallelism of operators.', {
    min: 1,
  }),
  maxParallelism: intOption(
    'pipeline.max-parallelism',
    128,
    'Number of key groups; upper bound of keyed parallelism.',
    { min: 1 },
  ),
  parallelismOverrides: {
    key: PARALLELISM_OVERRIDES_KEY,
    defaultValue: new Map() as ParallelismOverrides,
    description:
      'Parallelism per job vertex, `<vertexId>:<parallelism>` pairs separated by commas: set by ' +
      'the JobManager when it rescales a job (docs/scaling.md), applied on top of the plan.',
    parse: (value: ConfigValue): ParallelismOverrides => parseParallelismOverrides(value),
  } satisfies ConfigOption<ParallelismOverrides>,
  jobName: stringOption('pipeline.name', 'Nimble Streaming Job', 'The job name.'),
  operatorChaining: boolOption(
    'pipeline.operator-chaining',
    true,
    'Whether forward-connected operators of equal parallelism are chained.',
  ),
  alignedWindows: boolOption(
    'execution.window.aligned-fast-path',
    true,
    'Whether tumbling and sliding event-time windows that reduce or aggregate with the default ' +
      'trigger run on the aligned window operator (one state entry per key, firing by window end); ' +
      'false runs every window on the general window operator. Results and savepoints are the same.',
  ),
  autoWatermarkInterval: durationOption(
    'pipeline.auto-watermark-interval',
    200,
    'How often sources emit periodic watermarks (ms).',
  ),
  globalJobParameters: {
    key: 'pipeline.global-job-parameters',
    defaultValue: Object.freeze({}) as Readonly<Record<string, string>>,
    description:
      'Parameters every function reads with getRuntimeContext().getGlobalJobParameters(): ' +
      "key:value pairs separated by commas (Flink's map format; quote a key or value holding : or , in single quotes).",
    parse: (value: ConfigValue): Readonly<Record<string, string>> =>
      Object.freeze(decodeJobParameters(String(value))),
  } satisfies ConfigOption<Readonly<Record<string, string>>>,
  bufferTimeout: durationOption(
    'execution.buffer-timeout',
    5,
    'Longest time a record waits in a network buffer before it is sent (ms); 0 sends after every batch. ' +
      'Flink defaults to 100 ms; Nimble to 5 ms because freshness matters more for feature pipelines.',
  ),
  segmentSize: sizeOption(
    'taskmanager.memory.segment-size',
    32 * 1024,
    'Size of a network buffer.',
  ),
  buffersPerChannel: intOption(
    'taskmanager.network.memory.buffers-per-channel',
    4,
    'Buffers a producer may send ahead on each channel (the credit).',
    { min: 1 },
  ),
  stateBackend: enumOption(
    'state.backend.type',
    ['hashmap', 'level'] as const,
    'hashmap',
    'Keyed state backend: hashmap (JS heap) or level (LevelDB on local disk).',
  ),
  tmpDirs: stringOption(
    'io.tmp.dirs',
    '',
    'Directory for local state (LevelDB); the OS temp directory when empty.',
  ),
  checkpointingInterval: durationOption(
    'execution.checkpointing.interval',
    0,
    'Interval of periodic checkpoints (ms); 0 disables checkpointing (the default, as in Flink).',
  ),
  checkpointingTimeout: durationOption(
    'execution.checkpointing.timeout',
    10 * 60_000,
    'A checkpoint not complete after this long is aborted and counts as failed (ms).',
  ),
  checkpointingMinPause: durationOption(
    'execution.checkpointing.min-pause',
    0,
    'Least time between the end of one checkpoint and the start of the next (ms).',
  ),
  checkpointingMaxConcurrent: intOption(
    'execution.checkpointing.max-concurrent-checkpoints',
    1,
    'Checkpoints in progress at once; Nimble supports 1 (aligned checkpoints, one at a time).',
    { min: 1, max: 1 },
  ),
  unalignedCheckpoints: boolOption(
    'execution.checkpointing.unaligned.enabled',
    false,
    'Whether checkpoints are unaligned: barriers overtake in-flight buffers, which are persisted ' +
      'with the checkpoint and replayed on restore. Savepoints are always aligned.',
  ),
  alignedCheckpointTimeout: durationOption(
    'execution.checkpointing.aligned-checkpoint-timeout',
    0,
    'With unaligned checkpoints enabled: a checkpoint starts aligned and turns unaligned when its ' +
      'alignment has not ended this long after the trigger (ms); 0 takes every checkpoint unaligned at once.',
  ),
  tolerableCheckpointFailures: intOption(
    'execution.checkpointing.tolerable-failed-checkpoints',
    0,
    'Consecutive checkpoint failures tolerated before the job fails over.',
    { min: 0 },
  ),
  checkpointsRetained: intOption(
    'state.checkpoints.num-retained',
    1,
    'Completed checkpoints kept; older ones are discarded when subsumed.',
    { min: 1 },
  ),
  externalizedCheckpointRetention: enumOption(
    'execution.checkpointing.externalized-checkpoint-retention',
    ['delete_on_cancellation', 'retain_on_cancellation', 'no_externalized_checkpoints'] as const,
    'delete_on_cancellation',
    'Whether the retained checkpoints survive a cancellation (RETAIN_ON_CANCELLATION) or are deleted ' +
      '(DELETE_ON_CANCELLATION); they are always kept after a failure.',
  ),
  checkpointsDirectory: stringOption(
    'state.checkpoints.dir',
    '',
    'Where checkpoints are written: file:///path or s3://bucket/prefix; `<os tmp>/nimble-checkpoints` when empty.',
  ),
  savepointsDirectory: stringOption(
    'state.savepoints.dir',
    '',
    'Default target directory of savepoints: file:///path or s3://bucket/prefix.',
  ),
  // Flink has no single key for this: its closest are fs.<scheme>.limit.timeout and
  // fs.<scheme>.limit.stream-timeout of connection-limited file systems.
  stateStorageTimeout: durationOption(
    'state.storage.timeout',
    5 * 60_000,
    'Deadline of each call to checkpoint storage (a write, read, list or delete of one file or ' +
      'object). A call that does not answer in time fails its checkpoint or savepoint.',
    { min: 1 },
  ),
  incrementalCheckpoints: boolOption(
    'state.backend.incremental',
    false,
    'Whether checkpoints of the level backend upload only what changed since the last completed checkpoint.',
  ),
  levelCacheSize: sizeOption(
    LEVEL_CACHE_SIZE_KEY,
    DEFAULT_READ_CACHE_SIZE,
    'Memory each level backend (one per keyed operator subtask) keeps state in: values plus an ' +
      "estimated overhead per entry, like RocksDB's block cache.",
  ),
} as const;

type Options = typeof ExecutionOptions;
/** Parsed execution options. */
export type ExecutionConfiguration = { readonly [K in keyof Options]: Options[K]['defaultValue'] };

const byKey = new Map<string, [keyof Options, ConfigOption<unknown>]>(
  Object.entries(ExecutionOptions).map(([name, option]) => [
    option.key,
    [name as keyof Options, option as ConfigOption<unknown>],
  ]),
);

/**
 * Keys that other parts of Nimble (daemons, connectors) accept; an execution ignores them. The
 * cluster keys are here from the start because a job's configuration may carry them (Flink hands
 * one Configuration to everything), and every thread that parses a job's configuration must
 * accept them, whether or not it loaded the daemons' code.
 */
const foreignKeys = new Set<string>(Object.values(ClusterOptions).map((option) => option.key));

/** Registers keys that belong to another component, so they are not reported as unknown. */
export function registerForeignConfigKeys(keys: readonly string[]): void {
  for (const k of keys) foreignKeys.add(k);
}

/** The keys registered with {@link registerForeignConfigKeys}, cluster keys included. */
export function foreignConfigKeys(): ReadonlySet<string> {
  return foreignKeys;
}

/**
 * Parses a configuration with Flink's keys. An unknown key or a bad value is an error that names
 * the key, the value and what is expected.
 */
export function parseExecutionConfiguration(
  entries: Readonly<Record<string, ConfigValue>>,
): ExecutionConfiguration {
  const result: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(ExecutionOptions)) result[name] = option.defaultValue;
  for (const [key, value] of Object.entries(entries)) {
    const known = byKey.get(key);
    if (!known) {
      if (foreignKeys.has(key)) continue;
      const suggestion = closestConfigKey(key, [...byKey.keys(), ...foreignKeys]);
      throw new JobDefinitionError(
        `Unknown configuration key ${JSON.stringify(key)}` +
          (suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : '.') +
          ` Known execution keys: ${[...byKey.keys()].sort().join(', ')}`,
      );
    }
    try {
      result[known[0]] = known[1].parse(value);
    } catch (e) {
      throw new JobDefinitionError(
        `Bad value ${JSON.stringify(value)} for configuration key ${JSON.stringify(key)}: ${(e as Error).message}`,
      );
    }
  }
  return result as ExecutionConfiguration;
}

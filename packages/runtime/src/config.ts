import type { ConfigValue } from '@nimble/api';
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
  jobName: stringOption('pipeline.name', 'Nimble Streaming Job', 'The job name.'),
  operatorChaining: boolOption(
    'pipeline.operator-chaining',
    true,
    'Whether forward-connected operators of equal parallelism are chained.',
  ),
  autoWatermarkInterval: durationOption(
    'pipeline.auto-watermark-interval',
    200,
    'How often sources emit periodic watermarks (ms).',
  ),
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

import type { ConfigValue } from '@nimble/api';
import { JobDefinitionError } from './errors.js';

/** A configuration option with Flink's key, its default and how to parse it. */
export interface ConfigOption<T> {
  readonly key: string;
  readonly defaultValue: T;
  readonly description: string;
  parse(value: ConfigValue): T;
}

function intOption(
  key: string,
  defaultValue: number,
  min: number,
  description: string,
): ConfigOption<number> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      const n = typeof value === 'number' ? value : Number(String(value).trim());
      if (!Number.isInteger(n) || n < min) throw new Error(`must be an integer >= ${min}`);
      return n;
    },
  };
}

const UNITS: Record<string, number> = {
  ms: 1,
  milli: 1,
  millis: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  min: 60_000,
  h: 3_600_000,
};

function durationOption(
  key: string,
  defaultValue: number,
  description: string,
): ConfigOption<number> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      if (typeof value === 'number') {
        if (value < 0 || !Number.isFinite(value))
          throw new Error('must be a non-negative duration');
        return value;
      }
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(value));
      const unit = m?.[2]?.toLowerCase() || 'ms';
      const factor = UNITS[unit];
      if (!m || factor === undefined)
        throw new Error('must be a duration such as 100, "100 ms", "5 s" or "1 min"');
      return Number(m[1]) * factor;
    },
  };
}

function sizeOption(key: string, defaultValue: number, description: string): ConfigOption<number> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      if (typeof value === 'number') return value;
      const m = /^\s*(\d+)\s*(b|kb|k|mb|m)?\s*$/i.exec(String(value));
      if (!m) throw new Error('must be a size such as 32kb');
      const unit = (m[2] ?? 'b').toLowerCase();
      const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
      return Number(m[1]) * factor;
    },
  };
}

function enumOption<T extends string>(
  key: string,
  values: readonly T[],
  defaultValue: T,
  description: string,
): ConfigOption<T> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      const v = String(value).trim().toLowerCase() as T;
      if (!values.includes(v)) throw new Error(`must be one of ${values.join(', ')}`);
      return v;
    },
  };
}

function boolOption(
  key: string,
  defaultValue: boolean,
  description: string,
): ConfigOption<boolean> {
  return {
    key,
    defaultValue,
    description,
    parse(value) {
      if (typeof value === 'boolean') return value;
      const v = String(value).trim().toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw new Error('must be true or false');
    },
  };
}

function stringOption(
  key: string,
  defaultValue: string,
  description: string,
): ConfigOption<string> {
  return { key, defaultValue, description, parse: (value) => String(value) };
}

/** The options a job's execution reads, with Flink's keys. */
export const ExecutionOptions = {
  parallelism: intOption('parallelism.default', 1, 1, 'Default parallelism of operators.'),
  maxParallelism: intOption(
    'pipeline.max-parallelism',
    128,
    1,
    'Number of key groups; upper bound of keyed parallelism.',
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
    1,
    'Buffers a producer may send ahead on each channel (the credit).',
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

/** Keys that other parts of Nimble (daemons, connectors) accept; an execution ignores them. */
const foreignKeys = new Set<string>();

/** Registers keys that belong to another component, so they are not reported as unknown. */
export function registerForeignConfigKeys(keys: readonly string[]): void {
  for (const k of keys) foreignKeys.add(k);
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
      throw new JobDefinitionError(
        `Unknown configuration key ${JSON.stringify(key)}. Known keys: ${[...byKey.keys()].sort().join(', ')}`,
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

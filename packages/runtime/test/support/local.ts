import type { ConfigValue } from '@nimble/api';
import { installPipelineExecutor, StreamExecutionEnvironment } from '@nimble/api';
import { LocalExecutor } from '../../src/index.js';
import type { LocalExecutorOptions } from '../../src/index.js';

/**
 * A fresh environment whose jobs run on a single-thread LocalExecutor (the same task code as on
 * worker threads), with `configuration` applied (Flink's keys).
 */
export function localEnv(
  configuration: Record<string, ConfigValue> = {},
  options: LocalExecutorOptions = {},
): StreamExecutionEnvironment {
  installPipelineExecutor(new LocalExecutor({ threads: false, stdout: () => {}, ...options }));
  return StreamExecutionEnvironment.getExecutionEnvironment(configuration);
}

/** Sorts JSON-able values by their JSON text, for comparing outputs of parallel runs. */
export function sortedJson<T>(values: T[]): string[] {
  return values.map((v) => JSON.stringify(v)).sort();
}

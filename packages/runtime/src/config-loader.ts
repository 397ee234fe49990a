// Loads a daemon's configuration the way Flink does (docs/configuration.md): the YAML file, then
// NIMBLE_PROPERTIES (Flink's FLINK_PROPERTIES of its Docker image), then `-D key=value`; later
// sources win. Parsing checks every key, so a typo stops the daemon instead of being ignored.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConfigValue } from '@nimble/api';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { ClusterConfiguration } from './cluster-options.js';
import { ClusterOptions } from './cluster-options.js';
import type { ConfigOption } from './config-option.js';
import { closestConfigKey } from './config-option.js';
import { ExecutionOptions, foreignConfigKeys } from './config.js';
import { ConfigurationError } from './errors.js';

/** The file read from `$NIMBLE_CONF_DIR` (Flink 1.19+'s name). */
const CONFIG_FILE_NAME = 'config.yaml';
const CONF_DIR_VARIABLE = 'NIMBLE_CONF_DIR';
const PROPERTIES_VARIABLE = 'NIMBLE_PROPERTIES';
const DYNAMIC_SOURCE = '-D';
/** What {@link LoadedConfiguration.sourceOf} says of a key no source set. */
const DEFAULT_SOURCE = 'default';

/** Where {@link loadConfiguration} reads from. */
export interface LoadConfigurationOptions {
  /** The YAML file; when absent, `$NIMBLE_CONF_DIR/config.yaml` if NIMBLE_CONF_DIR is set. */
  readonly configFile?: string;
  /** `key=value` pairs of the command line's `-D` options, in order. */
  readonly dynamicProperties?: readonly string[];
  /** The environment (NIMBLE_CONF_DIR, NIMBLE_PROPERTIES); `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Configuration entries with flattened, dotted keys, and where each came from. */
export interface LoadedConfiguration {
  readonly entries: Readonly<Record<string, ConfigValue>>;
  /**
   * Where the entry of `key` came from: `<file path>:<line>`, `NIMBLE_PROPERTIES` or `-D`;
   * `default` when no source set it.
   */
  sourceOf(key: string): string;
}

interface SourcedEntry {
  readonly key: string;
  readonly value: ConfigValue;
  readonly source: string;
}

/**
 * Reads the configuration file, NIMBLE_PROPERTIES and the `-D` properties, in increasing
 * precedence. Throws a {@link ConfigurationError} for a missing or unreadable file, malformed
 * YAML, a value that is not a scalar, or a `-D` argument without `=`. Keys are not checked here:
 * {@link parseClusterConfiguration} does that.
 */
export function loadConfiguration(options: LoadConfigurationOptions = {}): LoadedConfiguration {
  const env = options.env ?? process.env;
  const layers: SourcedEntry[][] = [];

  const confDir = env[CONF_DIR_VARIABLE];
  const file =
    options.configFile !== undefined
      ? resolve(options.configFile)
      : confDir
        ? resolve(join(confDir, CONFIG_FILE_NAME))
        : undefined;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const via = options.configFile === undefined ? ` (${CONF_DIR_VARIABLE}=${confDir})` : '';
      throw new ConfigurationError(
        `Cannot read the configuration file ${file}${via}: ${(e as Error).message}`,
        { source: file, cause: e },
      );
    }
    layers.push(readYaml(text, file, (line) => `${file}:${line}`));
  }

  const properties = env[PROPERTIES_VARIABLE];
  if (properties?.trim()) {
    layers.push(readYaml(properties, PROPERTIES_VARIABLE, () => PROPERTIES_VARIABLE));
  }

  layers.push((options.dynamicProperties ?? []).map(parseDynamicProperty));

  const entries: Record<string, ConfigValue> = {};
  const sources = new Map<string, string>();
  for (const layer of layers) {
    for (const { key, value, source } of layer) {
      entries[key] = value;
      sources.set(key, source);
    }
  }
  return { entries, sourceOf: (key) => sources.get(key) ?? DEFAULT_SOURCE };
}

function parseDynamicProperty(argument: string): SourcedEntry {
  const eq = argument.indexOf('=');
  const key = eq < 0 ? '' : argument.slice(0, eq).trim();
  if (key === '') {
    throw new ConfigurationError(
      `Dynamic property "-D ${argument}" is not of the form key=value ` +
        '(for example -D taskmanager.numberOfTaskSlots=4).',
      { source: DYNAMIC_SOURCE },
    );
  }
  return { key, value: argument.slice(eq + 1).trim(), source: DYNAMIC_SOURCE };
}

/**
 * Flattens a YAML mapping to dotted keys: `taskmanager: { numberOfTaskSlots: 2 }` (Flink 1.19+'s
 * config.yaml) and `taskmanager.numberOfTaskSlots: 2` (flink-conf.yaml) are the same entry.
 */
function readYaml(
  text: string,
  origin: string,
  sourceAt: (line: number) => string,
): SourcedEntry[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    throw new ConfigurationError(`Malformed YAML in ${origin}: ${syntaxError.message}`, {
      source: origin,
      cause: syntaxError,
    });
  }
  const lineOf = (node: YamlNode | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;

  const out: SourcedEntry[] = [];
  const seen = new Map<string, number>();
  const visit = (node: YamlNode | null, prefix: string, keyLine: number): void => {
    const resolved = isAlias(node) ? node.resolve(doc as Document) : node;
    if (isMap(resolved)) {
      for (const pair of resolved.items) {
        const keyNode = pair.key as YamlNode | null;
        const line = lineOf(keyNode);
        const name = isScalar(keyNode) ? keyNode.value : undefined;
        if (
          (typeof name !== 'string' && typeof name !== 'number' && typeof name !== 'boolean') ||
          String(name).trim() === ''
        ) {
          throw new ConfigurationError(
            `Bad key in ${origin} at line ${line}: keys must be non-empty strings.`,
            { source: sourceAt(line) },
          );
        }
        const key = prefix ? `${prefix}.${String(name).trim()}` : String(name).trim();
        visit(pair.value as YamlNode | null, key, line);
      }
      return;
    }
    if (prefix === '') {
      if (resolved === null || (isScalar(resolved) && resolved.value === null)) return; // empty
      throw new ConfigurationError(
        `${origin} must be a mapping of configuration keys to values ` +
          `(such as "taskmanager.numberOfTaskSlots: 2").`,
        { source: origin },
      );
    }
    const value = isScalar(resolved) ? resolved.value : undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      const what = isSeq(resolved)
        ? 'a list'
        : value === null || resolved === null
          ? 'no value'
          : `a ${typeof value}`;
      throw new ConfigurationError(
        `Configuration key "${prefix}" in ${origin} at line ${keyLine} has ${what}; ` +
          'expected a single value (a string, number or boolean).',
        { key: prefix, source: sourceAt(keyLine) },
      );
    }
    const earlier = seen.get(prefix);
    if (earlier !== undefined) {
      throw new ConfigurationError(
        `Configuration key "${prefix}" is set twice in ${origin}, at lines ${earlier} and ${keyLine}.`,
        { key: prefix, source: sourceAt(keyLine) },
      );
    }
    seen.set(prefix, keyLine);
    out.push({ key: prefix, value, source: sourceAt(keyLine) });
  };
  visit(doc.contents as YamlNode | null, '', 1);
  return out;
}

const clusterByKey = new Map<string, [keyof ClusterConfiguration, ConfigOption<unknown>]>(
  Object.entries(ClusterOptions).map(([name, option]) => [
    option.key,
    [name as keyof ClusterConfiguration, option as ConfigOption<unknown>],
  ]),
);
const executionByKey = new Map<string, ConfigOption<unknown>>(
  Object.values(ExecutionOptions).map((option) => [option.key, option as ConfigOption<unknown>]),
);

function isLoaded(
  config: LoadedConfiguration | Readonly<Record<string, ConfigValue>>,
): config is LoadedConfiguration {
  return (
    typeof config.sourceOf === 'function' &&
    typeof config.entries === 'object' &&
    config.entries !== null
  );
}

/**
 * The typed cluster options of a configuration. Every key must be known: an execution option, a
 * cluster option or a key registered with `registerForeignConfigKeys`. Execution options are
 * checked too, so a bad `parallelism.default` stops the daemon rather than every job. An unknown
 * key or a bad value throws a {@link ConfigurationError} naming the key, the value, its source
 * and what is expected (for an unknown key, the closest known key when one is close).
 */
export function parseClusterConfiguration(
  config: LoadedConfiguration | Readonly<Record<string, ConfigValue>>,
): ClusterConfiguration {
  const { entries, sourceOf } = isLoaded(config)
    ? config
    : { entries: config, sourceOf: () => 'configuration' };
  const result: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(ClusterOptions)) result[name] = option.defaultValue;

  for (const [key, value] of Object.entries(entries)) {
    const source = sourceOf(key);
    const cluster = clusterByKey.get(key);
    const option = cluster?.[1] ?? executionByKey.get(key);
    if (option === undefined) {
      if (foreignConfigKeys().has(key)) continue;
      throw unknownKey(key, value, source);
    }
    let parsed: unknown;
    try {
      parsed = option.parse(value);
    } catch (e) {
      throw new ConfigurationError(
        `Bad value ${JSON.stringify(value)} for configuration key "${key}" (from ${source}): ` +
          `${(e as Error).message}.`,
        { key, source, cause: e },
      );
    }
    if (cluster) result[cluster[0]] = parsed;
  }

  const parsed = result as ClusterConfiguration;
  checkConsistency(parsed, sourceOf);
  return parsed;
}

function unknownKey(key: string, value: ConfigValue, source: string): ConfigurationError {
  const known = [...executionByKey.keys(), ...foreignConfigKeys()];
  const suggestion = closestConfigKey(key, known);
  return new ConfigurationError(
    `Unknown configuration key "${key}" (value ${JSON.stringify(value)}, from ${source}). ` +
      (suggestion ? `Did you mean "${suggestion}"? ` : '') +
      'docs/configuration.md lists the known keys.',
    { key, source },
  );
}

/** The lease timing must let a leader stop before a standby leads; storage needs a directory. */
function checkHighAvailability(
  config: ClusterConfiguration,
  sourceOf: (key: string) => string,
): void {
  if (config.highAvailabilityType === 'none') return;
  const {
    highAvailabilityStorageDir: dir,
    leaseDuration,
    renewDeadline,
    leaseRetryPeriod,
  } = ClusterOptions;
  if (!config.highAvailabilityStorageDir) {
    throw new ConfigurationError(
      `Configuration key "${dir.key}" is not set: high-availability.type storage keeps the ` +
        'leader election and the job store there; give a file:// directory every JobManager ' +
        'shares, or an s3:// URI.',
      { key: dir.key, source: sourceOf(dir.key) },
    );
  }
  const below = (
    smaller: ConfigOption<number>,
    smallerValue: number,
    larger: ConfigOption<number>,
    largerValue: number,
  ): void => {
    if (smallerValue < largerValue) return;
    throw new ConfigurationError(
      `Configuration key "${smaller.key}" (${smallerValue} ms, from ${sourceOf(smaller.key)}) ` +
        `must be less than "${larger.key}" (${largerValue} ms, from ${sourceOf(larger.key)}), ` +
        'so that a leader stops acting before a standby takes over.',
      { key: smaller.key, source: sourceOf(smaller.key) },
    );
  };
  below(renewDeadline, config.renewDeadline, leaseDuration, config.leaseDuration);
  below(leaseRetryPeriod, config.leaseRetryPeriod, renewDeadline, config.renewDeadline);
}

/** Checks between options, with Flink's rules (HeartbeatServices, the restart strategies). */
function checkConsistency(config: ClusterConfiguration, sourceOf: (key: string) => string): void {
  const requireAtLeast = (
    larger: ConfigOption<number>,
    largerValue: number,
    smaller: ConfigOption<number>,
    smallerValue: number,
  ): void => {
    if (largerValue >= smallerValue) return;
    throw new ConfigurationError(
      `Configuration key "${larger.key}" (${largerValue} ms, from ${sourceOf(larger.key)}) must ` +
        `be at least "${smaller.key}" (${smallerValue} ms, from ${sourceOf(smaller.key)}).`,
      { key: larger.key, source: sourceOf(larger.key) },
    );
  };
  requireAtLeast(
    ClusterOptions.heartbeatTimeout,
    config.heartbeatTimeout,
    ClusterOptions.heartbeatInterval,
    config.heartbeatInterval,
  );
  checkHighAvailability(config, sourceOf);
  requireAtLeast(
    ClusterOptions.exponentialDelayMaxBackoff,
    config.exponentialDelayMaxBackoff,
    ClusterOptions.exponentialDelayInitialBackoff,
    config.exponentialDelayInitialBackoff,
  );
}

import type { KafkaConfig, logCreator } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';

/**
 * Connection properties shared by the source and the sink, named as Kafka's client properties
 * (`bootstrap.servers`, `client.id`, `request.timeout.ms`, ...) so a Flink user's settings carry over.
 */
export type KafkaProperties = Readonly<Record<string, string>>;

const LOG_LEVELS: Record<string, logLevel> = {
  NOTHING: logLevel.NOTHING,
  ERROR: logLevel.ERROR,
  WARN: logLevel.WARN,
  INFO: logLevel.INFO,
  DEBUG: logLevel.DEBUG,
};

/** kafkajs log entries at or above the configured level, one line each on stderr. */
const consoleLog: logCreator =
  () =>
  ({ namespace, level, log }) => {
    const { message, ...extra } = log;
    const detail = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
    const name = Object.keys(LOG_LEVELS).find((k) => LOG_LEVELS[k] === level) ?? String(level);
    process.stderr.write(`kafkajs ${name} [${namespace}] ${message}${detail}\n`);
  };

/** Parses a numeric property, naming it when it is not a number. */
export function numberProperty(
  properties: KafkaProperties,
  key: string,
  fallback: number,
  owner: string,
): number {
  const raw = properties[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new RangeError(`${owner}: property ${key} must be a non-negative number; got "${raw}"`);
  }
  return n;
}

/** A kafkajs client for `bootstrap.servers` (comma-separated host:port list). */
export function createKafkaClient(properties: KafkaProperties, owner: string): Kafka {
  const servers = (properties['bootstrap.servers'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) {
    throw new Error(`${owner}: bootstrap servers are required (setBootstrapServers('host:9092'))`);
  }
  const level = (properties['kafkajs.log.level'] ?? 'ERROR').toUpperCase();
  const config: KafkaConfig = {
    clientId: properties['client.id'] ?? 'nimble',
    brokers: servers,
    connectionTimeout: numberProperty(
      properties,
      'socket.connection.setup.timeout.ms',
      10_000,
      owner,
    ),
    requestTimeout: numberProperty(properties, 'request.timeout.ms', 30_000, owner),
    logLevel: LOG_LEVELS[level] ?? logLevel.ERROR,
    logCreator: consoleLog,
    retry: { retries: numberProperty(properties, 'retries', 8, owner) },
  };
  return new Kafka(config);
}

/** Checks `host:port[,host:port...]`, naming the builder that got it. */
export function checkBootstrapServers(servers: string, owner: string): string {
  const list = typeof servers === 'string' ? servers.split(',').map((s) => s.trim()) : [];
  if (list.length === 0 || list.some((s) => !/^[^\s:]+:\d+$/.test(s))) {
    throw new TypeError(
      `${owner}: bootstrap servers must be "host:port[,host:port...]"; got ${JSON.stringify(servers)}`,
    );
  }
  return list.join(',');
}

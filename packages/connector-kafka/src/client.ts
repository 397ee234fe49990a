import type { KafkaConfig, logCreator } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { RETRIABLE_ERROR_MESSAGES } from './kafka-internals.js';
import { securityOptions, withSecurityContext } from './security.js';

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

/** A kafkajs log entry as its logCreator receives it. */
export interface KafkajsLogEntry {
  readonly namespace: string;
  readonly level: logLevel;
  readonly log: { readonly message: string; readonly [key: string]: unknown };
}

/**
 * The line a kafkajs log entry becomes on stderr, or undefined for none.
 *
 * kafkajs logs at ERROR every failed attempt of a request it retries: a broker that has just
 * started answers "The coordinator is loading and hence can't process requests" or "There is no
 * leader for this topic-partition" for a few seconds, and kafkajs retries until it works. Those
 * are not errors a user can act on: the first one of each kind in this process becomes one INFO
 * line, and the rest are dropped. Should the retries run out, the operation fails and its error
 * reaches the job (with kafkajs' cause), so nothing is hidden. Errors that are not retriable
 * Kafka errors (a broker that cannot be reached, a crash) stay at ERROR.
 *
 * `seen` holds the retriable errors already logged (one set per process).
 */
export function kafkajsLogLine(entry: KafkajsLogEntry, seen: Set<string>): string | undefined {
  const { message, timestamp: _t, logger: _l, ...extra } = entry.log;
  const retriable = entry.level === logLevel.ERROR ? retriableKafkaError(entry.log) : undefined;
  if (retriable !== undefined) {
    if (seen.has(retriable)) return undefined;
    seen.add(retriable);
    return `kafkajs INFO [${entry.namespace}] ${retriable}: retrying (the broker is starting or moving a partition or coordinator; later retries of this kind are not logged)\n`;
  }
  const detail = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
  const name =
    Object.keys(LOG_LEVELS).find((k) => LOG_LEVELS[k] === entry.level) ?? String(entry.level);
  return `kafkajs ${name} [${entry.namespace}] ${message}${detail}\n`;
}

/** The retriable Kafka error a log entry reports (in its message or its `error` field), if any. */
function retriableKafkaError(log: KafkajsLogEntry['log']): string | undefined {
  const texts = [log.message, typeof log['error'] === 'string' ? log['error'] : ''];
  for (const m of RETRIABLE_ERROR_MESSAGES) {
    if (texts.some((t) => t.includes(m))) return m;
  }
  return undefined;
}

const loggedRetriable = new Set<string>();

/** kafkajs log entries at or above the configured level, one line each on stderr. */
const stderrLog: logCreator = () => (entry) => {
  const line = kafkajsLogLine(entry, loggedRetriable);
  if (line !== undefined) process.stderr.write(line);
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

/** Makes `client.connect()` fail with the security description of a failed handshake. */
function describeConnectFailures<C extends { connect(): Promise<void> }>(
  client: C,
  properties: KafkaProperties,
  owner: string,
): C {
  const connect = client.connect.bind(client);
  client.connect = () =>
    connect().catch((e: unknown) => {
      throw withSecurityContext(e, properties, owner);
    });
  return client;
}

/**
 * A kafkajs client whose producers, consumers and admins fail to connect with an error naming
 * the broker, the security protocol and the SASL mechanism when authentication or the TLS
 * handshake fails.
 */
class DescribedKafka extends Kafka {
  constructor(
    config: KafkaConfig,
    private readonly properties: KafkaProperties,
    private readonly owner: string,
  ) {
    super(config);
  }
  /** `e` described as a failed authentication or TLS handshake, when it is one. */
  describeError(e: unknown): unknown {
    return withSecurityContext(e, this.properties, this.owner);
  }
  override producer(config?: Parameters<Kafka['producer']>[0]): ReturnType<Kafka['producer']> {
    return describeConnectFailures(super.producer(config), this.properties, this.owner);
  }
  override consumer(config: Parameters<Kafka['consumer']>[0]): ReturnType<Kafka['consumer']> {
    return describeConnectFailures(super.consumer(config), this.properties, this.owner);
  }
  override admin(config?: Parameters<Kafka['admin']>[0]): ReturnType<Kafka['admin']> {
    return describeConnectFailures(super.admin(config), this.properties, this.owner);
  }
}

/**
 * A kafkajs client for `bootstrap.servers` (comma-separated host:port list), with the security
 * properties (`security.protocol`, `sasl.*`, `ssl.*`: see security.ts) mapped onto its options.
 */
export function createKafkaClient(properties: KafkaProperties, owner: string): Kafka {
  const servers = (properties['bootstrap.servers'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) {
    throw new Error(`${owner}: bootstrap servers are required (setBootstrapServers('host:9092'))`);
  }
  const level = (properties['kafkajs.log.level'] ?? 'ERROR').toUpperCase();
  const security = securityOptions(properties, owner);
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
    logCreator: stderrLog,
    retry: { retries: numberProperty(properties, 'retries', 8, owner) },
    ...(security.ssl ? { ssl: security.ssl } : {}),
    ...(security.sasl ? { sasl: security.sasl } : {}),
  };
  return new DescribedKafka(config, properties, owner);
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

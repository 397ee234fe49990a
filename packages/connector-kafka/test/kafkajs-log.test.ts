import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { KafkajsLogEntry } from '../src/client.js';
import { kafkajsLogLine } from '../src/client.js';

/** Log entries kafkajs 2.2.4 wrote on a broker serving its first transaction and group. */
const coordinatorLoading: KafkajsLogEntry = {
  namespace: 'Connection',
  level: logLevel.ERROR,
  log: {
    timestamp: '2026-12-03T18:39:17.722Z',
    logger: 'kafkajs',
    message: 'Response InitProducerId(key: 22, version: 1)',
    broker: '127.0.0.1:29392',
    clientId: 'nimble',
    error: "The coordinator is loading and hence can't process requests for this group",
    correlationId: 2,
    size: 20,
  },
};
const groupCoordinatorNotAvailable: KafkajsLogEntry = {
  namespace: 'Connection',
  level: logLevel.ERROR,
  log: {
    timestamp: '2026-12-03T18:39:17.998Z',
    logger: 'kafkajs',
    message: 'Response GroupCoordinator(key: 10, version: 2)',
    broker: '127.0.0.1:29392',
    clientId: 'nimble',
    error: 'The group coordinator is not available',
    correlationId: 4,
    size: 55,
  },
};

describe('kafkajs log lines', () => {
  it('turns the retriable errors of a starting broker into one INFO line each', () => {
    const seen = new Set<string>();
    const first = kafkajsLogLine(coordinatorLoading, seen);
    expect(first).toMatch(/^kafkajs INFO \[Connection\] The coordinator is loading .*retrying/);
    expect(kafkajsLogLine(coordinatorLoading, seen)).toBeUndefined();
    expect(kafkajsLogLine(groupCoordinatorNotAvailable, seen)).toMatch(
      /^kafkajs INFO \[Connection\] The group coordinator is not available: retrying/,
    );
    expect(kafkajsLogLine(groupCoordinatorNotAvailable, seen)).toBeUndefined();
    // kafkajs' producer repeats the error in its own words before it retries.
    const retry: KafkajsLogEntry = {
      namespace: 'Producer',
      level: logLevel.ERROR,
      log: {
        message:
          'Failed to send messages: There is no leader for this topic-partition as we are in the middle of a leadership election',
        retryCount: 0,
        retryTime: 300,
      },
    };
    expect(kafkajsLogLine(retry, seen)).toMatch(/^kafkajs INFO \[Producer\] There is no leader/);
  });

  it('keeps errors that are not retriable at ERROR, with their details', () => {
    const seen = new Set<string>();
    const fenced: KafkajsLogEntry = {
      namespace: 'Connection',
      level: logLevel.ERROR,
      log: {
        timestamp: '2026-12-03T18:39:42.673Z',
        logger: 'kafkajs',
        message: 'Response Produce(key: 0, version: 7)',
        error:
          "Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer's transaction has been expired by the broker",
        correlationId: 25,
      },
    };
    const line = kafkajsLogLine(fenced, seen);
    expect(line).toMatch(/^kafkajs ERROR \[Connection\] Response Produce\(key: 0, version: 7\) /);
    expect(line).toContain('old epoch');
    expect(line).not.toContain('timestamp');
    expect(kafkajsLogLine(fenced, seen)).toBe(line);
    const refused: KafkajsLogEntry = {
      namespace: 'Connection',
      level: logLevel.ERROR,
      log: { message: 'Connection error: connect ECONNREFUSED 127.0.0.1:1', broker: '127.0.0.1:1' },
    };
    expect(kafkajsLogLine(refused, seen)).toMatch(/^kafkajs ERROR \[Connection\] Connection error/);
  });

  it('leaves entries below ERROR at their level', () => {
    const warn: KafkajsLogEntry = {
      namespace: 'Connection',
      level: logLevel.WARN,
      log: {
        message: "The coordinator is loading and hence can't process requests for this group",
      },
    };
    expect(kafkajsLogLine(warn, new Set())).toMatch(/^kafkajs WARN /);
  });
});

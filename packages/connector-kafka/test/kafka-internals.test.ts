import {
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSProtocolError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isRetriableKafkaError, withRetries } from '../src/kafka-internals.js';

describe('Kafka coordinator requests', () => {
  it('retry while no broker answers (a broker restart), as the Java client does', async () => {
    // kafkajs reports "no coordinator found" when no broker answered and calls it non-retriable.
    const notFound = new (KafkaJSGroupCoordinatorNotFound as new (m: string) => Error)(
      'Failed to find group coordinator',
    );
    expect(isRetriableKafkaError(notFound)).toBe(true);
    expect(isRetriableKafkaError(new KafkaJSConnectionError('connect ECONNREFUSED'))).toBe(true);
    let attempts = 0;
    const result = await withRetries('Committing Kafka transaction t', () => {
      attempts++;
      if (attempts < 3) return Promise.reject(notFound);
      return Promise.resolve('committed');
    });
    expect(result).toBe('committed');
    expect(attempts).toBe(3);
  });

  it('fail at once on an error sending again cannot fix, naming the request', async () => {
    const fenced = new (KafkaJSProtocolError as new (e: object) => Error)({
      type: 'PRODUCER_FENCED',
      code: 90,
      retriable: false,
      message: 'There is a newer producer with the same transactionalId',
    });
    expect(isRetriableKafkaError(fenced)).toBe(false);
    let attempts = 0;
    await expect(
      withRetries('Committing Kafka transaction t', () => {
        attempts++;
        return Promise.reject(fenced);
      }),
    ).rejects.toThrow(/^Committing Kafka transaction t: There is a newer producer/);
    expect(attempts).toBe(1);
  });
});

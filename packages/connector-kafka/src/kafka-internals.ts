/**
 * The Kafka requests kafkajs does not expose: what Flink's KafkaSink reaches into the Java
 * producer for by reflection, and the offset commit of a consumer that is not a group member. A two-phase commit must commit a transaction after a restart,
 * from a new process, with the producer id and epoch the failed writer had; and a restarted
 * writer must abort the transactions its predecessor left open.
 *
 * kafkajs (pinned to 2.2.4, see package.json) keeps these in its internal modules:
 * - `Broker#initProducerId`, wrapped here to remember the producer id and epoch each
 *   transactional id got, so a writer can put them in its committable;
 * - a `Cluster`, whose transaction coordinator takes InitProducerId (fences the id and aborts its
 *   open transaction) and EndTxn (commits a transaction by producer id and epoch), and whose group
 *   coordinator takes OffsetCommit without a generation (kafkajs' `admin.setOffsets` instead joins
 *   the group, and fails while another subtask does the same).
 */
import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';

const require = createRequire(import.meta.url);

interface ProducerIdAndEpoch {
  readonly producerId: number;
  readonly producerEpoch: number;
}

interface InternalBroker {
  initProducerId(args: {
    transactionalId: string;
    transactionTimeout: number;
  }): Promise<ProducerIdAndEpoch>;
  offsetCommit(args: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    retentionTime?: number;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<{
    responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[];
  }>;
  endTxn(args: {
    transactionalId: string;
    producerId: number;
    producerEpoch: number;
    transactionResult: boolean;
  }): Promise<unknown>;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(args: { groupId: string; coordinatorType: number }): Promise<InternalBroker>;
}

const BrokerClass = require('kafkajs/src/broker/index.js') as {
  prototype: { initProducerId: InternalBroker['initProducerId'] };
};
const COORDINATOR_TYPES = require('kafkajs/src/protocol/coordinatorTypes.js') as {
  GROUP: number;
  TRANSACTION: number;
};

const PROTOCOL_ERRORS = require('kafkajs/src/protocol/error.js') as {
  errorCodes: { type: string; message: string; retriable: boolean }[];
};

/**
 * The messages of the Kafka error codes kafkajs retries (coordinator loading, leader not
 * available, ...): how its log entries name them, as they carry no error code.
 */
export const RETRIABLE_ERROR_MESSAGES: readonly string[] = PROTOCOL_ERRORS.errorCodes
  .filter((e) => e.retriable)
  .map((e) => e.message);

/** The producer id and epoch each transactional id was last initialized with, in this process. */
const initialized = new Map<string, ProducerIdAndEpoch>();

const originalInit = BrokerClass.prototype.initProducerId;
if (!(originalInit as { nimbleWrapped?: boolean }).nimbleWrapped) {
  const wrapped = async function (
    this: InternalBroker,
    args: { transactionalId: string; transactionTimeout: number },
  ): Promise<ProducerIdAndEpoch> {
    const result = await originalInit.call(this, args);
    if (args.transactionalId) {
      initialized.set(args.transactionalId, {
        producerId: Number(result.producerId),
        producerEpoch: Number(result.producerEpoch),
      });
    }
    return result;
  };
  (wrapped as { nimbleWrapped?: boolean }).nimbleWrapped = true;
  BrokerClass.prototype.initProducerId = wrapped;
}

/** The producer id and epoch a kafkajs producer with `transactionalId` got when it connected. */
export function producerIdentity(transactionalId: string): ProducerIdAndEpoch | undefined {
  return initialized.get(transactionalId);
}

/** Kafka error codes a transaction request may be retried on. */
const RETRIABLE = new Set([
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'CONCURRENT_TRANSACTIONS',
  'REQUEST_TIMED_OUT',
]);

/**
 * Runs `attempt` until it succeeds, for at most a minute while it fails with a retriable Kafka
 * error; otherwise fails with `what` and the error as its cause.
 */
export async function withRetries<R>(what: string, attempt: () => Promise<R>): Promise<R> {
  const deadline = Date.now() + 60_000;
  let delay = 50;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      const type = (e as { type?: string }).type ?? '';
      const retriable = RETRIABLE.has(type) || (e as { retriable?: boolean }).retriable === true;
      if (!retriable || Date.now() > deadline) {
        throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(1000, delay * 2);
    }
  }
}

/** Coordinator requests of one Kafka cluster. */
export class KafkaInternalClient {
  private cluster: InternalCluster | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionTimeoutMs: number,
  ) {}

  private async connected(): Promise<InternalCluster> {
    if (!this.cluster) {
      const createCluster = Object.getOwnPropertySymbols(this.kafka).find(
        (s) => s.description === 'private:Kafka:createCluster',
      );
      if (!createCluster)
        throw new Error('This kafkajs version is not supported (no cluster factory)');
      const factory = (this.kafka as unknown as Record<symbol, (o: object) => InternalCluster>)[
        createCluster
      ]!;
      const cluster = factory({});
      await cluster.connect();
      this.cluster = cluster;
    }
    return this.cluster;
  }

  private async coordinator(transactionalId: string): Promise<InternalBroker> {
    const cluster = await this.connected();
    return cluster.findGroupCoordinator({
      groupId: transactionalId,
      coordinatorType: COORDINATOR_TYPES.TRANSACTION,
    });
  }

  /**
   * Initializes `transactionalId`: a transaction it left open is aborted and its producers are
   * fenced. Returns the new epoch: 0 when the id was never used before.
   */
  async fence(transactionalId: string): Promise<number> {
    return withRetries(`Aborting Kafka transaction ${transactionalId}`, async () => {
      const broker = await this.coordinator(transactionalId);
      const r = await broker.initProducerId({
        transactionalId,
        transactionTimeout: this.transactionTimeoutMs,
      });
      return Number(r.producerEpoch);
    });
  }

  /** Commits the transaction `transactionalId` had with this producer id and epoch. */
  async commit(transactionalId: string, producerId: number, producerEpoch: number): Promise<void> {
    await withRetries(`Committing Kafka transaction ${transactionalId}`, async () => {
      const broker = await this.coordinator(transactionalId);
      await broker.endTxn({ transactionalId, producerId, producerEpoch, transactionResult: true });
    });
  }

  /**
   * Commits offsets to `groupId` as a consumer outside the group does (generation -1), as Flink's
   * source does on checkpoints: the group's other members, if any, are not disturbed.
   */
  async commitOffsets(
    groupId: string,
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[],
  ): Promise<void> {
    await withRetries(`Committing offsets to group ${groupId}`, async () => {
      const cluster = await this.connected();
      const broker = await cluster.findGroupCoordinator({
        groupId,
        coordinatorType: COORDINATOR_TYPES.GROUP,
      });
      await broker.offsetCommit({
        groupId,
        groupGenerationId: -1,
        memberId: '',
        retentionTime: -1,
        topics,
      });
    });
  }

  async close(): Promise<void> {
    const c = this.cluster;
    this.cluster = undefined;
    await c?.disconnect();
  }
}

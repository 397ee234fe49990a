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
 *
 * It also corrects kafkajs' read_committed filter, which delivers records of aborted
 * transactions (see `fixKafkajsReadCommitted`).
 */
import type { Kafka } from 'kafkajs';
// Static imports (typed in kafkajs-internals.d.ts), so a job bundle holds one kafkajs: the
// modules patched here are the ones the bundled client runs.
import BrokerClass from 'kafkajs/src/broker/index.js';
import COORDINATOR_TYPES from 'kafkajs/src/protocol/coordinatorTypes.js';
import PROTOCOL_ERRORS from 'kafkajs/src/protocol/error.js';
import { isSecurityError } from './security.js';

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

/**
 * The messages of the Kafka error codes kafkajs retries (coordinator loading, leader not
 * available, ...): how its log entries name them, as they carry no error code.
 */
export const RETRIABLE_ERROR_MESSAGES: readonly string[] = PROTOCOL_ERRORS.errorCodes
  .filter((e) => e.retriable)
  .map((e) => e.message);

/** The producer id and epoch each transactional id was last initialized with, in this process. */
const initialized = new Map<string, ProducerIdAndEpoch>();

const brokerPrototype = BrokerClass.prototype as unknown as InternalBroker;
const originalInit = brokerPrototype.initProducerId;
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
  brokerPrototype.initProducerId = wrapped;
}

interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  isControlRecord?: boolean;
  readonly batchContext?: { readonly producerId: string; readonly inTransaction: boolean };
}

interface FetchedPartition {
  abortedTransactions?: { readonly producerId: string; readonly firstOffset: string }[];
  readonly messages: FetchedMessage[];
}

/** The key of a control record that ends a transaction with an abort (version 0, type 0). */
const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);

/**
 * Drops the records of aborted transactions from a read_committed fetch of one partition, as
 * Kafka's Java consumer does (`CompletedFetch`): the aborted transactions the broker lists,
 * ordered by first offset, each from its first offset until its producer's abort marker.
 *
 * kafkajs 2.2.4 (`filterAbortedMessages`) gets this wrong in two ways, and a read_committed
 * consumer then delivers aborted records: it takes the broker's list in the order given (the
 * order the transactions ended, not started), so a transaction that started before another but
 * ended after it is delivered whole; and it enters at most one aborted transaction per record,
 * so a fetch that starts inside two aborted transactions delivers the first record of the
 * second. Both happen to an exactly-once sink's output after every fail-over.
 *
 * A dropped record is marked as a control record: kafkajs leaves those out of a batch's
 * messages but moves the consumer's position past them, and the broker's list is emptied so
 * kafkajs' own filter does nothing.
 */
function dropAbortedRecords(partition: FetchedPartition): void {
  const listed = partition.abortedTransactions;
  if (!listed || listed.length === 0) return;
  const pending = listed
    .map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborted = new Set<string>();
  let next = 0;
  for (const m of partition.messages) {
    const offset = BigInt(m.offset);
    while (next < pending.length && pending[next]!.firstOffset <= offset) {
      aborted.add(pending[next++]!.producerId);
    }
    const batch = m.batchContext;
    if (!batch?.inTransaction) continue;
    if (m.isControlRecord) {
      if (m.key && ABORT_MARKER.equals(Buffer.from(m.key))) aborted.delete(batch.producerId);
    } else if (aborted.has(batch.producerId)) {
      m.isControlRecord = true;
    }
  }
  partition.abortedTransactions = [];
}

interface FetchingBroker {
  fetch(args: object): Promise<{ responses?: { partitions?: FetchedPartition[] }[] }>;
}

/**
 * Makes every kafkajs consumer of this process drop the records of aborted transactions
 * correctly under read_committed (see `dropAbortedRecords`). Idempotent; the Kafka
 * source applies it when it loads. Readers of a transactional topic outside a job (tests,
 * tools) that use kafkajs directly call it too.
 */
export function fixKafkajsReadCommitted(): void {
  const proto = BrokerClass.prototype as unknown as FetchingBroker;
  const originalFetch = proto.fetch;
  if ((originalFetch as { nimbleWrapped?: boolean }).nimbleWrapped) return;
  const wrapped = async function (this: FetchingBroker, args: object) {
    const response = await originalFetch.call(this, args);
    for (const topic of response.responses ?? []) {
      for (const partition of topic.partitions ?? []) dropAbortedRecords(partition);
    }
    return response;
  };
  (wrapped as { nimbleWrapped?: boolean }).nimbleWrapped = true;
  proto.fetch = wrapped;
}
fixKafkajsReadCommitted();

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
 * Whether a kafkajs error may pass when the request is sent again: a retriable Kafka error code,
 * an error kafkajs marks retriable (a connection refused or reset), or no coordinator found,
 * which kafkajs reports when no broker answered, as while a broker restarts (kafkajs calls it
 * non-retriable; Kafka's Java client retries it until its timeout).
 */
export function isRetriableKafkaError(e: unknown): boolean {
  const type = (e as { type?: string }).type ?? '';
  return (
    RETRIABLE.has(type) ||
    (e as { retriable?: boolean }).retriable === true ||
    (e as { name?: string }).name === 'KafkaJSGroupCoordinatorNotFound'
  );
}

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
      const retriable = isRetriableKafkaError(e) && !isSecurityError(e);
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
      await cluster.connect().catch((e: unknown) => {
        const described = (this.kafka as { describeError?: (e: unknown) => unknown }).describeError;
        throw described ? described.call(this.kafka, e) : e;
      });
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

// A TaskManager's side of high availability (docs/high-availability.md): it finds the leading
// JobManager in the leader record of high-availability.storageDir, and refuses the calls of any
// JobManager but the leader it registered with: a former leader's NotifyCheckpoint (which
// commits Kafka transactions) cannot act once the new leader reached this TaskManager.
import type { ClusterConfiguration, Logger, StateFileSystem } from '@nimble/runtime';
import { haFileSystemOf, haRootOf, NimbleError, readLeader } from '@nimble/runtime';
import type { Metadata, Refusal } from '@nimble/proto';
import { fencingTokenOf, status } from '@nimble/proto';

/** How long one look at the leader record may take. */
const LOOKUP_TIMEOUT_MS = 10_000;

/** No leader to register with yet: the JobManagers are electing one. */
export class NoLeaderError extends NimbleError {
  override name = 'NoLeaderError';
  constructor(root: string) {
    super(
      `No JobManager leads the cluster ${root} yet (no live leader record): the JobManagers are ` +
        'electing one, or none runs with this high-availability.storageDir and cluster-id',
      'external',
    );
  }
}

export class LeaderFollower {
  /** The epoch of the leader this TaskManager registered with last; 0 before. */
  private epoch = 0;
  private readonly fs: StateFileSystem;
  private readonly root: string;

  constructor(
    config: ClusterConfiguration,
    private readonly log: Logger,
  ) {
    this.root = haRootOf(config);
    this.fs = haFileSystemOf(config, LOOKUP_TIMEOUT_MS);
  }

  /**
   * The gRPC address of the current leader, read from the store; from now on only calls with its
   * epoch are accepted. Throws {@link NoLeaderError} while there is none.
   */
  async leader(): Promise<string> {
    const record = await readLeader(this.fs, this.root);
    if (!record || record.released) throw new NoLeaderError(this.root);
    if (record.epoch !== this.epoch)
      this.log.info({ epoch: record.epoch, leader: record.rpcAddress }, 'following a new leader');
    this.epoch = Math.max(this.epoch, record.epoch);
    return record.rpcAddress;
  }

  /** Refuses a JobManager call that does not carry the epoch of the leader this follows. */
  refusal(metadata: Metadata, path: string): Refusal | undefined {
    const token = fencingTokenOf(metadata);
    if (token !== undefined && token === this.epoch && token > 0) return undefined;
    const method = path.slice(path.lastIndexOf('/') + 1);
    const details =
      token === undefined
        ? `${method} refused: it carries no leader fencing token, and this TaskManager follows the JobManager leader of epoch ${this.epoch}`
        : token < this.epoch
          ? `${method} refused: it comes from a former JobManager leader (epoch ${token}); this TaskManager follows the leader of epoch ${this.epoch}`
          : `${method} refused: epoch ${token} is not that of the JobManager leader this TaskManager registered with (epoch ${this.epoch})`;
    this.log.warn({ method, token: token ?? null, epoch: this.epoch }, 'refused a fenced call');
    return { code: status.FAILED_PRECONDITION, details };
  }
}

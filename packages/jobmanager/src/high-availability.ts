// A JobManager's part in high availability (docs/high-availability.md): its candidacy in the
// leader election, the job store under high-availability.storageDir (so the next leader
// recovers every job), the fencing of its own storage writes and TaskManager calls once it lost
// the lead, and the answer a standby gives instead of serving.
import type { ClusterConfiguration, LeaderRecord, Logger, StateFileSystem } from '@nimble/runtime';
import { haFileSystemOf, haRootOf, joinUri, NimbleError } from '@nimble/runtime';
import type { Refusal } from '@nimble/proto';
import { LEADER_ADDRESS_METADATA, Metadata, status } from '@nimble/proto';
import { LeaderElector } from './leader-election.js';

/** A JobManager acted (a storage write, a TaskManager call) after it lost the lead. */
export class LeadershipLostError extends NimbleError {
  override name = 'LeadershipLostError';
  constructor(what: string) {
    super(
      `${what} refused: this JobManager lost its leadership and stops acting; the new leader ` +
        'recovers the job from its latest checkpoint',
      'internal',
    );
  }
}

/** A stored job entry: its JSON, as the job store wrote it. */
export interface StoredJobEntry {
  readonly uri: string;
  readonly json: string;
}

export class JobManagerHighAvailability {
  readonly elector: LeaderElector;
  /** `<storageDir>/<cluster-id>`. */
  readonly root: string;
  private readonly fs: StateFileSystem;

  constructor(
    config: ClusterConfiguration,
    holder: string,
    addresses: { readonly rpcAddress: string; readonly restUrl: string },
    storageTimeout: number,
    private readonly log: Logger,
  ) {
    this.root = haRootOf(config);
    this.fs = haFileSystemOf(config, storageTimeout);
    this.elector = new LeaderElector(
      this.fs,
      this.root,
      { holder, ...addresses },
      {
        leaseDuration: config.leaseDuration,
        renewDeadline: config.renewDeadline,
        retryPeriod: config.leaseRetryPeriod,
      },
      log,
    );
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /** The newest leader this JobManager knows of (itself while it leads). */
  get leader(): LeaderRecord | undefined {
    return this.elector.leader;
  }

  /** Why this JobManager does not serve a request now; undefined while it leads. */
  standbyReason(): string | undefined {
    if (this.elector.isLeader) return undefined;
    const l = this.elector.leader;
    const self = this.elector.state === 'lost' ? 'lost its leadership' : 'is a standby';
    return l && !l.released && this.elector.state !== 'lost'
      ? `This JobManager ${self}: the leader (epoch ${l.epoch}) is at ${l.rpcAddress} (REST ${l.restUrl}); send requests there`
      : `This JobManager ${self} and knows no live leader yet: retry shortly`;
  }

  /** The gRPC refusal of a standby: UNAVAILABLE, with the leader's address in the trailers. */
  standbyRefusal(): Refusal | undefined {
    const reason = this.standbyReason();
    if (reason === undefined) return undefined;
    const metadata = new Metadata();
    const l = this.elector.leader;
    if (l && !l.released) metadata.set(LEADER_ADDRESS_METADATA, l.rpcAddress);
    return { code: status.UNAVAILABLE, details: reason, metadata };
  }

  /**
   * `fs` refusing writes and deletes once this JobManager no longer leads: a checkpoint it
   * completes late must not write `_metadata`, nor discard what the new leader restores.
   */
  fence(fs: StateFileSystem): StateFileSystem {
    const check = (what: string, uri: string): void => {
      if (!this.elector.isLeader) throw new LeadershipLostError(`${what} ${uri}`);
    };
    const guarded =
      <A extends unknown[], R>(what: string, f: (uri: string, ...a: A) => Promise<R>) =>
      async (uri: string, ...a: A): Promise<R> => {
        check(what, uri);
        return f(uri, ...a);
      };
    return {
      read: (uri, range) => fs.read(uri, range),
      exists: (uri) => fs.exists(uri),
      list: (uri) => fs.list(uri),
      close: () => fs.close(),
      write: guarded('Writing', (u, d: Uint8Array) => fs.write(u, d)),
      writeAtomic: guarded('Writing', (u, d: Uint8Array) => fs.writeAtomic(u, d)),
      createExclusive: guarded('Creating', (u, d: Uint8Array) => fs.createExclusive(u, d)),
      delete: guarded('Deleting', (u) => fs.delete(u)),
      deleteRecursive: guarded('Deleting', (u) => fs.deleteRecursive(u)),
    };
  }

  // ---- the job store -------------------------------------------------------------------------

  private jobUri(jobId: string): string {
    return joinUri(this.root, 'jobs', `${jobId}.json`);
  }

  private bundleUri(hash: string): string {
    return joinUri(this.root, 'blobs', `${hash}.mjs`);
  }

  /** Stores a job's bundle, then its entry: an entry never names a bundle that is not there. */
  async storeJob(jobId: string, json: string, bundleHash: string, bundle: Uint8Array) {
    const fs = this.fence(this.fs);
    if (!(await fs.exists(this.bundleUri(bundleHash))))
      await fs.writeAtomic(this.bundleUri(bundleHash), bundle);
    await fs.writeAtomic(this.jobUri(jobId), Buffer.from(json));
  }

  /** Removes the entry of a job that ended; a failure leaves it for the next leader to see. */
  async removeJob(jobId: string): Promise<void> {
    try {
      await this.fence(this.fs).delete(this.jobUri(jobId));
    } catch (e) {
      this.log.warn({ err: e, job_id: jobId }, 'could not remove the job from the job store');
    }
  }

  async storedJobs(): Promise<StoredJobEntry[]> {
    const dir = joinUri(this.root, 'jobs');
    const names = (await this.fs.list(dir)).filter((n) => /^[0-9a-f]{32}\.json$/.test(n));
    const entries: StoredJobEntry[] = [];
    for (const n of names) {
      const uri = joinUri(dir, n);
      entries.push({ uri, json: Buffer.from(await this.fs.read(uri)).toString('utf8') });
    }
    return entries;
  }

  async bundle(hash: string): Promise<Uint8Array> {
    return this.fs.read(this.bundleUri(hash));
  }
}

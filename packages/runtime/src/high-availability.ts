// High availability through the checkpoint storage (docs/high-availability.md): where the leader
// records and the job store live under high-availability.storageDir, and how a daemon or a
// client reads who leads. The election itself is the JobManager's (leader-election.ts there).
import type { ClusterConfiguration } from './cluster-options.js';
import { s3OptionsOf } from './cluster-options.js';
import { NimbleError } from './errors.js';
import type { StateFileSystem } from './checkpoint/storage/state-file-system.js';
import { joinUri, StateFileNotFoundError } from './checkpoint/storage/state-file-system.js';
import { fileSystemFor } from './checkpoint/storage/file-system-for.js';
import { withStorageTimeout } from './checkpoint/storage/storage-guard.js';

/**
 * One leadership epoch: `<storageDir>/<cluster-id>/leader/epoch-<n>`, created only when absent by
 * the JobManager that leads it, then overwritten by it on each renewal.
 */
export interface LeaderRecord {
  /** The JobManager's id (random per process). */
  readonly holder: string;
  /** The epoch this record is, 1 for the first leader of a cluster; the fencing token. */
  readonly epoch: number;
  /** Where TaskManagers and clients reach the leader's gRPC server (host:port). */
  readonly rpcAddress: string;
  /** The leader's REST base URL, e.g. http://10.0.0.5:8081. */
  readonly restUrl: string;
  /** Counts the renewals: a standby sees the lease is alive when this changes. */
  readonly renewals: number;
  /** Set by a leader that shut down: a standby takes over at once rather than after the lease. */
  readonly released: boolean;
}

/** A leader record that cannot be read or parsed: the store is damaged or foreign. */
export class LeaderRecordError extends NimbleError {
  override name = 'LeaderRecordError';
  constructor(
    readonly uri: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The leader record ${uri} is unusable: ${reason}. Delete it (the JobManagers elect a new ` +
        'leader) or check that high-availability.storageDir is used by Nimble only.',
      'external',
      options,
    );
  }
}

const EPOCH_NAME = /^epoch-(\d{10})$/;

/** `<storageDir>/<cluster-id>`: everything high availability stores for one cluster. */
export function haRootOf(config: ClusterConfiguration): string {
  return joinUri(config.highAvailabilityStorageDir, config.highAvailabilityClusterId);
}

/** The directory of the leader records under an HA root. */
export function leaderDirOf(root: string): string {
  return joinUri(root, 'leader');
}

/** The record of epoch `epoch`, zero-padded so that names sort as numbers. */
export function leaderRecordUri(root: string, epoch: number): string {
  return joinUri(leaderDirOf(root), `epoch-${String(epoch).padStart(10, '0')}`);
}

/** The epochs recorded under an HA root, newest first. */
export async function leaderEpochs(fs: StateFileSystem, root: string): Promise<number[]> {
  return (await fs.list(leaderDirOf(root)))
    .map((n) => EPOCH_NAME.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

export function encodeLeaderRecord(record: LeaderRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record));
}

export function decodeLeaderRecord(bytes: Uint8Array, uri: string): LeaderRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new LeaderRecordError(uri, 'it is not JSON', { cause: e });
  }
  const r = parsed as Partial<LeaderRecord> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.holder !== 'string' ||
    !Number.isSafeInteger(r.epoch) ||
    typeof r.rpcAddress !== 'string' ||
    typeof r.restUrl !== 'string' ||
    !Number.isSafeInteger(r.renewals) ||
    typeof r.released !== 'boolean'
  ) {
    throw new LeaderRecordError(
      uri,
      'it lacks holder, epoch, rpcAddress, restUrl, renewals or released',
    );
  }
  return r as LeaderRecord;
}

/**
 * The newest leader record under an HA root, undefined when no JobManager has led yet. A record
 * removed meanwhile (old epochs are cleaned up) is looked up again.
 */
export async function readLeader(
  fs: StateFileSystem,
  root: string,
): Promise<LeaderRecord | undefined> {
  for (let tries = 0; ; tries++) {
    const [newest] = await leaderEpochs(fs, root);
    if (newest === undefined) return undefined;
    const uri = leaderRecordUri(root, newest);
    try {
      return decodeLeaderRecord(await fs.read(uri), uri);
    } catch (e) {
      if (!(e instanceof StateFileNotFoundError) || tries >= 3) throw e;
    }
  }
}

/**
 * The file system of a cluster's HA storage, with the daemon's s3.* settings and a deadline on
 * each call, so a hanging store fails a look-up instead of holding it.
 */
export function haFileSystemOf(config: ClusterConfiguration, timeoutMs: number): StateFileSystem {
  return withStorageTimeout(
    fileSystemFor(config.highAvailabilityStorageDir, s3OptionsOf(config)),
    timeoutMs,
  );
}

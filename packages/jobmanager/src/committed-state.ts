/**
 * Queryable state in `committed` mode: a key's value as of the job's latest completed checkpoint
 * (or savepoint), read from that checkpoint's files rather than from the running subtasks. One
 * checkpoint is one consistent cut of the whole job, so values read for many keys, in one request
 * or in several, agree with each other as long as they name the same checkpoint id; the running
 * job is not touched at all. docs/state-access.md, "Read modes".
 *
 * A key group is read and indexed once per checkpoint (one ranged read of its block, or of each
 * file of an incremental chain), then every key of it is one Map lookup; a newer checkpoint
 * replaces the view and its index.
 */
import type { Key } from '@nimble/api';
import {
  assignToKeyGroup,
  encodeKey,
  operatorIndexForKeyGroup,
  NimbleError,
  openSavepoint,
  StateFileNotFoundError,
} from '@nimble/runtime';
import type { SavepointView, StateFileSystem, StoredKind } from '@nimble/runtime';
import type { CompletedCheckpoint } from './checkpoint-coordinator.js';
import type { JobMaster } from './job-master.js';
import { StateQueryError } from './state-query.js';
import type { KeyLookup, QueryableStateLocation } from './state-query.js';

/** What a committed read returns: the checkpoint it read and one answer per key, in order. */
export interface CommittedRead {
  readonly checkpointId: number;
  /** When the checkpoint completed (ms since the epoch). */
  readonly checkpointTimestamp: number;
  readonly results: readonly { readonly found: boolean; readonly value: unknown }[];
}

/** The state a committed read is asked for: the operator's uid and the state's name. */
export interface CommittedStateTarget {
  readonly jobId: string;
  readonly operatorUid: string;
  readonly stateName: string;
  /** The state's time-to-live in ms: an entry whose last access is older reads as absent. */
  readonly ttlMs?: number;
}

/**
 * A committed read cannot be answered now. `retryable` says whether asking again later can
 * help: no checkpoint has completed yet (it will, with checkpointing on), against a job without
 * checkpointing (it never will).
 */
export class CommittedStateUnavailableError extends NimbleError {
  override name = 'CommittedStateUnavailableError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, 'user', options);
  }
}

/** One state of one key group, by the latin1 string of each key's canonical bytes (namespace ''). */
interface IndexedState {
  readonly kind: StoredKind;
  readonly byKey: Map<string, unknown>;
}
type KeyGroupIndex = Map<string, IndexedState>;

interface Generation {
  readonly checkpoint: CompletedCheckpoint;
  readonly view: Promise<SavepointView>;
  inFlight: number;
  retired: boolean;
}

const DEFAULT_CACHED_KEY_GROUPS = 1024;

/**
 * Reads committed state of every job of a JobManager. The indexed key groups of all jobs share
 * one bound (least recently used go first), so memory does not grow with the jobs it served.
 */
export class CommittedStateReader {
  private readonly generations = new Map<string, Generation>();
  /** Indexed key groups, least recently used first: `${jobId}/${checkpointId}/${uid}/${keyGroup}`. */
  private readonly keyGroups = new Map<string, Promise<KeyGroupIndex>>();

  constructor(private readonly maxCachedKeyGroups = DEFAULT_CACHED_KEY_GROUPS) {}

  /**
   * Reads `keys` of the target state from `checkpoint` (the job's latest completed one; undefined
   * when none completed yet, and `checkpointing` says whether one will). `fileSystemOf` gives
   * the file system of a checkpoint URI (the JobManager's, with its s3.* settings and deadlines).
   */
  async read(
    fileSystemOf: (uri: string) => StateFileSystem,
    target: CommittedStateTarget,
    checkpoint: CompletedCheckpoint | undefined,
    checkpointing: boolean,
    keys: readonly Key[],
    now = Date.now(),
  ): Promise<CommittedRead> {
    if (checkpoint === undefined) {
      throw checkpointing
        ? new CommittedStateUnavailableError(
            `Job ${target.jobId} has no completed checkpoint yet: committed reads answer from the latest completed checkpoint; retry after the first one completes, or read with mode=live`,
            true,
          )
        : new CommittedStateUnavailableError(
            `Job ${target.jobId} does not take checkpoints, so it has no committed state: read with mode=live, or enable checkpointing (execution.checkpointing.interval)`,
            false,
          );
    }
    const generation = this.generationOf(fileSystemOf, target.jobId, checkpoint);
    generation.inFlight++;
    try {
      const view = await generation.view;
      const operator = view.metadata.operators.find((o) => o.uid === target.operatorUid);
      const results = [];
      for (const key of keys) {
        if (operator === undefined) {
          results.push({ found: false, value: undefined });
          continue;
        }
        const keyGroup = assignToKeyGroup(key, operator.maxParallelism);
        const index = await this.keyGroupIndex(target, view, checkpoint.id, keyGroup);
        const state = index.get(target.stateName);
        const stored = state?.byKey.get(Buffer.from(encodeKey(key)).toString('latin1'));
        results.push(valueOf(state?.kind ?? 'value', stored, target.ttlMs, now));
      }
      return {
        checkpointId: checkpoint.id,
        checkpointTimestamp: checkpoint.completedTimestamp,
        results,
      };
    } catch (e) {
      if (e instanceof CommittedStateUnavailableError) throw e;
      // A checkpoint subsumed (and deleted) while it was read: the caller asks again, and the
      // next read takes the newer one.
      const gone = e instanceof StateFileNotFoundError;
      throw new CommittedStateUnavailableError(
        gone
          ? `Checkpoint ${checkpoint.id} of job ${target.jobId} was discarded while it was read; retry`
          : `Cannot read the committed state "${target.stateName}" of job ${target.jobId} from checkpoint ${checkpoint.id}: ${(e as Error).message}`,
        gone,
        { cause: e },
      );
    } finally {
      generation.inFlight--;
      this.closeIfRetired(generation);
    }
  }

  /** Drops what is held for a job (it ended, or it restarts from another checkpoint). */
  forget(jobId: string): void {
    const generation = this.generations.get(jobId);
    if (generation === undefined) return;
    this.generations.delete(jobId);
    this.retire(generation);
  }

  private generationOf(
    fileSystemOf: (uri: string) => StateFileSystem,
    jobId: string,
    checkpoint: CompletedCheckpoint,
  ): Generation {
    const current = this.generations.get(jobId);
    if (current !== undefined && current.checkpoint.id === checkpoint.id) return current;
    if (current !== undefined) this.retire(current);
    const view = openSavepoint(checkpoint.metadataDir, {
      fileSystem: fileSystemOf(checkpoint.metadataDir),
    });
    view.catch(() => {
      // A view that cannot be opened is dropped, so the next read tries again.
      if (this.generations.get(jobId) === generation) this.generations.delete(jobId);
    });
    const generation: Generation = { checkpoint, view, inFlight: 0, retired: false };
    this.generations.set(jobId, generation);
    return generation;
  }

  private retire(generation: Generation): void {
    generation.retired = true;
    const prefix = `${generation.checkpoint.metadata.jobId}/${generation.checkpoint.id}/`;
    for (const k of [...this.keyGroups.keys()]) if (k.startsWith(prefix)) this.keyGroups.delete(k);
    this.closeIfRetired(generation);
  }

  private closeIfRetired(generation: Generation): void {
    if (!generation.retired || generation.inFlight > 0) return;
    generation.view.then(
      (v) => v.close(),
      () => undefined,
    );
  }

  private keyGroupIndex(
    target: CommittedStateTarget,
    view: SavepointView,
    checkpointId: number,
    keyGroup: number,
  ): Promise<KeyGroupIndex> {
    const cacheKey = `${target.jobId}/${checkpointId}/${target.operatorUid}/${keyGroup}`;
    const cached = this.keyGroups.get(cacheKey);
    if (cached !== undefined) {
      this.keyGroups.delete(cacheKey); // most recently used last
      this.keyGroups.set(cacheKey, cached);
      return cached;
    }
    const index = view
      .operator(target.operatorUid)
      .readKeyGroup(keyGroup)
      .then(({ states }) => {
        const out: KeyGroupIndex = new Map();
        for (const state of states) {
          const byKey = new Map<string, unknown>();
          const { entries } = state;
          for (let i = 0; i < entries.length; i += 3) {
            if (entries[i + 1] !== '') continue; // window namespaces are not queryable
            byKey.set(Buffer.from(entries[i] as Uint8Array).toString('latin1'), entries[i + 2]);
          }
          out.set(state.name, { kind: state.kind, byKey });
        }
        return out;
      });
    index.catch(() => this.keyGroups.delete(cacheKey));
    this.keyGroups.set(cacheKey, index);
    while (this.keyGroups.size > this.maxCachedKeyGroups) {
      this.keyGroups.delete(this.keyGroups.keys().next().value!);
    }
    return index;
  }
}

/**
 * The user's value of a stored entry, TTL taken off. An entry (or, for list and map state, an
 * element) whose last access is `ttlMs` or more ago reads as absent, as a live read with
 * `NeverReturnExpired` would: the checkpoint may hold entries that expired and were not cleaned
 * up yet.
 */
function valueOf(
  kind: StoredKind,
  stored: unknown,
  ttlMs: number | undefined,
  now: number,
): { found: boolean; value: unknown } {
  const absent = { found: false, value: undefined };
  if (stored === undefined) return absent;
  if (!kind.endsWith('+ttl')) return { found: true, value: stored };
  const live = (lastAccess: number): boolean => ttlMs === undefined || lastAccess + ttlMs > now;
  if (kind === 'map+ttl') {
    const out = new Map<unknown, unknown>();
    for (const [k, [v, t]] of stored as Map<unknown, [unknown, number]>) if (live(t)) out.set(k, v);
    return out.size > 0 ? { found: true, value: out } : absent;
  }
  if (kind === 'list+ttl') {
    const elements = (stored as [unknown, number][]).filter((p) => live(p[1])).map((p) => p[0]);
    return elements.length > 0 ? { found: true, value: elements } : absent;
  }
  const [value, lastAccess] = stored as [unknown, number];
  return live(lastAccess) ? { found: true, value } : absent;
}

/** One for the JobManager: its bound on indexed key groups holds over all jobs. */
const committedStateReader = new CommittedStateReader();

/**
 * Lookups in `mode=committed`: the values of `keys` of the queryable state at `registration` as
 * of the job's latest completed checkpoint or savepoint, in the order of `keys`. Aggregating
 * state is refused: its value is the result of the job's AggregateFunction, and the JobManager
 * does not run job code.
 */
export async function readCommittedState(
  job: JobMaster,
  registration: QueryableStateLocation,
  keys: readonly Key[],
): Promise<KeyLookup[]> {
  if (registration.kind === 'aggregating') {
    throw new StateQueryError(
      'bad-request',
      `State "${registration.name}" of job ${job.jobId} is aggregating state: its value is the ` +
        "result of the job's AggregateFunction, which only the TaskManagers run, so it cannot be " +
        'read in mode "committed"; use mode "live"',
    );
  }
  const checkpoint = job.checkpoints.latestCompleted();
  let read: CommittedRead;
  try {
    read = await committedStateReader.read(
      (uri) => job.fileSystem(uri),
      {
        jobId: job.jobId,
        operatorUid: registration.operatorUid,
        stateName: registration.stateName,
        ttlMs: registration.ttlMillis > 0 ? registration.ttlMillis : undefined,
      },
      checkpoint,
      job.checkpoints.settings.interval > 0,
      keys,
    );
  } catch (e) {
    if (!(e instanceof CommittedStateUnavailableError)) throw e;
    throw new StateQueryError(e.retryable ? 'unavailable' : 'bad-request', e.message, { cause: e });
  }
  // The key group and the subtask that wrote it into the checkpoint (its parallelism then).
  const operator = checkpoint!.metadata.operators.find((o) => o.uid === registration.operatorUid);
  const maxParallelism = operator?.maxParallelism ?? registration.maxParallelism;
  const parallelism = operator?.parallelism ?? registration.parallelism;
  return read.results.map((r, i) => {
    const keyGroup = assignToKeyGroup(keys[i]!, maxParallelism);
    const subtask = operatorIndexForKeyGroup(maxParallelism, parallelism, keyGroup);
    return { ...r, keyGroup, subtask, checkpointId: read.checkpointId };
  });
}

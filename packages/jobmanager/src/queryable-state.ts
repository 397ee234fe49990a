import type { Key } from '@nimble/api';
import { RpcError, status } from '@nimble/proto';
import {
  assignToKeyGroup,
  ensureError,
  keyProblem,
  NimbleError,
  operatorIndexForKeyGroup,
} from '@nimble/runtime';
import { deserialize, serialize } from 'node:v8';
import { readCommittedState } from './committed-state.js';
import { queryChannelOf } from './query-channel.js';
import { MAX_KEYS_PER_LOOKUP, StateQueryError } from './state-query.js';
import type { KeyLookup, QueryableStateLocation, StateQueryMode } from './state-query.js';
import type { JobMaster } from './job-master.js';
import { isTerminal } from './job-status.js';

/** A key of a lookup, checked as the runtime checks keys; a bad one is a bad request. */
export function checkLookupKey(key: unknown, where: string): Key {
  const problem = keyProblem(key);
  if (problem === undefined) return key as Key;
  throw new StateQueryError(
    'bad-request',
    `${where} is ${problem}; keys are strings, finite numbers, bigints, booleans or arrays of them`,
  );
}

/** The mode parameter: `live` when absent or empty. */
export function parseStateQueryMode(mode: unknown): StateQueryMode {
  if (mode === undefined || mode === null || mode === '' || mode === 'live') return 'live';
  if (mode === 'committed') return 'committed';
  throw new StateQueryError(
    'bad-request',
    `mode must be "live" or "committed"; got ${JSON.stringify(mode)}`,
  );
}

/**
 * Records a registration of subtask `subtask` of `vertexId` (Flink's
 * KvStateLocationRegistry.notifyKvStateRegistered). Throws when another operator registered the
 * name: the job cannot run with two states under one name.
 */
export function registerQueryableState(
  states: Map<string, QueryableStateLocation>,
  location: QueryableStateLocation,
): void {
  const existing = states.get(location.name);
  if (
    existing !== undefined &&
    (existing.operatorUid !== location.operatorUid || existing.stateName !== location.stateName)
  ) {
    throw new QueryableStateNameClashError(
      `Registration name clash: queryable state "${location.name}" is registered by operator ` +
        `"${existing.operatorName}" (uid ${existing.operatorUid}, state "${existing.stateName}") and by ` +
        `operator "${location.operatorName}" (uid ${location.operatorUid}, state "${location.stateName}"); ` +
        'give each queryable state its own name (StateDescriptor.setQueryable)',
    );
  }
  states.set(location.name, location);
}

/** Two operators of a job registered the same queryable state name: the job fails (no restart helps). */
export class QueryableStateNameClashError extends NimbleError {
  override name = 'QueryableStateNameClashError';
  /** A restart would clash again. */
  readonly suppressRestarts = true;
  constructor(message: string) {
    super(message, 'user');
  }
}

/** The names a job's lookups may use, for messages. */
function knownNames(job: JobMaster): string {
  const names = [...job.queryableStates.keys()].sort();
  return names.length === 0
    ? 'it has registered none (yet: a state registers when its operator first gets it)'
    : `its queryable states: ${names.map((n) => JSON.stringify(n)).join(', ')}`;
}

/** The location of `name` in `job`, or a not-found error listing the job's names. */
export function locateQueryableState(job: JobMaster, name: string): QueryableStateLocation {
  const location = job.queryableStates.get(name);
  if (location === undefined) {
    throw new StateQueryError(
      'not-found',
      `Job ${job.jobId} has no queryable state ${JSON.stringify(name)}; ${knownNames(job)}`,
    );
  }
  return location;
}

/**
 * Looks `keys` up in queryable state `name` of `job`: `live` from the subtasks that own the keys'
 * key groups (one call per owning subtask, in parallel), `committed` from the latest completed
 * checkpoint. Results in the order of `keys`.
 */
export async function queryState(
  job: JobMaster,
  name: string,
  keys: readonly Key[],
  mode: StateQueryMode,
): Promise<KeyLookup[]> {
  // A cancelling or failing job ends without a restart: retrying would not help.
  if (isTerminal(job.status) || job.status === 'CANCELLING' || job.status === 'FAILING') {
    throw new StateQueryError(
      'ended',
      `Job ${job.jobId} is ${job.status}: its state can no longer be looked up`,
    );
  }
  const location = locateQueryableState(job, name);
  if (keys.length > MAX_KEYS_PER_LOOKUP) {
    throw new StateQueryError(
      'bad-request',
      `A lookup may ask for at most ${MAX_KEYS_PER_LOOKUP} keys; got ${keys.length}: split it`,
    );
  }
  if (mode === 'committed') return readCommittedState(job, location, keys);
  if (job.status !== 'RUNNING') {
    throw new StateQueryError(
      'unavailable',
      `Job ${job.jobId} is ${job.status}, not RUNNING: state "${name}" cannot be looked up now; ` +
        'this is temporary, retry',
    );
  }
  const vertex = job.submission.plan.vertices.find((v) => v.id === location.vertexId);
  const parallelism = vertex?.parallelism ?? location.parallelism;
  const maxParallelism = vertex?.maxParallelism ?? location.maxParallelism;
  const results = new Array<KeyLookup>(keys.length);
  const bySubtask = new Map<number, number[]>();
  const keyGroups = keys.map((key, i) => {
    const keyGroup = assignToKeyGroup(key, maxParallelism);
    const subtask = operatorIndexForKeyGroup(maxParallelism, parallelism, keyGroup);
    let indexes = bySubtask.get(subtask);
    if (indexes === undefined) bySubtask.set(subtask, (indexes = []));
    indexes.push(i);
    return keyGroup;
  });
  await Promise.all(
    [...bySubtask].map(async ([subtask, indexes]) => {
      const values = await querySubtask(
        job,
        location,
        subtask,
        indexes.map((i) => keys[i]!),
      );
      indexes.forEach((index, j) => {
        const { found, value } = values[j] ?? { found: false, value: undefined };
        results[index] = { found, value, keyGroup: keyGroups[index]!, subtask };
      });
    }),
  );
  return results;
}

/** The TaskManager running `subtask` answers for `keys`. */
async function querySubtask(
  job: JobMaster,
  location: QueryableStateLocation,
  subtask: number,
  keys: Key[],
): Promise<{ found: boolean; value: unknown }[]> {
  const where = `subtask ${subtask} of "${location.operatorName}"`;
  const unavailable = (why: string, cause?: unknown): StateQueryError =>
    new StateQueryError(
      'unavailable',
      `State "${location.name}" of job ${job.jobId} cannot be looked up now: ${why}; this is temporary, retry`,
      { cause },
    );
  if (job.finishedTasks.has(`${location.vertexId}/${subtask}`)) {
    throw new StateQueryError(
      'ended',
      `State "${location.name}" of job ${job.jobId}: ${where} has finished, its state is gone`,
    );
  }
  const placement = job.placement(subtask);
  if (placement === undefined) throw unavailable(`${where} is not deployed`);
  const tm = placement.taskManager;
  let bytes: Uint8Array;
  try {
    bytes = await queryChannelOf(tm.client).query({
      attempt: { jobId: job.jobId, attempt: placement.attempt },
      vertexId: location.vertexId,
      subtask,
      name: location.name,
      keys: serialize(keys),
    });
  } catch (e) {
    const code = e instanceof RpcError ? e.code : status.UNKNOWN;
    const details = e instanceof RpcError ? e.details : ensureError(e).message;
    // The job knows the name, but this subtask has not registered it yet (an operator that gets
    // its state lazily and saw none of these keys): it holds nothing for them.
    if (code === status.NOT_FOUND) return keys.map(() => ({ found: false, value: undefined }));
    if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED)
      throw unavailable(`${where} on TaskManager ${tm.resourceId}: ${details}`, e);
    throw new StateQueryError(
      'failed',
      `Looking up state "${location.name}" of job ${job.jobId} in ${where} on TaskManager ` +
        `${tm.resourceId} failed: ${details}`,
      { cause: e },
    );
  }
  const values = deserialize(bytes) as { found: boolean; value: unknown }[];
  if (!Array.isArray(values) || values.length !== keys.length) {
    throw new StateQueryError(
      'failed',
      `TaskManager ${tm.resourceId} answered a lookup of ${keys.length} keys of state "${location.name}" with a malformed result`,
    );
  }
  return values;
}

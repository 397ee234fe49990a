import type { Key } from '@nimble/api';
import type { JobMaster } from './job-master.js';
import type { KeyLookup, QueryableStateLocation } from './state-query.js';
import { StateQueryError } from './state-query.js';

/**
 * Lookups in `mode=committed`: the values of `keys` of the queryable state at `registration` as
 * of the job's latest completed checkpoint, in the order of `keys`. Not served yet: answers
 * 501 (REST) / UNIMPLEMENTED (gRPC).
 */
export function readCommittedState(
  job: JobMaster,
  registration: QueryableStateLocation,
  keys: readonly Key[],
): Promise<KeyLookup[]> {
  void keys;
  return Promise.reject(
    new StateQueryError(
      'not-implemented',
      `Lookups of state "${registration.name}" of job ${job.jobId} in mode "committed" (as of the ` +
        'latest completed checkpoint) are not implemented yet; use mode "live"',
    ),
  );
}

// Original file: proto/nimble/v1/jobmanager.proto

import type { JobDetails as _nimble_v1_JobDetails, JobDetails__Output as _nimble_v1_JobDetails__Output } from '../../nimble/v1/JobDetails.js';
import type { JobResult as _nimble_v1_JobResult, JobResult__Output as _nimble_v1_JobResult__Output } from '../../nimble/v1/JobResult.js';

export interface JobEvent {
  'job'?: (_nimble_v1_JobDetails | null);
  /**
   * Set on the last event, when the job FINISHED.
   */
  'result'?: (_nimble_v1_JobResult | null);
}

export interface JobEvent__Output {
  'job': (_nimble_v1_JobDetails__Output | null);
  /**
   * Set on the last event, when the job FINISHED.
   */
  'result': (_nimble_v1_JobResult__Output | null);
}

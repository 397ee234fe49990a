// Original file: proto/nimble/v1/jobmanager.proto

import type { JobDetails as _nimble_v1_JobDetails, JobDetails__Output as _nimble_v1_JobDetails__Output } from '../../nimble/v1/JobDetails.js';

export interface ListJobsResponse {
  'jobs'?: (_nimble_v1_JobDetails)[];
}

export interface ListJobsResponse__Output {
  'jobs': (_nimble_v1_JobDetails__Output)[];
}

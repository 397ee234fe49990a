// Original file: proto/nimble/v1/jobmanager.proto

import type { TaskMetrics as _nimble_v1_TaskMetrics, TaskMetrics__Output as _nimble_v1_TaskMetrics__Output } from '../../nimble/v1/TaskMetrics.js';

export interface AttemptMetrics {
  'jobId'?: (string);
  'attempt'?: (number);
  'tasks'?: (_nimble_v1_TaskMetrics)[];
}

export interface AttemptMetrics__Output {
  'jobId': (string);
  'attempt': (number);
  'tasks': (_nimble_v1_TaskMetrics__Output)[];
}

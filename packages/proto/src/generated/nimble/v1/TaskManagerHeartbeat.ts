// Original file: proto/nimble/v1/jobmanager.proto

import type { AttemptMetrics as _nimble_v1_AttemptMetrics, AttemptMetrics__Output as _nimble_v1_AttemptMetrics__Output } from '../../nimble/v1/AttemptMetrics.js';

export interface TaskManagerHeartbeat {
  'resourceId'?: (string);
  'metrics'?: (_nimble_v1_AttemptMetrics)[];
  'registrationId'?: (string);
}

export interface TaskManagerHeartbeat__Output {
  'resourceId': (string);
  'metrics': (_nimble_v1_AttemptMetrics__Output)[];
  'registrationId': (string);
}

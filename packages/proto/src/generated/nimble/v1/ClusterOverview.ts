// Original file: proto/nimble/v1/jobmanager.proto

import type { TaskManagerDetails as _nimble_v1_TaskManagerDetails, TaskManagerDetails__Output as _nimble_v1_TaskManagerDetails__Output } from '../../nimble/v1/TaskManagerDetails.js';

export interface ClusterOverview {
  'taskManagers'?: (_nimble_v1_TaskManagerDetails)[];
  'slotsTotal'?: (number);
  'slotsAvailable'?: (number);
  'jobsRunning'?: (number);
  'jobsFinished'?: (number);
  'jobsCancelled'?: (number);
  'jobsFailed'?: (number);
}

export interface ClusterOverview__Output {
  'taskManagers': (_nimble_v1_TaskManagerDetails__Output)[];
  'slotsTotal': (number);
  'slotsAvailable': (number);
  'jobsRunning': (number);
  'jobsFinished': (number);
  'jobsCancelled': (number);
  'jobsFailed': (number);
}

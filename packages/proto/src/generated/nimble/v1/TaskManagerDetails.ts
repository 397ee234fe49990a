// Original file: proto/nimble/v1/jobmanager.proto

import type { HardwareDescription as _nimble_v1_HardwareDescription, HardwareDescription__Output as _nimble_v1_HardwareDescription__Output } from '../../nimble/v1/HardwareDescription.js';

export interface TaskManagerDetails {
  'resourceId'?: (string);
  'address'?: (string);
  'metricsAddress'?: (string);
  'slotsTotal'?: (number);
  'slotsFree'?: (number);
  'lastHeartbeat'?: (number | string);
  'hardware'?: (_nimble_v1_HardwareDescription | null);
}

export interface TaskManagerDetails__Output {
  'resourceId': (string);
  'address': (string);
  'metricsAddress': (string);
  'slotsTotal': (number);
  'slotsFree': (number);
  'lastHeartbeat': (number);
  'hardware': (_nimble_v1_HardwareDescription__Output | null);
}

// Original file: proto/nimble/v1/jobmanager.proto

import type { HardwareDescription as _nimble_v1_HardwareDescription, HardwareDescription__Output as _nimble_v1_HardwareDescription__Output } from '../../nimble/v1/HardwareDescription.js';

export interface RegisterTaskManagerRequest {
  'resourceId'?: (string);
  /**
   * host:port of the TaskManager's gRPC server (control and data exchange).
   */
  'address'?: (string);
  'numberOfSlots'?: (number);
  /**
   * host:port of the TaskManager's Prometheus endpoint.
   */
  'metricsAddress'?: (string);
  'hardware'?: (_nimble_v1_HardwareDescription | null);
}

export interface RegisterTaskManagerRequest__Output {
  'resourceId': (string);
  /**
   * host:port of the TaskManager's gRPC server (control and data exchange).
   */
  'address': (string);
  'numberOfSlots': (number);
  /**
   * host:port of the TaskManager's Prometheus endpoint.
   */
  'metricsAddress': (string);
  'hardware': (_nimble_v1_HardwareDescription__Output | null);
}

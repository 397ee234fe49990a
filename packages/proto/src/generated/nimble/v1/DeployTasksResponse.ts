// Original file: proto/nimble/v1/taskmanager.proto

import type { SerializedError as _nimble_v1_SerializedError, SerializedError__Output as _nimble_v1_SerializedError__Output } from '../../nimble/v1/SerializedError.js';

export interface DeployTasksResponse {
  /**
   * Set when a slot failed to deploy (the attempt's workers here were released).
   */
  'failure'?: (_nimble_v1_SerializedError | null);
}

export interface DeployTasksResponse__Output {
  /**
   * Set when a slot failed to deploy (the attempt's workers here were released).
   */
  'failure': (_nimble_v1_SerializedError__Output | null);
}

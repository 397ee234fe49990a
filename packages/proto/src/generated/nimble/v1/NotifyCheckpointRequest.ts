// Original file: proto/nimble/v1/taskmanager.proto

import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from '../../nimble/v1/AttemptRef.js';
import type { Long } from '@grpc/proto-loader';

export interface NotifyCheckpointRequest {
  'attempt'?: (_nimble_v1_AttemptRef | null);
  'checkpointId'?: (number | string | Long);
  'aborted'?: (boolean);
}

export interface NotifyCheckpointRequest__Output {
  'attempt': (_nimble_v1_AttemptRef__Output | null);
  'checkpointId': (number);
  'aborted': (boolean);
}

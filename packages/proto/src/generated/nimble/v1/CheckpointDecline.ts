// Original file: proto/nimble/v1/jobmanager.proto

import type { SerializedError as _nimble_v1_SerializedError, SerializedError__Output as _nimble_v1_SerializedError__Output } from '../../nimble/v1/SerializedError.js';
import type { Long } from '@grpc/proto-loader';

export interface CheckpointDecline {
  'jobId'?: (string);
  'attempt'?: (number);
  'vertexId'?: (number);
  'subtask'?: (number);
  'checkpointId'?: (number | string | Long);
  'error'?: (_nimble_v1_SerializedError | null);
  'registrationId'?: (string);
  'executionId'?: (string);
}

export interface CheckpointDecline__Output {
  'jobId': (string);
  'attempt': (number);
  'vertexId': (number);
  'subtask': (number);
  'checkpointId': (number);
  'error': (_nimble_v1_SerializedError__Output | null);
  'registrationId': (string);
  'executionId': (string);
}

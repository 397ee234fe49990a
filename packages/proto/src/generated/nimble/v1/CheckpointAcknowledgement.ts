// Original file: proto/nimble/v1/jobmanager.proto

import type { Long } from '@grpc/proto-loader';

export interface CheckpointAcknowledgement {
  'jobId'?: (string);
  'attempt'?: (number);
  'vertexId'?: (number);
  'subtask'?: (number);
  'checkpointId'?: (number | string | Long);
  /**
   * JSON: the subtask's state handles by operator uid, size and durations.
   */
  'stateJson'?: (string);
}

export interface CheckpointAcknowledgement__Output {
  'jobId': (string);
  'attempt': (number);
  'vertexId': (number);
  'subtask': (number);
  'checkpointId': (number);
  /**
   * JSON: the subtask's state handles by operator uid, size and durations.
   */
  'stateJson': (string);
}

// Original file: proto/nimble/v1/taskmanager.proto

import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from '../../nimble/v1/AttemptRef.js';
import type { SlotLocation as _nimble_v1_SlotLocation, SlotLocation__Output as _nimble_v1_SlotLocation__Output } from '../../nimble/v1/SlotLocation.js';
import type { SubtaskExecution as _nimble_v1_SubtaskExecution, SubtaskExecution__Output as _nimble_v1_SubtaskExecution__Output } from '../../nimble/v1/SubtaskExecution.js';

export interface DeployTasksRequest {
  'attempt'?: (_nimble_v1_AttemptRef | null);
  'jobName'?: (string);
  /**
   * Content hash of the job bundle, fetched from the JobManager's blob server.
   */
  'bundleHash'?: (string);
  /**
   * Digest of the job graph the client built: every worker must build the same.
   */
  'graphDigest'?: (string);
  'configuration'?: ({[key: string]: string});
  'programArgs'?: (string)[];
  /**
   * The job slots this TaskManager runs (subtask i of every vertex runs in job slot i).
   */
  'jobSlots'?: (number)[];
  /**
   * Where every job slot of the attempt runs.
   */
  'locations'?: (_nimble_v1_SlotLocation)[];
  /**
   * The checkpoint or savepoint to restore from: the directory of its _metadata and its content.
   */
  'restoreMetadataDir'?: (string);
  'restoreMetadata'?: (Buffer | Uint8Array | string);
  /**
   * The execution attempt ids of the subtasks this TaskManager runs: its reports carry them.
   */
  'executions'?: (_nimble_v1_SubtaskExecution)[];
}

export interface DeployTasksRequest__Output {
  'attempt': (_nimble_v1_AttemptRef__Output | null);
  'jobName': (string);
  /**
   * Content hash of the job bundle, fetched from the JobManager's blob server.
   */
  'bundleHash': (string);
  /**
   * Digest of the job graph the client built: every worker must build the same.
   */
  'graphDigest': (string);
  'configuration': ({[key: string]: string});
  'programArgs': (string)[];
  /**
   * The job slots this TaskManager runs (subtask i of every vertex runs in job slot i).
   */
  'jobSlots': (number)[];
  /**
   * Where every job slot of the attempt runs.
   */
  'locations': (_nimble_v1_SlotLocation__Output)[];
  /**
   * The checkpoint or savepoint to restore from: the directory of its _metadata and its content.
   */
  'restoreMetadataDir': (string);
  'restoreMetadata': (Buffer);
  /**
   * The execution attempt ids of the subtasks this TaskManager runs: its reports carry them.
   */
  'executions': (_nimble_v1_SubtaskExecution__Output)[];
}

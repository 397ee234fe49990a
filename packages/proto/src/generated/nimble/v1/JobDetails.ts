// Original file: proto/nimble/v1/jobmanager.proto

import type { VertexDetails as _nimble_v1_VertexDetails, VertexDetails__Output as _nimble_v1_VertexDetails__Output } from '../../nimble/v1/VertexDetails.js';
import type { SerializedError as _nimble_v1_SerializedError, SerializedError__Output as _nimble_v1_SerializedError__Output } from '../../nimble/v1/SerializedError.js';

export interface JobDetails {
  'jobId'?: (string);
  'name'?: (string);
  /**
   * CREATED, RUNNING, FAILING, RESTARTING, CANCELLING, CANCELED, FINISHED, FAILED
   */
  'state'?: (string);
  'startTime'?: (number | string);
  /**
   * -1 while the job runs.
   */
  'endTime'?: (number | string);
  /**
   * What the job waits for or why it failed, for people.
   */
  'statusMessage'?: (string);
  'vertices'?: (_nimble_v1_VertexDetails)[];
  'numRestarts'?: (number);
  'slotsRequired'?: (number);
  'failure'?: (_nimble_v1_SerializedError | null);
}

export interface JobDetails__Output {
  'jobId': (string);
  'name': (string);
  /**
   * CREATED, RUNNING, FAILING, RESTARTING, CANCELLING, CANCELED, FINISHED, FAILED
   */
  'state': (string);
  'startTime': (number);
  /**
   * -1 while the job runs.
   */
  'endTime': (number);
  /**
   * What the job waits for or why it failed, for people.
   */
  'statusMessage': (string);
  'vertices': (_nimble_v1_VertexDetails__Output)[];
  'numRestarts': (number);
  'slotsRequired': (number);
  'failure': (_nimble_v1_SerializedError__Output | null);
}

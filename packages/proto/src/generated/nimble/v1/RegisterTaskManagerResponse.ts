// Original file: proto/nimble/v1/jobmanager.proto


export interface RegisterTaskManagerResponse {
  'jobManagerId'?: (string);
  /**
   * A random 128-bit id (hex) of this registration: every later call of the TaskManager
   * (heartbeats, reports) carries it, and the JobManager accepts it from no one else.
   */
  'registrationId'?: (string);
}

export interface RegisterTaskManagerResponse__Output {
  'jobManagerId': (string);
  /**
   * A random 128-bit id (hex) of this registration: every later call of the TaskManager
   * (heartbeats, reports) carries it, and the JobManager accepts it from no one else.
   */
  'registrationId': (string);
}

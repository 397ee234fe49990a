// Original file: proto/nimble/v1/taskmanager.proto


/**
 * One execution attempt of a job: attempt numbers grow with each restart.
 */
export interface AttemptRef {
  'jobId'?: (string);
  'attempt'?: (number);
}

/**
 * One execution attempt of a job: attempt numbers grow with each restart.
 */
export interface AttemptRef__Output {
  'jobId': (string);
  'attempt': (number);
}

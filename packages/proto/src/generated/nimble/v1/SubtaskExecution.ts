// Original file: proto/nimble/v1/taskmanager.proto


/**
 * The execution attempt id (random, 128 bits, hex) of one subtask of the attempt.
 */
export interface SubtaskExecution {
  'vertexId'?: (number);
  'subtask'?: (number);
  'executionId'?: (string);
}

/**
 * The execution attempt id (random, 128 bits, hex) of one subtask of the attempt.
 */
export interface SubtaskExecution__Output {
  'vertexId': (number);
  'subtask': (number);
  'executionId': (string);
}

// Original file: proto/nimble/v1/jobmanager.proto


export interface QueryableStateRegistration {
  'jobId'?: (string);
  'attempt'?: (number);
  'vertexId'?: (number);
  'subtask'?: (number);
  'registrationId'?: (string);
  'executionId'?: (string);
  'queryableStateName'?: (string);
  /**
   * The state's own name in its operator.
   */
  'stateName'?: (string);
  /**
   * "value", "list", "map", "reducing" or "aggregating".
   */
  'kind'?: (string);
  'ttl'?: (boolean);
  'operatorUid'?: (string);
  'operatorName'?: (string);
  'parallelism'?: (number);
  'maxParallelism'?: (number);
}

export interface QueryableStateRegistration__Output {
  'jobId': (string);
  'attempt': (number);
  'vertexId': (number);
  'subtask': (number);
  'registrationId': (string);
  'executionId': (string);
  'queryableStateName': (string);
  /**
   * The state's own name in its operator.
   */
  'stateName': (string);
  /**
   * "value", "list", "map", "reducing" or "aggregating".
   */
  'kind': (string);
  'ttl': (boolean);
  'operatorUid': (string);
  'operatorName': (string);
  'parallelism': (number);
  'maxParallelism': (number);
}

// Original file: proto/nimble/v1/jobmanager.proto


export interface SourceReaderRegistration {
  'jobId'?: (string);
  'attempt'?: (number);
  'vertexId'?: (number);
  'subtask'?: (number);
  'registrationId'?: (string);
  'executionId'?: (string);
}

export interface SourceReaderRegistration__Output {
  'jobId': (string);
  'attempt': (number);
  'vertexId': (number);
  'subtask': (number);
  'registrationId': (string);
  'executionId': (string);
}

// Original file: proto/nimble/v1/jobmanager.proto


export interface VertexDetails {
  'id'?: (number);
  'name'?: (string);
  'parallelism'?: (number);
  'maxParallelism'?: (number);
  'status'?: (string);
  'recordsIn'?: (number | string);
  'recordsOut'?: (number | string);
}

export interface VertexDetails__Output {
  'id': (number);
  'name': (string);
  'parallelism': (number);
  'maxParallelism': (number);
  'status': (string);
  'recordsIn': (number);
  'recordsOut': (number);
}

// Original file: proto/nimble/v1/jobmanager.proto


export interface VertexDetails {
  'id'?: (number);
  'name'?: (string);
  'parallelism'?: (number);
  'maxParallelism'?: (number);
  'status'?: (string);
  'recordsIn'?: (number | string);
  'recordsOut'?: (number | string);
  /**
   * Bytes of network buffers the vertex's subtasks took in and produced.
   */
  'bytesIn'?: (number | string);
  'bytesOut'?: (number | string);
}

export interface VertexDetails__Output {
  'id': (number);
  'name': (string);
  'parallelism': (number);
  'maxParallelism': (number);
  'status': (string);
  'recordsIn': (number);
  'recordsOut': (number);
  /**
   * Bytes of network buffers the vertex's subtasks took in and produced.
   */
  'bytesIn': (number);
  'bytesOut': (number);
}

// Original file: proto/nimble/v1/taskmanager.proto


export interface TaskQueryStateResponse {
  /**
   * V8-serialized array, one `{ found, value }` per key, in the order of the keys.
   */
  'results'?: (Buffer | Uint8Array | string);
}

export interface TaskQueryStateResponse__Output {
  /**
   * V8-serialized array, one `{ found, value }` per key, in the order of the keys.
   */
  'results': (Buffer);
}

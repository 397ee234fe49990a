// Original file: proto/nimble/v1/jobmanager.proto


export interface QueryStateRequest {
  'jobId'?: (string);
  /**
   * The queryable state name.
   */
  'name'?: (string);
  /**
   * V8-serialized array of keys.
   */
  'keys'?: (Buffer | Uint8Array | string);
  /**
   * "live" (default when empty) or "committed".
   */
  'mode'?: (string);
}

export interface QueryStateRequest__Output {
  'jobId': (string);
  /**
   * The queryable state name.
   */
  'name': (string);
  /**
   * V8-serialized array of keys.
   */
  'keys': (Buffer);
  /**
   * "live" (default when empty) or "committed".
   */
  'mode': (string);
}

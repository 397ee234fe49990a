// Original file: proto/nimble/v1/taskmanager.proto

import type { Long } from '@grpc/proto-loader';

export interface TaskQueryStateResponse {
  /**
   * V8-serialized array, one `{ found, value }` per key, in the order of the keys (code OK).
   */
  'results'?: (Buffer | Uint8Array | string);
  'requestId'?: (number | string | Long);
  /**
   * A gRPC status code: 0 (OK) with results, else the failure and its message.
   */
  'code'?: (number);
  'message'?: (string);
}

export interface TaskQueryStateResponse__Output {
  /**
   * V8-serialized array, one `{ found, value }` per key, in the order of the keys (code OK).
   */
  'results': (Buffer);
  'requestId': (number);
  /**
   * A gRPC status code: 0 (OK) with results, else the failure and its message.
   */
  'code': (number);
  'message': (string);
}

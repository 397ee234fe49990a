// Original file: proto/nimble/v1/taskmanager.proto

import type { Long } from '@grpc/proto-loader';

export interface GetLogResponse {
  /**
   * The kept lines, as text for people.
   */
  'text'?: (string);
  /**
   * Bytes of `text` (UTF-8).
   */
  'size'?: (number | string | Long);
  /**
   * When the latest line was written (ms since the epoch; 0: none yet).
   */
  'mtime'?: (number | string);
}

export interface GetLogResponse__Output {
  /**
   * The kept lines, as text for people.
   */
  'text': (string);
  /**
   * Bytes of `text` (UTF-8).
   */
  'size': (number);
  /**
   * When the latest line was written (ms since the epoch; 0: none yet).
   */
  'mtime': (number);
}

// Original file: proto/nimble/v1/jobmanager.proto

import type { ChannelStateEntry as _nimble_v1_ChannelStateEntry, ChannelStateEntry__Output as _nimble_v1_ChannelStateEntry__Output } from '../../nimble/v1/ChannelStateEntry.js';

export interface ChannelStateHandle {
  'format'?: (number);
  /**
   * Relative to the checkpoint's directory.
   */
  'path'?: (string);
  'size'?: (number | string);
  'input'?: (_nimble_v1_ChannelStateEntry)[];
  'output'?: (_nimble_v1_ChannelStateEntry)[];
}

export interface ChannelStateHandle__Output {
  'format': (number);
  /**
   * Relative to the checkpoint's directory.
   */
  'path': (string);
  'size': (number);
  'input': (_nimble_v1_ChannelStateEntry__Output)[];
  'output': (_nimble_v1_ChannelStateEntry__Output)[];
}

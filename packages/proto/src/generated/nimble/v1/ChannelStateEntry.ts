// Original file: proto/nimble/v1/jobmanager.proto


/**
 * The buffers of one channel in a channel state file.
 */
export interface ChannelStateEntry {
  /**
   * Output state: the output edge id; empty for input state.
   */
  'edge'?: (string);
  'channel'?: (number);
  'sizes'?: (number | string)[];
}

/**
 * The buffers of one channel in a channel state file.
 */
export interface ChannelStateEntry__Output {
  /**
   * Output state: the output edge id; empty for input state.
   */
  'edge': (string);
  'channel': (number);
  'sizes': (number)[];
}

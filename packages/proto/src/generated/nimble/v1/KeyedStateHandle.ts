// Original file: proto/nimble/v1/jobmanager.proto

import type { KeyedStateFile as _nimble_v1_KeyedStateFile, KeyedStateFile__Output as _nimble_v1_KeyedStateFile__Output } from '../../nimble/v1/KeyedStateFile.js';

export interface KeyedStateHandle {
  /**
   * [first, last] key group, inclusive: two entries.
   */
  'keyGroupRange'?: (number)[];
  /**
   * A full file, or for incremental level state a chain (full, then deltas).
   */
  'files'?: (_nimble_v1_KeyedStateFile)[];
}

export interface KeyedStateHandle__Output {
  /**
   * [first, last] key group, inclusive: two entries.
   */
  'keyGroupRange': (number)[];
  /**
   * A full file, or for incremental level state a chain (full, then deltas).
   */
  'files': (_nimble_v1_KeyedStateFile__Output)[];
}

// Original file: proto/nimble/v1/jobmanager.proto

import type { KeyedStateHandle as _nimble_v1_KeyedStateHandle, KeyedStateHandle__Output as _nimble_v1_KeyedStateHandle__Output } from '../../nimble/v1/KeyedStateHandle.js';
import type { ChannelStateHandle as _nimble_v1_ChannelStateHandle, ChannelStateHandle__Output as _nimble_v1_ChannelStateHandle__Output } from '../../nimble/v1/ChannelStateHandle.js';

export interface OperatorSubtaskSnapshot {
  /**
   * Unset when the operator has no keyed state.
   */
  'keyed'?: (_nimble_v1_KeyedStateHandle | null);
  /**
   * Operator states by name: base64 of V8-serialized arrays.
   */
  'operatorState'?: ({[key: string]: string});
  /**
   * How each operator state is redistributed on rescaling ("split", "union", "broadcast").
   */
  'operatorStateModes'?: ({[key: string]: string});
  /**
   * The subtask's in-flight buffers of an unaligned checkpoint; set on the chain's head operator.
   */
  'channelState'?: (_nimble_v1_ChannelStateHandle | null);
}

export interface OperatorSubtaskSnapshot__Output {
  /**
   * Unset when the operator has no keyed state.
   */
  'keyed': (_nimble_v1_KeyedStateHandle__Output | null);
  /**
   * Operator states by name: base64 of V8-serialized arrays.
   */
  'operatorState': ({[key: string]: string});
  /**
   * How each operator state is redistributed on rescaling ("split", "union", "broadcast").
   */
  'operatorStateModes': ({[key: string]: string});
  /**
   * The subtask's in-flight buffers of an unaligned checkpoint; set on the chain's head operator.
   */
  'channelState': (_nimble_v1_ChannelStateHandle__Output | null);
}

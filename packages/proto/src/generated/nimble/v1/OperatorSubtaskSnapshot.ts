// Original file: proto/nimble/v1/jobmanager.proto

import type { KeyedStateHandle as _nimble_v1_KeyedStateHandle, KeyedStateHandle__Output as _nimble_v1_KeyedStateHandle__Output } from '../../nimble/v1/KeyedStateHandle.js';

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
}

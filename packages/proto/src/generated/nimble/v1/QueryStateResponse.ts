// Original file: proto/nimble/v1/jobmanager.proto

import type { QueriedState as _nimble_v1_QueriedState, QueriedState__Output as _nimble_v1_QueriedState__Output } from '../../nimble/v1/QueriedState.js';

export interface QueryStateResponse {
  'results'?: (_nimble_v1_QueriedState)[];
}

export interface QueryStateResponse__Output {
  'results': (_nimble_v1_QueriedState__Output)[];
}

// Original file: proto/nimble/v1/exchange.proto

import type { ExchangeFrame as _nimble_v1_ExchangeFrame, ExchangeFrame__Output as _nimble_v1_ExchangeFrame__Output } from '../../nimble/v1/ExchangeFrame.js';

export interface ExchangeBatch {
  'frames'?: (_nimble_v1_ExchangeFrame)[];
}

export interface ExchangeBatch__Output {
  'frames': (_nimble_v1_ExchangeFrame__Output)[];
}

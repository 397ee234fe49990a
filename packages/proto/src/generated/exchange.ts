import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ExchangeClient as _nimble_v1_ExchangeClient, ExchangeDefinition as _nimble_v1_ExchangeDefinition } from './nimble/v1/Exchange.js';
import type { ExchangeBatch as _nimble_v1_ExchangeBatch, ExchangeBatch__Output as _nimble_v1_ExchangeBatch__Output } from './nimble/v1/ExchangeBatch.js';
import type { ExchangeFrame as _nimble_v1_ExchangeFrame, ExchangeFrame__Output as _nimble_v1_ExchangeFrame__Output } from './nimble/v1/ExchangeFrame.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  nimble: {
    v1: {
      Exchange: SubtypeConstructor<typeof grpc.Client, _nimble_v1_ExchangeClient> & { service: _nimble_v1_ExchangeDefinition }
      ExchangeBatch: MessageTypeDefinition<_nimble_v1_ExchangeBatch, _nimble_v1_ExchangeBatch__Output>
      ExchangeFrame: MessageTypeDefinition<_nimble_v1_ExchangeFrame, _nimble_v1_ExchangeFrame__Output>
    }
  }
}


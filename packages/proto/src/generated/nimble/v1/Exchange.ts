// Original file: proto/nimble/v1/exchange.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ExchangeBatch as _nimble_v1_ExchangeBatch, ExchangeBatch__Output as _nimble_v1_ExchangeBatch__Output } from '../../nimble/v1/ExchangeBatch.js';

export interface ExchangeClient extends grpc.Client {
  /**
   * The dialing TaskManager names itself in the `nimble-resource-id` metadata entry and presents
   * the pair's secret (SlotLocation.exchange_secret) in `nimble-exchange-secret`; the accepting
   * TaskManager refuses a stream whose secret is not the one the JobManager gave it for that peer.
   */
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_ExchangeBatch, _nimble_v1_ExchangeBatch__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_ExchangeBatch, _nimble_v1_ExchangeBatch__Output>;
  /**
   * The dialing TaskManager names itself in the `nimble-resource-id` metadata entry and presents
   * the pair's secret (SlotLocation.exchange_secret) in `nimble-exchange-secret`; the accepting
   * TaskManager refuses a stream whose secret is not the one the JobManager gave it for that peer.
   */
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_ExchangeBatch, _nimble_v1_ExchangeBatch__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_ExchangeBatch, _nimble_v1_ExchangeBatch__Output>;
  
}

export interface ExchangeHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The dialing TaskManager names itself in the `nimble-resource-id` metadata entry and presents
   * the pair's secret (SlotLocation.exchange_secret) in `nimble-exchange-secret`; the accepting
   * TaskManager refuses a stream whose secret is not the one the JobManager gave it for that peer.
   */
  Connect: grpc.handleBidiStreamingCall<_nimble_v1_ExchangeBatch__Output, _nimble_v1_ExchangeBatch>;
  
}

export interface ExchangeDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_nimble_v1_ExchangeBatch, _nimble_v1_ExchangeBatch, _nimble_v1_ExchangeBatch__Output, _nimble_v1_ExchangeBatch__Output>
}

// Original file: proto/nimble/v1/jobmanager.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetBlobRequest as _nimble_v1_GetBlobRequest, GetBlobRequest__Output as _nimble_v1_GetBlobRequest__Output } from '../../nimble/v1/GetBlobRequest.js';
import type { GetBlobResponse as _nimble_v1_GetBlobResponse, GetBlobResponse__Output as _nimble_v1_GetBlobResponse__Output } from '../../nimble/v1/GetBlobResponse.js';

/**
 * Serves job bundles by content hash.
 */
export interface BlobServerClient extends grpc.Client {
  GetBlob(argument: _nimble_v1_GetBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  GetBlob(argument: _nimble_v1_GetBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  GetBlob(argument: _nimble_v1_GetBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  GetBlob(argument: _nimble_v1_GetBlobRequest, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  getBlob(argument: _nimble_v1_GetBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  getBlob(argument: _nimble_v1_GetBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  getBlob(argument: _nimble_v1_GetBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  getBlob(argument: _nimble_v1_GetBlobRequest, callback: grpc.requestCallback<_nimble_v1_GetBlobResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Serves job bundles by content hash.
 */
export interface BlobServerHandlers extends grpc.UntypedServiceImplementation {
  GetBlob: grpc.handleUnaryCall<_nimble_v1_GetBlobRequest__Output, _nimble_v1_GetBlobResponse>;
  
}

export interface BlobServerDefinition extends grpc.ServiceDefinition {
  GetBlob: MethodDefinition<_nimble_v1_GetBlobRequest, _nimble_v1_GetBlobResponse, _nimble_v1_GetBlobRequest__Output, _nimble_v1_GetBlobResponse__Output>
}

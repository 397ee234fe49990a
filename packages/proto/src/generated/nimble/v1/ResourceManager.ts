// Original file: proto/nimble/v1/jobmanager.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { JobManagerHeartbeat as _nimble_v1_JobManagerHeartbeat, JobManagerHeartbeat__Output as _nimble_v1_JobManagerHeartbeat__Output } from '../../nimble/v1/JobManagerHeartbeat.js';
import type { RegisterTaskManagerRequest as _nimble_v1_RegisterTaskManagerRequest, RegisterTaskManagerRequest__Output as _nimble_v1_RegisterTaskManagerRequest__Output } from '../../nimble/v1/RegisterTaskManagerRequest.js';
import type { RegisterTaskManagerResponse as _nimble_v1_RegisterTaskManagerResponse, RegisterTaskManagerResponse__Output as _nimble_v1_RegisterTaskManagerResponse__Output } from '../../nimble/v1/RegisterTaskManagerResponse.js';
import type { TaskManagerHeartbeat as _nimble_v1_TaskManagerHeartbeat, TaskManagerHeartbeat__Output as _nimble_v1_TaskManagerHeartbeat__Output } from '../../nimble/v1/TaskManagerHeartbeat.js';

/**
 * TaskManager registration and liveness (Flink's ResourceManager).
 */
export interface ResourceManagerClient extends grpc.Client {
  /**
   * A TaskManager keeps this stream open while it lives and sends a heartbeat every
   * heartbeat.interval; the stream closing marks the TaskManager lost at once, silence for
   * heartbeat.timeout marks it lost too.
   */
  Heartbeat(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskManagerHeartbeat, _nimble_v1_JobManagerHeartbeat__Output>;
  Heartbeat(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskManagerHeartbeat, _nimble_v1_JobManagerHeartbeat__Output>;
  /**
   * A TaskManager keeps this stream open while it lives and sends a heartbeat every
   * heartbeat.interval; the stream closing marks the TaskManager lost at once, silence for
   * heartbeat.timeout marks it lost too.
   */
  heartbeat(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskManagerHeartbeat, _nimble_v1_JobManagerHeartbeat__Output>;
  heartbeat(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskManagerHeartbeat, _nimble_v1_JobManagerHeartbeat__Output>;
  
  RegisterTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  RegisterTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  RegisterTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  RegisterTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  registerTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  registerTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  registerTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  registerTaskManager(argument: _nimble_v1_RegisterTaskManagerRequest, callback: grpc.requestCallback<_nimble_v1_RegisterTaskManagerResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * TaskManager registration and liveness (Flink's ResourceManager).
 */
export interface ResourceManagerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * A TaskManager keeps this stream open while it lives and sends a heartbeat every
   * heartbeat.interval; the stream closing marks the TaskManager lost at once, silence for
   * heartbeat.timeout marks it lost too.
   */
  Heartbeat: grpc.handleBidiStreamingCall<_nimble_v1_TaskManagerHeartbeat__Output, _nimble_v1_JobManagerHeartbeat>;
  
  RegisterTaskManager: grpc.handleUnaryCall<_nimble_v1_RegisterTaskManagerRequest__Output, _nimble_v1_RegisterTaskManagerResponse>;
  
}

export interface ResourceManagerDefinition extends grpc.ServiceDefinition {
  Heartbeat: MethodDefinition<_nimble_v1_TaskManagerHeartbeat, _nimble_v1_JobManagerHeartbeat, _nimble_v1_TaskManagerHeartbeat__Output, _nimble_v1_JobManagerHeartbeat__Output>
  RegisterTaskManager: MethodDefinition<_nimble_v1_RegisterTaskManagerRequest, _nimble_v1_RegisterTaskManagerResponse, _nimble_v1_RegisterTaskManagerRequest__Output, _nimble_v1_RegisterTaskManagerResponse__Output>
}

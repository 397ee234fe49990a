// Original file: proto/nimble/v1/jobmanager.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CheckpointAcknowledgement as _nimble_v1_CheckpointAcknowledgement, CheckpointAcknowledgement__Output as _nimble_v1_CheckpointAcknowledgement__Output } from '../../nimble/v1/CheckpointAcknowledgement.js';
import type { CheckpointDecline as _nimble_v1_CheckpointDecline, CheckpointDecline__Output as _nimble_v1_CheckpointDecline__Output } from '../../nimble/v1/CheckpointDecline.js';
import type { CollectedValues as _nimble_v1_CollectedValues, CollectedValues__Output as _nimble_v1_CollectedValues__Output } from '../../nimble/v1/CollectedValues.js';
import type { Empty as _nimble_v1_Empty, Empty__Output as _nimble_v1_Empty__Output } from '../../nimble/v1/Empty.js';
import type { QueryableStateRegistration as _nimble_v1_QueryableStateRegistration, QueryableStateRegistration__Output as _nimble_v1_QueryableStateRegistration__Output } from '../../nimble/v1/QueryableStateRegistration.js';
import type { SourceReaderRegistration as _nimble_v1_SourceReaderRegistration, SourceReaderRegistration__Output as _nimble_v1_SourceReaderRegistration__Output } from '../../nimble/v1/SourceReaderRegistration.js';
import type { TaskExecutionState as _nimble_v1_TaskExecutionState, TaskExecutionState__Output as _nimble_v1_TaskExecutionState__Output } from '../../nimble/v1/TaskExecutionState.js';

/**
 * What the subtasks of a job report while they run (Flink's JobMaster gateway).
 */
export interface JobMasterGatewayClient extends grpc.Client {
  AcknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  AcknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  AcknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  AcknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  acknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  acknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  acknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  acknowledgeCheckpoint(argument: _nimble_v1_CheckpointAcknowledgement, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  DeclineCheckpoint(argument: _nimble_v1_CheckpointDecline, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  DeclineCheckpoint(argument: _nimble_v1_CheckpointDecline, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  DeclineCheckpoint(argument: _nimble_v1_CheckpointDecline, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  DeclineCheckpoint(argument: _nimble_v1_CheckpointDecline, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  declineCheckpoint(argument: _nimble_v1_CheckpointDecline, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  declineCheckpoint(argument: _nimble_v1_CheckpointDecline, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  declineCheckpoint(argument: _nimble_v1_CheckpointDecline, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  declineCheckpoint(argument: _nimble_v1_CheckpointDecline, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  /**
   * A subtask's keyed state backend registered a queryable state (Flink's
   * notifyKvStateRegistered). A name another operator of the job registered fails the job.
   */
  RegisterQueryableState(argument: _nimble_v1_QueryableStateRegistration, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  RegisterQueryableState(argument: _nimble_v1_QueryableStateRegistration, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  RegisterQueryableState(argument: _nimble_v1_QueryableStateRegistration, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  RegisterQueryableState(argument: _nimble_v1_QueryableStateRegistration, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * A subtask's keyed state backend registered a queryable state (Flink's
   * notifyKvStateRegistered). A name another operator of the job registered fails the job.
   */
  registerQueryableState(argument: _nimble_v1_QueryableStateRegistration, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  registerQueryableState(argument: _nimble_v1_QueryableStateRegistration, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  registerQueryableState(argument: _nimble_v1_QueryableStateRegistration, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  registerQueryableState(argument: _nimble_v1_QueryableStateRegistration, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  /**
   * A source subtask's reader started: its enumerator may assign it splits.
   */
  RegisterSourceReader(argument: _nimble_v1_SourceReaderRegistration, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  RegisterSourceReader(argument: _nimble_v1_SourceReaderRegistration, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  RegisterSourceReader(argument: _nimble_v1_SourceReaderRegistration, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  RegisterSourceReader(argument: _nimble_v1_SourceReaderRegistration, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * A source subtask's reader started: its enumerator may assign it splits.
   */
  registerSourceReader(argument: _nimble_v1_SourceReaderRegistration, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  registerSourceReader(argument: _nimble_v1_SourceReaderRegistration, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  registerSourceReader(argument: _nimble_v1_SourceReaderRegistration, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  registerSourceReader(argument: _nimble_v1_SourceReaderRegistration, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  /**
   * Values of an executeAndCollect() sink.
   */
  ReportCollected(argument: _nimble_v1_CollectedValues, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  ReportCollected(argument: _nimble_v1_CollectedValues, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  ReportCollected(argument: _nimble_v1_CollectedValues, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  ReportCollected(argument: _nimble_v1_CollectedValues, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * Values of an executeAndCollect() sink.
   */
  reportCollected(argument: _nimble_v1_CollectedValues, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  reportCollected(argument: _nimble_v1_CollectedValues, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  reportCollected(argument: _nimble_v1_CollectedValues, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  reportCollected(argument: _nimble_v1_CollectedValues, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  UpdateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  UpdateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  UpdateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  UpdateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  updateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  updateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  updateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  updateTaskExecutionState(argument: _nimble_v1_TaskExecutionState, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
}

/**
 * What the subtasks of a job report while they run (Flink's JobMaster gateway).
 */
export interface JobMasterGatewayHandlers extends grpc.UntypedServiceImplementation {
  AcknowledgeCheckpoint: grpc.handleUnaryCall<_nimble_v1_CheckpointAcknowledgement__Output, _nimble_v1_Empty>;
  
  DeclineCheckpoint: grpc.handleUnaryCall<_nimble_v1_CheckpointDecline__Output, _nimble_v1_Empty>;
  
  /**
   * A subtask's keyed state backend registered a queryable state (Flink's
   * notifyKvStateRegistered). A name another operator of the job registered fails the job.
   */
  RegisterQueryableState: grpc.handleUnaryCall<_nimble_v1_QueryableStateRegistration__Output, _nimble_v1_Empty>;
  
  /**
   * A source subtask's reader started: its enumerator may assign it splits.
   */
  RegisterSourceReader: grpc.handleUnaryCall<_nimble_v1_SourceReaderRegistration__Output, _nimble_v1_Empty>;
  
  /**
   * Values of an executeAndCollect() sink.
   */
  ReportCollected: grpc.handleUnaryCall<_nimble_v1_CollectedValues__Output, _nimble_v1_Empty>;
  
  UpdateTaskExecutionState: grpc.handleUnaryCall<_nimble_v1_TaskExecutionState__Output, _nimble_v1_Empty>;
  
}

export interface JobMasterGatewayDefinition extends grpc.ServiceDefinition {
  AcknowledgeCheckpoint: MethodDefinition<_nimble_v1_CheckpointAcknowledgement, _nimble_v1_Empty, _nimble_v1_CheckpointAcknowledgement__Output, _nimble_v1_Empty__Output>
  DeclineCheckpoint: MethodDefinition<_nimble_v1_CheckpointDecline, _nimble_v1_Empty, _nimble_v1_CheckpointDecline__Output, _nimble_v1_Empty__Output>
  RegisterQueryableState: MethodDefinition<_nimble_v1_QueryableStateRegistration, _nimble_v1_Empty, _nimble_v1_QueryableStateRegistration__Output, _nimble_v1_Empty__Output>
  RegisterSourceReader: MethodDefinition<_nimble_v1_SourceReaderRegistration, _nimble_v1_Empty, _nimble_v1_SourceReaderRegistration__Output, _nimble_v1_Empty__Output>
  ReportCollected: MethodDefinition<_nimble_v1_CollectedValues, _nimble_v1_Empty, _nimble_v1_CollectedValues__Output, _nimble_v1_Empty__Output>
  UpdateTaskExecutionState: MethodDefinition<_nimble_v1_TaskExecutionState, _nimble_v1_Empty, _nimble_v1_TaskExecutionState__Output, _nimble_v1_Empty__Output>
}

// Original file: proto/nimble/v1/taskmanager.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AssignSplitsRequest as _nimble_v1_AssignSplitsRequest, AssignSplitsRequest__Output as _nimble_v1_AssignSplitsRequest__Output } from '../../nimble/v1/AssignSplitsRequest.js';
import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from '../../nimble/v1/AttemptRef.js';
import type { DeployTasksRequest as _nimble_v1_DeployTasksRequest, DeployTasksRequest__Output as _nimble_v1_DeployTasksRequest__Output } from '../../nimble/v1/DeployTasksRequest.js';
import type { DeployTasksResponse as _nimble_v1_DeployTasksResponse, DeployTasksResponse__Output as _nimble_v1_DeployTasksResponse__Output } from '../../nimble/v1/DeployTasksResponse.js';
import type { Empty as _nimble_v1_Empty, Empty__Output as _nimble_v1_Empty__Output } from '../../nimble/v1/Empty.js';
import type { GetLogResponse as _nimble_v1_GetLogResponse, GetLogResponse__Output as _nimble_v1_GetLogResponse__Output } from '../../nimble/v1/GetLogResponse.js';
import type { NotifyCheckpointRequest as _nimble_v1_NotifyCheckpointRequest, NotifyCheckpointRequest__Output as _nimble_v1_NotifyCheckpointRequest__Output } from '../../nimble/v1/NotifyCheckpointRequest.js';
import type { TaskQueryStateRequest as _nimble_v1_TaskQueryStateRequest, TaskQueryStateRequest__Output as _nimble_v1_TaskQueryStateRequest__Output } from '../../nimble/v1/TaskQueryStateRequest.js';
import type { TaskQueryStateResponse as _nimble_v1_TaskQueryStateResponse, TaskQueryStateResponse__Output as _nimble_v1_TaskQueryStateResponse__Output } from '../../nimble/v1/TaskQueryStateResponse.js';
import type { TriggerCheckpointRequest as _nimble_v1_TriggerCheckpointRequest, TriggerCheckpointRequest__Output as _nimble_v1_TriggerCheckpointRequest__Output } from '../../nimble/v1/TriggerCheckpointRequest.js';

export interface TaskExecutorClient extends grpc.Client {
  /**
   * Source splits from the job's split enumerator, for one source subtask.
   */
  AssignSplits(argument: _nimble_v1_AssignSplitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  AssignSplits(argument: _nimble_v1_AssignSplitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  AssignSplits(argument: _nimble_v1_AssignSplitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  AssignSplits(argument: _nimble_v1_AssignSplitsRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * Source splits from the job's split enumerator, for one source subtask.
   */
  assignSplits(argument: _nimble_v1_AssignSplitsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  assignSplits(argument: _nimble_v1_AssignSplitsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  assignSplits(argument: _nimble_v1_AssignSplitsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  assignSplits(argument: _nimble_v1_AssignSplitsRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  /**
   * Cancels an attempt: its workers stop and the slots become free. Unknown attempts are a no-op.
   */
  CancelTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  CancelTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  CancelTasks(argument: _nimble_v1_AttemptRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  CancelTasks(argument: _nimble_v1_AttemptRef, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * Cancels an attempt: its workers stop and the slots become free. Unknown attempts are a no-op.
   */
  cancelTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  cancelTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  cancelTasks(argument: _nimble_v1_AttemptRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  cancelTasks(argument: _nimble_v1_AttemptRef, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  /**
   * Starts one worker thread per job slot listed, loads the job bundle in each and creates the
   * subtasks; returns when all are deployed (nothing runs yet) or one failed to deploy (then
   * with its failure record).
   */
  DeployTasks(argument: _nimble_v1_DeployTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  DeployTasks(argument: _nimble_v1_DeployTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  DeployTasks(argument: _nimble_v1_DeployTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  DeployTasks(argument: _nimble_v1_DeployTasksRequest, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Starts one worker thread per job slot listed, loads the job bundle in each and creates the
   * subtasks; returns when all are deployed (nothing runs yet) or one failed to deploy (then
   * with its failure record).
   */
  deployTasks(argument: _nimble_v1_DeployTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  deployTasks(argument: _nimble_v1_DeployTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  deployTasks(argument: _nimble_v1_DeployTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  deployTasks(argument: _nimble_v1_DeployTasksRequest, callback: grpc.requestCallback<_nimble_v1_DeployTasksResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The latest lines this TaskManager logged (it logs to stderr and keeps its last lines), for
   * the JobManager's REST API and web dashboard: never served on the plain metrics port.
   */
  GetLog(argument: _nimble_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  GetLog(argument: _nimble_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  GetLog(argument: _nimble_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  GetLog(argument: _nimble_v1_Empty, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The latest lines this TaskManager logged (it logs to stderr and keeps its last lines), for
   * the JobManager's REST API and web dashboard: never served on the plain metrics port.
   */
  getLog(argument: _nimble_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  getLog(argument: _nimble_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  getLog(argument: _nimble_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  getLog(argument: _nimble_v1_Empty, callback: grpc.requestCallback<_nimble_v1_GetLogResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A checkpoint completed (two-phase-commit sinks commit) or was aborted.
   */
  NotifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  NotifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  NotifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  NotifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * A checkpoint completed (two-phase-commit sinks commit) or was aborted.
   */
  notifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  notifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  notifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  notifyCheckpoint(argument: _nimble_v1_NotifyCheckpointRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  /**
   * Lookups of queryable state, on one stream the JobManager keeps open per TaskManager: each
   * request asks one subtask of an attempt for keys of one state (the JobManager batches the keys
   * per owning subtask), and its response carries the same request_id, in any order. The subtask
   * answers between records. A unary call per lookup cost 0.6 ms at the median and 3.5 ms at the
   * 99th percentile on loopback; a message on an open stream costs 0.2 and 1.2 ms. A response's
   * code is UNAVAILABLE (retryable) when the subtask is not running here or does not own a key's
   * key group, NOT_FOUND when no state of the subtask is queryable under the name.
   */
  QueryStates(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskQueryStateRequest, _nimble_v1_TaskQueryStateResponse__Output>;
  QueryStates(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskQueryStateRequest, _nimble_v1_TaskQueryStateResponse__Output>;
  /**
   * Lookups of queryable state, on one stream the JobManager keeps open per TaskManager: each
   * request asks one subtask of an attempt for keys of one state (the JobManager batches the keys
   * per owning subtask), and its response carries the same request_id, in any order. The subtask
   * answers between records. A unary call per lookup cost 0.6 ms at the median and 3.5 ms at the
   * 99th percentile on loopback; a message on an open stream costs 0.2 and 1.2 ms. A response's
   * code is UNAVAILABLE (retryable) when the subtask is not running here or does not own a key's
   * key group, NOT_FOUND when no state of the subtask is queryable under the name.
   */
  queryStates(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskQueryStateRequest, _nimble_v1_TaskQueryStateResponse__Output>;
  queryStates(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nimble_v1_TaskQueryStateRequest, _nimble_v1_TaskQueryStateResponse__Output>;
  
  /**
   * Starts the deployed subtasks of an attempt.
   */
  StartTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  StartTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  StartTasks(argument: _nimble_v1_AttemptRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  StartTasks(argument: _nimble_v1_AttemptRef, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * Starts the deployed subtasks of an attempt.
   */
  startTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  startTasks(argument: _nimble_v1_AttemptRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  startTasks(argument: _nimble_v1_AttemptRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  startTasks(argument: _nimble_v1_AttemptRef, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  /**
   * Starts checkpoint `checkpoint_id` at a source subtask: it snapshots its position and emits the barrier.
   */
  TriggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  TriggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  TriggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  TriggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  /**
   * Starts checkpoint `checkpoint_id` at a source subtask: it snapshots its position and emits the barrier.
   */
  triggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  triggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  triggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  triggerCheckpoint(argument: _nimble_v1_TriggerCheckpointRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
}

export interface TaskExecutorHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Source splits from the job's split enumerator, for one source subtask.
   */
  AssignSplits: grpc.handleUnaryCall<_nimble_v1_AssignSplitsRequest__Output, _nimble_v1_Empty>;
  
  /**
   * Cancels an attempt: its workers stop and the slots become free. Unknown attempts are a no-op.
   */
  CancelTasks: grpc.handleUnaryCall<_nimble_v1_AttemptRef__Output, _nimble_v1_Empty>;
  
  /**
   * Starts one worker thread per job slot listed, loads the job bundle in each and creates the
   * subtasks; returns when all are deployed (nothing runs yet) or one failed to deploy (then
   * with its failure record).
   */
  DeployTasks: grpc.handleUnaryCall<_nimble_v1_DeployTasksRequest__Output, _nimble_v1_DeployTasksResponse>;
  
  /**
   * The latest lines this TaskManager logged (it logs to stderr and keeps its last lines), for
   * the JobManager's REST API and web dashboard: never served on the plain metrics port.
   */
  GetLog: grpc.handleUnaryCall<_nimble_v1_Empty__Output, _nimble_v1_GetLogResponse>;
  
  /**
   * A checkpoint completed (two-phase-commit sinks commit) or was aborted.
   */
  NotifyCheckpoint: grpc.handleUnaryCall<_nimble_v1_NotifyCheckpointRequest__Output, _nimble_v1_Empty>;
  
  /**
   * Lookups of queryable state, on one stream the JobManager keeps open per TaskManager: each
   * request asks one subtask of an attempt for keys of one state (the JobManager batches the keys
   * per owning subtask), and its response carries the same request_id, in any order. The subtask
   * answers between records. A unary call per lookup cost 0.6 ms at the median and 3.5 ms at the
   * 99th percentile on loopback; a message on an open stream costs 0.2 and 1.2 ms. A response's
   * code is UNAVAILABLE (retryable) when the subtask is not running here or does not own a key's
   * key group, NOT_FOUND when no state of the subtask is queryable under the name.
   */
  QueryStates: grpc.handleBidiStreamingCall<_nimble_v1_TaskQueryStateRequest__Output, _nimble_v1_TaskQueryStateResponse>;
  
  /**
   * Starts the deployed subtasks of an attempt.
   */
  StartTasks: grpc.handleUnaryCall<_nimble_v1_AttemptRef__Output, _nimble_v1_Empty>;
  
  /**
   * Starts checkpoint `checkpoint_id` at a source subtask: it snapshots its position and emits the barrier.
   */
  TriggerCheckpoint: grpc.handleUnaryCall<_nimble_v1_TriggerCheckpointRequest__Output, _nimble_v1_Empty>;
  
}

export interface TaskExecutorDefinition extends grpc.ServiceDefinition {
  AssignSplits: MethodDefinition<_nimble_v1_AssignSplitsRequest, _nimble_v1_Empty, _nimble_v1_AssignSplitsRequest__Output, _nimble_v1_Empty__Output>
  CancelTasks: MethodDefinition<_nimble_v1_AttemptRef, _nimble_v1_Empty, _nimble_v1_AttemptRef__Output, _nimble_v1_Empty__Output>
  DeployTasks: MethodDefinition<_nimble_v1_DeployTasksRequest, _nimble_v1_DeployTasksResponse, _nimble_v1_DeployTasksRequest__Output, _nimble_v1_DeployTasksResponse__Output>
  GetLog: MethodDefinition<_nimble_v1_Empty, _nimble_v1_GetLogResponse, _nimble_v1_Empty__Output, _nimble_v1_GetLogResponse__Output>
  NotifyCheckpoint: MethodDefinition<_nimble_v1_NotifyCheckpointRequest, _nimble_v1_Empty, _nimble_v1_NotifyCheckpointRequest__Output, _nimble_v1_Empty__Output>
  QueryStates: MethodDefinition<_nimble_v1_TaskQueryStateRequest, _nimble_v1_TaskQueryStateResponse, _nimble_v1_TaskQueryStateRequest__Output, _nimble_v1_TaskQueryStateResponse__Output>
  StartTasks: MethodDefinition<_nimble_v1_AttemptRef, _nimble_v1_Empty, _nimble_v1_AttemptRef__Output, _nimble_v1_Empty__Output>
  TriggerCheckpoint: MethodDefinition<_nimble_v1_TriggerCheckpointRequest, _nimble_v1_Empty, _nimble_v1_TriggerCheckpointRequest__Output, _nimble_v1_Empty__Output>
}

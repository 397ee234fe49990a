// Original file: proto/nimble/v1/jobmanager.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CheckpointRequest as _nimble_v1_CheckpointRequest, CheckpointRequest__Output as _nimble_v1_CheckpointRequest__Output } from '../../nimble/v1/CheckpointRequest.js';
import type { CheckpointResponse as _nimble_v1_CheckpointResponse, CheckpointResponse__Output as _nimble_v1_CheckpointResponse__Output } from '../../nimble/v1/CheckpointResponse.js';
import type { ClusterOverview as _nimble_v1_ClusterOverview, ClusterOverview__Output as _nimble_v1_ClusterOverview__Output } from '../../nimble/v1/ClusterOverview.js';
import type { DisposeSavepointRequest as _nimble_v1_DisposeSavepointRequest, DisposeSavepointRequest__Output as _nimble_v1_DisposeSavepointRequest__Output } from '../../nimble/v1/DisposeSavepointRequest.js';
import type { Empty as _nimble_v1_Empty, Empty__Output as _nimble_v1_Empty__Output } from '../../nimble/v1/Empty.js';
import type { JobDetails as _nimble_v1_JobDetails, JobDetails__Output as _nimble_v1_JobDetails__Output } from '../../nimble/v1/JobDetails.js';
import type { JobEvent as _nimble_v1_JobEvent, JobEvent__Output as _nimble_v1_JobEvent__Output } from '../../nimble/v1/JobEvent.js';
import type { JobRef as _nimble_v1_JobRef, JobRef__Output as _nimble_v1_JobRef__Output } from '../../nimble/v1/JobRef.js';
import type { ListJobsRequest as _nimble_v1_ListJobsRequest, ListJobsRequest__Output as _nimble_v1_ListJobsRequest__Output } from '../../nimble/v1/ListJobsRequest.js';
import type { ListJobsResponse as _nimble_v1_ListJobsResponse, ListJobsResponse__Output as _nimble_v1_ListJobsResponse__Output } from '../../nimble/v1/ListJobsResponse.js';
import type { QueryStateRequest as _nimble_v1_QueryStateRequest, QueryStateRequest__Output as _nimble_v1_QueryStateRequest__Output } from '../../nimble/v1/QueryStateRequest.js';
import type { QueryStateResponse as _nimble_v1_QueryStateResponse, QueryStateResponse__Output as _nimble_v1_QueryStateResponse__Output } from '../../nimble/v1/QueryStateResponse.js';
import type { RescaleJobRequest as _nimble_v1_RescaleJobRequest, RescaleJobRequest__Output as _nimble_v1_RescaleJobRequest__Output } from '../../nimble/v1/RescaleJobRequest.js';
import type { SavepointRequest as _nimble_v1_SavepointRequest, SavepointRequest__Output as _nimble_v1_SavepointRequest__Output } from '../../nimble/v1/SavepointRequest.js';
import type { SavepointResponse as _nimble_v1_SavepointResponse, SavepointResponse__Output as _nimble_v1_SavepointResponse__Output } from '../../nimble/v1/SavepointResponse.js';
import type { SubmitJobRequest as _nimble_v1_SubmitJobRequest, SubmitJobRequest__Output as _nimble_v1_SubmitJobRequest__Output } from '../../nimble/v1/SubmitJobRequest.js';
import type { SubmitJobResponse as _nimble_v1_SubmitJobResponse, SubmitJobResponse__Output as _nimble_v1_SubmitJobResponse__Output } from '../../nimble/v1/SubmitJobResponse.js';

/**
 * The client API (Flink's Dispatcher).
 */
export interface DispatcherClient extends grpc.Client {
  CancelJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _nimble_v1_JobRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _nimble_v1_JobRef, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _nimble_v1_JobRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _nimble_v1_JobRef, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  DisposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  DisposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  DisposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  DisposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  disposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  disposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  disposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  disposeSavepoint(argument: _nimble_v1_DisposeSavepointRequest, callback: grpc.requestCallback<_nimble_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  GetClusterOverview(argument: _nimble_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  GetClusterOverview(argument: _nimble_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  GetClusterOverview(argument: _nimble_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  GetClusterOverview(argument: _nimble_v1_Empty, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  getClusterOverview(argument: _nimble_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  getClusterOverview(argument: _nimble_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  getClusterOverview(argument: _nimble_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  getClusterOverview(argument: _nimble_v1_Empty, callback: grpc.requestCallback<_nimble_v1_ClusterOverview__Output>): grpc.ClientUnaryCall;
  
  GetJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _nimble_v1_JobRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _nimble_v1_JobRef, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  getJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  getJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  getJob(argument: _nimble_v1_JobRef, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  getJob(argument: _nimble_v1_JobRef, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  
  ListJobs(argument: _nimble_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _nimble_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _nimble_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _nimble_v1_ListJobsRequest, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _nimble_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _nimble_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _nimble_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _nimble_v1_ListJobsRequest, callback: grpc.requestCallback<_nimble_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Looks keys up in a queryable state of a running job (Flink's queryable state client), routed
   * to the subtasks owning the keys' key groups. UNAVAILABLE (retryable) while the job or an
   * owning subtask is not running; NOT_FOUND for an unknown job or state name; INVALID_ARGUMENT
   * for a bad key or mode; FAILED_PRECONDITION for a job that ended; UNIMPLEMENTED for a mode
   * not served yet.
   */
  QueryState(argument: _nimble_v1_QueryStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  QueryState(argument: _nimble_v1_QueryStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  QueryState(argument: _nimble_v1_QueryStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  QueryState(argument: _nimble_v1_QueryStateRequest, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Looks keys up in a queryable state of a running job (Flink's queryable state client), routed
   * to the subtasks owning the keys' key groups. UNAVAILABLE (retryable) while the job or an
   * owning subtask is not running; NOT_FOUND for an unknown job or state name; INVALID_ARGUMENT
   * for a bad key or mode; FAILED_PRECONDITION for a job that ended; UNIMPLEMENTED for a mode
   * not served yet.
   */
  queryState(argument: _nimble_v1_QueryStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  queryState(argument: _nimble_v1_QueryStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  queryState(argument: _nimble_v1_QueryStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  queryState(argument: _nimble_v1_QueryStateRequest, callback: grpc.requestCallback<_nimble_v1_QueryStateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Runs a running job at another parallelism (`nimble rescale -p`): every vertex at
   * `parallelism`, non-parallel ones at 1. Takes a checkpoint when checkpointing is on, restarts
   * the job from it at the new parallelism, and returns once the job runs at it.
   */
  RescaleJob(argument: _nimble_v1_RescaleJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  RescaleJob(argument: _nimble_v1_RescaleJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  RescaleJob(argument: _nimble_v1_RescaleJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  RescaleJob(argument: _nimble_v1_RescaleJobRequest, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  /**
   * Runs a running job at another parallelism (`nimble rescale -p`): every vertex at
   * `parallelism`, non-parallel ones at 1. Takes a checkpoint when checkpointing is on, restarts
   * the job from it at the new parallelism, and returns once the job runs at it.
   */
  rescaleJob(argument: _nimble_v1_RescaleJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  rescaleJob(argument: _nimble_v1_RescaleJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  rescaleJob(argument: _nimble_v1_RescaleJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  rescaleJob(argument: _nimble_v1_RescaleJobRequest, callback: grpc.requestCallback<_nimble_v1_JobDetails__Output>): grpc.ClientUnaryCall;
  
  SubmitJob(argument: _nimble_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _nimble_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _nimble_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _nimble_v1_SubmitJobRequest, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _nimble_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _nimble_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _nimble_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _nimble_v1_SubmitJobRequest, callback: grpc.requestCallback<_nimble_v1_SubmitJobResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Takes a checkpoint now (Flink's `flink checkpoint`); returns when it is complete.
   */
  TriggerCheckpoint(argument: _nimble_v1_CheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  TriggerCheckpoint(argument: _nimble_v1_CheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  TriggerCheckpoint(argument: _nimble_v1_CheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  TriggerCheckpoint(argument: _nimble_v1_CheckpointRequest, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Takes a checkpoint now (Flink's `flink checkpoint`); returns when it is complete.
   */
  triggerCheckpoint(argument: _nimble_v1_CheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  triggerCheckpoint(argument: _nimble_v1_CheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  triggerCheckpoint(argument: _nimble_v1_CheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  triggerCheckpoint(argument: _nimble_v1_CheckpointRequest, callback: grpc.requestCallback<_nimble_v1_CheckpointResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Takes a savepoint (and with `stop`, stops the job after it); returns when it is complete.
   */
  TriggerSavepoint(argument: _nimble_v1_SavepointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  TriggerSavepoint(argument: _nimble_v1_SavepointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  TriggerSavepoint(argument: _nimble_v1_SavepointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  TriggerSavepoint(argument: _nimble_v1_SavepointRequest, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Takes a savepoint (and with `stop`, stops the job after it); returns when it is complete.
   */
  triggerSavepoint(argument: _nimble_v1_SavepointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  triggerSavepoint(argument: _nimble_v1_SavepointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  triggerSavepoint(argument: _nimble_v1_SavepointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  triggerSavepoint(argument: _nimble_v1_SavepointRequest, callback: grpc.requestCallback<_nimble_v1_SavepointResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The job's details now and after every status change, ending with its result once it ended.
   */
  WatchJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_nimble_v1_JobEvent__Output>;
  WatchJob(argument: _nimble_v1_JobRef, options?: grpc.CallOptions): grpc.ClientReadableStream<_nimble_v1_JobEvent__Output>;
  /**
   * The job's details now and after every status change, ending with its result once it ended.
   */
  watchJob(argument: _nimble_v1_JobRef, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_nimble_v1_JobEvent__Output>;
  watchJob(argument: _nimble_v1_JobRef, options?: grpc.CallOptions): grpc.ClientReadableStream<_nimble_v1_JobEvent__Output>;
  
}

/**
 * The client API (Flink's Dispatcher).
 */
export interface DispatcherHandlers extends grpc.UntypedServiceImplementation {
  CancelJob: grpc.handleUnaryCall<_nimble_v1_JobRef__Output, _nimble_v1_Empty>;
  
  DisposeSavepoint: grpc.handleUnaryCall<_nimble_v1_DisposeSavepointRequest__Output, _nimble_v1_Empty>;
  
  GetClusterOverview: grpc.handleUnaryCall<_nimble_v1_Empty__Output, _nimble_v1_ClusterOverview>;
  
  GetJob: grpc.handleUnaryCall<_nimble_v1_JobRef__Output, _nimble_v1_JobDetails>;
  
  ListJobs: grpc.handleUnaryCall<_nimble_v1_ListJobsRequest__Output, _nimble_v1_ListJobsResponse>;
  
  /**
   * Looks keys up in a queryable state of a running job (Flink's queryable state client), routed
   * to the subtasks owning the keys' key groups. UNAVAILABLE (retryable) while the job or an
   * owning subtask is not running; NOT_FOUND for an unknown job or state name; INVALID_ARGUMENT
   * for a bad key or mode; FAILED_PRECONDITION for a job that ended; UNIMPLEMENTED for a mode
   * not served yet.
   */
  QueryState: grpc.handleUnaryCall<_nimble_v1_QueryStateRequest__Output, _nimble_v1_QueryStateResponse>;
  
  /**
   * Runs a running job at another parallelism (`nimble rescale -p`): every vertex at
   * `parallelism`, non-parallel ones at 1. Takes a checkpoint when checkpointing is on, restarts
   * the job from it at the new parallelism, and returns once the job runs at it.
   */
  RescaleJob: grpc.handleUnaryCall<_nimble_v1_RescaleJobRequest__Output, _nimble_v1_JobDetails>;
  
  SubmitJob: grpc.handleUnaryCall<_nimble_v1_SubmitJobRequest__Output, _nimble_v1_SubmitJobResponse>;
  
  /**
   * Takes a checkpoint now (Flink's `flink checkpoint`); returns when it is complete.
   */
  TriggerCheckpoint: grpc.handleUnaryCall<_nimble_v1_CheckpointRequest__Output, _nimble_v1_CheckpointResponse>;
  
  /**
   * Takes a savepoint (and with `stop`, stops the job after it); returns when it is complete.
   */
  TriggerSavepoint: grpc.handleUnaryCall<_nimble_v1_SavepointRequest__Output, _nimble_v1_SavepointResponse>;
  
  /**
   * The job's details now and after every status change, ending with its result once it ended.
   */
  WatchJob: grpc.handleServerStreamingCall<_nimble_v1_JobRef__Output, _nimble_v1_JobEvent>;
  
}

export interface DispatcherDefinition extends grpc.ServiceDefinition {
  CancelJob: MethodDefinition<_nimble_v1_JobRef, _nimble_v1_Empty, _nimble_v1_JobRef__Output, _nimble_v1_Empty__Output>
  DisposeSavepoint: MethodDefinition<_nimble_v1_DisposeSavepointRequest, _nimble_v1_Empty, _nimble_v1_DisposeSavepointRequest__Output, _nimble_v1_Empty__Output>
  GetClusterOverview: MethodDefinition<_nimble_v1_Empty, _nimble_v1_ClusterOverview, _nimble_v1_Empty__Output, _nimble_v1_ClusterOverview__Output>
  GetJob: MethodDefinition<_nimble_v1_JobRef, _nimble_v1_JobDetails, _nimble_v1_JobRef__Output, _nimble_v1_JobDetails__Output>
  ListJobs: MethodDefinition<_nimble_v1_ListJobsRequest, _nimble_v1_ListJobsResponse, _nimble_v1_ListJobsRequest__Output, _nimble_v1_ListJobsResponse__Output>
  QueryState: MethodDefinition<_nimble_v1_QueryStateRequest, _nimble_v1_QueryStateResponse, _nimble_v1_QueryStateRequest__Output, _nimble_v1_QueryStateResponse__Output>
  RescaleJob: MethodDefinition<_nimble_v1_RescaleJobRequest, _nimble_v1_JobDetails, _nimble_v1_RescaleJobRequest__Output, _nimble_v1_JobDetails__Output>
  SubmitJob: MethodDefinition<_nimble_v1_SubmitJobRequest, _nimble_v1_SubmitJobResponse, _nimble_v1_SubmitJobRequest__Output, _nimble_v1_SubmitJobResponse__Output>
  TriggerCheckpoint: MethodDefinition<_nimble_v1_CheckpointRequest, _nimble_v1_CheckpointResponse, _nimble_v1_CheckpointRequest__Output, _nimble_v1_CheckpointResponse__Output>
  TriggerSavepoint: MethodDefinition<_nimble_v1_SavepointRequest, _nimble_v1_SavepointResponse, _nimble_v1_SavepointRequest__Output, _nimble_v1_SavepointResponse__Output>
  WatchJob: MethodDefinition<_nimble_v1_JobRef, _nimble_v1_JobEvent, _nimble_v1_JobRef__Output, _nimble_v1_JobEvent__Output>
}

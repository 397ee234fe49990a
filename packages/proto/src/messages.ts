// Message and service types of proto/nimble/v1, generated into ./generated/ by scripts/compile-proto.ts.
// `X` is what a sender may pass; `X__Output` is what a receiver gets (defaults filled in).
export type {
  AssignSplitsRequest,
  AssignSplitsRequest__Output,
} from './generated/nimble/v1/AssignSplitsRequest.js';
export type {
  AttemptMetrics,
  AttemptMetrics__Output,
} from './generated/nimble/v1/AttemptMetrics.js';
export type { AttemptRef, AttemptRef__Output } from './generated/nimble/v1/AttemptRef.js';
export type { BlobServerClient, BlobServerHandlers } from './generated/nimble/v1/BlobServer.js';
export type {
  ClusterOverview,
  ClusterOverview__Output,
} from './generated/nimble/v1/ClusterOverview.js';
export type {
  CollectedValues,
  CollectedValues__Output,
} from './generated/nimble/v1/CollectedValues.js';
export type {
  DeployTasksRequest,
  DeployTasksRequest__Output,
} from './generated/nimble/v1/DeployTasksRequest.js';
export type { DispatcherClient, DispatcherHandlers } from './generated/nimble/v1/Dispatcher.js';
export type { Empty, Empty__Output } from './generated/nimble/v1/Empty.js';
export type { ExchangeClient, ExchangeHandlers } from './generated/nimble/v1/Exchange.js';
export type { ExchangeBatch, ExchangeBatch__Output } from './generated/nimble/v1/ExchangeBatch.js';
export type { ExchangeFrame, ExchangeFrame__Output } from './generated/nimble/v1/ExchangeFrame.js';
export type {
  ExecutionState,
  ExecutionState__Output,
} from './generated/nimble/v1/ExecutionState.js';
export type {
  GetBlobRequest,
  GetBlobRequest__Output,
} from './generated/nimble/v1/GetBlobRequest.js';
export type {
  GetBlobResponse,
  GetBlobResponse__Output,
} from './generated/nimble/v1/GetBlobResponse.js';
export type {
  HardwareDescription,
  HardwareDescription__Output,
} from './generated/nimble/v1/HardwareDescription.js';
export type { JobDetails, JobDetails__Output } from './generated/nimble/v1/JobDetails.js';
export type { JobEvent, JobEvent__Output } from './generated/nimble/v1/JobEvent.js';
export type {
  JobManagerHeartbeat,
  JobManagerHeartbeat__Output,
} from './generated/nimble/v1/JobManagerHeartbeat.js';
export type {
  JobMasterGatewayClient,
  JobMasterGatewayHandlers,
} from './generated/nimble/v1/JobMasterGateway.js';
export type { JobRef, JobRef__Output } from './generated/nimble/v1/JobRef.js';
export type { JobResult, JobResult__Output } from './generated/nimble/v1/JobResult.js';
export type {
  ListJobsRequest,
  ListJobsRequest__Output,
} from './generated/nimble/v1/ListJobsRequest.js';
export type {
  ListJobsResponse,
  ListJobsResponse__Output,
} from './generated/nimble/v1/ListJobsResponse.js';
export type {
  RegisterTaskManagerRequest,
  RegisterTaskManagerRequest__Output,
} from './generated/nimble/v1/RegisterTaskManagerRequest.js';
export type {
  RegisterTaskManagerResponse,
  RegisterTaskManagerResponse__Output,
} from './generated/nimble/v1/RegisterTaskManagerResponse.js';
export type {
  ResourceManagerClient,
  ResourceManagerHandlers,
} from './generated/nimble/v1/ResourceManager.js';
export type {
  SerializedError,
  SerializedError__Output,
} from './generated/nimble/v1/SerializedError.js';
export type { SlotLocation, SlotLocation__Output } from './generated/nimble/v1/SlotLocation.js';
export type {
  SourceReaderRegistration,
  SourceReaderRegistration__Output,
} from './generated/nimble/v1/SourceReaderRegistration.js';
export type {
  SubmitJobRequest,
  SubmitJobRequest__Output,
} from './generated/nimble/v1/SubmitJobRequest.js';
export type {
  SubmitJobResponse,
  SubmitJobResponse__Output,
} from './generated/nimble/v1/SubmitJobResponse.js';
export type {
  TaskExecutionState,
  TaskExecutionState__Output,
} from './generated/nimble/v1/TaskExecutionState.js';
export type {
  TaskExecutorClient,
  TaskExecutorHandlers,
} from './generated/nimble/v1/TaskExecutor.js';
export type {
  TaskManagerDetails,
  TaskManagerDetails__Output,
} from './generated/nimble/v1/TaskManagerDetails.js';
export type {
  TaskManagerHeartbeat,
  TaskManagerHeartbeat__Output,
} from './generated/nimble/v1/TaskManagerHeartbeat.js';
export type { TaskMetrics, TaskMetrics__Output } from './generated/nimble/v1/TaskMetrics.js';
export type { VertexDetails, VertexDetails__Output } from './generated/nimble/v1/VertexDetails.js';
export type {
  CheckpointAcknowledgement,
  CheckpointAcknowledgement__Output,
} from './generated/nimble/v1/CheckpointAcknowledgement.js';
export type {
  CheckpointDecline,
  CheckpointDecline__Output,
} from './generated/nimble/v1/CheckpointDecline.js';
export type {
  DisposeSavepointRequest,
  DisposeSavepointRequest__Output,
} from './generated/nimble/v1/DisposeSavepointRequest.js';
export type {
  NotifyCheckpointRequest,
  NotifyCheckpointRequest__Output,
} from './generated/nimble/v1/NotifyCheckpointRequest.js';
export type {
  GetLogResponse,
  GetLogResponse__Output,
} from './generated/nimble/v1/GetLogResponse.js';
export type {
  SavepointRequest,
  SavepointRequest__Output,
} from './generated/nimble/v1/SavepointRequest.js';
export type {
  SavepointResponse,
  SavepointResponse__Output,
} from './generated/nimble/v1/SavepointResponse.js';
export type {
  TriggerCheckpointRequest,
  TriggerCheckpointRequest__Output,
} from './generated/nimble/v1/TriggerCheckpointRequest.js';
export type {
  DeployTasksResponse,
  DeployTasksResponse__Output,
} from './generated/nimble/v1/DeployTasksResponse.js';
export type {
  KeyedStateFile,
  KeyedStateFile__Output,
} from './generated/nimble/v1/KeyedStateFile.js';
export type {
  KeyedStateHandle,
  KeyedStateHandle__Output,
} from './generated/nimble/v1/KeyedStateHandle.js';
export type {
  OperatorSubtaskSnapshot,
  OperatorSubtaskSnapshot__Output,
} from './generated/nimble/v1/OperatorSubtaskSnapshot.js';
export type {
  SubtaskCheckpointState,
  SubtaskCheckpointState__Output,
} from './generated/nimble/v1/SubtaskCheckpointState.js';
export type {
  SubtaskExecution,
  SubtaskExecution__Output,
} from './generated/nimble/v1/SubtaskExecution.js';
export type { QueriedState, QueriedState__Output } from './generated/nimble/v1/QueriedState.js';
export type {
  QueryStateRequest,
  QueryStateRequest__Output,
} from './generated/nimble/v1/QueryStateRequest.js';
export type {
  QueryStateResponse,
  QueryStateResponse__Output,
} from './generated/nimble/v1/QueryStateResponse.js';
export type {
  QueryableStateRegistration,
  QueryableStateRegistration__Output,
} from './generated/nimble/v1/QueryableStateRegistration.js';
export type {
  TaskQueryStateRequest,
  TaskQueryStateRequest__Output,
} from './generated/nimble/v1/TaskQueryStateRequest.js';
export type {
  TaskQueryStateResponse,
  TaskQueryStateResponse__Output,
} from './generated/nimble/v1/TaskQueryStateResponse.js';

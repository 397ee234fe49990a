import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AttemptMetrics as _nimble_v1_AttemptMetrics, AttemptMetrics__Output as _nimble_v1_AttemptMetrics__Output } from './nimble/v1/AttemptMetrics.js';
import type { BlobServerClient as _nimble_v1_BlobServerClient, BlobServerDefinition as _nimble_v1_BlobServerDefinition } from './nimble/v1/BlobServer.js';
import type { ChannelStateEntry as _nimble_v1_ChannelStateEntry, ChannelStateEntry__Output as _nimble_v1_ChannelStateEntry__Output } from './nimble/v1/ChannelStateEntry.js';
import type { ChannelStateHandle as _nimble_v1_ChannelStateHandle, ChannelStateHandle__Output as _nimble_v1_ChannelStateHandle__Output } from './nimble/v1/ChannelStateHandle.js';
import type { CheckpointAcknowledgement as _nimble_v1_CheckpointAcknowledgement, CheckpointAcknowledgement__Output as _nimble_v1_CheckpointAcknowledgement__Output } from './nimble/v1/CheckpointAcknowledgement.js';
import type { CheckpointDecline as _nimble_v1_CheckpointDecline, CheckpointDecline__Output as _nimble_v1_CheckpointDecline__Output } from './nimble/v1/CheckpointDecline.js';
import type { CheckpointRequest as _nimble_v1_CheckpointRequest, CheckpointRequest__Output as _nimble_v1_CheckpointRequest__Output } from './nimble/v1/CheckpointRequest.js';
import type { CheckpointResponse as _nimble_v1_CheckpointResponse, CheckpointResponse__Output as _nimble_v1_CheckpointResponse__Output } from './nimble/v1/CheckpointResponse.js';
import type { ClusterOverview as _nimble_v1_ClusterOverview, ClusterOverview__Output as _nimble_v1_ClusterOverview__Output } from './nimble/v1/ClusterOverview.js';
import type { CollectedValues as _nimble_v1_CollectedValues, CollectedValues__Output as _nimble_v1_CollectedValues__Output } from './nimble/v1/CollectedValues.js';
import type { DispatcherClient as _nimble_v1_DispatcherClient, DispatcherDefinition as _nimble_v1_DispatcherDefinition } from './nimble/v1/Dispatcher.js';
import type { DisposeSavepointRequest as _nimble_v1_DisposeSavepointRequest, DisposeSavepointRequest__Output as _nimble_v1_DisposeSavepointRequest__Output } from './nimble/v1/DisposeSavepointRequest.js';
import type { Empty as _nimble_v1_Empty, Empty__Output as _nimble_v1_Empty__Output } from './nimble/v1/Empty.js';
import type { GetBlobRequest as _nimble_v1_GetBlobRequest, GetBlobRequest__Output as _nimble_v1_GetBlobRequest__Output } from './nimble/v1/GetBlobRequest.js';
import type { GetBlobResponse as _nimble_v1_GetBlobResponse, GetBlobResponse__Output as _nimble_v1_GetBlobResponse__Output } from './nimble/v1/GetBlobResponse.js';
import type { HardwareDescription as _nimble_v1_HardwareDescription, HardwareDescription__Output as _nimble_v1_HardwareDescription__Output } from './nimble/v1/HardwareDescription.js';
import type { JobDetails as _nimble_v1_JobDetails, JobDetails__Output as _nimble_v1_JobDetails__Output } from './nimble/v1/JobDetails.js';
import type { JobEvent as _nimble_v1_JobEvent, JobEvent__Output as _nimble_v1_JobEvent__Output } from './nimble/v1/JobEvent.js';
import type { JobManagerHeartbeat as _nimble_v1_JobManagerHeartbeat, JobManagerHeartbeat__Output as _nimble_v1_JobManagerHeartbeat__Output } from './nimble/v1/JobManagerHeartbeat.js';
import type { JobMasterGatewayClient as _nimble_v1_JobMasterGatewayClient, JobMasterGatewayDefinition as _nimble_v1_JobMasterGatewayDefinition } from './nimble/v1/JobMasterGateway.js';
import type { JobRef as _nimble_v1_JobRef, JobRef__Output as _nimble_v1_JobRef__Output } from './nimble/v1/JobRef.js';
import type { JobResult as _nimble_v1_JobResult, JobResult__Output as _nimble_v1_JobResult__Output } from './nimble/v1/JobResult.js';
import type { KeyedStateFile as _nimble_v1_KeyedStateFile, KeyedStateFile__Output as _nimble_v1_KeyedStateFile__Output } from './nimble/v1/KeyedStateFile.js';
import type { KeyedStateHandle as _nimble_v1_KeyedStateHandle, KeyedStateHandle__Output as _nimble_v1_KeyedStateHandle__Output } from './nimble/v1/KeyedStateHandle.js';
import type { ListJobsRequest as _nimble_v1_ListJobsRequest, ListJobsRequest__Output as _nimble_v1_ListJobsRequest__Output } from './nimble/v1/ListJobsRequest.js';
import type { ListJobsResponse as _nimble_v1_ListJobsResponse, ListJobsResponse__Output as _nimble_v1_ListJobsResponse__Output } from './nimble/v1/ListJobsResponse.js';
import type { OperatorSubtaskSnapshot as _nimble_v1_OperatorSubtaskSnapshot, OperatorSubtaskSnapshot__Output as _nimble_v1_OperatorSubtaskSnapshot__Output } from './nimble/v1/OperatorSubtaskSnapshot.js';
import type { QueriedState as _nimble_v1_QueriedState, QueriedState__Output as _nimble_v1_QueriedState__Output } from './nimble/v1/QueriedState.js';
import type { QueryStateRequest as _nimble_v1_QueryStateRequest, QueryStateRequest__Output as _nimble_v1_QueryStateRequest__Output } from './nimble/v1/QueryStateRequest.js';
import type { QueryStateResponse as _nimble_v1_QueryStateResponse, QueryStateResponse__Output as _nimble_v1_QueryStateResponse__Output } from './nimble/v1/QueryStateResponse.js';
import type { QueryableStateRegistration as _nimble_v1_QueryableStateRegistration, QueryableStateRegistration__Output as _nimble_v1_QueryableStateRegistration__Output } from './nimble/v1/QueryableStateRegistration.js';
import type { RegisterTaskManagerRequest as _nimble_v1_RegisterTaskManagerRequest, RegisterTaskManagerRequest__Output as _nimble_v1_RegisterTaskManagerRequest__Output } from './nimble/v1/RegisterTaskManagerRequest.js';
import type { RegisterTaskManagerResponse as _nimble_v1_RegisterTaskManagerResponse, RegisterTaskManagerResponse__Output as _nimble_v1_RegisterTaskManagerResponse__Output } from './nimble/v1/RegisterTaskManagerResponse.js';
import type { RescaleJobRequest as _nimble_v1_RescaleJobRequest, RescaleJobRequest__Output as _nimble_v1_RescaleJobRequest__Output } from './nimble/v1/RescaleJobRequest.js';
import type { ResourceManagerClient as _nimble_v1_ResourceManagerClient, ResourceManagerDefinition as _nimble_v1_ResourceManagerDefinition } from './nimble/v1/ResourceManager.js';
import type { SavepointRequest as _nimble_v1_SavepointRequest, SavepointRequest__Output as _nimble_v1_SavepointRequest__Output } from './nimble/v1/SavepointRequest.js';
import type { SavepointResponse as _nimble_v1_SavepointResponse, SavepointResponse__Output as _nimble_v1_SavepointResponse__Output } from './nimble/v1/SavepointResponse.js';
import type { SerializedError as _nimble_v1_SerializedError, SerializedError__Output as _nimble_v1_SerializedError__Output } from './nimble/v1/SerializedError.js';
import type { SourceReaderRegistration as _nimble_v1_SourceReaderRegistration, SourceReaderRegistration__Output as _nimble_v1_SourceReaderRegistration__Output } from './nimble/v1/SourceReaderRegistration.js';
import type { SubmitJobRequest as _nimble_v1_SubmitJobRequest, SubmitJobRequest__Output as _nimble_v1_SubmitJobRequest__Output } from './nimble/v1/SubmitJobRequest.js';
import type { SubmitJobResponse as _nimble_v1_SubmitJobResponse, SubmitJobResponse__Output as _nimble_v1_SubmitJobResponse__Output } from './nimble/v1/SubmitJobResponse.js';
import type { SubtaskCheckpointState as _nimble_v1_SubtaskCheckpointState, SubtaskCheckpointState__Output as _nimble_v1_SubtaskCheckpointState__Output } from './nimble/v1/SubtaskCheckpointState.js';
import type { TaskExecutionState as _nimble_v1_TaskExecutionState, TaskExecutionState__Output as _nimble_v1_TaskExecutionState__Output } from './nimble/v1/TaskExecutionState.js';
import type { TaskManagerDetails as _nimble_v1_TaskManagerDetails, TaskManagerDetails__Output as _nimble_v1_TaskManagerDetails__Output } from './nimble/v1/TaskManagerDetails.js';
import type { TaskManagerHeartbeat as _nimble_v1_TaskManagerHeartbeat, TaskManagerHeartbeat__Output as _nimble_v1_TaskManagerHeartbeat__Output } from './nimble/v1/TaskManagerHeartbeat.js';
import type { TaskMetrics as _nimble_v1_TaskMetrics, TaskMetrics__Output as _nimble_v1_TaskMetrics__Output } from './nimble/v1/TaskMetrics.js';
import type { VertexDetails as _nimble_v1_VertexDetails, VertexDetails__Output as _nimble_v1_VertexDetails__Output } from './nimble/v1/VertexDetails.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  nimble: {
    v1: {
      AttemptMetrics: MessageTypeDefinition<_nimble_v1_AttemptMetrics, _nimble_v1_AttemptMetrics__Output>
      /**
       * Serves job bundles by content hash.
       */
      BlobServer: SubtypeConstructor<typeof grpc.Client, _nimble_v1_BlobServerClient> & { service: _nimble_v1_BlobServerDefinition }
      ChannelStateEntry: MessageTypeDefinition<_nimble_v1_ChannelStateEntry, _nimble_v1_ChannelStateEntry__Output>
      ChannelStateHandle: MessageTypeDefinition<_nimble_v1_ChannelStateHandle, _nimble_v1_ChannelStateHandle__Output>
      CheckpointAcknowledgement: MessageTypeDefinition<_nimble_v1_CheckpointAcknowledgement, _nimble_v1_CheckpointAcknowledgement__Output>
      CheckpointDecline: MessageTypeDefinition<_nimble_v1_CheckpointDecline, _nimble_v1_CheckpointDecline__Output>
      CheckpointRequest: MessageTypeDefinition<_nimble_v1_CheckpointRequest, _nimble_v1_CheckpointRequest__Output>
      CheckpointResponse: MessageTypeDefinition<_nimble_v1_CheckpointResponse, _nimble_v1_CheckpointResponse__Output>
      ClusterOverview: MessageTypeDefinition<_nimble_v1_ClusterOverview, _nimble_v1_ClusterOverview__Output>
      CollectedValues: MessageTypeDefinition<_nimble_v1_CollectedValues, _nimble_v1_CollectedValues__Output>
      /**
       * The client API (Flink's Dispatcher).
       */
      Dispatcher: SubtypeConstructor<typeof grpc.Client, _nimble_v1_DispatcherClient> & { service: _nimble_v1_DispatcherDefinition }
      DisposeSavepointRequest: MessageTypeDefinition<_nimble_v1_DisposeSavepointRequest, _nimble_v1_DisposeSavepointRequest__Output>
      Empty: MessageTypeDefinition<_nimble_v1_Empty, _nimble_v1_Empty__Output>
      ExecutionState: EnumTypeDefinition
      GetBlobRequest: MessageTypeDefinition<_nimble_v1_GetBlobRequest, _nimble_v1_GetBlobRequest__Output>
      GetBlobResponse: MessageTypeDefinition<_nimble_v1_GetBlobResponse, _nimble_v1_GetBlobResponse__Output>
      HardwareDescription: MessageTypeDefinition<_nimble_v1_HardwareDescription, _nimble_v1_HardwareDescription__Output>
      JobDetails: MessageTypeDefinition<_nimble_v1_JobDetails, _nimble_v1_JobDetails__Output>
      JobEvent: MessageTypeDefinition<_nimble_v1_JobEvent, _nimble_v1_JobEvent__Output>
      JobManagerHeartbeat: MessageTypeDefinition<_nimble_v1_JobManagerHeartbeat, _nimble_v1_JobManagerHeartbeat__Output>
      /**
       * What the subtasks of a job report while they run (Flink's JobMaster gateway).
       */
      JobMasterGateway: SubtypeConstructor<typeof grpc.Client, _nimble_v1_JobMasterGatewayClient> & { service: _nimble_v1_JobMasterGatewayDefinition }
      JobRef: MessageTypeDefinition<_nimble_v1_JobRef, _nimble_v1_JobRef__Output>
      JobResult: MessageTypeDefinition<_nimble_v1_JobResult, _nimble_v1_JobResult__Output>
      KeyedStateFile: MessageTypeDefinition<_nimble_v1_KeyedStateFile, _nimble_v1_KeyedStateFile__Output>
      KeyedStateHandle: MessageTypeDefinition<_nimble_v1_KeyedStateHandle, _nimble_v1_KeyedStateHandle__Output>
      ListJobsRequest: MessageTypeDefinition<_nimble_v1_ListJobsRequest, _nimble_v1_ListJobsRequest__Output>
      ListJobsResponse: MessageTypeDefinition<_nimble_v1_ListJobsResponse, _nimble_v1_ListJobsResponse__Output>
      OperatorSubtaskSnapshot: MessageTypeDefinition<_nimble_v1_OperatorSubtaskSnapshot, _nimble_v1_OperatorSubtaskSnapshot__Output>
      QueriedState: MessageTypeDefinition<_nimble_v1_QueriedState, _nimble_v1_QueriedState__Output>
      QueryStateRequest: MessageTypeDefinition<_nimble_v1_QueryStateRequest, _nimble_v1_QueryStateRequest__Output>
      QueryStateResponse: MessageTypeDefinition<_nimble_v1_QueryStateResponse, _nimble_v1_QueryStateResponse__Output>
      QueryableStateRegistration: MessageTypeDefinition<_nimble_v1_QueryableStateRegistration, _nimble_v1_QueryableStateRegistration__Output>
      RegisterTaskManagerRequest: MessageTypeDefinition<_nimble_v1_RegisterTaskManagerRequest, _nimble_v1_RegisterTaskManagerRequest__Output>
      RegisterTaskManagerResponse: MessageTypeDefinition<_nimble_v1_RegisterTaskManagerResponse, _nimble_v1_RegisterTaskManagerResponse__Output>
      RescaleJobRequest: MessageTypeDefinition<_nimble_v1_RescaleJobRequest, _nimble_v1_RescaleJobRequest__Output>
      /**
       * TaskManager registration and liveness (Flink's ResourceManager).
       */
      ResourceManager: SubtypeConstructor<typeof grpc.Client, _nimble_v1_ResourceManagerClient> & { service: _nimble_v1_ResourceManagerDefinition }
      SavepointRequest: MessageTypeDefinition<_nimble_v1_SavepointRequest, _nimble_v1_SavepointRequest__Output>
      SavepointResponse: MessageTypeDefinition<_nimble_v1_SavepointResponse, _nimble_v1_SavepointResponse__Output>
      SerializedError: MessageTypeDefinition<_nimble_v1_SerializedError, _nimble_v1_SerializedError__Output>
      SourceReaderRegistration: MessageTypeDefinition<_nimble_v1_SourceReaderRegistration, _nimble_v1_SourceReaderRegistration__Output>
      SubmitJobRequest: MessageTypeDefinition<_nimble_v1_SubmitJobRequest, _nimble_v1_SubmitJobRequest__Output>
      SubmitJobResponse: MessageTypeDefinition<_nimble_v1_SubmitJobResponse, _nimble_v1_SubmitJobResponse__Output>
      SubtaskCheckpointState: MessageTypeDefinition<_nimble_v1_SubtaskCheckpointState, _nimble_v1_SubtaskCheckpointState__Output>
      TaskExecutionState: MessageTypeDefinition<_nimble_v1_TaskExecutionState, _nimble_v1_TaskExecutionState__Output>
      TaskManagerDetails: MessageTypeDefinition<_nimble_v1_TaskManagerDetails, _nimble_v1_TaskManagerDetails__Output>
      TaskManagerHeartbeat: MessageTypeDefinition<_nimble_v1_TaskManagerHeartbeat, _nimble_v1_TaskManagerHeartbeat__Output>
      TaskMetrics: MessageTypeDefinition<_nimble_v1_TaskMetrics, _nimble_v1_TaskMetrics__Output>
      VertexDetails: MessageTypeDefinition<_nimble_v1_VertexDetails, _nimble_v1_VertexDetails__Output>
    }
  }
}


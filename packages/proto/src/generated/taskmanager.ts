import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AssignSplitsRequest as _nimble_v1_AssignSplitsRequest, AssignSplitsRequest__Output as _nimble_v1_AssignSplitsRequest__Output } from './nimble/v1/AssignSplitsRequest.js';
import type { AttemptRef as _nimble_v1_AttemptRef, AttemptRef__Output as _nimble_v1_AttemptRef__Output } from './nimble/v1/AttemptRef.js';
import type { DeployTasksRequest as _nimble_v1_DeployTasksRequest, DeployTasksRequest__Output as _nimble_v1_DeployTasksRequest__Output } from './nimble/v1/DeployTasksRequest.js';
import type { DeployTasksResponse as _nimble_v1_DeployTasksResponse, DeployTasksResponse__Output as _nimble_v1_DeployTasksResponse__Output } from './nimble/v1/DeployTasksResponse.js';
import type { Empty as _nimble_v1_Empty, Empty__Output as _nimble_v1_Empty__Output } from './nimble/v1/Empty.js';
import type { GetLogResponse as _nimble_v1_GetLogResponse, GetLogResponse__Output as _nimble_v1_GetLogResponse__Output } from './nimble/v1/GetLogResponse.js';
import type { NotifyCheckpointRequest as _nimble_v1_NotifyCheckpointRequest, NotifyCheckpointRequest__Output as _nimble_v1_NotifyCheckpointRequest__Output } from './nimble/v1/NotifyCheckpointRequest.js';
import type { SerializedError as _nimble_v1_SerializedError, SerializedError__Output as _nimble_v1_SerializedError__Output } from './nimble/v1/SerializedError.js';
import type { SlotLocation as _nimble_v1_SlotLocation, SlotLocation__Output as _nimble_v1_SlotLocation__Output } from './nimble/v1/SlotLocation.js';
import type { SubtaskExecution as _nimble_v1_SubtaskExecution, SubtaskExecution__Output as _nimble_v1_SubtaskExecution__Output } from './nimble/v1/SubtaskExecution.js';
import type { TaskExecutorClient as _nimble_v1_TaskExecutorClient, TaskExecutorDefinition as _nimble_v1_TaskExecutorDefinition } from './nimble/v1/TaskExecutor.js';
import type { TaskMetrics as _nimble_v1_TaskMetrics, TaskMetrics__Output as _nimble_v1_TaskMetrics__Output } from './nimble/v1/TaskMetrics.js';
import type { TaskQueryStateRequest as _nimble_v1_TaskQueryStateRequest, TaskQueryStateRequest__Output as _nimble_v1_TaskQueryStateRequest__Output } from './nimble/v1/TaskQueryStateRequest.js';
import type { TaskQueryStateResponse as _nimble_v1_TaskQueryStateResponse, TaskQueryStateResponse__Output as _nimble_v1_TaskQueryStateResponse__Output } from './nimble/v1/TaskQueryStateResponse.js';
import type { TriggerCheckpointRequest as _nimble_v1_TriggerCheckpointRequest, TriggerCheckpointRequest__Output as _nimble_v1_TriggerCheckpointRequest__Output } from './nimble/v1/TriggerCheckpointRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  nimble: {
    v1: {
      AssignSplitsRequest: MessageTypeDefinition<_nimble_v1_AssignSplitsRequest, _nimble_v1_AssignSplitsRequest__Output>
      AttemptRef: MessageTypeDefinition<_nimble_v1_AttemptRef, _nimble_v1_AttemptRef__Output>
      DeployTasksRequest: MessageTypeDefinition<_nimble_v1_DeployTasksRequest, _nimble_v1_DeployTasksRequest__Output>
      DeployTasksResponse: MessageTypeDefinition<_nimble_v1_DeployTasksResponse, _nimble_v1_DeployTasksResponse__Output>
      Empty: MessageTypeDefinition<_nimble_v1_Empty, _nimble_v1_Empty__Output>
      ExecutionState: EnumTypeDefinition
      GetLogResponse: MessageTypeDefinition<_nimble_v1_GetLogResponse, _nimble_v1_GetLogResponse__Output>
      NotifyCheckpointRequest: MessageTypeDefinition<_nimble_v1_NotifyCheckpointRequest, _nimble_v1_NotifyCheckpointRequest__Output>
      SerializedError: MessageTypeDefinition<_nimble_v1_SerializedError, _nimble_v1_SerializedError__Output>
      SlotLocation: MessageTypeDefinition<_nimble_v1_SlotLocation, _nimble_v1_SlotLocation__Output>
      SubtaskExecution: MessageTypeDefinition<_nimble_v1_SubtaskExecution, _nimble_v1_SubtaskExecution__Output>
      TaskExecutor: SubtypeConstructor<typeof grpc.Client, _nimble_v1_TaskExecutorClient> & { service: _nimble_v1_TaskExecutorDefinition }
      TaskMetrics: MessageTypeDefinition<_nimble_v1_TaskMetrics, _nimble_v1_TaskMetrics__Output>
      TaskQueryStateRequest: MessageTypeDefinition<_nimble_v1_TaskQueryStateRequest, _nimble_v1_TaskQueryStateRequest__Output>
      TaskQueryStateResponse: MessageTypeDefinition<_nimble_v1_TaskQueryStateResponse, _nimble_v1_TaskQueryStateResponse__Output>
      TriggerCheckpointRequest: MessageTypeDefinition<_nimble_v1_TriggerCheckpointRequest, _nimble_v1_TriggerCheckpointRequest__Output>
    }
  }
}


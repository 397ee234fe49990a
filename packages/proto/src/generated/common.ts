import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Empty as _nimble_v1_Empty, Empty__Output as _nimble_v1_Empty__Output } from './nimble/v1/Empty.js';
import type { SerializedError as _nimble_v1_SerializedError, SerializedError__Output as _nimble_v1_SerializedError__Output } from './nimble/v1/SerializedError.js';
import type { TaskMetrics as _nimble_v1_TaskMetrics, TaskMetrics__Output as _nimble_v1_TaskMetrics__Output } from './nimble/v1/TaskMetrics.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  nimble: {
    v1: {
      Empty: MessageTypeDefinition<_nimble_v1_Empty, _nimble_v1_Empty__Output>
      ExecutionState: EnumTypeDefinition
      SerializedError: MessageTypeDefinition<_nimble_v1_SerializedError, _nimble_v1_SerializedError__Output>
      TaskMetrics: MessageTypeDefinition<_nimble_v1_TaskMetrics, _nimble_v1_TaskMetrics__Output>
    }
  }
}


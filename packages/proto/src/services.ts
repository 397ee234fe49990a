import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ProtoGrpcType as ExchangeProto } from './generated/exchange.js';
import type { ProtoGrpcType as JobManagerProto } from './generated/jobmanager.js';
import type { ProtoGrpcType as TaskManagerProto } from './generated/taskmanager.js';
import { LOADER_OPTIONS, PROTO_FILES } from './proto-files.js';

type V1 = JobManagerProto['nimble']['v1'] &
  TaskManagerProto['nimble']['v1'] &
  ExchangeProto['nimble']['v1'];

let loaded: V1 | undefined;

/** The client constructors (each with its `.service` definition) of Nimble's gRPC services. */
export function nimbleServices(): V1 {
  if (!loaded) {
    const definition = loadSync(PROTO_FILES, LOADER_OPTIONS);
    loaded = (grpc.loadPackageDefinition(definition) as unknown as { nimble: { v1: V1 } }).nimble
      .v1;
  }
  return loaded;
}

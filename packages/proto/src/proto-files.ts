import type { Options } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** This package's `proto/` directory: the import root of every .proto file. */
export const PROTO_ROOT = fileURLToPath(new URL('../proto', import.meta.url));

/** The .proto files of Nimble's services, relative to {@link PROTO_ROOT}. */
export const PROTO_FILES = [
  'nimble/v1/common.proto',
  'nimble/v1/jobmanager.proto',
  'nimble/v1/taskmanager.proto',
  'nimble/v1/exchange.proto',
];

/**
 * How messages map to JavaScript, at run time and in the generated types alike: camelCase
 * fields, numbers for 64-bit integers, enum names as strings, defaults for absent fields.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

// The public surface of @nimble/client: every export is named here.
export { JobManagerClient, StateUnavailableError, TERMINAL_STATES } from './job-manager-client.js';
export type { SavepointOptions, StateQueryOptions } from './job-manager-client.js';
export { ClusterExecutor, JobFailedError } from './cluster-executor.js';
export type { ClusterExecutorOptions } from './cluster-executor.js';
export { bundleJob } from './bundle.js';
export type { RpcSecurity } from '@nimble/proto';

// The public surface of @nimble/jobmanager: every export is named here.
export { JobManager } from './job-manager.js';
export type { JobManagerEndpoints } from './job-manager.js';
export { createRestartStrategy } from './restart-strategy.js';
export type { RestartStrategy, CreateRestartStrategyOptions } from './restart-strategy.js';
export type { JobStatus } from './job-status.js';

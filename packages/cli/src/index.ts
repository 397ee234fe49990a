// The public surface of @nimble/cli: every export is named here.
export { createProgram, main } from './main.js';
export { ExitCode } from './exit-codes.js';
export { startLocalCluster } from './local-cluster.js';
export type { LocalCluster } from './local-cluster.js';
export type { ReadyMessage } from './daemons.js';

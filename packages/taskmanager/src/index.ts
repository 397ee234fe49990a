// The public surface of @nimble/taskmanager: every export is named here.
export { TaskManager } from './task-manager.js';
export type { TaskManagerEndpoints } from './task-manager.js';
